"""The tracker's chart of returns over time: dates on its axis and the due date and today marked, without a database."""

from __future__ import annotations

from datetime import date, timedelta

from surveyapp.chasing.chart import FONT_FAMILY, progress_chart, short_date
from surveyapp.chasing.tracker import Progress, ProgressPoint

OPENS, DUE = date(2026, 9, 1), date(2027, 3, 31)


def _progress(on: date, opens_on: date = OPENS, due_on: date = DUE) -> Progress:
    """One point a day from the opening to `on` (at most eight weeks past the due date), as the tracker reads them."""
    end = min(on, due_on + timedelta(days=56))
    days = [opens_on + timedelta(days=n) for n in range((end - opens_on).days + 1)]
    points = [ProgressPoint((due_on - day).days, day, n // 10, None) for n, day in enumerate(days)]
    return Progress(points, 40, None, 0, (due_on - opens_on).days, due_on, on)


def _labels(chart) -> list[tuple[str, str]]:
    return [(tick.label, tick.kind) for tick in chart.ticks]


def test_short_dates_are_in_govuk_style():
    assert [short_date(date(2026, 9, 1)), short_date(date(2027, 3, 31))] == ["1 Sept", "31 Mar"]


def test_the_axis_shows_the_opening_today_the_due_date_and_the_months_that_leave_room():
    chart = progress_chart(_progress(date(2026, 11, 20)))
    # 1 November and 1 December sit too close to today's date to be read beside it.
    assert _labels(chart) == [
        ("1 Sept", "opens"),
        ("1 Oct", "month"),
        ("20 Nov", "today"),
        ("1 Jan", "month"),
        ("1 Feb", "month"),
        ("1 Mar", "month"),
        ("31 Mar", "due"),
    ]
    assert (chart.ticks[0].x, chart.ticks[-1].x) == (chart.left, chart.right)
    assert [(marker.label, marker.anchor) for marker in chart.markers] == [("Due", "middle"), ("Today", "middle")]
    assert chart.font_family == FONT_FAMILY == "arial, sans-serif"
    assert [label for _, label in chart.levels] == ["0%", "50%", "100%"]


def test_today_and_the_due_date_close_together_are_named_either_side_of_their_lines():
    before = progress_chart(_progress(date(2027, 3, 25)))
    assert [(m.label, m.anchor) for m in before.markers] == [("Due", "start"), ("Today", "end")]
    after = progress_chart(_progress(date(2027, 4, 5)))
    assert [(m.label, m.anchor) for m in after.markers] == [("Due", "end"), ("Today", "start")]
    assert after.ticks[-1].label == "31 Mar" and after.right > [t for t in after.ticks if t.kind == "due"][0].x
    on_the_day = progress_chart(_progress(DUE))
    assert [m.label for m in on_the_day.markers] == ["Due today"]


def test_long_after_the_due_date_today_is_off_the_chart_and_a_short_cycle_counts_in_weeks():
    late = progress_chart(_progress(date(2027, 9, 1)))
    assert [m.kind for m in late.markers] == ["due"] and "today" not in [kind for _, kind in _labels(late)]
    short = progress_chart(_progress(date(2026, 11, 20), opens_on=date(2026, 11, 1), due_on=date(2026, 11, 30)))
    assert _labels(short) == [
        ("1 Nov", "opens"),
        ("8 Nov", "week"),
        ("15 Nov", "week"),
        ("20 Nov", "today"),
        ("30 Nov", "due"),
    ]
