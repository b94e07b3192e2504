"""Jobs: start one, claim it for a run, report its progress, finish it; who may see it. Flush, never commit.

The work itself (surveyapp.jobs.work) reports progress through ``Progress``; the runner
(surveyapp.jobs.runner) decides when that is written for the job's page to read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from surveyapp import stored_files
from surveyapp.extensions import db, rows_changed
from surveyapp.jobs.models import Job, JobHeartbeat, JobKind, JobState
from surveyapp.timeutil import as_utc, utcnow

#: a running job silent for this long has lost its worker: it may be started again
STALLED_AFTER = timedelta(minutes=10)
#: a running job whose run beats (PostgreSQL) is lost once its beats stop for this long (the default of
#: JOB_LOST_AFTER_SECONDS; the views and commands pass the app's setting)
LOST_AFTER = timedelta(seconds=90)
#: files made by jobs (exports full of personal data) are kept this long, then forgotten
KEEP_FILES_FOR = timedelta(days=7)


class JobError(ValueError):
    """The job cannot make that move (start a finished job again, run one another worker holds)."""


def start_job(
    kind: JobKind,
    actor,
    *,
    cycle=None,
    params: dict | None = None,
    key: str | None = None,
    message: str = "Waiting to start",
) -> Job:
    """Add a queued job, or return the one already started under ``key`` (a replayed form starts nothing new).

    :param params: what the work needs to run, kept so a lost run can be started again
    :param key: identifies the work (a reminder batch): one job per key
    """
    if key is not None:
        existing = db.session.scalar(select(Job).where(Job.key == key))
        if existing is not None:
            return existing
    forget_old_files()
    job = Job(
        kind=kind,
        started_by_id=getattr(actor, "id", None),
        cycle_id=getattr(cycle, "id", None),
        params=params or {},
        key=key,
        state=JobState.QUEUED,
        message=message,
        created_at=utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    return job


def forget_old_files(now=None) -> None:
    """Drop the files of jobs finished more than KEEP_FILES_FOR ago (their summaries stay)."""
    cutoff = (now or utcnow()) - KEEP_FILES_FOR
    old = select(Job.file_id).where(Job.finished_at < cutoff, Job.file_id.is_not(None))
    stored_files.forget(old)
    db.session.execute(
        update(Job)
        .where(Job.finished_at < cutoff, Job.file_name != "")
        .values(file_name="", file_type="", file_id=None)
        .execution_options(synchronize_session=False)
    )


def job_for_key(key: str) -> Job | None:
    return db.session.scalar(select(Job).where(Job.key == key))


def claim(job_id: int) -> Job | None:
    """Mark a queued job as running for this run; None when there is nothing to run (finished, or running elsewhere).

    One conditional UPDATE, so two workers handed the same job cannot both run it.
    """
    now = utcnow()
    claimed = rows_changed(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(state=JobState.RUNNING, runs=Job.runs + 1, started_at=now, updated_at=now, error="")
        .execution_options(synchronize_session=False)
    )
    if not claimed:
        return None
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    return job


def report(job: Job, done: int, total: int, message: str) -> None:
    """Record how far the job has got: "Sending 1,240 of 3,100"."""
    job.done, job.total, job.message = done, total, message[:255]
    job.updated_at = utcnow()
    db.session.flush()


def finish(job: Job, summary: str, *, file_name: str = "", file_type: str = "", file: IO[bytes] | None = None) -> None:
    """Mark the job done with what it did, and keep the file it made, if any (read from ``file``'s start)."""
    job.state = JobState.DONE
    job.summary = summary
    job.message = "Finished"
    earlier = job.file_id  # an earlier run's file: this run's replaces it
    job.file_name, job.file_type = (file_name, file_type) if file is not None else ("", "")
    job.file_id = stored_files.store(file) if file is not None else None
    db.session.flush()
    if earlier is not None:
        stored_files.forget([earlier])
    job.finished_at = job.updated_at = utcnow()
    db.session.flush()


def fail(job: Job, error: str, *, refused: bool = False) -> None:
    """Mark the job as failed; ``error`` is shown to whoever may see the job, so it says what to do, not a trace.

    :param refused: the work itself declined (a WorkError: the cycle is gone, the register changed since the
        confirmation); the same job would only decline again, so it is not offered to run again
    """
    job.state = JobState.FAILED
    job.refused = refused
    job.error = error[:2000]
    job.message = "Could not finish"
    job.finished_at = job.updated_at = utcnow()
    db.session.flush()


def is_stalled(job: Job, now=None, *, lost_after: timedelta = LOST_AFTER) -> bool:
    """A running job whose worker has most likely been lost, or a queued one no worker has taken for
    STALLED_AFTER (the queue lost it, or no worker runs).

    A run that beats (``JobHeartbeat``, PostgreSQL) is lost once its beats stop for JOB_LOST_AFTER_SECONDS,
    however long it has been since its last progress; one that does not is lost after STALLED_AFTER
    with no progress."""
    if job.state not in (JobState.RUNNING, JobState.QUEUED):
        return False
    last = last_heard(job)
    limit = lost_after if _beat(job) is not None else STALLED_AFTER
    return last is not None and (now or utcnow()) - last > limit


def state_label(job: Job, now=None, *, lost_after: timedelta = LOST_AFTER) -> str:
    """The job's state in words, for its page and the list: a running job found lost has "Stopped"."""
    stopped = job.state is JobState.RUNNING and is_stalled(job, now, lost_after=lost_after)
    return "Stopped" if stopped else job.state.label


def last_heard(job: Job):
    """When the job last gave a sign of life: its run's last beat, else its last progress (or its start)."""
    if (beat := _beat(job)) is not None:
        return as_utc(beat.beat_at)
    return as_utc(job.updated_at or job.started_at or job.created_at)


def _beat(job: Job) -> JobHeartbeat | None:
    """The running job's heartbeat, if its current run beats (an earlier run's says nothing of this one)."""
    beat = job.heartbeat
    return beat if job.state is JobState.RUNNING and beat is not None and beat.run == job.runs else None


def beat(engine, job_id: int, run: int) -> None:
    """Record that ``run`` of the job is alive, on a connection of its own, committed at once (PostgreSQL).

    A later run's beat is never replaced by an earlier run's (one thought lost that was only slow)."""
    statement = pg_insert(JobHeartbeat).values(job_id=job_id, run=run, beat_at=utcnow())
    statement = statement.on_conflict_do_update(
        index_elements=[JobHeartbeat.job_id],
        set_={"run": statement.excluded.run, "beat_at": statement.excluded.beat_at},
        where=JobHeartbeat.run <= statement.excluded.run,
    )
    with engine.begin() as connection:
        # A beat that cannot be written at once is skipped: the next one comes in a few seconds.
        connection.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
        connection.execute(statement)


def can_run_again(job: Job, now=None, *, lost_after: timedelta = LOST_AFTER) -> bool:
    return (job.state is JobState.FAILED and not job.refused) or is_stalled(job, now, lost_after=lost_after)


def requeue(job: Job, now=None, *, force: bool = False, lost_after: timedelta = LOST_AFTER) -> Job:
    """Put a failed or stalled job back in the queue to run again (the work is safe to repeat: reminders
    already sent are not sent again).

    :param force: also a running job that has not stalled yet (the operator knows its worker is gone)
    :raises JobError: the job is finished, or still running and not stalled
    """
    if job.state is JobState.DONE:
        raise JobError("This job has finished: there is nothing to run again.")
    if job.state is JobState.FAILED and job.refused:
        raise JobError("This job was refused for a reason that running it again would not change.")
    if job.state is JobState.RUNNING and not (force or is_stalled(job, now, lost_after=lost_after)):
        raise JobError("This job is still running.")
    job.state = JobState.QUEUED
    job.message = "Waiting to start again"
    job.error = ""
    job.refused = False
    job.finished_at = None
    job.updated_at = utcnow()
    db.session.flush()
    return job


def recent_jobs(limit: int = 100) -> list[Job]:
    """The newest jobs first, with who started them (one query: the list shows every name)."""
    from sqlalchemy.orm import joinedload

    return list(
        db.session.scalars(
            select(Job)
            .options(joinedload(Job.started_by), joinedload(Job.cycle), joinedload(Job.heartbeat))
            .order_by(Job.created_at.desc(), Job.id.desc())
            .limit(limit)
        )
    )


def report_aside(job_id: int, done: int, total: int, message: str) -> bool:
    """Record how far a job has got on a database connection of its own, committed at once, leaving the
    work's transaction open: the progress of work that must land in one transaction (an import). Says
    whether it was written.

    Not on SQLite: it lets one transaction write at a time, and the work's own holds that turn until it
    commits, so there the page shows what the job said before it began writing.
    """
    engine = db.engine
    if engine.dialect.name == "sqlite":
        return False
    with engine.begin() as connection:
        connection.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(done=done, total=total, message=message[:255], updated_at=utcnow())
        )
    return True


@dataclass
class Progress:
    """What the work calls as it goes: ``progress(done, total, message)``; the runner decides when it is written.

    ``progress.aside(done, total, message)`` is for work in the middle of a transaction it must not commit
    (see ``report_aside``).
    """

    job: Job
    write: Callable[[], None]  # makes the report visible (the runner commits)

    def __call__(self, done: int, total: int, message: str) -> None:
        report(self.job, done, total, message)
        self.write()

    def aside(self, done: int, total: int, message: str) -> None:
        report_aside(self.job.id, done, total, message)
