"""The committee report as a download from the cycle's pages (lead and board viewers), written by a job
(surveyapp/reports/jobs.py), never in a request: the job's page offers the file."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from surveyapp.audits.services import cycle_by_slug
from surveyapp.jobs import runner, services as jobs
from surveyapp.jobs.models import JobKind
from surveyapp.policy import Capability as C, requires
from surveyapp.reports.writers import FORMATS

bp = Blueprint("reports", __name__)


@bp.post("/cycles/<slug>/committee-report")
@requires(C.READ_LA_FIGURES)
def start_report(slug: str):
    """Start writing the committee report (format in the form: docx, pdf or html); its job's page offers it."""
    cycle = cycle_by_slug(slug) or abort(404)
    kind = request.form.get("kind", "")
    if kind not in FORMATS:
        abort(400)
    job = jobs.start_job(
        JobKind.COMMITTEE_REPORT,
        current_user,
        cycle=cycle,
        params={"format": kind},
        message="Waiting to write the committee report",
    )
    runner.dispatch(job)
    return redirect(url_for("jobs.show_job", job_id=job.id))
