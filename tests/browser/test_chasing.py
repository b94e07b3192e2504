"""The lead chases the unfinished secondaries in a real browser: filter, select all, preview, edit, send."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from surveyapp.audits.models import ResponseStatus
from surveyapp.chasing.models import Reminder, ReminderKind, ReminderStatus
from surveyapp.extensions import db
from surveyapp.filters import govuk_date
from surveyapp.timeutil import today, utcnow
from tests.browser.chasing_support import app_config as app_config, mailbox as mailbox, smtp_port as smtp_port
from tests.browser.journey import h1, press, sign_in, visit
from tests.chasing.helpers import set_status

pytestmark = pytest.mark.browser


@pytest.fixture
def county(make):
    """Four secondaries in progress (two to remind, one without a DSL contact, one reminded yesterday),
    and three establishments the filter leaves out."""
    schools = {}
    for key, name, urn, phase in [
        ("alder", "Alder Secondary", "300001", "Secondary"),
        ("birch", "Birch High", "300002", "Secondary"),
        ("cedar", "Cedar Secondary", "300003", "Secondary"),
        ("damson", "Damson Secondary", "300004", "Secondary"),
        ("elm", "Elm Primary", "300005", "Primary"),
        ("fir", "Fir Secondary", "300006", "Secondary"),
        ("gorse", "Gorse Secondary", "300007", "Secondary"),
    ]:
        schools[key] = make.establishment(name=name, urn=urn, phase=phase)
    for key in ("alder", "damson", "elm", "fir", "gorse"):
        make.dsl(schools[key], email=f"dsl@{schools[key].urn}.example.org", name=f"DSL of {schools[key].name}")
    make.dsl(schools["birch"], email="head.dsl@300002.example.org", name="Bea Birch")
    make.dsl(schools["birch"], email="second.dsl@300002.example.org", name="Ben Birch")
    lead = make.lead()
    cycle = make.cycle()  # the small template: Policies, then Prevent duty
    for key in ("alder", "birch", "cedar", "damson", "elm"):
        set_status(
            cycle, ResponseStatus.IN_PROGRESS, establishment=schools[key], done=("prevent",) if key == "alder" else ()
        )
    set_status(cycle, ResponseStatus.SUBMITTED, establishment=schools["gorse"], done=("policies", "prevent"))
    db.session.add(
        Reminder(
            cycle_id=cycle.id,
            establishment_id=schools["damson"].id,
            recipient_email="dsl@300004.example.org",
            kind=ReminderKind.IN_PROGRESS,
            subject="Reminder",
            body="Please finish",
            created_at=utcnow() - timedelta(days=1),
            sent_at=utcnow() - timedelta(days=1),
            status=ReminderStatus.SENT,
            attempts=1,
            last_error="",
            idempotency_key="earlier",
        )
    )
    db.session.commit()
    return {"lead": lead, "cycle": cycle, **schools}


def tracker_row(page, establishment):
    return page.locator(f'#tracker-list tr[data-urn="{establishment.urn}"]')


def test_the_lead_reminds_every_secondary_in_progress_and_the_tracker_shows_it(page, county, mailbox):
    sign_in(page, county["lead"])
    visit(page, "/cycles/2026-27/tracker")
    expect(h1(page)).to_have_text("Tracker")
    expect(page.locator("#tracker-list caption")).to_contain_text("7 establishments")

    page.get_by_label("Status", exact=True).select_option("in_progress")
    page.get_by_label("Phase", exact=True).select_option("Secondary")
    press(page, page.get_by_role("button", name="Apply filters"))
    assert "status=in_progress" in page.url and "phase=Secondary" in page.url
    expect(page.locator("#tracker-list caption")).to_contain_text("4 establishments match")
    expect(page.locator("#tracker-list tbody tr")).to_have_count(4)

    press(page, page.get_by_role("button", name="Preview reminders to all 4 matching"))
    expect(h1(page)).to_have_text("Check the reminders before sending")
    counts = page.locator("#plan-counts li")
    expect(counts).to_have_text(
        [
            "2 establishments will be reminded (3 emails)",
            "1 skipped: no DSL contact: add one to the establishment first",
            "1 skipped: reminded within the cool-off period (3 days)",
        ]
    )
    expect(page.locator("#no-contact")).to_have_text("Cedar Secondary (URN 300003)")
    page.get_by_text("Who will be reminded").click()
    expect(page.locator("#to-send li")).to_have_text(
        [
            "Alder Secondary (in progress): dsl@300001.example.org",
            "Birch High (in progress): head.dsl@300002.example.org, second.dsl@300002.example.org",
        ]
    )
    # one line of the in-progress wording changed; the rest as proposed
    message = page.get_by_label("Message (in progress)")
    message.fill(message.input_value().replace("Thank you for starting", "Thank you for making a start on"))

    press(page, page.get_by_role("button", name="Send 3 reminders"))
    expect(h1(page)).to_have_text("Sending reminders")  # the send is a job; its page says what happened
    expect(page.get_by_text("3 reminders sent. 2 establishments skipped.")).to_be_visible()
    press(page, page.get_by_role("link", name="Back to the tracker"))
    expect(h1(page)).to_have_text("Tracker")

    assert mailbox.recipients == [
        "dsl@300001.example.org",
        "head.dsl@300002.example.org",
        "second.dsl@300002.example.org",
    ]
    bodies = {str(m["To"]): m.get_content().replace("\r\n", "\n") for m in mailbox.parsed()}
    assert all("Thank you for making a start on the safeguarding audit" in body for body in bodies.values())
    assert (
        "- Policies\n" in bodies["dsl@300001.example.org"] and "- Prevent duty" not in bodies["dsl@300001.example.org"]
    )

    # the tracker shows the chase on exactly those rows
    last = f"last {govuk_date(today())}"
    expect(tracker_row(page, county["alder"]).locator("td").nth(6)).to_contain_text("1 sent")
    expect(tracker_row(page, county["alder"]).locator("td").nth(6)).to_contain_text(last)
    expect(tracker_row(page, county["birch"]).locator("td").nth(6)).to_contain_text("2 sent")
    expect(tracker_row(page, county["damson"]).locator("td").nth(6)).to_contain_text("1 sent")  # yesterday's only
    for key in ("cedar", "elm", "fir", "gorse"):
        expect(tracker_row(page, county[key]).locator("td").nth(6)).to_contain_text("None")
    db.session.rollback()  # read what the live server committed
    sent = db.session.execute(
        select(Reminder.establishment_id, Reminder.recipient_email)
        .where(Reminder.idempotency_key != "earlier")
        .order_by(Reminder.recipient_email)
    ).all()
    assert sent == [
        (county["alder"].id, "dsl@300001.example.org"),
        (county["birch"].id, "head.dsl@300002.example.org"),
        (county["birch"].id, "second.dsl@300002.example.org"),
    ]
