"""The lead's live tracker: headline, breakdowns, the establishment list and submissions over time.

Everything is computed with SQL aggregates over the cycle's assignments, so the number of queries
a page makes does not grow with the number of establishments (see benchmarks/tracker.py).
An establishment is *complete* when it returned its own response (submitted or accepted) or when
its trust's returned response covers it: the same rule as ``surveyapp.audits.services.status_counts``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, exists, func, literal, or_, select
from sqlalchemy.orm import aliased

from surveyapp.audits.models import (
    Assignment,
    Cycle,
    Response,
    ResponseStatus,
    SectionProgress,
    SectionState,
    TemplateSection,
    TrustCoverage,
)
from surveyapp.audits.services import covered_establishments
from surveyapp.chasing.models import Reminder, ReminderStatus
from surveyapp.establishments.models import ContactRole, Establishment, EstablishmentContact, Trust
from surveyapp.auth.models import User
from surveyapp.extensions import db
from surveyapp.timeutil import today

RETURNED_OWN = (ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED)

#: the effective statuses an establishment can have on the tracker, in the order the page shows them
STATUSES = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "returned": "Returned for amendment",
    "submitted": "Submitted",
    "accepted": "Accepted",
    "covered_by_trust": "Covered by trust",
}
#: filter values that stand for several statuses
STATUS_GROUPS = {
    "complete": ("submitted", "accepted", "covered_by_trust"),
    "incomplete": ("not_started", "in_progress", "returned"),
}
DIMENSIONS = {
    "phase": ("Phase", Establishment.phase),
    "type": ("Type of establishment", Establishment.type_name),
    "district": ("District", Establishment.district),
    "trust": ("Trust", Trust.uid),
}
SORTS = {"name", "urn", "status", "sections", "activity", "reminders", "trust", "phase", "district"}
PER_PAGE = 50


def effective_status(cycle: Cycle):
    """SQL expression: the establishment's own status, or ``covered_by_trust`` when its trust's return answers for it."""
    covered = Assignment.establishment_id.in_(covered_establishments(cycle))
    return case(
        (Response.status.in_(RETURNED_OWN), Response.status),
        (covered, literal("covered_by_trust")),
        else_=Response.status,
    )


@dataclass
class TrackerFilters:
    """What the list is filtered, searched, sorted and paged by: all kept in the query string."""

    status: str = ""
    phase: str = ""
    type: str = ""
    district: str = ""
    trust: str = ""  #: the trust's GIAS UID, or "none" for establishments outside a trust
    no_contact: bool = False
    q: str = ""
    sort: str = "name"
    direction: str = "asc"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> TrackerFilters:
        status = args.get("status", "")
        sort = args.get("sort", "name")
        try:
            page = max(int(args.get("page", 1)), 1)
        except ValueError:
            page = 1
        return cls(
            status=status if status in STATUSES or status in STATUS_GROUPS else "",
            phase=args.get("phase", "").strip(), type=args.get("type", "").strip(),
            district=args.get("district", "").strip(), trust=args.get("trust", "").strip(),
            no_contact=args.get("no_contact") in ("1", "y", "on", "true"),
            q=args.get("q", "").strip()[:100],
            sort=sort if sort in SORTS else "name",
            direction="desc" if args.get("direction") == "desc" else "asc",
            page=page,
        )

    def to_args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments for a link, leaving out defaults so shared links stay short."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        defaults = TrackerFilters()
        return {
            key: ("1" if value is True else value)
            for key, value in values.items()
            if value not in (None, False) and value != getattr(defaults, key)
        }

    @property
    def filter_args(self) -> dict[str, Any]:
        """Only what chooses the establishments (no sort or page): 'all matching' in a form."""
        return {k: v for k, v in self.to_args().items() if k not in ("sort", "direction", "page")}

    @property
    def is_filtered(self) -> bool:
        return bool(self.filter_args)


# --- the shared FROM clause ------------------------------------------------------------------


def dsl_contacts():
    """Subquery: each establishment's first DSL contact (an enabled user with the DSL role), by user id."""
    return (
        select(EstablishmentContact.establishment_id, func.min(EstablishmentContact.user_id).label("user_id"))
        .join(User, User.id == EstablishmentContact.user_id)
        .where(EstablishmentContact.role == ContactRole.DSL, User.is_enabled.is_(True))
        .group_by(EstablishmentContact.establishment_id)
        .subquery("dsl")
    )


