"""The tracker's chart of returns over time, as the lead sees it: dates on its time axis, in the service's font."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise

import pytest
from playwright.sync_api import expect

from surveyapp.audits.models import ResponseStatus
from surveyapp.chasing.chart import short_date
from surveyapp.extensions import db
from surveyapp.timeutil import today
from tests.browser.journey import sign_in, visit
from tests.chasing.helpers import set_status

pytestmark = pytest.mark.browser

SHORT_DATE = re.compile(r"^\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept|Oct|Nov|Dec)$")


@pytest.fixture
def cycle_under_way(make):
    """A cycle that opened ten weeks ago and is due in two months, three of its four schools returned."""
    opens_on, due_on = today() - timedelta(days=70), today() + timedelta(days=60)
    schools = [make.establishment(name=f"School {n}", urn=f"70000{n}") for n in range(1, 5)]
    cycle = make.cycle(opens_on=opens_on, due_on=due_on)
    for school, days_in in zip(schools[:3], (10, 30, 50), strict=True):
        set_status(
            cycle,
            ResponseStatus.SUBMITTED,
            establishment=school,
            submitted_at=datetime.combine(opens_on + timedelta(days=days_in), time(10), UTC),
        )
    lead = make.lead()
    db.session.commit()
    return {"cycle": cycle, "lead": lead, "opens_on": opens_on, "due_on": due_on}


def test_the_chart_of_returns_over_time_has_dates_on_its_axis_in_the_services_font(page, cycle_under_way):
    sign_in(page, cycle_under_way["lead"])
    visit(page, f"/cycles/{cycle_under_way['cycle'].slug}/tracker")
    chart = page.get_by_role("img", name=re.compile("Percentage of establishments complete"))
    expect(chart).to_be_visible()

    dates = chart.locator(".app-chart__dates text")
    labels = dates.all_text_contents()
    assert all(SHORT_DATE.match(label) for label in labels), labels
    # The opening, today and the due date, with the months between them.
    opens_on, due_on = cycle_under_way["opens_on"], cycle_under_way["due_on"]
    for day in (opens_on, today(), due_on):
        assert short_date(day) in labels, (day, labels)
    assert len(labels) >= 5, labels
    # In order along the axis, and no two overlapping.
    boxes = [dates.nth(n).bounding_box() for n in range(len(labels))]
    for left, right in pairwise(boxes):
        assert left["x"] + left["width"] < right["x"], labels
    expect(chart.locator("text", has_text=re.compile(r"^Due$"))).to_have_count(1)
    expect(chart.locator("text", has_text=re.compile(r"^Today$"))).to_have_count(1)

    # Every word on the chart in the font of the page around it (Arial's stack), never the browser's serif.
    page_font = page.locator("#headline").evaluate("element => getComputedStyle(element).fontFamily")
    assert "arial" in page_font.lower()
    fonts = chart.locator("text").evaluate_all("texts => texts.map(text => getComputedStyle(text).fontFamily)")
    assert fonts and set(fonts) == {page_font}, fonts
