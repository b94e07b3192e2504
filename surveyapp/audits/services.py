"""Cycles, responses and sign-off: plain functions that flush and never commit."""

from __future__ import annotations

from collections.abc import Mapping, Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from surveyapp.activity.services import record
from surveyapp.audits.coverage import COVERED_BY_TRUST, covered_ids, effective_status
from surveyapp.audits.lifecycle import CycleClosed, ensure_open
from surveyapp.audits.models import (
    EDITABLE_STATUSES,
    Answer,
    Assignment,
    AuditTemplate,
    Cycle,
    CycleState,
    IllegalStatusChange,
    Response,
    ResponseStatus,
    SectionProgress,
    SectionState,
    StatusEvent,
    TemplateQuestion,
    TemplateSection,
    TrustCoverage,
)
from surveyapp.audits.questions import display, is_gap, skipped_keys
from surveyapp.audits.signals import return_submitted
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db, rows_changed
from surveyapp.timeutil import today, utcnow


class CycleError(ValueError):
    """A cycle cannot be opened as asked; the message says why."""


class NotEditable(Exception):
    """The response has been submitted (or accepted) and is read-only."""


class StaleSection(Exception):
    """Somebody else saved this section after the page was opened."""

    def __init__(self, progress: SectionProgress | None):
        super().__init__("stale section")
        self.progress = progress


class IncompleteResponse(Exception):
    """Required answers are missing; ``missing`` lists the questions."""

    def __init__(self, missing: list[TemplateQuestion]):
        super().__init__(f"{len(missing)} required answers missing")
        self.missing = missing


# --- cycles -----------------------------------------------------------------------------


def establishments_in_scope(types: list[str] | None = None, phases: list[str] | None = None):
    """Open establishments, optionally limited to these types and phases (matched case-insensitively)."""
    query = select(Establishment).where(Establishment.is_open.is_(True))
    if types:
        query = query.where(func.lower(Establishment.type_name).in_([t.lower() for t in types]))
    if phases:
        query = query.where(func.lower(Establishment.phase).in_([p.lower() for p in phases]))
    return query


def open_cycle(
    *,
    slug: str,
    name: str,
    template: AuditTemplate,
    due_on: date,
    opens_on: date | None = None,
    types: list[str] | None = None,
    phases: list[str] | None = None,
    actor=None,
    draft: bool = False,
) -> Cycle:
    """Create a cycle with one assignment (and empty response) per open establishment in scope,
    and one per trust with academies in scope, covering all of them by default.

    :param draft: keep it as a draft, unseen by schools and not chased, until the lead launches it
    """
    slug = slug.strip()
    if not slug:
        raise CycleError("Enter a short name for the cycle, like 2026-27")
    if db.session.scalar(select(exists().where(Cycle.slug == slug))):
        raise CycleError(f'There is already a cycle called "{slug}"')
    opens_on = opens_on or today()
    if due_on < opens_on:
        raise CycleError("The due date must be on or after the date the cycle opens")
    establishments = db.session.execute(
        establishments_in_scope(types, phases).with_only_columns(Establishment.id, Establishment.trust_id)
    ).all()
    if not establishments:
        raise CycleError("No open establishments match these types and phases")
    cycle = Cycle(
        slug=slug,
        name=name.strip() or slug,
        template=template,
        opens_on=opens_on,
        due_on=due_on,
        scope={"types": types or [], "phases": phases or []},
        created_by_id=getattr(actor, "id", None),
        state=CycleState.DRAFT if draft else CycleState.OPEN,
    )
    db.session.add(cycle)
    db.session.flush()

    # Bulk inserts: a national cycle is tens of thousands of rows.
    establishment_ids = [row.id for row in establishments]
    trust_academies: dict[int, list[int]] = {}
    for row in establishments:
        if row.trust_id is not None:
            trust_academies.setdefault(row.trust_id, []).append(row.id)
    db.session.execute(insert(Assignment), [{"cycle_id": cycle.id, "establishment_id": e} for e in establishment_ids])
    if trust_academies:
        db.session.execute(insert(Assignment), [{"cycle_id": cycle.id, "trust_id": t} for t in trust_academies])
    assignment_ids = db.session.execute(
        select(Assignment.id, Assignment.trust_id).where(Assignment.cycle_id == cycle.id)
    ).all()
    db.session.execute(
        insert(Response), [{"assignment_id": a.id, "status": ResponseStatus.NOT_STARTED} for a in assignment_ids]
    )
    trust_response = dict(
        db.session.execute(
            select(Assignment.trust_id, Response.id)
            .join(Response, Response.assignment_id == Assignment.id)
            .where(Assignment.cycle_id == cycle.id, Assignment.trust_id.is_not(None))
        ).all()
    )
    coverage = [
        {"response_id": trust_response[trust_id], "establishment_id": e}
        for trust_id, academies in trust_academies.items()
        for e in academies
    ]
    if coverage:
        db.session.execute(insert(TrustCoverage), coverage)
    record(
        "cycle.drafted" if draft else "cycle.opened",
        actor.id if actor else None,
        cycle_id=cycle.id,
        slug=slug,
        establishments=len(establishment_ids),
        trusts=len(trust_academies),
    )
    return cycle


