"""Trust safeguarding leads chased for their trust's own response, through a real SMTP server on loopback."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits.models import ResponseStatus
from surveyapp.chasing.models import Reminder, ReminderKind, ReminderStatus
from surveyapp.chasing.services import set_schedule
from surveyapp.extensions import db
from tests.chasing.helpers import set_status
from tests.chasing.test_reminders import send_form


@pytest.fixture
def trusts(make):
    """Four trusts with their own response in the cycle, and one school whose DSL is chased as before.

    - Acorn Trust: submitted (never chased)
    - Beech Trust: not started, one lead
    - Cherry Trust: in progress with Policies done, two leads
    - Damson Trust: returned for amendment, no lead
    """
    acorn, beech = make.trust(name="Acorn Trust", uid="T1"), make.trust(name="Beech Trust", uid="T2")
    cherry, damson = make.trust(name="Cherry Trust", uid="T3"), make.trust(name="Damson Trust", uid="T4")
    for n, trust in enumerate((acorn, beech, cherry, damson), start=1):  # a trust has a response for its academies
        make.establishment(name=f"{trust.name} Academy", urn=f"41000{n}", trust=trust)
    school = make.establishment(name="Oak Primary", urn="400001")
    make.dsl(school, email="dsl@400001.example.org", name="Olive Oak")
    make.trust_lead(acorn, email="lead@acorn.example.org", name="Ann Acorn")
    make.trust_lead(beech, email="lead@beech.example.org", name="Bea Beech")
    make.trust_lead(cherry, email="one@cherry.example.org", name="Cal Cherry")
    make.trust_lead(cherry, email="two@cherry.example.org", name="Cat Cherry")
    lead = make.lead()
    cycle = make.cycle(due_on=date(2027, 3, 31))
    set_status(cycle, ResponseStatus.SUBMITTED, trust=acorn)
    set_status(cycle, ResponseStatus.IN_PROGRESS, trust=cherry, done=("policies",))
    set_status(cycle, ResponseStatus.RETURNED, trust=damson)
    db.session.commit()
    return {
        "cycle": cycle,
        "lead": lead,
        "acorn": acorn,
        "beech": beech,
        "cherry": cherry,
        "damson": damson,
        "school": school,
    }


def subject(message) -> str:
    return " ".join(str(message["Subject"]).split())  # a long subject is folded over two header lines


def by_recipient(mailbox) -> dict[str, object]:
    return {str(message["To"]): message for message in mailbox.parsed()}


def test_cli_send_chases_the_leads_of_unfinished_trust_responses_with_the_status_wording(runner, trusts, mailbox):
    result = runner.invoke(args=["reminders", "send", "--cycle", "2026-27"])
    assert result.exit_code == 0, result.output
    assert (
        "2026-27: 2 trusts to remind of their trust response (3 emails); "
        "1 skipped: trust response already submitted or accepted" in result.output
    )
    assert "1 skipped: no trust safeguarding lead: add one to the trust first" in result.output
    assert mailbox.recipients == [
        "dsl@400001.example.org",
        "lead@beech.example.org",
        "one@cherry.example.org",
        "two@cherry.example.org",
    ]
    messages = by_recipient(mailbox)
    beech = messages["lead@beech.example.org"]
    assert subject(beech) == "Reminder: the safeguarding audit for Beech Trust has not been started"
    assert "Dear Bea Beech," in beech.get_content()
    cherry = messages["two@cherry.example.org"]
    assert subject(cherry) == "Reminder: finish the safeguarding audit for Cherry Trust by 31 March 2027"
    body = cherry.get_content()
    assert "- Prevent duty" in body and "- Policies" not in body
    # each one logged against the trust, and shown in the trust's chase history
    logged = db.session.scalars(
        select(ActivityRecord).where(
            ActivityRecord.action == "reminder.sent", ActivityRecord.trust_id == trusts["cherry"].id
        )
    ).all()
    assert sorted(r.detail["to"] for r in logged) == ["one@cherry.example.org", "two@cherry.example.org"]


def test_a_returned_trust_response_gets_the_returned_wording(runner, make, trusts, mailbox):
    make.trust_lead(trusts["damson"], email="lead@damson.example.org", name="Dan Damson")
    db.session.commit()
    assert runner.invoke(args=["reminders", "send", "--cycle", "2026-27", "--status", "returned"]).exit_code == 0
    assert mailbox.recipients == ["lead@damson.example.org"]
    message = mailbox.parsed()[0]
    assert subject(message) == "Reminder: the safeguarding audit for Damson Trust is waiting for your changes"
    reminder = db.session.scalar(select(Reminder))
    assert (reminder.trust_id, reminder.establishment_id, reminder.kind) == (
        trusts["damson"].id,
        None,
        ReminderKind.RETURNED,
    )


def test_trusts_honour_the_cool_off_and_the_cap_per_cycle(runner, trusts, mailbox):
    assert runner.invoke(args=["reminders", "send", "--cycle", "2026-27", "--status", "not_started"]).exit_code == 0
    assert mailbox.recipients == ["dsl@400001.example.org", "lead@beech.example.org"]
    again = runner.invoke(args=["reminders", "send", "--cycle", "2026-27", "--status", "not_started"])
    trust_line = [line for line in again.output.splitlines() if "trusts to remind" in line][0]
    assert trust_line.startswith("2026-27: 0 trusts to remind of their trust response (0 emails)")
    assert "1 skipped: reminded within the cool-off period" in trust_line
    assert len(mailbox.messages) == 2
    beech_lead = db.session.scalar(select(Reminder).where(Reminder.trust_id.is_not(None))).recipient_user_id
    for n in range(5):  # six in all: the default cap
        db.session.add(
            Reminder(
                cycle_id=trusts["cycle"].id,
                trust_id=trusts["beech"].id,
                recipient_user_id=beech_lead,
                recipient_email="lead@beech.example.org",
                kind=ReminderKind.NOT_STARTED,
                subject="s",
                body="b",
                status=ReminderStatus.SENT,
                sent_at=datetime(2026, 10, 1 + n, tzinfo=UTC),
                attempts=1,
                last_error="",
                idempotency_key=f"earlier-{n}",
            )
        )
    db.session.commit()
    forced = runner.invoke(args=["reminders", "send", "--cycle", "2026-27", "--status", "not_started", "--force"])
    trust_line = [line for line in forced.output.splitlines() if "trusts to remind" in line][0]
    assert trust_line.startswith("2026-27: 0 trusts to remind of their trust response (0 emails)")
    assert "1 skipped: already sent the most reminders allowed in one cycle (6 in this cycle)" in trust_line
    assert mailbox.recipients == ["dsl@400001.example.org", "dsl@400001.example.org", "lead@beech.example.org"]


def test_run_due_chases_trusts_retries_a_refusal_and_a_second_run_sends_nothing_twice(runner, trusts, mailbox):
    set_schedule(trusts["cycle"], [7], False)
    db.session.commit()
    mailbox.refuse = 2  # the first two attempts are refused for now: retried, delivered once
    first = runner.invoke(args=["reminders", "run-due", "--date", "2027-03-24"])
    assert first.exit_code == 0, first.output
    assert "2026-27: sent 4; failed 0." in first.output
    assert mailbox.recipients == [
        "dsl@400001.example.org",
        "lead@beech.example.org",
        "one@cherry.example.org",
        "two@cherry.example.org",
    ]
    second = runner.invoke(args=["reminders", "run-due", "--date", "2027-03-24"])
    assert "2026-27: sent 0; failed 0." in second.output
    assert len(mailbox.messages) == 4
    assert db.session.scalar(select(func.count()).select_from(Reminder).where(Reminder.trust_id.is_not(None))) == 3


def test_the_lead_previews_and_sends_trust_reminders_from_the_tracker_once(client, sign_in, trusts, mailbox):
    sign_in(trusts["lead"])
    tracker = client.get("/cycles/2026-27/tracker").get_data(as_text=True)
    assert "Trust responses to chase (3)" in tracker
    page = client.get("/cycles/2026-27/tracker/trusts").get_data(as_text=True)
    assert 'data-uid="T2"' in page and 'data-uid="T3"' in page and 'data-uid="T4"' in page
    assert 'data-uid="T1"' not in page  # submitted: nothing to chase
    assert "3 trust responses not yet submitted" in page
    cherry_row = page[page.index('data-uid="T3"') :]
    assert 'href="/cycles/2026-27/trusts/T3/reminders"' in cherry_row[: cherry_row.index("</tr>")]
    damson_row = page[page.index('data-uid="T4"') :]
    assert "No trust safeguarding lead" in damson_row[: damson_row.index("</tr>")]
    preview = client.post("/cycles/2026-27/trust-reminders/preview", data={"all": "1"})
    html = preview.get_data(as_text=True)
    counts = html[html.index('id="plan-counts"') : html.index("</ul>", html.index('id="plan-counts"'))]
    assert "<strong>2</strong> trusts will be reminded of their trust response (3 emails)" in counts
    assert "<strong>1</strong> skipped: no trust safeguarding lead" in counts
    assert "<strong>1</strong> skipped: trust response already submitted or accepted" in counts
    form = send_form(html.replace("/cycles/2026-27/trust-reminders/send", "/cycles/2026-27/reminders/send"))
    sent = client.post("/cycles/2026-27/trust-reminders/send", data=form, follow_redirects=True)
    assert "3 reminders sent." in sent.get_data(as_text=True)
    client.post("/cycles/2026-27/trust-reminders/send", data=form)  # a replay: the same batch
    assert mailbox.recipients == ["lead@beech.example.org", "one@cherry.example.org", "two@cherry.example.org"]
    history = client.get("/cycles/2026-27/trusts/T3/reminders").get_data(as_text=True)
    assert "Chase history: Cherry Trust" in history and "2 reminders, newest first" in history
    assert "one@cherry.example.org" in history
    again = client.get("/cycles/2026-27/tracker/trusts").get_data(as_text=True)
    row = again[again.index('data-uid="T3"') :]
    assert "2 sent" in row[: row.index("</tr>")]


def test_the_establishment_preview_counts_the_trust_responses_to_chase(client, sign_in, trusts):
    sign_in(trusts["lead"])
    html = client.post("/cycles/2026-27/reminders/preview", data={"all": "1", "status": "incomplete"}).get_data(
        as_text=True
    )
    assert "<strong>3</strong> trust responses are not submitted either" in html


def test_ticking_one_trust_reminds_only_that_trust(client, sign_in, trusts, mailbox):
    sign_in(trusts["lead"])
    html = client.post("/cycles/2026-27/trust-reminders/preview", data={"trust": [str(trusts["beech"].id)]}).get_data(
        as_text=True
    )
    assert "<strong>1</strong> trust will be reminded of their trust response (1 email)" in html
    form = send_form(html.replace("/cycles/2026-27/trust-reminders/send", "/cycles/2026-27/reminders/send"))
    client.post("/cycles/2026-27/trust-reminders/send", data=form)
    assert mailbox.recipients == ["lead@beech.example.org"]


def test_a_trust_lead_cannot_see_the_trust_chasing_pages(client, sign_in, trusts):
    sign_in(trusts["beech"].contacts[0].user)
    assert client.get("/cycles/2026-27/tracker/trusts").status_code == 403
    assert client.get("/cycles/2026-27/trusts/T2/reminders").status_code == 403
    assert client.post("/cycles/2026-27/trust-reminders/preview", data={"all": "1"}).status_code == 403
