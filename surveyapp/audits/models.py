"""Templates (versioned question sets), cycles, assignments, responses and answers."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, or_, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.audits.answer_types import TYPES
from surveyapp.extensions import Model, db, str_enum
from surveyapp.timeutil import utcnow


class AuditTemplate(Model):
    """One version of a question set. Frozen once it is published or a cycle uses it."""

    __tablename__ = "audit_templates"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    #: the validated source, kept verbatim so a version can be compared and re-exported
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    #: published in the editor, so never replaced in place (``templates load`` stores changes as a new version);
    #: a version loaded from a file stays a replaceable draft until a cycle uses it. Versions stored before
    #: this column existed count as published (the server default), as nobody can tell which were.
    published: Mapped[bool] = mapped_column(default=False, server_default=true())

    sections: Mapped[list[TemplateSection]] = relationship(
        back_populates="template", order_by="TemplateSection.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[TemplateQuestion]] = relationship(
        back_populates="template",
        order_by="TemplateQuestion.position",
        cascade="all, delete-orphan",
        overlaps="section,questions",
    )
    cycles: Mapped[list[Cycle]] = relationship(back_populates="template")

    @property
    def is_frozen(self) -> bool:
        return bool(self.cycles)

    def __repr__(self) -> str:
        return f"<AuditTemplate {self.key} v{self.version}>"


class TemplateSection(Model):
    __tablename__ = "template_sections"
    __table_args__ = (UniqueConstraint("template_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("audit_templates.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int]

    template: Mapped[AuditTemplate] = relationship(back_populates="sections")
    questions: Mapped[list[TemplateQuestion]] = relationship(
        back_populates="section", order_by="TemplateQuestion.position", overlaps="questions,template"
    )


#: one member per answer type in ``surveyapp.audits.answer_types`` (YES_NO = "yes_no", ...): a new type
#: there is a new member here, with no migration (the column is a VARCHAR)
# mypy cannot list the members of an enum made from a registry; tests/audits/test_answer_types.py pins them.
QuestionType = enum.StrEnum("QuestionType", [(name.upper(), name) for name in TYPES])  # type: ignore[misc]


class TemplateQuestion(Model):
    __tablename__ = "template_questions"
    __table_args__ = (UniqueConstraint("template_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("audit_templates.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("template_sections.id", ondelete="CASCADE"), index=True)
    #: stable across versions and years: answers and year-on-year comparison use it
    key: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    help: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[QuestionType] = mapped_column(str_enum(QuestionType))
    required: Mapped[bool] = mapped_column(default=True)
    #: [{"value": ..., "label": ...}] for choice questions
    options: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: {"when": [...]} | {"older_than_months": N} | {"below": N} | None
    gap: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: {"prompt": ...}: asked (action, owner, target date) only when the answer is a gap
    follow_up: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: "Not applicable" is an allowed answer (stored as "not_applicable"); it is never met nor a gap
    not_applicable: Mapped[bool] = mapped_column(default=False)
    #: {"question": key of an earlier question, "in": [answer values]}: asked only when that answer is one of these
    condition: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: [{"title": ..., "url": "https://..."}]: the guidance the question rests on, shown beside it
    guidance: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    position: Mapped[int]

    template: Mapped[AuditTemplate] = relationship(back_populates="questions", overlaps="questions,section")
    section: Mapped[TemplateSection] = relationship(back_populates="questions", overlaps="questions,template")


class TemplateDraft(Model):
    """The next version of a template while the lead edits it; published, it becomes an AuditTemplate.

    One draft per template key. Drafts never reach cycles, the analysis or the exports:
    those only see published versions.
    """

    __tablename__ = "template_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    #: the definition being edited, in the shape `templates load` reads; it may be invalid until published
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: incremented on every change; a change made from an older page is refused
    lock_version: Mapped[int] = mapped_column(default=1)
    #: the version this draft was started from (None: from scratch or an upload)
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("audit_templates.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    based_on: Mapped[AuditTemplate | None] = relationship()
    updated_by = relationship("User", foreign_keys=[updated_by_id])


class CycleState(enum.StrEnum):
    """Where a cycle stands: draft (being set up, not visible to schools) -> open -> closed -> archived.

    Only an open cycle takes answers, submissions, trust cover and action-plan changes from respondents.
    """

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return {"draft": "Draft", "open": "Open", "closed": "Closed", "archived": "Archived"}[self.value]


#: The cycle lifecycle: which states each state may move to (reopening needs a reason).
CYCLE_MOVES = {
    CycleState.DRAFT: {CycleState.OPEN},
    CycleState.OPEN: {CycleState.CLOSED},
    CycleState.CLOSED: {CycleState.OPEN, CycleState.ARCHIVED},
    CycleState.ARCHIVED: {CycleState.OPEN},
}


class IllegalCycleChange(Exception):
    """A cycle was asked to move to a state its lifecycle does not allow."""


class Cycle(Model):
    """One yearly issue of an audit to the establishments in scope."""

    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    template_id: Mapped[int] = mapped_column(ForeignKey("audit_templates.id"), index=True)
    opens_on: Mapped[date]
    due_on: Mapped[date]
    state: Mapped[CycleState] = mapped_column(str_enum(CycleState), default=CycleState.OPEN)
    #: when the lead last closed it (None while it has never closed, or since it was reopened)
    closed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    #: the filters that chose the establishments: {"types": [...], "phases": [...]}
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    template: Mapped[AuditTemplate] = relationship(back_populates="cycles")
    assignments: Mapped[list[Assignment]] = relationship(back_populates="cycle", cascade="all, delete-orphan")

    @property
    def reference_day(self) -> date:
        """The day the cycle's counts are taken on: today while it runs, the day it closed once closed."""
        from surveyapp.timeutil import today

        if self.state in (CycleState.CLOSED, CycleState.ARCHIVED) and self.closed_at is not None:
            return self.closed_at.date()
        return today()

    @property
    def takes_answers(self) -> bool:
        """Only an open cycle accepts saves, submissions, trust cover and action-plan changes."""
        return self.state is CycleState.OPEN

    @property
    def visible_to_respondents(self) -> bool:
        return self.state is not CycleState.DRAFT

    def check_move(self, new_state: CycleState) -> None:
        if new_state not in CYCLE_MOVES[self.state]:
            raise IllegalCycleChange(
                f"A cycle that is {self.state.label.lower()} cannot become {new_state.label.lower()}."
            )

    def __repr__(self) -> str:
        return f"<Cycle {self.slug}>"


