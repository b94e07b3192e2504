"""The lead closes a cycle while a DSL has a section open; the DSL's save is refused and nothing is lost;
the lead agrees an extension and reopens the cycle; the DSL saves. In a real browser, CSRF on, axe on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from surveyapp.audits.models import SectionProgress
from surveyapp.extensions import db
from tests.browser.accessibility import AXE_SCRIPT
from tests.browser.journey import h1, press, response_of, sign_in, sign_out, visit
from tests.browser.support import VIEWPORT

pytestmark = pytest.mark.browser


@pytest.fixture
def world(make):
    school = make.establishment(name="Ash Primary", urn="100001")
    dsl = make.dsl(school, name="Dee DSL")
    lead = make.lead(name="Lee Lead", email="lee.lead@example.gov.uk")
    cycle = make.cycle()
    cycle.created_by_id = lead.id
    db.session.commit()
    return {"school": school, "dsl": dsl, "lead": lead, "cycle": cycle, "response": response_of(school)}


def test_a_dsl_saving_after_the_lead_closed_the_cycle_loses_nothing(page, new_context, live_server, world):
    response = world["response"]
    sign_in(page, world["dsl"])
    visit(page, f"/audits/{response.id}/sections/policies")
    page.get_by_label("Anything else?").fill("Governors review it every spring")

    # The lead, in another browser.
    lead_context = new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/London")
    lead_context.add_init_script(script=AXE_SCRIPT)
    lead_page = lead_context.new_page()
    sign_in(lead_page, world["lead"])
    visit(lead_page, "/cycles/2026-27/")
    press(lead_page, lead_page.get_by_role("link", name="Close the cycle"))
    expect(h1(lead_page)).to_have_text("Close the cycle")
    lead_page.get_by_label("Reason (optional)").fill("Returns went to committee")
    press(lead_page, lead_page.get_by_role("button", name="Close the cycle"))
    expect(lead_page.get_by_text("is closed")).to_be_visible()

    # The DSL saves the page they had open.
    press(page, page.get_by_role("button", name="Save and continue"))
    expect(h1(page)).to_have_text("Safeguarding audit 2026-27 is closed")
    expect(page.get_by_text("lee.lead@example.gov.uk")).to_be_visible()
    expect(page.get_by_text("Governors review it every spring")).to_be_visible()
    db.session.expire_all()
    assert db.session.scalar(select(SectionProgress).where(SectionProgress.response_id == response.id)) is None

    # The lead agrees an extension with the school and reopens the cycle with a reason.
    press(lead_page, lead_page.get_by_role("link", name="Reopen the cycle"))
    press(lead_page, lead_page.get_by_role("button", name="Reopen the cycle"))
    expect(lead_page.get_by_text("Say why you are reopening the cycle").first).to_be_visible()
    lead_page.get_by_label("Why are you reopening it?").fill("Ash Primary agreed a late return")
    press(lead_page, lead_page.get_by_role("button", name="Reopen the cycle"))
    press(lead_page, lead_page.get_by_role("link", name="Change the due date or agree an extension"))
    lead_page.get_by_label("Day").fill("30")
    lead_page.get_by_label("Month").fill("4")
    lead_page.get_by_label("Year").fill("2027")
    lead_page.get_by_label("URN of one establishment (optional)").fill("100001")
    press(lead_page, lead_page.get_by_role("button", name="Save the due date"))
    expect(lead_page.get_by_text("Ash Primary has an extension to 30 April 2027.")).to_be_visible()

    visit(page, f"/audits/{response.id}/")
    expect(page.get_by_text("30 April 2027")).to_be_visible()
    sign_out(page)
