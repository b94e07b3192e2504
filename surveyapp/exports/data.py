"""The lead's working lists for the exports, in a few SQL queries (no Flask).

The figures themselves (completion, classes, gaps) come from the analysis layer (see
``surveyapp.exports.tables``); this module reads what only the lead's sheets need: DSL
contacts, reminder history and action plans. Every function takes a SQLAlchemy session.
"""

from __future__ import annotations

from sqlalchemy import func, select

from surveyapp.audits.models import Cycle
from surveyapp.auth.models import User
from surveyapp.establishments.models import ContactRole, Establishment, EstablishmentContact

#: action plan rows fetched from the database at a time
ACTIONS_AT_A_TIME = 1_000


def dsl_contacts(session, establishment_ids: list[int]) -> dict[int, list[tuple[str, str, str]]]:
    """establishment id -> [(name, email, role label)], DSLs before deputies."""
    contacts: dict[int, list[tuple[str, str, str]]] = {}
    for start in range(0, len(establishment_ids), 1000):
        rows = session.execute(
            select(EstablishmentContact.establishment_id, User.name, User.email, EstablishmentContact.role)
            .join(User, User.id == EstablishmentContact.user_id)
            .where(EstablishmentContact.establishment_id.in_(establishment_ids[start : start + 1000]))
            .order_by(EstablishmentContact.establishment_id, EstablishmentContact.role, User.email)
        )
        for establishment_id, name, email, role in rows:
            contacts.setdefault(establishment_id, []).append((name or email, email, ContactRole(role).label))
    return contacts


def reminders_recorded() -> bool:
    """Are reminders part of this build (the chasing area installed)?"""
    try:
        from surveyapp.chasing.models import Reminder  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the chasing area being installed
        return False
    return True


def reminder_history(
    session, cycle: Cycle, establishment_ids: list[int] | None = None
) -> dict[int, tuple[int, object]] | None:
    """establishment id -> (reminders sent, last sent at), or None when reminders are not part of this build.

    :param establishment_ids: only these establishments' (default every establishment's in the cycle)"""
    try:
        from surveyapp.chasing.models import Reminder
    except ImportError:  # pragma: no cover - depends on the chasing area being installed
        return None
    sent = Reminder.status == "sent"
    statement = (
        select(Reminder.establishment_id, func.count(), func.max(Reminder.sent_at))
        .where(Reminder.cycle_id == cycle.id, sent)
        .group_by(Reminder.establishment_id)
    )
    if establishment_ids is not None:
        statement = statement.where(Reminder.establishment_id.in_(establishment_ids))
    return {establishment_id: (count, last) for establishment_id, count, last in session.execute(statement)}


def action_rows(session, cycle: Cycle):
    """(ActionItem, urn, name) for every action in the cycle, by establishment then question.

    Read ``ACTIONS_AT_A_TIME`` at a time as they are written, not all at once."""
    from surveyapp.actions.models import ActionItem

    return session.execute(
        select(ActionItem, Establishment.urn, Establishment.name)
        .join(Establishment, Establishment.id == ActionItem.establishment_id)
        .where(ActionItem.cycle_id == cycle.id)
        .order_by(Establishment.name, Establishment.id, ActionItem.id)
        .execution_options(yield_per=ACTIONS_AT_A_TIME)
    )
