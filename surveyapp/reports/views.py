"""The committee report as a download from the cycle's pages (lead and board viewers)."""
from __future__ import annotations

import tempfile

from flask import Blueprint, abort, current_app, send_file

from surveyapp.audits.services import cycle_by_slug
from surveyapp.auth.models import Role
from surveyapp.auth.permissions import roles_required
from surveyapp.extensions import db
from surveyapp.reports.content import build_report
from surveyapp.reports.writers import FORMATS, write_report

bp = Blueprint("reports", __name__)


@bp.get("/cycles/<slug>/committee-report.<kind>")
@roles_required(Role.LEAD, Role.BOARD)
def download_report(slug: str, kind: str):
    """Download the cycle's committee report as Word (docx), PDF or HTML."""
    cycle = cycle_by_slug(slug) or abort(404)
    if kind not in FORMATS:
        abort(404)
    report = build_report(db.session, cycle, current_app.config["COUNCIL_NAME"])
    handle = tempfile.TemporaryFile(suffix=f".{kind}")
    write_report(report, kind, handle)
    handle.seek(0)
    return send_file(handle, mimetype=FORMATS[kind], as_attachment=kind != "html",
                     download_name=f"committee-report-{cycle.slug}.{kind}")
