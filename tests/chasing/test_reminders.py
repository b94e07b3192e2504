"""Reminders through a real SMTP server on loopback: the right people, the right words, once."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from surveyapp.audits.lifecycle import extend
from surveyapp.audits.models import ResponseStatus
from surveyapp.auth.models import User
from surveyapp.chasing.models import Reminder, ReminderStatus
from surveyapp.chasing.services import set_schedule
from surveyapp.extensions import db
from tests.chasing.helpers import set_status


@pytest.fixture
def chase(make, county):
    """The county plus Gorse Infant (not started, with a DSL), a deputy at Birch and a DSL elsewhere."""
    gorse = make.establishment(name="Gorse Infant", urn="200007")
    make.dsl(gorse, email="dsl@200007.example.org", name="Gwen Gorse")
    make.dsl(county["birch"], deputy=True, email="deputy@200004.example.org")
    db.session.commit()
    # Gorse joined the register after the cycle opened: give it a place by hand (as a late addition would).
    from surveyapp.audits.models import Assignment, Response

    assignment = Assignment(cycle_id=county["cycle"].id, establishment_id=gorse.id)
    db.session.add(assignment)
    db.session.flush()
    db.session.add(Response(assignment_id=assignment.id, status=ResponseStatus.NOT_STARTED))
    db.session.commit()
    return {**county, "gorse": gorse}


def preview(client, **data):
    return client.post("/cycles/2026-27/reminders/preview", data=data)


def send_form(html: str) -> dict:
    """The preview's send form as the browser would post it (hidden fields and the wording as shown)."""
    form = html[html.index('action="/cycles/2026-27/reminders/send"') :]
    form = form[: form.index("</form>")]
    data: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form):
        data.setdefault(name, []).append(value)
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[name] = [value.lstrip("\n")]
    import html as html_module

    return {k: [html_module.unescape(v) for v in vs] for k, vs in data.items()}


def test_reminders_reach_exactly_the_dsls_and_the_wordings_differ(client, sign_in, chase, mailbox):
    sign_in(chase["lead"])
    page = preview(client, all="1", status="incomplete")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    counts = html[html.index('id="plan-counts"') : html.index("</ul>", html.index('id="plan-counts"'))]
    assert "<strong>3</strong> establishments will be reminded (3 emails)" in counts
    assert "<strong>1</strong> skipped: no DSL contact" in counts
    assert "Fir Nursery" in html[html.index('id="no-contact"') :]
    sent = client.post("/cycles/2026-27/reminders/send", data=send_form(html))
    assert sent.status_code == 302
    assert mailbox.recipients == ["dsl@200004.example.org", "dsl@200005.example.org", "dsl@200007.example.org"]
    by_to = {str(m["To"]): m for m in mailbox.parsed()}
    in_progress = by_to["dsl@200004.example.org"].get_content().replace("\r\n", "\n")
    not_started = by_to["dsl@200007.example.org"].get_content().replace("\r\n", "\n")
    assert "has not been started" in by_to["dsl@200007.example.org"]["Subject"]
    assert (
        "finish the safeguarding audit for Birch Secondary by 31 March 2027"
        in by_to["dsl@200004.example.org"]["Subject"]
    )
    assert "These sections are still to complete:\n- Policies\n" in in_progress  # Birch completed Prevent only
    assert "31 March 2027" in in_progress and "Prevent duty" not in in_progress
    assert "Dear Gwen Gorse" in not_started and "still to complete" not in not_started
    assert "http://localhost/audits/" in not_started
    assert "returned to you for amendment" in by_to["dsl@200005.example.org"].get_content()
    assert sent.location.startswith("/jobs/")  # the send is a job: its page says what happened
    result = client.get(sent.location).get_data(as_text=True)
    assert "3 reminders sent. 1 establishment skipped." in result
    rows = db.session.scalars(select(Reminder).order_by(Reminder.recipient_email)).all()
    assert [(r.status, r.attempts, r.created_by_id) for r in rows] == [(ReminderStatus.SENT, 1, chase["lead"].id)] * 3


