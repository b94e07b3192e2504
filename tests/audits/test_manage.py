"""The lead's cycle pages: opening a cycle, reading, returning and accepting responses."""

from __future__ import annotations

from sqlalchemy import func, select

from surveyapp.audits.models import Assignment, Cycle, Response, ResponseStatus
from surveyapp.extensions import db
from tests.conftest import outbox_messages


def test_lead_opens_a_cycle_from_the_web_for_open_schools_of_a_phase(client, make, sign_in):
    lead = make.lead()
    template = make.template()
    make.establishment(phase="Primary")
    make.establishment(phase="Secondary")
    make.establishment(phase="Primary", is_open=False)
    db.session.commit()
    sign_in(lead)
    page = client.post(
        "/cycles/new",
        data={
            "slug": "2026-27",
            "name": "Safeguarding audit 2026-27",
            "template": str(template.id),
            "due_on": ["31", "3", "2027"],
            "phases": ["Primary"],
        },
    )
    assert page.status_code == 302, page.get_data(as_text=True)
    cycle = db.session.scalar(select(Cycle))
    count = db.session.scalar(
        select(func.count()).select_from(Assignment).where(Assignment.establishment_id.is_not(None))
    )
    assert cycle.slug == "2026-27" and count == 1
    overview = client.get("/cycles/2026-27/").get_data(as_text=True)
    assert "Establishments in scope" in overview


def test_opening_a_cycle_twice_with_one_slug_is_refused(client, make, sign_in):
    lead = make.lead()
    make.establishment()
    cycle = make.cycle()
    sign_in(lead)
    page = client.post(
        "/cycles/new",
        data={"slug": "2026-27", "name": "Again", "template": str(cycle.template_id), "due_on": ["31", "3", "2027"]},
    )
    assert "There is already a cycle called" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Cycle)) == 1


def test_lead_returns_a_submitted_response_and_the_dsl_is_told(client, make, sign_in, app):
    lead = make.lead()
    school = make.establishment(name="Hill Primary")
    dsl = make.dsl(school, email="dsl@hill.example.org")
    cycle = make.cycle()
    response = db.session.scalar(select(Response).join(Assignment).where(Assignment.establishment_id == school.id))
    response.status = ResponseStatus.SUBMITTED
    db.session.commit()
    sign_in(lead)
    returned = client.post(
        f"/cycles/{cycle.slug}/responses/{response.id}/return", data={"comment": "Add the review date"}
    )
    assert returned.status_code == 302
    db.session.expire_all()
    assert db.session.get(Response, response.id).status is ResponseStatus.RETURNED
    messages = outbox_messages(app)
    assert [m["To"] for m in messages] == ["dsl@hill.example.org"]
    assert "Add the review date" in messages[0].get_payload()
    sign_in(dsl)
    task_list = client.get(f"/audits/{response.id}/").get_data(as_text=True)
    assert "Returned for amendment" in task_list and "Add the review date" in task_list


def test_board_viewer_reads_but_cannot_change(client, make, sign_in):
    board = make.board()
    school = make.establishment()
    cycle = make.cycle()
    response = db.session.scalar(select(Response).join(Assignment).where(Assignment.establishment_id == school.id))
    response.status = ResponseStatus.SUBMITTED
    db.session.commit()
    sign_in(board)
    assert client.get(f"/cycles/{cycle.slug}/responses/{response.id}").status_code == 200
    assert client.post(f"/cycles/{cycle.slug}/responses/{response.id}/accept").status_code == 403
    assert client.get("/cycles/new").status_code == 403
    db.session.expire_all()
    assert db.session.get(Response, response.id).status is ResponseStatus.SUBMITTED


def test_dsl_cannot_reach_the_leads_pages(client, make, sign_in):
    school = make.establishment()
    dsl = make.dsl(school)
    cycle = make.cycle()
    sign_in(dsl)
    for path in ("/cycles", f"/cycles/{cycle.slug}/", "/cycles/new", "/templates", "/users"):
        assert client.get(path).status_code == 403, path


def test_each_establishment_is_counted_once_with_trust_cover(make):
    from surveyapp.audits.services import status_counts

    trust = make.trust()
    covered = make.establishment(trust=trust)
    own = make.establishment(trust=trust)
    alone = make.establishment()
    cycle = make.cycle()
    responses = {a.establishment_id or ("trust", a.trust_id): a.response for a in cycle.assignments}
    responses[("trust", trust.id)].status = ResponseStatus.SUBMITTED
    responses[own.id].status = ResponseStatus.ACCEPTED
    responses[alone.id].status = ResponseStatus.IN_PROGRESS
    db.session.commit()
    counts = status_counts(cycle)
    assert counts["in_scope"] == 3
    assert (counts["covered_by_trust"], counts["accepted"], counts["in_progress"], counts["not_started"]) == (
        1,
        1,
        1,
        0,
    )
    assert counts["complete"] == 2
    assert responses[covered.id].status is ResponseStatus.NOT_STARTED
