"""Choosing records from the activity log, with the people, establishments, trusts and cycles they name."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, Text, cast, select
from sqlalchemy.orm import aliased

from surveyapp.activity.models import ActivityRecord
from surveyapp.activity.services import SIGN_IN_ACTIONS, ActivityFilters, for_cycle
from surveyapp.audits.models import Cycle
from surveyapp.auth.models import User
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db


def activity_query(filters: ActivityFilters) -> Select | None:
    """Records matching the filters, with the actor, establishment, trust and cycle they name.

    Rows: (record, actor email, actor role, URN, establishment name, trust UID, trust name, cycle slug).
    Returns None when the filters name a cycle that does not exist.
    """
    actor = aliased(User)
    query = (
        select(
            ActivityRecord,
            actor.email,
            actor.role,
            Establishment.urn,
            Establishment.name,
            Trust.uid,
            Trust.name,
            Cycle.slug,
        )
        .outerjoin(actor, actor.id == ActivityRecord.actor_id)
        .outerjoin(Establishment, Establishment.id == ActivityRecord.establishment_id)
        .outerjoin(Trust, Trust.id == ActivityRecord.trust_id)
        .outerjoin(Cycle, Cycle.id == ActivityRecord.cycle_id)
    )
    if filters.cycle:
        cycle_id = db.session.scalar(select(Cycle.id).where(Cycle.slug == filters.cycle))
        if cycle_id is None:
            return None
        query = query.where(for_cycle(cycle_id))
    if filters.action:
        query = query.where(ActivityRecord.action.startswith(filters.action))
    if filters.hide_sign_ins:
        query = query.where(ActivityRecord.action.not_in(SIGN_IN_ACTIONS))
    if filters.urn:
        query = query.where(Establishment.urn == filters.urn)
    if filters.email:
        query = query.where(actor.email == filters.email)
    if filters.question:
        # The detail is JSON written by json.dumps on both engines, so the changed question's key reads
        # exactly like this in its text; "_" and "%" in the key are matched literally.
        literal = filters.question.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            ActivityRecord.action == "answers.saved",
            cast(ActivityRecord.detail, Text).like(f'%"question": "{literal}"%', escape="\\"),
        )
    if filters.from_:
        query = query.where(ActivityRecord.at >= filters.from_)
    if filters.to:
        query = query.where(ActivityRecord.at < filters.to + timedelta(days=1))
    return query
