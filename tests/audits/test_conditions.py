"""A DSL answering questions that allow Not applicable, or are asked only after a given answer."""

from __future__ import annotations

import re

from sqlalchemy import select

from surveyapp.audits.models import Answer, Assignment, Response, ResponseStatus
from surveyapp.extensions import db

TEMPLATE = {
    "key": "conditional",
    "title": "Conditional audit",
    "version": 1,
    "sections": [
        {
            "key": "pupils",
            "title": "Pupils",
            "questions": [
                {"key": "uses_ap", "text": "Do any pupils attend alternative provision?", "type": "yes_no"},
                {
                    "key": "ap_checks",
                    "text": "Do you have written confirmation of the provider's safeguarding checks?",
                    "type": "yes_no",
                    "condition": {"question": "uses_ap", "in": ["yes"]},
                    "gap": {"when": ["no"]},
                    "guidance": [
                        {
                            "title": "KCSIE 2025, paragraph 181",
                            "url": "https://www.gov.uk/government/publications/keeping-children-safe-in-education--2",
                        }
                    ],
                },
                {
                    "key": "lettings",
                    "text": "Do hire agreements cover safeguarding?",
                    "type": "yes_no_partly",
                    "not_applicable": True,
                    "gap": {"when": ["no", "partly"]},
                },
                {
                    "key": "scr_date",
                    "text": "When was the record last checked?",
                    "type": "date",
                    "not_applicable": True,
                },
            ],
        },
        {
            "key": "provision",
            "title": "Provision",
            "questions": [
                {
                    "key": "ap_daily",
                    "text": "Do you know where each pupil in alternative provision is every day?",
                    "type": "yes_no",
                    "condition": {"question": "uses_ap", "in": ["yes"]},
                },
                {"key": "notes", "text": "Anything else?", "type": "text", "required": False},
            ],
        },
    ],
}


def _setup(make):
    school = make.establishment(name="Hill Top Primary")
    dsl = make.dsl(school)
    make.cycle(template=make.template(TEMPLATE))
    response = db.session.scalar(select(Response).join(Assignment).where(Assignment.establishment_id == school.id))
    return dsl, response


def _answers(response):
    return dict(
        db.session.execute(select(Answer.question_key, Answer.value).where(Answer.response_id == response.id)).all()
    )


def test_the_section_page_offers_not_applicable_shows_guidance_and_says_when_a_question_is_asked(client, make, sign_in):
    dsl, response = _setup(make)
    sign_in(dsl)
    page = client.get(f"/audits/{response.id}/sections/pupils").get_data(as_text=True)
    lettings = re.search(r'id="question-lettings".*?id="question-scr_date"', page, re.S).group(0)
    assert re.findall(r'name="lettings" type="radio" value="(\w+)"', lettings) == [
        "yes",
        "partly",
        "no",
        "not_applicable",
    ]
    assert re.search(r"for=\"lettings-4\">\s*Not applicable\s*<", lettings)
    assert 'name="scr_date__na"' in page  # a date question's Not applicable is a checkbox beside it
    assert 'data-condition-question="uses_ap" data-condition-values="yes"' in page
    assert "Only if your answer to ‘Do any pupils attend alternative provision?’ is Yes." in page
    assert 'href="https://www.gov.uk/government/publications/keeping-children-safe-in-education--2"' in page
    assert "KCSIE 2025, paragraph 181 (opens in new tab)" in page


def test_an_answer_to_a_question_not_asked_is_cleared_and_never_required(client, make, sign_in):
    dsl, response = _setup(make)
    sign_in(dsl)
    saved = client.post(
        f"/audits/{response.id}/sections/pupils",
        data={
            "version": "0",
            "uses_ap": "no",
            "ap_checks": "no",
            "lettings": "not_applicable",
            "scr_date__na": "not_applicable",
        },
    )
    assert saved.status_code == 302
    assert _answers(response) == {"uses_ap": "no", "lettings": "not_applicable", "scr_date": "not_applicable"}
    task_list = client.get(f"/audits/{response.id}/").get_data(as_text=True)
    assert task_list.count("Completed") == 1
    # The next section's question rests on "uses_ap": not needed, so the section completes with nothing in it.
    other = client.get(f"/audits/{response.id}/sections/provision").get_data(as_text=True)
    assert "Not needed" in other and 'name="ap_daily"' not in other
    assert client.post(f"/audits/{response.id}/sections/provision", data={"version": "0"}).status_code == 302
    check = client.get(f"/audits/{response.id}/check").get_data(as_text=True)
    assert "still needed" not in check
    assert check.count("Not needed") == 2 and check.count("Not applicable") == 2


def test_a_question_asked_after_the_answer_that_calls_for_it_is_required(client, make, sign_in):
    dsl, response = _setup(make)
    sign_in(dsl)
    client.post(
        f"/audits/{response.id}/sections/pupils",
        data={
            "version": "0",
            "uses_ap": "yes",
            "lettings": "yes",
            "scr_date-day": "1",
            "scr_date-month": "9",
            "scr_date-year": "2026",
        },
    )
    task_list = client.get(f"/audits/{response.id}/").get_data(as_text=True)
    assert "Completed" not in task_list  # ap_checks is now asked and unanswered
    check = client.get(f"/audits/{response.id}/check").get_data(as_text=True)
    assert "2 answers are still needed" in check
    assert "Answer: Do you have written confirmation of the provider" in check
    assert "Answer: Do you know where each pupil in alternative provision is every day?" in check


def test_not_applicable_and_an_answer_together_are_refused(client, make, sign_in):
    dsl, response = _setup(make)
    sign_in(dsl)
    page = client.post(
        f"/audits/{response.id}/sections/pupils",
        data={
            "version": "0",
            "uses_ap": "no",
            "lettings": "yes",
            "scr_date__na": "not_applicable",
            "scr_date-day": "1",
            "scr_date-month": "9",
            "scr_date-year": "2026",
        },
    )
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Either answer, or select Not applicable, not both, for: When was the record last checked?" in body
    assert "scr_date" not in _answers(response) and _answers(response)["lettings"] == "yes"
    assert db.session.get(Response, response.id).status is ResponseStatus.IN_PROGRESS
