"""A cycle over time: launched from draft, closed, extended, reopened and archived. Flush, never commit.

Every change is recorded in the activity log against the cycle, with its reason where one is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import exists, func, select

from surveyapp.activity.services import record
from surveyapp.audits.models import Assignment, Cycle, CycleState, Response, ResponseStatus
from surveyapp.establishments.models import Establishment
from surveyapp.extensions import db
from surveyapp.timeutil import today, utcnow


class CycleClosed(Exception):
    """A respondent tried to change something in a cycle that is not open (closed, archived or draft)."""

    def __init__(self, cycle: Cycle):
        super().__init__(f"{cycle.name} is {cycle.state.label.lower()}")
        self.cycle = cycle


class LifecycleError(ValueError):
    """The change asked of the cycle cannot be made; the message says why, in the lead's words."""


def ensure_open(cycle: Cycle) -> None:
    """Refuse a respondent's change unless the cycle is open, reading its state afresh
    (the lead may have closed it since the page was loaded).

    :raises CycleClosed: the cycle is draft, closed or archived
    """
    db.session.refresh(cycle, ["state", "closed_at"])
    if not cycle.takes_answers:
        raise CycleClosed(cycle)


def launch(cycle: Cycle, actor) -> None:
    """Open a draft cycle to its establishments."""
    _move(cycle, CycleState.OPEN)
    record("cycle.launched", actor.id if actor else None, cycle_id=cycle.id, slug=cycle.slug)


def close(cycle: Cycle, actor, reason: str = "") -> None:
    """Close an open cycle: respondents can no longer save, submit or change trust cover or action plans."""
    _move(cycle, CycleState.CLOSED)
    cycle.closed_at = utcnow()
    record(
        "cycle.closed",
        actor.id if actor else None,
        cycle_id=cycle.id,
        slug=cycle.slug,
        reason=reason.strip(),
        extensions_running=len(running_extensions(cycle)),
    )


def reopen(cycle: Cycle, actor, reason: str) -> None:
    """Reopen a closed or archived cycle; the reason is kept in the activity log."""
    if not reason.strip():
        raise LifecycleError("Say why the cycle is being reopened")
    _move(cycle, CycleState.OPEN)
    cycle.closed_at = None
    record("cycle.reopened", actor.id if actor else None, cycle_id=cycle.id, slug=cycle.slug, reason=reason.strip())


def archive(cycle: Cycle, actor) -> None:
    """Archive a closed cycle: it leaves the lead's list of current cycles and stays readable."""
    _move(cycle, CycleState.ARCHIVED)
    record("cycle.archived", actor.id if actor else None, cycle_id=cycle.id, slug=cycle.slug)


def _move(cycle: Cycle, new_state: CycleState) -> None:
    from surveyapp.audits.models import IllegalCycleChange

    try:
        cycle.check_move(new_state)
    except IllegalCycleChange as exc:
        raise LifecycleError(str(exc)) from None
    cycle.state = new_state
    db.session.flush()


def extend(cycle: Cycle, due_on: date, actor, establishment: Establishment | None = None) -> Assignment | None:
    """Move the cycle's due date, or agree an extension for one establishment.

    An extension for one establishment is given as a due date later than the cycle's; giving the cycle's
    own date (or an earlier one) takes the extension away again.
    """
    if cycle.state in (CycleState.CLOSED, CycleState.ARCHIVED):
        raise LifecycleError(f"{cycle.name} is {cycle.state.label.lower()}: reopen it before changing its due date")
    if due_on < cycle.opens_on:
        raise LifecycleError(f"The due date must be on or after the day the cycle opened ({cycle.opens_on:%-d %B %Y})")
    if establishment is None:
        before = cycle.due_on
        cycle.due_on = due_on
        record(
            "cycle.extended",
            actor.id if actor else None,
            cycle_id=cycle.id,
            slug=cycle.slug,
            before=before.isoformat(),
            after=due_on.isoformat(),
        )
        db.session.flush()
        return None
    assignment = db.session.scalar(
        select(Assignment).where(Assignment.cycle_id == cycle.id, Assignment.establishment_id == establishment.id)
    )
    if assignment is None:
        raise LifecycleError(f"{establishment.name} (URN {establishment.urn}) has no place in {cycle.name}")
    before = assignment.effective_due_on
    assignment.due_on = due_on if due_on > cycle.due_on else None
    record(
        "cycle.extension_agreed" if assignment.due_on else "cycle.extension_removed",
        actor.id if actor else None,
        cycle_id=cycle.id,
        establishment_id=establishment.id,
        before=before.isoformat(),
        after=assignment.effective_due_on.isoformat(),
    )
    db.session.flush()
    return assignment


def running_extensions(cycle: Cycle, on: date | None = None) -> list[tuple[Establishment, date]]:
    """Establishments whose agreed extension runs past ``on`` (today), soonest first."""
    on = on or today()
    rows = db.session.execute(
        select(Establishment, Assignment.due_on)
        .join(Assignment, Assignment.establishment_id == Establishment.id)
        .where(Assignment.cycle_id == cycle.id, Assignment.due_on.is_not(None), Assignment.due_on >= on)
        .order_by(Assignment.due_on, Establishment.name)
    ).all()
    return [(establishment, due) for establishment, due in rows]


@dataclass
class CloseSummary:
    """What closing would leave behind, shown to the lead before they confirm."""

    unfinished: int
    extensions: list[tuple[Establishment, date]]


def close_summary(cycle: Cycle) -> CloseSummary:
    unfinished = (
        db.session.scalar(
            select(func.count())
            .select_from(Response)
            .join(Assignment, Assignment.id == Response.assignment_id)
            .where(
                Assignment.cycle_id == cycle.id,
                Assignment.establishment_id.is_not(None),
                Assignment.counted_in(cycle),
                Response.status.not_in([ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED]),
            )
        )
        or 0
    )
    return CloseSummary(unfinished, running_extensions(cycle))


def create_historic_cycle(
    *, slug: str, name: str, template, due_on: date, opens_on: date | None = None, actor=None
) -> Cycle:
    """A closed cycle for an earlier year's returns, with no establishment in it yet.

    Its places are made by the returns imported into it, so nobody whose establishment is not in the file
    sees a past audit as "Not started".
    """
    from surveyapp.audits.services import CycleError

    slug = slug.strip()
    if not slug:
        raise CycleError("Enter a short name for the cycle, like 2023-24")
    if db.session.scalar(select(exists().where(Cycle.slug == slug))):
        raise CycleError(f'There is already a cycle called "{slug}"')
    opens_on = opens_on or date(due_on.year - 1, 9, 1)
    if due_on < opens_on:
        raise CycleError("The due date must be on or after the date the cycle opened")
    # It closed when that year's returns were due: retention periods run from then, not from the import.
    closed_at = min(utcnow(), datetime.combine(due_on, time(23, 59), tzinfo=UTC))
    cycle = Cycle(
        slug=slug,
        name=name.strip() or slug,
        template=template,
        opens_on=opens_on,
        due_on=due_on,
        state=CycleState.CLOSED,
        closed_at=closed_at,
        scope={"historic": True},
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(cycle)
    db.session.flush()
    record("cycle.created_historic", actor.id if actor else None, cycle_id=cycle.id, slug=slug)
    return cycle
