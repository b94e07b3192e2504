"""Read a cycle for the exports in a few SQL queries, streaming the answers (no Flask).

Every function takes a SQLAlchemy session (the app's, or a plain one in the benchmarks).
An establishment's effective answers are those of its own returned (submitted or accepted)
response, with unanswered questions filled from the returned response of a trust that covers it.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from sqlalchemy import case, func, literal, select, union_all

from surveyapp.audits.models import Answer, Assignment, Cycle, QuestionType, Response, ResponseStatus, TrustCoverage
from surveyapp.audits.questions import FIXED_CHOICES, display, is_gap
from surveyapp.establishments.models import ContactRole, Establishment, EstablishmentContact, Trust
from surveyapp.auth.models import User

RETURNED = (ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED)
CLASSES = ("met", "partly", "not_met", "cannot_confirm", "unanswered")
CLASS_LABELS = {"met": "Met", "partly": "Partly met", "not_met": "Not met", "cannot_confirm": "Cannot confirm",
                "unanswered": "Unanswered"}


@dataclass
class QuestionInfo:
    """One question and the cheap lookups the exports need for each of its answers."""

    key: str
    text: str
    section: str
    type: QuestionType
    gap: dict | None
    tags: list[str]
    options: list
    reference: date
    _display: dict = field(default_factory=dict)

    def display(self, value: str) -> str:
        shown = self._display.get(value)
        if shown is None:
            shown = self._display[value] = display(self.type, value, self.options)
        return shown

    def classify(self, value: str) -> str:
        """met, partly, not_met, cannot_confirm or unanswered (a question without a gap rule is met when answered)."""
        if not value:
            return "unanswered"
        return _classify(self.type, _freeze(self.gap), value, self.reference)


def _freeze(gap):
    if not gap:
        return None
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(gap.items()))


@lru_cache(maxsize=65536)
def _classify(question_type, gap, value, reference) -> str:
    rule = {k: list(v) if isinstance(v, tuple) else v for k, v in gap} if gap else None
    if question_type is QuestionType.YES_NO_UNSURE and value == "unsure":
        return "cannot_confirm"
    if value == "partly" and question_type is QuestionType.YES_NO_PARTLY:
        return "partly" if rule and is_gap(question_type, rule, value, reference) else "met"
    return "not_met" if is_gap(question_type, rule, value, reference) else "met"


def questions_of(cycle: Cycle) -> list[QuestionInfo]:
    return [
        QuestionInfo(q.key, q.text, q.section.title, q.type, q.gap, list(q.tags or []), list(q.options or []), cycle.opens_on)
        for section in cycle.template.sections for q in section.questions
    ]


@dataclass
class EstablishmentRow:
    id: int
    urn: str
    name: str
    phase: str
    type_name: str
    district: str
    trust: str
    status: str  # own response status
    covered_by: str  # name of the trust whose returned response covers it, or ''

    @property
    def returned_own(self) -> bool:
        return self.status in ("submitted", "accepted")

    @property
    def complete(self) -> bool:
        return self.returned_own or bool(self.covered_by)

    @property
    def completion(self) -> str:
        if self.returned_own:
            return "Own return " + self.status
        if self.covered_by:
            return "Covered by trust"
        return "Not submitted"


def covered_by_trust(session, cycle: Cycle) -> dict[int, str]:
    """establishment id -> name of the trust whose returned response covers it."""
    return dict(session.execute(
        select(TrustCoverage.establishment_id, Trust.name)
        .join(Response, Response.id == TrustCoverage.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .join(Trust, Trust.id == Assignment.trust_id)
        .where(Assignment.cycle_id == cycle.id, Response.status.in_(RETURNED))
    ).all())


def establishments_of(session, cycle: Cycle) -> list[EstablishmentRow]:
    """Every establishment in the cycle, by name (one query; small even at national scale)."""
    covered = covered_by_trust(session, cycle)
    rows = session.execute(
        select(Establishment.id, Establishment.urn, Establishment.name, Establishment.phase, Establishment.type_name,
               Establishment.district, func.coalesce(Trust.name, ""), Response.status)
        .join(Assignment, Assignment.establishment_id == Establishment.id)
        .join(Response, Response.assignment_id == Assignment.id)
        .outerjoin(Trust, Trust.id == Establishment.trust_id)
        .where(Assignment.cycle_id == cycle.id)
        .order_by(Establishment.name, Establishment.id)
    )
    return [EstablishmentRow(i, u, n, p, t, d, tr, getattr(s, "value", s), covered.get(i, "")) for i, u, n, p, t, d, tr, s in rows]


def _answer_stream(session, cycle: Cycle, establishment_ids: list[int] | None = None):
    """(establishment id, question key, value, follow-up, from_trust) ordered like establishments_of, streamed."""
    own = (
        select(Assignment.establishment_id.label("eid"), Answer.question_key.label("qk"), Answer.value.label("v"),
               Answer.follow_up.label("fu"), literal(0).label("ft"))
        .join(Response, Response.assignment_id == Assignment.id)
        .join(Answer, Answer.response_id == Response.id)
        .where(Assignment.cycle_id == cycle.id, Assignment.establishment_id.is_not(None),
               Response.status.in_(RETURNED), Answer.value != "")
    )
    trust = (
        select(TrustCoverage.establishment_id.label("eid"), Answer.question_key.label("qk"), Answer.value.label("v"),
               Answer.follow_up.label("fu"), literal(1).label("ft"))
        .join(Response, Response.id == TrustCoverage.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .join(Answer, Answer.response_id == Response.id)
        .where(Assignment.cycle_id == cycle.id, Response.status.in_(RETURNED), Answer.value != "")
    )
    if establishment_ids is not None:
        own = own.where(Assignment.establishment_id.in_(establishment_ids))
        trust = trust.where(TrustCoverage.establishment_id.in_(establishment_ids))
    both = union_all(own, trust).subquery()
    statement = (
        select(both.c.eid, both.c.qk, both.c.v, both.c.fu, both.c.ft)
        .join(Establishment, Establishment.id == both.c.eid)
        .order_by(Establishment.name, Establishment.id)
    )
    # A server-side cursor on PostgreSQL: rows arrive in batches, never all at once.
    return session.execute(statement.execution_options(yield_per=5000))


@dataclass
class EffectiveRow:
    establishment: EstablishmentRow
    #: question key -> (value, follow-up, from_trust); own answers win over the trust's
    answers: dict[str, tuple[str, dict | None, bool]]


def effective_rows(session, cycle: Cycle, establishments: list[EstablishmentRow] | None = None) -> Iterator[EffectiveRow]:
    """One row per establishment in name order, merging the streamed answers as they come."""
    establishments = establishments if establishments is not None else establishments_of(session, cycle)
    stream = iter(_answer_stream(session, cycle))
    pending = next(stream, None)
    for establishment in establishments:
        answers: dict[str, tuple[str, dict | None, bool]] = {}
        while pending is not None and pending[0] == establishment.id:
            _eid, key, value, follow_up, from_trust = pending
            if not from_trust or key not in answers:
                answers[key] = (value, follow_up, bool(from_trust))
            pending = next(stream, None)
        yield EffectiveRow(establishment, answers)


# --- the smaller sheets: aggregates in SQL ---------------------------------------------------

DIMENSIONS = (("Phase", Establishment.phase), ("Type", Establishment.type_name), ("District", Establishment.district),
              ("Trust", func.coalesce(Trust.name, "(no trust)")))


def completion_by_group(session, cycle: Cycle) -> list[tuple[str, str, int, int, int]]:
    """(dimension, group, in scope, own return, covered by trust only) by phase, type, district and trust."""
    covered_ids = (
        select(TrustCoverage.establishment_id)
        .join(Response, Response.id == TrustCoverage.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id, Response.status.in_(RETURNED))
    )
    own = case((Response.status.in_(RETURNED), 1), else_=0)
    covered = case((Response.status.in_(RETURNED), 0), (Establishment.id.in_(covered_ids), 1), else_=0)
    result = []
    for label, column in DIMENSIONS:
        group = func.coalesce(func.nullif(column, ""), "(not recorded)") if label != "Trust" else column
        rows = session.execute(
            select(group, func.count(), func.sum(own), func.sum(covered))
            .select_from(Establishment)
            .join(Assignment, Assignment.establishment_id == Establishment.id)
            .join(Response, Response.assignment_id == Assignment.id)
            .outerjoin(Trust, Trust.id == Establishment.trust_id)
            .where(Assignment.cycle_id == cycle.id)
            .group_by(group)
            .order_by(group)
        )
        result.extend((label, name, total, int(own_n or 0), int(covered_n or 0)) for name, total, own_n, covered_n in rows)
    return result


def dsl_contacts(session, establishment_ids: list[int]) -> dict[int, list[tuple[str, str, str]]]:
    """establishment id -> [(name, email, role label)], DSLs before deputies."""
    contacts: dict[int, list[tuple[str, str, str]]] = {}
    for start in range(0, len(establishment_ids), 1000):
        rows = session.execute(
            select(EstablishmentContact.establishment_id, User.name, User.email, EstablishmentContact.role)
            .join(User, User.id == EstablishmentContact.user_id)
            .where(EstablishmentContact.establishment_id.in_(establishment_ids[start:start + 1000]))
            .order_by(EstablishmentContact.establishment_id, EstablishmentContact.role, User.email)
        )
        for establishment_id, name, email, role in rows:
            contacts.setdefault(establishment_id, []).append((name or email, email, ContactRole(role).label))
    return contacts


def reminder_history(session, cycle: Cycle) -> dict[int, tuple[int, object]] | None:
    """establishment id -> (reminders sent, last sent at), or None when reminders are not part of this build."""
    try:
        from surveyapp.chasing.models import Reminder
    except ImportError:  # pragma: no cover - depends on the chasing area being installed
        return None
    sent = Reminder.status == "sent"
    return {
        establishment_id: (count, last)
        for establishment_id, count, last in session.execute(
            select(Reminder.establishment_id, func.count(), func.max(Reminder.sent_at))
            .where(Reminder.cycle_id == cycle.id, sent)
            .group_by(Reminder.establishment_id)
        )
    }


def action_rows(session, cycle: Cycle):
    """(ActionItem, urn, name) for every action in the cycle, by establishment then question."""
    from surveyapp.actions.models import ActionItem

    return session.execute(
        select(ActionItem, Establishment.urn, Establishment.name)
        .join(Establishment, Establishment.id == ActionItem.establishment_id)
        .where(ActionItem.cycle_id == cycle.id)
        .order_by(Establishment.name, Establishment.id, ActionItem.id)
    )
