"""Action plans: generate them from gaps, update them, list what is overdue. Flush, never commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import aliased

from surveyapp.actions.models import ActionItem, ActionStatus
from surveyapp.activity.services import record
from surveyapp.audits.lifecycle import ensure_open
from surveyapp.audits.models import (
    Answer,
    Assignment,
    Cycle,
    Response,
    ResponseStatus,
    TemplateQuestion,
    TrustCoverage,
)
from surveyapp.audits.questions import answer_type, is_gap
from surveyapp.audits.signals import return_submitted, returns_imported
from surveyapp.bulk import bulk_insert, hold_for_reference, references_held
from surveyapp.establishments.models import Establishment
from surveyapp.extensions import db, rows_changed
from surveyapp.paging import Page
from surveyapp.timeutil import today, utcnow

RETURNED = (ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED)

#: establishments whose imported returns are planned at a time
IMPORTED_CHUNK = 2000


class StaleAction(Exception):
    """Someone changed this action after the page was opened; ``current`` is their version."""

    def __init__(self, current: ActionItem):
        super().__init__("stale action")
        self.current = current


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _may_be_gaps(questions: dict[str, TemplateQuestion]):
    """SQL: the answers to these questions that may be gaps (every gap, perhaps more: ``is_gap`` decides),
    so the gaps of a national cycle are found without reading every answer it holds."""
    listed: dict[str, list[str]] = {}
    unlisted: list[str] = []
    for key, question in questions.items():
        values = answer_type(question.type).gap_values(question.gap or {})
        if values is None:
            unlisted.append(key)
        elif values:
            listed[key] = values
    conditions = [and_(Answer.question_key == key, Answer.value.in_(values)) for key, values in listed.items()]
    if unlisted:
        conditions.append(and_(Answer.question_key.in_(unlisted), Answer.value != ""))
    return or_(*conditions) if conditions else None


def gap_answers(cycle: Cycle, establishment_ids: list[int] | None = None):
    """Yield (establishment_id, question, answer value, follow-up, from_trust) for every gap in the cycle.

    An establishment's effective answers are those of its own returned (submitted or accepted) response,
    with unanswered questions filled from its trust's returned response where the trust covers it.
    Two queries for the whole cycle (or these establishments), not one per establishment; they read only
    the answers that may be gaps, and a trust's answer only where the academy gave none of its own.
    """
    questions = {q.key: q for q in cycle.template.questions if q.gap}
    may_be_gap = _may_be_gaps(questions)
    if may_be_gap is None:
        return
    own_answer = aliased(Answer)
    own_response = aliased(Response)
    own_assignment = aliased(Assignment)
    academy_answered = (
        select(own_answer.id)
        .join(own_response, own_response.id == own_answer.response_id)
        .join(own_assignment, own_assignment.id == own_response.assignment_id)
        .where(
            own_assignment.cycle_id == cycle.id,
            own_assignment.establishment_id == TrustCoverage.establishment_id,
            own_response.status.in_(RETURNED),
            own_answer.question_key == Answer.question_key,
            own_answer.value != "",
        )
        .exists()
    )
    own = (
        select(Assignment.establishment_id, Answer.question_key, Answer.value, Answer.follow_up)
        .join(Response, Response.assignment_id == Assignment.id)
        .join(Answer, Answer.response_id == Response.id)
        .where(
            Assignment.cycle_id == cycle.id,
            Assignment.establishment_id.is_not(None),
            Response.status.in_(RETURNED),
            may_be_gap,
        )
    )
    trust = (
        _returned_coverage(cycle, TrustCoverage.establishment_id, Answer.question_key, Answer.value, Answer.follow_up)
        .join(Answer, Answer.response_id == Response.id)
        .where(may_be_gap, ~academy_answered)
    )
    if establishment_ids is not None:
        own = own.where(Assignment.establishment_id.in_(establishment_ids))
        trust = trust.where(TrustCoverage.establishment_id.in_(establishment_ids))
    effective: dict[tuple[int, str], tuple[str, dict | None, bool]] = {}
    for establishment_id, key, value, follow_up in db.session.execute(trust):
        effective[(establishment_id, key)] = (value, follow_up, True)
    for own_id, key, value, follow_up in db.session.execute(own):
        assert own_id is not None  # an establishment's own assignment
        effective[(own_id, key)] = (value, follow_up, False)
    reference = cycle.opens_on
    rules = {key: (question.type, question.gap) for key, question in questions.items()}
    # A cycle's answers repeat the same values (the same few dates, the same percentages) thousands of times.
    gaps: dict[tuple[str, str], bool] = {}
    for (establishment_id, key), (value, follow_up, from_trust) in effective.items():
        gap = gaps.get((key, value))
        if gap is None:
            gap = is_gap(*rules[key], value, reference)
            if len(gaps) < 20000:
                gaps[(key, value)] = gap
        if gap:
            yield establishment_id, questions[key], value, follow_up, from_trust


def _returned_coverage(cycle: Cycle, *columns):
    """SELECT ``columns`` from the cycle's trust coverage whose trust's response has been returned, with that
    response (``Response``) and its trust's place in the cycle (``Assignment``) joined: the establishments a
    trust's return answers for."""
    return (
        select(*columns)
        .select_from(TrustCoverage)
        .join(Response, Response.id == TrustCoverage.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id, Response.status.in_(RETURNED))
    )


