"""Writing to the activity log."""
from __future__ import annotations

from typing import Any

from surveyapp.activity.models import ActivityRecord
from surveyapp.extensions import db


def record(action: str, actor=None, *, establishment=None, trust=None, cycle=None, **detail: Any) -> ActivityRecord:
    """Add one activity record to the session (the caller's transaction commits it).

    :param action: dotted verb, e.g. "response.submitted"
    :param actor: the user who acted, or None for the system
    """
    entry = ActivityRecord(
        action=action,
        actor_id=getattr(actor, "id", None),
        establishment_id=getattr(establishment, "id", None),
        trust_id=getattr(trust, "id", None),
        cycle_id=getattr(cycle, "id", None),
        detail=detail,
    )
    db.session.add(entry)
    return entry
