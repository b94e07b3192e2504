"""Reminders: who to chase, with which words, sending with retries, and the chase log. Flush, never commit.

A reminder is planned (who will be sent one, who is skipped and why), queued (one row per address,
with an idempotency key, committed by the caller before anything is sent) and delivered (each row
at most once: a row that is already sent is never sent again, so a retry or a replayed form cannot
send the same reminder twice).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import smtplib
import string
import time
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from surveyapp import mail
from surveyapp.activity.services import record
from surveyapp.audits.models import (
    Assignment,
    Cycle,
    CycleState,
    Response,
    ResponseStatus,
    SectionProgress,
    SectionState,
    TemplateSection,
)
from surveyapp.auth.models import User
from surveyapp.chasing import tracker
from surveyapp.chasing.models import Reminder, ReminderKind, ReminderSchedule, ReminderStatus
from surveyapp.establishments.models import ContactRole, Establishment, EstablishmentContact, Trust, TrustContact
from surveyapp.extensions import db, rows_changed
from surveyapp.filters import govuk_date
from surveyapp.timeutil import as_utc, utcnow

PLACEHOLDERS = ("establishment", "dsl_name", "due_date", "sign_in_link", "incomplete_sections")

DEFAULT_WORDING: dict[ReminderKind, tuple[str, str]] = {
    ReminderKind.NOT_STARTED: (
        "Reminder: the safeguarding audit for {establishment} has not been started",
        "Dear {dsl_name},\n\n"
        "The safeguarding audit for {establishment} has not been started yet. It is due on {due_date}.\n\n"
        "Please sign in and start it:\n{sign_in_link}\n\n"
        "You can save your answers and come back to them at any time.\n",
    ),
    ReminderKind.IN_PROGRESS: (
        "Reminder: finish the safeguarding audit for {establishment} by {due_date}",
        "Dear {dsl_name},\n\n"
        "Thank you for starting the safeguarding audit for {establishment}. It is due on {due_date}.\n\n"
        "These sections are still to complete:\n{incomplete_sections}\n\n"
        "Sign in to finish it and submit it:\n{sign_in_link}\n",
    ),
    ReminderKind.RETURNED: (
        "Reminder: the safeguarding audit for {establishment} is waiting for your changes",
        "Dear {dsl_name},\n\n"
        "The safeguarding audit for {establishment} was returned to you for amendment and has not been "
        "submitted again. It is due on {due_date}.\n\n"
        "Sections still to complete:\n{incomplete_sections}\n\n"
        "Sign in to make the changes and submit it:\n{sign_in_link}\n",
    ),
}

SKIP_REASONS = {
    "complete": "already complete (own return or covered by their trust)",
    "no_contact": "no DSL contact: add one to the establishment first",
    "recent": "reminded within the cool-off period",
    "cap": "already sent the most reminders allowed in one cycle",
    "no_trust_lead": "no trust safeguarding lead: add one to the trust first",
    "submitted": "trust response already submitted or accepted",
}


class WordingError(ValueError):
    """A subject or body uses a placeholder we do not know, or braces that do not pair."""


def check_wording(text: str) -> None:
    """Refuse text with unknown placeholders or unpaired braces; the message names the problem."""
    try:
        names = [name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise WordingError("Check the curly brackets: each placeholder is written like {establishment}") from exc
    unknown = sorted({name for name in names if name not in PLACEHOLDERS})
    if unknown:
        raise WordingError(
            "Unknown placeholder "
            + ", ".join("{" + n + "}" for n in unknown)
            + ". Use "
            + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        )


def render(text: str, values: dict[str, str]) -> str:
    check_wording(text)
    return text.format_map(values)


# --- planning ---------------------------------------------------------------------------------


@dataclass
class Recipient:
    user_id: int
    name: str
    email: str


@dataclass
class Planned:
    """One establishment (or, with ``trust_id``, one trust's own response) to remind; ``urn`` is a trust's UID."""

    establishment_id: int | None
    name: str
    urn: str
    response_id: int
    kind: ReminderKind
    recipients: list[Recipient]
    incomplete_sections: list[str]
    trust_id: int | None = None
    #: the date agreed for this one alone (an extension), if any: its reminders give it, not the cycle's
    due_on: date | None = None


@dataclass
class Skipped:
    establishment_id: int | None
    name: str
    urn: str
    reason: str
    trust_id: int | None = None

    @property
    def reason_text(self) -> str:
        return SKIP_REASONS[self.reason]


@dataclass
class Plan:
    to_send: list[Planned] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return sum(len(p.recipients) for p in self.to_send)

    def skipped_by_reason(self) -> dict[str, list[Skipped]]:
        groups: dict[str, list[Skipped]] = {}
        for item in self.skipped:
            groups.setdefault(item.reason, []).append(item)
        return groups

    def kinds(self) -> list[ReminderKind]:
        return [kind for kind in ReminderKind if any(p.kind is kind for p in self.to_send)]


T = TypeVar("T")


def _chunks(ids: Sequence[T], size: int = 2000) -> Iterable[Sequence[T]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _selections(chosen: Select | Iterable[int]) -> Iterable[Select | Sequence[int]]:
    """What to read the establishments by: the SELECT of their ids in one pass, or a list of ids in chunks."""
    if isinstance(chosen, Select):
        yield chosen.correlate(None)  # a statement of its own, never tied to the tables of the query it sits in
    else:
        yield from _chunks(sorted(set(chosen)))


def _incomplete_titles(cycle: Cycle) -> Callable[[str | None], list[str]]:
    """The titles of the sections not yet completed, given the completed keys as ``_completed_sections`` gives them."""
    sections = db.session.execute(
        select(TemplateSection.key, TemplateSection.title)
        .where(TemplateSection.template_id == cycle.template_id)
        .order_by(TemplateSection.position)
    ).all()
    incomplete: dict[frozenset[str], list[str]] = {}  # many establishments share the same completed sections

    def titles(done: str | None) -> list[str]:
        keys = frozenset(done.split("\n")) if done else frozenset()
        if keys not in incomplete:
            incomplete[keys] = [title for key, title in sections if key not in keys]
        return incomplete[keys]

    return titles


def _reminders_sent(cycle: Cycle, about: tuple, recipient, *, since):
    """Over the cycle's sent reminders about one establishment or trust (``about``: conditions on the reminder),
    whether any went out since ``since``, and how many ``recipient`` has had: two correlated subqueries."""
    sent = (Reminder.cycle_id == cycle.id, *about, Reminder.status == ReminderStatus.SENT)
    lately = exists().where(*sent, Reminder.sent_at >= since)
    count = select(func.count()).where(*sent, Reminder.recipient_user_id == recipient).scalar_subquery()
    return lately, count


def _completed_sections():
    """The keys of the sections completed in the response, one a line: what a reminder lists as still to do."""
    return (
        select(func.aggregate_strings(SectionProgress.section_key, "\n"))
        .where(SectionProgress.response_id == Response.id, SectionProgress.state == SectionState.COMPLETED)
        .scalar_subquery()
    )


@dataclass
class _Found:
    """What the planning statement found for each establishment or trust chosen, one row per contact."""

    rows: dict[int, tuple] = field(default_factory=dict)
    contacts: dict[int, list[Recipient]] = field(default_factory=dict)
    reminders_had: dict[int, int] = field(default_factory=dict)

    def add(self, rows) -> None:
        for key, name, code, response_id, state, lately, done, due_on, user_id, contact_name, address, sent in rows:
            self.rows[key] = (name, code, response_id, state, lately, done, due_on)
            if user_id is not None:
                self.contacts.setdefault(key, []).append(Recipient(user_id, contact_name or address, address))
                self.reminders_had[key] = max(self.reminders_had.get(key, 0), sent or 0)

    def by_name(self):
        return sorted(self.rows.items(), key=lambda item: (item[1][0].lower(), item[0]))

    def held_back(self, key: int, lately: bool, *, force: bool, max_per_cycle: int | None, no_contact: str):
        """Why one still to respond is skipped all the same (nobody to write to, the cap reached, reminded lately)."""
        if key not in self.contacts:
            return no_contact
        if max_per_cycle is not None and self.reminders_had.get(key, 0) >= max_per_cycle:
            return "cap"
        if lately and not force:
            return "recent"
        return None


def plan_reminders(
    cycle: Cycle,
    establishment_ids: Select | Iterable[int],
    *,
    force: bool = False,
    cool_off_days: int = 3,
    statuses: Iterable[str] | None = None,
    now=None,
    max_per_cycle: int | None = None,
    due_dates: Container[date] | None = None,
) -> Plan:
    """Who would be sent a reminder, and who is skipped and why, before anything is sent.

    :param establishment_ids: the establishments chosen (ids outside the cycle are ignored): a list of ids,
        or a SELECT of ids (``tracker.matching_establishments``), read in one pass however many it selects
    :param force: send even to establishments reminded within ``cool_off_days``
    :param statuses: only these effective statuses (e.g. ["not_started"]); complete ones are always skipped
    :param max_per_cycle: skip an establishment once it has had this many reminders in the cycle (counted for
        its most-reminded DSL); ``force`` does not lift it. None: no cap
    :param due_dates: only establishments due on one of these days (their extension's, or the cycle's): the
        schedule's reminders for today (``due_cycles``)
    """
    now = now or utcnow()
    scope = tracker.Scope(cycle)
    completed_sections = _completed_sections()
    dsl = (
        select(EstablishmentContact.establishment_id, User.id.label("user_id"), User.name, User.email)
        .join(User, User.id == EstablishmentContact.user_id)
        .where(EstablishmentContact.role == ContactRole.DSL, User.is_enabled.is_(True))
        .subquery("dsl")
    )
    reminded_lately, sent_to_contact = _reminders_sent(
        cycle,
        (Reminder.establishment_id == Establishment.id,),
        dsl.c.user_id,
        since=now - timedelta(days=cool_off_days),
    )
    # One statement per selection: each establishment once per DSL contact (or once, without one),
    # with its status, whether it was reminded lately, the sections it has completed and how many
    # reminders that contact has had in this cycle.
    query = (
        scope.select(
            Establishment.id,
            Establishment.name,
            Establishment.urn,
            Response.id,
            scope.status,
            reminded_lately,
            completed_sections,
            Assignment.due_on,
            dsl.c.user_id,
            dsl.c.name,
            dsl.c.email,
            sent_to_contact,
        )
        .outerjoin(dsl, dsl.c.establishment_id == Establishment.id)
        .order_by(Establishment.id, dsl.c.user_id)
    )
    found = _Found()
    for chosen in _selections(establishment_ids):
        found.add(db.session.execute(query.where(Establishment.id.in_(chosen))))
    titles = _incomplete_titles(cycle)
    wanted = set(statuses) if statuses else None
    plan = Plan()
    for establishment_id, (name, urn, response_id, state, lately, done, due_on) in found.by_name():
        if due_dates is not None and (due_on or cycle.due_on) not in due_dates:
            continue
        if state in tracker.STATUS_GROUPS["complete"]:
            plan.skipped.append(Skipped(establishment_id, name, urn, "complete"))
            continue
        if wanted is not None and state not in wanted:
            continue
        reason = found.held_back(
            establishment_id, lately, force=force, max_per_cycle=max_per_cycle, no_contact="no_contact"
        )
        if reason is not None:
            plan.skipped.append(Skipped(establishment_id, name, urn, reason))
            continue
        plan.to_send.append(
            Planned(
                establishment_id,
                name,
                urn,
                response_id,
                ReminderKind(state),
                found.contacts[establishment_id],
                titles(done),
                due_on=due_on,
            )
        )
    return plan


#: the trust responses still to come in: chased like establishments, submitted or accepted ones are not
UNFINISHED_TRUST_STATUSES = (ResponseStatus.NOT_STARTED, ResponseStatus.IN_PROGRESS, ResponseStatus.RETURNED)


def plan_trust_reminders(
    cycle: Cycle,
    trust_ids: Iterable[int] | None = None,
    *,
    force: bool = False,
    cool_off_days: int = 3,
    statuses: Iterable[str] | None = None,
    now=None,
    max_per_cycle: int | None = None,
    due_dates: Container[date] | None = None,
) -> Plan:
    """Which trusts' safeguarding leads would be reminded of their trust's own response, and which are skipped.

    The same rules as for establishments: the wording follows the response's status, a trust reminded
    within ``cool_off_days`` is skipped unless ``force``, and one whose most-reminded lead has had
    ``max_per_cycle`` reminders in the cycle is skipped whatever ``force`` says.

    :param trust_ids: the trusts chosen (None: every trust with a response in the cycle)
    :param due_dates: only trusts whose response is due on one of these days (as for establishments)
    """
    now = now or utcnow()
    completed_sections = _completed_sections()
    lead = (
        select(TrustContact.trust_id, User.id.label("user_id"), User.name, User.email)
        .join(User, User.id == TrustContact.user_id)
        .where(User.is_enabled.is_(True))
        .subquery("trust_lead")
    )
    # a trust's own reminders are those about no establishment
    reminded_lately, sent_to_lead = _reminders_sent(
        cycle,
        (Reminder.trust_id == Trust.id, Reminder.establishment_id.is_(None)),
        lead.c.user_id,
        since=now - timedelta(days=cool_off_days),
    )
    query = (
        select(
            Trust.id,
            Trust.name,
            Trust.uid,
            Response.id,
            Response.status,
            reminded_lately,
            completed_sections,
            Assignment.due_on,
            lead.c.user_id,
            lead.c.name,
            lead.c.email,
            sent_to_lead,
        )
        .join(Assignment, Assignment.trust_id == Trust.id)
        .join(Response, Response.assignment_id == Assignment.id)
        .outerjoin(lead, lead.c.trust_id == Trust.id)
        .where(Assignment.cycle_id == cycle.id)
        .order_by(Trust.id, lead.c.user_id)
    )
    selections = [None] if trust_ids is None else list(_chunks(sorted(set(trust_ids))))
    found = _Found()
    for chosen in selections:
        found.add(db.session.execute(query if chosen is None else query.where(Trust.id.in_(chosen))))
    titles = _incomplete_titles(cycle)
    wanted = set(statuses) if statuses else None
    plan = Plan()
    for trust_id, (name, uid, response_id, state, lately, done, due_on) in found.by_name():
        if due_dates is not None and (due_on or cycle.due_on) not in due_dates:
            continue
        if state not in UNFINISHED_TRUST_STATUSES:
            plan.skipped.append(Skipped(None, name, uid, "submitted", trust_id))
            continue
        if wanted is not None and state.value not in wanted:
            continue
        reason = found.held_back(trust_id, lately, force=force, max_per_cycle=max_per_cycle, no_contact="no_trust_lead")
        if reason is not None:
            plan.skipped.append(Skipped(None, name, uid, reason, trust_id))
            continue
        plan.to_send.append(
            Planned(
                None,
                name,
                uid,
                response_id,
                ReminderKind(state.value),
                found.contacts[trust_id],
                titles(done),
                trust_id,
                due_on,
            )
        )
    return plan


@dataclass
class UnfinishedTrust:
    trust: Trust
    response_id: int
    status: ResponseStatus
    leads: list[str]
    reminders_sent: int
    last_reminder_at: object


def _unfinished_trust_assignments(cycle: Cycle) -> Select:
    """SELECT FROM the cycle's trust assignments whose response is not yet submitted or accepted (add columns)."""
    return (
        select()
        .select_from(Assignment)
        .join(Response, Response.assignment_id == Assignment.id)
        .where(
            Assignment.cycle_id == cycle.id,
            Assignment.trust_id.is_not(None),
            Response.status.in_(UNFINISHED_TRUST_STATUSES),
        )
    )


def count_unfinished_trust_responses(cycle: Cycle) -> int:
    """How many trusts' own responses in the cycle are not yet submitted or accepted: one count, no rows read."""
    return db.session.scalar(_unfinished_trust_assignments(cycle).with_only_columns(func.count())) or 0


def unfinished_trust_responses(cycle: Cycle) -> list[UnfinishedTrust]:
    """The trusts whose own response in the cycle is not yet submitted or accepted, with their leads and chasing.

    Three queries whatever the number of trusts: the leads and the reminders are read for the same
    unfinished trusts by a subquery, not by lists of ids.
    """
    unfinished = _unfinished_trust_assignments(cycle)
    rows = db.session.execute(
        unfinished.add_columns(Trust, Response.id, Response.status)
        .join(Trust, Trust.id == Assignment.trust_id)
        .order_by(Trust.name, Trust.id)
    ).all()
    trust_ids = unfinished.with_only_columns(Assignment.trust_id)
    leads: dict[int, list[str]] = {}
    for trust_id, address in db.session.execute(
        select(TrustContact.trust_id, User.email)
        .join(User, User.id == TrustContact.user_id)
        .where(TrustContact.trust_id.in_(trust_ids), User.is_enabled.is_(True))
        .order_by(TrustContact.trust_id, User.email)
    ):
        leads.setdefault(trust_id, []).append(address)
    chased: dict[int | None, tuple[int, object]] = {
        chased_id: (count, last)
        for chased_id, count, last in db.session.execute(
            select(Reminder.trust_id, func.count(), func.max(Reminder.sent_at))
            .where(
                Reminder.cycle_id == cycle.id,
                Reminder.establishment_id.is_(None),
                Reminder.trust_id.in_(trust_ids),
                Reminder.status == ReminderStatus.SENT,
            )
            .group_by(Reminder.trust_id)
        )
    }
    return [
        UnfinishedTrust(trust, response_id, status, leads.get(trust.id, []), *chased.get(trust.id, (0, None)))
        for trust, response_id, status in rows
    ]


# --- queueing and delivering ----------------------------------------------------------------


def _key(batch: str, target: int | str | None, address: str) -> str:
    """The idempotency key: ``target`` is the establishment's id, or "trust-<id>" for a trust's own response."""
    digest = hashlib.sha256(f"{target}:{address.lower()}".encode()).hexdigest()[:32]
    return f"{batch[:80]}:{digest}"


def queue_reminders(
    cycle: Cycle,
    plan: Plan,
    *,
    batch: str,
    base_url: str,
    actor=None,
    wording: dict[ReminderKind, tuple[str, str]] | None = None,
) -> list[Reminder]:
    """Add one queued reminder per planned address, worded for the establishment's status.

    :param batch: identifies this sending (a form's one-off token, or the schedule's day): an address
        already queued in the same batch is not queued again
    :param wording: (subject, body) per kind, with placeholders; the defaults where missing
    """
    wording = {**DEFAULT_WORDING, **(wording or {})}
    for subject, body in wording.values():
        check_wording(subject)
        check_wording(body)
    keys = {
        _key(batch, p.establishment_id if p.trust_id is None else f"trust-{p.trust_id}", r.email): (p, r)
        for p in plan.to_send
        for r in p.recipients
    }
    existing = set()
    for chunk in _chunks(list(keys)):
        existing |= set(db.session.scalars(select(Reminder.idempotency_key).where(Reminder.idempotency_key.in_(chunk))))
    queued = []
    for key, (planned, recipient) in keys.items():
        if key in existing:
            continue
        subject, body = wording[planned.kind]
        values = {
            "establishment": planned.name,
            "dsl_name": recipient.name,
            "due_date": govuk_date(planned.due_on or cycle.due_on),
            "sign_in_link": f"{base_url.rstrip('/')}/audits/{planned.response_id}/",
            "incomplete_sections": "\n".join(f"- {title}" for title in planned.incomplete_sections) or "- none",
        }
        reminder = Reminder(
            cycle_id=cycle.id,
            establishment_id=planned.establishment_id,
            trust_id=planned.trust_id,
            recipient_email=recipient.email,
            recipient_user_id=recipient.user_id,
            kind=planned.kind,
            subject=one_line(render(subject, values))[:255],
            body=render(body, values),
            created_by_id=getattr(actor, "id", None),
            created_at=utcnow(),
            status=ReminderStatus.QUEUED,
            attempts=0,
            last_error="",
            idempotency_key=key,
        )
        db.session.add(reminder)
        queued.append(reminder)
    db.session.flush()
    return queued


def one_line(text: str) -> str:
    """A subject on one line: a line break (from a name, or the wording) in a header cannot be sent."""
    return " ".join(text.split())


@dataclass
class Delivery:
    sent: int = 0
    failed: list[Reminder] = field(default_factory=list)


def _is_permanent(exc: mail.MailError) -> bool:
    """A 5xx answer from the server: retrying cannot help."""
    cause = exc.__cause__
    if isinstance(cause, ValueError):  # the message itself cannot be built: sending again builds it again
        return True
    code = getattr(cause, "smtp_code", None)
    if isinstance(cause, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _m in cause.recipients.values()]
        code = min(codes) if codes else None
    return isinstance(code, int) and code >= 500


#: why a reminder whose sending was cut off (its worker lost mid-send) is not sent again
INTERRUPTED = (
    "Sending was interrupted (the worker stopped) before the mail server's answer was recorded: it may "
    "have arrived. It is not sent again, so nobody gets it twice; check with the recipient before resending."
)


def deliver(
    reminders: Iterable[Reminder],
    settings: mail.MailSettings,
    *,
    attempts: int = 3,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    actor=None,
    progress: Callable[[int, int], None] | None = None,
    checkpoint: Callable[[], None] | None = None,
) -> Delivery:
    """Send each queued reminder, retrying a temporary failure up to ``attempts`` times with exponential backoff.

    A reminder that is not queued (already sent or failed) is left alone, so delivering twice sends nothing twice.
    A failure that persists is recorded on the reminder (status failed, last error) and shown on the tracker.

    :param progress: called with (reminders done, reminders in all) before each one and at the end
    :param checkpoint: commits, for a caller that makes every step durable (a job whose worker may be killed).
        Each attempt is then claimed in the database and committed before it goes to the mail server: a reminder
        found still queued with an attempt already made was cut off mid-send, and is marked failed (INTERRUPTED)
        rather than sent again, and a reminder another run claimed first is left to that run
    """
    result = Delivery()
    reminders = list(reminders)
    for done, reminder in enumerate(reminders, start=1):
        if progress is not None:
            progress(done - 1, len(reminders))
        if reminder.status is not ReminderStatus.QUEUED:
            continue
        if reminder.attempts and checkpoint is not None:
            reminder.status = ReminderStatus.FAILED
            reminder.last_error = INTERRUPTED
        taken = False
        for attempt in range(attempts if reminder.status is ReminderStatus.QUEUED else 0):
            if checkpoint is None:
                reminder.attempts += 1
            elif not _claim_attempt(reminder, checkpoint):
                taken = True
                break
            try:
                mail.send(settings, reminder.recipient_email, reminder.subject, reminder.body)
            except mail.MailError as exc:
                reminder.last_error = str(exc)[:2000]
                if _is_permanent(exc) or attempt == attempts - 1:
                    reminder.status = ReminderStatus.FAILED
                    break
                sleep(backoff * (2**attempt))
            else:
                reminder.status = ReminderStatus.SENT
                reminder.sent_at = utcnow()
                break
        if taken:
            continue
        if reminder.status is ReminderStatus.SENT:
            result.sent += 1
        else:
            result.failed.append(reminder)
        record(
            "reminder." + reminder.status.value,
            actor.id if actor else None,
            establishment_id=reminder.establishment_id,
            trust_id=reminder.trust_id,
            cycle_id=reminder.cycle_id,
            to=reminder.recipient_email,
            kind=reminder.kind.value,
            attempts=reminder.attempts,
            error=reminder.last_error,
        )
        db.session.flush()
    if progress is not None:
        progress(len(reminders), len(reminders))
    return result


def _claim_attempt(reminder: Reminder, checkpoint: Callable[[], None]) -> bool:
    """Count one more attempt on the reminder in the database, only if no other run has since, and commit it
    before the attempt is made; False when another run (a worker thought lost, still sending) holds it."""
    seen = reminder.attempts
    db.session.flush()
    won = (
        rows_changed(
            update(Reminder)
            .where(Reminder.id == reminder.id, Reminder.status == ReminderStatus.QUEUED, Reminder.attempts == seen)
            .values(attempts=seen + 1)
            .execution_options(synchronize_session=False)
        )
        == 1
    )
    checkpoint()
    if won:
        set_committed_value(reminder, "attempts", seen + 1)
    return won


def reload_queued(ids: list[int]) -> list[Reminder]:
    """The reminders with these ids, after the commit that made them durable."""
    found: list[Reminder] = []
    for chunk in _chunks(ids):
        found += db.session.scalars(select(Reminder).where(Reminder.id.in_(chunk)).order_by(Reminder.id)).all()
    return found


# --- the schedule -----------------------------------------------------------------------------


def schedule_for(cycle: Cycle) -> ReminderSchedule | None:
    return db.session.scalar(select(ReminderSchedule).where(ReminderSchedule.cycle_id == cycle.id))


def set_schedule(
    cycle: Cycle, days_before_due: Iterable[int], weekly_when_overdue: bool, actor=None
) -> ReminderSchedule:
    """Create or change the cycle's reminder schedule."""
    days = sorted({int(d) for d in days_before_due if int(d) >= 0}, reverse=True)
    schedule = schedule_for(cycle) or ReminderSchedule(cycle_id=cycle.id)
    schedule.days_before_due = days
    schedule.weekly_when_overdue = weekly_when_overdue
    schedule.updated_by_id = getattr(actor, "id", None)
    db.session.add(schedule)
    record(
        "reminders.schedule_set",
        actor.id if actor else None,
        cycle_id=cycle.id,
        days_before_due=days,
        weekly_when_overdue=weekly_when_overdue,
    )
    db.session.flush()
    return schedule


def is_due(schedule: ReminderSchedule, due_on: date, on: date) -> bool:
    """Whether the schedule sends on this day to a respondent due on ``due_on``: a listed number of days before
    that day, or weekly once it has passed."""
    days_left = (due_on - on).days
    if days_left in (schedule.days_before_due or []):
        return True
    return schedule.weekly_when_overdue and days_left < 0 and (-days_left) % 7 == 0


def due_cycles(on: date) -> list[tuple[Cycle, set[date]]]:
    """Open cycles whose schedule sends on this day, each with the due dates it sends to.

    A respondent given an extension is reminded on the schedule's days before its own date (and weekly once
    that has passed), not the cycle's: so each cycle's due dates (its own and its extensions') are asked.
    """
    rows = db.session.execute(
        select(Cycle, ReminderSchedule)
        .join(ReminderSchedule, ReminderSchedule.cycle_id == Cycle.id)
        .where(Cycle.state == CycleState.OPEN)
        .order_by(Cycle.due_on)
    ).all()
    found = []
    for cycle, schedule in rows:
        extensions = db.session.scalars(
            select(Assignment.due_on).where(Assignment.cycle_id == cycle.id, Assignment.due_on.is_not(None)).distinct()
        )
        dates = {day for day in {cycle.due_on, *extensions} if is_due(schedule, day, on)}
        if dates:
            found.append((cycle, dates))
    return found


def incomplete_establishments(cycle: Cycle, status: str | None = None) -> Select:
    """SELECT of the ids of the cycle's establishments not yet complete (or with this one status)."""
    return tracker.matching_establishments(cycle, tracker.TrackerFilters(status=status or "incomplete"))


# --- history, export and the outbox ----------------------------------------------------------


def chase_history(cycle: Cycle, establishment: Establishment) -> list[Reminder]:
    return list(
        db.session.scalars(
            select(Reminder)
            .where(Reminder.cycle_id == cycle.id, Reminder.establishment_id == establishment.id)
            .order_by(Reminder.created_at.desc(), Reminder.id.desc())
        )
    )


def trust_chase_history(cycle: Cycle, trust: Trust) -> list[Reminder]:
    """The reminders about the trust's own response in this cycle, newest first."""
    return list(
        db.session.scalars(
            select(Reminder)
            .where(Reminder.cycle_id == cycle.id, Reminder.trust_id == trust.id, Reminder.establishment_id.is_(None))
            .order_by(Reminder.created_at.desc(), Reminder.id.desc())
        )
    )


NON_RESPONDER_HEADER = [
    "URN",
    "Establishment",
    "Phase",
    "Type",
    "District",
    "Trust",
    "Status",
    "Sections completed",
    "DSL name",
    "DSL email",
    "Reminders sent",
    "Last reminder",
    "Chase history",
]


def non_responders(cycle: Cycle, trust_scope: int | None = None) -> tuple[list[str], list[list]]:
    """Every establishment not yet complete, with its chase history: header and rows for CSV or xlsx.

    Three queries whatever the size: the list, the section count, and the cycle's reminders.
    """
    filters = tracker.TrackerFilters(status="incomplete")
    page = tracker.establishment_list(cycle, filters, trust_scope, per_page=10**9)
    history: dict[int | None, list[str]] = {}
    for establishment_id, created, sent, status, address, kind in db.session.execute(
        select(
            Reminder.establishment_id,
            Reminder.created_at,
            Reminder.sent_at,
            Reminder.status,
            Reminder.recipient_email,
            Reminder.kind,
        )
        .where(Reminder.cycle_id == cycle.id)
        .order_by(Reminder.establishment_id, Reminder.created_at, Reminder.id)
    ):
        when = as_utc(sent or created).strftime("%Y-%m-%d %H:%M")
        history.setdefault(establishment_id, []).append(f"{when} {status.value} to {address} ({kind.label.lower()})")
    rows = [
        [
            r.urn,
            r.name,
            r.phase,
            r.type_name,
            r.district,
            r.trust_name or "",
            r.status_label,
            f"{r.sections_done} of {page.sections_total}",
            r.dsl_name or "",
            r.dsl_email or "",
            r.reminders_sent,
            as_utc(r.last_reminder_at).strftime("%Y-%m-%d %H:%M") if r.last_reminder_at else "",
            "; ".join(history.get(r.establishment_id, [])),
        ]
        for r in page.rows
    ]
    return NON_RESPONDER_HEADER, rows


@dataclass
class OutboxMessage:
    name: str
    to: str
    subject: str
    date: object
    body: str


def outbox(folder: str, limit: int = 200) -> list[OutboxMessage]:
    """The newest messages written to the outbox folder (mail without SMTP settings)."""
    path = Path(folder)
    if not path.exists():
        return []
    files = sorted(path.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns, reverse=True)[:limit]
    messages = []
    for file in files:
        message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
        try:
            sent = parsedate_to_datetime(message["Date"]) if message["Date"] else None
        except (TypeError, ValueError):
            sent = None
        body = message.get_body(preferencelist=("plain",))
        messages.append(
            OutboxMessage(
                file.stem,
                str(message["To"] or ""),
                str(message["Subject"] or ""),
                sent,
                body.get_content() if body else "",
            )
        )
    return messages
