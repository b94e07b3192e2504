"""The board workbook as a job (see surveyapp/jobs)."""

from __future__ import annotations

from surveyapp.extensions import db
from surveyapp.jobs.models import Job, JobKind
from surveyapp.jobs.work import XLSX, Outcome, WorkError, does, written_file


@does(JobKind.WORKBOOK)
def write_board_workbook(job: Job, progress, checkpoint) -> Outcome:
    from surveyapp.exports.workbook import write_workbook

    cycle = job.cycle
    if cycle is None:
        raise WorkError("The cycle no longer exists.")
    progress(0, 1, "Writing the board workbook")
    file = written_file(lambda handle: write_workbook(db.session, cycle, handle))
    progress(1, 1, "Written")
    return Outcome(
        f"The board workbook for {cycle.slug} is ready to download.",
        f"safeguarding-audit-{cycle.slug}.xlsx",
        XLSX,
        file,
    )