class Assignment(Model):
    """An establishment's or a trust's place in a cycle."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("cycle_id", "establishment_id"),
        UniqueConstraint("cycle_id", "trust_id"),
        CheckConstraint("(establishment_id IS NULL) <> (trust_id IS NULL)", name="one_respondent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: no index of its own: the unique (cycle_id, establishment_id) index serves it
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishments.id"), index=True)
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    #: an agreed extension for this respondent alone; None means the cycle's due date
    due_on: Mapped[date | None]
    #: the establishment closed: its work is kept, but it leaves the cycle's counts from this day
    left_on: Mapped[date | None]

    cycle: Mapped[Cycle] = relationship(back_populates="assignments")
    establishment = relationship("Establishment")
    trust = relationship("Trust")
    response: Mapped[Response] = relationship(back_populates="assignment", uselist=False, cascade="all, delete-orphan")

    @classmethod
    def counted_in(cls, cycle: Cycle):
        """SQL: the assignment is in the cycle's denominator (its establishment had not closed by the day
        the cycle's counts are taken on)."""
        return or_(cls.left_on.is_(None), cls.left_on > cycle.reference_day)

    @property
    def effective_due_on(self) -> date:
        """The due date for this respondent: its agreed extension, or the cycle's."""
        return self.due_on or self.cycle.due_on

    @property
    def respondent_name(self) -> str:
        return self.establishment.name if self.establishment_id else self.trust.name


class ResponseStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return {
            "not_started": "Not started",
            "in_progress": "In progress",
            "submitted": "Submitted",
            "returned": "Returned for amendment",
            "accepted": "Accepted",
        }[self.value]

    @property
    def is_editable(self) -> bool:
        return self in EDITABLE_STATUSES

    @property
    def is_returned_to_la(self) -> bool:
        """Submitted or accepted: the LA holds this return."""
        return self in (ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED)


EDITABLE_STATUSES = (ResponseStatus.NOT_STARTED, ResponseStatus.IN_PROGRESS, ResponseStatus.RETURNED)

#: The lifecycle: which statuses each status may move to.
ALLOWED_MOVES = {
    ResponseStatus.NOT_STARTED: {ResponseStatus.IN_PROGRESS, ResponseStatus.SUBMITTED},
    ResponseStatus.IN_PROGRESS: {ResponseStatus.SUBMITTED},
    ResponseStatus.SUBMITTED: {ResponseStatus.RETURNED, ResponseStatus.ACCEPTED},
    ResponseStatus.RETURNED: {ResponseStatus.SUBMITTED},
    ResponseStatus.ACCEPTED: {ResponseStatus.RETURNED},
}


