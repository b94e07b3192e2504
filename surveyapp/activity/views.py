"""The lead's view of the activity log, and its downloads."""
from __future__ import annotations

import io
import tempfile

from flask import Blueprint, abort, render_template, request, send_file
from flask_login import current_user
from sqlalchemy import func, select

from surveyapp.activity import export
from surveyapp.activity.models import ActivityRecord
from surveyapp.activity.services import ActivityFilters, activity_query, record
from surveyapp.audits.models import Cycle
from surveyapp.auth.permissions import lead_required
from surveyapp.extensions import db

bp = Blueprint("activity", __name__)
PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/activity")
@lead_required
def list_activity():
    """List who did what and when, newest first, filtered by cycle, action, establishment, person and dates."""
    filters = ActivityFilters.from_mapping(request.args)
    query = activity_query(filters)
    if query is None:
        abort(404)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = max(request.args.get("page", 1, type=int), 1)
    rows = db.session.execute(query.order_by(ActivityRecord.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    actions = db.session.scalars(select(ActivityRecord.action).distinct().order_by(ActivityRecord.action)).all()
    cycles = db.session.scalars(select(Cycle.slug).order_by(Cycle.opens_on.desc())).all()
    return render_template("activity/list.html", rows=rows, total=total, page=page, pages=(total + PER_PAGE - 1) // PER_PAGE,
                           filters=filters, args=filters.as_args(), actions=actions, cycles=cycles,
                           detail_text=export.flatten)


@bp.get("/activity.<any(csv, xlsx):fmt>")
@lead_required
def download_activity(fmt: str):
    """Download the records the filters select, oldest first, as CSV or a spreadsheet."""
    filters = ActivityFilters.from_mapping(request.args)
    query = activity_query(filters)
    if query is None:
        abort(404)
    # Written to a temporary file as rows stream from the database, then sent: memory stays flat.
    handle = tempfile.TemporaryFile(suffix="." + fmt)
    if fmt == "csv":
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
        count = export.write_csv(db.session, query, text)
        text.flush()
        text.detach()
    else:
        count = export.write_xlsx(db.session, query, handle)
    # Reading the audit trail out of the app is itself recorded.
    cycle = db.session.scalar(select(Cycle).where(Cycle.slug == filters.cycle)) if filters.cycle else None
    record("activity.exported", current_user, cycle=cycle, format=fmt, records=count, filters=filters.as_args())
    db.session.commit()
    handle.seek(0)
    name = "activity" + (f"-{filters.cycle}" if filters.cycle else "")
    return send_file(handle, mimetype="text/csv" if fmt == "csv" else XLSX, as_attachment=True,
                     download_name=f"{name}.{fmt}")
