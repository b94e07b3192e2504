"""SIGKILL a gunicorn worker 50 times while DSLs save and submit: no acknowledged save is lost, none is half-written.

A live gunicorn (two sync workers) serves a database made with the real migrations. Client
threads sign in like browsers (CSRF tokens read from the pages) and save sections over and
over, each save writing one distinct marker into every field of its section, then submit.
Meanwhile the test kills a random worker at random moments (seeded), and gunicorn starts a new
one. At the end every save the client was told succeeded (a redirect onward) must be in the
database, unless a later save of the same section reached the server; and every section's
fields must all carry the same marker, so no save was half applied.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from datetime import date
from functools import partial

from sqlalchemy import select

from surveyapp.audits.models import Answer, Assignment, Response, ResponseStatus, StatusEvent
from tests.conftest import fresh_database_url
from tests.factories import Factory
from tests.faults.live import Browser, Gunicorn, query, seed, upgrade

KILLS = 50
CLIENTS = 3
SCHOOLS_PER_CLIENT = 40
SAVES_PER_SECTION = 1

MARKER_TEMPLATE = {
    "key": "markers",
    "title": "Marker audit",
    "version": 1,
    "sections": [
        {
            "key": key,
            "title": f"Section {key}",
            "questions": [
                {"key": f"{key}_text", "text": f"What happened in {key}?", "type": "text"},
                {"key": f"{key}_number", "text": f"How many in {key}?", "type": "number"},
                {"key": f"{key}_more", "text": f"Anything more about {key}?", "type": "text"},
            ],
        }
        for key in ("first", "second", "third")
    ],
}
SECTIONS = [section["key"] for section in MARKER_TEMPLATE["sections"]]


def _build(make):
    clients = []
    for number in range(CLIENTS):
        schools = [make.establishment(name=f"Kill school {number}-{index}") for index in range(SCHOOLS_PER_CLIENT)]
        clients.append((make.dsl(*schools).email, [school.id for school in schools]))
    make.cycle(template=make.template(MARKER_TEMPLATE), opens_on=date(2026, 9, 1))
    return clients


class Ledger:
    """What each client sent and what it was told, per (response, section)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acknowledged: dict[tuple[int, str], int] = {}
        self.attempted: dict[tuple[int, str], list[int]] = {}
        self.submitted: set[int] = set()
        self.errors: list[str] = []
        self.interrupted = 0


def _client(base: str, email: str, response_ids: list[int], ledger: Ledger, markers, enough: threading.Event) -> None:
    browser = Browser(base, timeout=30)

    def attempt(action):
        # A connection cut by the kill is retried; what was sent may or may not have landed.
        for _ in range(50):
            try:
                return action()
            except OSError:
                with ledger.lock:
                    ledger.interrupted += 1
        raise AssertionError("the server never answered")

    try:
        _work(browser, email, response_ids, ledger, markers, enough, attempt)
    except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
        ledger.errors.append(f"{email}: {exc!r}")


def _work(browser, email, response_ids, ledger, markers, enough, attempt) -> None:
    reply = attempt(lambda: browser.sign_in(email, Factory.PASSWORD))
    assert reply.status == 302, reply.body[:300]
    for done, response_id in enumerate(response_ids):
        if enough.is_set() and done >= 2:
            return  # the kills are over and this DSL has submitted: the rest of the schools stay not started
        for section in SECTIONS:
            saved = 0
            while saved < SAVES_PER_SECTION:
                url = f"/audits/{response_id}/sections/{section}"
                page = attempt(partial(browser.request, url))
                if page.status != 200:
                    ledger.errors.append(f"GET {url}: {page.status}")
                    return
                marker = next(markers)
                with ledger.lock:
                    ledger.attempted.setdefault((response_id, section), []).append(marker)
                form = {
                    "csrf_token": page.csrf(),
                    "version": page.version(),
                    f"{section}_text": f"save {marker}",
                    f"{section}_number": str(marker),
                    f"{section}_more": f"more {marker} ‘quoted’",
                }
                try:
                    reply = browser.request(url, form)
                except OSError:
                    with ledger.lock:
                        ledger.interrupted += 1
                    continue  # not acknowledged: it may or may not have been saved
                if reply.status == 302 and ("/sections/" in reply.location or reply.location.endswith("/check")):
                    with ledger.lock:
                        ledger.acknowledged[(response_id, section)] = marker
                    saved += 1
                elif reply.status == 409:
                    continue  # an earlier, unacknowledged save of ours landed: open the page again
                else:
                    ledger.errors.append(f"POST {url}: {reply.status} {reply.body[:200]}")
                    return
        while True:
            page = attempt(partial(browser.request, f"/audits/{response_id}/declaration"))
            if page.status == 302 and page.location.endswith("/confirmation"):
                break  # an earlier, unacknowledged submit landed
            form = {
                "csrf_token": page.csrf(),
                "headteacher_name": "Ann Head",
                "chair_name": "Cal Chair",
                "declaration_date": ["1", "10", "2026"],
                "confirm": "y",
            }
            try:
                reply = browser.request(f"/audits/{response_id}/declaration", form)
            except OSError:
                with ledger.lock:
                    ledger.interrupted += 1
                continue
            if reply.status == 302 and reply.location.endswith("/confirmation"):
                break
            ledger.errors.append(f"submit {response_id}: {reply.status} {reply.body[:200]}")
            return
        with ledger.lock:
            ledger.submitted.add(response_id)


