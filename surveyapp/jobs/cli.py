"""`surveyapp worker` runs the jobs queue; `surveyapp jobs ...` lists jobs and starts a lost one again."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from surveyapp.extensions import db
from surveyapp.transaction import commits


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (tests, catching up).")
@click.option("--queue", "queue_name", default=None, help="The queue to work (default: the JOB_QUEUE setting).")
@with_appcontext
def worker_command(burst: bool, queue_name: str | None) -> None:
    """Run the jobs (reminder sends, imports, workbooks, reports, log downloads) queued on Redis (REDIS_URL)."""
    from surveyapp.jobs import runner

    if not runner.queue_configured(current_app.config):
        click.echo(
            "REDIS_URL is not set: without a queue every job runs in the request that starts it, "
            "and no worker is needed.",
            err=True,
        )
        sys.exit(1)
    runner.work(current_app._get_current_object(), burst=burst, queue_name=queue_name)


jobs = AppGroup("jobs", help="Long work done in the background: reminder sends, imports and big downloads.")


@jobs.command("list")
@click.option("--limit", default=20, show_default=True)
def list_command(limit: int) -> None:
    """List the newest jobs with their state and progress."""
    from surveyapp.jobs.services import recent_jobs

    for job in recent_jobs(limit):
        who = job.started_by.email if job.started_by else "-"
        click.echo(f"{job.id}\t{job.kind.value}\t{job.state.value}\t{job.done}/{job.total}\t{who}\t{job.message}")


@jobs.command("requeue")
@click.argument("job_id", type=int)
@click.option("--force", is_flag=True, help="Also a job still marked running (its worker is known to be gone).")
@commits
def requeue_command(job_id: int, force: bool) -> None:
    """Start a failed or stalled job again (reminders already sent are not sent again)."""
    from surveyapp.jobs import runner, services
    from surveyapp.jobs.models import Job

    job = db.session.get(Job, job_id)
    if job is None:
        click.echo(f"There is no job {job_id}.", err=True)
        sys.exit(1)
    try:
        services.requeue(job, force=force, lost_after=runner.lost_after())
    except services.JobError as exc:
        db.session.rollback()
        click.echo(str(exc), err=True)
        sys.exit(1)
    runner.dispatch(job)
    click.echo(
        f"Job {job_id} is queued again."
        if runner.queue_configured(current_app.config)
        else f"Job {job_id} has run again: {job.state.value}."
    )