def _base(cycle: Cycle, trust_scope: int | None, *columns):
    """SELECT ... FROM the cycle's establishment assignments with their response and trust."""
    query = (
        select(*columns)
        .select_from(Assignment)
        .join(Establishment, Establishment.id == Assignment.establishment_id)
        .join(Response, Response.assignment_id == Assignment.id)
        .outerjoin(Trust, Trust.id == Establishment.trust_id)
        .where(Assignment.cycle_id == cycle.id)
    )
    if trust_scope is not None:
        query = query.where(Establishment.trust_id == trust_scope)
    return query


def _apply_filters(query, cycle: Cycle, filters: TrackerFilters, status_expr, dsl=None):
    if filters.status in STATUS_GROUPS:
        query = query.where(status_expr.in_(STATUS_GROUPS[filters.status]))
    elif filters.status:
        query = query.where(status_expr == filters.status)
    if filters.phase:
        query = query.where(Establishment.phase == filters.phase)
    if filters.type:
        query = query.where(Establishment.type_name == filters.type)
    if filters.district:
        query = query.where(Establishment.district == filters.district)
    if filters.trust == "none":
        query = query.where(Establishment.trust_id.is_(None))
    elif filters.trust:
        query = query.where(Trust.uid == filters.trust)
    if filters.no_contact:
        if dsl is not None:
            query = query.where(dsl.c.user_id.is_(None))
        else:
            query = query.where(~exists().where(
                EstablishmentContact.establishment_id == Establishment.id,
                EstablishmentContact.role == ContactRole.DSL,
                EstablishmentContact.user_id.in_(select(User.id).where(User.is_enabled.is_(True))),
            ))
    if filters.q:
        needle = filters.q.lower()
        query = query.where(or_(func.lower(Establishment.name).contains(needle, autoescape=True), Establishment.urn == filters.q))
    return query


# --- headline and breakdowns ----------------------------------------------------------------


@dataclass
class Counts:
    """Establishments by effective status, with the totals the page shows."""

    by_status: dict[str, int] = field(default_factory=lambda: {key: 0 for key in STATUSES})

    @property
    def in_scope(self) -> int:
        return sum(self.by_status.values())

    @property
    def complete(self) -> int:
        return sum(self.by_status[key] for key in STATUS_GROUPS["complete"])

    @property
    def own_returns(self) -> int:
        return self.by_status["submitted"] + self.by_status["accepted"]

    @property
    def percent_complete(self) -> int:
        return round(100 * self.complete / self.in_scope) if self.in_scope else 0

    def __getattr__(self, name: str) -> int:
        try:
            return self.__dict__["by_status"][name]
        except KeyError:
            raise AttributeError(name) from None


def _counts_from(rows) -> Counts:
    counts = Counts()
    for key, number in rows:
        counts.by_status[getattr(key, "value", key)] = number
    return counts