def test_the_lead_edits_the_wording_and_placeholders_are_filled(client, sign_in, chase, mailbox):
    sign_in(chase["lead"])
    data = send_form(preview(client, establishment=[str(chase["gorse"].id)]).get_data(as_text=True))
    data["subject_not_started"] = ["Please start: {establishment}"]
    data["body_not_started"] = ["Hello {dsl_name}, due {due_date}. {sign_in_link}"]
    assert client.post("/cycles/2026-27/reminders/send", data=data).status_code == 302
    (message,) = mailbox.parsed()
    assert message["Subject"] == "Please start: Gorse Infant"
    assert message.get_content().startswith("Hello Gwen Gorse, due 31 March 2027. http://localhost/audits/")


def test_an_establishment_with_an_extension_is_reminded_of_its_own_due_date(client, sign_in, chase, mailbox):
    """An agreed extension is the date that school works to: its reminder must not give the cycle's."""
    extend(chase["cycle"], date(2027, 4, 30), chase["lead"], establishment=chase["gorse"])
    db.session.commit()
    sign_in(chase["lead"])
    html = preview(client, all="1", status="incomplete").get_data(as_text=True)
    assert client.post("/cycles/2026-27/reminders/send", data=send_form(html)).status_code == 302
    by_to = {str(m["To"]): m for m in mailbox.parsed()}
    gorse = by_to["dsl@200007.example.org"].get_content()
    assert "It is due on 30 April 2027." in gorse and "31 March 2027" not in gorse
    # Everyone else keeps the cycle's date.
    assert "by 31 March 2027" in by_to["dsl@200004.example.org"]["Subject"]
    assert "31 March 2027" in by_to["dsl@200005.example.org"].get_content()


def test_an_unknown_placeholder_is_refused_and_nothing_is_sent(client, sign_in, chase, mailbox):
    sign_in(chase["lead"])
    data = send_form(preview(client, establishment=[str(chase["gorse"].id)]).get_data(as_text=True))
    data["body_not_started"] = ["Hello {headteacher}"]
    page = client.post("/cycles/2026-27/reminders/send", data=data)
    assert page.status_code == 400
    assert "Unknown placeholder {headteacher}" in page.get_data(as_text=True)
    assert mailbox.messages == [] and db.session.scalar(select(func.count()).select_from(Reminder)) == 0


def test_cool_off_is_honoured_and_force_overrides_it(client, sign_in, chase, mailbox):
    sign_in(chase["lead"])
    birch = str(chase["birch"].id)
    client.post(
        "/cycles/2026-27/reminders/send", data=send_form(preview(client, establishment=[birch]).get_data(as_text=True))
    )
    assert len(mailbox.messages) == 1
    again = preview(client, establishment=[birch]).get_data(as_text=True)
    assert "<strong>0</strong> establishments will be reminded" in again
    assert "<strong>1</strong> skipped: reminded within the cool-off period (3 days)" in again
    assert "Nothing will be sent" in again
    forced = preview(client, establishment=[birch], force="1").get_data(as_text=True)
    assert "<strong>1</strong> establishment will be reminded" in forced
    client.post("/cycles/2026-27/reminders/send", data=send_form(forced))
    assert len(mailbox.messages) == 2


def test_a_replayed_send_form_sends_nothing_twice(client, sign_in, chase, mailbox):
    sign_in(chase["lead"])
    data = send_form(preview(client, establishment=[str(chase["gorse"].id)], force="1").get_data(as_text=True))
    first = client.post("/cycles/2026-27/reminders/send", data=data)
    second = client.post(
        "/cycles/2026-27/reminders/send", data=data
    )  # a double click: same batch, forced past cool-off
    assert second.location == first.location  # the same job, not a second one
    assert len(mailbox.messages) == 1
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 1


def test_a_server_that_refuses_at_first_is_retried_without_duplicates(client, sign_in, chase, mailbox):
    mailbox.refuse = 2
    sign_in(chase["lead"])
    data = send_form(preview(client, establishment=[str(chase["gorse"].id)]).get_data(as_text=True))
    client.post("/cycles/2026-27/reminders/send", data=data)
    assert mailbox.attempts == 3
    assert mailbox.recipients == ["dsl@200007.example.org"]
    reminder = db.session.scalar(select(Reminder))
    assert (reminder.status, reminder.attempts) == (ReminderStatus.SENT, 3)


