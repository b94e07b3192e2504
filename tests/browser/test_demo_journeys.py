"""Each demo role's first hour, on the demo local authority itself: what they find, and at 320 px wide."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from surveyapp.actions.models import ActionItem
from surveyapp.audits.models import Answer, Assignment, Cycle, Response, ResponseStatus
from surveyapp.demo import DEMO_PASSWORD
from surveyapp.establishments.models import Establishment
from surveyapp.extensions import db
from tests.browser.journey import h1, press, sign_in_directly, visit
from tests.demo_copy import demo_copy

pytestmark = pytest.mark.browser

RETURNED = (ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED)


@pytest.fixture
def demo(app):
    """The demo LA in the test's database (built once per run, copied for each test); its sign-ins by role."""
    return {role: SimpleNamespace(email=email) for role, email in demo_copy().items()}


def as_user(page: Page, user) -> None:
    sign_in_directly(page, user, password=DEMO_PASSWORD)


def assert_no_sideways_scroll(page: Page) -> None:
    """The page itself never scrolls sideways (WCAG 1.4.10); wide tables scroll inside their own container."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if widths[0] <= widths[1]:
        return
    wide = page.evaluate(
        """(limit) => [...document.querySelectorAll('body *')]
        .filter((el) => !(el.parentElement && el.parentElement.closest('.app-table-scroll')))
        .filter((el) => el.getBoundingClientRect().right > limit + 1
                || (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible'
                    && el.clientWidth))
        .filter((el) => ![...el.children].some((child) => child.getBoundingClientRect().right > limit + 1))
        .slice(0, 5).map((el) => el.outerHTML.slice(0, 120))""",
        widths[1],
    )
    pytest.fail(f"{page.url} scrolls sideways at {widths[1]} px: it is {widths[0]} px wide, because of {wide}")


def planned_returns(slug: str) -> int:
    """How many returned responses in the cycle planned at least one action in a follow-up."""
    db.session.rollback()
    return db.session.scalar(
        select(func.count(func.distinct(Response.id)))
        .join(Assignment, Assignment.id == Response.assignment_id)
        .join(Cycle, Cycle.id == Assignment.cycle_id)
        .join(Answer, Answer.response_id == Response.id)
        .where(Cycle.slug == slug, Response.status.in_(RETURNED), Answer.follow_up.is_not(None))
    )


def test_the_lead_finds_the_actions_planned_in_the_demo_returns(page, demo):
    assert planned_returns("2026-27") > 0, "the demo's returns plan actions"
    as_user(page, demo["lead"])
    visit(page, "/cycles/2026-27")
    press(page, page.get_by_role("link", name="Action plans"))
    expect(h1(page)).to_have_text("Action plans")
    db.session.rollback()
    cycle = db.session.scalar(select(Cycle).where(Cycle.slug == "2026-27"))
    count = db.session.scalar(select(func.count()).select_from(ActionItem).where(ActionItem.cycle_id == cycle.id))
    assert count > 0
    assert count > 50, "the demo's actions fill more than one page"
    expect(page.locator("caption")).to_have_text(f"{count:,} actions 1 to 50 shown, soonest target date first")
    # The follow-ups the DSLs wrote are the actions shown, with their owners: the first page holds the 50 with the
    # soonest target dates.
    first_page = db.session.scalars(
        select(ActionItem)
        .join(Establishment, Establishment.id == ActionItem.establishment_id)
        .where(ActionItem.cycle_id == cycle.id)
        .order_by(ActionItem.target_date.asc().nulls_last(), Establishment.name, ActionItem.id)
        .limit(50)
    ).all()
    planned = next(item for item in first_page if item.owner)
    expect(page.get_by_role("cell", name=planned.action, exact=False).first).to_be_visible()
    press(page, page.get_by_role("link", name="Next"))
    expect(page).to_have_title(re.compile(rf"^Actions \(page 2 of {-(-count // 50)}\)"))

    visit(page, "/cycles/2026-27")
    press(page, page.get_by_role("link", name="Overdue actions"))
    expect(h1(page)).to_have_text("Overdue actions")
    expect(page.locator("caption")).not_to_have_text(re.compile(r"^0 "))


LEAD_PAGES = [
    "/",
    "/cycles/",
    "/cycles/2026-27",
    "/cycles/2026-27?status=in_progress&page=2",
    "/cycles/2026-27/tracker",
    "/cycles/2026-27/analysis",
    "/cycles/2026-27/analysis/establishments",
    "/cycles/2026-27/actions?overdue=1",
    "/establishments/",
    "/activity",
    "/users",
]


@pytest.mark.parametrize("role", ["lead", "board", "dsl", "dsl_two_schools", "trust_lead"])
def test_each_roles_main_pages_fit_320_px_without_sideways_scroll(page, demo, role):
    page.set_viewport_size({"width": 320, "height": 640})
    as_user(page, demo[role])
    if role in ("lead", "board"):
        paths = LEAD_PAGES if role == "lead" else ["/", "/cycles/", "/cycles/2026-27", "/cycles/2026-27/analysis"]
        for path in paths:
            visit(page, path)
            assert_no_sideways_scroll(page)
        return
    visit(page, "/audits/")
    assert_no_sideways_scroll(page)
    links = page.locator("main table a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(min(links.count(), 3))]
    for href in hrefs:
        visit(page, href)
        assert_no_sideways_scroll(page)
        for more in ("Check your answers", "View your results", "View your action plan"):
            link = page.get_by_role("link", name=re.compile(more))
            if link.count():
                press(page, link.first)
                assert_no_sideways_scroll(page)
                page.go_back()
                check_page_again(page)


def check_page_again(page: Page) -> None:
    from tests.browser.accessibility import check_page

    check_page(page)
