"""The lead's live tracker: headline, breakdowns, the establishment list and submissions over time.

Everything is computed with SQL aggregates over the cycle's assignments, so the number of queries
a page makes does not grow with the number of establishments, and the list reads the details it shows
(sections, DSL, reminders) for the page's rows only (see benchmarks/tracker.py).
An establishment is *complete* when it returned its own response (submitted or accepted) or when
its trust's returned response covers it: the rule of ``surveyapp.audits.coverage``, shared with
``surveyapp.audits.services.status_counts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any, ClassVar

from sqlalchemy import Select, String, and_, case, cast, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from surveyapp.audits.coverage import completed_at, covered_ids, effective_status, trust_cover
from surveyapp.audits.models import Assignment, Cycle, Response, TemplateSection
from surveyapp.auth.models import User
from surveyapp.chasing.figures_cache import kept
from surveyapp.chasing.models import Reminder, ReminderStatus
from surveyapp.establishments.models import ContactRole, Establishment, EstablishmentContact, Trust
from surveyapp.extensions import db
from surveyapp.numbers import page_number
from surveyapp.timeutil import today

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
STATUS_ORDER = {"not_started": 0, "in_progress": 1, "returned": 2, "covered_by_trust": 3, "submitted": 4, "accepted": 5}
SORTS = {"name", "urn", "status", "sections", "activity", "reminders", "trust", "phase", "district"}
PER_PAGE = 50
#: above this many rows, a list's details are read for the whole cycle rather than row by row (exports)
_DETAILS_BY_ID = 1000


@dataclass
class Scope:
    """The cycle's establishments as the tracker sees them, optionally one trust's academies only.

    ``status`` is each establishment's effective status as plain text: its own status, or
    ``covered_by_trust`` when a returned trust response answers for it (and it has not returned its own).
    Whether a trust response covers it is asked of the cycle's covered establishments
    (``surveyapp.audits.coverage``), read once in a common table expression, as ``IN (SELECT ...)``: the
    database keeps them in a hash table and looks each establishment up. So the status can appear in the
    columns, the filters and the sort of one statement without the covered establishments being read again
    for each, and a statement that does not ask for the status does not read them at all.
    """

    cycle: Cycle
    trust_scope: int | None = None

    def __post_init__(self) -> None:
        # unnamed: a statement may hold two scopes (the reminder plan reads the tracker's "all matching")
        covered = covered_ids(self.cycle.id).cte()
        self.status = effective_status(Assignment.establishment_id.in_(select(covered.c.establishment_id)))

    def select(self, *columns) -> Select:
        """SELECT ... FROM the cycle's establishment assignments with their response and trust."""
        query = (
            select(*columns)
            .select_from(Assignment)
            .join(Establishment, Establishment.id == Assignment.establishment_id)
            .join(Response, Response.assignment_id == Assignment.id)
            # the trust's id is unique: the database drops the join where no trust column is asked for
            .outerjoin(Trust, Trust.id == Establishment.trust_id)
            # An establishment that closed during the cycle keeps its work but leaves the counts and the chase.
            .where(Assignment.cycle_id == self.cycle.id, Assignment.counted_in(self.cycle))
        )
        if self.trust_scope is not None:
            query = query.where(Establishment.trust_id == self.trust_scope)
        return query


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
        page = page_number(args.get("page"))
        return cls(
            status=status if status in STATUSES or status in STATUS_GROUPS else "",
            phase=args.get("phase", "").strip(),
            type=args.get("type", "").strip(),
            district=args.get("district", "").strip(),
            trust=args.get("trust", "").strip(),
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

    @property
    def described(self) -> list[str]:
        """What the list is filtered and sorted by, in words, for the page title (each view its own)."""
        words = []
        if self.status:
            words.append(STATUSES.get(self.status) or self.status.capitalize())
        words += [value for value in (self.phase, self.type, self.district) if value]
        if self.trust:
            words.append("not in a trust" if self.trust == "none" else f"trust {self.trust}")
        if self.no_contact:
            words.append("no DSL who can sign in")
        if self.q:
            words.append(f"matching “{self.q}”")
        if self.sort != "name" or self.direction != "asc":
            words.append(f"sorted by {self.sort}{' (descending)' if self.direction == 'desc' else ''}")
        return words


# --- filters ----------------------------------------------------------------------------------


def _has_dsl_contact():
    """SQL condition: the establishment has a DSL contact who can sign in."""
    return exists().where(
        EstablishmentContact.establishment_id == Establishment.id,
        EstablishmentContact.role == ContactRole.DSL,
        EstablishmentContact.user_id.in_(select(User.id).where(User.is_enabled.is_(True))),
    )


def _apply_filters(query: Select, scope: Scope, filters: TrackerFilters) -> Select:
    if filters.status in STATUS_GROUPS:
        query = query.where(scope.status.in_(STATUS_GROUPS[filters.status]))
    elif filters.status:
        query = query.where(scope.status == filters.status)
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
        query = query.where(~_has_dsl_contact())
    if filters.q:
        needle = filters.q.lower()
        query = query.where(
            or_(func.lower(Establishment.name).contains(needle, autoescape=True), Establishment.urn == filters.q)
        )
    return query


# --- headline and breakdowns ----------------------------------------------------------------


@dataclass
class Counts:
    """Establishments by effective status, with the totals the page shows."""

    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))

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


