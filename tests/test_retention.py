"""`surveyapp data retention`: personal data of old cycles pseudonymised, every answer and figure kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from surveyapp.actions.models import ActionItem
from surveyapp.actions.services import generate_for_cycle
from surveyapp.activity.models import ActivityRecord
from surveyapp.activity.services import record
from surveyapp.audits.models import Answer, CycleState, Response
from surveyapp.auth.models import User
from surveyapp.chasing.models import Reminder, ReminderKind
from surveyapp.extensions import db
from surveyapp.timeutil import utcnow
from tests.exports import cycle_data


@pytest.fixture
def old_and_new(make):
    """A cycle closed six years ago with signed-off returns, actions, reminders and a trail; a recent
    cycle closed last month; an old sign-in and a recent one; an old disabled account and a current one."""
    built = cycle_data.build(make)
    old = built["cycle"]
    formula = built["responses"][built["formula"].id]
    formula.headteacher_name, formula.chair_name, formula.return_comment = "Ann Head", "Cal Chair", "Ring Ann first"
    generate_for_cycle(old)
    quiet_dsl = db.session.scalar(select(User).where(User.email == "dsl@quiet.example.org"))
    reminder = Reminder(
        cycle_id=old.id,
        establishment_id=built["quiet"].id,
        recipient_email=quiet_dsl.email,
        recipient_user_id=quiet_dsl.id,
        kind=ReminderKind.NOT_STARTED,
        subject="Reminder",
        body="Dear Quinn DSL, please start.",
        idempotency_key="old-1",
    )
    db.session.add(reminder)
    record("reminder.sent", None, establishment_id=built["quiet"].id, cycle_id=old.id, to=quiet_dsl.email)
    long_ago = utcnow() - timedelta(days=6 * 366)
    old.state, old.closed_at = CycleState.CLOSED, long_ago
    new = make.cycle(slug="2025-26")
    new.state, new.closed_at = CycleState.CLOSED, utcnow() - timedelta(days=30)
    new_response = db.session.scalar(
        select(Response).where(Response.assignment_id.in_([a.id for a in new.assignments])).limit(1)
    )
    new_response.headteacher_name = "Nia New"
    departed = make.dsl(built["good"], email="left.long.ago@example.org", name="Lee Left")
    departed.is_enabled, departed.last_sign_in_at = False, long_ago
    current = make.dsl(built["good"], email="still.here@example.org", name="Sue Stays")
    # Inserting a record with its time is allowed (only changing one is not): the old sign-in is written as of then.
    old_sign_in = ActivityRecord(
        at=long_ago,
        action="auth.signed_in",
        actor_id=departed.id,
        detail={"address": "203.0.113.7", "factors": "password"},
    )
    db.session.add(old_sign_in)
    recent_sign_in = record("auth.signed_in", current.id, address="198.51.100.9", factors="password")
    db.session.flush()
    db.session.commit()
    return {
        "built": built,
        "old": old,
        "new": new,
        "departed": departed,
        "current": current,
        "new_response_id": new_response.id,
        "old_sign_in": old_sign_in.id,
        "recent_sign_in": recent_sign_in.id,
    }


def _analysis(runner, slug: str) -> str:
    result = runner.invoke(args=["analysis", "--cycle", slug, "--format", "json"])
    assert result.exit_code == 0, result.output
    return result.output


def test_retention_pseudonymises_old_personal_data_and_keeps_every_answer(app, runner, old_and_new):
    world = old_and_new
    figures_before = _analysis(runner, world["old"].slug)
    answers_before = db.session.execute(
        select(Answer.response_id, Answer.question_key, Answer.value).order_by(Answer.id)
    ).all()

    dry = runner.invoke(args=["data", "retention", "--older-than-years", "5", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would pseudonymise" in dry.output and "Dry run: nothing was changed." in dry.output
    assert world["old"].slug in dry.output and "2025-26" not in dry.output
    db.session.expire_all()
    assert (
        db.session.get(Response, world["built"]["responses"][world["built"]["formula"].id].id).headteacher_name
        == "Ann Head"
    )

    applied = runner.invoke(args=["data", "retention", "--older-than-years", "5"])
    assert applied.exit_code == 0, applied.output
    db.session.expire_all()

    formula = db.session.get(Response, world["built"]["responses"][world["built"]["formula"].id].id)
    assert (formula.headteacher_name, formula.chair_name, formula.return_comment) == ("[removed]",) * 3
    assert db.session.get(Response, world["new_response_id"]).headteacher_name == "Nia New"  # closed recently: kept
    owners = {
        a.follow_up["owner"]
        for a in db.session.scalars(select(Answer).where(Answer.follow_up.is_not(None)))
        if a.follow_up
    }
    assert owners == {"[removed]"}
    assert {item.owner for item in db.session.scalars(select(ActionItem))} <= {"[removed]", ""}
    reminder = db.session.scalar(select(Reminder))
    assert reminder.body == "[removed]" and reminder.recipient_email.endswith("@pseudonymised.invalid")

    log = {r.id: r for r in db.session.scalars(select(ActivityRecord))}
    sent = next(r for r in log.values() if r.action == "reminder.sent")
    assert sent.detail["to"] == reminder.recipient_email  # the same person, the same pseudonym
    assert log[world["old_sign_in"]].detail["address"].startswith("address-")
    assert log[world["recent_sign_in"]].detail["address"] == "198.51.100.9"
    departed, current = db.session.get(User, world["departed"].id), db.session.get(User, world["current"].id)
    assert departed.email.endswith("@pseudonymised.invalid") and departed.name == "[removed]"
    assert departed.password_hash is None
    assert (current.email, current.name) == ("still.here@example.org", "Sue Stays")
    # The departed person's sign-in still points at their (now pseudonymous) account.
    assert log[world["old_sign_in"]].actor_id == departed.id
    assert any(r.action == "data.retention_applied" for r in log.values())

    # Every answer and figure is as it was.
    assert (
        db.session.execute(select(Answer.response_id, Answer.question_key, Answer.value).order_by(Answer.id)).all()
        == answers_before
    )
    assert _analysis(runner, world["old"].slug) == figures_before

    # The app's own connection still cannot rewrite history: the trigger is back on.
    with pytest.raises(DBAPIError):
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE activity_log SET action = 'x'"))

    # Running it again changes nothing more.
    again = runner.invoke(args=["data", "retention", "--older-than-years", "5"])
    assert again.exit_code == 0 and "      0  activity log records" in again.output
