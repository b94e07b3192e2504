"""The committee report as a download from the cycle's pages (lead and board viewers)."""

from __future__ import annotations

import tempfile

from flask import Blueprint, abort, current_app, redirect, request, send_file, url_for
from flask_login import current_user

from surveyapp.audits.services import cycle_by_slug
from surveyapp.extensions import db
from surveyapp.jobs import runner, services as jobs
from surveyapp.jobs.models import JobKind
from surveyapp.policy import Capability as C, requires
from surveyapp.reports.content import build_report
from surveyapp.reports.writers import FORMATS, write_report

bp = Blueprint("reports", __name__)


@bp.get("/cycles/<slug>/committee-report.<kind>")
@requires(C.READ_LA_FIGURES)
def download_report(slug: str, kind: str):
    """Download the cycle's committee report as Word (docx), PDF or HTML."""
    cycle = cycle_by_slug(slug) or abort(404)
    if kind not in FORMATS:
        abort(404)
    report = build_report(db.session, cycle, current_app.config["COUNCIL_NAME"])
    handle = tempfile.TemporaryFile(suffix=f".{kind}")
    write_report(report, kind, handle)
    handle.seek(0)
    return send_file(
        handle,
        mimetype=FORMATS[kind],
        as_attachment=kind != "html",
        download_name=f"committee-report-{cycle.slug}.{kind}",
    )


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
