"""A cycle's board workbook and its CSVs, for the lead and board viewers.

The CSVs are written row by row to a temporary file and sent from it (memory stays flat). The workbook, much
longer to write, is written by a job (surveyapp/exports/jobs.py), never in a request: its page offers the file.
"""

from __future__ import annotations

import io
import tempfile

from flask import Blueprint, abort, redirect, send_file, url_for
from flask_login import current_user

from surveyapp.audits.services import cycle_by_slug
from surveyapp.exports.csvfiles import write_gaps_csv, write_responses_csv
from surveyapp.extensions import db
from surveyapp.jobs import runner, services as jobs
from surveyapp.jobs.models import JobKind
from surveyapp.policy import Capability as C, requires

bp = Blueprint("exports", __name__)


def _download(slug: str, suffix: str, mimetype: str, write):
    cycle = cycle_by_slug(slug) or abort(404)
    handle = tempfile.TemporaryFile(suffix=suffix)
    write(cycle, handle)
    handle.seek(0)
    return send_file(
        handle, mimetype=mimetype, as_attachment=True, download_name=f"safeguarding-audit-{cycle.slug}{suffix}"
    )


@bp.post("/cycles/<slug>/workbook")
@requires(C.READ_LA_FIGURES)
def start_workbook(slug: str):
    """Start writing the cycle's board workbook in the background; its job's page offers the download."""
    cycle = cycle_by_slug(slug) or abort(404)
    job = jobs.start_job(JobKind.WORKBOOK, current_user, cycle=cycle, message="Waiting to write the board workbook")
    runner.dispatch(job)
    return redirect(url_for("jobs.show_job", job_id=job.id))


@bp.get("/cycles/<slug>/responses.csv")
@requires(C.READ_LA_FIGURES)
def download_responses_csv(slug: str):
    """Download every establishment's answers as CSV."""
    return _download(slug, "-responses.csv", "text/csv", lambda cycle, handle: _csv(write_responses_csv, cycle, handle))


@bp.get("/cycles/<slug>/gaps.csv")
@requires(C.READ_LA_FIGURES)
def download_gaps_csv(slug: str):
    """Download the gap list as CSV."""
    return _download(slug, "-gaps.csv", "text/csv", lambda cycle, handle: _csv(write_gaps_csv, cycle, handle))


def _csv(writer, cycle, handle) -> None:
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    writer(db.session, cycle, text)
    text.flush()
    text.detach()
