"""Jobs without a queue: the same job, run in the request that starts it; who may see a job; work that is
safe to run again."""

from __future__ import annotations

import csv
import io

import openpyxl
from sqlalchemy import select

from surveyapp.activity.services import record
from surveyapp.chasing import services as chasing
from surveyapp.chasing.models import Reminder, ReminderStatus
from surveyapp.extensions import db
from surveyapp.jobs import runner, services
from surveyapp.jobs.models import Job, JobKind, JobState
from tests.jobs.conftest import FORMULA_NAME
from tests.jobs.helpers import default_wording


def _job_id(location: str) -> int:
    assert location.startswith("/jobs/")
    return int(location.rsplit("/", 1)[1])


def test_without_a_queue_a_send_runs_in_the_request_and_its_page_shows_the_result(client, sign_in, shire, mailbox):
    sign_in(shire["lead"])
    sent = client.post(
        "/cycles/2026-27/reminders/send",
        data={"batch": "b1", "establishment": [str(s.id) for s in shire["schools"][:3]], **default_wording()},
    )
    job = db.session.get(Job, _job_id(sent.location))
    assert mailbox.recipients == shire["addresses"][:3]  # sent before the request answered
    assert (job.kind, job.state, job.done, job.total, job.runs) == (JobKind.REMINDERS, JobState.DONE, 3, 3, 1)
    assert job.started_by_id == shire["lead"].id and job.cycle_id == shire["cycle"].id
    page = client.get(sent.location).get_data(as_text=True)
    assert "3 reminders sent." in page and 'id="job-progress-bar"' not in page
    assert 'href="/cycles/2026-27/tracker"' in page
    progress = client.get(sent.location + "/progress.json").get_json()
    assert progress == {
        "state": "done",
        "state_label": "Finished",
        "done": 3,
        "total": 3,
        "message": "Finished",
        "finished": True,
        "stalled": False,
    }
    assert client.get(sent.location + "/download").status_code == 404  # a send has no file


def test_the_workbook_runs_in_the_request_and_keeps_formula_like_names_as_text(client, sign_in, shire):
    sign_in(shire["board"])
    started = client.post("/cycles/2026-27/workbook")
    page = client.get(started.location).get_data(as_text=True)
    assert "The board workbook for 2026-27 is ready to download." in page
    download = client.get(started.location + "/download")
    assert download.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(download.data))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value == FORMULA_NAME]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_the_committee_report_is_written_by_a_job(client, sign_in, shire):
    sign_in(shire["board"])
    started = client.post("/cycles/2026-27/committee-report", data={"kind": "docx"})
    assert "The committee report for 2026-27 (Word document) is ready" in client.get(started.location).get_data(
        as_text=True
    )
    download = client.get(started.location + "/download")
    assert download.data[:2] == b"PK"
    assert download.headers["Content-Disposition"] == "attachment; filename=committee-report-2026-27.docx"
    assert client.post("/cycles/2026-27/committee-report", data={"kind": "exe"}).status_code == 400
    assert client.post("/cycles/1999-00/committee-report", data={"kind": "pdf"}).status_code == 404


def test_the_activity_log_download_is_a_job_and_stays_safe_from_formulas(client, sign_in, shire):
    record("establishment.renamed", shire["lead"].id, establishment_id=shire["schools"][0].id, name=FORMULA_NAME)
    db.session.commit()
    sign_in(shire["lead"])
    started = client.post("/activity/download", data={"fmt": "csv", "action": "establishment.renamed"})
    page = client.get(started.location).get_data(as_text=True)
    assert "The activity log (1 record) is ready to download." in page
    download = client.get(started.location + "/download")
    assert download.headers["Content-Disposition"] == "attachment; filename=activity.csv"
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][9] == "establishment.renamed"
    assert rows[1][5] == "'" + FORMULA_NAME  # the establishment's name, never read as a formula
    book = client.post("/activity/download", data={"fmt": "xlsx", "action": "establishment.renamed"})
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(book.location + "/download").data)).active
    assert sheet.cell(2, 6).value == FORMULA_NAME and sheet.cell(2, 6).data_type == "s"
    # Reading the audit trail out is itself recorded, against the one who asked.
    db.session.rollback()
    from surveyapp.activity.models import ActivityRecord

    exported = db.session.scalars(select(ActivityRecord).where(ActivityRecord.action == "activity.exported")).all()
    assert [(r.actor_id, r.detail["format"], r.detail["records"]) for r in exported] == [
        (shire["lead"].id, "csv", 1),
        (shire["lead"].id, "xlsx", 1),
    ]
    assert client.post("/activity/download", data={"fmt": "csv", "cycle": "no-such-cycle"}).status_code == 404


