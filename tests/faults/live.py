"""A real gunicorn serving the app on a prepared database, and a browser-like HTTP client for it.

Used by the worker-kill test and by benchmarks/load.py. The client keeps cookies, reads the
CSRF token from each form like a browser, and never follows redirects (the redirect is the
acknowledgement of a save).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
_VERSION = re.compile(r'name="version" value="(\d+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, instance: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SURVEYAPP_ENV": "testing",
        "SECRET_KEY": "live-test-secret-key-long-enough-for-anything",
        "DATABASE_URL": database_url,
        "SURVEYAPP_INSTANCE": str(instance),
        "MAIL_OUTBOX": str(instance / "outbox"),
        "SIGN_IN_LIMIT": "100000 per minute",
        "BASE_URL": "http://127.0.0.1",
    }


def upgrade(database_url: str, instance: Path) -> None:
    """Bring the database to the latest schema with the real migrations, as an administrator would."""
    subprocess.run(
        [str(BIN / "surveyapp"), "db", "upgrade"],
        cwd=ROOT,
        env=server_env(database_url, instance),
        check=True,
        capture_output=True,
        timeout=300,
    )


class Gunicorn:
    """gunicorn with N sync workers; ``workers()`` lists their process ids (children of the master)."""

    def __init__(self, database_url: str, instance: Path, workers: int = 2, threads: int = 1):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--no-control-socket",
                "-w",
                str(workers),
                "--threads",
                str(threads),
                "-b",
                f"127.0.0.1:{self.port}",
                "--preload",
                "--graceful-timeout",
                "2",
                "--log-level",
                "warning",
                "surveyapp:create_app()",
            ],
            cwd=ROOT,
            env=server_env(database_url, instance),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.wanted = workers
        self.wait_ready()

    def workers(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == self.process.pid and fields[0] != "Z":
                pids.append(int(entry.name))
        return sorted(pids)

    def wait_ready(self, timeout: float = 60) -> None:
        """Until every worker is up and the app answers (gunicorn gives no other signal of readiness)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self.process.stderr.read().decode(errors="replace")[-2000:])
            if len(self.workers()) >= self.wanted:
                try:
                    with urllib.request.urlopen(self.base + "/sign-in", timeout=5) as reply:
                        if reply.status == 200:
                            return
                except (OSError, urllib.error.URLError):
                    pass
            time.sleep(0.05)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.process.stderr.read().decode(errors="replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


class Reply:
    def __init__(self, status: int, location: str, body: str, seconds: float):
        self.status, self.location, self.body, self.seconds = status, location, body, seconds

    def csrf(self) -> str:
        match = _CSRF.search(self.body)
        assert match, self.body[:500]
        return match.group(1) or match.group(2)

    def version(self) -> int:
        return int(_VERSION.search(self.body).group(1))


class Browser:
    """One person's browser: cookies, CSRF tokens from the pages, no redirects followed."""

    def __init__(self, base: str, timeout: float = 30):
        self.base = base
        self.timeout = timeout
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def request(self, path: str, data: dict | list | None = None) -> Reply:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        started = time.perf_counter()
        try:
            try:
                with self.opener.open(
                    urllib.request.Request(self.base + path, data=body), timeout=self.timeout
                ) as reply:
                    status, location, text = reply.status, reply.headers.get("Location", ""), reply.read().decode()
            except urllib.error.HTTPError as exc:
                status, location, text = exc.code, exc.headers.get("Location", ""), exc.read().decode(errors="replace")
        except http.client.HTTPException as exc:
            # A worker killed mid-reply cuts the answer short (IncompleteRead): like a dropped
            # connection, the request was not acknowledged, whatever the server got done.
            raise ConnectionError(f"reply cut off: {exc!r}") from exc
        return Reply(status, location, text, time.perf_counter() - started)

    def sign_in(self, email: str, password: str) -> Reply:
        token = self.request("/sign-in").csrf()
        return self.request("/sign-in", {"csrf_token": token, "email": email, "password": password})


def seed(database_url: str, build) -> object:
    """Run ``build(make)`` against the prepared database (not the test one) and commit."""
    from surveyapp.extensions import db
    from tests.conftest import make_app
    from tests.factories import Factory

    other = make_app(SQLALCHEMY_DATABASE_URI=database_url)
    with other.app_context():
        result = build(Factory())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return result


def query(database_url: str, statement_of):
    """Run ``statement_of()`` on the prepared database and return all rows."""
    from surveyapp.extensions import db
    from tests.conftest import make_app

    other = make_app(SQLALCHEMY_DATABASE_URI=database_url)
    with other.app_context():
        rows = db.session.execute(statement_of()).all()
        db.session.remove()
        db.engine.dispose()
    return rows


__all__ = ["Browser", "Gunicorn", "free_port", "query", "seed", "select", "upgrade"]
