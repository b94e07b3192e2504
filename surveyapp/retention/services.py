"""Personal data kept no longer than needed (UK GDPR storage limitation).

Pseudonymises the personal data of cycles closed more than N years ago, and of sign-ins and accounts
that old, while every answer, status and figure stays as it was, so year-on-year analysis stays true.

What changes:
- sign-off names (headteacher, chair of governors), the lead's return comments and the owners of planned
  actions in those cycles become "[removed]";
- reminders of those cycles: the recipient's address becomes a pseudonym and the body is removed;
- the activity log of those cycles, and sign-in records older than the cut-off: email addresses and
  sign-in addresses (IP) become pseudonyms;
- disabled accounts not used since the cut-off: name removed, email a pseudonym, password and
  authenticator removed. Their records in the log keep pointing at them, so the trail still says "the
  same person did these", without saying who.

A pseudonym is a keyed hash (HMAC-SHA256 with the app's SECRET_KEY) of the value, so one person's rows
stay linked to each other. The log is append-only to the app's own database account: its rows are
rewritten here through a connection as the tables' owner (see ``pseudonymise``), in one transaction that
turns the append-only trigger off and on again, so the app's account still cannot rewrite history.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, func, or_, select, text, update

from surveyapp.actions.models import ActionItem
from surveyapp.activity.models import SQLITE_APPEND_ONLY, SQLITE_DROP_APPEND_ONLY, ActivityRecord
from surveyapp.audits.importer import IMPORT_COMMENT
from surveyapp.audits.models import Answer, Assignment, Cycle, CycleState, Response, StatusEvent
from surveyapp.auth.models import User
from surveyapp.chasing.models import Reminder

REMOVED = "[removed]"
PSEUDONYM_DOMAIN = "pseudonymised.invalid"
#: detail keys of activity records that hold an email address or a sign-in address
EMAIL_KEYS = ("email", "to")
ADDRESS_KEYS = ("address",)
SIGN_IN_ACTIONS = ("auth.",)


@dataclass
class RetentionReport:
    """What was (or, in a dry run, would be) pseudonymised."""

    cutoff: datetime
    cycles: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        names = {
            "responses": "returns' sign-off names and return comments",
            "answers": "planned actions' owners in answers",
            "actions": "action plan owners",
            "status_events": "comments on status changes",
            "reminders": "reminders (address and body)",
            "activity": "activity log records (emails and sign-in addresses)",
            "users": "disabled accounts unused since the cut-off",
        }
        return [f"{self.counts.get(key, 0):>7}  {label}" for key, label in names.items()]


def pseudonym(secret: str, value: str, kind: str) -> str:
    """A stable stand-in for ``value``: the same value always gives the same pseudonym."""
    digest = hmac.new(secret.encode(), f"{kind}:{value.strip().lower()}".encode(), hashlib.sha256).hexdigest()[:12]
    return f"person-{digest}@{PSEUDONYM_DOMAIN}" if kind == "email" else f"{kind}-{digest}"


def _is_pseudonym(value) -> bool:
    return not isinstance(value, str) or value.endswith("@" + PSEUDONYM_DOMAIN) or value.startswith("address-")


def pseudonymise(
    connection: Connection, *, secret: str, older_than_years: int, now: datetime, dry_run: bool = False
) -> RetentionReport:
    """Pseudonymise personal data older than the cut-off, in the connection's transaction.

    :param connection: a connection as the owner of the tables (it may turn the log's trigger off)
    :param dry_run: count what would change and change nothing
    """
    cutoff = now - timedelta(days=round(365.25 * older_than_years))
    report = RetentionReport(cutoff)
    cycles = connection.execute(
        select(Cycle.id, Cycle.slug)
        .where(Cycle.state.in_([CycleState.CLOSED, CycleState.ARCHIVED]), Cycle.closed_at < cutoff)
        .order_by(Cycle.due_on)
    ).all()
    cycle_ids = [row.id for row in cycles]
    report.cycles = [row.slug for row in cycles]
    responses = (
        select(Response.id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id.in_(cycle_ids))
    )

    counts = report.counts
    counts["responses"] = _set(
        connection,
        dry_run,
        Response,
        Response.id.in_(responses),
        or_(
            and_(Response.headteacher_name != "", Response.headteacher_name != REMOVED),
            and_(Response.chair_name != "", Response.chair_name != REMOVED),
            and_(Response.return_comment != "", Response.return_comment != REMOVED),
        ),
        headteacher_name=_removed_unless_blank(Response.headteacher_name),
        chair_name=_removed_unless_blank(Response.chair_name),
        return_comment=_removed_unless_blank(Response.return_comment),
    )
    counts["actions"] = _set(
        connection,
        dry_run,
        ActionItem,
        ActionItem.cycle_id.in_(cycle_ids),
        ActionItem.owner != "",
        ActionItem.owner != REMOVED,
        owner=REMOVED,
    )
    counts["status_events"] = _set(
        connection,
        dry_run,
        StatusEvent,
        StatusEvent.response_id.in_(responses),
        StatusEvent.comment != "",
        StatusEvent.comment != REMOVED,
        StatusEvent.comment != IMPORT_COMMENT,
        comment=REMOVED,
    )
    counts["answers"] = _answer_owners(connection, dry_run, responses)
    counts["reminders"] = _reminders(connection, dry_run, secret, cycle_ids)
    counts["users"] = _users(connection, dry_run, secret, cutoff)
    counts["activity"] = _activity(connection, dry_run, secret, cycle_ids, cutoff)
    return report


def _removed_unless_blank(column):
    from sqlalchemy import case

    return case((column == "", ""), else_=REMOVED)


def _set(connection: Connection, dry_run: bool, model, *where, **values) -> int:
    if dry_run:
        return connection.scalar(select(func.count()).select_from(model).where(*where)) or 0
    return connection.execute(update(model).where(*where).values(**values)).rowcount


def _answer_owners(connection: Connection, dry_run: bool, responses) -> int:
    rows = connection.execute(
        select(Answer.id, Answer.follow_up).where(Answer.response_id.in_(responses), Answer.follow_up.is_not(None))
    ).all()
    changed = [
        {"id": row.id, "follow_up": {**row.follow_up, "owner": REMOVED}}
        for row in rows
        if (row.follow_up or {}).get("owner") not in (None, "", REMOVED)
    ]
    if changed and not dry_run:
        for row in changed:
            connection.execute(update(Answer).where(Answer.id == row["id"]).values(follow_up=row["follow_up"]))
    return len(changed)


def _reminders(connection: Connection, dry_run: bool, secret: str, cycle_ids: list[int]) -> int:
    rows = connection.execute(
        select(Reminder.id, Reminder.recipient_email).where(Reminder.cycle_id.in_(cycle_ids), Reminder.body != REMOVED)
    ).all()
    if not dry_run:
        for row in rows:
            connection.execute(
                update(Reminder)
                .where(Reminder.id == row.id)
                .values(recipient_email=pseudonym(secret, row.recipient_email, "email"), body=REMOVED)
            )
    return len(rows)


def _users(connection: Connection, dry_run: bool, secret: str, cutoff: datetime) -> int:
    last_used = func.coalesce(User.last_sign_in_at, User.created_at)
    rows = connection.execute(
        select(User.id, User.email).where(
            User.is_enabled.is_(False), last_used < cutoff, ~User.email.endswith("@" + PSEUDONYM_DOMAIN)
        )
    ).all()
    if not dry_run:
        for row in rows:
            connection.execute(
                update(User)
                .where(User.id == row.id)
                .values(
                    email=pseudonym(secret, row.email, "email"),
                    name=REMOVED,
                    password_hash=None,
                    totp_secret=None,
                    recovery_codes=[],
                )
            )
    return len(rows)


def _activity(connection: Connection, dry_run: bool, secret: str, cycle_ids: list[int], cutoff: datetime) -> int:
    in_old_cycle = ActivityRecord.cycle_id.in_(cycle_ids)
    old_reminder = and_(
        ActivityRecord.cycle_id.is_(None),
        ActivityRecord.action.startswith("reminder."),
        ActivityRecord.detail["cycle_id"].as_integer().in_(cycle_ids),
    )
    old_sign_in = and_(
        or_(*(ActivityRecord.action.startswith(prefix) for prefix in SIGN_IN_ACTIONS)), ActivityRecord.at < cutoff
    )
    changed = []
    for row in connection.execute(
        select(ActivityRecord.id, ActivityRecord.detail).where(or_(in_old_cycle, old_reminder, old_sign_in))
    ):
        detail = dict(row.detail or {})
        new = dict(detail)
        for key in EMAIL_KEYS:
            if detail.get(key) and not _is_pseudonym(detail[key]):
                new[key] = pseudonym(secret, str(detail[key]), "email")
        for key in ADDRESS_KEYS:
            if detail.get(key) and not _is_pseudonym(detail[key]):
                new[key] = pseudonym(secret, str(detail[key]), "address")
        if new != detail:
            changed.append((row.id, new))
    if changed and not dry_run:
        with _log_open_for_rewriting(connection):
            for record_id, detail in changed:
                connection.execute(update(ActivityRecord).where(ActivityRecord.id == record_id).values(detail=detail))
    return len(changed)


class _log_open_for_rewriting:
    """Turn the log's append-only trigger off for this transaction only, and on again before it commits.

    PostgreSQL: ALTER TABLE ... DISABLE TRIGGER needs the table's owner, which the app's account is not in
    the recommended set-up; DDL is transactional, so nobody else ever sees the trigger off. SQLite: drop and
    create the triggers again inside the transaction.
    """

    def __init__(self, connection: Connection):
        self.connection = connection
        self.dialect = connection.dialect.name

    def __enter__(self):
        if self.dialect == "postgresql":
            self.connection.execute(text("ALTER TABLE activity_log DISABLE TRIGGER activity_log_append_only"))
        else:
            for statement in SQLITE_DROP_APPEND_ONLY:
                self.connection.execute(text(statement))

    def __exit__(self, *exc_info):
        if self.dialect == "postgresql":
            self.connection.execute(text("ALTER TABLE activity_log ENABLE TRIGGER activity_log_append_only"))
        else:
            for statement in SQLITE_APPEND_ONLY:
                self.connection.execute(text(statement))
        return False
