"""The reminders job: deliver the reminders a lead's send queued (see surveyapp/jobs)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from sqlalchemy import func, select

from surveyapp import mail
from surveyapp.chasing.models import Reminder, ReminderStatus
from surveyapp.extensions import db
from surveyapp.jobs.models import Job, JobKind
from surveyapp.jobs.work import Outcome, does, plural


def batch_reminders(batch: str):
    """SELECT of the reminders queued under one batch (their idempotency keys start with it)."""
    return select(Reminder).where(Reminder.idempotency_key.startswith(f"{batch}:", autoescape=True))


@does(JobKind.REMINDERS)
def send_reminders(job: Job, progress, checkpoint: Callable[[], None]) -> Outcome:
    """Deliver the reminders the lead's send queued under the job's batch; those already sent are left alone."""
    params = job.params
    config = current_app.config
    queued = list(
        db.session.scalars(
            batch_reminders(params["batch"]).where(Reminder.status == ReminderStatus.QUEUED).order_by(Reminder.id)
        )
    )

    def sending(done: int, total: int) -> None:
        progress(done, total, f"Sending {done:,} of {total:,}")

    from surveyapp.chasing import services

    services.deliver(
        queued,
        mail.MailSettings.from_config(config),
        attempts=config.get("REMINDER_ATTEMPTS", 3),
        backoff=config.get("REMINDER_BACKOFF_SECONDS", 2.0),
        actor=job.started_by,
        progress=sending,
        checkpoint=checkpoint,
    )
    # Counted over the whole batch, so a run that finishes a lost run's work reports the send as a whole.
    counts = dict(
        db.session.execute(
            select(Reminder.status, func.count())
            .where(Reminder.idempotency_key.startswith(f"{params['batch']}:", autoescape=True))
            .group_by(Reminder.status)
        ).all()
    )
    sent, failed = counts.get(ReminderStatus.SENT, 0), counts.get(ReminderStatus.FAILED, 0)
    cut_off = (
        db.session.scalar(
            select(func.count()).select_from(
                batch_reminders(params["batch"])
                .where(Reminder.last_error == services.INTERRUPTED, Reminder.status == ReminderStatus.FAILED)
                .subquery()
            )
        )
        if failed
        else 0
    )
    if not sent and not failed and params.get("planned"):
        return Outcome("These reminders have already been sent.")
    summary = f"{plural(sent, 'reminder')} sent."
    skipped = params.get("skipped", 0)
    if skipped:
        summary += f" {plural(skipped, params.get('skipped_noun', 'establishment'))} skipped."
    seen_on = params.get("failures_seen_on", "the tracker")
    if failed - cut_off:
        summary += f" {failed - cut_off:,} could not be sent after retrying: see {seen_on}."
    if cut_off:
        summary += (
            f" {cut_off:,} {'was' if cut_off == 1 else 'were'} interrupted while sending and not sent again, "
            f"in case {'it' if cut_off == 1 else 'they'} arrived: see {seen_on}."
        )
    return Outcome(summary)
