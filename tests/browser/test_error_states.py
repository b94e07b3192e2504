"""Error states in the browser: each must be accessible, name the problem and lead to the field."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from surveyapp.audits import services
from surveyapp.audits.models import KeptInput
from surveyapp.audits.services import AnswerInput
from surveyapp.extensions import db
from surveyapp.timeutil import today
from tests.browser.journey import fill_date, h1, press, response_of, sign_in_directly, visit

pytestmark = pytest.mark.browser

POLICIES = {
    "policy_current": AnswerInput("yes"),
    "policy_review_date": AnswerInput("2026-06-01"),
    "policy_notes": AnswerInput(""),
}
PREVENT = {
    "prevent_wrap": AnswerInput("yes"),
    "prevent_trained_pct": AnswerInput("95"),
    "prevent_sef": AnswerInput("yes"),
}


def school_with_answers(make, *answer_sets):
    """A school, its DSL and a cycle on the small template, with these sections already saved."""
    school = make.establishment(name="Meadow Primary")
    dsl = make.dsl(school)
    cycle = make.cycle()
    response = response_of(school)
    # Fewer answer sets than sections leave the later sections unsaved.
    for section, answers in zip(cycle.template.sections, answer_sets, strict=False):
        services.save_section(response, section, answers, 0, dsl)
    db.session.commit()
    return school, dsl, response


def test_sign_in_errors_are_summarised_and_lead_to_the_fields(page, make):
    dsl = make.dsl(make.establishment())
    db.session.commit()
    visit(page, "/sign-in")
    press(page, page.get_by_role("button", name="Sign in"))
    expect(page).to_have_title(re.compile("^Error: Sign in"))
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link")).to_have_text(["Enter your email address", "Enter your password"])

    page.get_by_label("Email address").fill(dsl.email)
    page.get_by_label("Password", exact=True).fill("not the password")
    press(page, page.get_by_role("button", name="Sign in"))
    expect(summary.get_by_role("link")).to_have_text(["Enter a correct email address and password"])
    expect(page.get_by_label("Email address")).to_have_value(dsl.email)


def test_another_schools_audit_an_unknown_section_and_a_form_without_its_cookie(page, make):
    school = make.establishment(name="Meadow Primary")
    elsewhere = make.establishment(name="Elsewhere Primary")
    dsl = make.dsl(school)
    make.cycle()
    mine, theirs = response_of(school), response_of(elsewhere)
    sign_in_directly(page, dsl)
    for path in (
        f"/audits/{theirs.id}/",
        f"/audits/{theirs.id}/sections/policies",
        f"/audits/{mine.id}/sections/no-such-section",
    ):
        assert visit(page, path).status == 404
        expect(h1(page)).to_have_text("Page not found")

    # The session cookie is lost (cleared, or a different browser): the form is refused, nothing is kept.
    visit(page, f"/audits/{mine.id}/sections/policies")
    page.context.clear_cookies()
    page.get_by_role("group", name="Is the child protection policy current?").get_by_label("Yes", exact=True).check()
    assert press(page, page.get_by_role("button", name="Save and continue")).status == 400
    expect(h1(page)).to_have_text("Your page had expired")
    assert db.session.scalar(select(func.count()).select_from(KeptInput)) == 0


def test_declaration_errors_are_summarised_and_lead_to_the_fields(page, make):
    school, dsl, response = school_with_answers(make, POLICIES, PREVENT)
    sign_in_directly(page, dsl)
    visit(page, f"/audits/{response.id}/declaration")
    page.get_by_label("Headteacher’s full name").fill("")
    date_group = page.get_by_role("group", name="Date of the declaration")
    fill_date(date_group, today() + timedelta(days=1))
    press(page, page.get_by_role("button", name="Submit the audit"))
    expect(page).to_have_title(re.compile("^Error: Sign off the audit"))
    expect(page.locator(".govuk-error-summary").get_by_role("link")).to_have_text(
        [
            "Enter the headteacher’s full name",
            "Enter the chair of governors’ full name",
            "The date of the declaration must be today or in the past",
            "Confirm that the answers are accurate",
        ]
    )
    assert response_of(school).status.value == "in_progress"


def test_check_answers_with_answers_missing_lists_them_accessibly(page, make):
    school, dsl, response = school_with_answers(make, POLICIES)
    sign_in_directly(page, dsl)
    visit(page, f"/audits/{response.id}/check")
    # Nothing was submitted yet: a list of what is left, not an error summary.
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    expect(page.locator("#still-to-do")).to_contain_text("3 answers are still needed before you can submit")
    expect(page.locator("#still-to-do").get_by_role("link")).to_have_count(3)
    expect(page.get_by_role("button", name="Continue to sign-off")).to_have_count(0)
