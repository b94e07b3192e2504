"""The lead updates last year's audit in the browser, publishes it and opens a cycle; a DSL then answers it."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from surveyapp.audits.models import Answer, Assignment, Response, ResponseStatus
from surveyapp.extensions import db
from tests.browser.journey import h1, press, sign_in, sign_out, visit

pytestmark = pytest.mark.browser


def _last_years_return(make, school):
    """Last year's cycle on version 1 of the small template, with the school's submitted answers."""
    template = make.template()
    last_year = make.cycle(slug="2025-26", template=template, opens_on=date(2025, 9, 1), due_on=date(2026, 3, 31))
    old = db.session.scalar(
        select(Response)
        .join(Assignment)
        .where(Assignment.establishment_id == school.id, Assignment.cycle_id == last_year.id)
    )
    old.status = ResponseStatus.SUBMITTED
    db.session.add_all(
        [
            Answer(response_id=old.id, question_key="policy_current", value="yes"),
            Answer(response_id=old.id, question_key="prevent_wrap", value="partly"),
            Answer(response_id=old.id, question_key="prevent_trained_pct", value="64"),
        ]
    )
    db.session.commit()


def test_the_lead_publishes_a_new_version_and_a_dsl_answers_it(page, make):
    school = make.establishment(name="Ash Primary")
    dsl = make.dsl(school)
    lead = make.lead(name="Lee Lead")
    _last_years_return(make, school)

    sign_in(page, lead)
    visit(page, "/templates")
    expect(h1(page)).to_have_text("Audit templates")
    press(page, page.get_by_role("button", name="Start a new version"))
    expect(h1(page)).to_have_text("Start version 2")
    page.get_by_label("Copy the live version and change it").check()
    press(page, page.get_by_role("button", name="Start the new version"))
    expect(h1(page)).to_have_text("Edit the draft")
    expect(page.get_by_text("Version 2 has been started as a draft")).to_be_visible()

    # A question, then one asked only when it is answered Yes, which allows Not applicable.
    press(page, page.get_by_role("link", name="Add a question to Policies"))
    page.get_by_label("Question", exact=True).fill("Do you have a deputy designated safeguarding lead?")
    page.get_by_role("group", name="Type of answer").get_by_label("Yes or no", exact=True).check()
    press(page, page.get_by_role("button", name="Save question"))
    expect(
        page.get_by_text("The question ‘Do you have a deputy designated safeguarding lead?’ has been saved.")
    ).to_be_visible()

    press(page, page.get_by_role("link", name="Add a question to Policies"))
    page.get_by_label("Question", exact=True).fill("Has the deputy completed DSL training in the last two years?")
    page.get_by_role("group", name="Type of answer").get_by_label("Yes, partly or no").check()
    page.get_by_label("Allow “Not applicable” as an answer").check()
    page.get_by_role("group", name="When is an answer a gap?").get_by_label(
        "When the answer is one of those ticked"
    ).check()
    which = page.get_by_role("group", name="If a gap when the answer is one of those ticked: which answers")
    which.get_by_label("No", exact=True).check()
    which.get_by_label("Partly", exact=True).check()
    page.get_by_label("Ask this question").select_option(
        label="Only if: Do you have a deputy designated safeguarding lead?"
    )
    page.get_by_label("Only when the answer to that question is").fill("Yes")
    page.get_by_label("Guidance links").fill(
        "KCSIE 2025, paragraph 103 | https://www.gov.uk/government/publications/keeping-children-safe-in-education--2"
    )
    press(page, page.get_by_role("button", name="Save question"))
    row = page.locator("tr", has_text="Has the deputy completed DSL training in the last two years?")
    expect(row).to_contain_text("“Not applicable” allowed")
    expect(row).to_contain_text("only if “Do you have a deputy designated safeguarding lead?” is Yes")

    # WRAP is no longer delivered: the question means something new, so it gets a new key.
    press(page, page.get_by_role("link", name="Has the DSL completed WRAP?"))
    page.get_by_label("Question", exact=True).fill("Has the DSL completed the Home Office Prevent e-learning?")
    page.get_by_label("Key", exact=True).fill("prevent_elearning")
    press(page, page.get_by_role("button", name="Save question"))

    press(page, page.get_by_role("button", name="Move up the section Prevent duty"))
    expect(page.locator(".app-draft-section h2")).to_have_text(["1. Prevent duty", "2. Policies"])
    press(page, page.get_by_role("button", name="Remove Anything else?"))
    expect(page.get_by_text("The question has been removed.")).to_be_visible()
    expect(page.get_by_role("link", name="Anything else?")).to_have_count(0)

    # The preview is the DSL's task list and pages; nothing entered there is kept.
    press(page, page.get_by_role("link", name="Preview the draft as a school will see it"))
    expect(page.get_by_text("This is a preview of the draft")).to_be_visible()
    titles = page.locator(".govuk-task-list__name-and-hint a")
    expect(titles).to_have_text(["Prevent duty", "Policies"])
    press(page, page.get_by_role("link", name="Policies"))
    expect(h1(page)).to_have_text("Policies")
    deputy_trained = page.get_by_role("group", name="Has the deputy completed DSL training in the last two years?")
    page.get_by_role("group", name="Do you have a deputy designated safeguarding lead?").get_by_label("Yes").check()
    expect(deputy_trained.get_by_label("Not applicable")).to_be_visible()
    expect(page.get_by_role("link", name="KCSIE 2025, paragraph 103 (opens in new tab)")).to_be_visible()
    press(page, page.get_by_role("link", name="Back to the draft").first)

    press(page, page.get_by_role("button", name="Check and publish"))
    expect(h1(page)).to_have_text("Check and publish")
    expect(page.get_by_role("heading", name="Questions added (3)")).to_be_visible()
    expect(page.get_by_role("heading", name="Questions removed (2)")).to_be_visible()
    expect(page.get_by_role("heading", name="Pre-filled from last year (4)")).to_be_visible()
    press(page, page.get_by_role("button", name="Publish version 2"))
    expect(page.get_by_text("Version 2 of ‘Mini safeguarding audit’ is live.")).to_be_visible()

    visit(page, "/cycles/new")
    page.get_by_label("Short name").fill("2026-27")
    page.get_by_label("Title shown to schools").fill("Safeguarding audit 2026-27")
    page.get_by_label("Audit template").select_option(label="Mini safeguarding audit (version 2, live)")
    due = page.get_by_role("group", name="Due date")
    due.get_by_label("Day").fill("31")
    due.get_by_label("Month").fill("3")
    due.get_by_label("Year").fill("2027")
    press(page, page.get_by_role("button", name="Open the cycle"))
    expect(page.get_by_text("Safeguarding audit 2026-27 is open for 1 establishments.")).to_be_visible()
    sign_out(page)

    sign_in(page, dsl)
    visit(page, "/audits/")
    press(page, page.get_by_role("link", name="Ash Primary").first)
    expect(h1(page)).to_have_text("Safeguarding audit 2026-27")
    expect(page.locator(".govuk-task-list").first.locator(".govuk-task-list__name-and-hint a")).to_have_text(
        ["Prevent duty", "Policies"]
    )
    press(page, page.get_by_role("link", name="Prevent duty"))
    # Same key: last year's answer is offered. New key: the question starts empty.
    expect(page.get_by_label("What percentage of staff are Prevent trained?")).to_have_value("64")
    elearning = page.get_by_role("group", name="Has the DSL completed the Home Office Prevent e-learning?")
    for answer in ("Yes", "Partly", "No"):
        expect(elearning.get_by_label(answer, exact=True)).not_to_be_checked()
    press(page, page.get_by_role("link", name="Back to the task list"))
    press(page, page.get_by_role("link", name="Policies"))
    current = page.get_by_role("group", name="Is the child protection policy current?")
    expect(current.get_by_label("Yes", exact=True)).to_be_checked()
    expect(current).to_contain_text("From last year")


def test_the_other_editor_pages_and_a_refused_stale_save(page, make):
    from surveyapp.audits import editor

    lead = make.lead(name="Lee Lead")
    other = make.lead(name="Sam Other")
    make.template()
    draft = editor.start_draft("mini", "live", lead)
    db.session.commit()

    sign_in(page, lead)
    visit(page, "/templates/new")
    expect(h1(page)).to_have_text("Create a new template")
    page.get_by_label("Start from scratch").check()
    page.get_by_label("Key", exact=True).fill("Early Help")
    page.get_by_label("Title", exact=True).fill("Early help audit")
    press(page, page.get_by_role("button", name="Start the template"))
    expect(page.get_by_role("alert")).to_contain_text("Enter a key of lower-case letters")

    visit(page, "/templates/mini/draft/details")
    expect(h1(page)).to_have_text("Title and description")
    visit(page, "/templates/mini/draft/sections/new")
    page.get_by_label("Section title").fill("Filtering and monitoring")
    press(page, page.get_by_role("button", name="Save"))
    press(page, page.get_by_role("button", name="Check and publish"))
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("The draft cannot be published yet")
    expect(summary).to_contain_text("Section “Filtering and monitoring”: add at least one question to this section")
    expect(page.get_by_role("button", name="Publish version 2")).to_have_count(0)

    # Someone else saves the section while this page is open: the save is refused, both shown.
    visit(page, "/templates/mini/draft/sections/policies")
    db.session.refresh(draft)
    editor.update_section(draft, draft.lock_version, other, "policies", title="Policies and procedures", description="")
    db.session.commit()
    page.get_by_label("Section title").fill("Safeguarding policies")
    press(page, page.get_by_role("button", name="Save"))
    expect(page.get_by_role("alert")).to_contain_text("Your changes have not been saved")
    expect(page.get_by_text("Sam Other changed this draft")).to_be_visible()
    expect(page.get_by_label("Section title")).to_have_value("Safeguarding policies")
    expect(page.get_by_text("Policies and procedures")).to_be_visible()
    db.session.rollback()
    assert editor.find_section(editor.draft_for("mini").definition, "policies")[1]["title"] == "Policies and procedures"