def test_a_job_is_seen_by_whoever_started_it_and_the_lead_only(app, client, sign_in, shire, make):
    sign_in(shire["board"])
    started = client.post("/cycles/2026-27/workbook")
    job_page = started.location
    for user, status in ((shire["lead"], 200), (shire["other_board"], 404), (shire["dsls"][1], 404)):
        other = app.test_client()
        sign_in(user, test_client=other)
        for path in (job_page, job_page + "/progress.json", job_page + "/download"):
            assert other.get(path).status_code == status, (user.email, path)
        assert other.post(job_page + "/run-again").status_code in ((302,) if status == 200 else (404,))
    assert app.test_client().get(job_page).status_code == 302  # signed out: sign in first
    # Only the lead has the list of recent jobs.
    assert client.get("/jobs").status_code == 403


def test_the_lead_lists_recent_jobs_newest_first(client, sign_in, shire):
    sign_in(shire["lead"])
    assert 'href="/jobs">Sends and downloads</a>' in client.get("/cycles").get_data(as_text=True)
    client.post("/cycles/2026-27/workbook")
    client.post("/cycles/2026-27/committee-report", data={"kind": "pdf"})
    page = client.get("/jobs").get_data(as_text=True)
    table = page[page.index('id="jobs"') :]
    assert table.index("Committee report") < table.index("Board workbook")
    assert table.count("Finished") == 2


def test_a_reminder_cut_off_mid_send_is_not_sent_again_and_the_rest_are(app, shire, mailbox):
    """A lost run left one reminder with an attempt begun and no answer recorded: it may have arrived."""
    cycle = shire["cycle"]
    plan = chasing.plan_reminders(cycle, [s.id for s in shire["schools"][:3]])
    queued = chasing.queue_reminders(cycle, plan, batch="web:cut", base_url="http://localhost")
    queued[0].attempts = 1  # the lost worker began it
    job = services.start_job(
        JobKind.REMINDERS,
        shire["lead"],
        cycle=cycle,
        key="reminders:web:cut",
        params={"batch": "web:cut", "planned": True},
    )
    job.state, job.runs = JobState.RUNNING, 1
    db.session.commit()
    services.requeue(job, force=True)
    db.session.commit()
    runner.run(job.id)
    db.session.rollback()
    reminders = {r.recipient_email: r for r in db.session.scalars(select(Reminder))}
    cut_off = reminders[queued[0].recipient_email]
    assert cut_off.status is ReminderStatus.FAILED and cut_off.last_error == chasing.INTERRUPTED
    assert mailbox.recipients == sorted(email for email in reminders if email != cut_off.recipient_email)
    job = db.session.get(Job, job.id)
    assert (job.state, job.runs) == (JobState.DONE, 2)
    assert job.summary == (
        "2 reminders sent. 1 was interrupted while sending and not sent again, in case it arrived: see the tracker."
    )
    # Run again once finished: nothing to do, nothing sent.
    runner.run(job.id)
    assert len(mailbox.messages) == 2


def test_a_failed_job_says_why_and_can_be_started_again(client, sign_in, shire, monkeypatch):
    """A job that broke (here its work raises) is offered to run again; one the work refused is not, as the
    same run could only refuse again."""
    from surveyapp.jobs import work

    sign_in(shire["lead"])
    refused = services.start_job(JobKind.ACTIVITY_EXPORT, shire["lead"], params={"format": "pdf"})
    db.session.commit()
    runner.run(refused.id)
    page = client.get(f"/jobs/{refused.id}").get_data(as_text=True)
    assert "This could not be finished" in page and "That format is not offered." in page
    assert "Start it again" not in page

    def broken(job, progress, commit):
        raise RuntimeError("the disk is full")

    monkeypatch.setitem(work.WORK, JobKind.ACTIVITY_EXPORT, broken)
    job = services.start_job(JobKind.ACTIVITY_EXPORT, shire["lead"], params={"format": "csv"})
    db.session.commit()
    runner.run(job.id)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Something went wrong while doing this" in page and "the disk is full" not in page
    assert "Start it again" in page
    again = client.post(f"/jobs/{job.id}/run-again")
    assert again.location == f"/jobs/{job.id}"
    db.session.rollback()
    assert (db.session.get(Job, job.id).state, db.session.get(Job, job.id).runs) == (JobState.FAILED, 2)


