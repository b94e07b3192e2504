"""Keeping running cycles in step with the register after a GIAS re-import. Flush, never commit.

- An establishment that opens (or newly matches a cycle's types and phases) joins every running cycle.
- One that closes keeps its answers and return, but leaves the cycle's counts from its close date.
- An academy that moves to another trust moves to that trust's cover; its old trust stops answering for it.

Running cycles are the draft and open ones: a closed cycle is a record of its year and is left as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, insert, select

from surveyapp.activity.services import record
from surveyapp.audits.models import Assignment, Cycle, CycleState, Response, ResponseStatus, TrustCoverage
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.establishments.signals import register_imported
from surveyapp.extensions import db
from surveyapp.timeutil import today

RUNNING = (CycleState.DRAFT, CycleState.OPEN)


@dataclass
class CycleChanges:
    """What the register's changes did (or, in a preview, would do) to one running cycle.

    Plain values, not rows: a preview's rows are rolled back before the page is drawn.
    """

    cycle_name: str
    cycle_slug: str
    #: (name, URN)
    joined: list[tuple[str, str]] = field(default_factory=list)
    #: (name, URN, the day it left the counts)
    left: list[tuple[str, str, date]] = field(default_factory=list)
    #: (name, URN, old trust's name or "", new trust's name or "")
    moved: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.joined or self.left or self.moved)

    def summary(self) -> str:
        return (
            f"{self.cycle_slug}: {len(self.joined)} joined, {len(self.left)} left the counts (closed), "
            f"{len(self.moved)} moved to another trust's cover"
        )


@register_imported.connect
def reconcile_running_cycles(_sender=None, actor=None, **_extra) -> list[CycleChanges]:
    """Bring every running cycle in step with the register as it is now, recording each change.

    Called when a register import has been applied, in its transaction (the establishments area's
    ``register_imported`` signal), so a preview rolled back undoes this too.
    """
    cycles = db.session.scalars(select(Cycle).where(Cycle.state.in_(RUNNING)).order_by(Cycle.due_on)).all()
    return [change for change in (_reconcile(cycle, actor) for cycle in cycles) if change.any]


def _reconcile(cycle: Cycle, actor) -> CycleChanges:
    changes = CycleChanges(cycle.name, cycle.slug)
    _join_new(cycle, changes, actor)
    _leave_closed(cycle, changes, actor)
    _move_trust_cover(cycle, changes, actor)
    db.session.flush()
    return changes


def _in_scope(cycle: Cycle):
    scope = cycle.scope or {}
    conditions = [Establishment.is_open.is_(True)]
    if scope.get("types"):
        conditions.append(func.lower(Establishment.type_name).in_([t.lower() for t in scope["types"]]))
    if scope.get("phases"):
        conditions.append(func.lower(Establishment.phase).in_([p.lower() for p in scope["phases"]]))
    return and_(*conditions)


def _join_new(cycle: Cycle, changes: CycleChanges, actor) -> None:
    placed = select(Assignment.establishment_id).where(
        Assignment.cycle_id == cycle.id, Assignment.establishment_id.is_not(None)
    )
    newcomers = db.session.scalars(
        select(Establishment).where(_in_scope(cycle), Establishment.id.not_in(placed)).order_by(Establishment.name)
    ).all()
    if not newcomers:
        return
    db.session.execute(insert(Assignment), [{"cycle_id": cycle.id, "establishment_id": e.id} for e in newcomers])
    assignment_ids = db.session.scalars(
        select(Assignment.id).where(
            Assignment.cycle_id == cycle.id, Assignment.establishment_id.in_([e.id for e in newcomers])
        )
    ).all()
    db.session.execute(
        insert(Response), [{"assignment_id": a, "status": ResponseStatus.NOT_STARTED} for a in assignment_ids]
    )
    for establishment in newcomers:
        changes.joined.append((establishment.name, establishment.urn))
        if establishment.trust_id is not None:
            _cover(cycle, establishment, establishment.trust_id)
        record(
            "cycle.establishment_joined",
            actor.id if actor else None,
            cycle_id=cycle.id,
            establishment_id=establishment.id,
            reason="opened or now in scope after a register import",
        )


def _leave_closed(cycle: Cycle, changes: CycleChanges, actor) -> None:
    rows = db.session.execute(
        select(Assignment, Establishment)
        .join(Establishment, Establishment.id == Assignment.establishment_id)
        .where(Assignment.cycle_id == cycle.id, Assignment.left_on.is_(None), Establishment.is_open.is_(False))
    ).all()
    for assignment, establishment in rows:
        assignment.left_on = establishment.closed_on or today()
        changes.left.append((establishment.name, establishment.urn, assignment.left_on))
        record(
            "cycle.establishment_left",
            actor.id if actor else None,
            cycle_id=cycle.id,
            establishment_id=establishment.id,
            closed_on=assignment.left_on.isoformat(),
        )


def _move_trust_cover(cycle: Cycle, changes: CycleChanges, actor) -> None:
    """Coverage by a trust whose academy it no longer is moves to the academy's trust now (if any)."""
    rows = db.session.execute(
        select(TrustCoverage, Establishment, Assignment.trust_id)
        .join(Response, Response.id == TrustCoverage.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .join(Establishment, Establishment.id == TrustCoverage.establishment_id)
        .where(
            Assignment.cycle_id == cycle.id,
            (Establishment.trust_id.is_(None)) | (Establishment.trust_id != Assignment.trust_id),
            # A trust return already submitted answered for the academy while it was the trust's: kept.
            Response.status.in_([ResponseStatus.NOT_STARTED, ResponseStatus.IN_PROGRESS, ResponseStatus.RETURNED]),
        )
    ).all()
    for coverage, establishment, old_trust_id in rows:
        db.session.delete(coverage)
        db.session.flush()
        new_trust_id = establishment.trust_id
        if new_trust_id is not None:
            _cover(cycle, establishment, new_trust_id)
        old, new = db.session.get(Trust, old_trust_id), db.session.get(Trust, new_trust_id) if new_trust_id else None
        changes.moved.append((establishment.name, establishment.urn, old.name if old else "", new.name if new else ""))
        record(
            "cycle.trust_cover_moved",
            actor.id if actor else None,
            cycle_id=cycle.id,
            establishment_id=establishment.id,
            trust_id=new.id if new else None,
            from_trust=old.uid if old else "",
            to_trust=new.uid if new else "",
        )
    # An academy that joined a trust (and was in no trust's cover before) comes under its new trust's cover.
    uncovered = (
        db.session.execute(
            select(Establishment)
            .join(Assignment, and_(Assignment.establishment_id == Establishment.id, Assignment.cycle_id == cycle.id))
            .where(
                Establishment.trust_id.is_not(None),
                Assignment.left_on.is_(None),
                Establishment.id.not_in(
                    select(TrustCoverage.establishment_id)
                    .join(Response, Response.id == TrustCoverage.response_id)
                    .join(Assignment, Assignment.id == Response.assignment_id)
                    .where(Assignment.cycle_id == cycle.id)
                ),
                Establishment.id.not_in(
                    select(Establishment.id).where(Establishment.urn.in_([urn for _name, urn in changes.joined]))
                ),
            )
        )
        .scalars()
        .all()
    )
    for establishment in uncovered:
        if _trust_assignment(cycle, establishment.trust_id) is None:
            # A trust new to the cycle: its academies answered for themselves until now, and it may answer for them.
            _cover(cycle, establishment, establishment.trust_id)
            new = db.session.get(Trust, establishment.trust_id)
            changes.moved.append((establishment.name, establishment.urn, "", new.name))
            record(
                "cycle.trust_cover_moved",
                actor.id if actor else None,
                cycle_id=cycle.id,
                establishment_id=establishment.id,
                trust_id=new.id if new else None,
                from_trust="",
                to_trust=new.uid,
            )


def _trust_assignment(cycle: Cycle, trust_id: int) -> Assignment | None:
    return db.session.scalar(select(Assignment).where(Assignment.cycle_id == cycle.id, Assignment.trust_id == trust_id))


def _cover(cycle: Cycle, establishment: Establishment, trust_id: int) -> None:
    """Put the academy under its trust's response in the cycle, giving the trust a place if it has none.
    A trust response already returned answered for the academies it had: the newcomer answers for itself."""
    assignment = _trust_assignment(cycle, trust_id)
    if assignment is None:
        assignment = Assignment(cycle_id=cycle.id, trust_id=trust_id)
        db.session.add(assignment)
        db.session.flush()
        db.session.add(Response(assignment_id=assignment.id, status=ResponseStatus.NOT_STARTED))
        db.session.flush()
    response = db.session.scalar(select(Response).where(Response.assignment_id == assignment.id))
    if response.status.is_editable:
        db.session.add(TrustCoverage(response_id=response.id, establishment_id=establishment.id))
        db.session.flush()
