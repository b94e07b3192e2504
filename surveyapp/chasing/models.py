"""Reminders sent to establishments that have not returned their audit, and each cycle's schedule."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
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
