"""Deadline-day load: DSLs of one LA sign in, open and save every section, and submit, against gunicorn.

    python -m benchmarks.load [--dsls 400] [--window 15] [--think 2] [--workers 4] [--databases postgresql,sqlite]
    python -m benchmarks.load --window 0 --concurrency 16      # stress: closed loop, as fast as it goes

For each database a fresh one is made with the real migrations (PostgreSQL: database
``load_bench`` on TEST_DATABASE_URL's server, default 127.0.0.1:5432), seeded with one LA of
--dsls schools each with its own DSL and an open cycle of the built-in s175 template
(the built-in schools template), then served by gunicorn on loopback. Each DSL signs in, opens the
task list, opens and saves every section with valid answers, checks answers, declares and submits.

Deadline day (the default): the DSLs arrive evenly over --window minutes (400 in 15 minutes is one
every 2.25 s) and each pauses --think seconds (on average) between pages, as a person does, so
many journeys overlap and the figures are the response times a DSL would see at that pace.
With --window 0 the run is a stress test instead: --concurrency browsers work through the DSLs
back to back with no pauses, so the times include queueing behind each other on 2 cores.
Prints requests/s, p50/p95/p99 per page, errors, and whether the database holds exactly the
acknowledged saves (every acknowledged section's answers present, every acknowledged
submission recorded once, nothing else).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from surveyapp.audits.models import Answer, Assignment, Response, ResponseStatus, StatusEvent  # noqa: E402
from tests.factories import Factory  # noqa: E402
from tests.faults.live import Browser, Gunicorn, query, seed, upgrade  # noqa: E402

TEMPLATE = Path(__file__).resolve().parents[1] / "surveyapp" / "audit_templates" / "s175-schools.json"


def valid_answer(question: dict, marker: int) -> dict[str, str]:
    """A valid, non-gap answer for each question type; text answers carry the journey's marker."""
    key, kind = question["key"], question["type"]
    if kind == "date":
        return {f"{key}-day": "1", f"{key}-month": "9", f"{key}-year": "2026"}
    value = {
        "yes_no": "yes",
        "yes_no_partly": "yes",
        "yes_no_unsure": "yes",
        "number": str(marker),
        "percentage": "100",
        "text": f"load {marker}",
    }.get(kind)
    if kind == "choice":
        value = question["options"][0]["value"]
    return {key: value}


def build(count: int):
    def _build(make: Factory):
        schools = [make.establishment(name=f"Load school {n}") for n in range(count)]
        users = [(make.dsl(school, email=f"dsl{n}@load.example").email, school.id) for n, school in enumerate(schools)]
        make.cycle(template=make.template(json.loads(TEMPLATE.read_text())), opens_on=date(2026, 9, 1))
        return users

    return _build


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.saved: dict[tuple[int, str], int] = {}
        self.submitted: set[int] = set()

    def add(self, page: str, reply, ok: bool) -> None:
        with self.lock:
            self.times[page].append(reply.seconds)
            if not ok:
                self.errors.append(f"{page}: {reply.status} {reply.body[:120]!r}")


class PausingBrowser(Browser):
    """A browser that waits a person's reading time (uniform around ``think`` seconds) before each page."""

    def __init__(self, base: str, think: float, rng: random.Random):
        super().__init__(base, timeout=60)
        self.think, self.rng = think, rng

    def request(self, path: str, data: dict | list | None = None):
        if self.think:
            time.sleep(self.rng.uniform(0.5 * self.think, 1.5 * self.think))
        return super().request(path, data)


def journey(base: str, email: str, response_id: int, sections: list[dict], stats: Stats, think: float = 0) -> None:
    browser = PausingBrowser(base, think, random.Random(response_id))
    page = browser.request("/sign-in")
    stats.add("GET sign-in", page, page.status == 200)
    reply = browser.request("/sign-in", {"csrf_token": page.csrf(), "email": email, "password": Factory.PASSWORD})
    stats.add("POST sign-in", reply, reply.status == 302)
    if reply.status != 302:
        return
    tasks = browser.request(f"/audits/{response_id}/")
    stats.add("GET task list", tasks, tasks.status == 200)
    for section in sections:
        url = f"/audits/{response_id}/sections/{section['key']}"
        page = browser.request(url)
        stats.add("GET section", page, page.status == 200)
        form = {"csrf_token": page.csrf(), "version": page.version()}
        for question in section["questions"]:
            form.update(valid_answer(question, response_id))
        reply = browser.request(url, form)
        ok = reply.status == 302
        stats.add("POST section", reply, ok)
        if ok:
            with stats.lock:
                stats.saved[(response_id, section["key"])] = response_id
    check = browser.request(f"/audits/{response_id}/check")
    stats.add("GET check answers", check, check.status == 200)
    page = browser.request(f"/audits/{response_id}/declaration")
    stats.add("GET declaration", page, page.status == 200)
    reply = browser.request(
        f"/audits/{response_id}/declaration",
        {
            "csrf_token": page.csrf(),
            "headteacher_name": "Ann Head",
            "chair_name": "Cal Chair",
            "declaration_date": ["1", "10", "2026"],
            "confirm": "y",
        },
    )
    ok = reply.status == 302 and reply.location.endswith("/confirmation")
    stats.add("POST declaration (submit)", reply, ok)
    if ok:
        with stats.lock:
            stats.submitted.add(response_id)


def database_for(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'load.sqlite3'}"
    server = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "load_bench" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "load_bench"'))
    admin.dispose()
    return server.rsplit("/", 1)[0] + "/load_bench"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] * 1000


