"""Steps a person takes in the browser, each ending with the accessibility checks on the page reached."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from surveyapp.audits.models import Assignment, QuestionType, Response
from surveyapp.extensions import db
from tests.browser.accessibility import check_page
from tests.factories import Factory


def h1(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def visit(page: Page, path: str):
    """Type an address into the browser; check the page and return its response."""
    response = page.goto(path)
    check_page(page)
    return response


def press(page: Page, target: Locator):
    """Click a button or link that loads another page, check the page it loads, and return its response."""
    with page.expect_navigation() as navigation:
        target.click()
    check_page(page)
    return navigation.value


def sign_in(page: Page, user, password: str = Factory.PASSWORD) -> None:
    """Sign in through the real form (from wherever the browser is, or the sign-in page)."""
    if "/sign-in" not in page.url:
        visit(page, "/sign-in")
    expect(h1(page)).to_have_text("Sign in")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(password)
    press(page, page.get_by_role("button", name="Sign in"))


def sign_in_directly(page: Page, user, password: str = Factory.PASSWORD) -> None:
    """Sign in by posting the sign-in form from outside the page (with its CSRF token), for tests
    about something else: the browser context gets the session cookie without loading pages."""
    form = page.request.get("/sign-in")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text())
    assert token, "no CSRF token on the sign-in page"
    signed_in = page.request.post(
        "/sign-in", form={"csrf_token": token.group(1), "email": user.email, "password": password}, max_redirects=0
    )
    assert signed_in.status == 302, signed_in.text()[:2000]


def sign_out(page: Page) -> None:
    """The Sign out button in the header posts a form."""
    press(page, page.get_by_role("banner").get_by_role("button", name="Sign out"))
    expect(h1(page)).to_have_text("Sign in")
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def response_of(establishment=None, trust=None) -> Response:
    """The response of an establishment or trust, read fresh from the database."""
    db.session.rollback()  # end any earlier read, so what the live server committed is seen
    where = Assignment.establishment_id == establishment.id if establishment else Assignment.trust_id == trust.id
    return db.session.scalar(select(Response).join(Assignment).where(where))


def question_group(page: Page, question) -> Locator:
    """A radio group or date input, found by its legend (the question text)."""
    label = question.text if question.required else f"{question.text} (optional)"
    return page.get_by_role("group", name=label, exact=True)


def question_field(page: Page, question) -> Locator:
    label = question.text if question.required else f"{question.text} (optional)"
    return page.get_by_label(label, exact=True)


def fill_date(group: Locator, day: date) -> None:
    group.get_by_label("Day", exact=True).fill(str(day.day))
    group.get_by_label("Month", exact=True).fill(str(day.month))
    group.get_by_label("Year", exact=True).fill(str(day.year))


#: answers that are not gaps, by question type, for a cycle opening on 1 September 2026
GOOD_DATE = date(2026, 6, 1)


def answer_well(page: Page, question) -> None:
    """Give the question an answer that is not a gap, the way a person would."""
    kind = question.type
    if kind in (QuestionType.YES_NO, QuestionType.YES_NO_PARTLY, QuestionType.YES_NO_UNSURE):
        question_group(page, question).get_by_label("Yes", exact=True).check()
    elif kind is QuestionType.CHOICE:
        question_group(page, question).get_by_label(question.options[0]["label"], exact=True).check()
    elif kind is QuestionType.DATE:
        fill_date(question_group(page, question), GOOD_DATE)
    elif kind is QuestionType.PERCENTAGE:
        question_field(page, question).fill("100")
    elif kind is QuestionType.NUMBER:
        question_field(page, question).fill("3")
    else:
        question_field(page, question).fill(f"Notes for {question.key}")


def expected_value(question) -> str:
    """What `answer_well` stores."""
    return {
        QuestionType.CHOICE: (question.options or [{}])[0].get("value"),
        QuestionType.DATE: GOOD_DATE.isoformat(),
        QuestionType.PERCENTAGE: "100",
        QuestionType.NUMBER: "3",
        QuestionType.TEXT: f"Notes for {question.key}",
    }.get(question.type, "yes")


def task_status(page: Page, section_title: str) -> Locator:
    """The status shown beside a section on the task list."""
    item = page.locator(".govuk-task-list__item").filter(has=page.get_by_role("link", name=section_title, exact=True))
    return item.locator(".govuk-task-list__status")


def declare_and_submit(
    page: Page, head: str, chair: str, on: date, *, trust: bool = False, double_click: bool = False
) -> None:
    """Fill the sign-off page and submit it."""
    page.get_by_label("Chief executive’s full name" if trust else "Headteacher’s full name").fill(head)
    page.get_by_label("Chair of trustees’ full name" if trust else "Chair of governors’ full name").fill(chair)
    fill_date(page.get_by_role("group", name="Date of the declaration"), on)
    page.get_by_label("We confirm that the answers in this audit are accurate", exact=False).check()
    button = page.get_by_role("button", name="Submit the audit")
    with page.expect_navigation():
        if double_click:
            button.dblclick()
        else:
            button.click()
    expect(page.locator(".govuk-panel__title")).to_have_text("Audit submitted")
    check_page(page)
