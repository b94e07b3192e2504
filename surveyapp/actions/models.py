"""An establishment's action plan for a cycle: one action per gap."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import Model, db, str_enum
from surveyapp.timeutil import utcnow


class ActionStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BLOCKED = "blocked"
    DONE = "done"

    @property
    def label(self) -> str:
        return {
            "not_started": "Not started",
            "on_track": "On track",
            "at_risk": "At risk",
            "blocked": "Blocked",
            "done": "Done",
        }[self.value]

    @property
    def is_open(self) -> bool:
        return self is not ActionStatus.DONE


def rag(status: ActionStatus | str, target_date: date | None, on: date) -> str:
    """Red, amber or green for a board: blocked or past its date is red, at risk amber, done or on track green.

    Not started is amber once it has a date that has not passed yet (it needs watching), green if it has none.
    """
    status = ActionStatus(status)
    if status is ActionStatus.DONE:
        return "green"
    if status is ActionStatus.BLOCKED or (target_date is not None and target_date < on):
        return "red"
    if status is ActionStatus.AT_RISK:
        return "amber"
    if status is ActionStatus.ON_TRACK:
        return "green"
    return "amber" if target_date is not None else "green"


class ActionItem(Model):
    """One action in an establishment's plan, from one gap in its (effective) answers."""

    __tablename__ = "action_items"
    __table_args__ = (UniqueConstraint("cycle_id", "establishment_id", "question_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: no index of its own: the unique (cycle_id, establishment_id, question_key) index serves it
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    #: the question whose answer is the gap
    question_key: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    target_date: Mapped[date | None] = mapped_column(index=True)
    #: no index: the only filter on it is the overdue list's "not done", which nearly every action is
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus), default=ActionStatus.NOT_STARTED)
    notes: Mapped[str] = mapped_column(Text, default="")
    #: True when the gap (and its follow-up) came from the trust's return covering the academy
    from_trust: Mapped[bool] = mapped_column(default=False)
    #: incremented on every change; an edit made on an older version is refused
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    establishment = relationship("Establishment")
    cycle = relationship("Cycle")
    updated_by = relationship("User")
