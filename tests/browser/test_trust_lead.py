"""A trust lead answers once for the trust, for the academies they choose; a covered academy's DSL sees it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from surveyapp.audits import services
from surveyapp.audits.models import ResponseStatus, TrustCoverage
from surveyapp.extensions import db
from surveyapp.timeutil import today
from tests.browser.journey import (
    answer_well,
    declare_and_submit,
    h1,
    press,
    response_of,
    sign_in,
    sign_in_directly,
    sign_out,
    task_status,
    visit,
)

pytestmark = pytest.mark.browser


def test_trust_lead_answers_for_chosen_academies_and_their_dsl_sees_it(page, make):
    trust = make.trust(name="Oak Learning Trust", uid="4321")
    acorn = make.establishment(name="Acorn Academy", trust=trust, type_name="Academy converter")
    beech = make.establishment(name="Beech Academy", trust=trust, type_name="Academy converter")
    cedar = make.establishment(name="Cedar Academy", trust=trust, type_name="Academy converter")
    lead = make.trust_lead(trust, name="Tess Trust")
    acorn_dsl = make.dsl(acorn)
    cycle = make.cycle()  # the small template: Policies, then Prevent duty
    sections = cycle.template.sections

    sign_in_directly(page, lead)
    visit(page, "/audits/")
    expect(h1(page)).to_have_text("Your audits")
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name="Oak Learning Trust (trust response)")).to_be_visible()
    for academy in ("Acorn Academy", "Beech Academy", "Cedar Academy"):
        expect(table.get_by_role("link", name=academy)).to_be_visible()

    press(page, table.get_by_role("link", name="Oak Learning Trust (trust response)"))
    expect(h1(page)).to_have_text("Safeguarding audit 2026-27")
    press(page, page.get_by_role("link", name="Choose the academies this response covers"))
    academies = page.get_by_role("group", name="Which academies does the trust’s response answer for?")
    expect(academies.get_by_role("checkbox")).to_have_count(3)
    academies.get_by_role("checkbox", name=re.compile("^Acorn Academy")).check()
    academies.get_by_role("checkbox", name=re.compile("^Beech Academy")).check()
    academies.get_by_role("checkbox", name=re.compile("^Cedar Academy")).uncheck()
    press(page, page.get_by_role("button", name="Save"))
    expect(page.get_by_text("This response now answers for 2 of 3 academies.")).to_be_visible()
    expect(task_status(page, "Choose the academies this response covers")).to_have_text("Completed")

    trust_response = response_of(trust=trust)
    covered = set(
        db.session.scalars(select(TrustCoverage.establishment_id).where(TrustCoverage.response_id == trust_response.id))
    )
    assert covered == {acorn.id, beech.id}

    press(page, page.get_by_role("link", name=sections[0].title, exact=True))
    for section in sections:
        expect(h1(page)).to_have_text(section.title)
        for question in section.questions:
            answer_well(page, question)
        press(page, page.get_by_role("button", name="Save and continue"))
    expect(h1(page)).to_have_text("Check your answers")
    press(page, page.get_by_role("button", name="Continue to sign-off"))
    declare_and_submit(page, "Cara Chief", "Tom Trustee", today(), trust=True)
    expect(page.locator(".govuk-panel__body")).to_contain_text("MINI-2026-27-TRUST4321")
    assert response_of(trust=trust).status is ResponseStatus.SUBMITTED
    sign_out(page)

    # A covered academy: every section is answered by the trust.
    sign_in(page, acorn_dsl)
    press(page, page.get_by_role("link", name="Acorn Academy"))
    expect(
        page.get_by_text("Your trust, Oak Learning Trust, is answering this audit for your academy.")
    ).to_be_visible()
    for section in sections:
        expect(task_status(page, section.title)).to_have_text("Answered by trust")
    press(page, page.get_by_role("link", name="Check your answers and submit"))
    expect(h1(page)).to_have_text("Check your answers")
    answered = sum(1 for s in sections for q in s.questions)
    expect(page.locator(".govuk-summary-list__value").filter(has_text="Answered by Oak Learning Trust")).to_have_count(
        answered
    )
    expect(page.get_by_role("button", name="Continue to sign-off")).to_be_visible()

    # The academy left out answers for itself.
    assert services.covering_trust_response(response_of(cedar)) is None


def test_the_trust_leads_home_groups_cycles_and_cover_statuses_say_what_the_trust_has_done(page, make):
    from datetime import date

    from surveyapp.audits.models import CycleState

    trust = make.trust(name="Elm Learning Trust", uid="4400")
    acorn = make.establishment(name="Acorn Academy", trust=trust, type_name="Academy converter")
    make.establishment(name="Birch Academy", trust=trust, type_name="Academy converter")
    lead = make.trust_lead(trust, name="Tess Trust")
    acorn_dsl = make.dsl(acorn)
    last_year = make.cycle(slug="2025-26", due_on=date(2026, 3, 31), opens_on=date(2025, 9, 1))
    this_year = make.cycle()
    # Last year the trust submitted for Acorn; this year it has started, covering Acorn again.
    for cycle, status in ((last_year, ResponseStatus.SUBMITTED), (this_year, ResponseStatus.IN_PROGRESS)):
        trust_response = next(r for a in cycle.assignments if a.trust_id == trust.id for r in [a.response])
        db.session.query(TrustCoverage).filter_by(response_id=trust_response.id).delete()
        db.session.add(TrustCoverage(response_id=trust_response.id, establishment_id=acorn.id))
        trust_response.status = status
    last_year.state = CycleState.CLOSED
    db.session.commit()

    sign_in_directly(page, lead)
    visit(page, "/audits/")
    headings = page.get_by_role("heading", level=2).all_inner_texts()
    assert [" ".join(h.split()) for h in headings][:2] == [
        "Safeguarding audit 2026-27 Open now",
        "Safeguarding audit 2025-26 Closed",
    ], headings
    tracker = page.get_by_role("link", name="Elm Learning Trust’s tracker for Safeguarding audit 2026-27")
    last = page.get_by_role("table", name="Safeguarding audit 2025-26: audits for your establishments and trust")
    expect(last.get_by_role("row").filter(has_text="Acorn Academy").locator(".govuk-tag")).to_have_text(
        "Covered by trust"
    )
    expect(last.get_by_role("row").filter(has_text="Birch Academy").locator(".govuk-tag")).to_have_text("Not started")
    press(page, tracker)
    expect(h1(page)).to_have_text("Tracker")
    sign_out(page)

    # This year the trust has not submitted: its answers are coming, not given.
    sign_in(page, acorn_dsl)
    press(page, page.get_by_role("link", name="Acorn Academy – Safeguarding audit 2026-27"))
    for section in this_year.template.sections:
        expect(task_status(page, section.title)).to_have_text("Being answered by the trust")