def headline(cycle: Cycle, trust_scope: int | None = None, breakdown_rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """In scope, complete (own or trust), in progress, not started, returned; % complete; days left.

    :param breakdown_rows: any one breakdown of the same cycle and scope, if the page has one already:
        its groups add up to the headline, which saves a pass over the cycle
    """
    if breakdown_rows is not None:
        counts = Counts()
        for group in breakdown_rows:
            for key, number in group["counts"].by_status.items():
                counts.by_status[key] += number
    else:
        status = effective_status(cycle)
        counts = _counts_from(db.session.execute(_base(cycle, trust_scope, status, func.count()).group_by(status)).all())
    days_left = (cycle.due_on - today()).days
    return {"counts": counts, "days_left": days_left, "due_on": cycle.due_on}


def breakdown(cycle: Cycle, dimension: str, trust_scope: int | None = None) -> list[dict[str, Any]]:
    """The headline counts per phase, type, district or trust: one grouped query.

    :returns: rows of {"value", "label", "counts"}, largest group first
    """
    _title, column = DIMENSIONS[dimension]
    status = effective_status(cycle)
    label = func.max(Trust.name) if dimension == "trust" else func.max(column)
    rows = db.session.execute(
        _base(cycle, trust_scope, column, label, status, func.count()).group_by(column, status)
    ).all()
    groups: dict[Any, dict[str, Any]] = {}
    for value, name, key, number in rows:
        group = groups.setdefault(value, {"value": value if value is not None else ("none" if dimension == "trust" else ""),
                                          "label": name or ("Not in a trust" if dimension == "trust" else "Not recorded"),
                                          "counts": Counts()})
        group["counts"].by_status[getattr(key, "value", key)] += number
    return sorted(groups.values(), key=lambda g: (-g["counts"].in_scope, g["label"]))


# --- the establishment list -----------------------------------------------------------------


@dataclass
class TrackerRow:
    establishment_id: int
    urn: str
    name: str
    phase: str
    type_name: str
    district: str
    trust_uid: str | None
    trust_name: str | None
    response_id: int
    status: str
    sections_done: int
    last_activity: Any
    dsl_name: str | None
    dsl_email: str | None
    reminders_sent: int
    last_reminder_at: Any
    last_failure_at: Any

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def is_complete(self) -> bool:
        return self.status in STATUS_GROUPS["complete"]

    @property
    def reminder_failed(self) -> bool:
        """The latest attempt to remind it failed after every retry."""
        return self.last_failure_at is not None and (self.last_reminder_at is None or self.last_failure_at > self.last_reminder_at)


@dataclass
class TrackerPage:
    rows: list[TrackerRow]
    total: int
    page: int
    per_page: int
    sections_total: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def _reminder_summary(cycle: Cycle):
    """Subquery per establishment: reminders sent, when the last went, and when one last failed."""
    return (
        select(
            Reminder.establishment_id,
            func.sum(case((Reminder.status == ReminderStatus.SENT, 1), else_=0)).label("sent"),
            func.max(Reminder.sent_at).label("last_sent"),
            func.max(case((Reminder.status == ReminderStatus.FAILED, Reminder.created_at))).label("last_failed"),
        )
        .where(Reminder.cycle_id == cycle.id)
        .group_by(Reminder.establishment_id)
        .subquery("chased")
    )


def _sections_done():
    return (
        select(SectionProgress.response_id, func.count().label("done"))
        .where(SectionProgress.state == SectionState.COMPLETED)
        .group_by(SectionProgress.response_id)
        .subquery("done")
    )


def establishment_list(cycle: Cycle, filters: TrackerFilters, trust_scope: int | None = None,
                       per_page: int = PER_PAGE) -> TrackerPage:
    """One page of the cycle's establishments, filtered, searched and sorted: two queries (count and page)."""
    status = effective_status(cycle).label("status")
    dsl = dsl_contacts()
    dsl_user = aliased(User)
    chased = _reminder_summary(cycle)
    done = _sections_done()
    sections_done = func.coalesce(done.c.done, 0)
    reminders_sent = func.coalesce(chased.c.sent, 0)
    query = (
        _base(
            cycle, trust_scope,
            Establishment.id, Establishment.urn, Establishment.name, Establishment.phase, Establishment.type_name,
            Establishment.district, Trust.uid, Trust.name, Response.id, status, sections_done.label("done"),
            Response.updated_at, dsl_user.name, dsl_user.email, reminders_sent.label("sent"), chased.c.last_sent,
            chased.c.last_failed,
        )
        .outerjoin(dsl, dsl.c.establishment_id == Establishment.id)
        .outerjoin(dsl_user, dsl_user.id == dsl.c.user_id)
        .outerjoin(chased, chased.c.establishment_id == Establishment.id)
        .outerjoin(done, done.c.response_id == Response.id)
    )
    query = _apply_filters(query, cycle, filters, effective_status(cycle), dsl)
    total = db.session.scalar(
        _apply_filters(_base(cycle, trust_scope, func.count()), cycle, filters, effective_status(cycle))
    )
    order = {
        "name": func.lower(Establishment.name), "urn": Establishment.urn, "status": status, "sections": sections_done,
        "activity": Response.updated_at, "reminders": reminders_sent, "trust": Trust.name,
        "phase": Establishment.phase, "district": Establishment.district,
    }[filters.sort]
    order = order.desc() if filters.direction == "desc" else order.asc()
    if filters.sort in ("activity", "trust"):
        order = order.nulls_last()
    rows = db.session.execute(
        query.order_by(order, Establishment.name, Establishment.id).limit(per_page).offset((filters.page - 1) * per_page)
    ).all()
    sections_total = db.session.scalar(
        select(func.count()).select_from(TemplateSection).where(TemplateSection.template_id == cycle.template_id)
    )
    return TrackerPage([TrackerRow(*row) for row in rows], total or 0, filters.page, per_page, sections_total or 0)


def matching_establishment_ids(cycle: Cycle, filters: TrackerFilters, trust_scope: int | None = None) -> list[int]:
    """Every establishment matching the filters: "all matching" in the reminder form."""
    query = _apply_filters(_base(cycle, trust_scope, Establishment.id), cycle, filters, effective_status(cycle))
    return list(db.session.scalars(query.order_by(Establishment.id)))


def choices_from_breakdowns(breakdowns: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple[str, str]]]:
    """The filter form's choices from the page's breakdowns (they hold every value present): no more queries."""
    choices: dict[str, list[tuple[str, str]]] = {}
    for key in DIMENSIONS:
        rows = breakdowns.get(key, [])
        values = [(str(g["value"]), g["label"]) for g in rows if g["value"] not in ("", "none")]
        choices[key] = sorted(values, key=lambda pair: pair[1].lower())
    return choices


