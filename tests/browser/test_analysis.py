"""A board member reads the analysis in a real browser: the overview, each page of detail, the establishments
behind a figure, and a DSL their own results; axe and the structural checks on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from surveyapp.extensions import db
from tests.analysis.scenario import build_database
from tests.browser.journey import h1, press, sign_in_directly, visit

pytestmark = pytest.mark.browser


def test_a_board_member_walks_the_overview_and_every_page_of_detail(page, make):
    build_database(make)
    board = make.board()
    db.session.commit()
    sign_in_directly(page, board)

    visit(page, "/cycles/2026-27/analysis")
    expect(h1(page)).to_have_text("Completion and gaps")
    expect(page.locator("#denominators")).to_contain_text("of the 4 establishments that have returned")
    expect(page.locator("svg[role=img] a")).to_have_count(0)  # nothing to select inside a chart
    headline = page.get_by_role("table", name="Headline figures")
    expect(headline.get_by_role("row", name=re.compile("^Meet every requirement"))).to_contain_text(
        "4 that have returned"
    )

    nav = page.get_by_role("navigation", name="Analysis pages")
    press(page, nav.get_by_role("link", name="By topic"))
    expect(h1(page)).to_have_text("By topic")
    expect(page.locator("svg[role=img] a")).to_have_count(0)
    press(page, page.get_by_role("link", name="3 at least one gap: Prevent"))
    expect(h1(page)).to_have_text(
        "Establishments that answered the Prevent questions and have at least one gap among them"
    )
    expect(page.locator("#count")).to_have_text("3 of the 4 establishments that answered these questions (75%).")
    press(page, page.get_by_role("link", name="Back to the analysis"))
    expect(h1(page)).to_have_text("Completion and gaps")
    press(page, page.get_by_role("navigation", name="Analysis pages").get_by_role("link", name="By section"))
    expect(h1(page)).to_have_text("By section")
    expect(page.get_by_role("table", name="Requirements by section (table)")).to_contain_text("Prevent duty")

    nav = page.get_by_role("navigation", name="Analysis pages")
    press(page, nav.get_by_role("link", name="Each question"))
    expect(h1(page)).to_have_text("Each question")
    expect(page.locator("svg[role=img]")).to_contain_text("Has the DSL completed WRAP?")
    press(page, page.get_by_role("link", name="2 partly met: Has the DSL completed WRAP?"))
    expect(page.locator("#count")).to_have_text("2 of the 4 establishments that have returned (50%).")
    expect(page.get_by_role("table")).to_contain_text("Beta Academy")

    visit(page, "/cycles/2026-27/analysis")
    nav = page.get_by_role("navigation", name="Analysis pages")
    press(page, nav.get_by_role("link", name="Compared with last year"))
    expect(h1(page)).to_have_text("Compared with last year")
    expect(page.locator("#basis")).to_contain_text("only the 3 that returned in both years are compared")
    expect(page.locator("svg[role=img] a")).to_have_count(0)


def test_a_dsl_reads_their_results_with_the_denominator_named(page, make):
    made = build_database(make)
    dsl = make.dsl(made["C"])
    db.session.commit()
    sign_in_directly(page, dsl)
    visit(page, f"/audits/{made['responses']['C'].id}/results")
    expect(h1(page)).to_have_text("Your results beside the local authority’s")
    expect(page.get_by_text(re.compile("share of the 4 establishments that have returned"))).to_be_visible()
