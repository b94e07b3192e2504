"""Register imports on the real queue: the confirmation only queues the import, `surveyapp worker` (a process of
its own, on the test database and the real Redis) applies it; run twice it imports once; a register changed
between the confirmation and the run is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from surveyapp.establishments.models import Establishment
from surveyapp.extensions import db
from surveyapp.jobs import runner
from surveyapp.jobs.models import Job, JobKind, JobState
from tests.establishments.gias_files import OAKFIELD, ST_MARYS, gias_csv
from tests.jobs.helpers import REDIS_URL, run_burst_worker
from tests.jobs.imports import job_of, page_text, register_state, register_with_a_cycle, upload_and_preview

SUMMARY = (
    "Establishments imported: 3 new, 1 updated, 0 unchanged, 0 closed; trusts: 1 new, 0 renamed. "
    "2026-27: 2 joined, 0 left the counts (closed), 0 moved to another trust's cover."
)


@pytest.fixture
def app_config(mail_config, queue_name):
    """With a queue: confirming an import only queues its job; the worker does the work."""
    return {**mail_config, "REDIS_URL": REDIS_URL, "JOB_QUEUE": queue_name}


@pytest.fixture
def world(make, app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    return register_with_a_cycle(make)


def test_the_worker_imports_the_confirmed_file_once_and_its_page_says_what_changed(
    app, client, sign_in, world, tmp_path
):
    sign_in(world["lead"])
    preview_url = upload_and_preview(client, gias_csv())
    before = register_state()
    confirmed = client.post(preview_url)
    job_page = confirmed.location
    assert job_of(job_page).kind is JobKind.REGISTER_IMPORT
    waiting = page_text(client.get(job_page))
    assert "Waiting to start" in waiting and 'id="job-progress-bar"' in waiting
    assert "Waiting to import 4 establishments" in waiting  # 3 new, 1 updated
    assert register_state() == before  # the request only queued it
    assert client.post(preview_url).location == job_page  # a second press finds the job already started

    run_burst_worker(app, tmp_path)

    job = job_of(job_page)
    assert (job.state, job.runs, job.done, job.total, job.summary) == (JobState.DONE, 1, 4, 4, SUMMARY)
    page = page_text(client.get(job_page))
    assert "Finished" in page and SUMMARY in page and 'id="job-progress-bar"' not in page
    assert 'id="job-back" href="/establishments/"' in page
    assert OAKFIELD in page_text(client.get("/establishments/"))
    after = register_state()
    assert (after["establishments"], after["kept uploads"], after["imports logged"], after["St Mary’s"]) == (
        4,
        0,
        1,
        ST_MARYS,
    )

    # The job run again by the worker (as if the end of the first run had been lost): the upload is used up,
    # so it says the file was already imported, and nothing is imported twice.
    db.session.execute(update(Job).where(Job.id == job.id).values(state=JobState.QUEUED))
    db.session.commit()
    runner.dispatch(db.session.get(Job, job.id))
    run_burst_worker(app, tmp_path)
    job = job_of(job_page)
    assert (job.state, job.runs) == (JobState.DONE, 2)
    assert job.summary.startswith("This file had already been imported by an earlier run of this job")
    assert register_state() == after


def test_the_worker_refuses_an_import_whose_register_changed_after_the_confirmation(
    app, client, sign_in, world, tmp_path
):
    sign_in(world["lead"])
    job_page = client.post(upload_and_preview(client, gias_csv())).location
    # Another lead's change lands while the import waits in the queue.
    db.session.execute(update(Establishment).values(name="St Mary’s (renamed meanwhile)"))
    db.session.commit()

    run_burst_worker(app, tmp_path)

    job = job_of(job_page)
    assert (job.state, job.runs) == (JobState.FAILED, 1)
    page = page_text(client.get(job_page))
    assert "This could not be finished" in page
    assert "Nothing was imported: the register changed after you confirmed this import" in page
    assert "Upload the file again" in page and "Back to the register" in page
    state = register_state()
    assert (state["establishments"], state["imports logged"], state["St Mary’s"]) == (
        1,
        0,
        "St Mary’s (renamed meanwhile)",
    )
