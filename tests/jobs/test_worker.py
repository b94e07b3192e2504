"""Jobs on the real queue: RQ on the real Redis, `surveyapp worker` in a process of its own on the test database,
and reminders delivered to a real SMTP server on loopback."""

from __future__ import annotations

import io
import subprocess
import time
from collections import Counter
from contextlib import contextmanager

import openpyxl
import pytest
from sqlalchemy import select

from surveyapp.chasing.models import Reminder, ReminderStatus
from surveyapp.chasing.services import INTERRUPTED
from surveyapp.extensions import db
from surveyapp.jobs.models import Job, JobState
from tests.jobs.conftest import FORMULA_NAME
from tests.jobs.helpers import (
    REDIS_URL,
    SURVEYAPP,
    SlowMailbox,
    default_wording,
    kill_worker,
    run_burst_worker,
    start_worker,
    wait_for,
    worker_env,
)


@pytest.fixture
def app_config(mail_config, queue_name):
    """With a queue: starting a job only queues it; the worker does the work."""
    return {**mail_config, "REDIS_URL": REDIS_URL, "JOB_QUEUE": queue_name}


def _job(job_id: int) -> Job:
    db.session.rollback()  # read what the worker committed, not this session's snapshot
    return db.session.get(Job, job_id)


def _send_all(client, shire) -> str:
    """The lead sends the reminders to every establishment; the job page's address."""
    sent = client.post(
        "/cycles/2026-27/reminders/send",
        data={"batch": "all-of-them", "establishment": [str(s.id) for s in shire["schools"]], **default_wording()},
    )
    assert sent.status_code == 302 and sent.location.startswith("/jobs/")
    return sent.location


def test_a_workbook_started_by_a_board_viewer_is_written_by_the_worker_and_the_lead_sees_it(
    app, client, sign_in, shire, tmp_path
):
    sign_in(shire["board"])
    started = client.post("/cycles/2026-27/workbook")
    assert started.status_code == 302
    job_page = started.location
    job_id = int(job_page.rsplit("/", 1)[1])
    waiting = client.get(job_page).get_data(as_text=True)
    assert "Waiting to start" in waiting and 'id="job-progress-bar"' in waiting  # queued: no worker has run it yet
    assert client.get(job_page + "/download").status_code == 404

    run_burst_worker(app, tmp_path)

    job = _job(job_id)
    assert (job.state, job.runs, job.error) == (JobState.DONE, 1, "")
    lead = app.test_client()
    sign_in(shire["lead"], test_client=lead)
    page = lead.get(job_page).get_data(as_text=True)
    assert "The board workbook for 2026-27 is ready to download." in page
    assert "Download safeguarding-audit-2026-27.xlsx" in page
    assert f'href="{job_page}"' in lead.get("/jobs").get_data(as_text=True)
    download = lead.get(job_page + "/download")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == "attachment; filename=safeguarding-audit-2026-27.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(download.data))
    assert book.sheetnames[0] == "Summary"
    cells = [cell for row in book["Non-responders"].iter_rows() for cell in row if cell.value == FORMULA_NAME]
    assert cells and all(cell.data_type == "s" for cell in cells)  # text, never a formula
    # Another board viewer is told the job does not exist.
    other = app.test_client()
    sign_in(shire["other_board"], test_client=other)
    assert other.get(job_page).status_code == 404 and other.get(job_page + "/download").status_code == 404


def test_reminders_are_sent_by_the_worker_over_smtp_exactly_once(app, client, sign_in, shire, mailbox, tmp_path):
    sign_in(shire["lead"])
    job_page = _send_all(client, shire)
    job_id = int(job_page.rsplit("/", 1)[1])
    assert mailbox.messages == []  # the request only queued them
    assert "Waiting to send 8 reminders" in client.get(job_page).get_data(as_text=True)

    run_burst_worker(app, tmp_path)

    assert mailbox.recipients == shire["addresses"]
    assert "8 reminders sent." in client.get(job_page).get_data(as_text=True)
    job = _job(job_id)
    assert (job.state, job.done, job.total, job.message) == (JobState.DONE, 8, 8, "Finished")
    # The form sent again (a double click, the back button) finds the same job; another worker run sends nothing.
    again = client.post(
        "/cycles/2026-27/reminders/send",
        data={"batch": "all-of-them", "establishment": [str(s.id) for s in shire["schools"]], **default_wording()},
    )
    assert again.location == job_page
    run_burst_worker(app, tmp_path)
    assert mailbox.recipients == shire["addresses"]
    assert db.session.scalar(select(Reminder.id).where(Reminder.status != ReminderStatus.SENT)) is None


@contextmanager
def _slow_mail_server(smtp_port):
    """A real SMTP server on loopback that takes its time over each message (``SlowMailbox``)."""
    from aiosmtpd.controller import Controller

    handler = SlowMailbox()
    server = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        yield handler
    finally:
        server.stop()


def _send_and_lose_the_worker(app, client, shire, tmp_path, handler, *, sent: int, while_alive=None) -> tuple[str, int]:
    """The lead sends to every establishment; a worker sends ``sent`` of them, then is lost. The job's page and id.

    :param while_alive: called with the job's page and id while the worker is still sending
    """
    job_page = _send_all(client, shire)
    job_id = int(job_page.rsplit("/", 1)[1])
    worker = start_worker(app, tmp_path)
    try:
        wait_for(lambda: len(handler.messages) >= sent, timeout=90)
        if while_alive is not None:
            while_alive(job_page, job_id)
    finally:
        kill_worker(worker)  # the worker and its work horse, with SIGKILL, as a lost machine would
    return job_page, job_id


