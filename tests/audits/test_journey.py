"""The DSL's journey through an audit, through the real views."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select

from surveyapp.audits.models import Answer, Response, ResponseStatus, StatusEvent
from surveyapp.extensions import db


def _response_for(establishment):
    from surveyapp.audits.models import Assignment

    return db.session.scalar(select(Response).join(Assignment).where(Assignment.establishment_id == establishment.id))


def _setup(make):
    school = make.establishment(name="St Mary’s Primary")
    dsl = make.dsl(school)
    make.cycle()
    return school, dsl, _response_for(school)


POLICIES_OK = {
    "version": "0",
    "policy_current": "yes",
    "policy_review_date-day": "1",
    "policy_review_date-month": "6",
    "policy_review_date-year": "2026",
    "policy_notes": "All fine",
}
PREVENT_OK = {"version": "0", "prevent_wrap": "yes", "prevent_trained_pct": "95", "prevent_sef": "yes"}


def test_dsl_sees_their_audit_and_its_sections(client, make, sign_in):
    school, dsl, response = _setup(make)
    sign_in(dsl)
    page = client.get("/audits/").get_data(as_text=True)
    assert "St Mary’s Primary" in page
    task_list = client.get(f"/audits/{response.id}/").get_data(as_text=True)
    assert "Policies" in task_list and "Prevent duty" in task_list
    assert task_list.count("Not started") >= 2


def test_saving_a_section_keeps_answers_and_marks_it_completed(client, make, sign_in):
    school, dsl, response = _setup(make)
    sign_in(dsl)
    saved = client.post(f"/audits/{response.id}/sections/policies", data=POLICIES_OK)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/sections/prevent")
    answers = dict(
        db.session.execute(select(Answer.question_key, Answer.value).where(Answer.response_id == response.id)).all()
    )
    assert answers == {"policy_current": "yes", "policy_review_date": "2026-06-01", "policy_notes": "All fine"}
    task_list = client.get(f"/audits/{response.id}/").get_data(as_text=True)
    assert "Completed" in task_list
    again = client.get(f"/audits/{response.id}/sections/policies").get_data(as_text=True)
    assert 'value="2026"' in again and "All fine" in again
    # The count the tracker sorts by follows the sections: up when one is completed, down when it is not.
    db.session.expire_all()
    assert db.session.get(Response, response.id).sections_completed == 1
    client.post(f"/audits/{response.id}/sections/prevent", data={**PREVENT_OK, "prevent_sef": ""})
    client.post(f"/audits/{response.id}/sections/policies", data={**POLICIES_OK, "version": "1", "policy_current": ""})
    db.session.expire_all()
    assert db.session.get(Response, response.id).sections_completed == 0
    client.post(f"/audits/{response.id}/sections/prevent", data={**PREVENT_OK, "version": "1"})
    db.session.expire_all()
    assert db.session.get(Response, response.id).sections_completed == 1


def test_partial_save_is_in_progress_and_invalid_answers_are_named_but_others_saved(client, make, sign_in):
    school, dsl, response = _setup(make)
    sign_in(dsl)
    page = client.post(
        f"/audits/{response.id}/sections/prevent",
        data={"version": "0", "prevent_wrap": "partly", "prevent_trained_pct": "150"},
    )
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Enter a percentage between 0 and 100" in body
    assert 'href="#prevent_trained_pct"' in body
    assert 'value="150"' in body  # what they typed stays on screen
    db.session.expire_all()
    answers = dict(
        db.session.execute(select(Answer.question_key, Answer.value).where(Answer.response_id == response.id)).all()
    )
    assert answers == {"prevent_wrap": "partly"}
    assert db.session.get(Response, response.id).status is ResponseStatus.IN_PROGRESS


def test_a_stale_save_is_refused_and_the_input_kept(client, make, sign_in, app):
    school, dsl, response = _setup(make)
    deputy = make.dsl(school, deputy=True)
    other = app.test_client()
    sign_in(dsl)
    sign_in(deputy, test_client=other)
    # Both open the page at version 0; the deputy saves first.
    assert (
        other.post(
            f"/audits/{response.id}/sections/policies", data={**POLICIES_OK, "policy_current": "no", "then": "later"}
        ).status_code
        == 302
    )
    conflict = client.post(f"/audits/{response.id}/sections/policies", data={**POLICIES_OK, "policy_notes": "Mine"})
    body = conflict.get_data(as_text=True)
    assert conflict.status_code == 409
    assert "Your changes have not been saved" in body
    assert "Mine" in body
    assert "Saved answer: <strong>No</strong>" in body
    db.session.expire_all()
    value = db.session.scalar(
        select(Answer.value).where(Answer.response_id == response.id, Answer.question_key == "policy_current")
    )
    assert value == "no"


def test_a_gap_saved_without_its_follow_up_is_saved_and_named(client, make, sign_in):
    school, dsl, response = _setup(make)
    sign_in(dsl)
    page = client.post(
        f"/audits/{response.id}/sections/policies",
        data={**POLICIES_OK, "policy_current": "no", "policy_current__owner": "Hana Head"},
    )
    body = page.get_data(as_text=True)
    # Saved as it is (the DSL may not know the rest yet), and what is left named beside its field.
    assert page.status_code == 200 and "There is a problem" in body
    assert "Enter the action planned for: Is the child protection policy current?" in body
    assert "Enter the date the action will be done by for: Is the child protection policy current?" in body
    assert "continue without them" in body
    db.session.expire_all()
    answer = db.session.scalar(
        select(Answer).where(Answer.response_id == response.id, Answer.question_key == "policy_current")
    )
    assert answer.value == "no" and answer.follow_up == {"action": "", "owner": "Hana Head", "target_date": ""}

    # "Save and come back later" goes back to the task list, saying what is still to add.
    later = client.post(
        f"/audits/{response.id}/sections/policies",
        data={**POLICIES_OK, "version": "1", "policy_current": "no", "then": "later"},
        follow_redirects=True,
    )
    assert "Add the action, owner and date for 1 gap in that section before you submit." in later.get_data(as_text=True)


def test_an_impossible_follow_up_date_is_refused_and_kept_on_the_page(client, make, sign_in):
    school, dsl, response = _setup(make)
    sign_in(dsl)
    page = client.post(
        f"/audits/{response.id}/sections/policies",
        data={
            **POLICIES_OK,
            "policy_current": "no",
            "policy_current__action": "Rewrite it",
            "policy_current__owner": "Hana",
            "policy_current__target-day": "31",
            "policy_current__target-month": "2",
            "policy_current__target-year": "2027",
        },
    )
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert (
        "The date the action will be done by must be a real date for: Is the child protection policy current?" in body
    )
    assert "Rewrite it" in body and 'value="31"' in body
    assert "have not been saved yet" in body
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(Answer.value).where(Answer.response_id == response.id, Answer.question_key == "policy_current")
        )
        is None
    )


def test_check_answers_declaration_and_single_submission(client, make, sign_in):
    school, dsl, response = _setup(make)
    sign_in(dsl)
    client.post(f"/audits/{response.id}/sections/policies", data=POLICIES_OK)
    check = client.get(f"/audits/{response.id}/check").get_data(as_text=True)
    assert "still needed before you can submit" in check
    client.post(f"/audits/{response.id}/sections/prevent", data=PREVENT_OK)
    check = client.get(f"/audits/{response.id}/check").get_data(as_text=True)
    assert "Continue to sign-off" in check
    declaration = {
        "headteacher_name": "Ann Head",
        "chair_name": "Cal Chair",
        "declaration_date": ["3", "3", "2026"],
        "confirm": "y",
    }
    first = client.post(f"/audits/{response.id}/declaration", data=declaration)
    second = client.post(f"/audits/{response.id}/declaration", data=declaration)
    assert first.status_code == 302 and second.status_code == 302
    confirmation = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Audit submitted" in confirmation
    reference = re.search(r"<strong>([A-Z0-9\-]+URN\d+)</strong>", confirmation).group(1)
    assert reference == f"MINI-2026-27-URN{school.urn}"
    db.session.expire_all()
    stored = db.session.get(Response, response.id)
    assert stored.status is ResponseStatus.SUBMITTED
    assert stored.headteacher_name == "Ann Head" and stored.declaration_date == date(2026, 3, 3)
    events = db.session.scalar(
        select(func.count())
        .select_from(StatusEvent)
        .where(StatusEvent.response_id == response.id, StatusEvent.to_status == ResponseStatus.SUBMITTED)
    )
    assert events == 1
    # Read-only now: a save is refused and nothing changes.
    refused = client.post(
        f"/audits/{response.id}/sections/policies", data={**POLICIES_OK, "version": "1", "policy_current": "no"}
    )
    assert refused.status_code == 302
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(Answer.value).where(Answer.response_id == response.id, Answer.question_key == "policy_current")
        )
        == "yes"
    )


def test_another_schools_response_is_not_found(client, make, sign_in):
    school, dsl, response = _setup(make)
    other_school = make.establishment()
    other_dsl = make.dsl(other_school)
    sign_in(other_dsl)
    for path in (
        f"/audits/{response.id}/",
        f"/audits/{response.id}/sections/policies",
        f"/audits/{response.id}/check",
        f"/audits/{response.id}/declaration",
    ):
        assert client.get(path).status_code == 404
    assert client.post(f"/audits/{response.id}/sections/policies", data=POLICIES_OK).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 0


def test_task_list_links_to_each_section_and_status_follows_every_save(client, make, sign_in):
    from surveyapp.audits.models import SectionProgress, SectionState

    school, dsl, response = _setup(make)
    sign_in(dsl)
    task_list = client.get(f"/audits/{response.id}/").get_data(as_text=True)
    assert f'href="/audits/{response.id}/sections/policies"' in task_list
    # Check your answers is a link only once every section is done; until then the row says it cannot start.
    assert f'href="/audits/{response.id}/check"' not in task_list and "Cannot start yet" in task_list
    client.post(f"/audits/{response.id}/sections/prevent", data={"version": "0", "prevent_wrap": "yes"})

    def state():
        return db.session.scalar(
            select(SectionProgress.state).where(
                SectionProgress.response_id == response.id, SectionProgress.section_key == "prevent"
            )
        )

    assert state() is SectionState.IN_PROGRESS
    client.post(f"/audits/{response.id}/sections/prevent", data={**PREVENT_OK, "version": "1"})
    db.session.expire_all()
    assert state() is SectionState.COMPLETED
    client.post(f"/audits/{response.id}/sections/prevent", data={**PREVENT_OK, "version": "2", "prevent_sef": ""})
    db.session.expire_all()
    assert state() is SectionState.IN_PROGRESS


def test_a_trust_declaration_does_not_change_the_schools_wording(app):
    from surveyapp.audits.forms import DeclarationForm

    with app.test_request_context(method="POST", data={}):
        trust_form = DeclarationForm(for_trust=True)
        trust_form.validate()
        school_form = DeclarationForm()
        school_form.validate()
    assert trust_form.headteacher_name.errors == ["Enter the chief executive’s full name"]
    assert school_form.headteacher_name.errors == ["Enter the headteacher’s full name"]
    assert school_form.chair_name.errors == ["Enter the chair of governors’ full name"]
