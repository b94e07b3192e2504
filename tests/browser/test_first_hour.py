"""What a DSL and a lead meet in their first hour: hints that read, links that say where they go,
a task list that says what can be done, an activity log in words, the two-factor setting as set."""

from __future__ import annotations

import copy

import pytest
from playwright.sync_api import expect

from surveyapp.activity.services import record
from surveyapp.extensions import db
from surveyapp.timeutil import today
from tests.browser.accessibility import check_page
from tests.browser.journey import (
    answer_well,
    declare_and_submit,
    h1,
    press,
    sign_in_directly,
    visit,
)
from tests.factories import SMALL_TEMPLATE

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    # Board viewers only: the users page must say so, not "leads and board viewers".
    return {"WTF_CSRF_ENABLED": True, "TWO_FACTOR_ROLES": ["board"]}


def test_a_dsl_finds_their_results_and_action_plan_from_every_place_after_submitting(page, make):
    school = make.establishment(name="Rowan Primary")
    dsl = make.dsl(school, name="Dee Lead")
    # The small template, with a follow-up on its percentage question (a gap below 90).
    definition = copy.deepcopy(SMALL_TEMPLATE)
    definition["sections"][1]["questions"][1]["follow_up"] = {"prompt": "What will you do?"}
    cycle = make.cycle(template=make.template(definition))
    sections = cycle.template.sections
    db.session.commit()
    sign_in_directly(page, dsl)

    visit(page, "/audits/")
    # Each link names the school and the cycle it opens.
    link = page.get_by_role("link", name=f"Rowan Primary – {cycle.name}", exact=True)
    expect(link).to_be_visible()
    press(page, link)
    expect(h1(page)).to_have_text(cycle.name)
    # Nothing answered: the last row cannot be used yet, and says so instead of being a link.
    row = page.locator(".govuk-task-list__item").filter(has_text="Check your answers and submit")
    expect(row.get_by_role("link")).to_have_count(0)
    expect(row.locator(".govuk-task-list__status")).to_have_text("Cannot start yet")

    # The follow-up hint reads as a sentence (the rule is "below 90").
    press(page, page.get_by_role("link", name=sections[0].title, exact=True))
    for index, section in enumerate(sections):
        expect(h1(page)).to_have_text(section.title)
        for question in section.questions:
            answer_well(page, question)
        if index == len(sections) - 1:
            hints = page.locator(".govuk-hint").all_text_contents()
            assert "Answer this if your answer is below 90." in [hint.strip() for hint in hints], hints
            assert not [hint for hint in hints if "your answer is the" in hint], hints
        press(page, page.get_by_role("button", name="Save and continue"))
    expect(h1(page)).to_have_text("Check your answers")
    visit(page, page.url.rsplit("/check", 1)[0])
    row = page.locator(".govuk-task-list__item").filter(has_text="Check your answers and submit")
    expect(row.locator(".govuk-task-list__status")).to_have_text("Ready to submit")
    press(page, row.get_by_role("link", name="Check your answers and submit"))
    press(page, page.get_by_role("button", name="Continue to sign-off"))
    # The names are other people's: the browser must not fill in the DSL's own.
    for label in ("Headteacher’s full name", "Chair of governors’ full name"):
        expect(page.get_by_label(label)).to_have_attribute("autocomplete", "off")
    declare_and_submit(page, "Hana Head", "Gil Governor", today())

    for place in ("confirmation", "task list", "audits list"):
        if place == "task list":
            visit(page, "/audits/")
            press(page, page.get_by_role("link", name=f"Rowan Primary – {cycle.name}", exact=True))
        elif place == "audits list":
            visit(page, "/audits/")
        results = page.get_by_role("link", name="results", exact=False).first
        press(page, results)
        expect(h1(page)).to_contain_text("results", ignore_case=True)
        page.go_back()
        page.wait_for_load_state("load")
        check_page(page)
        press(page, page.get_by_role("link", name="action plan", exact=False).first)
        expect(h1(page)).to_contain_text("action plan", ignore_case=True)
        if place != "audits list":
            visit(page, "/audits/")
    visit(page, "/audits/")
    expect(page.get_by_role("link", name=f"Results of Rowan Primary, {cycle.name}", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=f"Action plan of Rowan Primary, {cycle.name}", exact=True)).to_be_visible()


