"""Long work as a job, in a real browser: a download and a register import. The page shows the job waiting,
follows it while the real worker runs it (the page updates itself), then offers the file or says what the
import changed; the lead finds it in the list of recent jobs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from surveyapp.extensions import db
from tests.browser.accessibility import check_page
from tests.browser.journey import h1, press, sign_in, visit
from tests.browser.test_demo_journeys import assert_no_sideways_scroll
from tests.establishments.gias_files import OAKFIELD, ST_MARYS, gias_csv
from tests.jobs.helpers import REDIS_URL, queue_name as queue_name, run_burst_worker

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(queue_name):
    # CSRF stays on, as in every browser test; jobs go to a queue of this test's own on the real Redis.
    return {"WTF_CSRF_ENABLED": True, "REDIS_URL": REDIS_URL, "JOB_QUEUE": queue_name}


def test_the_lead_watches_the_board_workbook_being_written_and_downloads_it(app, page, make, tmp_path):
    for n in range(3):
        school = make.establishment(name=f"School {n}", urn=f"80000{n}")
        make.dsl(school, email=f"dsl@8000{n}.example.org")
    lead = make.lead()
    make.cycle()
    db.session.commit()

    sign_in(page, lead)
    visit(page, "/cycles/2026-27/analysis")
    press(page, page.get_by_role("button", name="Download the board workbook (Excel, xlsx)"))
    expect(h1(page)).to_have_text("Board workbook")
    expect(page.locator("#job-state")).to_have_text("Waiting to start")
    expect(page.get_by_label("Progress")).to_be_visible()  # the bar has a label
    expect(page.get_by_role("status")).to_have_text("Waiting to write the board workbook")
    expect(page.get_by_role("link", name="Refresh this page")).to_be_visible()  # works without JavaScript too

    with page.expect_navigation(timeout=60_000):  # the page reloads itself once the worker has finished
        run_burst_worker(app, tmp_path)
    check_page(page)
    expect(page.locator("#job-state")).to_have_text("Finished")
    expect(page.locator("#job-summary")).to_have_text("The board workbook for 2026-27 is ready to download.")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download safeguarding-audit-2026-27.xlsx").click()
    assert download.value.suggested_filename == "safeguarding-audit-2026-27.xlsx"
    with open(download.value.path(), "rb") as handle:
        assert handle.read(2) == b"PK"

    visit(page, "/jobs")
    expect(h1(page)).to_have_text("Sends and downloads")
    expect(page.locator("#jobs tbody tr")).to_have_count(1)
    expect(page.locator("#jobs tbody tr").first).to_contain_text("Finished")
    # At 320 px the list scrolls inside its own box, never the page.
    page.set_viewport_size({"width": 320, "height": 640})
    visit(page, "/jobs")
    assert_no_sideways_scroll(page)


def test_the_lead_confirms_a_gias_import_and_follows_its_job_back_to_the_register(app, page, make, tmp_path):
    make.establishment(urn="100001", name="St Mary’s (old name)")
    db.session.commit()
    make.cycle()
    lead = make.lead()
    db.session.commit()
    extract = tmp_path / "edubasealldata.csv"
    extract.write_bytes(gias_csv())

    sign_in(page, lead)
    visit(page, "/establishments/")
    press(page, page.get_by_role("button", name="Import establishments (GIAS extract)"))
    page.get_by_label("Upload a file").set_input_files(extract)
    press(page, page.get_by_role("button", name="Check the file"))
    expect(h1(page)).to_have_text("Check the establishments import")
    press(page, page.get_by_role("button", name="Confirm import"))

    # The confirmation only queued the import: its page waits for the worker.
    expect(h1(page)).to_have_text("Establishments import")
    expect(page.locator("#job-state")).to_have_text("Waiting to start")
    expect(page.get_by_label("Progress")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Waiting to import 4 establishments")

    with page.expect_navigation(timeout=60_000):  # the page reloads itself once the worker has finished
        run_burst_worker(app, tmp_path)
    check_page(page)
    expect(page.locator("#job-state")).to_have_text("Finished")
    expect(page.locator("#job-summary")).to_have_text(
        "Establishments imported: 3 new, 1 updated, 0 unchanged, 0 closed; trusts: 1 new, 0 renamed. "
        "2026-27: 2 joined, 0 left the counts (closed), 0 moved to another trust's cover."
    )
    press(page, page.get_by_role("link", name="Back to the register"))
    expect(h1(page)).to_have_text("Establishments")
    register = page.get_by_role("table")
    expect(register).to_contain_text(OAKFIELD)
    expect(register).to_contain_text(ST_MARYS)


def test_the_lead_watching_a_job_sees_it_found_lost_and_starts_it_again(app, page, make, tmp_path):
    from datetime import timedelta

    from surveyapp.jobs import services
    from surveyapp.jobs.models import JobHeartbeat, JobKind, JobState
    from surveyapp.timeutil import utcnow

    for n in range(2):
        make.establishment(name=f"School {n}", urn=f"80000{n}")
    lead = make.lead()
    cycle = make.cycle()
    db.session.commit()
    # A worker is writing the workbook: its run beats, as a worker on PostgreSQL does.
    job = services.start_job(JobKind.WORKBOOK, lead, cycle=cycle, message="Writing the board workbook")
    job.state, job.runs, job.started_at, job.updated_at = JobState.RUNNING, 1, utcnow(), utcnow()
    heartbeat = JobHeartbeat(job_id=job.id, run=1, beat_at=utcnow())
    db.session.add(heartbeat)
    db.session.commit()

    sign_in(page, lead)
    visit(page, f"/jobs/{job.id}")
    expect(page.locator("#job-state")).to_have_text("In progress")
    expect(page.get_by_role("button", name="Start it again")).to_have_count(0)

    # Its machine is lost: the beats stop. The page, following the job, reloads itself to say so.
    with page.expect_navigation(timeout=15_000):
        heartbeat.beat_at = utcnow() - timedelta(seconds=app.config["JOB_LOST_AFTER_SECONDS"] + 5)
        db.session.commit()
    check_page(page)
    expect(page.locator("#job-stalled")).to_contain_text("has most likely been lost")
    expect(page.locator("#job-state")).to_have_text("Stopped")
    expect(page.locator("#job-refresh")).to_have_count(0)  # no "the work carries on" beside it
    expect(page.get_by_text("The file is written again from the start")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Writing the board workbook")  # as far as it got

    press(page, page.get_by_role("button", name="Start it again"))
    expect(page.locator("#job-state")).to_have_text("Waiting to start")
    expect(page.locator("#job-stalled")).to_have_count(0)
    with page.expect_navigation(timeout=60_000):  # the page reloads itself once a worker has finished
        run_burst_worker(app, tmp_path)
    check_page(page)
    expect(page.locator("#job-state")).to_have_text("Finished")
    expect(page.locator("#job-summary")).to_have_text("The board workbook for 2026-27 is ready to download.")
