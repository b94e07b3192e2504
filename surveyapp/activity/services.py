"""Writing to the activity log, and choosing records from it (for the lead's page and exports)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Mapping

from sqlalchemy import Select, Text, and_, cast, or_, select
from sqlalchemy.orm import aliased

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits.models import Cycle
from surveyapp.auth.models import User
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db


def record(action: str, actor=None, *, establishment=None, trust=None, cycle=None, cycle_id: int | None = None,
           **detail: Any) -> ActivityRecord:
    """Add one activity record to the session (the caller's transaction commits it).

    :param action: dotted verb, e.g. "response.submitted"
    :param actor: the user who acted, or None for the system
    :param cycle_id: the cycle's id, for callers holding the id rather than the cycle
    """
    entry = ActivityRecord(
        action=action,
        actor_id=getattr(actor, "id", None),
        establishment_id=getattr(establishment, "id", None),
        trust_id=getattr(trust, "id", None),
        cycle_id=getattr(cycle, "id", None) or cycle_id,
        detail=detail,
    )
    db.session.add(entry)
    return entry


@dataclass
class ActivityFilters:
    """What the lead asked to see; empty strings mean "any"."""

    action: str = ""
    urn: str = ""
    email: str = ""
    #: first and last day, inclusive (UTC)
    from_: date | None = None
    to: date | None = None
    #: a cycle's slug: everything recorded against the cycle (see ``for_cycle``)
    cycle: str = ""
    #: a question key: only saves that changed that question's answer
    question: str = ""

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> ActivityFilters:
        """Read filters from query arguments or options; a date that is not YYYY-MM-DD is ignored."""
        text = {key: (values.get(key) or "").strip()
                for key in ("action", "urn", "email", "from", "to", "cycle", "question")}
        return cls(action=text["action"], urn=text["urn"], email=text["email"].lower(), cycle=text["cycle"],
                   from_=_day(text["from"]), to=_day(text["to"]), question=text["question"][:80])

    def as_args(self) -> dict[str, str]:
        """The filters as query arguments (for links that keep them)."""
        args = {"action": self.action, "urn": self.urn, "email": self.email, "cycle": self.cycle, "question": self.question,
                "from": self.from_.isoformat() if self.from_ else "", "to": self.to.isoformat() if self.to else ""}
        return {key: value for key, value in args.items() if value}


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def for_cycle(cycle_id: int):
    """Everything recorded against a cycle: its opening, every save, submission, return and acceptance of
    its responses, trust coverage changes, action plan updates, responses imported into it, its reminder
    schedule and every reminder sent or failed for it.

    Reminders written before ``record`` took ``cycle_id`` carried it in their detail; they count too.
    Sign-ins, accounts and register imports belong to no cycle and are left out.
    """
    return or_(
        ActivityRecord.cycle_id == cycle_id,
        and_(ActivityRecord.cycle_id.is_(None), ActivityRecord.action.startswith("reminder."),
             ActivityRecord.detail["cycle_id"].as_integer() == cycle_id),
    )


def activity_query(filters: ActivityFilters) -> Select | None:
    """Records matching the filters, with the actor, establishment, trust and cycle they name.

    Rows: (record, actor email, actor role, URN, establishment name, trust UID, trust name, cycle slug).
    Returns None when the filters name a cycle that does not exist.
    """
    actor = aliased(User)
    query = (
        select(ActivityRecord, actor.email, actor.role, Establishment.urn, Establishment.name, Trust.uid, Trust.name,
               Cycle.slug)
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
    if filters.urn:
        query = query.where(Establishment.urn == filters.urn)
    if filters.email:
        query = query.where(actor.email == filters.email)
    if filters.question:
        # The detail is JSON written by json.dumps on both engines, so the changed question's key reads
        # exactly like this in its text; "_" and "%" in the key are matched literally.
        literal = filters.question.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(ActivityRecord.action == "answers.saved",
                            cast(ActivityRecord.detail, Text).like(f'%"question": "{literal}"%', escape="\\"))
    if filters.from_:
        query = query.where(ActivityRecord.at >= filters.from_)
    if filters.to:
        query = query.where(ActivityRecord.at < filters.to + timedelta(days=1))
    return query