def test_a_failure_that_persists_is_recorded_and_shown_on_the_tracker(client, sign_in, chase, mailbox):
    mailbox.refuse = 100
    sign_in(chase["lead"])
    data = send_form(preview(client, establishment=[str(chase["gorse"].id)]).get_data(as_text=True))
    sent = client.post("/cycles/2026-27/reminders/send", data=data)
    assert mailbox.messages == [] and mailbox.attempts == 3
    reminder = db.session.scalar(select(Reminder))
    assert reminder.status is ReminderStatus.FAILED and "451" in reminder.last_error
    assert "1 could not be sent after retrying: see the tracker." in client.get(sent.location).get_data(as_text=True)
    tracker = client.get("/cycles/2026-27/tracker?q=Gorse").get_data(as_text=True)
    assert "Reminder failed" in tracker
    history = client.get("/cycles/2026-27/establishments/200007/reminders").get_data(as_text=True)
    assert "Failed" in history and "after 3 attempts" in history and "try later" in history


def test_a_permanent_refusal_is_not_retried(client, sign_in, chase, mailbox):
    mailbox.permanent = True
    sign_in(chase["lead"])
    client.post(
        "/cycles/2026-27/reminders/send",
        data=send_form(preview(client, establishment=[str(chase["gorse"].id)]).get_data(as_text=True)),
    )
    assert mailbox.attempts == 1
    assert db.session.scalar(select(Reminder)).status is ReminderStatus.FAILED


