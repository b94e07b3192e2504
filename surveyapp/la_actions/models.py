"""The LA's own action plan: actions with milestones, RAG, Prevent objectives and dated progress updates.

Not to be confused with ``surveyapp.actions`` (each establishment's plan for the gaps in its return):
these actions belong to the local authority, to no establishment and to no cycle, and only the lead
changes them. An action may start from an audit finding (a question's gaps in a cycle).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import Model, db, str_enum
from surveyapp.timeutil import utcnow

#: the areas of Islington's plan, in its order; the lead may add others
STANDARD_AREAS = (
    "Strategy",
    "Governance and oversight",
    "Policy and practice",
    "Resources",
    "Resources for parents",
    "Supplementary settings",
    "Training",
    "Premises",
    "IT security",
    "Elected members",
)

#: the national Prevent strategy's three objectives
PREVENT_OBJECTIVES = {
    1: "Respond to the ideological challenge of terrorism and the threat from those who promote it",
    2: "Prevent people from being drawn into terrorism and ensure that they are given appropriate advice and support",
    3: "Work with sectors and institutions where there are risks of radicalisation that need to be addressed",
}


class LaActionStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    ONGOING = "ongoing"
    COMPLETE = "complete"

    @property
    def label(self) -> str:
        return {
            "not_started": "Not started",
            "in_progress": "In progress",
            "ongoing": "Ongoing",
            "complete": "Complete",
        }[self.value]

    @property
    def is_open(self) -> bool:
        return self is not LaActionStatus.COMPLETE


class Rag(enum.StrEnum):
    """The lead's rating of progress to completion (as in the council plans this follows)."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class LaAction(Model):
    """One action in the LA's plan."""

    __tablename__ = "la_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the lead's own reference, e.g. "CS ALL 01"; unique so a report can cite it
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    area: Mapped[str] = mapped_column(String(120), index=True)
    action: Mapped[str] = mapped_column(Text)
    milestones: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    target_date: Mapped[date | None] = mapped_column(index=True)
    lead: Mapped[str] = mapped_column(String(200), default="")
    support: Mapped[str] = mapped_column(String(400), default="")
    outcomes: Mapped[str] = mapped_column(Text, default="")
    rag: Mapped[Rag] = mapped_column(str_enum(Rag), default=Rag.AMBER)
    status: Mapped[LaActionStatus] = mapped_column(
        str_enum(LaActionStatus), default=LaActionStatus.NOT_STARTED, index=True
    )
    objective_1: Mapped[bool] = mapped_column(default=False)
    objective_2: Mapped[bool] = mapped_column(default=False)
    objective_3: Mapped[bool] = mapped_column(default=False)
    #: the audit finding the action started from: this question's gaps in this cycle (both or neither)
    finding_cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"), index=True)
    finding_question_key: Mapped[str | None] = mapped_column(String(80))
    #: incremented on every change; an edit made on an older version is refused
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    finding_cycle = relationship("Cycle")
    created_by = relationship("User", foreign_keys=[created_by_id])
    updated_by = relationship("User", foreign_keys=[updated_by_id])
    updates: Mapped[list[LaActionUpdate]] = relationship(
        back_populates="la_action",
        order_by="(LaActionUpdate.written_on.desc(), LaActionUpdate.id.desc())",
        cascade="all, delete-orphan",
    )

    @property
    def objectives(self) -> list[int]:
        return [n for n in (1, 2, 3) if getattr(self, f"objective_{n}")]

    @property
    def objectives_text(self) -> str:
        """ "1, 2 & 3" as the council plans write it."""
        numbers = [str(n) for n in self.objectives]
        return " & ".join(filter(None, [", ".join(numbers[:-1]), numbers[-1]])) if numbers else ""

    def is_overdue(self, on: date) -> bool:
        return self.status.is_open and self.target_date is not None and self.target_date < on


class LaActionUpdate(Model):
    """A dated progress note on an action ("Oct update: ..."); never edited, so the history stays."""

    __tablename__ = "la_action_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_action_id: Mapped[int] = mapped_column(ForeignKey("la_actions.id", ondelete="CASCADE"), index=True)
    #: the day the progress is reported for (the lead may write it up later)
    written_on: Mapped[date]
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    la_action: Mapped[LaAction] = relationship(back_populates="updates")
    author = relationship("User")
