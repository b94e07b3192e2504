"""The activity log records changes of state and the lead can filter it."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

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


def _one_record():
    from surveyapp.activity.services import record

    entry = record("user.created", None, email="kept@example.org", role="dsl")
    db.session.commit()
    return entry.id, entry.action, dict(entry.detail), entry.at


def _unchanged(entry_id, action, detail, at):
    db.session.rollback()
    db.session.expire_all()
    row = db.session.get(ActivityRecord, entry_id)
    assert row is not None, "the row was deleted"
    assert (row.action, row.detail, row.at) == (action, detail, at)


@pytest.mark.parametrize("statement", [
    lambda i: update(ActivityRecord).where(ActivityRecord.id == i).values(action="user.deleted"),
    lambda i: update(ActivityRecord).values(detail={}),
    lambda i: delete(ActivityRecord).where(ActivityRecord.id == i),
    lambda i: delete(ActivityRecord),
    lambda i: text("UPDATE activity_log SET actor_id = NULL"),
    lambda i: text("DELETE FROM activity_log"),
], ids=["update-one", "update-all", "delete-one", "delete-all", "raw-update", "raw-delete"])
def test_the_database_refuses_to_update_or_delete_activity(app, statement):
    kept = _one_record()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(statement(kept[0]))
    _unchanged(*kept)


def test_changing_or_deleting_a_loaded_record_is_refused_at_flush(app):
    kept = _one_record()
    entry = db.session.get(ActivityRecord, kept[0])
    entry.detail = {"email": "changed@example.org"}
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.flush()
    _unchanged(*kept)
    db.session.delete(db.session.get(ActivityRecord, kept[0]))
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.flush()
    _unchanged(*kept)


def test_postgresql_refuses_truncate_too(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    kept = _one_record()
    with pytest.raises(DBAPIError, match="append-only: TRUNCATE refused"):
        db.session.execute(text("TRUNCATE activity_log"))
    _unchanged(*kept)
    with pytest.raises(DBAPIError, match="append-only: TRUNCATE refused"):
        db.session.execute(text("TRUNCATE users CASCADE"))  # reaches the log through its foreign key
    _unchanged(*kept)
