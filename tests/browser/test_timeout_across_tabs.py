"""The idle timeout with the site open in two tabs: the sign-in is one, so working in one tab keeps the
other from warning, or from going to the sign-in page, as if nothing were happening."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.journey import h1, sign_in_directly, visit

pytestmark = pytest.mark.browser

IDLE = 20  # seconds without a request before the sign-in ends
WARNING = 10  # seconds before that the warning opens


@pytest.fixture
def app_config():
    return {
        "WTF_CSRF_ENABLED": True,
        "SESSION_IDLE_TIMEOUT": timedelta(seconds=IDLE),
        "SESSION_TIMEOUT_WARNING": timedelta(seconds=WARNING),
    }


def _warning(page):
    return page.get_by_role("alertdialog", name="You’re about to be signed out")


def test_a_page_loaded_in_another_tab_puts_off_the_warning_in_this_one(page, make):
    school = make.establishment(name="Cedar Primary")
    dsl = make.dsl(school)
    make.cycle()
    sign_in_directly(page, dsl)
    visit(page, "/audits/")
    first_loaded = page.evaluate("Date.now()")

    page.wait_for_timeout(6000)
    other = page.context.new_page()
    visit(other, "/audits/")  # a request: the sign-in's idle time starts again
    other_loaded = other.evaluate("Date.now()")

    # Past the time this tab alone would have warned (10 s after its own page loaded, checked each second)
    # and well before the other tab's page makes it due.
    page.wait_for_timeout(max(0, first_loaded + (IDLE - WARNING + 2) * 1000 - page.evaluate("Date.now()")))
    assert page.evaluate("Date.now()") < other_loaded + (IDLE - WARNING) * 1000
    expect(_warning(page)).to_be_hidden()
    expect(_warning(other)).to_be_hidden()

    # Both warn when the latest request makes it due, and "Stay signed in" in one tab closes the other's.
    expect(_warning(page)).to_be_visible(timeout=(IDLE - WARNING + 2) * 1000)
    expect(_warning(other)).to_be_visible(timeout=2000)
    _warning(other).get_by_role("button", name="Stay signed in").click()
    expect(_warning(other)).to_be_hidden()
    expect(_warning(page)).to_be_hidden(timeout=2000)
    expect(h1(page)).to_have_text("Your audits")
