"""Writing to the activity log, and the filters and words the lead reads it with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, or_

from surveyapp.activity.models import ActivityRecord
from surveyapp.extensions import db


def record(
    action: str,
    actor_id: int | None,
    *,
    establishment_id: int | None = None,
    trust_id: int | None = None,
    cycle_id: int | None = None,
    **detail: Any,
) -> ActivityRecord:
    """Add one activity record to the session (the caller's transaction commits it).

    The log is the one area every other area writes to, so it takes ids and plain labels (in
    ``detail``: an email, a slug, a file name) and imports none of them.

    :param action: dotted verb, e.g. "response.submitted"
    :param actor_id: the user who acted, or None for the system (the CLI, schedules) or a visitor
    """
    misnamed = {"actor", "establishment", "trust", "cycle"} & set(detail)
    if misnamed:
        raise TypeError(f"record() takes ids, not objects: use {', '.join(sorted(n + '_id' for n in misnamed))}")
    entry = ActivityRecord(
        action=action,
        actor_id=actor_id,
        establishment_id=establishment_id,
        trust_id=trust_id,
        cycle_id=cycle_id,
        detail=detail,
    )
    db.session.add(entry)
    return entry


@dataclass
class ActivityFilters:
    """What the lead asked to see; empty strings mean "any"."""

    action: str = ""
    #: leave out sign-ins, sign-outs and refused sign-ins, which outnumber everything else
    hide_sign_ins: bool = False
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
        text = {
            key: (values.get(key) or "").strip()
            for key in ("action", "urn", "email", "from", "to", "cycle", "question")
        }
        return cls(
            action=text["action"],
            urn=text["urn"],
            email=text["email"].lower(),
            cycle=text["cycle"],
            from_=_day(text["from"]),
            to=_day(text["to"]),
            question=text["question"][:80],
            hide_sign_ins=bool(values.get("hide_sign_ins")),
        )

    def as_args(self) -> dict[str, str]:
        """The filters as query arguments (for links that keep them)."""
        args = {
            "action": self.action,
            "urn": self.urn,
            "email": self.email,
            "cycle": self.cycle,
            "question": self.question,
            "from": self.from_.isoformat() if self.from_ else "",
            "to": self.to.isoformat() if self.to else "",
            "hide_sign_ins": "1" if self.hide_sign_ins else "",
        }
        return {key: value for key, value in args.items() if value}


#: the actions a sign-in leaves in the log, hidden by ``hide_sign_ins``
SIGN_IN_ACTIONS = ("auth.signed_in", "auth.signed_out", "auth.sign_in_failed", "auth.code_refused")

#: each action in words, as the lead reads it in the log
ACTION_WORDS = {
    "action.updated": "Updated an action",
    "activity.exported": "Downloaded the activity log",
    "answers.saved": "Saved answers",
    "auth.code_refused": "Two-factor code refused",
    "auth.password_reset_requested": "Asked to reset their password",
    "auth.password_set": "Set their password",
    "auth.sign_in_failed": "Sign-in failed",
    "auth.signed_in": "Signed in",
    "auth.signed_out": "Signed out",
    "contacts.imported": "Imported contacts",
    "cycle.opened": "Opened a cycle",
    "establishments.imported": "Imported establishments",
    "reminder.sent": "Reminder sent",
    "reminder.failed": "Reminder failed",
    "reminders.schedule_set": "Set the reminder schedule",
    "response.submitted": "Submitted a return",
    "response.accepted": "Accepted a return",
    "response.returned": "Returned a return for amendment",
    "responses.imported": "Imported returns",
    "settings.two_factor_for_everyone": "Changed who must use two-factor sign-in",
    "template.loaded": "Loaded a template",
    "trust.coverage_changed": "Changed the academies a trust answers for",
    "user.created": "Created an account",
    "user.invited": "Invited a user",
    "user.two_factor_disabled": "Turned off two-factor sign-in",
    "user.two_factor_enabled": "Turned on two-factor sign-in",
}


def action_in_words(action: str) -> str:
    """The action as a lead reads it ("Signed in"); an action without words yet reads from its code."""
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    return action.replace(".", " ").replace("_", " ").capitalize()


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
        and_(
            ActivityRecord.cycle_id.is_(None),
            ActivityRecord.action.startswith("reminder."),
            ActivityRecord.detail["cycle_id"].as_integer() == cycle_id,
        ),
    )