def test_the_activity_log_reads_in_words_and_can_hide_sign_ins(page, make):
    school = make.establishment(name="Elm Primary")
    lead = make.lead(email="lead@council.example.org")
    dsl = make.dsl(school, email="dsl@elm.example.org")
    cycle = make.cycle()
    record("auth.signed_in", dsl.id)
    record("answers.saved", dsl.id, establishment_id=school.id, cycle_id=cycle.id, section="policies")
    record(
        "reminder.sent",
        None,
        establishment_id=school.id,
        cycle_id=cycle.id,
        to=dsl.email,
        kind="due_soon",
        attempts=1,
        error=None,
    )
    db.session.commit()
    sign_in_directly(page, lead)

    visit(page, "/activity")
    table = page.get_by_role("table")
    expect(table.get_by_role("cell", name="Saved answers", exact=True)).to_be_visible()
    expect(table.get_by_role("cell", name="Signed in", exact=True).first).to_be_visible()
    expect(table.get_by_role("cell", name="Reminder sent", exact=True)).to_be_visible()
    expect(table).not_to_contain_text("error:")
    expect(table).not_to_contain_text("answers.saved")

    page.get_by_label("Hide sign-ins and sign-outs").check()
    press(page, page.get_by_role("button", name="Filter"))
    expect(page.get_by_role("table").get_by_role("cell", name="Signed in", exact=True)).to_have_count(0)
    expect(page.get_by_role("table").get_by_role("cell", name="Saved answers", exact=True)).to_be_visible()
    assert page.title().startswith("Activity log (filtered)")
    expect(page.get_by_label("Hide sign-ins and sign-outs")).to_be_checked()


def test_the_users_page_states_the_two_factor_setting_as_configured(page, make):
    lead = make.lead()
    db.session.commit()
    sign_in_directly(page, lead)
    visit(page, "/users")
    setting = page.locator("#two-factor-setting")
    expect(setting).to_contain_text("make board viewer accounts always sign in with two factors")
    expect(setting).not_to_contain_text("lead")


def overlapping_fields(page) -> list[str]:
    """Filter fields that spill out of their own column (over the next one) or out of the page."""
    return page.evaluate("""() => {
      const problems = [];
      const width = document.documentElement.clientWidth;
      for (const group of document.querySelectorAll('form[role="search"] .govuk-form-group')) {
        const name = group.querySelector('label, legend').textContent.trim();
        const column = group.parentElement.getBoundingClientRect();
        for (const field of group.querySelectorAll('input, select')) {
          const box = field.getBoundingClientRect();
          if (box.right > column.right + 1) {
            problems.push(`${name}: its field spills ${Math.round(box.right - column.right)} px over the next column`);
          }
          if (box.right > width + 1) problems.push(`${name}: its field sticks out of the page`);
        }
      }
      return problems;
    }""")


def test_filter_forms_stack_at_200_percent_text(page, make):
    school = make.establishment(name="Hazel Primary")
    make.dsl(school)
    lead = make.lead()
    make.cycle()
    db.session.commit()
    sign_in_directly(page, lead)
    for path in ("/establishments/", "/cycles/2026-27/tracker"):
        visit(page, path)
        assert overlapping_fields(page) == [], path
        # Text only at 200%, as a browser's text-size setting does: GOV.UK Frontend sizes text in rem.
        page.evaluate("() => { document.documentElement.style.fontSize = '200%' }")
        assert overlapping_fields(page) == [], path
