"""The committee report as a job (see surveyapp/jobs)."""

from __future__ import annotations

from flask import current_app

from surveyapp.extensions import db
from surveyapp.jobs.models import Job, JobKind
from surveyapp.jobs.work import Outcome, WorkError, does, written_file


@does(JobKind.COMMITTEE_REPORT)
def write_committee_report(job: Job, progress, checkpoint) -> Outcome:
    from surveyapp.reports.content import build_report
    from surveyapp.reports.writers import FORMATS, write_report

    cycle = job.cycle
    kind = job.params.get("format", "docx")
    if cycle is None or kind not in FORMATS:
        raise WorkError("The cycle no longer exists." if cycle is None else "That report format is not offered.")
    progress(0, 2, "Gathering the figures")
    report = build_report(db.session, cycle, current_app.config["COUNCIL_NAME"])
    progress(1, 2, "Writing the report")
    file = written_file(lambda handle: write_report(report, kind, handle))
    progress(2, 2, "Written")
    words = {"docx": "Word document", "pdf": "PDF", "html": "web page"}[kind]
    return Outcome(
        f"The committee report for {cycle.slug} ({words}) is ready to download.",
        f"committee-report-{cycle.slug}.{kind}",
        FORMATS[kind],
        file,
    )
