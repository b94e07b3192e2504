"""Activity records: who did what, when (UTC), to which establishment. Never updated or deleted."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.extensions import db
from surveyapp.timeutil import utcnow


class ActivityRecord(db.Model):
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
