"""Reminders sent to establishments that have not returned their audit, and each cycle's schedule."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DDL, JSON, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import Model, db, str_enum
from surveyapp.timeutil import utcnow


class ReminderKind(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return {"not_started": "Not started", "in_progress": "In progress", "returned": "Returned for amendment"}[
            self.value
        ]


class ReminderStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class Reminder(Model):
    """One reminder email to one person about one establishment's (or one trust's) audit: the chase log."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_cycle_establishment", "cycle_id", "establishment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    #: the establishment chased, or None when the trust's own response is chased
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishments.id"), index=True)
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    recipient_email: Mapped[str] = mapped_column(String(254))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: which wording was used: the establishment's status when it was chased
    kind: Mapped[ReminderKind] = mapped_column(str_enum(ReminderKind))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    #: None when the cycle's schedule sent it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    status: Mapped[ReminderStatus] = mapped_column(str_enum(ReminderStatus), default=ReminderStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    #: one per batch (or per scheduled day), establishment and address: a replay or a retry never sends twice
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)

    establishment = relationship("Establishment")
    trust = relationship("Trust")
    created_by = relationship("User", foreign_keys=[created_by_id])

    @property
    def sender_label(self) -> str:
        return self.created_by.display_name if self.created_by else "The reminder schedule"


class ReminderSchedule(Model):
    """When `surveyapp reminders run-due` chases a cycle's non-responders."""

    __tablename__ = "reminder_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), unique=True)
    #: days before the due date on which to send, e.g. [14, 7, 2]
    days_before_due: Mapped[list[int]] = mapped_column(JSON, default=list)
    #: then every 7 days after the due date while returns are missing
    weekly_when_overdue: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)


class FiguresVersion(Model):
    """One row whose token changes whenever anything the tracker's figures count changes.

    The tracker's headline, breakdowns and completions by day are grouped over the whole cycle (tens of
    thousands of establishments nationally), so they are kept per token in each worker
    (``surveyapp.chasing.figures_cache``) and computed again only once the token has moved. The database
    moves it, with triggers on every table the figures read (``FIGURES_INPUTS``): a row added or removed, or
    one of the listed columns changed, by whatever code or SQL. In PostgreSQL the trigger runs at the
    commit, once per transaction, so the token changes in the same instant as the rows and no transaction
    holds the row's lock while it goes on working; in SQLite, with its one writer, it runs at once.
    """

    __tablename__ = "figures_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(36))


#: the tables the tracker's figures are computed from, each with the columns whose change changes a figure
FIGURES_INPUTS = {
    "responses": ("status", "submitted_at", "assignment_id"),
    "assignments": ("cycle_id", "establishment_id", "trust_id", "left_on"),
    "trust_coverage": ("response_id", "establishment_id"),
    "establishments": ("phase", "type_name", "district", "trust_id"),
    "trusts": ("uid", "name"),
}


def _changed(columns: tuple[str, ...], distinct: str) -> str:
    return " OR ".join(f"OLD.{column} {distinct} NEW.{column}" for column in columns)


def figures_triggers(dialect: str) -> list[str]:
    """The SQL that makes the database move the figures' token (the migration keeps a copy of it)."""
    if dialect == "sqlite":
        bump = "BEGIN UPDATE figures_version SET token = lower(hex(randomblob(16))); END"
        statements = []
        for table, columns in FIGURES_INPUTS.items():
            statements += [
                f"CREATE TRIGGER {table}_figures_added AFTER INSERT ON {table} {bump}",
                f"CREATE TRIGGER {table}_figures_removed AFTER DELETE ON {table} {bump}",
                f"CREATE TRIGGER {table}_figures_changed AFTER UPDATE OF {', '.join(columns)} ON {table} "
                f"WHEN {_changed(columns, 'IS NOT')} {bump}",
            ]
        return statements
    if dialect == "postgresql":
        statements = [
            # A transaction-local setting remembers that this transaction has moved the token already.
            "CREATE OR REPLACE FUNCTION figures_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF current_setting('surveyapp.figures_changed', true) IS DISTINCT FROM 'yes' THEN "
            "PERFORM set_config('surveyapp.figures_changed', 'yes', true); "
            "UPDATE figures_version SET token = gen_random_uuid()::text; "
            "END IF; RETURN NULL; END $$"
        ]
        deferred = "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
        for table, columns in FIGURES_INPUTS.items():
            statements += [
                f"CREATE CONSTRAINT TRIGGER {table}_figures_added_or_removed AFTER INSERT OR DELETE ON {table} "
                f"{deferred} EXECUTE FUNCTION figures_changed()",
                f"CREATE CONSTRAINT TRIGGER {table}_figures_changed AFTER UPDATE OF {', '.join(columns)} "
                f"ON {table} {deferred} WHEN ({_changed(columns, 'IS DISTINCT FROM')}) "
                "EXECUTE FUNCTION figures_changed()",
            ]
        return statements
    raise NotImplementedError(f"No figures triggers for {dialect}: add them before running surveyapp on it")


#: the first token: random, so a database built again (a restore, the demo) never repeats one a worker kept
FIRST_FIGURES_VERSION = {
    "sqlite": "INSERT INTO figures_version (id, token) VALUES (1, lower(hex(randomblob(16))))",
    "postgresql": "INSERT INTO figures_version (id, token) VALUES (1, gen_random_uuid()::text)",
}

# create_all (tests, benchmarks): the row, then the triggers once every table they watch exists.
for _dialect, _statement in FIRST_FIGURES_VERSION.items():
    event.listen(FiguresVersion.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))
for _dialect in ("sqlite", "postgresql"):
    for _statement in figures_triggers(_dialect):
        event.listen(Model.metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect))
event.listen(
    Model.metadata, "after_drop", DDL("DROP FUNCTION IF EXISTS figures_changed()").execute_if(dialect="postgresql")
)
