"""A gap's follow-up as the DSL meets it: revealed under the gap answers, checked when the section is
saved (saved as far as it goes, an impossible date refused and kept on the page), and every error
naming its question."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from surveyapp.audits.models import Answer
from surveyapp.extensions import db
from surveyapp.timeutil import today
from tests.browser.accessibility import check_page
from tests.browser.journey import h1, press, response_of, sign_in_directly, visit

pytestmark = pytest.mark.browser

COVER = "Is a trained deputy always available when the DSL is away?"
TRAINING = "When did the DSL last complete Prevent training?"
STAFF = "What percentage of staff have completed Prevent awareness training?"

TEMPLATE = {
    "key": "follow-ups",
    "title": "Follow-up audit",
    "version": 1,
    "sections": [
        {
            "key": "prevent",
            "title": "Prevent",
            "questions": [
                {
                    "key": "cover",
                    "text": COVER,
                    "type": "yes_no_partly",
                    "gap": {"when": ["no", "partly"]},
                    "follow_up": {"prompt": "What will you do about cover?"},
                },
                {
                    "key": "training",
                    "text": TRAINING,
                    "type": "date",
                    "gap": {"older_than_months": 24},
                    "follow_up": {"prompt": "Which Prevent training will the DSL complete, and by when?"},
                },
                {
                    "key": "staff",
                    "text": STAFF,
                    "type": "percentage",
                    "gap": {"below": 100},
                    "follow_up": {"prompt": "Which staff still need Prevent training?"},
                },
            ],
        }
    ],
}


def _dsl_on_the_prevent_section(page, make):
    school = make.establishment(name="Beech Primary")
    dsl = make.dsl(school)
    make.cycle(template=make.template(TEMPLATE))
    db.session.commit()
    sign_in_directly(page, dsl)
    response = response_of(school)
    visit(page, f"/audits/{response.id}/sections/prevent")
    expect(h1(page)).to_have_text("Prevent")
    return school, response


def _answer(school, key):
    response_of(school)  # a fresh read of what the live server committed
    return db.session.scalar(
        select(Answer)
        .join(Answer.response)
        .where(Answer.response_id == response_of(school).id, Answer.question_key == key)
    )


def test_a_radio_questions_follow_up_is_revealed_under_its_gap_answers(page, make):
    _dsl_on_the_prevent_section(page, make)
    cover = page.get_by_role("group", name=COVER, exact=True)
    follow_up = page.locator("#cover__follow-up")
    partly, no, yes = (cover.get_by_label(name, exact=True) for name in ("Partly", "No", "Yes"))

    # Hidden until a gap is chosen; the gap answers say what they reveal (GOV.UK Frontend's conditional reveal).
    expect(follow_up).to_be_hidden()
    for gap in (partly, no):
        expect(gap).to_have_attribute("aria-expanded", "false")
        expect(gap).to_have_attribute("aria-controls", re.compile(r"^conditional-cover"))
    expect(yes).not_to_have_attribute("aria-controls", re.compile("."))

    partly.check()
    expect(follow_up).to_be_visible()
    expect(partly).to_have_attribute("aria-expanded", "true")
    expect(page.locator(f"#{partly.get_attribute('aria-controls')}")).to_contain_text("What will you do about cover?")
    check_page(page)

    # Under "No" too: the same fields, moved there (drawn once, so posted once).
    no.check()
    expect(follow_up).to_be_visible()
    expect(page.locator(f"#{no.get_attribute('aria-controls')}")).to_contain_text("What will you do about cover?")
    expect(page.get_by_label("Action planned")).to_have_count(3)  # cover's, and the date's and percentage's

    yes.check()
    expect(follow_up).to_be_hidden()
    expect(no).to_have_attribute("aria-expanded", "false")

    # A date's or a number's gap depends on what is typed: their follow-ups stay in view, with plain hints.
    expect(page.locator("#training__follow-up")).to_be_visible()
    expect(page.locator("#staff__when")).to_have_text("Answer this if your answer is below 100.")
    expect(page.locator("#training__when")).to_have_text(
        "Answer this if the date is more than 24 months before the audit opened."
    )
    expect(page.get_by_text("your answer is the answer is")).to_have_count(0)


def test_follow_ups_are_checked_when_the_section_is_saved_and_nothing_typed_is_lost(page, make):
    school, response = _dsl_on_the_prevent_section(page, make)
    cover = page.get_by_role("group", name=COVER, exact=True)
    cover.get_by_label("No", exact=True).check()
    cover_follow_up = page.locator("#cover__follow-up")
    cover_follow_up.get_by_label("Action planned").fill("Train a second deputy")
    cover_follow_up.get_by_label("Who will do it").fill("Hana Head")
    by_when = cover_follow_up.get_by_role("group", name="By when")
    by_when.get_by_label("Day").fill("31")
    by_when.get_by_label("Month").fill("2")
    by_when.get_by_label("Year").fill(str(today().year + 1))
    # An impossible date for the DSL's training, named as the question asks it.
    training = page.get_by_role("group", name=TRAINING, exact=True)
    training.get_by_label("Day").fill("30")
    training.get_by_label("Month").fill("2")
    training.get_by_label("Year").fill("2025")
    page.get_by_label(STAFF, exact=True).fill("80")
    press(page, page.get_by_role("button", name="Save and continue"))

    summary = page.locator(".govuk-error-summary")  # focused on arrival (check_page)
    expect(summary.get_by_role("link")).to_have_text(
        [
            f"The date the action will be done by must be a real date for: {COVER}",
            "The date the DSL last completed Prevent training must be a real date",
            f"Add the action, owner and date for: {STAFF}",
        ]
    )
    expect(by_when.locator(".govuk-error-message")).to_have_text(
        f"Error: The date the action will be done by must be a real date for: {COVER}"
    )
    expect(training.locator(".govuk-error-message")).to_have_text(
        "Error: The date the DSL last completed Prevent training must be a real date"
    )
    # Nothing typed is lost: the refused answers are on the page as typed, and not saved.
    expect(cover_follow_up.get_by_label("Action planned")).to_have_value("Train a second deputy")
    expect(by_when.get_by_label("Day")).to_have_value("31")
    expect(page.get_by_text("The answers with a problem have not been saved yet")).to_be_visible()
    assert _answer(school, "cover") is None and _answer(school, "training") is None
    # A gap whose follow-up is only missing is saved as far as it goes.
    assert _answer(school, "staff").value == "80"

    # Put right, with the percentage's follow-up given in part: saved, and what is left named beside its field.
    by_when.get_by_label("Day").fill("28")
    training.get_by_label("Day").fill("28")
    staff_follow_up = page.locator("#staff__follow-up")
    staff_follow_up.get_by_label("Who will do it").fill("Sam Deputy")
    press(page, page.get_by_role("button", name="Save and continue"))
    expect(page.locator(".govuk-error-summary").get_by_role("link")).to_have_text(
        [
            f"Enter the action planned for: {STAFF}",
            f"Enter the date the action will be done by for: {STAFF}",
        ]
    )
    expect(staff_follow_up.locator(".govuk-error-message")).to_have_text(
        [
            f"Error: Enter the action planned for: {STAFF}",
            f"Error: Enter the date the action will be done by for: {STAFF}",
        ]
    )
    expect(page.get_by_text("Your answers have been saved.")).to_be_visible()
    saved = _answer(school, "cover")
    assert saved.value == "no"
    assert saved.follow_up == {
        "action": "Train a second deputy",
        "owner": "Hana Head",
        "target_date": f"{today().year + 1}-02-28",
    }
    assert _answer(school, "training").value == "2025-02-28"
    assert _answer(school, "staff").follow_up == {"action": "", "owner": "Sam Deputy", "target_date": ""}

    # The DSL may go on and come back to it: the link continues without blocking.
    press(page, page.get_by_role("link", name="continue without them"))
    expect(h1(page)).to_have_text("Check your answers")


def test_without_javascript_every_follow_up_shows_and_saves(page, make):
    # The app's scripts never arrive (as on a slow or filtered connection); axe still runs, from the test.
    page.route("**/static/**/*.js", lambda route: route.abort())
    school = make.establishment(name="Beech Primary")
    dsl = make.dsl(school)
    make.cycle(template=make.template(TEMPLATE))
    db.session.commit()
    sign_in_directly(page, dsl)
    visit(page, f"/audits/{response_of(school).id}/sections/prevent")
    # The fields under the first gap answer, with the hint saying when to answer them.
    follow_up = page.locator("#cover__follow-up")
    expect(follow_up).to_be_visible()
    expect(page.locator("#cover__when")).to_have_text("Answer this if your answer is No or Partly.")
    expect(page.get_by_label("Action planned")).to_have_count(3)

    page.get_by_role("group", name=COVER, exact=True).get_by_label("No", exact=True).check()
    follow_up.get_by_label("Action planned").fill("Train a second deputy")
    press(page, page.get_by_role("button", name="Save and come back later"))
    expect(h1(page)).to_have_text("Safeguarding audit 2026-27")  # the task list
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your answers to ‘Prevent’ have been saved. "
        "Add the action, owner and date for 1 gap in that section before you submit."
    )
    assert _answer(school, "cover").follow_up == {"action": "Train a second deputy", "owner": "", "target_date": ""}
