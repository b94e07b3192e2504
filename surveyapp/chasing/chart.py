"""The tracker's chart of returns over time: where its lines, dates and labels go, for an inline SVG.

Plain functions over a ``tracker.Progress``, no Flask and no database. The time axis is this cycle's
calendar, from its opening to its due date (or to the last day shown, once it is overdue); last year's
line is drawn at the same number of days before its own due date, so both lines read against one set of
dates. The page draws the result (templates/chasing/tracker.html), with a table of the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from surveyapp.chasing.tracker import Progress

#: the service's typeface: GOV.UK Frontend's font stack with GDS Transport removed (see scripts/setup).
#: Named on the SVG, since nothing above it sets a font and SVG text would otherwise fall back to a serif.
FONT_FAMILY = "arial, sans-serif"
#: GOV.UK style's short month names ("Sept", not "Sep")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec")
#: the closest two date labels' centres may be, in the drawing's units: "30 Sept" at 12px is about 40 wide
LABEL_GAP = 48


def short_date(day: date) -> str:
    """'1 Oct': a date on the time axis."""
    return f"{day.day} {MONTHS[day.month - 1]}"


@dataclass
class Tick:
    """A date on the time axis. Opening, due date and today are ``marked`` (bold); the due date is red."""

    x: float
    label: str
    kind: str  #: "opens", "due", "today" or "month" ("week" on a short cycle)

    @property
    def marked(self) -> bool:
        return self.kind not in ("month", "week")


@dataclass
class Marker:
    """A vertical line across the plot (the due date, today), named above it."""

    x: float
    label: str
    kind: str  #: "due" or "today"
    anchor: str = "middle"  #: where the name sits against the line: "middle", "start" (right of it) or "end"

    @property
    def label_x(self) -> float:
        return self.x + {"middle": 0, "start": 4, "end": -4}[self.anchor]


@dataclass
class Chart:
    """Everything the SVG needs, in the units of its viewBox."""

    width: int
    height: int
    left: float
    right: float  #: the plot's right edge
    top: float
    bottom: float
    this: str  #: polyline points of this cycle's percentage complete
    previous: str  #: the same for the previous cycle, or ""
    ticks: list[Tick] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    levels: list[tuple[float, str]] = field(default_factory=list)  #: (y, "50%") on the percentage axis
    font_family: str = FONT_FAMILY

    @property
    def mid(self) -> float:
        return round((self.top + self.bottom) / 2, 1)


def progress_chart(progress: Progress, width: int = 600, height: int = 260) -> Chart:
    """Place the cycle's and the previous cycle's percentage complete against this cycle's dates."""
    left, right, top, bottom = 44, width - 44, 28, height - 44
    opens_on = progress.opens_on
    last = max([progress.due_on, *(p.day for p in progress.points)])
    days = max((last - opens_on).days, 1)

    def x(day: date) -> float:
        return round(left + (day - opens_on).days * (right - left) / days, 1)

    def y(number: int, total: int) -> float:
        share = number / total if total else 0
        return round(bottom - share * (bottom - top), 1)

    this = " ".join(f"{x(p.day)},{y(p.complete, progress.in_scope)}" for p in progress.points)
    previous = " ".join(
        f"{x(p.day)},{y(p.previous_complete, progress.previous_in_scope)}"
        for p in progress.points
        if p.previous_complete is not None
    )
    today = progress.today if opens_on <= progress.today <= last else None
    return Chart(
        width,
        height,
        left,
        right,
        top,
        bottom,
        this,
        previous,
        ticks=_ticks(opens_on, progress.due_on, today, last, x),
        markers=_markers(progress.due_on, today, x),
        levels=[(y(share, 100), f"{share}%") for share in (0, 50, 100)],
    )


def _ticks(opens_on: date, due_on: date, today: date | None, last: date, x) -> list[Tick]:
    """The dates under the axis: opening, due date and today first, then the first of each month (or each
    week, on a cycle shorter than two months) wherever it leaves room to read them all."""
    wanted = [(due_on, "due"), (opens_on, "opens")] + ([(today, "today")] if today else [])
    regular = _month_starts(opens_on, last)
    kind = "month"
    if len(regular) < 2:
        regular, kind = [opens_on + timedelta(days=7 * n) for n in range(1, (last - opens_on).days // 7 + 1)], "week"
    regular = _thinned(regular, x)
    wanted += [(day, kind) for day in regular]
    chosen: list[Tick] = []
    for day, name in wanted:
        at = x(day)
        if all(abs(at - tick.x) >= LABEL_GAP for tick in chosen):
            chosen.append(Tick(at, short_date(day), name))
    return sorted(chosen, key=lambda tick: tick.x)


def _month_starts(first: date, last: date) -> list[date]:
    day = date(first.year, first.month, 1)
    found = []
    while day <= last:
        if day >= first:
            found.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return found


def _thinned(days: list[date], x) -> list[date]:
    """Every second (third...) date when all of them would crowd the axis on a long cycle."""
    step = 1
    while len(days) > step and x(days[step]) - x(days[0]) < LABEL_GAP:
        step += 1
    return days[::step]


def _markers(due_on: date, today: date | None, x) -> list[Marker]:
    """The due date's and today's lines, their names set apart when the two days are close."""
    if today == due_on:
        return [Marker(x(due_on), "Due today", "due")]
    due = Marker(x(due_on), "Due", "due")
    if today is None:
        return [due]
    now = Marker(x(today), "Today", "today")
    if abs(now.x - due.x) < LABEL_GAP:
        # Side by side, each name on the outer side of its line.
        earlier, later = (now, due) if today < due_on else (due, now)
        earlier.anchor, later.anchor = "end", "start"
    return [due, now]
