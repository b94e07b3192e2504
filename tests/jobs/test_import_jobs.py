"""Confirmed register imports run as jobs (here without a queue: the job runs in the request that confirms):
the job's page says what the import changed, the import lands once however often its job runs, and only
those who manage the register see it."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from surveyapp.auth.models import Role, User
from surveyapp.establishments import importer
from surveyapp.establishments.jobs import ALREADY, CHECKING
from surveyapp.establishments.models import Establishment
from surveyapp.establishments.signals import register_imported
from surveyapp.extensions import db
from surveyapp.jobs import runner
from surveyapp.jobs.models import Job, JobKind, JobState
from tests.establishments.gias_files import OAKFIELD, ST_MARYS, contacts_csv, gias_csv
from tests.jobs.imports import job_of, page_text, register_state, register_with_a_cycle, upload_and_preview

SUMMARY = (
    "Establishments imported: 3 new, 1 updated, 0 unchanged, 0 closed; trusts: 1 new, 0 renamed. "
    "2026-27: 2 joined, 0 left the counts (closed), 0 moved to another trust's cover."
)


@pytest.fixture
def world(make, app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    return register_with_a_cycle(make)


def test_the_confirmed_gias_import_is_a_job_whose_page_says_what_changed(client, sign_in, world):
    sign_in(world["lead"])
    preview_url = upload_and_preview(client, gias_csv())
    assert register_state()["establishments"] == 1  # the preview imported nothing

    confirmed = client.post(preview_url)
    job = job_of(confirmed.location)
    assert (job.kind, job.state, job.runs, job.started_by_id) == (
        JobKind.REGISTER_IMPORT,
        JobState.DONE,
        1,
        world["lead"].id,
    )
    assert (job.done, job.total) == (4, 4)  # 3 new and 1 updated establishment written
    assert job.summary == SUMMARY  # the words the register's page used to flash
    assert register_state() == {
        "establishments": 4,
        # Oakfield and Notre Dame joined the running cycle, and their trust's own return; the closed nursery did not
        "in the cycle": 4,
        "kept uploads": 0,  # used up by the import
        "imports logged": 1,
        "St Mary’s": ST_MARYS,
    }
    page = page_text(client.get(confirmed.location))
    assert '<h1 class="govuk-heading-l">Establishments import</h1>' in page and "Finished" in page
    assert SUMMARY in page
    assert '<a class="govuk-link" id="job-back" href="/establishments/">Back to the register</a>' in page
    assert "Download" not in page and "no longer kept" not in page  # an import makes no file
    assert OAKFIELD in page_text(client.get("/establishments/"))
    # The used-up upload is gone: confirming again finds nothing to import.
    assert client.post(preview_url).status_code == 404


def test_the_import_job_run_again_imports_nothing_twice(client, sign_in, world):
    """A second run of a job whose import landed (a worker thought lost that was only slow, finishing after the
    job was started again) finds the kept upload used up and says the first run imported it."""
    sign_in(world["lead"])
    job = job_of(client.post(upload_and_preview(client, gias_csv())).location)
    after_first = register_state()
    # As if the run's end had not been seen: the job is waiting to run again.
    db.session.execute(update(Job).where(Job.id == job.id).values(state=JobState.QUEUED))
    db.session.commit()

    runner.run(job.id)

    job = job_of(f"/jobs/{job.id}")
    assert (job.state, job.runs) == (JobState.DONE, 2)
    assert job.summary == f"{ALREADY} {SUMMARY}"
    assert register_state() == after_first  # nobody joined the cycle twice, one import in the log
    assert f"{ALREADY} {SUMMARY}" in page_text(client.get(f"/jobs/{job.id}"))


def test_an_import_that_fails_halfway_leaves_nothing_and_its_next_run_imports_once(client, sign_in, world, monkeypatch):
    """The upload is used up in the import's own transaction: a run that fails after writing half the
    register rolls it all back, the upload stays, and "Start it again" imports it, once."""
    monkeypatch.setattr(importer, "WRITE_BATCH", 2)
    failures = iter([RuntimeError("the database went away")])

    def fail_once(_sender=None, **_extra):
        for failure in failures:
            raise failure
        return []

    sign_in(world["lead"])
    preview_url = upload_and_preview(client, gias_csv())
    before = register_state()
    register_imported.connect(fail_once)  # the running cycles' receiver fails, after the register is written
    try:
        job = job_of(client.post(preview_url).location)
        assert job.state is JobState.FAILED
        assert register_state() == before  # the establishments written before the failure are rolled back
        page = page_text(client.get(f"/jobs/{job.id}"))
        assert "Something went wrong while doing this." in page and "Start it again" in page
        assert "an import that landed is not applied again" in page

        client.post(f"/jobs/{job.id}/run-again")
    finally:
        register_imported.disconnect(fail_once)
    job = job_of(f"/jobs/{job.id}")
    assert (job.state, job.runs, job.summary) == (JobState.DONE, 2, SUMMARY)
    assert register_state() == {
        "establishments": 4,
        "in the cycle": 4,
        "kept uploads": 0,
        "imports logged": 1,
        "St Mary’s": ST_MARYS,
    }


def test_the_import_refuses_a_register_changed_since_the_confirmation(client, sign_in, world, monkeypatch):
    """The register changes after the confirmation started the job and before the job runs (with a queue, the
    job waits for a worker: tests/jobs/test_import_worker.py): the job checks the register itself, and imports
    nothing."""
    sign_in(world["lead"])
    preview_url = upload_and_preview(client, gias_csv())
    started = []
    with monkeypatch.context() as waiting:  # the confirmation starts the job; nothing runs it yet
        waiting.setattr(runner, "dispatch", started.append)
        job = job_of(client.post(preview_url).location)
    assert [j.id for j in started] == [job.id] and job.state is JobState.QUEUED
    db.session.execute(update(Establishment).values(name="St Mary’s (renamed meanwhile)"))
    db.session.commit()

    runner.run(job.id)

    job = job_of(f"/jobs/{job.id}")
    assert job.state is JobState.FAILED
    assert job.error.startswith("Nothing was imported: the register changed after you confirmed this import")
    state = register_state()
    assert (state["establishments"], state["imports logged"], state["St Mary’s"]) == (
        1,
        0,
        "St Mary’s (renamed meanwhile)",
    )
    assert state["kept uploads"] == 1  # kept: the preview checks it again against the register as it is now
    page = page_text(client.get(f"/jobs/{job.id}"))
    assert "Nothing was imported: the register changed after you confirmed this import" in page
    assert '<a class="govuk-link" id="job-upload-again" href="/establishments/import/establishments">' in page
    # Running the same job again could only refuse again: it is not offered, and a replayed form is turned away.
    assert "Start it again" not in page and "/run-again" not in page
    replayed = client.post(f"/jobs/{job.id}/run-again", follow_redirects=True)
    assert "running it again would not change" in page_text(replayed)
    assert job_of(f"/jobs/{job.id}").state is JobState.FAILED
    # The lead goes back to the preview: it shows the file checked against the register as it is now, and its
    # confirmation is a job of its own, which imports.
    again = page_text(client.get(preview_url))
    assert "The register has changed since this file was checked" in again
    confirmed = job_of(client.post(preview_url).location)
    assert confirmed.id != job.id and confirmed.state is JobState.DONE
    assert register_state()["St Mary’s"] == ST_MARYS


def test_progress_is_seen_while_the_import_is_still_one_uncommitted_transaction(client, sign_in, world, monkeypatch):
    """What the job's page reads (its row, from another connection) as each batch of establishments is written:
    on PostgreSQL how far it has got, while none of the import is visible yet; SQLite lets one transaction
    write at a time, so there the page shows the check the job made before it began to write."""
    from surveyapp.jobs import services as jobs

    monkeypatch.setattr(importer, "WRITE_BATCH", 2)
    seen = []
    report_aside = jobs.report_aside

    def watched(job_id, done, total, message):
        written = report_aside(job_id, done, total, message)
        with db.engine.connect() as page:  # what another request sees now
            row = page.execute(select(Job.done, Job.total, Job.message).where(Job.id == job_id)).one()
            names = page.execute(select(Establishment.name)).scalars().all()
        seen.append((written, tuple(row), names))
        return written

    monkeypatch.setattr(jobs, "report_aside", watched)
    sign_in(world["lead"])
    job = job_of(client.post(upload_and_preview(client, gias_csv())).location)
    assert job.state is JobState.DONE
    nothing_yet = ["St Mary’s (old name)"]
    if db.engine.dialect.name == "postgresql":
        # 3 new establishments in batches of 2, then the 1 updated one.
        assert seen == [
            (True, (0, 4, "Importing 0 of 4 establishments"), nothing_yet),
            (True, (2, 4, "Importing 2 of 4 establishments"), nothing_yet),
            (True, (3, 4, "Importing 3 of 4 establishments"), nothing_yet),
            (True, (4, 4, "Importing 4 of 4 establishments"), nothing_yet),
            (True, (4, 4, "Bringing the running audit cycles in step with the register"), nothing_yet),
        ]
    else:
        assert seen == [(False, (0, 4, CHECKING), nothing_yet)] * 5


def test_a_second_press_of_confirm_finds_the_job_already_started(client, sign_in, world, monkeypatch):
    sign_in(world["lead"])
    preview_url = upload_and_preview(client, gias_csv())
    started = []
    with monkeypatch.context() as waiting:  # queued, and no worker has taken it yet
        waiting.setattr(runner, "dispatch", started.append)
        first, second = client.post(preview_url).location, client.post(preview_url).location
    assert first == second and len(started) == 1
    assert db.session.scalars(select(Job.id)).all() == [job_of(first).id]


def test_a_contacts_import_is_a_job_that_invites_and_a_run_again_invites_nobody_twice(
    app, client, sign_in, world, make, mailbox
):
    trust = make.trust(uid="5001")
    db.session.commit()
    sign_in(world["lead"])
    data = contacts_csv(
        [
            {"URN": "100001", "Name": "Dee Lead", "Email": "dee@stmarys.example.org", "Role": "dsl"},
            {"Trust UID": trust.uid, "Name": "Tess Trust", "Email": "tess@trust.example.org"},
        ]
    )
    preview_url = upload_and_preview(client, data, "contacts", "contacts.csv")
    job = job_of(client.post(preview_url, data={"invite": "y"}).location)
    summary = (
        "Contacts imported: 2 people added, 0 updated; 2 links added, 0 roles changed, 0 rows unchanged. "
        "Invitations sent: 2."
    )
    assert (job.kind, job.state, job.summary) == (JobKind.CONTACTS_IMPORT, JobState.DONE, summary)
    assert mailbox.recipients == ["dee@stmarys.example.org", "tess@trust.example.org"]
    page = page_text(client.get(f"/jobs/{job.id}"))
    assert '<h1 class="govuk-heading-l">Contacts import</h1>' in page and summary in page

    # As if the worker had been lost after the first invitation: the job runs again. The import is not
    # applied twice, and only the one not yet invited is sent an invitation.
    params = {**job.params, "invited": ["dee@stmarys.example.org"]}
    db.session.execute(update(Job).where(Job.id == job.id).values(state=JobState.QUEUED, params=params))
    db.session.commit()
    runner.run(job.id)
    job = job_of(f"/jobs/{job.id}")
    assert job.state is JobState.DONE
    assert job.summary == f"{ALREADY} {summary}"
    assert mailbox.recipients == ["dee@stmarys.example.org", "tess@trust.example.org", "tess@trust.example.org"]
    assert db.session.scalar(select(User.id).where(User.email == "dee@stmarys.example.org")) is not None


def test_only_those_who_manage_the_register_see_an_import_job(app, client, sign_in, world, make):
    sign_in(world["lead"])
    job_page = client.post(upload_and_preview(client, gias_csv())).location
    school = db.session.scalar(select(Establishment).where(Establishment.urn == "100002"))
    trust = make.trust(uid="9001")
    others = {
        "another lead": (make.lead(email="other.lead@council.example.org"), 200),
        "a board viewer": (make.board(email="board@council.example.org"), 404),
        "a DSL": (make.dsl(school, email="dsl@oak.example.org"), 404),
        "a trust lead": (make.trust_lead(trust, email="tess@trust.example.org"), 404),
    }
    db.session.commit()
    for who, (user, status) in others.items():
        other = app.test_client()
        sign_in(user, test_client=other)
        for path in (job_page, job_page + "/progress.json", job_page + "/download"):
            want = 404 if path.endswith("/download") else status  # an import has no file
            assert other.get(path).status_code == want, (who, path)
    assert app.test_client().get(job_page).status_code == 302  # signed out: sign in first
    assert 'Establishments import<span class="govuk-visually-hidden"> number' in page_text(client.get("/jobs"))
    # A lead who becomes a board viewer no longer manages the register, so no longer sees their import.
    db.session.execute(update(User).where(User.id == world["lead"].id).values(role=Role.BOARD))
    db.session.commit()
    assert client.get(job_page).status_code == 404
