"""Activity records: who did what, when (UTC), to which establishment. Never updated or deleted.

The database enforces it: triggers refuse every UPDATE and DELETE of activity_log (and, in
PostgreSQL, TRUNCATE), whatever code or SQL session tries. The migration that adds them
(migrations/versions/..._append_only_activity_log.py) holds its own copy of the SQL below;
tests/test_migrations.py checks the two build the same triggers. ``create_all`` (tests,
benchmarks) gets them from the DDL events at the end of this module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.extensions import Model, db
from surveyapp.timeutil import utcnow


class ActivityRecord(Model):
    __tablename__ = "activity_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, index=True)
    #: None for the system (CLI, schedules) or an anonymous visitor
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: dotted verb, e.g. "response.submitted", "establishments.imported", "auth.signed_in"
    action: Mapped[str] = mapped_column(String(60), index=True)
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishments.id"), index=True)
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


#: SQLite: one trigger per refused statement (SQLite has no TRUNCATE; an unqualified DELETE fires them too)
SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER activity_log_no_update BEFORE UPDATE ON activity_log "
    "BEGIN SELECT RAISE(ABORT, 'activity_log is append-only: its rows cannot be updated'); END",
    "CREATE TRIGGER activity_log_no_delete BEFORE DELETE ON activity_log "
    "BEGIN SELECT RAISE(ABORT, 'activity_log is append-only: its rows cannot be deleted'); END",
]
SQLITE_DROP_APPEND_ONLY = [
    "DROP TRIGGER IF EXISTS activity_log_no_update",
    "DROP TRIGGER IF EXISTS activity_log_no_delete",
]

#: PostgreSQL: a statement-level trigger, so even an UPDATE, DELETE or TRUNCATE that matches no row is refused
POSTGRESQL_APPEND_ONLY = [
    "CREATE OR REPLACE FUNCTION activity_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION USING MESSAGE = 'activity_log is append-only: ' || TG_OP || ' refused', "
    "ERRCODE = 'insufficient_privilege'; END $$",
    "CREATE TRIGGER activity_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON activity_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION activity_log_append_only()",
]
POSTGRESQL_DROP_APPEND_ONLY = [
    "DROP TRIGGER IF EXISTS activity_log_append_only ON activity_log",
    "DROP FUNCTION IF EXISTS activity_log_append_only()",
]

for _statement in SQLITE_APPEND_ONLY:
    event.listen(ActivityRecord.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_APPEND_ONLY:
    event.listen(ActivityRecord.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
# The function outlives the table in PostgreSQL; drop it with the table so drop_all leaves nothing behind.
event.listen(
    ActivityRecord.__table__,
    "after_drop",
    DDL("DROP FUNCTION IF EXISTS activity_log_append_only()").execute_if(dialect="postgresql"),
)
