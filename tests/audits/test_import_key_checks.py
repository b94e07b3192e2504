"""The responses import skips PostgreSQL's row-by-row check of foreign keys only where the database allows
it and no ordinary trigger would be skipped with it; either way, every row it writes refers to rows that
exist, and the checks are back on for whatever the transaction does next."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from surveyapp.actions.models import ActionItem
from surveyapp.audits.importer import apply_responses, plan_responses
from surveyapp.audits.models import Answer, Cycle, Response, SectionProgress, StatusEvent
from surveyapp.auth.models import User
from surveyapp.bulk import references_held
from surveyapp.establishments.models import Establishment
from surveyapp.extensions import db
from tests.audits.test_responses_import import COMPLETE, HEADER
from tests.establishments.gias_files import to_csv


def replication_role() -> str:
    return db.session.scalar(text("SHOW session_replication_role"))


def is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


@pytest.fixture
def returns_file(make, tmp_path):
    """A cycle with three schools, one in a trust; a file of their returns and the trust's, with gaps."""
    trust = make.trust(name="Oak Learning Trust", uid="5001")
    make.establishment(urn="100001")
    make.establishment(urn="100002")
    make.establishment(urn="100003", trust=trust)
    lead = make.lead()
    cycle = make.cycle(slug="2024-25", due_on=date(2025, 3, 31), opens_on=date(2024, 9, 1))
    rows = [
        {"URN": "100001", **COMPLETE},
        {"URN": "100002", **COMPLETE, "prevent_wrap": "no", "policy_current": "no"},
        {"URN": "100003", "Submitted": "no", "policy_current": "no"},
        {"Trust UID": "5001", **COMPLETE, "prevent_sef": "no"},
    ]
    path = tmp_path / "returns.csv"
    path.write_bytes(to_csv(rows, HEADER, encoding="utf-8"))
    return cycle, lead, path


def missing_references() -> dict[str, int]:
    """How many of the import's rows refer to a response, cycle, establishment or user that is not there."""

    def orphans(model, column, parent) -> int:
        return db.session.scalar(
            select(func.count())
            .select_from(model)
            .outerjoin(parent, parent.id == column)
            .where(column.is_not(None), parent.id.is_(None))
        )

    return {
        "answers' responses": orphans(Answer, Answer.response_id, Response),
        "answers' users": orphans(Answer, Answer.updated_by_id, User),
        "progress's responses": orphans(SectionProgress, SectionProgress.response_id, Response),
        "status events' responses": orphans(StatusEvent, StatusEvent.response_id, Response),
        "actions' cycles": orphans(ActionItem, ActionItem.cycle_id, Cycle),
        "actions' establishments": orphans(ActionItem, ActionItem.establishment_id, Establishment),
    }


def written() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Response, Answer, SectionProgress, StatusEvent, ActionItem)
    }


def a_role_without_the_grant() -> None:
    """Make this transaction's role one that may use every table but not turn the key checks off."""
    name = f"surveyapp_plain_{uuid.uuid4().hex[:12]}"
    db.session.execute(text(f"CREATE ROLE {name} NOLOGIN"))
    db.session.execute(text(f"GRANT USAGE ON SCHEMA public TO {name}"))
    db.session.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {name}"))
    db.session.execute(text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {name}"))
    db.session.execute(text(f"SET LOCAL ROLE {name}"))


@pytest.mark.parametrize("role", ["the tables' owner", "a role without the grant"])
def test_every_row_the_import_writes_refers_to_rows_that_exist(returns_file, role):
    cycle, lead, path = returns_file
    if role == "a role without the grant" and is_postgresql():
        a_role_without_the_grant()  # undone by the rollback below, with the role itself
    plan = plan_responses(cycle, path)
    apply_responses(plan, actor=lead, filename=path.name)

    assert written() == {
        "responses": 4,
        "answers": 6 + 6 + 1 + 6,
        "section_progress": 2 + 2 + 1 + 2,
        "status_events": 4,
        # Three Prevent gaps in every complete return; 100002 also has no current policy; 100003 has not
        # submitted, so its gaps are its trust's.
        "action_items": 3 + 4 + 3,
    }
    planned = db.session.execute(
        select(Establishment.urn, func.count()).join(ActionItem.establishment).group_by(Establishment.urn)
    ).all()
    assert sorted(planned) == [("100001", 3), ("100002", 4), ("100003", 3)]
    assert set(missing_references().values()) == {0}
    if is_postgresql():
        assert replication_role() == "origin"
    # The checks are on again for the rest of the transaction: a row for a response that does not exist fails.
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(Answer.__table__.insert().values(response_id=999_999, question_key="x", value="y"))
    db.session.rollback()


def test_the_checks_are_skipped_only_where_the_database_allows_it_and_no_trigger_is_skipped(app):
    if not is_postgresql():
        # SQLite checks each key as the row is written, as ever.
        with references_held([Answer.__table__]) as skipped:
            assert skipped is False
        return
    with references_held([Answer.__table__, SectionProgress.__table__]) as skipped:
        assert skipped is True and replication_role() == "replica"
    assert replication_role() == "origin"

    # The tracker's figures follow the responses table by triggers: replica mode would skip them.
    with references_held([Answer.__table__, Response.__table__]) as skipped:
        assert skipped is False and replication_role() == "origin"

    # An error inside the block ends the mode too, even where the transaction goes on.
    with pytest.raises(LookupError), references_held([Answer.__table__]):
        raise LookupError("a mistake in the block")
    assert replication_role() == "origin"

    a_role_without_the_grant()
    with references_held([Answer.__table__]) as skipped:
        assert skipped is False and replication_role() == "origin"
    db.session.rollback()