class IllegalStatusChange(Exception):
    """A response was asked to move to a status its lifecycle does not allow."""


class Response(Model):
    """What one establishment (or one trust) answered in one cycle."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), unique=True)
    status: Mapped[ResponseStatus] = mapped_column(
        str_enum(ResponseStatus), default=ResponseStatus.NOT_STARTED, index=True
    )
    #: shown on the confirmation page and in emails, e.g. "S175-2026-27-100001"
    reference: Mapped[str | None] = mapped_column(String(60), unique=True)
    started_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    headteacher_name: Mapped[str] = mapped_column(String(200), default="")
    chair_name: Mapped[str] = mapped_column(String(200), default="")
    declaration_date: Mapped[date | None]
    #: the lead's note when returning a response for amendment
    return_comment: Mapped[str] = mapped_column(Text, default="")
    #: imported from an earlier year's spreadsheet rather than typed here
    imported: Mapped[bool] = mapped_column(default=False)
    #: how many of its sections are completed, kept with them (``services.recount_sections``): the tracker sorts
    #: tens of thousands of responses by it, which counting section progress on every page cannot do fast
    sections_completed: Mapped[int] = mapped_column(default=0, server_default="0")

    assignment: Mapped[Assignment] = relationship(back_populates="response")
    answers: Mapped[list[Answer]] = relationship(back_populates="response", cascade="all, delete-orphan")
    sections: Mapped[list[SectionProgress]] = relationship(back_populates="response", cascade="all, delete-orphan")
    coverage: Mapped[list[TrustCoverage]] = relationship(back_populates="response", cascade="all, delete-orphan")
    events: Mapped[list[StatusEvent]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="StatusEvent.id"
    )

    def check_move(self, new_status: ResponseStatus) -> None:
        """Refuse a status change the lifecycle does not allow."""
        if new_status not in ALLOWED_MOVES[self.status]:
            raise IllegalStatusChange(
                f"A response that is {self.status.label.lower()} cannot become {new_status.label.lower()}."
            )


class SectionState(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class SectionProgress(Model):
    """Where a response stands in one section; its version guards against lost updates."""

    __tablename__ = "section_progress"
    __table_args__ = (UniqueConstraint("response_id", "section_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: no index of its own: the unique (response_id, section_key) index serves it
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    section_key: Mapped[str] = mapped_column(String(80))
    state: Mapped[SectionState] = mapped_column(str_enum(SectionState))
    #: incremented on every save; a save carrying an older version is refused
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    response: Mapped[Response] = relationship(back_populates="sections")
    updated_by = relationship("User")


class Answer(Model):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: no index of its own: the unique (response_id, question_key) index serves it, one fewer to fill per answer
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(80), index=True)
    #: canonical text: yes/no/partly/unsure, ISO date, number, option value or free text
    value: Mapped[str] = mapped_column(Text, default="")
    #: the planned action when the answer is a gap: {"action", "owner", "target_date"}
    follow_up: Mapped[dict[str, str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    response: Mapped[Response] = relationship(back_populates="answers")


class TrustCoverage(Model):
    """An academy that its trust's response answers for."""

    __tablename__ = "trust_coverage"
    __table_args__ = (UniqueConstraint("response_id", "establishment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)

    response: Mapped[Response] = relationship(back_populates="coverage")
    establishment = relationship("Establishment")


class StatusEvent(Model):
    """Every change of a response's status, with who made it and when."""

    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[ResponseStatus] = mapped_column(str_enum(ResponseStatus))
    to_status: Mapped[ResponseStatus] = mapped_column(str_enum(ResponseStatus))
    at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    comment: Mapped[str] = mapped_column(Text, default="")

    response: Mapped[Response] = relationship(back_populates="events")
    by_user = relationship("User")


class KeptInput(Model):
    """What a user typed on a page they posted after their sign-in had ended.

    Kept (for a day) so that after signing in again they get it back instead of
    losing it. Only the hash of the token in their link is stored.
    """

    __tablename__ = "kept_inputs"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the page it was posted to; it is given back only there
    path: Mapped[str] = mapped_column(String(300))
    form: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    #: the person whose sign-in had ended; nobody else gets it back
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: sha256 of the random key in that browser's session cookie; no other browser gets it back
    browser_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True))
