"""Running the real worker against the test database and a queue of this test's own on the real Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from surveyapp.chasing.services import DEFAULT_WORDING
from tests.chasing.helpers import Mailbox
from tests.conftest import database_url

REDIS_URL = "redis://127.0.0.1:6379/0"
SURVEYAPP = str(Path(sys.executable).parent / "surveyapp")


def unique_queue() -> str:
    """Two test runs (SQLite and PostgreSQL) share one Redis: each test has a queue nobody else works."""
    return f"surveyapp-test-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def worker_env(app, tmp_path) -> dict[str, str]:
    """The settings of the test's app, as the environment a `surveyapp` process reads them from."""
    config = app.config
    env = {
        **os.environ,
        "SURVEYAPP_ENV": "testing",
        "SECRET_KEY": config["SECRET_KEY"],
        "DATABASE_URL": database_url(),
        "REDIS_URL": config["REDIS_URL"],
        "JOB_QUEUE": config["JOB_QUEUE"],
        "BASE_URL": config["BASE_URL"],
        "MAIL_OUTBOX": config["MAIL_OUTBOX"],
        "SURVEYAPP_INSTANCE": str(tmp_path / "worker-instance"),
        "REMINDER_BACKOFF_SECONDS": "0",
        "JOB_HEARTBEAT_SECONDS": str(config["JOB_HEARTBEAT_SECONDS"]),
        "JOB_LOST_AFTER_SECONDS": str(config["JOB_LOST_AFTER_SECONDS"]),
    }
    if config.get("SMTP_HOST"):
        env.update(
            SMTP_HOST=config["SMTP_HOST"], SMTP_PORT=str(config["SMTP_PORT"]), SMTP_SECURITY="none", SMTP_TIMEOUT="5"
        )
    return env


def run_burst_worker(app, tmp_path, timeout: float = 180) -> subprocess.CompletedProcess:
    """`surveyapp worker --burst`: works the test's queue until it is empty, then stops."""
    done = subprocess.run(
        [SURVEYAPP, "worker", "--burst"], env=worker_env(app, tmp_path), capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def start_worker(app, tmp_path) -> subprocess.Popen:
    """`surveyapp worker` in a process group of its own (the worker and the work horse it forks for each job)."""
    return subprocess.Popen(
        [SURVEYAPP, "worker"],
        env=worker_env(app, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and every process it started: RQ's work horse runs in a session of its own, so
    killing the worker alone would leave the horse sending. This is a lost machine: nothing gets to clean up."""
    family = {worker.pid}
    grew = True
    while grew:
        grew = False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                pid, ppid = int(stat.parent.name), int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid in family and pid not in family:
                family.add(pid)
                grew = True
    for pid in family:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    worker.wait(timeout=30)


def wait_for(condition, timeout: float = 60, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(every)


def forget_queue(name: str) -> None:
    """Remove the test's queue, its registries and its jobs from Redis."""
    from redis import Redis

    redis = Redis.from_url(REDIS_URL)
    keys = list(redis.scan_iter(f"*{name}*"))
    job_ids = set()
    for key in keys:
        kind = redis.type(key)
        if kind == b"list":
            job_ids |= {j.decode() for j in redis.lrange(key, 0, -1)}
        elif kind == b"zset":
            job_ids |= {j.decode().split(":")[0] for j in redis.zrange(key, 0, -1)}
    for job_id in job_ids:
        redis.delete(f"rq:job:{job_id}", f"rq:results:{job_id}")
    if keys:
        redis.delete(*keys)
    redis.srem("rq:queues", f"rq:queue:{name}")
    redis.close()


def default_wording() -> dict[str, str]:
    return {
        field: text
        for kind, (subject, body) in DEFAULT_WORDING.items()
        for field, text in ((f"subject_{kind.value}", subject), (f"body_{kind.value}", body))
    }


class SlowMailbox(Mailbox):
    """A mail server that takes its time over each message, so a worker can be stopped in the middle of a send."""

    delay = 0.4

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def queue_name():
    """A queue of the test's own on the real Redis, forgotten afterwards."""
    name = unique_queue()
    yield name
    forget_queue(name)
