"""The lead's view of the activity log."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from surveyapp.activity.models import ActivityRecord
from surveyapp.auth.models import User
from surveyapp.auth.permissions import lead_required
from surveyapp.establishments.models import Establishment
from surveyapp.extensions import db

bp = Blueprint("activity", __name__)
PER_PAGE = 50


def _filters() -> dict:
    return {key: (request.args.get(key) or "").strip() for key in ("action", "urn", "email", "from", "to")}


@bp.get("/activity")
@lead_required
def list_activity():
    """List who did what and when, newest first, filtered by action, establishment, person and dates."""
    filters = _filters()
    actor = aliased(User)
    query = (
        select(ActivityRecord, actor.email, Establishment.urn, Establishment.name)
        .outerjoin(actor, actor.id == ActivityRecord.actor_id)
        .outerjoin(Establishment, Establishment.id == ActivityRecord.establishment_id)
    )
    if filters["action"]:
        query = query.where(ActivityRecord.action.startswith(filters["action"]))
    if filters["urn"]:
        query = query.where(Establishment.urn == filters["urn"])
    if filters["email"]:
        query = query.where(actor.email == filters["email"].lower())
    for key, compare in (("from", lambda d: ActivityRecord.at >= d), ("to", lambda d: ActivityRecord.at < d)):
        if filters[key]:
            try:
                day = date.fromisoformat(filters[key])
            except ValueError:
                filters[key] = ""
                continue
            query = query.where(compare(day if key == "from" else date.fromordinal(day.toordinal() + 1)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = max(request.args.get("page", 1, type=int), 1)
    rows = db.session.execute(query.order_by(ActivityRecord.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    actions = db.session.scalars(select(ActivityRecord.action).distinct().order_by(ActivityRecord.action)).all()
    return render_template("activity/list.html", rows=rows, total=total, page=page, pages=(total + PER_PAGE - 1) // PER_PAGE,
                           filters=filters, actions=actions)