def test_a_worker_killed_mid_send_and_a_new_worker_send_every_remaining_reminder_and_none_twice(
    app, client, sign_in, shire, smtp_port, tmp_path
):
    with _slow_mail_server(smtp_port) as handler:
        sign_in(shire["lead"])
        job_page, job_id = _send_and_lose_the_worker(app, client, shire, tmp_path, handler, sent=3)
        at_kill = len(handler.messages)
        job = _job(job_id)
        assert job.state is JobState.RUNNING and 0 < job.done < 8  # left half done, as far as the database knows
        assert "Sending" in client.get(job_page).get_data(as_text=True)
        before = {r.recipient_email: (r.status, r.attempts) for r in db.session.scalars(select(Reminder))}
        untouched = {
            email for email, (status, attempts) in before.items() if status is ReminderStatus.QUEUED and not attempts
        }
        assert untouched  # there is something left to send

        # The operator starts the lost job again (its worker is known to be gone), and a new worker runs it.
        requeued = subprocess.run(
            [SURVEYAPP, "jobs", "requeue", str(job_id), "--force"],
            env=worker_env(app, tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert requeued.returncode == 0, requeued.stdout + requeued.stderr
        run_burst_worker(app, tmp_path)

    received = Counter(handler.recipients)
    assert all(count == 1 for count in received.values()), received  # nobody got a reminder twice
    job = _job(job_id)
    assert (job.state, job.runs) == (JobState.DONE, 2)
    after = {r.recipient_email: r for r in db.session.scalars(select(Reminder))}
    assert set(after) == set(shire["addresses"])
    for email in untouched:  # every reminder the lost worker had not reached is sent now
        assert after[email].status is ReminderStatus.SENT and received[email] == 1
    cut_off = [r for r in after.values() if r.status is not ReminderStatus.SENT]
    # At most the one reminder in flight when the worker died: its fate is unknown, so it is not sent again.
    assert len(cut_off) <= 1
    for reminder in cut_off:
        assert reminder.status is ReminderStatus.FAILED and reminder.last_error == INTERRUPTED
    for reminder in after.values():
        if reminder.status is ReminderStatus.SENT:
            assert received[reminder.recipient_email] == 1
    assert len(handler.messages) >= at_kill
    page = client.get(job_page).get_data(as_text=True)
    assert f"{sum(r.status is ReminderStatus.SENT for r in after.values())} reminders sent." in page


def test_the_worker_command_refuses_to_start_without_a_queue(app, runner):
    app.config["REDIS_URL"] = None
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 1 and "REDIS_URL is not set" in result.output


def test_a_lost_worker_is_found_lost_by_its_silent_heartbeat_and_the_lead_starts_the_send_again(
    app, client, sign_in, shire, smtp_port, tmp_path
):
    # Beats every second, lost after six silent seconds (by default every 15 s, lost after 90 s).
    app.config.update(JOB_HEARTBEAT_SECONDS=1, JOB_LOST_AFTER_SECONDS=6)
    beats = db.engine.dialect.name == "postgresql"  # SQLite lets one transaction write at a time: no beats

    def while_alive(job_page, job_id):
        heartbeat = _job(job_id).heartbeat
        assert (heartbeat is not None and heartbeat.run == 1) is beats
        page = client.get(job_page).get_data(as_text=True)
        assert "Start it again" not in page and "has most likely been lost" not in page  # alive and working

    with _slow_mail_server(smtp_port) as handler:
        sign_in(shire["lead"])
        job_page, job_id = _send_and_lose_the_worker(
            app, client, shire, tmp_path, handler, sent=2, while_alive=while_alive
        )
        if not beats:
            # Without beats the old rule holds: ten minutes with no progress before it counts as lost.
            time.sleep(7)
            assert "Start it again" not in client.get(job_page).get_data(as_text=True)
            return
        # The page the lead is watching learns it within seconds, not ten minutes.
        wait_for(lambda: client.get(job_page + "/progress.json").get_json()["stalled"], timeout=30, every=0.5)
        page = client.get(job_page).get_data(as_text=True)
        assert "Start it again" in page and "has most likely been lost" in page
        assert "Sending" in page  # how far it got, as the lost run last said
        again = client.post(job_page + "/run-again")
        assert again.status_code == 302
        assert _job(job_id).state is JobState.QUEUED
        run_burst_worker(app, tmp_path)

    received = Counter(handler.recipients)
    assert all(count == 1 for count in received.values()), received  # nobody got a reminder twice
    job = _job(job_id)
    assert (job.state, job.runs, job.heartbeat.run) == (JobState.DONE, 2, 2)
    sent = {r.recipient_email for r in db.session.scalars(select(Reminder)) if r.status is ReminderStatus.SENT}
    assert len(sent) >= len(shire["addresses"]) - 1  # all but, at most, the one in flight when it was lost
    assert "Start it again" not in client.get(job_page).get_data(as_text=True)
