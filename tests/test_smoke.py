def test_start_page_renders_with_govuk_layout(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Complete your school’s safeguarding and Prevent audit" in page
    assert "govuk-frontend.min.css" in page
