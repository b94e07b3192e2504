"""The lead disables, re-enables and removes people; a disabled DSL loses access mid-session."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from surveyapp.extensions import db
from tests.browser.accessibility import AXE_SCRIPT
from tests.browser.journey import h1, press, response_of, sign_in_directly, visit
from tests.browser.support import VIEWPORT

pytestmark = pytest.mark.browser


@pytest.fixture
def dsl_page(new_context, live_server):
    """A second browser (its own cookies) for the DSL, beside the lead's."""
    context = new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/London")
    context.add_init_script(script=AXE_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def test_the_lead_disables_a_dsl_mid_session_then_enables_them_again(page, dsl_page, make):
    school = make.establishment(name="Oak Primary")
    dsl = make.dsl(school, name="Dana Leaver", email="dana@oak.example.org")
    lead = make.lead()
    make.cycle()
    response = response_of(establishment=school)

    sign_in_directly(dsl_page, dsl)
    visit(dsl_page, f"/audits/{response.id}/")
    expect(h1(dsl_page)).to_have_text("Safeguarding audit 2026-27")

    sign_in_directly(page, lead)
    visit(page, "/users")
    expect(h1(page)).to_have_text("Users")
    press(page, page.get_by_role("button", name="Disable dana@oak.example.org"))
    expect(page.get_by_text("Dana Leaver (dana@oak.example.org) has been disabled")).to_be_visible()
    expect(page.get_by_role("row", name="dana@oak.example.org").get_by_text("Disabled")).to_be_visible()

    # The DSL, mid-session, follows a link: their access has ended.
    press(dsl_page, dsl_page.get_by_role("link", name="Your audits").first)
    expect(h1(dsl_page)).to_have_text("Sign in")

    press(page, page.get_by_role("button", name="Enable dana@oak.example.org"))
    expect(page.get_by_text("Dana Leaver (dana@oak.example.org) can sign in again.")).to_be_visible()


def test_the_lead_removes_a_person_from_an_establishment(page, make):
    school = make.establishment(name="Oak Primary", urn="300001")
    make.dsl(school, name="Lee Leaver", email="lee@oak.example.org")
    make.dsl(school, deputy=True, name="Sam Stayer", email="sam@oak.example.org")
    lead = make.lead()
    db.session.commit()

    sign_in_directly(page, lead)
    visit(page, "/establishments/300001")
    expect(h1(page)).to_have_text("Oak Primary")
    press(page, page.get_by_role("button", name="Remove lee@oak.example.org"))
    expect(page.get_by_text("Lee Leaver (lee@oak.example.org) has been removed from Oak Primary.")).to_be_visible()
    contacts = page.get_by_role("table", name="Designated safeguarding leads and deputies of Oak Primary")
    expect(contacts.get_by_role("row")).to_have_count(2)  # the header and Sam
    expect(contacts).to_contain_text("sam@oak.example.org")