def filter_choices(cycle: Cycle, trust_scope: int | None = None) -> dict[str, list[tuple[str, str]]]:
    """The phases, types, districts and trusts present in the cycle, for the filter form."""
    choices = {}
    for key, column in (("phase", Establishment.phase), ("type", Establishment.type_name), ("district", Establishment.district)):
        values = db.session.scalars(_base(cycle, trust_scope, column).where(column != "").distinct().order_by(column))
        choices[key] = [(v, v) for v in values]
    trusts = db.session.execute(
        _base(cycle, trust_scope, Trust.uid, Trust.name).where(Trust.id.is_not(None)).distinct().order_by(Trust.name)
    ).all()
    choices["trust"] = [(uid, name) for uid, name in trusts]
    return choices


# --- submissions over time -----------------------------------------------------------------


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def completions_by_day(cycle: Cycle, trust_scope: int | None = None) -> dict[date, int]:
    """How many establishments became complete on each day: own returns by their submission date, and
    establishments covered by a returned trust response (without their own) by the trust's date. Two queries."""
    own_day = func.date(Response.submitted_at)
    own = db.session.execute(
        _base(cycle, trust_scope, own_day, func.count())
        .where(Response.status.in_(RETURNED_OWN), Response.submitted_at.is_not(None))
        .group_by(own_day)
    ).all()
    trust_response = aliased(Response)
    trust_assignment = aliased(Assignment)
    cover_day = func.date(func.min(trust_response.submitted_at))
    covered = (
        select(TrustCoverage.establishment_id, cover_day.label("day"))
        .join(trust_response, trust_response.id == TrustCoverage.response_id)
        .join(trust_assignment, trust_assignment.id == trust_response.assignment_id)
        .where(trust_assignment.cycle_id == cycle.id, trust_response.status.in_(RETURNED_OWN),
               trust_response.submitted_at.is_not(None))
        .group_by(TrustCoverage.establishment_id)
        .subquery("covered")
    )
    by_trust = db.session.execute(
        _base(cycle, trust_scope, covered.c.day, func.count())
        .join(covered, covered.c.establishment_id == Establishment.id)
        .where(Response.status.not_in(RETURNED_OWN))
        .group_by(covered.c.day)
    ).all()
    days: dict[date, int] = {}
    for day, number in [*own, *by_trust]:
        if day is not None:
            days[_as_date(day)] = days.get(_as_date(day), 0) + number
    return days


