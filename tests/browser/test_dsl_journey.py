"""A DSL completes their school's audit in a real browser: saving, signing out, an expired
sign-in, a wrong answer, check your answers, sign-off and submission."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, update

from surveyapp.audits.definitions import load_built_in_templates
from surveyapp.audits.models import Answer, KeptInput, ResponseStatus, SectionProgress, SectionState, StatusEvent
from surveyapp.auth.models import User
from surveyapp.extensions import db
from surveyapp.timeutil import today
from tests.browser.journey import (
    answer_well,
    declare_and_submit,
    expected_value,
    fill_date,
    h1,
    press,
    question_field,
    question_group,
    response_of,
    sign_in,
    sign_in_directly,
    sign_out,
    task_status,
    visit,
)

pytestmark = pytest.mark.browser


def s175_template():
    return {template.key: template for template, _ in load_built_in_templates()}["s175-schools"]


def section_of(cycle, key):
    return next(section for section in cycle.template.sections if section.key == key)


def saved_answers(response) -> dict[str, str]:
    db.session.rollback()
    return dict(
        db.session.execute(select(Answer.question_key, Answer.value).where(Answer.response_id == response.id)).all()
    )


def open_task_list(page, school_name):
    expect(h1(page)).to_have_text("Your audits")
    press(page, page.get_by_role("link", name=school_name))
    expect(h1(page)).to_have_text("Safeguarding audit 2026-27")


def test_saved_answers_survive_signing_out_and_unsaved_ones_do_not(page, make):
    school = make.establishment(name="St Mary’s Primary")
    dsl = make.dsl(school, name="Dee Lead")
    cycle = make.cycle(template=s175_template())
    training = {q.key: q for q in section_of(cycle, "training").questions}
    recruitment = section_of(cycle, "recruitment").questions

    visit(page, "/")
    press(page, page.get_by_role("button", name="Sign in"))
    sign_in(page, dsl)
    open_task_list(page, "St Mary’s Primary")
    press(page, page.get_by_role("link", name="Training", exact=True))
    expect(h1(page)).to_have_text("Training")

    # A radio, a date in three boxes, a percentage, and text (the action planned for a gap).
    fill_date(question_group(page, training["training_dsl_date"]), date(2026, 3, 15))
    question_group(page, training["training_induction"]).get_by_label("Partly", exact=True).check()
    follow_up = page.locator('[data-follow-up-for="training_induction"]')
    expect(follow_up).to_be_visible()
    follow_up.get_by_label("Action planned").fill("Add the behaviour policy to the induction pack")
    follow_up.get_by_label("Who will do it").fill("Headteacher")
    fill_date(follow_up.get_by_role("group", name="By when", exact=True), date(2026, 12, 31))
    question_field(page, training["training_staff_percentage"]).fill("100")
    for key in ("training_kcsie_part_one", "training_governors"):
        answer_well(page, training[key])
    # Asked only of a school with a deputy DSL, which Leadership (not answered yet) would say.
    expect(page.locator("#question-training_deputy_dsl_trained")).to_contain_text("Not needed")
    press(page, page.get_by_role("button", name="Save and continue"))
    expect(h1(page)).to_have_text("Safer recruitment")

    # Typed on the next page but never saved, then the DSL signs out.
    answer_well(page, recruitment[0])
    answer_well(page, recruitment[1])
    sign_out(page)

    response = response_of(school)
    answers = saved_answers(response)
    assert answers == {
        "training_dsl_date": "2026-03-15",
        "training_induction": "partly",
        "training_staff_percentage": "100",
        "training_kcsie_part_one": "yes",
        "training_governors": "yes",
    }
    follow_up_saved = db.session.scalar(
        select(Answer.follow_up).where(Answer.response_id == response.id, Answer.question_key == "training_induction")
    )
    assert follow_up_saved == {
        "action": "Add the behaviour policy to the induction pack",
        "owner": "Headteacher",
        "target_date": "2026-12-31",
    }

    sign_in(page, dsl)
    expect(page.get_by_role("row").filter(has_text="St Mary’s Primary")).to_contain_text("In progress")
    open_task_list(page, "St Mary’s Primary")
    expect(page.get_by_text("You have completed 1 of 9 sections.")).to_be_visible()
    expect(task_status(page, "Training")).to_have_text("Completed")
    expect(task_status(page, "Safer recruitment")).to_have_text("Not started")
    expect(task_status(page, "Leadership and governance")).to_have_text("Not started")

    press(page, page.get_by_role("link", name="Training", exact=True))
    date_group = question_group(page, training["training_dsl_date"])
    expect(date_group.get_by_label("Day", exact=True)).to_have_value("15")
    expect(date_group.get_by_label("Month", exact=True)).to_have_value("3")
    expect(date_group.get_by_label("Year", exact=True)).to_have_value("2026")
    expect(question_group(page, training["training_induction"]).get_by_label("Partly", exact=True)).to_be_checked()
    expect(follow_up.get_by_label("Action planned")).to_have_value("Add the behaviour policy to the induction pack")
    expect(question_field(page, training["training_staff_percentage"])).to_have_value("100")


def test_answers_typed_after_the_sign_in_expired_are_kept_and_saved_after_signing_in_again(page, make):
    school = make.establishment(name="Hilltop Infants")
    dsl = make.dsl(school)
    cycle = make.cycle()  # the small template: Policies, then Prevent duty
    policies = {q.key: q for q in section_of(cycle, "policies").questions}

    sign_in_directly(page, dsl)
    visit(page, "/audits/")
    open_task_list(page, "Hilltop Infants")
    press(page, page.get_by_role("link", name="Policies", exact=True))

    # The sign-in ends without the browser knowing, as when it times out.
    db.session.execute(update(User).where(User.id == dsl.id).values(session_epoch=User.session_epoch + 1))
    db.session.commit()

    question_group(page, policies["policy_current"]).get_by_label("Yes", exact=True).check()
    fill_date(question_group(page, policies["policy_review_date"]), date(2026, 5, 20))
    question_field(page, policies["policy_notes"]).fill("Typed after the sign-in had ended")
    press(page, page.get_by_role("button", name="Save and continue"))

    expect(h1(page)).to_have_text("Sign in")
    expect(page.get_by_text("Your session had ended, so your answers have not been saved yet")).to_be_visible()
    response = response_of(school)
    assert saved_answers(response) == {}

    sign_in(page, dsl)
    expect(h1(page)).to_have_text("Policies")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Not saved yet")
    expect(question_group(page, policies["policy_current"]).get_by_label("Yes", exact=True)).to_be_checked()
    date_group = question_group(page, policies["policy_review_date"])
    expect(date_group.get_by_label("Day", exact=True)).to_have_value("20")
    expect(date_group.get_by_label("Month", exact=True)).to_have_value("5")
    expect(date_group.get_by_label("Year", exact=True)).to_have_value("2026")
    expect(question_field(page, policies["policy_notes"])).to_have_value("Typed after the sign-in had ended")
    assert saved_answers(response) == {}

    press(page, page.get_by_role("button", name="Save and continue"))
    expect(h1(page)).to_have_text("Prevent duty")
    assert saved_answers(response) == {
        "policy_current": "yes",
        "policy_review_date": "2026-05-20",
        "policy_notes": "Typed after the sign-in had ended",
    }
    assert db.session.scalar(select(func.count()).select_from(KeptInput)) == 0


def test_dsl_completes_every_section_signs_off_and_submits_once(page, make):
    school = make.establishment(name="Riverside Primary", urn="123456")
    dsl = make.dsl(school)
    cycle = make.cycle(template=s175_template())
    sections = cycle.template.sections

    sign_in_directly(page, dsl)
    visit(page, "/audits/")
    open_task_list(page, "Riverside Primary")
    press(page, page.get_by_role("link", name=sections[0].title, exact=True))
    for section in sections:
        expect(h1(page)).to_have_text(section.title)
        for question in section.questions:
            answer_well(page, question)
        if section.key == "training":
            # A percentage over 100: named in the error summary, kept in the field, the rest saved.
            percentage = next(q for q in section.questions if q.key == "training_staff_percentage")
            field = question_field(page, percentage)
            field.fill("150")
            press(page, page.get_by_role("button", name="Save and continue"))
            expect(page).to_have_title(re.compile(r"^Error: Training"))
            summary = page.locator(".govuk-error-summary")
            expect(summary).to_contain_text("Enter a percentage between 0 and 100")
            summary.get_by_role("link", name=re.compile("Enter a percentage")).click()
            expect(field).to_be_focused()
            expect(field).to_have_value("150")
            expect(page.get_by_text("Your other answers have been saved.")).to_be_visible()
            response = response_of(school)
            assert "training_staff_percentage" not in saved_answers(response)
            assert saved_answers(response)["training_dsl_date"] == "2026-06-01"
            field.fill("100")
        press(page, page.get_by_role("button", name="Save and continue"))

    expect(h1(page)).to_have_text("Check your answers")
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    training_rows = page.locator("#section-training + .govuk-summary-list")
    expect(
        training_rows.locator(".govuk-summary-list__row").filter(has_text="What percentage of staff")
    ).to_contain_text("100%")
    press(page, page.get_by_role("button", name="Continue to sign-off"))
    expect(h1(page)).to_have_text("Sign off the audit")
    declare_and_submit(page, "Ann Head", "Cal Chair", today(), double_click=True)

    reference = f"S175-SCHOOLS-2026-27-URN{school.urn}"
    expect(page.locator(".govuk-panel__body")).to_contain_text(reference)

    response = response_of(school)
    assert response.status is ResponseStatus.SUBMITTED
    assert response.reference == reference
    assert (response.headteacher_name, response.chair_name, response.declaration_date) == (
        "Ann Head",
        "Cal Chair",
        today(),
    )
    submitted = db.session.scalar(
        select(func.count())
        .select_from(StatusEvent)
        .where(StatusEvent.response_id == response.id, StatusEvent.to_status == ResponseStatus.SUBMITTED)
    )
    assert submitted == 1
    expected = {q.key: expected_value(q) for s in sections for q in s.questions}
    assert saved_answers(response) == expected
    # Training was saved twice (first with the 150 refused): its second save must complete it.
    states = dict(
        db.session.execute(
            select(SectionProgress.section_key, SectionProgress.state).where(SectionProgress.response_id == response.id)
        ).all()
    )
    assert states == {section.key: SectionState.COMPLETED for section in sections}

    # Once submitted, the answers can be read but not changed.
    press(page, page.get_by_role("link", name="View your submitted answers"))
    expect(h1(page)).to_have_text("Submitted answers")
    expect(page.get_by_role("link", name=re.compile("^Change"))).to_have_count(0)
    expect(page.get_by_role("definition").filter(has_text=reference)).to_have_count(1)