def test_killing_workers_loses_no_acknowledged_save(app, tmp_path):
    database_url = fresh_database_url("faults_kill")
    upgrade(database_url, tmp_path)
    clients = seed(database_url, _build)
    responses = {
        row.establishment_id: row.id
        for row in query(
            database_url,
            lambda: select(Assignment.establishment_id, Response.id).join(
                Response, Response.assignment_id == Assignment.id
            ),
        )
    }
    server = Gunicorn(database_url, tmp_path, workers=2)
    ledger = Ledger()
    stop = threading.Event()
    counter = iter(range(1, 10**9))
    marker_lock = threading.Lock()

    def markers():
        while True:
            with marker_lock:
                value = next(counter)
            yield value

    threads = [
        threading.Thread(
            target=_client, args=(server.base, email, [responses[e] for e in schools], ledger, markers(), stop)
        )
        for email, schools in clients
    ]
    try:
        for thread in threads:
            thread.start()
        chooser = random.Random(20261123)
        kills = 0
        while kills < KILLS and any(thread.is_alive() for thread in threads):
            stop.wait(chooser.uniform(0.02, 0.4))  # a random moment in the clients' work
            workers = server.workers()
            if len(workers) < 2:
                server.wait_ready()
                continue
            try:
                os.kill(chooser.choice(workers), signal.SIGKILL)
            except ProcessLookupError:
                continue  # that worker was already on its way out; pick again
            kills += 1
        stop.set()
        for thread in threads:
            thread.join(timeout=300)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        log = server.stop()
    assert kills == KILLS, f"only {kills} kills before the clients finished"
    assert not ledger.errors, ledger.errors
    assert "database is locked" not in log

    stored: dict[tuple[int, str], set[str]] = {}
    for response_id, key, value in query(
        database_url, lambda: select(Answer.response_id, Answer.question_key, Answer.value)
    ):
        section, _part = key.split("_", 1)
        marker = value.split(" ")[1] if " " in value else value
        stored.setdefault((response_id, section), set()).add(marker)
    for (response_id, section), marker in ledger.acknowledged.items():
        markers_now = stored[(response_id, section)]
        assert len(markers_now) == 1, f"section {section} of response {response_id} is half-written: {markers_now}"
        now = int(next(iter(markers_now)))
        later = [m for m in ledger.attempted[(response_id, section)] if m >= marker]
        assert now in later, f"acknowledged save {marker} of {section} lost (database has {now})"
    for (response_id, section), values in stored.items():
        assert len(values) == 1, f"section {section} of response {response_id} is half-written: {values}"

    submitted = {
        row.id
        for row in query(
            database_url,
            lambda: select(Response.id).where(
                Response.status == ResponseStatus.SUBMITTED, Response.reference.is_not(None)
            ),
        )
    }
    assert ledger.submitted and ledger.submitted == submitted
    events = query(
        database_url, lambda: select(StatusEvent.response_id).where(StatusEvent.to_status == ResponseStatus.SUBMITTED)
    )
    assert sorted(row.response_id for row in events) == sorted(submitted)  # one submission each
