"""A job: one piece of long work (sending reminders, writing an export, importing a file) and what became of it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import Model, db, str_enum
from surveyapp.timeutil import utcnow


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {
            "queued": "Waiting to start",
            "running": "In progress",
            "done": "Finished",
            "failed": "Could not finish",
        }[self.value]


class JobKind(enum.StrEnum):
    REMINDERS = "reminders"
    WORKBOOK = "workbook"
    COMMITTEE_REPORT = "committee_report"
    ACTIVITY_EXPORT = "activity_export"
    REGISTER_IMPORT = "register_import"
    CONTACTS_IMPORT = "contacts_import"

    @property
    def label(self) -> str:
        return {
            "reminders": "Sending reminders",
            "workbook": "Board workbook",
            "committee_report": "Committee report",
            "activity_export": "Activity log download",
            "register_import": "Establishments import",
            "contacts_import": "Contacts import",
        }[self.value]

    @property
    def makes_file(self) -> bool:
        """Whether its result is a file to download (rather than what it did, in words)."""
        return self in (JobKind.WORKBOOK, JobKind.COMMITTEE_REPORT, JobKind.ACTIVITY_EXPORT)

    @property
    def is_import(self) -> bool:
        """An import into the register (establishments or contacts), started from its preview."""
        return self in (JobKind.REGISTER_IMPORT, JobKind.CONTACTS_IMPORT)


class Job(Model):
    """Long work started by someone, run by a worker (or in the request when no queue is set up)."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(str_enum(JobKind))
    #: who started it: they (and the lead) may see it; None for a deleted account
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    #: what the work needs to run again from scratch (a reminder batch, an export's format and filters)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    #: one job per key: a double click or a replayed form finds the job already started
    key: Mapped[str | None] = mapped_column(String(128), unique=True)
    state: Mapped[JobState] = mapped_column(str_enum(JobState), default=JobState.QUEUED, index=True)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    #: what it is doing now, in words: "Sending 1,240 of 3,100"
    message: Mapped[str] = mapped_column(String(255), default="")
    #: how many times a worker has started it (a re-run after a lost worker counts again)
    runs: Mapped[int] = mapped_column(default=0)
    #: what it did, in words, when done: "3 reminders sent. 1 establishment skipped."
    summary: Mapped[str] = mapped_column(Text, default="")
    #: a generated file, kept in the database (like kept uploads) so any app host can serve it
    file_name: Mapped[str] = mapped_column(String(255), default="")
    file_type: Mapped[str] = mapped_column(String(100), default="")
    #: the file itself, kept in pieces (surveyapp/stored_files.py); None once forgotten
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    error: Mapped[str] = mapped_column(Text, default="")
    #: failed because the work was refused (the cycle is gone, the register changed): running it again
    #: would only refuse again, so it is not offered
    refused: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    #: last sign of life from the worker (progress), to tell a stalled job from a slow one
    updated_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))

    started_by = relationship("User")
    cycle = relationship("Cycle")
    #: the running worker's last beat (PostgreSQL); None until a run with a heartbeat starts
    heartbeat: Mapped[JobHeartbeat | None] = relationship(uselist=False, viewonly=True)

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def has_file(self) -> bool:
        return self.state is JobState.DONE and bool(self.file_name) and self.file_id is not None


class JobHeartbeat(Model):
    """The last sign of life of a job's run, written every few seconds whatever the work is doing.

    Written by a thread of the run on a database connection of its own, so it carries on through work
    that reports nothing for minutes (one long query, an import's single transaction) and stops only
    when the run's process does. A row of its own, not a column of the job: the work's transaction may
    hold the job's row until it commits, and a beat must never wait for it. PostgreSQL only (SQLite
    lets one transaction write at a time).
    """

    __tablename__ = "job_heartbeats"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    #: which run of the job beats (``Job.runs`` when it was claimed): a beat of an earlier run says nothing
    run: Mapped[int]
    beat_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True))