def test_a_file_larger_than_a_stored_piece_downloads_whole_and_a_run_again_replaces_it(
    client, sign_in, shire, monkeypatch
):
    """Files are kept in pieces, so no host holds a national workbook whole: the download is the file, byte
    for byte, with its size and a disposition, and a second run of the job keeps only its own file."""
    from surveyapp import stored_files
    from surveyapp.stored_files import StoredFile, StoredFilePiece

    monkeypatch.setattr(stored_files, "PIECE_SIZE", 1000)
    sign_in(shire["lead"])
    started = client.post("/cycles/2026-27/workbook").location
    job_id = _job_id(started)
    download = client.get(started + "/download")
    assert download.status_code == 200 and download.is_streamed
    data = download.get_data()
    file_id = db.session.get(Job, job_id).file_id
    pieces = db.session.scalars(
        select(StoredFilePiece.data).where(StoredFilePiece.file_id == file_id).order_by(StoredFilePiece.number)
    ).all()
    assert len(pieces) > 3 and b"".join(pieces) == data and all(len(piece) <= 1000 for piece in pieces)
    assert int(download.headers["Content-Length"]) == len(data)
    assert download.headers["Content-Disposition"] == "attachment; filename=safeguarding-audit-2026-27.xlsx"
    assert download.headers["Cache-Control"] == "no-store"
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert "Summary" in book.sheetnames

    # The same job run again (a lost worker's job started once more) keeps one file, not two end to end.
    job = db.session.get(Job, job_id)
    job.state = JobState.FAILED
    db.session.commit()
    rerun = client.post(f"/jobs/{job_id}/run-again")
    assert rerun.location == started
    again = client.get(started + "/download").get_data()
    db.session.expire_all()
    kept = db.session.get(Job, job_id).file_id
    stored = db.session.scalars(
        select(StoredFilePiece.data).where(StoredFilePiece.file_id == kept).order_by(StoredFilePiece.number)
    ).all()
    assert b"".join(stored) == again and len(again) == db.session.get(StoredFile, kept).size
    assert (
        db.session.get(StoredFile, file_id) is None
        and not db.session.scalars(select(StoredFilePiece.number).where(StoredFilePiece.file_id == file_id)).all()
    )  # the first run's file is gone, not kept beside the second's
    assert "Summary" in openpyxl.load_workbook(io.BytesIO(again)).sheetnames


def test_files_are_forgotten_a_week_after_they_were_made(client, sign_in, shire):
    from datetime import timedelta

    from surveyapp.timeutil import utcnow

    sign_in(shire["lead"])
    old = client.post("/cycles/2026-27/workbook").location
    assert client.get(old + "/download").status_code == 200
    job = db.session.get(Job, _job_id(old))
    file_id = job.file_id
    job.finished_at = utcnow() - timedelta(days=8)
    db.session.commit()
    recent = client.post("/cycles/2026-27/workbook").location  # starting a job clears out files over a week old
    assert client.get(old + "/download").status_code == 404
    from surveyapp.stored_files import StoredFilePiece

    db.session.expire_all()
    assert db.session.get(Job, job.id).file_id is None
    assert db.session.scalar(select(StoredFilePiece.number).where(StoredFilePiece.file_id == file_id)) is None  # freed
    page = client.get(old).get_data(as_text=True)
    assert "The board workbook for 2026-27 is ready" in page and "The file is no longer kept" in page
    assert client.get(recent + "/download").status_code == 200


def test_a_reminder_another_run_has_claimed_is_left_to_it(app, shire, mailbox):
    """Two runs of one send at once (a worker thought lost that was only slow): an attempt is claimed in the
    database before it is made, so the run that finds the reminder claimed under its feet sends nothing."""
    from sqlalchemy import update

    from surveyapp import mail

    cycle = shire["cycle"]
    plan = chasing.plan_reminders(cycle, [s.id for s in shire["schools"][:2]])
    first, second = chasing.queue_reminders(cycle, plan, batch="web:twice", base_url="http://localhost")
    db.session.commit()
    assert (first.attempts, second.attempts) == (0, 0)  # as this run read them
    with db.engine.begin() as other_run:
        other_run.execute(update(Reminder).where(Reminder.id == first.id).values(attempts=1))
    assert chasing._claim_attempt(first, db.session.commit) is False
    assert chasing._claim_attempt(second, db.session.commit) is True and second.attempts == 1
    # Delivering now: the first is another run's (or was cut off), the second has an attempt of its own
    # begun, so neither is sent by this run.
    delivery = chasing.deliver([first, second], mail.MailSettings.from_config(app.config), checkpoint=db.session.commit)
    assert delivery.sent == 0 and mailbox.messages == []