def cycle_by_slug(slug: str) -> Cycle | None:
    return db.session.scalar(select(Cycle).where(Cycle.slug == slug))


def load_response(response_id: int) -> Response | None:
    """A response with its template, sections and answers, for the pages that walk all of them."""
    # The page walks the template's sections and questions: load them in a few queries, not one per section.
    return db.session.get(
        Response,
        response_id,
        options=[
            selectinload(Response.assignment).selectinload(Assignment.establishment),
            selectinload(Response.assignment).selectinload(Assignment.trust),
            selectinload(Response.assignment)
            .selectinload(Assignment.cycle)
            .selectinload(Cycle.template)
            .selectinload(AuditTemplate.sections)
            .selectinload(TemplateSection.questions),
            selectinload(Response.sections),
            selectinload(Response.answers),
        ],
    )


# --- what a respondent sees ------------------------------------------------------------


def responses_for_user(user) -> list[Response]:
    """Every response this user completes: their establishments' and their trusts', newest cycle first."""
    from surveyapp.establishments.services import establishment_ids_of, trust_ids_led_by

    establishment_ids = establishment_ids_of(user.id)
    trust_ids = trust_ids_led_by(user.id)
    if not establishment_ids and not trust_ids:
        return []
    trust_academy_ids = select(Establishment.id).where(Establishment.trust_id.in_(trust_ids)) if trust_ids else None
    conditions = [Assignment.establishment_id.in_(establishment_ids), Assignment.trust_id.in_(trust_ids)]
    if trust_academy_ids is not None:
        conditions.append(Assignment.establishment_id.in_(trust_academy_ids))
    from sqlalchemy import or_

    return list(
        db.session.scalars(
            select(Response)
            .join(Response.assignment)
            .join(Assignment.cycle)
            # A draft cycle is still being set up: schools do not see it yet.
            .where(or_(*conditions), Cycle.state != CycleState.DRAFT)
            # Load what the list shows up front rather than once per row.
            .options(
                selectinload(Response.assignment).selectinload(Assignment.establishment),
                selectinload(Response.assignment).selectinload(Assignment.trust),
                selectinload(Response.assignment).selectinload(Assignment.cycle),
                selectinload(Response.sections),
            )
            .order_by(Cycle.due_on.desc(), Assignment.trust_id.is_(None), Assignment.id)
        )
    )


@dataclass
class SectionSummary:
    section: TemplateSection
    state: str  # "not_started" | "in_progress" | "completed" | "trust"
    version: int = 0
    updated_at: datetime | None = None
    updated_by: str = ""

    @property
    def label(self) -> str:
        return {
            "not_started": "Not started",
            "in_progress": "In progress",
            "completed": "Completed",
            "trust": "Answered by trust",
            "trust_pending": "Being answered by the trust",
        }[self.state]


