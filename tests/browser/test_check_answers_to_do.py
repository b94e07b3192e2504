"""The check answers page as a DSL meets it with things still to do: a to-do list that names every
answer and follow-up left, leads to each, and is shown as errors only once sign-off was tried."""

from __future__ import annotations

import copy
import re

import pytest
from playwright.sync_api import expect

from surveyapp.audits import services
from surveyapp.audits.services import AnswerInput
from surveyapp.extensions import db
from surveyapp.timeutil import today
from tests.browser.journey import fill_date, h1, press, response_of, sign_in_directly, visit
from tests.factories import SMALL_TEMPLATE

pytestmark = pytest.mark.browser

POLICY_GAP = "Is the child protection policy current?"
EXTRA = [f"Is safeguarding record {n} kept securely?" for n in range(1, 25)]


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _school_with_a_gap_and_24_answers_left(make):
    definition = copy.deepcopy(SMALL_TEMPLATE)
    definition["sections"].append(
        {
            "key": "records",
            "title": "Records",
            "questions": [
                {"key": f"record_{n}", "text": text, "type": "yes_no"} for n, text in enumerate(EXTRA, start=1)
            ],
        }
    )
    school = make.establishment(name="Alder Primary")
    dsl = make.dsl(school)
    cycle = make.cycle(template=make.template(definition))
    response = response_of(school)
    policies, prevent, _records = cycle.template.sections
    # A gap ("No") saved without its action, owner and date; the Prevent section answered in full.
    services.save_section(
        response,
        policies,
        {
            "policy_current": AnswerInput("no"),
            "policy_review_date": AnswerInput("2026-06-01"),
            "policy_notes": AnswerInput(""),
        },
        0,
        dsl,
    )
    services.save_section(
        response,
        prevent,
        {
            "prevent_wrap": AnswerInput("yes"),
            "prevent_trained_pct": AnswerInput("95"),
            "prevent_sef": AnswerInput("yes"),
        },
        0,
        dsl,
    )
    db.session.commit()
    return dsl, response


def test_check_answers_lists_every_thing_left_and_leads_to_a_missing_follow_up(page, make):
    dsl, response = _school_with_a_gap_and_24_answers_left(make)
    sign_in_directly(page, dsl)

    visit(page, f"/audits/{response.id}/check")
    # A first visit is not an error: no "Error:" title, no error summary, focus left where it was.
    expect(page).to_have_title(re.compile("^Check your answers"))
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    assert page.evaluate("() => document.activeElement === document.body")
    to_do = page.locator("#still-to-do")
    expect(to_do.get_by_role("heading", level=2)).to_have_text(
        "24 answers and 1 follow-up are still needed before you can submit"
    )
    links = to_do.get_by_role("link")
    # Every one of the 25, not the first 20.
    expect(links).to_have_text([f"Add the action, owner and date for: {POLICY_GAP}"] + [f"Answer: {q}" for q in EXTRA])
    for answered in (POLICY_GAP, "Has the DSL completed WRAP?", "What percentage of staff are Prevent trained?"):
        expect(page.get_by_role("link", name=f"Answer: {answered}", exact=True)).to_have_count(0)

    # The follow-up link lands on the follow-up's first field, with what it still needs said beside each field.
    press(page, links.first)
    expect(h1(page)).to_have_text("Policies")
    follow_up = page.locator("#policy_current__follow-up")
    expect(follow_up.get_by_label("Action planned")).to_be_focused()
    expect(follow_up.locator(".govuk-error-message").first).to_be_in_viewport()
    expect(follow_up.locator(".govuk-error-message")).to_have_text(
        [
            f"Error: Enter the action planned for: {POLICY_GAP}",
            f"Error: Enter who will do the action for: {POLICY_GAP}",
            f"Error: Enter the date the action will be done by for: {POLICY_GAP}",
        ]
    )

    follow_up.get_by_label("Action planned").fill("Governors to approve the updated policy")
    follow_up.get_by_label("Who will do it").fill("Hana Head")
    follow_up.get_by_label("Day").fill("31")
    follow_up.get_by_label("Month").fill("3")
    follow_up.get_by_label("Year").fill(str(today().year + 1))
    press(page, page.get_by_role("button", name="Save and continue"))

    visit(page, f"/audits/{response.id}/check")
    expect(page.locator("#still-to-do").get_by_role("heading", level=2)).to_have_text(
        "24 answers are still needed before you can submit"
    )
    expect(page.get_by_text("Add the action, owner and date for:")).to_have_count(0)
    expect(page.get_by_text("Action planned: Governors to approve the updated policy")).to_be_visible()


def test_the_things_left_become_errors_only_once_sign_off_is_tried(page, make):
    dsl, response = _school_with_a_gap_and_24_answers_left(make)
    sign_in_directly(page, dsl)

    visit(page, f"/audits/{response.id}/declaration")
    page.get_by_label("Headteacher’s full name").fill("Hana Head")
    page.get_by_label("Chair of governors’ full name").fill("Gil Governor")
    fill_date(page.get_by_role("group", name="Date of the declaration"), today())
    page.get_by_label("We confirm that the answers in this audit are accurate", exact=False).check()
    press(page, page.get_by_role("button", name="Submit the audit"))
    expect(h1(page)).to_have_text("Check your answers")
    expect(page).to_have_title(re.compile("^Error: Check your answers"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text(
        "24 answers and 1 follow-up are still needed before you can submit"
    )
    expect(summary.get_by_role("link")).to_have_count(25)
    expect(page.locator("#still-to-do")).to_have_count(0)
    assert response_of(response.assignment.establishment).status.value == "in_progress"


def test_only_the_date_boxes_in_error_get_the_error_border(page, make):
    dsl, response = _school_with_a_gap_and_24_answers_left(make)
    sign_in_directly(page, dsl)

    visit(page, f"/audits/{response.id}/sections/policies")
    review = page.get_by_role("group", name="When was the policy last reviewed?")
    review.get_by_label("Day").fill("1")
    review.get_by_label("Month").fill("")
    review.get_by_label("Year").fill("2026")
    follow_up = page.locator("#policy_current__follow-up")
    # The rest of the follow-up given, so that the dates' are the only errors (an empty part is one too).
    follow_up.get_by_label("Action planned").fill("Governors to approve the updated policy")
    follow_up.get_by_label("Who will do it").fill("Hana Head")
    target = follow_up.get_by_role("group", name="By when")
    target.get_by_label("Day").fill("31")
    target.get_by_label("Month").fill("3")
    target.get_by_label("Year").fill("")
    press(page, page.get_by_role("button", name="Save and continue"))

    expect(page.locator(".govuk-error-summary").get_by_role("link")).to_have_count(2)
    for group, wrong in ((review, "Month"), (target, "Year")):
        for box in ("Day", "Month", "Year"):
            border = expect(group.get_by_label(box))
            if box == wrong:
                border.to_have_class(re.compile(r"\bgovuk-input--error\b"))
            else:
                border.not_to_have_class(re.compile(r"\bgovuk-input--error\b"))