def run(kind: str, dsls: int, concurrency: int, workers: int, window: float = 0, think: float = 0) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"surveyapp-load-{kind}-"))
    url = database_for(kind, folder)
    upgrade(url, folder)
    users = seed(url, build(dsls))
    response_of = {
        row.establishment_id: row.id
        for row in query(
            url,
            lambda: select(Assignment.establishment_id, Response.id).join(
                Response, Response.assignment_id == Assignment.id
            ),
        )
    }
    sections = json.loads(TEMPLATE.read_text())["sections"]
    server = Gunicorn(url, folder, workers=workers)
    stats = Stats()
    queue = iter(users)
    queue_lock = threading.Lock()

    def worker():
        while True:
            with queue_lock:
                item = next(queue, None)
            if item is None:
                return
            email, school_id = item
            try:
                journey(server.base, email, response_of[school_id], sections, stats)
            except Exception as exc:  # noqa: BLE001 - counted as an error, the run goes on
                with stats.lock:
                    stats.errors.append(f"{email}: {exc!r}")

    def arrival(item, at: float):
        time.sleep(max(0.0, at - (time.perf_counter() - started)))
        email, school_id = item
        try:
            journey(server.base, email, response_of[school_id], sections, stats, think)
        except Exception as exc:  # noqa: BLE001 - counted as an error, the run goes on
            with stats.lock:
                stats.errors.append(f"{email}: {exc!r}")

    started = time.perf_counter()
    if window:
        # Open arrivals: the n-th DSL starts at n * window / dsls however slow the server is, so a slow
        # server shows as longer response times (and more overlapping journeys), as on the real day.
        gap = window * 60 / max(1, len(users))
        threads = [threading.Thread(target=arrival, args=(item, n * gap)) for n, item in enumerate(users)]
    else:
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    log = server.stop()

    # Does the database hold exactly what the clients were told was saved?
    stored = {
        (r.response_id, r.question_key) for r in query(url, lambda: select(Answer.response_id, Answer.question_key))
    }
    expected = {
        (response_id, q["key"])
        for (response_id, key) in stats.saved
        for s in sections
        if s["key"] == key
        for q in s["questions"]
    }
    submitted = {
        r.id for r in query(url, lambda: select(Response.id).where(Response.status == ResponseStatus.SUBMITTED))
    }
    events = query(
        url,
        lambda: (
            select(StatusEvent.response_id, func.count())
            .where(StatusEvent.to_status == ResponseStatus.SUBMITTED)
            .group_by(StatusEvent.response_id)
        ),
    )
    exact = stored == expected and submitted == stats.submitted and all(n == 1 for _r, n in events)
    requests = sum(len(v) for v in stats.times.values())
    return {
        "kind": kind,
        "elapsed": elapsed,
        "requests": requests,
        "times": stats.times,
        "errors": stats.errors,
        "saves": len(stats.saved),
        "submitted": len(stats.submitted),
        "exact": exact,
        "locked": log.count("database is locked"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsls", type=int, default=400)
    parser.add_argument("--window", type=float, default=15, help="minutes over which the DSLs arrive (0: stress run)")
    parser.add_argument("--think", type=float, default=2, help="average seconds a DSL pauses before each page")
    parser.add_argument("--concurrency", type=int, default=16, help="browsers at once in a stress run (--window 0)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn sync workers")
    parser.add_argument("--databases", default="postgresql,sqlite")
    args = parser.parse_args(argv)
    if args.window:
        print(
            f"{args.dsls} DSLs arriving over {args.window:g} min, ~{args.think:g} s pause before each page, "
            f"gunicorn -w {args.workers}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
        )
    else:
        print(
            f"stress: {args.dsls} DSLs, {args.concurrency} browsers back to back, gunicorn -w {args.workers}, "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
        )
    think = args.think if args.window else 0
    results = [
        run(kind, args.dsls, args.concurrency, args.workers, args.window, think) for kind in args.databases.split(",")
    ]
    pages = list(dict.fromkeys(itertools.chain.from_iterable(r["times"] for r in results)))
    print(f"\n{'page':<28}" + "".join(f"{r['kind'] + ' p50/p95/p99 ms':>32}" for r in results))
    for page in pages:
        cells = []
        for r in results:
            values = r["times"].get(page, [])
            cells.append(
                f"{percentile(values, 0.5):8.0f}{percentile(values, 0.95):8.0f}{percentile(values, 0.99):8.0f}"
                f"  (n={len(values)})"
                if values
                else "-"
            )
        print(f"{page:<28}" + "".join(f"{c:>32}" for c in cells))
    print()
    for r in results:
        journeys_per_15 = r["submitted"] / r["elapsed"] * 900
        print(
            f"{r['kind']:<11} {r['requests']} requests in {r['elapsed']:.1f} s "
            f"= {r['requests'] / r['elapsed']:.1f} req/s; "
            f"errors {len(r['errors'])}; saves acknowledged {r['saves']}, submitted {r['submitted']} of {args.dsls}; "
            f"database holds exactly the acknowledged saves: {'yes' if r['exact'] else 'NO'}; "
            f"'database is locked' in log: {r['locked']}; "
            + (
                f"all {r['submitted']} submitted within {r['elapsed'] / 60:.1f} min"
                if args.window
                else f"pace {journeys_per_15:.0f} journeys per 15 min (target 400: {journeys_per_15 / 400:.1f}x)"
            )
        )
        for error in r["errors"][:5]:
            print("   ", error)
    if len(results) == 2:
        a, b = results
        post = "POST section"
        if a["times"].get(post) and b["times"].get(post):
            print(
                f"\nsection save p95, {b['kind']} / {a['kind']}: "
                f"{percentile(b['times'][post], 0.95) / percentile(a['times'][post], 0.95):.2f}x"
            )
    return 0 if all(not r["errors"] and r["exact"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
