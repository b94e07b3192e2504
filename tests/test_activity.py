"""The activity log records changes of state and the lead can filter it."""
from __future__ import annotations

from sqlalchemy import select

from surveyapp.activity.models import ActivityRecord
from surveyapp.extensions import db
from tests.journey_data import DECLARATION, POLICIES_OK, PREVENT_OK


def test_saves_submission_and_sign_ins_are_logged_and_filterable(client, make, sign_in):
    school, other = make.establishment(name="Ash Primary"), make.establishment(name="Birch Primary")
    dsl = make.dsl(school, email="dsl@ash.example.org")
    lead = make.lead()
    make.cycle()
    sign_in(dsl)
    from surveyapp.audits.models import Assignment, Response

    response_id = db.session.scalar(select(Response.id).join(Assignment).where(Assignment.establishment_id == school.id))
    client.post(f"/audits/{response_id}/sections/policies", data=POLICIES_OK)
    client.post(f"/audits/{response_id}/sections/prevent", data=PREVENT_OK)
    client.post(f"/audits/{response_id}/declaration", data=DECLARATION)
    client.post("/sign-out")
    client.post("/sign-in", data={"email": lead.email, "password": "wrong password here"})
    actions = [r.action for r in db.session.scalars(select(ActivityRecord).order_by(ActivityRecord.id))]
    assert actions[:1] == ["cycle.opened"]
    assert actions.count("answers.saved") == 2 and "response.submitted" in actions
    assert {"auth.signed_in", "auth.signed_out", "auth.sign_in_failed"} <= set(actions)
    submitted = db.session.scalar(select(ActivityRecord).where(ActivityRecord.action == "response.submitted"))
    assert submitted.establishment_id == school.id and submitted.actor_id == dsl.id

    sign_in(lead)
    page = client.get(f"/activity?action=response&urn={school.urn}").get_data(as_text=True)
    assert '<td class="govuk-table__cell">response.submitted</td>' in page and "dsl@ash.example.org" in page
    assert '<td class="govuk-table__cell">answers.saved</td>' not in page
    assert "1 entries" in page
    assert "Birch Primary" not in client.get(f"/activity?urn={school.urn}").get_data(as_text=True)