def test_a_queue_that_cannot_be_reached_fails_the_job_and_it_can_be_started_again(app, client, sign_in, shire, mailbox):
    app.config.update(REDIS_URL="redis://127.0.0.1:1/0", JOB_QUEUE="nobody-listens")  # nothing listens on port 1
    sign_in(shire["lead"])
    sent = client.post(
        "/cycles/2026-27/reminders/send",
        data={"batch": "b2", "establishment": [str(shire["schools"][1].id)], **default_wording()},
    )
    page = client.get(sent.location).get_data(as_text=True)
    assert "The job queue could not be reached, so nothing has been done yet." in page and "Start it again" in page
    assert mailbox.messages == []
    app.config["REDIS_URL"] = None  # the queue is back (here: none, so it runs in the request)
    client.post(sent.location + "/run-again")
    assert "1 reminder sent." in client.get(sent.location).get_data(as_text=True)
    assert mailbox.recipients == [shire["addresses"][1]]


def test_a_running_job_is_judged_lost_by_its_run_s_heartbeat_not_by_its_progress(app, client, sign_in, shire):
    from datetime import timedelta

    from surveyapp.jobs.models import JobHeartbeat
    from surveyapp.timeutil import utcnow

    app.config["JOB_LOST_AFTER_SECONDS"] = 90
    sign_in(shire["lead"])
    job = services.start_job(JobKind.WORKBOOK, shire["lead"], cycle=shire["cycle"])
    # Its second run has reported no progress for eleven minutes (one long step) but beat half a minute ago.
    job.state, job.runs, job.updated_at = JobState.RUNNING, 2, utcnow() - timedelta(minutes=11)
    heartbeat = JobHeartbeat(job_id=job.id, run=2, beat_at=utcnow() - timedelta(seconds=30))
    db.session.add(heartbeat)
    db.session.commit()
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Start it again" not in page and "most likely been lost" not in page
    assert client.get(f"/jobs/{job.id}/progress.json").get_json()["stalled"] is False
    client.post(f"/jobs/{job.id}/run-again")
    assert db.session.get(Job, job.id).state is JobState.RUNNING  # refused: still running

    # Its beats stopped a minute and a half ago: lost, with when it was last heard of.
    heartbeat.beat_at = utcnow() - timedelta(seconds=100)
    db.session.commit()
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Start it again" in page and "nothing has been heard from the work since" in page
    progress = client.get(f"/jobs/{job.id}/progress.json").get_json()
    assert (progress["stalled"], progress["state_label"]) == (True, "Stopped")
    assert "Stopped" in client.get("/jobs").get_data(as_text=True)

    # A fresh beat from an earlier run says nothing of this one: the ten-minute rule on progress decides,
    # and its last progress was eleven minutes ago.
    heartbeat.run, heartbeat.beat_at = 1, utcnow()
    db.session.commit()
    assert "Start it again" in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    client.post(f"/jobs/{job.id}/run-again")
    db.session.rollback()
    job = db.session.get(Job, job.id)
    assert (job.state, job.runs) == (JobState.DONE, 3) and job.has_file


def test_a_job_silent_for_ten_minutes_may_be_started_again_and_not_sooner(client, sign_in, shire):
    from datetime import timedelta

    from surveyapp.timeutil import utcnow

    sign_in(shire["lead"])
    job = services.start_job(JobKind.WORKBOOK, shire["lead"], cycle=shire["cycle"])
    job.state, job.runs, job.updated_at = JobState.RUNNING, 1, utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert "Start it again" not in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    client.post(f"/jobs/{job.id}/run-again")
    assert db.session.get(Job, job.id).state is JobState.RUNNING  # refused: still running
    job.updated_at = utcnow() - timedelta(minutes=11)
    db.session.commit()
    assert "Start it again" in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    client.post(f"/jobs/{job.id}/run-again")
    db.session.rollback()
    job = db.session.get(Job, job.id)
    assert (job.state, job.runs) == (JobState.DONE, 2) and job.has_file
