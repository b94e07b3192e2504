"""The idle timeout as a signed-in user meets it (WCAG 2.2.1): warned in a dialog before it, able to stay
signed in, and told once, on the sign-in page, why they were signed out; with the site open in two tabs,
warned only when neither has been used."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import check_page
from tests.browser.journey import h1, press, sign_in, sign_in_directly, visit

pytestmark = pytest.mark.browser

IDLE = 8  # seconds without a request before the sign-in ends
WARNING = 5  # seconds before that the warning opens


def _config(idle: int, warning: int) -> dict:
    return {
        "WTF_CSRF_ENABLED": True,
        "SESSION_IDLE_TIMEOUT": timedelta(seconds=idle),
        "SESSION_TIMEOUT_WARNING": timedelta(seconds=warning),
    }


@pytest.fixture
def app_config():
    return _config(IDLE, WARNING)


def _dsl_on_their_audits(page, make):
    school = make.establishment(name="Cedar Primary")
    dsl = make.dsl(school)
    make.cycle()
    sign_in_directly(page, dsl)
    visit(page, "/audits/")
    expect(h1(page)).to_have_text("Your audits")
    return dsl


def _warning(page):
    return page.get_by_role("alertdialog", name="You’re about to be signed out")


def test_the_warning_opens_before_the_timeout_and_staying_signed_in_keeps_the_sign_in(page, make):
    _dsl_on_their_audits(page, make)
    warning = _warning(page)
    expect(warning).to_be_hidden()

    # Opened before the end, with focus on the button that loses nothing, and a countdown.
    expect(warning).to_be_visible(timeout=(IDLE - WARNING + 2) * 1000)
    stay = warning.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    expect(warning).to_contain_text("For your security, we will sign you out in")
    expect(warning.locator("[data-timeout-countdown]")).to_have_text(re.compile(r"^[1-5] seconds?$"))
    check_page(page)  # axe and the page's structure, with the dialog open

    # Focus stays in the dialog: Tab from the last control comes back to the first.
    page.keyboard.press("Tab")
    expect(warning.get_by_role("button", name="Sign out")).to_be_focused()
    page.keyboard.press("Tab")
    expect(stay).to_be_focused()

    # Escape is "stay signed in": the dialog closes and the sign-in lasts past the first deadline.
    page.keyboard.press("Escape")
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=(IDLE - WARNING + 2) * 1000)  # counted again from the Escape
    stay.click()
    expect(warning).to_be_hidden()
    page.wait_for_timeout(3000)  # past where the sign-in would have ended without "Stay signed in"
    press(page, page.get_by_role("link", name="Cedar Primary"))
    expect(h1(page)).not_to_have_text("Sign in")


def test_doing_nothing_signs_out_with_one_banner_saying_why(page, make):
    dsl = _dsl_on_their_audits(page, make)
    expect(_warning(page)).to_be_visible(timeout=(IDLE - WARNING + 2) * 1000)
    with page.expect_navigation(timeout=(WARNING + 4) * 1000):
        pass  # the countdown runs out
    expect(h1(page)).to_have_text("Sign in")
    check_page(page)
    banners = page.locator(".govuk-notification-banner")
    expect(banners).to_have_count(1)
    expect(banners).to_contain_text(
        f"You were signed out after {IDLE} seconds of inactivity. Anything you saved is kept."
    )

    # Signing in again goes back to where they were.
    sign_in(page, dsl)
    expect(h1(page)).to_have_text("Your audits")


def test_a_page_opened_after_the_timeout_says_why_once(page, make):
    # No page open to warn (a link followed from elsewhere, a tab left for the night): the sign-in page
    # says why, without "Sign in to continue" beside it.
    school = make.establishment(name="Cedar Primary")
    dsl = make.dsl(school)
    make.cycle()
    sign_in_directly(page, dsl)
    page.wait_for_timeout((IDLE + 1) * 1000)
    visit(page, "/audits/")
    expect(h1(page)).to_have_text("Sign in")
    banners = page.locator(".govuk-notification-banner")
    expect(banners).to_have_count(1)
    expect(banners).to_contain_text(f"You were signed out after {IDLE} seconds of inactivity.")


def test_answers_typed_when_the_time_runs_out_are_kept(page, make):
    dsl = _dsl_on_their_audits(page, make)
    press(page, page.get_by_role("link", name="Cedar Primary"))
    press(page, page.get_by_role("link", name="Policies", exact=True))
    page.get_by_role("group", name="Is the child protection policy current?").get_by_label("Yes", exact=True).check()
    page.get_by_label("Anything else? (optional)").fill("Typed, then called away")
    with page.expect_navigation(timeout=(IDLE + 4) * 1000):
        pass  # the warning comes and goes unanswered
    expect(h1(page)).to_have_text("Sign in")
    check_page(page)
    banners = page.locator(".govuk-notification-banner")
    expect(banners).to_have_count(1)
    expect(banners).to_contain_text(
        f"You were signed out after {IDLE} seconds of inactivity, so your answers have "
        "not been saved yet. We have kept what you typed"
    )

    sign_in(page, dsl)
    expect(h1(page)).to_have_text("Policies")
    expect(page.get_by_label("Anything else? (optional)")).to_have_value("Typed, then called away")


# Longer than the module's times, for margins of seconds between when each tab would warn.
TABS_IDLE, TABS_WARNING = 20, 10


@pytest.mark.parametrize("app_config", [_config(TABS_IDLE, TABS_WARNING)], ids=["idle 20 s"])
def test_a_page_loaded_in_another_tab_puts_off_the_warning_in_this_one(page, make, app_config):
    # The sign-in is one for every tab: working in one keeps the other from warning, or from going to the sign-in
    # page, as if nothing were happening.
    _dsl_on_their_audits(page, make)
    first_loaded = page.evaluate("Date.now()")

    page.wait_for_timeout(6000)
    other = page.context.new_page()
    visit(other, "/audits/")  # a request: the sign-in's idle time starts again
    other_loaded = other.evaluate("Date.now()")

    # Past the time this tab alone would have warned (10 s after its own page loaded, checked each second)
    # and well before the other tab's page makes it due.
    page.wait_for_timeout(max(0, first_loaded + (TABS_IDLE - TABS_WARNING + 2) * 1000 - page.evaluate("Date.now()")))
    assert page.evaluate("Date.now()") < other_loaded + (TABS_IDLE - TABS_WARNING) * 1000
    expect(_warning(page)).to_be_hidden()
    expect(_warning(other)).to_be_hidden()

    # Both warn when the latest request makes it due, and "Stay signed in" in one tab closes the other's.
    expect(_warning(page)).to_be_visible(timeout=(TABS_IDLE - TABS_WARNING + 2) * 1000)
    expect(_warning(other)).to_be_visible(timeout=2000)
    _warning(other).get_by_role("button", name="Stay signed in").click()
    expect(_warning(other)).to_be_hidden()
    expect(_warning(page)).to_be_hidden(timeout=2000)
    expect(h1(page)).to_have_text("Your audits")
