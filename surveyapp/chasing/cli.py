"""`surveyapp reminders ...`: chase non-responders from cron.

One cron line is enough: `surveyapp reminders run-due` once a day sends what each open cycle's
schedule asks for that day; running it twice the same day sends nothing twice.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from surveyapp import mail
from surveyapp.audits.services import cycle_by_slug
from surveyapp.chasing import services
from surveyapp.extensions import db
from surveyapp.timeutil import today, utcnow
from surveyapp.transaction import commit_now, commits

reminders = AppGroup("reminders", help="Reminders to establishments and trusts that have not returned their audit.")


def _describe(plan, what: str = "to remind") -> str:
    parts = [f"{len(plan.to_send)} {what} ({plan.messages} emails)"]
    for reason, items in plan.skipped_by_reason().items():
        parts.append(
            f"{len(items)} skipped: {services.SKIP_REASONS[reason]}"
            + (f" ({current_app.config.get('REMINDER_MAX_PER_CYCLE', 6)} in this cycle)" if reason == "cap" else "")
        )
    return "; ".join(parts)


def _plans(cycle, status: str | None = None, **rules) -> tuple[services.Plan, services.Plan]:
    """The establishments to remind, and the trusts whose own response is unfinished, under the same rules."""
    rules = {
        "cool_off_days": current_app.config.get("REMINDER_COOL_OFF_DAYS", 3),
        "max_per_cycle": current_app.config.get("REMINDER_MAX_PER_CYCLE", 6),
        **rules,
    }
    plan = services.plan_reminders(cycle, services.incomplete_establishments(cycle, status), **rules)
    trust_plan = services.plan_trust_reminders(cycle, statuses=[status] if status else None, **rules)
    return plan, trust_plan


def _both(plan, trust_plan) -> services.Plan:
    return services.Plan(to_send=plan.to_send + trust_plan.to_send, skipped=plan.skipped + trust_plan.skipped)


@commits
def _send(cycle, plan, batch: str) -> services.Delivery:
    config = current_app.config
    queued = services.queue_reminders(cycle, plan, batch=batch, base_url=config["BASE_URL"])
    ids = [reminder.id for reminder in queued]
    commit_now()  # the log exists before anything is sent: mail cannot be rolled back
    from surveyapp.progress import shown

    with shown("Sending reminders", unit="reminders") as progress:
        delivery = services.deliver(
            services.reload_queued(ids),
            mail.MailSettings.from_config(config),
            attempts=config.get("REMINDER_ATTEMPTS", 3),
            backoff=config.get("REMINDER_BACKOFF_SECONDS", 2.0),
            progress=progress,
        )
    return delivery


@reminders.command("send")
@click.option("--cycle", "slug", required=True, help="The cycle's short name, e.g. 2026-27.")
@click.option(
    "--status",
    type=click.Choice(["not_started", "in_progress", "returned"]),
    default=None,
    help="Only establishments with this status (default: every one not yet complete).",
)
@click.option("--dry-run", is_flag=True, help="Say who would be reminded and who skipped; send nothing.")
@click.option("--force", is_flag=True, help="Also remind establishments reminded within the cool-off period.")
def send_command(slug: str, status: str | None, dry_run: bool, force: bool) -> None:
    """Remind the DSLs of every establishment in a cycle that has not finished, and the safeguarding
    leads of every trust whose own response has not been submitted."""
    cycle = cycle_by_slug(slug)
    if cycle is None:
        click.echo(f'There is no cycle called "{slug}".', err=True)
        sys.exit(1)
    plan, trust_plan = _plans(cycle, status, force=force)
    click.echo(f"{cycle.slug}: {_describe(plan)}")
    click.echo(f"{cycle.slug}: {_describe(trust_plan, 'trusts to remind of their trust response')}")
    if dry_run:
        for item in plan.to_send:
            click.echo(
                f"  would remind {item.urn} {item.name} ({item.kind.value}): "
                + ", ".join(r.email for r in item.recipients)
            )
        for item in trust_plan.to_send:
            click.echo(
                f"  would remind trust {item.urn} {item.name} ({item.kind.value}): "
                + ", ".join(r.email for r in item.recipients)
            )
        db.session.rollback()
        click.echo("Dry run: nothing was sent.")
        return
    delivery = _send(cycle, _both(plan, trust_plan), batch=f"cli:{slug}:{utcnow().isoformat()}")
    click.echo(f"Sent {delivery.sent}; failed {len(delivery.failed)}.")
    for reminder in delivery.failed:
        click.echo(f"  failed: {reminder.recipient_email}: {reminder.last_error}", err=True)
    if delivery.failed:
        sys.exit(2)


@reminders.command("run-due")
@click.option("--date", "on", default=None, help="Act as if today were this day, YYYY-MM-DD (for catching up).")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send nothing.")
def run_due_command(on: str | None, dry_run: bool) -> None:
    """Send the reminders each open cycle's schedule asks for today (safe to run more than once a day)."""
    day = date.fromisoformat(on) if on else today()
    now = datetime.combine(day, utcnow().time(), UTC)  # the cool-off counts back from the day acted for
    cycles = services.due_cycles(day)
    if not cycles:
        click.echo(f"{day.isoformat()}: no cycle has reminders due.")
        return
    failed = 0
    for cycle, due_dates in cycles:
        # The schedule honours the cool-off like the lead does; the day in the key means a
        # second run the same day finds every reminder already queued and sends nothing.
        # Only respondents due on one of today's dates: one with an extension is chased by its own date.
        plan, trust_plan = _plans(cycle, now=now, due_dates=due_dates)
        click.echo(f"{cycle.slug}: {_describe(plan)}")
        click.echo(f"{cycle.slug}: {_describe(trust_plan, 'trusts to remind of their trust response')}")
        if dry_run:
            continue
        delivery = _send(cycle, _both(plan, trust_plan), batch=f"schedule:{cycle.id}:{day.isoformat()}")
        failed += len(delivery.failed)
        click.echo(f"{cycle.slug}: sent {delivery.sent}; failed {len(delivery.failed)}.")
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was sent.")
    if failed:
        sys.exit(2)


@reminders.command("schedule")
@click.option("--cycle", "slug", required=True)
@click.option("--days", default="14,7,2", show_default=True, help="Days before the due date, comma-separated.")
@click.option("--weekly/--no-weekly", default=True, show_default=True, help="Then weekly while overdue.")
@commits
def schedule_command(slug: str, days: str, weekly: bool) -> None:
    """Set a cycle's reminder schedule."""
    cycle = cycle_by_slug(slug)
    if cycle is None:
        click.echo(f'There is no cycle called "{slug}".', err=True)
        sys.exit(1)
    try:
        numbers = [int(part) for part in days.replace(" ", "").split(",") if part]
    except ValueError:
        click.echo("--days must be whole numbers separated by commas, like 14,7,2", err=True)
        sys.exit(1)
    schedule = services.set_schedule(cycle, numbers, weekly)
    click.echo(
        f"{cycle.slug}: reminders {', '.join(map(str, schedule.days_before_due)) or 'never'} days before due"
        + ("; weekly while overdue" if schedule.weekly_when_overdue else "")
    )
