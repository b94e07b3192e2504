"""The lead disables and re-enables accounts: access ends on the person's next request; the trail keeps their name."""

from __future__ import annotations

from sqlalchemy import select

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits.models import Assignment, Response
from surveyapp.auth.models import User
from surveyapp.extensions import db
from tests.factories import Factory
from tests.journey_data import PREVENT_OK


def _actions() -> list[tuple[str, str]]:
    db.session.expire_all()
    return [
        (r.action, r.detail.get("email", ""))
        for r in db.session.scalars(
            select(ActivityRecord)
            .where(ActivityRecord.action.in_(["user.disabled", "user.enabled"]))
            .order_by(ActivityRecord.id)
        )
    ]


def test_disabling_a_dsl_mid_session_ends_their_access_on_the_next_request(app, make, sign_in, client):
    school = make.establishment()
    dsl = make.dsl(school, name="Dana Leaver", email="dana@school.example.org")
    lead = make.lead()
    cycle = make.cycle()
    response = db.session.scalar(select(Response).join(Assignment).where(Assignment.establishment_id == school.id))
    db.session.commit()
    dsl_browser = sign_in(dsl, test_client=app.test_client())
    assert dsl_browser.post(f"/audits/{response.id}/sections/prevent", data=PREVENT_OK).status_code == 302

    sign_in(lead)
    users_page = client.get("/users").get_data(as_text=True)
    assert f'action="/users/{dsl.id}/disable"' in users_page
    done = client.post(f"/users/{dsl.id}/disable", follow_redirects=True).get_data(as_text=True)
    assert "Dana Leaver (dana@school.example.org) has been disabled" in done and "Disabled" in done

    # The DSL's very next request is refused, and they cannot sign in again.
    after = dsl_browser.get(f"/audits/{response.id}/")
    assert after.status_code == 302 and "/sign-in" in after.headers["Location"]
    again = dsl_browser.post("/sign-in", data={"email": dsl.email, "password": Factory.PASSWORD})
    assert again.status_code == 200
    # Their answers keep their name in the trail.
    history = client.get(f"/cycles/{cycle.slug}/responses/{response.id}").get_data(as_text=True)
    assert "Dana Leaver" in history
    activity = client.get("/activity").get_data(as_text=True)
    assert "Dana Leaver" in activity or "dana@school.example.org" in activity

    assert client.post(f"/users/{dsl.id}/enable").status_code == 302
    assert dsl_browser.post("/sign-in", data={"email": dsl.email, "password": Factory.PASSWORD}).status_code == 302
    assert dsl_browser.get(f"/audits/{response.id}/").status_code == 200
    assert _actions() == [("user.disabled", dsl.email), ("user.enabled", dsl.email)]


def test_a_lead_cannot_disable_their_own_account(client, make, sign_in):
    lead = make.lead()
    db.session.commit()
    sign_in(lead)
    page = client.post(f"/users/{lead.id}/disable", follow_redirects=True).get_data(as_text=True)
    assert "You cannot disable your own account" in page
    db.session.expire_all()
    assert db.session.get(User, lead.id).is_enabled is True and _actions() == []


def test_cli_disables_and_enables_an_account(runner, make, app):
    dsl = make.dsl(make.establishment(), email="dsl@school.example.org")
    db.session.commit()
    browser = app.test_client()
    browser.post("/sign-in", data={"email": dsl.email, "password": Factory.PASSWORD})
    assert browser.get("/audits/").status_code == 200
    result = runner.invoke(args=["users", "disable", "DSL@school.example.org"])
    assert result.exit_code == 0 and "dsl@school.example.org is disabled." in result.output
    assert browser.get("/audits/").status_code == 302
    again = runner.invoke(args=["users", "disable", "dsl@school.example.org"])
    assert "already disabled; nothing changed" in again.output
    assert (
        runner.invoke(args=["users", "enable", "dsl@school.example.org"]).output.strip()
        == "dsl@school.example.org is enabled."
    )
    missing = runner.invoke(args=["users", "disable", "nobody@example.org"])
    assert missing.exit_code != 0 and "There is no account for nobody@example.org" in missing.output
    assert _actions() == [("user.disabled", dsl.email), ("user.enabled", dsl.email)]