def covered_by_returned_trust(responses: list[Response]) -> set[int]:
    """Of these academies' responses, those whose trust's submitted or accepted return answers for them, in one
    query."""
    pairs = {
        (r.assignment.establishment_id, r.assignment.cycle_id): r.id
        for r in responses
        if r.assignment.establishment_id is not None
    }
    if not pairs:
        return set()
    rows = db.session.execute(
        select(TrustCoverage.establishment_id, Assignment.cycle_id)
        .join(Response, Response.id == TrustCoverage.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(
            TrustCoverage.establishment_id.in_({establishment for establishment, _ in pairs}),
            Response.status.in_([ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED]),
        )
    ).all()
    return {pairs[key] for key in map(tuple, rows) if key in pairs}


def by_cycle(responses: list[Response]) -> list[tuple[Cycle, list[Response]]]:
    """The responses grouped by cycle, keeping their order (newest cycle first)."""
    groups: dict[int, tuple[Cycle, list[Response]]] = {}
    for response in responses:
        cycle = response.assignment.cycle
        groups.setdefault(cycle.id, (cycle, []))[1].append(response)
    return list(groups.values())


def covering_trust_response(response: Response) -> Response | None:
    """The trust response that answers for this academy in the same cycle, if any (submitted or not)."""
    assignment = response.assignment
    if assignment.establishment_id is None:
        return None
    return db.session.scalar(
        select(Response)
        .join(TrustCoverage, TrustCoverage.response_id == Response.id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(
            TrustCoverage.establishment_id == assignment.establishment_id, Assignment.cycle_id == assignment.cycle_id
        )
    )


def section_summaries(response: Response, trust_response: Response | None = None) -> list[SectionSummary]:
    progress = {p.section_key: p for p in response.sections}
    trust_progress = {p.section_key: p for p in trust_response.sections} if trust_response else {}
    summaries = []
    for section in response.assignment.cycle.template.sections:
        row = progress.get(section.key)
        if row is not None:
            summaries.append(
                SectionSummary(
                    section,
                    row.state.value,
                    row.version,
                    row.updated_at,
                    row.updated_by.display_name if row.updated_by else "",
                )
            )
        elif trust_response is not None and section.key in trust_progress and trust_response.status.is_returned_to_la:
            summaries.append(SectionSummary(section, "trust"))
        elif trust_response is not None and not trust_response.status.is_returned_to_la:
            # The trust has not submitted yet: its answers do not count, but the academy should know they are coming.
            summaries.append(SectionSummary(section, "trust_pending"))
        else:
            summaries.append(SectionSummary(section, "not_started"))
    return summaries


def template_questions(template) -> list[TemplateQuestion]:
    """Every question of a template in page order, from its sections (which the pages load up front).

    A condition may rest on another section, so a section page needs the whole template's questions;
    ``template.questions`` is filled from the sections' rather than read again."""
    from sqlalchemy.orm.attributes import set_committed_value

    questions = [question for section in template.sections for question in section.questions]
    if "questions" not in template.__dict__:
        set_committed_value(template, "questions", questions)
    return questions


def answers_by_key(response: Response | None) -> dict[str, Answer]:
    if response is None:
        return {}
    return {answer.question_key: answer for answer in response.answers}


def previous_answers(response: Response) -> dict[str, str]:
    """Last year's answers for this respondent, by question key, from the latest earlier cycle
    in which it returned (submitted or accepted) a response."""
    assignment = response.assignment
    respondent = (
        Assignment.establishment_id == assignment.establishment_id
        if assignment.establishment_id is not None
        else Assignment.trust_id == assignment.trust_id
    )
    earlier = db.session.scalar(
        select(Response)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .join(Cycle, Cycle.id == Assignment.cycle_id)
        .where(
            respondent,
            Cycle.due_on < assignment.cycle.due_on,
            Response.status.in_([ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED]),
        )
        .order_by(Cycle.due_on.desc())
        .limit(1)
    )
    if earlier is None:
        return {}
    return dict(
        db.session.execute(select(Answer.question_key, Answer.value).where(Answer.response_id == earlier.id)).all()
    )


# --- saving a section ------------------------------------------------------------------


@dataclass
class AnswerInput:
    value: str
    follow_up: dict[str, str] | None = None


def section_is_complete(
    questions: list[TemplateQuestion],
    answers: Mapping[str, AnswerInput | Answer],
    reference: date,
    skipped: AbstractSet[str] = frozenset(),
) -> bool:
    """Every required question asked answered, and every gap with a follow-up has its action planned.

    :param skipped: keys of questions not asked because their condition is false
    """
    for question in questions:
        if question.key in skipped:
            continue
        answer = answers.get(question.key)
        value = answer.value if answer else ""
        if question.required and not value:
            return False
        if question.follow_up and is_gap(question.type, question.gap, value, reference):
            plan = (answer.follow_up or {}) if answer else {}
            if not all(plan.get(part) for part in ("action", "owner", "target_date")):
                return False
    return True


def save_section(
    response: Response,
    section: TemplateSection,
    inputs: dict[str, AnswerInput],
    expected_version: int,
    user,
) -> SectionProgress:
    """Save the answers given on one section page, atomically.

    :param inputs: the valid answers posted, by question key ('' clears an answer)
    :param expected_version: the section's version when the page was opened (0 if never saved)
    :raises NotEditable: the response has been submitted
    :raises StaleSection: another save of this section came first
    :raises CycleClosed: the cycle is no longer open
    """
    now = utcnow()
    # The conditional update checks the status and that the cycle is open, and takes the response's
    # row lock, so a submit, a close and a save cannot interleave; why it failed is asked only then.
    started = rows_changed(
        update(Response)
        .where(
            Response.id == response.id,
            Response.status.in_(EDITABLE_STATUSES),
            Response.assignment_id.in_(
                select(Assignment.id)
                .join(Cycle, Cycle.id == Assignment.cycle_id)
                .where(Assignment.id == response.assignment_id, Cycle.state == CycleState.OPEN)
            ),
        )
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if started != 1:
        ensure_open(response.assignment.cycle)
        raise NotEditable()
    progress = db.session.scalar(
        select(SectionProgress).where(
            SectionProgress.response_id == response.id, SectionProgress.section_key == section.key
        )
    )
    if progress is None:
        if expected_version != 0:
            raise StaleSection(None)
        progress = SectionProgress(
            response_id=response.id,
            section_key=section.key,
            state=SectionState.IN_PROGRESS,
            version=1,
            updated_at=now,
            updated_by_id=user.id,
        )
        try:
            with db.session.begin_nested():
                db.session.add(progress)
        except IntegrityError:
            raise StaleSection(_current_progress(response.id, section.key)) from None
    else:
        moved = rows_changed(
            update(SectionProgress)
            .where(SectionProgress.id == progress.id, SectionProgress.version == expected_version)
            .values(version=SectionProgress.version + 1, updated_at=now, updated_by_id=user.id)
            .execution_options(synchronize_session=False)
        )
        if moved != 1:
            db.session.refresh(progress)
            raise StaleSection(progress)
        db.session.refresh(progress)

    existing = {
        a.question_key: a
        for a in db.session.scalars(
            select(Answer).where(Answer.response_id == response.id, Answer.question_key.in_(list(inputs)))
        )
    }
    changes = _answer_changes(section, inputs, existing)
    new_answers = []
    for key, given in inputs.items():
        answer = existing.get(key)
        if answer is None:
            if given.value:
                new_answers.append(
                    {
                        "response_id": response.id,
                        "question_key": key,
                        "value": given.value,
                        "follow_up": given.follow_up,
                        "updated_at": now,
                        "updated_by_id": user.id,
                    }
                )
        elif answer.value != given.value or answer.follow_up != given.follow_up:
            answer.value = given.value
            answer.follow_up = given.follow_up
            answer.updated_at = now
            answer.updated_by_id = user.id
    if new_answers:
        # One statement for a section's new answers, not one per answer.
        db.session.execute(insert(Answer), new_answers)
    db.session.flush()

    # All the response's answers, not only this section's: a condition may rest on an earlier section.
    saved = {a.question_key: a for a in db.session.scalars(select(Answer).where(Answer.response_id == response.id))}
    skipped = skipped_keys(response.assignment.cycle.template.questions, {k: a.value for k, a in saved.items()})
    complete = section_is_complete(section.questions, saved, response.assignment.cycle.opens_on, skipped)
    progress.state = SectionState.COMPLETED if complete else SectionState.IN_PROGRESS
    db.session.flush()
    # One statement recounts the completed sections and reads the status as it is now, under the row
    # lock taken above: two first saves at once must not both move the response to "in progress".
    # Only the status is reloaded; the page's loaded template, sections and answers stay as they are
    # (reloading them costs a query each).
    status, sections_completed = db.session.execute(
        update(Response)
        .where(Response.id == response.id)
        .values(sections_completed=_completed_sections_of(Response.id))
        .returning(Response.status, Response.sections_completed)
        .execution_options(synchronize_session=False)
    ).one()
    set_committed_value(response, "status", status)
    set_committed_value(response, "sections_completed", sections_completed)
    if response.status is ResponseStatus.NOT_STARTED:
        _move(response, ResponseStatus.IN_PROGRESS, user)
        response.started_at = now
    record(
        "answers.saved",
        user.id,
        establishment_id=response.assignment.establishment_id,
        trust_id=response.assignment.trust_id,
        cycle_id=response.assignment.cycle_id,
        response=response.id,
        section=section.key,
        version=progress.version,
        changes=changes,
    )
    db.session.flush()
    return progress


def recount_sections(response_ids: list[int]) -> None:
    """Set each response's count of completed sections from its section progress (flush first).

    Every write of section progress calls it in the same transaction, so the count the tracker sorts by
    never disagrees with the sections themselves.
    """
    completed = _completed_sections_of(Response.id)
    for start in range(0, len(response_ids), 5000):
        db.session.execute(
            update(Response)
            .where(Response.id.in_(response_ids[start : start + 5000]))
            .values(sections_completed=completed)
            .execution_options(synchronize_session=False)
        )


def _completed_sections_of(response_id):
    """The number of a response's sections completed, as a subquery correlated to `response_id`."""
    return (
        select(func.count())
        .where(SectionProgress.response_id == response_id, SectionProgress.state == SectionState.COMPLETED)
        .scalar_subquery()
    )


def _answer_changes(
    section: TemplateSection, inputs: dict[str, AnswerInput], existing: dict[str, Answer]
) -> list[dict]:
    """Each answer (and planned action) this save changes, before and after, as the DSL reads them,
    so the trail answers "who changed this from No to Yes, and when?"."""
    questions = {q.key: q for q in section.questions}
    changes = []
    for key, given in inputs.items():
        question = questions.get(key)
        answer = existing.get(key)
        before = answer.value if answer else ""
        if before != given.value and question is not None:
            changes.append(
                {
                    "question": key,
                    "before": display(question.type, before, question.options),
                    "after": display(question.type, given.value, question.options),
                }
            )
        planned_before, planned_after = _plan_text(answer.follow_up if answer else None), _plan_text(given.follow_up)
        if planned_before != planned_after:
            changes.append(
                {"question": key, "part": "action planned", "before": planned_before, "after": planned_after}
            )
    return changes


def _plan_text(follow_up: dict[str, str] | None) -> str:
    return (
        ", ".join(follow_up.get(part, "") for part in ("action", "owner", "target_date") if follow_up.get(part))
        if follow_up
        else ""
    )


def _current_progress(response_id: int, section_key: str) -> SectionProgress | None:
    return db.session.scalar(
        select(SectionProgress).where(
            SectionProgress.response_id == response_id, SectionProgress.section_key == section_key
        )
    )


# --- check answers, declaration and submission ------------------------------------------


@dataclass
class EffectiveAnswer:
    question: TemplateQuestion
    answer: Answer | None
    from_trust: bool = False
    #: not asked: its condition is false
    skipped: bool = False

    @property
    def value(self) -> str:
        return self.answer.value if self.answer else ""


@dataclass
class SectionAnswers:
    section: TemplateSection
    answers: list[EffectiveAnswer] = field(default_factory=list)


def effective_answers(response: Response, trust_response: Response | None) -> list[SectionAnswers]:
    """The response's own answers, with unanswered questions filled from the covering trust's
    returned response (an academy's own answer always wins)."""
    own = answers_by_key(response)
    trust = (
        answers_by_key(trust_response) if trust_response is not None and trust_response.status.is_returned_to_la else {}
    )
    result = []
    for section in response.assignment.cycle.template.sections:
        group = SectionAnswers(section)
        for question in section.questions:
            answer = own.get(question.key)
            if answer is not None and answer.value:
                group.answers.append(EffectiveAnswer(question, answer))
            elif question.key in trust and trust[question.key].value:
                group.answers.append(EffectiveAnswer(question, trust[question.key], from_trust=True))
            else:
                group.answers.append(EffectiveAnswer(question, None))
        result.append(group)
    items = [item for group in result for item in group.answers]
    skipped = skipped_keys([item.question for item in items], {item.question.key: item.value for item in items})
    for item in items:
        item.skipped = item.question.key in skipped
    return result


def effective_values(response: Response, trust_response: Response | None) -> dict[str, str]:
    """The effective answer to every question, by key ('' where none)."""
    return {
        item.question.key: item.value for group in effective_answers(response, trust_response) for item in group.answers
    }


FOLLOW_UP_PARTS = ("action", "owner", "target_date")


@dataclass(frozen=True)
class StillToDo:
    """One thing that stops a response being submitted: an answer, or the follow-up of a gap."""

    question: TemplateQuestion
    #: answered, but these parts of the gap's follow-up (action, owner, target_date) are empty
    follow_up_parts: tuple[str, ...] = ()

    @property
    def follow_up(self) -> bool:
        return bool(self.follow_up_parts)


def missing_follow_up_parts(
    question: TemplateQuestion, value: str, follow_up: dict | None, reference: date
) -> list[str]:
    """The parts of a gap's follow-up still to fill in (none when the answer is not a gap)."""
    if not question.follow_up or not is_gap(question.type, question.gap, value, reference):
        return []
    return [part for part in FOLLOW_UP_PARTS if not (follow_up or {}).get(part)]


def still_to_do(response: Response, trust_response: Response | None) -> list[StillToDo]:
    """Everything left before the response can be submitted, in the order of the questions."""
    reference = response.assignment.cycle.opens_on
    left = []
    for group in effective_answers(response, trust_response):
        for item in group.answers:
            question = item.question
            if item.skipped:
                continue
            if question.required and not item.value:
                left.append(StillToDo(question))
            elif not item.from_trust and (
                parts := missing_follow_up_parts(
                    question, item.value, item.answer.follow_up if item.answer else None, reference
                )
            ):
                left.append(StillToDo(question, tuple(parts)))
    return left


def missing_required(response: Response, trust_response: Response | None) -> list[TemplateQuestion]:
    return [item.question for item in still_to_do(response, trust_response)]


def reference_for(response: Response) -> str:
    assignment = response.assignment
    who = f"URN{assignment.establishment.urn}" if assignment.establishment_id else f"TRUST{assignment.trust.uid}"
    return f"{assignment.cycle.template.key}-{assignment.cycle.slug}-{who}".upper()


def submit(response: Response, *, headteacher_name: str, chair_name: str, declaration_date: date, user) -> bool:
    """Submit the response with its declaration. Returns False if it was already submitted
    (a double click or a replayed form), so exactly one submission is ever recorded.

    :raises IncompleteResponse: required answers are missing
    :raises NotEditable: the response is accepted or otherwise not open for submission
    """
    db.session.refresh(response)
    if response.status in (ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED):
        return False
    ensure_open(response.assignment.cycle)
    missing = missing_required(response, covering_trust_response(response))
    if missing:
        raise IncompleteResponse(missing)
    now = utcnow()
    moved = rows_changed(
        update(Response)
        .where(Response.id == response.id, Response.status.in_(EDITABLE_STATUSES))
        .values(
            status=ResponseStatus.SUBMITTED,
            submitted_at=now,
            submitted_by_id=user.id,
            updated_at=now,
            headteacher_name=headteacher_name.strip(),
            chair_name=chair_name.strip(),
            declaration_date=declaration_date,
            reference=reference_for(response),
        )
        .execution_options(synchronize_session=False)
    )
    if moved != 1:
        return False
    previous = response.status
    db.session.add(
        StatusEvent(
            response_id=response.id,
            from_status=previous,
            to_status=ResponseStatus.SUBMITTED,
            at=now,
            by_user_id=user.id,
        )
    )
    record(
        "response.submitted",
        user.id,
        establishment_id=response.assignment.establishment_id,
        trust_id=response.assignment.trust_id,
        cycle_id=response.assignment.cycle_id,
        response=response.id,
        reference=reference_for(response),
    )
    db.session.flush()
    db.session.refresh(response)
    # The action plans area makes the return's plan, in this same transaction.
    return_submitted.send(None, response=response)
    return True


def return_for_amendment(response: Response, comment: str, user, seen: ResponseStatus | None = None) -> None:
    """The lead sends a submitted response back to its DSL with a comment.

    :param seen: the status the lead was shown; the change happens only if it still holds
    """
    if not comment.strip():
        raise ValueError("Say what needs to change")
    _move(response, ResponseStatus.RETURNED, user, comment=comment.strip(), seen=seen)
    response.return_comment = comment.strip()


def accept(response: Response, user, seen: ResponseStatus | None = None) -> None:
    """Accept a submitted response (only if it is still as the lead saw it)."""
    _move(response, ResponseStatus.ACCEPTED, user, seen=seen)


def _move(
    response: Response, new_status: ResponseStatus, user, comment: str = "", seen: ResponseStatus | None = None
) -> None:
    """Change the status only if it is still the one seen, so of simultaneous changes exactly one wins.

    :raises IllegalStatusChange: the move is not allowed, or someone else changed the status first
    """
    seen = seen or response.status
    if seen is not response.status:
        raise IllegalStatusChange(_changed_meanwhile(response.status))
    response.check_move(new_status)
    now = utcnow()
    moved = rows_changed(
        update(Response)
        .where(Response.id == response.id, Response.status == seen)
        .values(status=new_status, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved != 1:
        db.session.refresh(response, ["status"])
        raise IllegalStatusChange(_changed_meanwhile(response.status))
    db.session.add(
        StatusEvent(
            response_id=response.id,
            from_status=seen,
            to_status=new_status,
            by_user_id=getattr(user, "id", None),
            comment=comment,
        )
    )
    if new_status is not ResponseStatus.IN_PROGRESS:
        record(
            f"response.{new_status.value}",
            user.id,
            establishment_id=response.assignment.establishment_id,
            trust_id=response.assignment.trust_id,
            cycle_id=response.assignment.cycle_id,
            response=response.id,
            comment=comment,
        )
    db.session.flush()
    # The row now holds these values: set them on the loaded object without reading it back.
    set_committed_value(response, "status", new_status)
    set_committed_value(response, "updated_at", now)


def _changed_meanwhile(now: ResponseStatus) -> str:
    return (
        f"Nothing was changed: someone else changed this audit at the same moment, and it is now "
        f"{now.label.lower()}. Check it before doing anything more."
    )


# --- trusts ---------------------------------------------------------------------------


def trust_academies_in_cycle(response: Response) -> list[Establishment]:
    """The trust's academies that have a place in this response's cycle."""
    assignment = response.assignment
    return list(
        db.session.scalars(
            select(Establishment)
            .join(
                Assignment,
                and_(Assignment.establishment_id == Establishment.id, Assignment.cycle_id == assignment.cycle_id),
            )
            .where(Establishment.trust_id == assignment.trust_id)
            .order_by(Establishment.name)
        )
    )


def set_coverage(response: Response, establishment_ids: set[int], user) -> None:
    """Choose which academies the trust response answers for (the others answer for themselves)."""
    if response.assignment.trust_id is None:
        raise ValueError("Only a trust response covers academies")
    if not response.status.is_editable:
        raise NotEditable()
    ensure_open(response.assignment.cycle)
    allowed = {e.id for e in trust_academies_in_cycle(response)}
    unknown = establishment_ids - allowed
    if unknown:
        raise ValueError("Choose only academies of this trust")
    for row in list(response.coverage):
        if row.establishment_id not in establishment_ids:
            db.session.delete(row)
    have = {row.establishment_id for row in response.coverage}
    for establishment_id in establishment_ids - have:
        db.session.add(TrustCoverage(response_id=response.id, establishment_id=establishment_id))
    record(
        "trust.coverage_changed",
        user.id,
        trust_id=response.assignment.trust_id,
        cycle_id=response.assignment.cycle_id,
        response=response.id,
        establishments=sorted(establishment_ids),
    )
    db.session.flush()


def trust_name_covering(response: Response) -> Trust | None:
    covering = covering_trust_response(response)
    return covering.assignment.trust if covering is not None else None


__all__ = [
    "CycleClosed",
    "IllegalStatusChange",
]


# --- the lead's overview ------------------------------------------------------------------


def covered_establishments(cycle: Cycle):
    """SELECT of establishment ids answered for by a trust response returned (submitted or accepted) in the cycle."""
    return covered_ids(cycle.id)


def status_counts(cycle: Cycle) -> dict[str, int]:
    """Establishments in the cycle, each counted once, in SQL.

    An establishment that returned its own response counts as submitted/accepted; one that did not
    but is covered by its trust's returned response counts as ``covered_by_trust``, not as not started.
    """
    category = effective_status(Assignment.establishment_id.in_(covered_establishments(cycle)))
    rows = db.session.execute(
        select(category, func.count())
        .select_from(Response)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id, Assignment.establishment_id.is_not(None), Assignment.counted_in(cycle))
        .group_by(category)
    ).all()
    counts = {status.value: 0 for status in ResponseStatus}
    counts[COVERED_BY_TRUST] = 0
    for key, number in rows:
        counts[key] = number
    counts["in_scope"] = sum(number for _key, number in rows)
    counts["complete"] = counts["submitted"] + counts["accepted"] + counts[COVERED_BY_TRUST]
    return counts


def cycle_rows(cycle: Cycle, status: str | None = None, page: int = 1, per_page: int = 50):
    """One page of the cycle's establishments with their response status and sections completed."""
    query = (
        select(Establishment, Response, Response.sections_completed)
        .join(Assignment, Assignment.establishment_id == Establishment.id)
        .join(Response, Response.assignment_id == Assignment.id)
        .where(Assignment.cycle_id == cycle.id)
    )
    if status:
        query = query.where(Response.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(query.order_by(Establishment.name).limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def list_cycles_with_counts() -> list[tuple[Cycle, dict[str, int]]]:
    cycles = db.session.scalars(select(Cycle).order_by(Cycle.due_on.desc())).all()
    return [(cycle, status_counts(cycle)) for cycle in cycles]
