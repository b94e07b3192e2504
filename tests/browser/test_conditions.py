"""A DSL answers a section with a question asked only after a given answer, and a Not applicable answer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from surveyapp.audits.models import Answer
from surveyapp.extensions import db
from tests.audits.test_conditions import TEMPLATE
from tests.browser.journey import h1, press, question_group, response_of, sign_in, visit

pytestmark = pytest.mark.browser


def test_a_conditional_question_appears_only_when_called_for_and_not_applicable_is_an_answer(page, make):
    school = make.establishment(name="Hill Top Primary")
    dsl = make.dsl(school)
    cycle = make.cycle(template=make.template(TEMPLATE))
    questions = {q.key: q for q in cycle.template.questions}
    db.session.commit()

    visit(page, "/sign-in")
    sign_in(page, dsl)
    press(page, page.get_by_role("link", name="Hill Top Primary"))
    press(page, page.get_by_role("link", name="Pupils", exact=True))
    expect(h1(page)).to_have_text("Pupils")

    # Asked only after "Yes": hidden until then, shown with its guidance when called for, hidden again after "No".
    checks = question_group(page, questions["ap_checks"])
    expect(checks).to_be_hidden()
    question_group(page, questions["uses_ap"]).get_by_label("Yes", exact=True).check()
    expect(checks).to_be_visible()
    expect(page.get_by_role("link", name="KCSIE 2025, paragraph 181 (opens in new tab)")).to_be_visible()
    checks.get_by_label("No", exact=True).check()
    question_group(page, questions["uses_ap"]).get_by_label("No", exact=True).check()
    expect(checks).to_be_hidden()

    # Not applicable: a radio option for a yes/no question, a checkbox beside a date.
    question_group(page, questions["lettings"]).get_by_label("Not applicable", exact=True).check()
    page.locator("#question-scr_date").get_by_label("Not applicable", exact=True).check()
    press(page, page.get_by_role("button", name="Save and continue"))

    # The next section's only required question rests on "uses_ap": not needed, and said so.
    expect(h1(page)).to_have_text("Provision")
    expect(page.locator("#question-ap_daily")).to_contain_text("Not needed")
    expect(page.get_by_role("group", name=questions["ap_daily"].text)).to_have_count(0)
    press(page, page.get_by_role("button", name="Save and continue"))

    expect(h1(page)).to_have_text("Check your answers")
    expect(page.get_by_text("still needed")).to_have_count(0)
    expect(page.get_by_role("button", name="Continue to sign-off")).to_be_visible()
    rows = page.locator(".govuk-summary-list__row")
    expect(rows.filter(has_text=questions["ap_checks"].text)).to_contain_text("Not needed")
    expect(rows.filter(has_text=questions["lettings"].text)).to_contain_text("Not applicable")

    response = response_of(school)
    saved = dict(
        db.session.execute(select(Answer.question_key, Answer.value).where(Answer.response_id == response.id)).all()
    )
    assert saved == {"uses_ap": "no", "lettings": "not_applicable", "scr_date": "not_applicable"}