def _covered_by_a_trust(cycle: Cycle, establishment_ids: list[int]) -> set[int]:
    """Those of these establishments that a trust's returned response in the cycle answers for."""
    if not establishment_ids:
        return set()
    covered = _returned_coverage(cycle, TrustCoverage.establishment_id)
    return set(db.session.scalars(covered.where(TrustCoverage.establishment_id.in_(establishment_ids))))


def default_action(question: TemplateQuestion) -> str:
    return f"Close the gap: {question.text}"


def generate_for_cycle(
    cycle: Cycle, establishment_ids: list[int] | None = None, own_gaps: Mapping[int, Sequence[str]] | None = None
) -> int:
    """Add the missing action items for every gap in the cycle (or for these establishments).

    Idempotent: an action that exists (whatever the school has since done to it) is left alone.
    The new actions are written in bulk (COPY on PostgreSQL).
    :param own_gaps: for establishments whose own returned response has just been written (the responses
        import), the keys of the questions its answers leave a gap in. Where no trust's returned response
        covers such an establishment, its own answers are all its answers, so these are its gaps and they
        are not read back; the others' gaps are read as ``gap_answers`` finds them.
    :returns: the number of actions added
    """
    existing_query = select(ActionItem.establishment_id, ActionItem.question_key).where(ActionItem.cycle_id == cycle.id)
    if establishment_ids is not None:
        existing_query = existing_query.where(ActionItem.establishment_id.in_(establishment_ids))
    existing = {tuple(row) for row in db.session.execute(existing_query)}
    db.session.flush()
    defaults: dict[str, str] = {}
    rows = []
    if own_gaps and establishment_ids is not None:
        known = {i: own_gaps[i] for i in establishment_ids if i in own_gaps}
        for covered in _covered_by_a_trust(cycle, list(known)):
            del known[covered]
        by_key = {q.key: q for q in cycle.template.questions}
        read_back = [i for i in establishment_ids if i not in known]
        gaps = chain(
            ((i, by_key[key], None, None, False) for i, keys in known.items() for key in keys),
            gap_answers(cycle, read_back) if read_back else (),
        )
    else:
        gaps = gap_answers(cycle, establishment_ids)
    for establishment_id, question, _value, follow_up, from_trust in gaps:
        key = question.key
        if (establishment_id, key) in existing:
            continue
        if key not in defaults:
            defaults[key] = default_action(question)
        plan = follow_up or {}
        rows.append(
            (
                establishment_id,
                key,
                (plan.get("action") or "").strip() or defaults[key],
                (plan.get("owner") or "").strip()[:200],
                _parse_date(plan.get("target_date")),
                from_trust,
            )
        )
    now = utcnow()
    return bulk_insert(
        ActionItem.__table__,
        ["establishment_id", "question_key", "action", "owner", "target_date", "from_trust"],
        rows,
        constants={
            "cycle_id": cycle.id,
            "status": ActionStatus.NOT_STARTED.value,
            "notes": "",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        },
    )


def generate_action_plan(response: Response) -> int:
    """Add the missing actions for the establishment(s) this returned response answers for.

    An establishment's response plans for itself; a trust's plans for the academies it covers.
    :returns: the number of actions added (0 for a response not yet submitted)
    """
    if not response.status.is_returned_to_la:
        return 0
    assignment = response.assignment
    if assignment.establishment_id is not None:
        ids = [assignment.establishment_id]
    else:
        ids = list(
            db.session.scalars(select(TrustCoverage.establishment_id).where(TrustCoverage.response_id == response.id))
        )
    return generate_for_cycle(assignment.cycle, ids) if ids else 0


