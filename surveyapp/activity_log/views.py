"""The lead's view of the activity log, and its downloads."""

from __future__ import annotations

import tempfile

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select

from surveyapp.activity.models import ActivityRecord
from surveyapp.activity.services import ActivityFilters, action_in_words
from surveyapp.activity_log import export
from surveyapp.activity_log.query import activity_query
from surveyapp.audits.models import Cycle
from surveyapp.extensions import db
from surveyapp.jobs import runner, services as jobs
from surveyapp.jobs.models import JobKind
from surveyapp.numbers import page_number
from surveyapp.policy import Capability as C, requires

bp = Blueprint("activity", __name__)
PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/activity")
@requires(C.READ_ACTIVITY_LOG)
def list_activity():
    """List who did what and when, newest first, filtered by cycle, action, establishment, person and dates."""
    filters = ActivityFilters.from_mapping(request.args)
    query = activity_query(filters)
    if query is None:
        abort(404)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = page_number(request.args.get("page"))
    rows = db.session.execute(
        query.order_by(ActivityRecord.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    actions = db.session.scalars(select(ActivityRecord.action).distinct().order_by(ActivityRecord.action)).all()
    cycles = db.session.scalars(select(Cycle.slug).order_by(Cycle.opens_on.desc())).all()
    return render_template(
        "activity/list.html",
        rows=rows,
        total=total,
        page=page,
        pages=(total + PER_PAGE - 1) // PER_PAGE,
        filters=filters,
        args=filters.as_args(),
        actions=actions,
        cycles=cycles,
        in_words=action_in_words,
        detail_text=export.flatten,
    )


@bp.get("/activity.<any(csv, xlsx):fmt>")
@requires(C.READ_ACTIVITY_LOG)
def download_activity(fmt: str):
    """Download the records the filters select, oldest first, as CSV or a spreadsheet, while the lead waits:
    for a view of up to ACTIVITY_DOWNLOAD_IN_REQUEST_MAX records (one response's trail, a week of one
    action). A larger one goes back to the activity page, whose download buttons write it as a job."""
    filters = ActivityFilters.from_mapping(request.args)
    query = activity_query(filters)
    if query is None:
        abort(404)
    most = current_app.config["ACTIVITY_DOWNLOAD_IN_REQUEST_MAX"]
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if total > most:
        flash(
            f"Those filters select {total:,} records, more than the {most:,} written while you wait. "
            "Download them with the buttons below: the file is written in the background.",
            "info",
        )
        return redirect(url_for("activity.list_activity", **filters.as_args()))
    # Written to a temporary file as rows stream from the database, then sent: memory stays flat.
    handle = tempfile.TemporaryFile(suffix="." + fmt)
    export.write_and_record(query, filters, fmt, handle, current_user.id)
    handle.seek(0)
    return send_file(
        handle,
        mimetype="text/csv" if fmt == "csv" else XLSX,
        as_attachment=True,
        download_name=export.download_name(filters, fmt),
    )


@bp.post("/activity/download")
@requires(C.READ_ACTIVITY_LOG)
def start_activity_download():
    """Start writing the records the filters select (CSV or spreadsheet) in the background; its job's page offers it."""
    fmt = request.form.get("fmt", "")
    filters = ActivityFilters.from_mapping(request.form)
    if fmt not in ("csv", "xlsx"):
        abort(400)
    if activity_query(filters) is None:
        abort(404)
    job = jobs.start_job(
        JobKind.ACTIVITY_EXPORT,
        current_user,
        params={"format": fmt, "filters": filters.as_args()},
        message="Waiting to write the activity log",
    )
    runner.dispatch(job)
    return redirect(url_for("jobs.show_job", job_id=job.id))