def test_cli_dry_run_sends_nothing_and_send_filters_by_status(runner, chase, mailbox):
    result = runner.invoke(args=["reminders", "send", "--cycle", "2026-27", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "3 to remind (3 emails)" in result.output and "1 skipped: no DSL contact" in result.output
    assert "Dry run: nothing was sent." in result.output
    assert mailbox.messages == [] and db.session.scalar(select(func.count()).select_from(Reminder)) == 0
    result = runner.invoke(args=["reminders", "send", "--cycle", "2026-27", "--status", "not_started"])
    assert result.exit_code == 0, result.output
    assert mailbox.recipients == ["dsl@200007.example.org"]
    # Off a terminal (a log, cron) the progress is plain lines, without a bar's control codes.
    assert (
        "Sending reminders: 0 of 1 reminders" in result.output
        and "Sending reminders: 1 of 1 reminders" in result.output
    )
    assert "\x1b[" not in result.output
    result = runner.invoke(args=["reminders", "send", "--cycle", "2026-27", "--status", "not_started"])
    assert "1 skipped: reminded within the cool-off period" in result.output and len(mailbox.messages) == 1
    result = runner.invoke(args=["reminders", "send", "--cycle", "2026-27", "--status", "not_started", "--force"])
    assert len(mailbox.messages) == 2
    assert runner.invoke(args=["reminders", "send", "--cycle", "nope"]).exit_code == 1


def test_run_due_honours_the_schedule_and_twice_a_day_sends_nothing_twice(runner, chase, mailbox):
    set_schedule(chase["cycle"], [14, 7, 2], weekly_when_overdue=True)
    db.session.commit()
    quiet = runner.invoke(args=["reminders", "run-due", "--date", "2027-03-20"])
    assert "no cycle has reminders due" in quiet.output and mailbox.messages == []
    first = runner.invoke(args=["reminders", "run-due", "--date", "2027-03-24"])  # 7 days before due
    assert first.exit_code == 0, first.output
    assert len(mailbox.messages) == 3
    second = runner.invoke(args=["reminders", "run-due", "--date", "2027-03-24"])
    assert second.exit_code == 0 and len(mailbox.messages) == 3
    # weekly once overdue: 7 days after the due date, the cool-off long past
    overdue = runner.invoke(args=["reminders", "run-due", "--date", "2027-04-07"])
    assert overdue.exit_code == 0 and len(mailbox.messages) == 6
    assert db.session.scalar(select(func.count()).select_from(Reminder).where(Reminder.created_by_id.is_(None))) == 6


def test_run_due_chases_an_establishment_with_an_extension_by_its_own_date(runner, chase, mailbox):
    """The schedule's days count back from the date each school works to: an extended school is not chased
    a week before the cycle's date, nor weekly as overdue while its own date is still to come."""
    set_schedule(chase["cycle"], [14, 7, 2], weekly_when_overdue=True)
    extend(chase["cycle"], date(2027, 4, 30), chase["lead"], establishment=chase["gorse"])
    db.session.commit()

    def run(day: str) -> list[str]:
        before = len(mailbox.messages)
        result = runner.invoke(args=["reminders", "run-due", "--date", day])
        assert result.exit_code == 0, result.output
        return sorted(address for rcpts, _content in mailbox.messages[before:] for address in rcpts)

    week_before = run("2027-03-24")  # 7 days before the cycle's date
    assert week_before and "dsl@200007.example.org" not in week_before
    overdue = run("2027-04-07")  # a week overdue for the others
    assert overdue == week_before
    own_week_before = run("2027-04-23")  # 7 days before Gorse's extension
    assert own_week_before == ["dsl@200007.example.org"]
    message = mailbox.parsed()[-1]
    assert "It is due on 30 April 2027." in message.get_content()
    assert run("2027-04-21") == week_before  # three weeks overdue for the others, not for Gorse
    assert run("2027-05-07") == ["dsl@200007.example.org"]  # a week past its own date


def test_the_schedule_is_set_from_the_web(client, sign_in, chase):
    sign_in(chase["lead"])
    page = client.get("/cycles/2026-27/reminders/schedule")
    assert page.status_code == 200 and "given an extension is reminded by its own date" in page.get_data(as_text=True)
    bad = client.post("/cycles/2026-27/reminders/schedule", data={"days": "14, soon"})
    assert bad.status_code == 200 and "Enter whole numbers" in bad.get_data(as_text=True)
    client.post("/cycles/2026-27/reminders/schedule", data={"days": "10, 3", "weekly": "y"})
    html = client.get("/cycles/2026-27/tracker").get_data(as_text=True)
    assert "10, 3 days before the due date" in html and "every week while returns are overdue" in html


def test_a_complete_establishment_is_never_reminded(chase, mailbox):
    from surveyapp.chasing.services import plan_reminders

    plan = plan_reminders(chase["cycle"], [chase["elm"].id, chase["ash"].id], force=True)
    assert plan.to_send == [] and {s.reason for s in plan.skipped} == {"complete"}
    set_status(chase["cycle"], ResponseStatus.SUBMITTED, establishment=chase["gorse"])
    db.session.commit()
    assert plan_reminders(chase["cycle"], [chase["gorse"].id]).to_send == []
    assert date(2027, 3, 31) == chase["cycle"].due_on


def _between(html: str, start: str, end: str) -> str:
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


def test_a_large_selection_previews_as_counts_and_the_first_names(monkeypatch, client, sign_in, make, chase):
    from surveyapp.audits.models import Assignment, Response
    from surveyapp.chasing import views

    for number in range(3):  # three more not started, without a DSL contact
        school = make.establishment(name=f"Heath School {number}", urn=f"20010{number}")
        assignment = Assignment(cycle_id=chase["cycle"].id, establishment_id=school.id)
        db.session.add(assignment)
        db.session.flush()
        db.session.add(Response(assignment_id=assignment.id, status=ResponseStatus.NOT_STARTED))
    db.session.commit()
    monkeypatch.setattr(views, "PREVIEW_NAMES", 2)
    sign_in(chase["lead"])
    html = preview(client, all="1", status="incomplete").get_data(as_text=True)
    counts = _between(html, 'id="plan-counts"', "</ul>")
    assert "<strong>3</strong> establishments will be reminded (3 emails)" in counts
    assert "<strong>4</strong> skipped: no DSL contact" in counts
    no_contact = _between(html, 'id="no-contact"', "</ul>")
    assert no_contact.count("<li>") == 2 and "Fir Nursery" in no_contact  # by name: Fir, then Heath School 0
    assert "and 2 more" in html[html.index('id="no-contact-more"') :]
    tracker_url = re.search(r'href="([^"]+)" id="no-contact-on-tracker"', html).group(1).replace("&amp;", "&")
    assert (
        tracker_url.startswith("/cycles/2026-27/tracker?")
        and "no_contact=1" in tracker_url
        and "status=incomplete" in tracker_url
    )
    listed = client.get(tracker_url).get_data(as_text=True)
    assert sorted(re.findall(r'data-urn="(\d+)"', listed)) == ["200006", "200100", "200101", "200102"]
    to_send = _between(html, 'id="to-send"', "</ul>")
    assert to_send.count("<li>") == 2 and "and 1 more" in html[html.index('id="to-send-more"') :]
    assert "Send 3 reminders" in html
    # a handful chosen by ticking lists every name and links to every establishment without a contact
    ticked = preview(client, establishment=[str(chase["fir"].id), str(chase["gorse"].id)]).get_data(as_text=True)
    assert 'id="to-send-more"' not in ticked and 'id="no-contact-more"' not in ticked
    assert re.search(r'href="/cycles/2026-27/tracker\?[^"]*no_contact=1[^"]*" id="no-contact-on-tracker"', ticked)


def test_a_line_break_in_the_subject_is_refused_clearly_and_nothing_is_queued(client, sign_in, chase, mailbox):
    """The review's finding: a CR or LF in the subject failed the send and left reminders queued."""
    sign_in(chase["lead"])
    data = send_form(preview(client, establishment=[str(chase["gorse"].id)]).get_data(as_text=True))
    data["subject_not_started"] = ["Please start\r\nBcc: everyone@example.org"]
    page = client.post("/cycles/2026-27/reminders/send", data=data)
    assert page.status_code == 400
    assert "The subject must be on one line" in page.get_data(as_text=True)
    assert mailbox.messages == [] and db.session.scalar(select(func.count()).select_from(Reminder)) == 0


def test_a_school_name_with_a_line_break_is_sent_on_one_line_and_nothing_is_stranded(client, sign_in, chase, mailbox):
    chase["gorse"].name = "Gorse\r\nInfant"  # stored before imports normalised whitespace
    db.session.commit()
    sign_in(chase["lead"])
    data = send_form(preview(client, establishment=[str(chase["gorse"].id)]).get_data(as_text=True))
    assert client.post("/cycles/2026-27/reminders/send", data=data).status_code == 302
    (message,) = mailbox.parsed()
    assert "Gorse Infant" in message["Subject"]
    assert db.session.scalar(select(Reminder.status)) is ReminderStatus.SENT


def test_a_message_that_cannot_be_built_is_marked_failed_not_left_queued(app, chase, mailbox):
    from surveyapp import mail
    from surveyapp.chasing.models import ReminderKind
    from surveyapp.chasing.services import deliver

    reminder = Reminder(
        cycle_id=chase["cycle"].id,
        establishment_id=chase["gorse"].id,
        recipient_email="dsl@200007.example.org",
        kind=ReminderKind.NOT_STARTED,
        subject="Broken\nsubject",
        body="Hello",
        status=ReminderStatus.QUEUED,
        attempts=0,
        last_error="",
        idempotency_key="broken-subject",
    )
    db.session.add(reminder)
    db.session.commit()
    result = deliver([reminder], mail.MailSettings.from_config(app.config), attempts=3, sleep=lambda _s: None)
    db.session.commit()
    assert result.sent == 0 and reminder.status is ReminderStatus.FAILED and reminder.attempts == 1
    assert "could not be built" in reminder.last_error and mailbox.messages == []


def test_reminders_are_capped_per_establishment_per_cycle_and_the_preview_says_so(
    client, sign_in, chase, mailbox, runner
):
    from surveyapp.chasing.models import ReminderKind

    gorse, birch = chase["gorse"], chase["birch"]
    gwen = db.session.scalar(select(User).where(User.email == "dsl@200007.example.org"))
    for n in range(6):  # Gorse has had the default cap of six reminders already this cycle
        db.session.add(
            Reminder(
                cycle_id=chase["cycle"].id,
                establishment_id=gorse.id,
                recipient_user_id=gwen.id,
                recipient_email=gwen.email,
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
    sign_in(chase["lead"])
    html = preview(client, establishment=[str(gorse.id), str(birch.id)], force="1").get_data(as_text=True)
    counts = html[html.index('id="plan-counts"') : html.index("</ul>", html.index('id="plan-counts"'))]
    assert "<strong>1</strong> establishment will be reminded" in counts
    assert (
        "<strong>1</strong> skipped: already sent the most reminders allowed in one cycle (6 in this cycle)" in counts
    )
    assert client.post("/cycles/2026-27/reminders/send", data=send_form(html)).status_code == 302
    assert mailbox.recipients == ["dsl@200004.example.org"]
    dry = runner.invoke(args=["reminders", "send", "--cycle", "2026-27", "--dry-run", "--force"])
    assert "skipped: already sent the most reminders allowed in one cycle (6 in this cycle)" in dry.output