# --- reading and updating ------------------------------------------------------------------


@dataclass
class PlanRow:
    item: ActionItem
    question: TemplateQuestion | None

    @property
    def question_text(self) -> str:
        return self.question.text if self.question else self.item.question_key


def plan_for(cycle: Cycle, establishment_id: int) -> list[PlanRow]:
    """An establishment's actions in template order."""
    questions = {q.key: q for q in cycle.template.questions}
    items = db.session.scalars(
        select(ActionItem).where(ActionItem.cycle_id == cycle.id, ActionItem.establishment_id == establishment_id)
    ).all()
    order = {q.key: q.position for q in cycle.template.questions}
    items = sorted(items, key=lambda i: (order.get(i.question_key, 10_000), i.id))
    return [PlanRow(item, questions.get(item.question_key)) for item in items]


def update_action(
    item: ActionItem,
    *,
    expected_version: int,
    user,
    action: str,
    owner: str,
    target_date: date | None,
    status: ActionStatus | str,
    notes: str,
) -> ActionItem:
    """Save one action's new values if nobody saved it since ``expected_version``.

    :raises StaleAction: someone else's save came first (their version is kept)
    :raises CycleClosed: the cycle has closed
    """
    ensure_open(item.cycle)
    moved = rows_changed(
        update(ActionItem)
        .where(ActionItem.id == item.id, ActionItem.version == expected_version)
        .values(
            action=action.strip(),
            owner=owner.strip(),
            target_date=target_date,
            status=ActionStatus(status),
            notes=notes.strip(),
            version=ActionItem.version + 1,
            updated_at=utcnow(),
            updated_by_id=user.id,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(item)
    if moved != 1:
        raise StaleAction(item)
    record(
        "action.updated",
        user.id,
        establishment_id=item.establishment_id,
        cycle_id=item.cycle_id,
        action_item=item.id,
        question=item.question_key,
        status=item.status.value,
    )
    db.session.flush()
    return item


#: actions per page of the lead's list: a national cycle has hundreds of thousands
ACTIONS_PER_PAGE = 50


def cycle_actions(
    cycle: Cycle,
    *,
    overdue_only: bool = False,
    page: int = 1,
    on: date | None = None,
    per_page: int = ACTIONS_PER_PAGE,
) -> Page[tuple[ActionItem, Establishment]]:
    """One page of the cycle's actions across every establishment, soonest target date first (those without a
    date last); with ``overdue_only``, only those still open whose target date has passed.

    A page past the end shows the last page.
    """
    on = on or today()
    conditions = [ActionItem.cycle_id == cycle.id]
    if overdue_only:
        conditions += [ActionItem.status != ActionStatus.DONE, ActionItem.target_date < on]
    total = (
        db.session.scalar(
            select(func.count())
            .select_from(ActionItem)
            .join(Establishment, Establishment.id == ActionItem.establishment_id)
            .where(*conditions)
        )
        or 0
    )
    listed: Page[tuple[ActionItem, Establishment]] = Page.clamped(total, page, per_page)
    listed.rows = [
        (item, establishment)
        for item, establishment in db.session.execute(
            select(ActionItem, Establishment)
            .join(Establishment, Establishment.id == ActionItem.establishment_id)
            .where(*conditions)
            .order_by(ActionItem.target_date.asc().nulls_last(), Establishment.name, ActionItem.id)
            .limit(per_page)
            .offset(listed.offset)
        )
    ]
    return listed


# --- following the audits area (connected in create_app) -----------------------------------


@return_submitted.connect
def _plan_submitted_return(_sender, response: Response) -> None:
    generate_action_plan(response)


@returns_imported.connect
def _plan_imported_returns(
    _sender, cycle: Cycle, establishment_ids: list[int], own_gaps: Mapping[int, Sequence[str]] | None = None
) -> None:
    # Hundreds of thousands of actions at national scale: each refers only to the cycle and to an
    # establishment, held first, so their keys need not be checked one row at a time.
    hold_for_reference(Cycle.__table__, [cycle.id])
    with references_held([ActionItem.__table__]):
        # In chunks, so the gaps read to make the plans never hold a whole national file's at once.
        for start in range(0, len(establishment_ids), IMPORTED_CHUNK):
            chunk = establishment_ids[start : start + IMPORTED_CHUNK]
            hold_for_reference(Establishment.__table__, chunk)
            generate_for_cycle(cycle, chunk, own_gaps)
