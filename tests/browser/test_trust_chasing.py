"""The lead chases the trusts whose own response is unfinished, in a real browser: list, tick, preview, send."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from surveyapp.audits.models import ResponseStatus
from surveyapp.chasing.models import Reminder
from surveyapp.extensions import db
from tests.browser.chasing_support import app_config as app_config, mailbox as mailbox, smtp_port as smtp_port
from tests.browser.journey import h1, press, sign_in, visit
from tests.chasing.helpers import set_status

pytestmark = pytest.mark.browser


@pytest.fixture
def trusts(make):
    """Acorn Trust has submitted; Beech Trust has not started; Cherry Trust is in progress with two leads."""
    found = {}
    for n, (key, name) in enumerate(
        [("acorn", "Acorn Trust"), ("beech", "Beech Trust"), ("cherry", "Cherry Trust")], start=1
    ):
        found[key] = make.trust(name=name, uid=f"T{n}")
        make.establishment(name=f"{name} Academy", urn=f"50000{n}", trust=found[key])
    make.trust_lead(found["acorn"], email="lead@acorn.example.org", name="Ann Acorn")
    make.trust_lead(found["beech"], email="lead@beech.example.org", name="Bea Beech")
    make.trust_lead(found["cherry"], email="one@cherry.example.org", name="Cal Cherry")
    make.trust_lead(found["cherry"], email="two@cherry.example.org", name="Cat Cherry")
    lead = make.lead()
    cycle = make.cycle()
    set_status(cycle, ResponseStatus.SUBMITTED, trust=found["acorn"])
    set_status(cycle, ResponseStatus.IN_PROGRESS, trust=found["cherry"], done=("policies",))
    db.session.commit()
    return {"lead": lead, "cycle": cycle, **found}


def test_the_lead_reminds_the_leads_of_an_unfinished_trust_response_and_sees_the_chase(page, trusts, mailbox):
    sign_in(page, trusts["lead"])
    visit(page, "/cycles/2026-27/tracker")
    press(page, page.get_by_role("link", name="Trust responses to chase (2)"))
    expect(h1(page)).to_have_text("Trust responses to chase")
    expect(page.locator("#trust-responses caption")).to_have_text("2 trust responses not yet submitted")
    expect(page.locator("#trust-responses tbody tr")).to_have_count(2)
    row = page.locator('#trust-responses tr[data-uid="T3"]')
    expect(row).to_contain_text("In progress")
    expect(row).to_contain_text("one@cherry.example.org, two@cherry.example.org")

    page.get_by_label("Select Cherry Trust").check()
    press(page, page.get_by_role("button", name="Preview reminders to the selected trusts"))
    expect(h1(page)).to_have_text("Check the trust reminders before sending")
    expect(page.locator("#plan-counts li")).to_have_text(
        ["1 trust will be reminded of their trust response (2 emails)"]
    )
    message = page.get_by_label("Message (in progress)")
    message.fill(message.input_value().replace("Thank you for starting", "Thank you for making a start on"))
    press(page, page.get_by_role("button", name="Send 2 reminders"))
    expect(h1(page)).to_have_text("Sending reminders")  # the send is a job; its page says what happened
    expect(page.get_by_text("2 reminders sent.")).to_be_visible()
    press(page, page.get_by_role("link", name="Back to the trust responses to chase"))
    expect(h1(page)).to_have_text("Trust responses to chase")
    expect(page.locator('#trust-responses tr[data-uid="T3"]')).to_contain_text("2 sent")
    expect(page.locator('#trust-responses tr[data-uid="T2"]')).to_contain_text("None")

    assert mailbox.recipients == ["one@cherry.example.org", "two@cherry.example.org"]
    bodies = [m.get_content().replace("\r\n", "\n") for m in mailbox.parsed()]
    assert all("Thank you for making a start on the safeguarding audit for Cherry Trust" in body for body in bodies)
    assert all("- Prevent duty" in body and "- Policies" not in body for body in bodies)

    press(page, page.get_by_role("link", name="Cherry Trust"))
    expect(h1(page)).to_have_text("Chase history: Cherry Trust")
    expect(page.locator("#chase-history tbody tr")).to_have_count(2)
    db.session.rollback()  # read what the live server committed
    assert db.session.scalars(select(Reminder.trust_id)).all() == [trusts["cherry"].id] * 2