def headline(
    cycle: Cycle, trust_scope: int | None = None, breakdown_rows: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """In scope, complete (own or trust), in progress, not started, returned; % complete; days left.

    :param breakdown_rows: any one breakdown of the same cycle and scope, if the page has one already:
        its groups add up to the headline, which saves a pass over the cycle
    """
    counts = Counts()
    if breakdown_rows is None:
        scope = Scope(cycle, trust_scope)
        rows = db.session.execute(scope.select(scope.status, func.count()).group_by(scope.status)).all()
        for key, number in rows:
            counts.by_status[key] = number
    else:
        for group in breakdown_rows:
            for key, number in group["counts"].by_status.items():
                counts.by_status[key] += number
    days_left = (cycle.due_on - today()).days
    return {"counts": counts, "days_left": days_left, "due_on": cycle.due_on}


@dataclass
class Figures:
    """What every tracker page shows above the list, from one pass over the cycle."""

    #: per dimension, rows of {"value", "label", "counts"}, largest group first
    breakdowns: dict[str, list[dict[str, Any]]]
    #: how many establishments became complete on each day (own return or trust cover), if asked for
    completed_by_day: dict[date, int] | None = None

    def copy(self) -> Figures:
        """A copy to change freely: new groups and counts (the values and labels are immutable)."""
        return Figures(
            {
                dimension: [{**group, "counts": Counts(dict(group["counts"].by_status))} for group in groups]
                for dimension, groups in self.breakdowns.items()
            },
            None if self.completed_by_day is None else dict(self.completed_by_day),
        )


def breakdowns(cycle: Cycle, dimensions: list[str], trust_scope: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """The headline counts per phase, type, district and/or trust, in one statement whatever the number asked for.

    :returns: per dimension, rows of {"value", "label", "counts"}, largest group first
    """
    return figures(cycle, dimensions, trust_scope).breakdowns


def figures(cycle: Cycle, dimensions: list[str], trust_scope: int | None = None, *, by_day: bool = False) -> Figures:
    """The breakdowns, and (``by_day``) this cycle's completions per day for the chart: as kept since nothing
    they count last changed (``surveyapp.chasing.figures_cache``), else computed in one statement."""
    key = ("figures", cycle.id, cycle.reference_day, tuple(dimensions), trust_scope, by_day)
    return kept(key, lambda: _figures(cycle, dimensions, trust_scope, by_day=by_day), Figures.copy)


def _figures(cycle: Cycle, dimensions: list[str], trust_scope: int | None, *, by_day: bool) -> Figures:
    """The breakdowns, and (``by_day``) this cycle's completions per day for the chart: one statement.

    Each establishment's status, and the day it became complete, are worked out once, in a common table
    expression; each dimension is then one GROUP BY over it, by group and status, the days one more, and
    the groups come back together (UNION ALL): one row per group and status present, put together here.
    The expression carries the trust's id only: the trusts' UIDs and names are joined to their groups, not
    to every row. The day follows ``completions_by_day``: an own return's submission, or the trust's.
    """
    scope = Scope(cycle, trust_scope)
    # Joined here rather than asked with IN as the Scope does: the day a trust's return covered an academy
    # is needed too, and the join gives both from one read of the covering returns.
    cover = trust_cover([cycle.id]).subquery("cover")
    status = effective_status(cover.c.establishment_id.is_not(None))
    each = (
        scope.select(
            Establishment.phase.label("phase"),
            Establishment.type_name.label("type"),
            Establishment.district.label("district"),
            Establishment.trust_id.label("trust_id"),
            status.label("status"),
            # as text, so the days share the UNION's columns with the groups' names
            cast(func.date(completed_at(cover.c.covered_at)), String).label("completed_on"),
        )
        .outerjoin(cover, cover.c.establishment_id == Assignment.establishment_id)
        .cte("each_establishment")
    )
    parts = []
    for dimension in dimensions:
        if dimension == "trust":
            groups = (
                select(each.c.trust_id, each.c.status, func.count().label("number"))
                .group_by(each.c.trust_id, each.c.status)
                .subquery("trust_groups")
            )
            parts.append(
                select(literal(dimension), Trust.uid, Trust.name, groups.c.status, groups.c.number)
                .select_from(groups)
                .outerjoin(Trust, Trust.id == groups.c.trust_id)
            )
        else:
            value = each.c[dimension]
            parts.append(
                select(literal(dimension), value, value, each.c.status, func.count()).group_by(value, each.c.status)
            )
    if by_day:
        day = each.c.completed_on
        parts.append(
            select(literal("completed_on"), day, day, literal("complete"), func.count())
            .where(day.is_not(None))
            .group_by(day)
        )
    if not parts:
        return Figures({}, {} if by_day else None)
    groups_found: dict[tuple[str, Any], dict[str, Any]] = {}
    days: dict[date, int] = {}
    for dimension, value, name, group_status, number in db.session.execute(union_all(*parts)).all():
        if dimension == "completed_on":
            days[_as_date(value)] = number
            continue
        group = groups_found.get((dimension, value))
        if group is None:
            if dimension == "trust":
                shown = (value, name) if value is not None else ("none", "Not in a trust")
            else:
                shown = (value or "", value or "Not recorded")
            group = groups_found[(dimension, value)] = {"value": shown[0], "label": shown[1], "counts": Counts()}
        group["counts"].by_status[group_status] = number
    found: dict[str, list[dict[str, Any]]] = {dimension: [] for dimension in dimensions}
    for (dimension, _value), group in groups_found.items():
        found[dimension].append(group)
    for rows in found.values():
        rows.sort(key=lambda g: (-g["counts"].in_scope, g["label"]))
    return Figures(found, days if by_day else None)


def breakdown(cycle: Cycle, dimension: str, trust_scope: int | None = None) -> list[dict[str, Any]]:
    """The headline counts per phase, type, district or trust: one grouped query.

    :returns: rows of {"value", "label", "counts"}, largest group first
    """
    return breakdowns(cycle, [dimension], trust_scope)[dimension]


@dataclass
class GroupPage:
    """One page of a breakdown's groups: the national breakdown by trust has thousands."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int

    #: groups on a page of a full breakdown
    PER_PAGE: ClassVar[int] = 100

    @classmethod
    def of(cls, groups: list[dict[str, Any]], page: str | int = 1) -> GroupPage:
        """The requested page (the last one if past the end) of a breakdown's groups."""
        pages = max((len(groups) + cls.PER_PAGE - 1) // cls.PER_PAGE, 1)
        number = min(page_number(page), pages)
        start = (number - 1) * cls.PER_PAGE
        return cls(groups[start : start + cls.PER_PAGE], len(groups), number, pages)


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
        return self.last_failure_at is not None and (
            self.last_reminder_at is None or self.last_failure_at > self.last_reminder_at
        )


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


def _reminder_summary(cycle: Cycle, establishment_ids: list[int] | None = None):
    """Subquery per establishment: reminders sent, when the last went, and when one last failed."""
    query = (
        select(
            Reminder.establishment_id,
            func.count(case((Reminder.status == ReminderStatus.SENT, 1))).label("sent"),
            func.max(Reminder.sent_at).label("last_sent"),
            func.max(case((Reminder.status == ReminderStatus.FAILED, Reminder.created_at))).label("last_failed"),
        )
        .where(Reminder.cycle_id == cycle.id)
        .group_by(Reminder.establishment_id)
    )
    if establishment_ids is not None:
        query = query.where(Reminder.establishment_id.in_(establishment_ids))
    return query.subquery("chased")


def _dsl_contacts(establishment_ids: list[int] | None = None):
    """Subquery: each establishment's first DSL contact (an enabled user with the DSL role), by user id."""
    query = (
        select(EstablishmentContact.establishment_id, func.min(EstablishmentContact.user_id).label("user_id"))
        .join(User, User.id == EstablishmentContact.user_id)
        .where(EstablishmentContact.role == ContactRole.DSL, User.is_enabled.is_(True))
        .group_by(EstablishmentContact.establishment_id)
    )
    if establishment_ids is not None:
        query = query.where(EstablishmentContact.establishment_id.in_(establishment_ids))
    return query.subquery("dsl")


def _details(cycle: Cycle, rows) -> dict[int, tuple]:
    """Sections completed (kept on each response), DSL contact and reminders of the listed rows, by response
    id: one query.

    A page's rows are read by id, so the work is the same for 50 rows of 60 establishments or of 24,000;
    a longer list (an export) is read for the whole cycle in one pass instead of a long list of ids.
    """
    by_id = len(rows) <= _DETAILS_BY_ID
    response_ids = [row.response_id for row in rows] if by_id else None
    establishment_ids = [row.establishment_id for row in rows] if by_id else None
    dsl, chased = _dsl_contacts(establishment_ids), _reminder_summary(cycle, establishment_ids)
    dsl_user = aliased(User)
    query = (
        select(
            Response.id,
            Response.sections_completed,
            dsl_user.name,
            dsl_user.email,
            func.coalesce(chased.c.sent, 0),
            chased.c.last_sent,
            chased.c.last_failed,
        )
        .select_from(Response)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .outerjoin(dsl, dsl.c.establishment_id == Assignment.establishment_id)
        .outerjoin(dsl_user, dsl_user.id == dsl.c.user_id)
        .outerjoin(chased, chased.c.establishment_id == Assignment.establishment_id)
    )
    if by_id:
        query = query.where(Response.id.in_(response_ids))
    else:
        query = query.where(Assignment.cycle_id == cycle.id, Assignment.establishment_id.is_not(None))
    return {response_id: rest for response_id, *rest in db.session.execute(query)}


def _sort_key(query: Select, cycle: Cycle, filters: TrackerFilters, scope: Scope) -> tuple[Select, Any]:
    """The query with what the list's sort needs joined, and the sort's key. Sorting by reminders sent needs
    that figure for every matching row, so only that sort reads it."""
    if filters.sort == "sections":
        return query, Response.sections_completed
    if filters.sort == "reminders":
        chased = _reminder_summary(cycle)
        query = query.outerjoin(chased, chased.c.establishment_id == Establishment.id)
        return query, func.coalesce(chased.c.sent, 0)
    if filters.sort == "status":
        # In the order of the work, not of the alphabet: the least done first.
        return query, case(STATUS_ORDER, value=scope.status, else_=len(STATUS_ORDER))
    if filters.sort in ("urn", "phase", "district"):
        # Computed, not the bare (indexed, never null) column: the window count reads every matching row
        # anyway, but PostgreSQL 15 costs the page as if it read 50, and walks the column's index through
        # nested loops over all the rows instead of hash joins and a short sort (several times slower).
        column = {"urn": Establishment.urn, "phase": Establishment.phase, "district": Establishment.district}
        return query, func.coalesce(column[filters.sort], "")
    return query, {
        "name": func.lower(Establishment.name),
        "activity": Response.updated_at,
        "trust": Trust.name,
    }[filters.sort]


def _order(filters: TrackerFilters, key, name, establishment_id, *, reverse: bool = False) -> list:
    """ORDER BY the sort's key, then name and id so that pages never overlap (a total order).

    :param reverse: the exact reverse of that order, last row first (to read a late page from the end)
    """
    order = key.desc() if (filters.direction == "desc") != reverse else key.asc()
    if filters.sort in ("activity", "trust"):
        order = order.nulls_first() if reverse else order.nulls_last()
    if reverse:
        return [order, name.desc(), establishment_id.desc()]
    return [order, name, establishment_id]


def establishment_list(
    cycle: Cycle,
    filters: TrackerFilters,
    trust_scope: int | None = None,
    per_page: int = PER_PAGE,
    *,
    total: int | None = None,
) -> TrackerPage:
    """One page of the cycle's establishments, filtered, searched and sorted: two queries whatever the size.

    The first picks the page's rows and counts every match in the same pass (a window count), sorting
    narrow rows (ids, the sort's key and the status) and joining what the page shows to the chosen few
    only, so sorting and counting tens of thousands of matches stays cheap; the second reads the details
    of those rows alone (sections completed, DSL contact, reminders). A page past the end has no row to
    carry the count, so it costs one more query.

    :param total: how many establishments match, when the caller knows already (the headline's count of an
        unfiltered list): a page in the second half of the list is then read from the end, in the reverse
        order, so the database keeps only the rows from that end to the page while it sorts, not every row
        before it; and a page past the end costs no query
    """
    offset = (filters.page - 1) * per_page
    limit, reverse = per_page, False
    if total is not None:
        if offset >= total and filters.page > 1:
            return TrackerPage([], total, filters.page, per_page, 0)
        after = total - offset - per_page  # rows after this page
        if 0 < offset and after < offset:
            limit, offset, reverse = min(per_page, total - offset), max(after, 0), True
    scope = Scope(cycle, trust_scope)
    query, key = _sort_key(
        scope.select(
            Establishment.id.label("establishment_id"),
            Establishment.name.label("name"),
            Response.id.label("response_id"),
            scope.status.label("status"),
            # counted in the same pass unless known: a known count lets the database stop at the page
            (func.count().over() if total is None else literal(total)).label("total"),
        ),
        cycle,
        filters,
        scope,
    )
    sort_key = key.label("sort_key")
    chosen = (
        _apply_filters(query.add_columns(sort_key), scope, filters)
        .order_by(*_order(filters, sort_key, Establishment.name, Establishment.id, reverse=reverse))
        .limit(limit)
        .offset(offset)
        .subquery("chosen")
    )
    sections_total = select(func.count()).where(TemplateSection.template_id == cycle.template_id).scalar_subquery()
    rows = db.session.execute(
        select(
            chosen.c.establishment_id,
            Establishment.urn,
            Establishment.name,
            Establishment.phase,
            Establishment.type_name,
            Establishment.district,
            Trust.uid,
            Trust.name.label("trust_name"),
            chosen.c.response_id,
            chosen.c.status,
            Response.updated_at,
            chosen.c.total,
            sections_total.label("sections_total"),
        )
        .select_from(chosen)
        .join(Establishment, Establishment.id == chosen.c.establishment_id)
        .join(Response, Response.id == chosen.c.response_id)
        .outerjoin(Trust, Trust.id == Establishment.trust_id)
        .order_by(*_order(filters, chosen.c.sort_key, chosen.c.name, chosen.c.establishment_id))
    ).all()
    if not rows:
        if total is None:
            total = (
                db.session.scalar(_apply_filters(scope.select(func.count()), scope, filters)) if filters.page > 1 else 0
            )
        return TrackerPage([], total or 0, filters.page, per_page, 0)
    details = _details(cycle, rows)
    listed = []
    for row in rows:
        done, dsl_name, dsl_email, sent, last_sent, last_failed = details.get(
            row.response_id, (0, None, None, 0, None, None)
        )
        listed.append(
            TrackerRow(
                row.establishment_id,
                row.urn,
                row.name,
                row.phase,
                row.type_name,
                row.district,
                row.uid,
                row.trust_name,
                row.response_id,
                row.status,
                done,
                row.updated_at,
                dsl_name,
                dsl_email,
                sent,
                last_sent,
                last_failed,
            )
        )
    return TrackerPage(listed, rows[0].total, filters.page, per_page, rows[0].sections_total or 0)


def matching_establishments(cycle: Cycle, filters: TrackerFilters, trust_scope: int | None = None) -> Select:
    """SELECT of the ids of every establishment matching the filters: "all matching" in the reminder form."""
    scope = Scope(cycle, trust_scope)
    return _apply_filters(scope.select(Establishment.id), scope, filters)


def known_count(filters: TrackerFilters, counts: Counts, breakdowns: dict[str, list[dict[str, Any]]]) -> int | None:
    """How many establishments the list's filters match, when the page's figures hold it already: the
    headline's counts (no filter but the status) or one breakdown's group (a phase, type, district or trust,
    with or without a status). None for anything else (a search, two dimensions, no DSL contact).

    Knowing it, the list neither counts its matches again nor (unfiltered) reads the cycle before a late page.
    """
    if filters.q or filters.no_contact:
        return None
    chosen = [(key, value) for key, value in ((k, getattr(filters, k)) for k in DIMENSIONS) if value]
    if len(chosen) > 1:
        return None
    if chosen:
        key, value = chosen[0]
        if key not in breakdowns:
            return None
        group = next((g for g in breakdowns[key] if str(g["value"]) == value), None)
        if group is None:
            return 0  # no establishment in scope has it: the list is empty
        counts = group["counts"]
    if filters.status in STATUS_GROUPS:
        return sum(counts.by_status[key] for key in STATUS_GROUPS[filters.status])
    if filters.status:
        return counts.by_status[filters.status]
    return counts.in_scope


def choices_from_breakdowns(breakdowns: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple[str, str]]]:
    """The filter form's choices from the page's breakdowns (they hold every value present): no more queries."""
    choices: dict[str, list[tuple[str, str]]] = {}
    for key in DIMENSIONS:
        rows = breakdowns.get(key, [])
        values = [(str(g["value"]), g["label"]) for g in rows if g["value"] not in ("", "none")]
        choices[key] = sorted(values, key=lambda pair: pair[1].lower())
    return choices


# --- submissions over time -----------------------------------------------------------------


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def completions_by_day(cycles: list[Cycle], trust_scope: int | None = None) -> dict[int, tuple[int, dict[date, int]]]:
    """Per cycle: establishments in scope, and how many became complete on each day. One query for all the cycles.

    An establishment's own return counts from its submission date; one covered by a returned trust
    response (without its own) counts from the trust's date.

    :returns: {cycle id: (in scope, {day: number})}, as kept since nothing they count last changed
    """
    key = ("completions_by_day", tuple((cycle.id, cycle.reference_day) for cycle in cycles), trust_scope)
    return kept(
        key,
        lambda: _completions_by_day(cycles, trust_scope),
        lambda found: {cycle_id: (in_scope, dict(days)) for cycle_id, (in_scope, days) in found.items()},
    )


def _completions_by_day(cycles: list[Cycle], trust_scope: int | None) -> dict[int, tuple[int, dict[date, int]]]:
    ids = [cycle.id for cycle in cycles]
    cover = trust_cover(ids).subquery("cover")
    day = func.date(completed_at(cover.c.covered_at))
    query = (
        select(Assignment.cycle_id, day, func.count())
        .select_from(Assignment)
        .join(Response, Response.assignment_id == Assignment.id)
        .outerjoin(
            cover,
            and_(cover.c.cycle_id == Assignment.cycle_id, cover.c.establishment_id == Assignment.establishment_id),
        )
        .where(
            Assignment.cycle_id.in_(ids),
            Assignment.establishment_id.is_not(None),
            or_(*(and_(Assignment.cycle_id == cycle.id, Assignment.counted_in(cycle)) for cycle in cycles)),
        )
        .group_by(Assignment.cycle_id, day)
    )
    if trust_scope is not None:
        query = query.join(Establishment, Establishment.id == Assignment.establishment_id).where(
            Establishment.trust_id == trust_scope
        )
    found: dict[int, tuple[int, dict[date, int]]] = {cycle_id: (0, {}) for cycle_id in ids}
    for cycle_id, when, number in db.session.execute(query):
        in_scope, days = found[cycle_id]
        if when is not None:
            days[_as_date(when)] = days.get(_as_date(when), 0) + number
        found[cycle_id] = (in_scope + number, days)
    return found


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
    """Cumulative completions against days before the due date, this cycle and the previous one.

    ``surveyapp.chasing.chart`` draws it; this module only reads the figures."""

    points: list[ProgressPoint]
    in_scope: int
    previous: Cycle | None
    previous_in_scope: int
    span: int  #: days from opening to due
    due_on: date
    today: date  #: the day the figures were read (the chart marks it)

    @property
    def opens_on(self) -> date:
        return self.due_on - timedelta(days=self.span)

    def table_points(self) -> list[ProgressPoint]:
        """Weekly rows (and the latest day) for the table alternative to the chart."""
        if not self.points:
            return []
        chosen = [p for p in self.points if p.days_before_due % 7 == 0]
        if not chosen or chosen[-1] is not self.points[-1]:
            chosen.append(self.points[-1])
        return chosen


def submissions_over_time(
    cycle: Cycle,
    trust_scope: int | None = None,
    on: date | None = None,
    in_scope: int | None = None,
    completed_by_day: dict[date, int] | None = None,
) -> Progress:
    """Cumulative completions per day from the cycle's opening to today (at most eight weeks past the due date),
    with the previous cycle's cumulative count at the same number of days before its due date.

    :param completed_by_day: this cycle's completions per day, when the page has them already (``figures``
        with ``by_day``); then ``in_scope`` must be given too, and only the previous cycle is read
    """
    on = on or today()
    end = min(on, max(cycle.due_on + timedelta(days=56), cycle.opens_on))
    previous = previous_cycle(cycle)
    if completed_by_day is not None and in_scope is None:
        raise ValueError("completed_by_day needs in_scope: the establishments it is out of")
    wanted = ([] if completed_by_day is not None else [cycle]) + ([previous] if previous else [])
    found = completions_by_day(wanted, trust_scope) if wanted else {}
    counted, this_days = found[cycle.id] if completed_by_day is None else (in_scope, completed_by_day)
    previous_in_scope, previous_days = found[previous.id] if previous else (0, {})
    in_scope = counted if in_scope is None else in_scope

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
    return Progress(
        points, in_scope, previous, previous_in_scope, (cycle.due_on - cycle.opens_on).days, cycle.due_on, on
    )
