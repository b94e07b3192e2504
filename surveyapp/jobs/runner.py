"""Running jobs: hand a job to the RQ queue, or run it in the request when no queue is set up; the one
code path both take (``run``), which owns the job's transactions as a request or a command does.

The job's row is committed before it is queued, so a worker always finds it; progress is committed as it
goes, so the job's page can show it and a run that is lost leaves its work so far behind for the next run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from flask import Flask, current_app

from surveyapp.extensions import db
from surveyapp.jobs import services
from surveyapp.jobs.models import Job, JobState
from surveyapp.transaction import commit_now

#: the app a worker process made once; each job gets its own app context from it
_worker_app: Flask | None = None
_worker_pid: int | None = None


def lost_after() -> timedelta:
    """How long a beating run may go without a beat before it counts as lost: the app's JOB_LOST_AFTER_SECONDS."""
    return timedelta(seconds=current_app.config["JOB_LOST_AFTER_SECONDS"])


def queue_configured(config) -> bool:
    return bool(config.get("REDIS_URL"))


def rq_queue(config, name: str | None = None):
    """The app's RQ queue on its Redis (REDIS_URL, JOB_QUEUE)."""
    from redis import Redis
    from rq import Queue

    return Queue(
        name or config["JOB_QUEUE"],
        connection=Redis.from_url(config["REDIS_URL"]),
        default_timeout=config.get("JOB_TIMEOUT_SECONDS", 3600),
    )


def dispatch(job: Job) -> None:
    """Start a job: onto the queue when one is configured, otherwise now, in this request.

    The request's work so far (the job's row, the reminders it will send) is committed first: a worker
    must find them, and mail cannot be rolled back.
    """
    commit_now()
    config = current_app.config
    if not queue_configured(config):
        run(job.id)
        return
    from redis.exceptions import RedisError

    try:
        rq_queue(config).enqueue(
            perform,
            job.id,
            job_timeout=config.get("JOB_TIMEOUT_SECONDS", 3600),
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"surveyapp job {job.id} ({job.kind.value})",
        )
    except RedisError:
        current_app.logger.exception("job %s could not be queued", job.id)
        services.fail(
            job,
            "The job queue could not be reached, so nothing has been done yet. Start it again in a "
            "few minutes; if that fails too, tell whoever runs this service.",
        )
        db.session.commit()


def run(job_id: int) -> None:
    """Claim the job, do its work, record the outcome. Safe to call for a job another run already finished."""
    from surveyapp.jobs.work import WORK, WorkError

    job = services.claim(job_id)
    db.session.commit()
    if job is None:
        return
    this_run = job.runs
    try:
        with _heartbeat(job_id, this_run):
            outcome = WORK[job.kind](job, services.Progress(job, db.session.commit), db.session.commit)
    except Exception as exc:  # recorded on the job for its page; the worker itself carries on
        db.session.rollback()
        if not isinstance(exc, WorkError):
            current_app.logger.exception("job %s (%s) failed", job_id, job.kind.value)
        job = db.session.get(Job, job_id)
        if _still_ours(job, this_run):
            services.fail(
                job,
                str(exc)
                if isinstance(exc, WorkError)
                else "Something went wrong while doing this. The lead can start it again; what was already "
                "done is not done twice.",
                refused=isinstance(exc, WorkError),
            )
        db.session.commit()
        return
    try:
        if _still_ours(job, this_run):
            services.finish(
                job, outcome.summary, file_name=outcome.file_name, file_type=outcome.file_type, file=outcome.file
            )
        db.session.commit()
    finally:
        if outcome.file is not None:
            outcome.file.close()


@contextmanager
def _heartbeat(job_id: int, run: int) -> Iterator[None]:
    """Beat for the run every JOB_HEARTBEAT_SECONDS while it works (PostgreSQL), from a thread of its own:
    the beats stop when the process does, whatever the work was doing, and the job can be started again
    within a minute or two instead of ten (``services.is_stalled``)."""
    engine, every = db.engine, current_app.config["JOB_HEARTBEAT_SECONDS"]
    if engine.dialect.name == "sqlite" or every <= 0:
        yield
        return
    logger, stop = current_app.logger, threading.Event()

    def beat() -> None:
        while True:
            try:
                services.beat(engine, job_id, run)
            except Exception:  # a missed beat is not the work's failure; a job lost for good stops beating anyway
                logger.warning("job %s: its heartbeat could not be written", job_id, exc_info=True)
            if stop.wait(every):
                return

    thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _still_ours(job: Job, this_run: int) -> bool:
    """Whether the job is still this run's to finish: one started again meanwhile (a worker thought lost that
    was only slow) is left to its new run, whose outcome counts the work this run did."""
    db.session.refresh(job)
    return job.state is JobState.RUNNING and job.runs == this_run


def perform(job_id: int) -> None:
    """What the queue runs: one job in an app context of its own."""
    app = _worker_app
    if app is None:
        from surveyapp import create_app

        app = create_app()
    with app.app_context():
        if _worker_pid is not None and os.getpid() != _worker_pid:
            # A forked work horse must not share the parent's database connections.
            db.engine.dispose(close=False)
        try:
            run(job_id)
        finally:
            db.session.remove()


def work(app: Flask, *, burst: bool = False, queue_name: str | None = None) -> bool:
    """Run an RQ worker on the app's queue until stopped (or, with ``burst``, until the queue is empty)."""
    from rq import Worker

    global _worker_app, _worker_pid
    _worker_app, _worker_pid = app, os.getpid()
    queue = rq_queue(app.config, queue_name)
    worker = Worker([queue], connection=queue.connection)
    return worker.work(burst=burst, logging_level="INFO")
