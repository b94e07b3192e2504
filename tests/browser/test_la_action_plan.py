"""The LA's action plan in a real browser: the lead adds (from a finding), edits, reports progress, meets a stale
edit and the overdue view; a board viewer reads it all and changes nothing. Every page passes the axe checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.la_actions import services
from surveyapp.la_actions.models import LaAction
from surveyapp.timeutil import today
from tests.browser.journey import fill_date, h1, press, sign_in, visit
from tests.exports import cycle_data

pytestmark = pytest.mark.browser


@pytest.fixture
def plan_world(make):
    built = cycle_data.build(make)
    lead, board = make.lead(name="Lee Lead"), make.board()
    db.session.commit()
    return {**built, "lead": lead, "board": board}


def _fresh(reference: str) -> LaAction:
    db.session.rollback()  # see what the live server committed
    return db.session.scalar(select(LaAction).where(LaAction.reference == reference))


def test_the_lead_keeps_the_plan(page, plan_world):
    sign_in(page, plan_world["lead"])
    press(page, page.get_by_role("navigation", name="Menu").get_by_role("link", name="LA action plan"))
    expect(h1(page)).to_have_text("The local authority’s action plan")
    expect(page.get_by_text("The plan has no actions yet.")).to_be_visible()

    # From a finding: the question's gaps in the cycle, and the establishments behind them.
    press(page, page.get_by_role("button", name="Start an action from an audit finding"))
    expect(h1(page)).to_have_text("Start an action from an audit finding")
    press(page, page.get_by_role("link", name="Start an action on “When was the policy last reviewed?”"))
    expect(h1(page)).to_have_text("Add an action")
    expect(page.get_by_text("1 establishment did not fully meet “When was the policy last reviewed?”")).to_be_visible()

    # A mistake first: the errors are summarised and linked to their fields.
    page.get_by_label("Action", exact=True).fill("Ask the schools behind the finding to review their policy")
    press(page, page.get_by_role("button", name="Save the action"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a reference")

    page.get_by_label("Reference", exact=True).fill("PP 01")
    page.get_by_label("Area", exact=True).select_option(label="Another area")
    page.get_by_label("Name of the new area").fill("Policy reviews")
    page.get_by_label("Lead", exact=True).fill("Principal Safeguarding Officer")
    fill_date(page.get_by_role("group", name="Target date"), today() - timedelta(days=3))
    page.get_by_role("group", name="RAG rating").get_by_label("Red").check()
    page.get_by_role("group", name="Status").get_by_label("In progress").check()
    objectives = page.get_by_role("group", name="Prevent objectives")
    objectives.get_by_label("2. Prevent people", exact=False).check()
    objectives.get_by_label("3. Work with sectors", exact=False).check()
    press(page, page.get_by_role("button", name="Save the action"))
    expect(h1(page)).to_have_text("Action PP 01")
    expect(page.get_by_text("This action is overdue")).to_be_visible()
    page.get_by_text("The 1 establishment behind this figure").click()
    expect(page.get_by_role("cell", name="200003")).to_be_visible()

    # A dated progress update.
    fill_date(page.get_by_role("group", name="Date of the update"), date(2026, 10, 31))
    page.get_by_label("Progress").fill("Oct update: letters sent to the school")
    press(page, page.get_by_role("button", name="Add the update"))
    expect(page.locator("#updates + ul")).to_contain_text("31 October 2026")

    # The overdue view lists it.
    visit(page, "/la-action-plan/overdue")
    expect(h1(page)).to_have_text("Overdue actions")
    expect(page.get_by_role("link", name="PP 01")).to_be_visible()

    # An edit, then a stale one: someone else saves while the page is open.
    visit(page, f"/la-action-plan/{_fresh('PP 01').id}/edit")
    expect(h1(page)).to_have_text("Change action PP 01")
    services.update_action(
        db.session, _fresh("PP 01"), expected_version=1, user=plan_world["lead"], lead="Head of Safeguarding"
    )
    db.session.commit()
    page.get_by_role("group", name="Status").get_by_label("Complete").check()
    press(page, page.get_by_role("button", name="Save the action"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("This action was changed by someone else")
    expect(page.locator("#their-version")).to_contain_text("Head of Safeguarding")
    assert _fresh("PP 01").status.value == "in_progress"
    press(page, page.get_by_role("button", name="Save the action"))  # deliberately, over their version
    expect(h1(page)).to_have_text("Action PP 01")
    assert _fresh("PP 01").status.value == "complete"
    visit(page, "/la-action-plan/overdue")
    expect(page.get_by_text("No action is overdue.")).to_be_visible()


def test_a_board_viewer_reads_the_plan_and_changes_nothing(page, plan_world):
    action = services.create_action(
        db.session,
        plan_world["lead"],
        reference="CS ALL 43",
        area="Training",
        action="Frontline staff understand Prevent",
        status="in_progress",
        rag="amber",
        target_date=today() - timedelta(days=1),
        objective_2=True,
    )
    services.add_update(
        db.session, action, plan_world["lead"], written_on=date(2026, 9, 30), text="Sept update: 252 attended"
    )
    db.session.commit()
    sign_in(page, plan_world["board"])
    visit(page, "/la-action-plan")
    expect(page.get_by_text("1 action: 1 open, of which 1 overdue, and 0 complete.")).to_be_visible()
    expect(page.get_by_role("button", name="Add an action")).to_have_count(0)
    expect(page.get_by_role("button", name="Start an action from an audit finding")).to_have_count(0)
    press(page, page.get_by_role("link", name="Overdue actions (1)"))
    press(page, page.get_by_role("link", name="CS ALL 43"))
    expect(h1(page)).to_have_text("Action CS ALL 43")
    expect(page.get_by_text("Sept update: 252 attended")).to_be_visible()
    expect(page.get_by_role("link", name="Change this action")).to_have_count(0)
    expect(page.get_by_role("button", name="Add the update")).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("link", name="Back to the action plan").click()
        page.wait_for_load_state()
        page.get_by_role("link", name="Download the action plan (spreadsheet)").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    from tests.browser.accessibility import check_page

    check_page(page)
    assert page.goto(f"/la-action-plan/{action.id}/edit").status == 403
    check_page(page)
