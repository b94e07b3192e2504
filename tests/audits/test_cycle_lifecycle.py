"""A cycle over time: draft, open, closed, archived; extensions; what respondents may do in each."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits.models import (
    Answer,
    Assignment,
    CycleState,
    Response,
    ResponseStatus,
    SectionProgress,
    TrustCoverage,
)
from surveyapp.audits.services import AnswerInput, cycle_by_slug, save_section
from surveyapp.extensions import db

POLICIES = {
    "version": "1",
    "policy_current": "no",
    "policy_review_date-day": "1",
    "policy_review_date-month": "6",
    "policy_review_date-year": "2026",
    "policy_notes": "Governors review it in the spring",
}
DECLARATION = {
    "headteacher_name": "Ann Head",
    "chair_name": "Cal Chair",
    "declaration_date": ["3", "3", "2027"],
    "confirm": "y",
}


def _response_of(establishment) -> Response:
    return db.session.scalar(select(Response).join(Assignment).where(Assignment.establishment_id == establishment.id))


def _actions(prefix: str) -> list[tuple[str, dict]]:
    return [
        (r.action, r.detail)
        for r in db.session.scalars(
            select(ActivityRecord).where(ActivityRecord.action.startswith(prefix)).order_by(ActivityRecord.id)
        )
    ]


def _saved_once(make, school, dsl):
    """The DSL has saved the policies section once (version 1), as in the 2025-26 cycle of the review."""
    response = _response_of(school)
    section = next(s for s in response.assignment.cycle.template.sections if s.key == "policies")
    save_section(response, section, {"policy_current": AnswerInput("yes")}, 0, dsl)
    db.session.commit()
    return response


def test_a_closed_cycle_refuses_a_save_and_gives_back_what_was_typed(client, make, sign_in, runner):
    school = make.establishment(name="Ash Primary")
    dsl = make.dsl(school)
    lead = make.lead(name="Lee Lead", email="lee.lead@example.gov.uk")
    cycle = make.cycle(slug="2025-26")
    cycle.created_by_id = lead.id
    db.session.commit()
    response = _saved_once(make, school, dsl)

    closed = runner.invoke(args=["cycles", "close", "--slug", "2025-26", "--reason", "Returns went to committee"])
    assert closed.exit_code == 0, closed.output
    assert "Closed 2025-26" in closed.output

    sign_in(dsl)
    refused = client.post(f"/audits/{response.id}/sections/policies", data=POLICIES)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "is closed" in page and "lee.lead@example.gov.uk" in page
    # What the DSL typed is on the page, named by its question, so it is not lost.
    assert "Governors review it in the spring" in page and "Anything else?" in page
    db.session.expire_all()
    progress = db.session.scalar(select(SectionProgress).where(SectionProgress.response_id == response.id))
    assert progress.version == 1  # not 2: nothing was saved
    assert (
        db.session.scalar(
            select(Answer.value).where(Answer.response_id == response.id, Answer.question_key == "policy_current")
        )
        == "yes"
    )
    assert _actions("cycle.closed")[0][1]["reason"] == "Returns went to committee"

    # Opening the section again shows the same page, not a form that cannot be saved.
    assert client.get(f"/audits/{response.id}/sections/policies").status_code == 409
    task_list = client.get(f"/audits/{response.id}/").get_data(as_text=True)
    assert "This audit has closed" in task_list
    assert f"/audits/{response.id}/sections/policies" not in task_list  # sections open read-only
    assert "View the saved answers" in task_list


def test_a_closed_cycle_refuses_submission_trust_cover_and_action_plans(client, make, sign_in):
    trust = make.trust(name="Oak Trust")
    academy = make.establishment(name="Oak Academy", trust=trust)
    dsl = make.dsl(academy)
    trust_lead = make.trust_lead(trust)
    cycle = make.cycle()
    response = _response_of(academy)
    for section in cycle.template.sections:
        inputs = {
            q.key: AnswerInput(
                {
                    "yes_no": "yes",
                    "yes_no_partly": "yes",
                    "yes_no_unsure": "yes",
                    "date": "2026-10-01",
                    "percentage": "100",
                    "text": "fine",
                }[q.type.value]
            )
            for q in section.questions
        }
        save_section(response, section, inputs, 0, dsl)
    trust_response = db.session.scalar(select(Response).join(Assignment).where(Assignment.trust_id == trust.id))
    cycle.state = CycleState.CLOSED
    db.session.commit()

    sign_in(dsl)
    submitted = client.post(f"/audits/{response.id}/declaration", data=DECLARATION)
    assert submitted.status_code == 409 and "Ann Head" in submitted.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Response, response.id).status is ResponseStatus.IN_PROGRESS

    lead_client = client.application.test_client()
    sign_in(trust_lead, test_client=lead_client)
    before = db.session.scalar(
        select(func.count()).select_from(TrustCoverage).where(TrustCoverage.response_id == trust_response.id)
    )
    cover = lead_client.post(f"/audits/{trust_response.id}/academies", data={})
    assert cover.status_code == 409
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count()).select_from(TrustCoverage).where(TrustCoverage.response_id == trust_response.id)
        )
        == before
    )


def test_a_closed_cycle_refuses_action_plan_changes(client, make, sign_in):
    from surveyapp.actions.models import ActionItem
    from surveyapp.actions.services import generate_for_cycle
    from tests.exports import cycle_data

    built = cycle_data.build(make)
    generate_for_cycle(built["cycle"])
    dsl = make.dsl(built["formula"])
    built["cycle"].state = CycleState.CLOSED
    db.session.commit()
    response = built["responses"][built["formula"].id]
    item = db.session.scalar(select(ActionItem).where(ActionItem.establishment_id == built["formula"].id).limit(1))
    prefix = f"item{item.id}-"
    sign_in(dsl)
    refused = client.post(
        f"/audits/{response.id}/action-plan",
        data={
            "item_id": str(item.id),
            prefix + "version": str(item.version),
            prefix + "action": "Train every governor",
            prefix + "owner": item.owner,
            prefix + "status": "on_track",
            prefix + "notes": "",
            prefix + "target_date": ["31", "1", "2027"],
        },
    )
    assert refused.status_code == 409 and "Train every governor" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ActionItem, item.id).version == item.version


def test_reopening_needs_a_reason_and_lets_the_school_save_again(client, make, sign_in, runner):
    school = make.establishment()
    dsl = make.dsl(school)
    make.cycle(slug="2025-26")
    response = _saved_once(make, school, dsl)
    assert runner.invoke(args=["cycles", "close", "--slug", "2025-26"]).exit_code == 0
    no_reason = runner.invoke(args=["cycles", "reopen", "--slug", "2025-26", "--reason", "  "])
    assert no_reason.exit_code != 0 and "Say why" in no_reason.output
    reopened = runner.invoke(
        args=["cycles", "reopen", "--slug", "2025-26", "--reason", "Two schools agreed late returns"]
    )
    assert reopened.exit_code == 0, reopened.output
    db.session.expire_all()
    cycle = cycle_by_slug("2025-26")
    assert cycle.state is CycleState.OPEN and cycle.closed_at is None

    sign_in(dsl)
    saved = client.post(f"/audits/{response.id}/sections/policies", data=POLICIES)
    assert saved.status_code in (200, 302)
    db.session.expire_all()
    assert db.session.scalar(select(SectionProgress.version).where(SectionProgress.response_id == response.id)) == 2
    assert [a for a, _ in _actions("cycle.")][-2:] == ["cycle.closed", "cycle.reopened"]
    assert _actions("cycle.reopened")[0][1]["reason"] == "Two schools agreed late returns"
    # A cycle that is open cannot be reopened, nor a draft closed.
    again = runner.invoke(args=["cycles", "reopen", "--slug", "2025-26", "--reason", "again"])
    assert again.exit_code != 0 and "cannot become open" in again.output


def test_extending_the_cycle_or_one_establishment(client, make, sign_in, runner):
    ash, elm = (
        make.establishment(name="Ash Primary", urn="100001"),
        make.establishment(name="Elm Primary", urn="100002"),
    )
    dsl = make.dsl(ash)
    make.cycle(due_on=date(2027, 3, 31))
    whole = runner.invoke(args=["cycles", "extend", "--slug", "2026-27", "--due", "2027-04-30"])
    assert whole.exit_code == 0 and "now due on 2027-04-30" in whole.output
    one = runner.invoke(args=["cycles", "extend", "--slug", "2026-27", "--due", "2027-05-31", "--urn", "100001"])
    assert one.exit_code == 0, one.output
    db.session.expire_all()
    assert _response_of(ash).assignment.effective_due_on == date(2027, 5, 31)
    assert _response_of(elm).assignment.effective_due_on == date(2027, 4, 30)

    sign_in(dsl)
    task_list = client.get(f"/audits/{_response_of(ash).id}/").get_data(as_text=True)
    assert "31 May 2027" in task_list and "extension agreed" in task_list

    bad = runner.invoke(args=["cycles", "extend", "--slug", "2026-27", "--due", "2027-05-31", "--urn", "999999"])
    assert bad.exit_code != 0 and "no establishment with URN 999999" in bad.output
    before_open = runner.invoke(args=["cycles", "extend", "--slug", "2026-27", "--due", "2025-01-01"])
    assert before_open.exit_code != 0 and "on or after" in before_open.output
    # Giving the cycle's own date takes the extension away again.
    assert (
        runner.invoke(
            args=["cycles", "extend", "--slug", "2026-27", "--due", "2027-04-30", "--urn", "100001"]
        ).exit_code
        == 0
    )
    db.session.expire_all()
    assert _response_of(ash).assignment.due_on is None
    assert [a for a, _ in _actions("cycle.ext")] == [
        "cycle.extended",
        "cycle.extension_agreed",
        "cycle.extension_removed",
    ]


def test_the_lead_closes_extends_and_reopens_on_the_web(client, make, sign_in):
    school = make.establishment(name="Ash Primary", urn="100001")
    lead = make.lead()
    cycle = make.cycle()
    sign_in(lead)
    page = client.get(f"/cycles/{cycle.slug}/").get_data(as_text=True)
    assert "Close the cycle" in page and "agree an extension" in page
    extended = client.post(f"/cycles/{cycle.slug}/extend", data={"due_on": ["30", "4", "2027"], "urn": "100001"})
    assert extended.status_code == 302
    close_page = client.get(f"/cycles/{cycle.slug}/close").get_data(as_text=True)
    assert "Ash Primary (URN 100001): until 30 April 2027" in close_page  # the running extension is named first
    assert client.post(f"/cycles/{cycle.slug}/close", data={"reason": ""}).status_code == 302
    db.session.expire_all()
    assert cycle_by_slug(cycle.slug).state is CycleState.CLOSED
    refused = client.post(f"/cycles/{cycle.slug}/reopen", data={"reason": ""})
    assert refused.status_code == 200 and "Say why you are reopening the cycle" in refused.get_data(as_text=True)
    assert client.post(f"/cycles/{cycle.slug}/reopen", data={"reason": "Late returns agreed"}).status_code == 302
    db.session.expire_all()
    assert cycle_by_slug(cycle.slug).state is CycleState.OPEN
    assert school.id  # the establishment kept its place throughout
    assert client.post(f"/cycles/{cycle.slug}/close", data={}).status_code == 302
    assert client.post(f"/cycles/{cycle.slug}/archive", data={}).status_code == 302
    db.session.expire_all()
    assert cycle_by_slug(cycle.slug).state is CycleState.ARCHIVED
    assert "Archived" in client.get("/cycles").get_data(as_text=True)


def test_a_draft_cycle_is_not_seen_by_schools_until_launched(client, make, sign_in, runner):
    school = make.establishment(name="Ash Primary")
    dsl = make.dsl(school)
    make.template()
    db.session.commit()
    drafted = runner.invoke(
        args=[
            "cycles",
            "open",
            "--slug",
            "2027-28",
            "--template",
            "mini",
            "--due",
            "2028-03-31",
            "--opens",
            "2027-09-01",
            "--draft",
        ]
    )
    assert drafted.exit_code == 0 and "Drafted 2027-28" in drafted.output
    response = _response_of(school)
    sign_in(dsl)
    assert "2027-28" not in client.get("/audits/").get_data(as_text=True)
    assert client.get(f"/audits/{response.id}/").status_code == 404
    assert runner.invoke(args=["cycles", "launch", "--slug", "2027-28"]).exit_code == 0
    assert "2027-28" in client.get("/audits/").get_data(as_text=True)
    assert client.get(f"/audits/{response.id}/").status_code == 200


def test_the_lead_opens_a_cycle_as_a_draft_on_the_web_and_launches_it(client, make, sign_in):
    school = make.establishment(name="Ash Primary")
    dsl = make.dsl(school)
    lead = make.lead()
    template = make.template()
    db.session.commit()
    sign_in(lead)
    form = client.get("/cycles/new").get_data(as_text=True)
    assert "Keep it as a draft for now" in form
    made = client.post(
        "/cycles/new",
        data={
            "slug": "2027-28",
            "name": "Safeguarding audit 2027-28",
            "template": str(template.id),
            "due_on": ["31", "3", "2028"],
            "draft": "y",
        },
    )
    assert made.status_code == 302
    db.session.expire_all()
    cycle = cycle_by_slug("2027-28")
    assert cycle.state is CycleState.DRAFT
    page = client.get("/cycles/2027-28/").get_data(as_text=True)
    assert "This cycle is a draft" in page and "Open it to establishments" in page
    dsl_client = client.application.test_client()
    sign_in(dsl, test_client=dsl_client)
    assert "2027-28" not in dsl_client.get("/audits/").get_data(as_text=True)
    assert client.post("/cycles/2027-28/launch", data={}).status_code == 302
    db.session.expire_all()
    assert cycle_by_slug("2027-28").state is CycleState.OPEN
    assert "2027-28" in dsl_client.get("/audits/").get_data(as_text=True)
    assert [a for a, _ in _actions("cycle.")] == ["cycle.drafted", "cycle.launched"]