def previous_cycle(cycle: Cycle) -> Cycle | None:
    """The latest cycle due before this one (last year's, normally)."""
    return db.session.scalar(select(Cycle).where(Cycle.due_on < cycle.due_on).order_by(Cycle.due_on.desc()).limit(1))


@dataclass
class ProgressPoint:
    days_before_due: int
    day: date
    complete: int
    previous_complete: int | None


@dataclass
class Progress:
    """Cumulative completions against days before the due date, this cycle and the previous one."""

    points: list[ProgressPoint]
    in_scope: int
    previous: Cycle | None
    previous_in_scope: int
    span: int  #: days from opening to due (or to today, if later)

    def table_points(self) -> list[ProgressPoint]:
        """Weekly rows (and the latest day) for the table alternative to the chart."""
        if not self.points:
            return []
        chosen = [p for p in self.points if p.days_before_due % 7 == 0]
        if not chosen or chosen[-1] is not self.points[-1]:
            chosen.append(self.points[-1])
        return chosen

    def svg(self, width: int = 600, height: int = 240) -> dict[str, Any]:
        """Polyline points (percent complete against days before due) for an inline SVG."""
        pad = 40
        span = max(self.span, 1)
        overdue = max(0, -min((p.days_before_due for p in self.points), default=0))

        def x(days_before: int) -> float:
            return round(pad + (span - days_before) * (width - 2 * pad) / (span + overdue), 1)

        def y(number: int, total: int) -> float:
            share = number / total if total else 0
            return round(height - pad - share * (height - 2 * pad), 1)

        this = " ".join(f"{x(p.days_before_due)},{y(p.complete, self.in_scope)}" for p in self.points)
        last = " ".join(
            f"{x(p.days_before_due)},{y(p.previous_complete, self.previous_in_scope)}"
            for p in self.points if p.previous_complete is not None
        )
        return {"width": width, "height": height, "pad": pad, "this": this, "previous": last, "due_x": x(0),
                "top": pad, "bottom": height - pad, "mid": y(50, 100)}


def _in_scope(cycle: Cycle, trust_scope: int | None) -> int:
    return db.session.scalar(_base(cycle, trust_scope, func.count())) or 0


def submissions_over_time(cycle: Cycle, trust_scope: int | None = None, on: date | None = None,
                          in_scope: int | None = None) -> Progress:
    """Cumulative completions per day from the cycle's opening to today (at most eight weeks past the due date),
    with the previous cycle's cumulative count at the same number of days before its due date."""
    on = on or today()
    end = min(on, max(cycle.due_on + timedelta(days=56), cycle.opens_on))
    this_days = completions_by_day(cycle, trust_scope)
    previous = previous_cycle(cycle)
    previous_days: dict[date, int] = completions_by_day(previous, trust_scope) if previous else {}
    previous_in_scope = _in_scope(previous, trust_scope) if previous else 0
    in_scope = _in_scope(cycle, trust_scope) if in_scope is None else in_scope

    def cumulative(days: dict[date, int], start: date, stop: date) -> dict[date, int]:
        running, result = sum(n for d, n in days.items() if d < start), {}
        for offset in range((stop - start).days + 1):
            day = start + timedelta(days=offset)
            running += days.get(day, 0)
            result[day] = running
        return result

    points: list[ProgressPoint] = []
    if end >= cycle.opens_on:
        mine = cumulative(this_days, cycle.opens_on, end)
        theirs: dict[date, int] = {}
        if previous:
            first = previous.due_on - (cycle.due_on - cycle.opens_on)
            theirs = cumulative(previous_days, first, previous.due_on + (end - cycle.due_on))
        for day, number in mine.items():
            before = (cycle.due_on - day).days
            earlier = previous.due_on - timedelta(days=before) if previous else None
            points.append(ProgressPoint(before, day, number, theirs.get(earlier) if previous else None))
    return Progress(points, in_scope, previous, previous_in_scope, (cycle.due_on - cycle.opens_on).days)
