"""Time the lead's tracker at national scale on PostgreSQL, and count its SQL queries per page.

    python -m benchmarks.tracker [postgresql+psycopg://postgres@127.0.0.1:5432/bench_tracker] [--measure-only]

Builds the national cycle with benchmarks/national.py (24,000 establishments in 2,500 trusts, the s175
template's ~60 questions, three-quarters in progress or submitted) in the given database, which is emptied
first, then adds what the tracker shows: submission and activity dates, completed sections, DSL contacts
(nine in ten establishments), last year's cycle (its returns accepted, every section completed), some
reminders and 25 actions for each return (about 225,000) — all with bulk inserts. The same is built at a
tenth of the size in a second database (name + "_small") so the query counts can be compared: they must not
grow with the number of establishments.

Each page is fetched through the Flask test client as the lead, once untimed and then five times: every
tracker page (each sort, each kind of filter, late pages, the breakdowns, the trust lead's tracker, the
trusts' responses, the chase histories), the chasing pages that read the tracker's figures and the lead's
action list (its first page, a late page and the overdue actions). The table
gives, at national scale, the median, the slowest, the median time spent in the database and the queries
per request, then the median and the queries at a tenth of the size, and how many times slower the
national page is. The load average is printed beside it: on a shared machine the times move with it, the
query counts do not. Every tracker page should answer in under TRACKER_TARGET_MS (median, national).

The tracker's figures over the whole cycle are kept between views until something they count changes
(surveyapp/chasing/figures_cache.py), so most pages are timed as a lead sees them after no change; the pages
labelled "after a change" have a response's status changed in another connection before each fetch, and
time the figures computed again, as on a deadline day when returns arrive every few seconds.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial

from sqlalchemy import create_engine, event, insert, select, text, update

from benchmarks.national import SLUG, build_national, settle

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_tracker"
PASSWORD = "benchmark-password-2026"
RUNS = 5
#: every tracker page should answer within this (median, national scale)
TRACKER_TARGET_MS = 300
#: pages labelled so are fetched each time just after a response's status changed in another connection
AFTER_A_CHANGE = "after a change: "


def ensure_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    engine = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def enrich(url: str, seed: int = 2) -> dict:
    """Add dates, section progress, contacts, last year's cycle and reminders to the national cycle."""
    from surveyapp import create_app
    from surveyapp.audits.models import (
        Assignment,
        Cycle,
        Response,
        ResponseStatus,
        SectionProgress,
        SectionState,
        TemplateSection,
    )
    from surveyapp.audits.services import open_cycle, recount_sections
    from surveyapp.auth.models import Role, User
    from surveyapp.auth.services import hash_password
    from surveyapp.chasing.models import Reminder, ReminderKind, ReminderStatus
    from surveyapp.establishments.models import ContactRole, Establishment, EstablishmentContact, Trust
    from surveyapp.extensions import db

    rng = random.Random(seed)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-" * 5, "ENV_NAME": "testing"})
    with app.app_context():
        cycle = db.session.scalar(select(Cycle).where(Cycle.slug == SLUG))
        sections = list(
            db.session.scalars(
                select(TemplateSection.key)
                .where(TemplateSection.template_id == cycle.template_id)
                .order_by(TemplateSection.position)
            )
        )
        rows = db.session.execute(
            select(Response.id, Response.status, Assignment.establishment_id)
            .join(Assignment)
            .where(Assignment.cycle_id == cycle.id)
        ).all()
        progress, stamps = [], []
        for response_id, status, _establishment_id in rows:
            if status is ResponseStatus.NOT_STARTED:
                continue
            done = len(sections) if status is ResponseStatus.SUBMITTED else rng.randint(0, len(sections) - 1)
            for key in sections[:done]:
                progress.append({"response_id": response_id, "section_key": key, "state": SectionState.COMPLETED})
            if done < len(sections) and status is ResponseStatus.IN_PROGRESS:
                progress.append(
                    {"response_id": response_id, "section_key": sections[done], "state": SectionState.IN_PROGRESS}
                )
            day = datetime(2026, 9, 1, 9, tzinfo=UTC) + timedelta(days=rng.randint(0, 80), minutes=rng.randint(0, 600))
            stamps.append(
                {
                    "id": response_id,
                    "updated_at": day,
                    "submitted_at": day if status is ResponseStatus.SUBMITTED else None,
                }
            )
        for start in range(0, len(progress), 20000):
            db.session.execute(insert(SectionProgress), progress[start : start + 20000])
        for start in range(0, len(stamps), 5000):
            db.session.execute(update(Response), stamps[start : start + 5000])

        establishments = list(db.session.scalars(select(Establishment.id).order_by(Establishment.id)))
        users = [
            {"email": f"dsl{n}@bench.example.org", "name": f"DSL {n}", "role": Role.DSL}
            for n in establishments
            if rng.random() < 0.9
        ]
        db.session.execute(insert(User), users)
        user_ids = dict(db.session.execute(select(User.email, User.id)).all())
        db.session.execute(
            insert(EstablishmentContact),
            [
                {
                    "establishment_id": int(u["email"][3:].split("@")[0]),
                    "user_id": user_ids[u["email"]],
                    "role": ContactRole.DSL,
                }
                for u in users
            ],
        )
        lead = User(email="lead@bench.example.org", name="Lead", role=Role.LEAD, password_hash=hash_password(PASSWORD))
        db.session.add(lead)
        db.session.flush()

        previous = open_cycle(
            slug="national-2025-26",
            name="National safeguarding audit 2025-26",
            template=cycle.template,
            due_on=date(2026, 3, 31),
            opens_on=date(2025, 9, 1),
        )
        db.session.flush()
        last_year = [
            {
                "id": rid,
                "status": ResponseStatus.ACCEPTED,
                "submitted_at": datetime(2025, 9, 15, tzinfo=UTC) + timedelta(days=rng.randint(0, 220)),
            }
            for rid in db.session.scalars(
                select(Response.id).join(Assignment).where(Assignment.cycle_id == previous.id)
            )
            if rng.random() < 0.93
        ]
        for start in range(0, len(last_year), 5000):
            db.session.execute(update(Response), last_year[start : start + 5000])
        # last year's accepted returns have every section completed: the tracker must count this year's only
        last_progress = [
            {"response_id": row["id"], "section_key": key, "state": SectionState.COMPLETED}
            for row in last_year
            for key in sections
        ]
        for start in range(0, len(last_progress), 20000):
            db.session.execute(insert(SectionProgress), last_progress[start : start + 20000])
        recount_sections(list(db.session.scalars(select(Response.id))))

        chased = rng.sample(establishments, len(establishments) // 4)
        db.session.execute(
            insert(Reminder),
            [
                {
                    "cycle_id": cycle.id,
                    "establishment_id": e,
                    "recipient_email": f"dsl{e}@bench.example.org",
                    "kind": ReminderKind.NOT_STARTED,
                    "subject": "Reminder",
                    "body": "Please start",
                    "created_at": datetime(2026, 11, 1, tzinfo=UTC),
                    "status": ReminderStatus.SENT if rng.random() < 0.97 else ReminderStatus.FAILED,
                    "attempts": 1,
                    "last_error": "",
                    "sent_at": datetime(2026, 11, 1, tzinfo=UTC),
                    "idempotency_key": f"bench:{e}",
                }
                for e in chased
            ],
        )
        # Last year's gaps made about 230,000 actions nationally: 25 for each of this year's returns, a tenth
        # done, target dates from October to January, so the lead's list pages through them.
        actions = db.session.execute(
            text(
                "INSERT INTO action_items (cycle_id, establishment_id, question_key, action, owner, target_date,"
                " status, notes, from_trust, version, created_at, updated_at)"
                " SELECT a.cycle_id, a.establishment_id, 'question_' || g, 'Close the gap on question ' || g, 'DSL',"
                " DATE '2026-10-01' + ((a.id * 7 + g) % 120),"
                " CASE WHEN (a.id + g) % 10 = 0 THEN 'done' ELSE 'not_started' END, '', false, 1, now(), now()"
                " FROM assignments a JOIN responses r ON r.assignment_id = a.id CROSS JOIN generate_series(1, 25) g"
                " WHERE a.cycle_id = :cycle AND a.establishment_id IS NOT NULL AND r.status = 'submitted'"
            ),
            {"cycle": cycle.id},
        ).rowcount
        trust_uid = db.session.scalar(
            select(Trust.uid)
            .join(Establishment, Establishment.trust_id == Trust.id)
            .group_by(Trust.uid)
            .order_by(text("count(*) desc"))
            .limit(1)
        )
        counts = {
            "establishments": len(establishments),
            "contacts": len(users),
            "reminders": len(chased),
            "actions": actions,
        }
        db.session.commit()
        settle(db.engine)
        db.engine.dispose()
    return {"trust_uid": trust_uid, **counts}


def pages(trust_uid: str, scale: int = 1) -> list[tuple[str, str, dict | None]]:
    """(label, path, form data for a POST or None for a GET) of every page timed.

    Every tracker page: the list in each of its sorts, with each kind of filter, and late pages (a high
    page number reads and sorts every row before it); the breakdowns, the trust lead's tracker, the trusts'
    own responses and the chase histories; then the chasing pages that read the tracker's figures, and the
    lead's action list (its first page, a late page and the overdue actions).

    :param scale: how many times smaller than national the data is: a late page is asked for the same
        fraction of the way through the list (page 200 of 480 nationally is page 20 of 48 at a tenth)
    """
    t = f"/cycles/{SLUG}/tracker"

    def page(number: int) -> int:
        return max(number // scale, 1)

    trust_tracker = f"/trusts/{trust_uid}/cycles/{SLUG}/tracker"
    return [
        ("tracker", t, None),
        ("tracker: in progress, secondary", t + "?status=in_progress&phase=Secondary", None),
        ("tracker: complete, one district", t + "?status=complete&district=District+7", None),
        ("tracker: one trust", t + f"?trust={trust_uid}", None),
        ("tracker: no DSL contact", t + "?no_contact=1", None),
        ("tracker: search", t + "?q=school+0123", None),
        ("tracker: sort by URN", t + "?sort=urn", None),
        ("tracker: sort by status", t + "?sort=status", None),
        ("tracker: sort by last activity", t + "?sort=activity&direction=desc", None),
        ("tracker: sort by sections completed", t + "?sort=sections&direction=desc", None),
        ("tracker: sort by reminders sent", t + "?sort=reminders&direction=desc", None),
        ("tracker: sort by trust", t + "?sort=trust", None),
        ("tracker: sort by phase", t + "?sort=phase", None),
        ("tracker: sort by district", t + "?sort=district", None),
        ("tracker: page 200", f"{t}?page={page(200)}", None),
        ("tracker: last page (480)", f"{t}?page={page(480)}", None),
        ("tracker: sections, page 400", f"{t}?sort=sections&page={page(400)}", None),
        ("tracker: trust, descending, page 400", f"{t}?sort=trust&direction=desc&page={page(400)}", None),
        # A status changes before each of these views: the figures are computed again, as on a busy day.
        (AFTER_A_CHANGE + "tracker", t, None),
        (AFTER_A_CHANGE + "tracker: sort by sections completed", t + "?sort=sections&direction=desc", None),
        (AFTER_A_CHANGE + "tracker: sections, page 400", f"{t}?sort=sections&page={page(400)}", None),
        (AFTER_A_CHANGE + "trust lead's tracker", trust_tracker, None),
        ("breakdown by phase", t + "/by-phase", None),
        ("breakdown by type", t + "/by-type", None),
        ("breakdown by district", t + "/by-district", None),
        ("breakdown by trust", t + "/by-trust", None),
        ("breakdown by trust, last page (25)", f"{t}/by-trust?page={page(25)}", None),
        ("trust lead's tracker (largest trust)", trust_tracker, None),
        ("trust lead's tracker: sort by sections", trust_tracker + "?sort=sections&direction=desc", None),
        ("trust responses to chase", t + "/trusts", None),
        ("chase history", f"/cycles/{SLUG}/establishments/100001/reminders", None),
        ("trust chase history", f"/cycles/{SLUG}/trusts/{trust_uid}/reminders", None),
        (
            "reminder preview: all not complete",
            f"/cycles/{SLUG}/reminders/preview",
            {"all": "1", "status": "incomplete"},
        ),
        ("non-responders CSV", f"/cycles/{SLUG}/non-responders.csv", None),
        ("action plans", f"/cycles/{SLUG}/actions", None),
        ("action plans: page 2000", f"/cycles/{SLUG}/actions?page={page(2000)}", None),
        ("overdue actions", f"/cycles/{SLUG}/actions?overdue=1", None),
    ]


@dataclass
class Timing:
    median_ms: float
    slowest_ms: float
    sql_ms: float  #: median time spent waiting for the database
    queries: int  #: the most queries any of the runs made
    status: int


def measure(url: str, trust_uid: str, scale: int = 1) -> dict[str, Timing]:
    """Each page fetched RUNS times (after one unmeasured fetch) through the Flask test client as the lead."""
    from surveyapp import create_app
    from surveyapp.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "benchmark-" * 5,
            "ENV_NAME": "testing",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            # the pages are timed, not the sign-in: the lead signs in with a password only
            "TWO_FACTOR_ROLES": [],
        }
    )
    results = {}
    with app.app_context():
        client = app.test_client()
        signed = client.post("/sign-in", data={"email": "lead@bench.example.org", "password": PASSWORD})
        assert signed.status_code == 302, signed.status_code
        queries: list[float] = []

        def started(conn, *args):
            conn.info["query_started"] = time.perf_counter()

        def finished(conn, *args):
            queries.append(time.perf_counter() - conn.info.pop("query_started"))

        event.listen(db.engine, "before_cursor_execute", started)
        event.listen(db.engine, "after_cursor_execute", finished)
        change = partial(_change_a_status, url)
        for label, path, data in pages(trust_uid, scale):
            fetch = partial(client.post, path, data=data) if data is not None else partial(client.get, path)
            if label.startswith(AFTER_A_CHANGE):
                fetch = partial(_after, change, fetch)
            fetch()  # templates compiled, connection warm: not timed
            timings, sql, per_request, status = [], [], [], 0
            for _ in range(RUNS):
                queries.clear()
                began = time.perf_counter()
                response = fetch()
                timings.append((time.perf_counter() - began) * 1000)
                sql.append(sum(queries) * 1000)
                per_request.append(len(queries))
                status = response.status_code
            results[label] = Timing(
                statistics.median(timings), max(timings), statistics.median(sql), max(per_request), status
            )
        db.engine.dispose()
    return results


def _after(change, fetch):
    change()
    return fetch()


_toggled = {"next": "not_started"}


def _change_a_status(url: str) -> None:
    """One establishment's response goes from in progress to not started, or back, committed on a connection
    of its own (another worker): the next view's figures are computed again. Its time is not the page's,
    but it runs inside the timed fetch, so the figures for these pages include one small UPDATE."""
    engine = _engines.setdefault(url, create_engine(url))
    status = _toggled["next"]
    _toggled["next"] = "in_progress" if status == "not_started" else "not_started"
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE responses SET status = :status WHERE id = (SELECT r.id FROM responses r "
                "JOIN assignments a ON a.id = r.assignment_id JOIN cycles c ON c.id = a.cycle_id "
                "JOIN establishments e ON e.id = a.establishment_id WHERE c.slug = :slug AND e.urn = '100001')"
            ),
            {"status": status, "slug": SLUG},
        )


_engines: dict = {}


def largest_trust(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as connection:
        uid = connection.scalar(
            text(
                "SELECT t.uid FROM trusts t JOIN establishments e ON e.trust_id = t.id "
                "GROUP BY t.uid ORDER BY count(*) DESC LIMIT 1"
            )
        )
    engine.dispose()
    return uid


def main(url: str, build: bool = True) -> None:
    small_url = url + "_small"
    built = {small_url: {"trust_uid": None}, url: {"trust_uid": None}}
    for target, size in ((small_url, (2400, 250)), (url, (24000, 2500))):
        if not build:
            built[target]["trust_uid"] = largest_trust(target)
            continue
        ensure_database(target)
        started = time.perf_counter()
        build_national(target, *size)
        built[target] = enrich(target)
        print(
            f"built {target.rsplit('/', 1)[1]}: {built[target]['establishments']:,} establishments, "
            f"{built[target]['contacts']:,} DSL contacts, {built[target]['reminders']:,} reminders, "
            f"{built[target]['actions']:,} actions "
            f"in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    load_before = os.getloadavg()
    small = measure(small_url, built[small_url]["trust_uid"], scale=10)
    large = measure(url, built[url]["trust_uid"])
    load_after = os.getloadavg()
    print()
    print(f"{RUNS} runs per page after one untimed; times in ms; 'SQL' is the median time waiting for the database.")
    print(
        f"Load average (1, 5, 15 min): {_load(load_before)} before, {_load(load_after)} after, "
        f"on {os.cpu_count()} cores."
    )
    print()
    header = (
        f"{'page':42} | {'national: median':>16} {'slowest':>8} {'SQL':>6} {'queries':>7} | "
        f"{'1/10: median':>12} {'queries':>7} | {'time x':>6}"
    )
    print(header)
    print("-" * len(header))
    for label, big in large.items():
        little = small[label]
        ratio = big.median_ms / little.median_ms if little.median_ms else float("nan")
        flag = "" if big.status == little.status == 200 else f"  (status {big.status}/{little.status})"
        print(
            f"{label:42} | {big.median_ms:16.0f} {big.slowest_ms:8.0f} {big.sql_ms:6.0f} {big.queries:7d} | "
            f"{little.median_ms:12.0f} {little.queries:7d} | {ratio:6.1f}{flag}"
        )
    same = all(large[k].queries == small[k].queries for k in large)
    print()
    print("Queries per request the same at both sizes:", "yes" if same else "NO")
    slow = [label for label, timing in large.items() if timing.median_ms >= 1000 and not label.endswith("CSV")]
    print("Pages at or over 1 s (median, national):", ", ".join(slow) if slow else "none")
    chasing = ("reminder preview", "non-responders", "action plans", "overdue actions")
    over = [
        label
        for label, timing in large.items()
        if timing.median_ms >= TRACKER_TARGET_MS and not label.startswith(chasing)
    ]
    print(f"Tracker pages at or over {TRACKER_TARGET_MS} ms (median, national):", ", ".join(over) if over else "none")
    print(
        f"('{AFTER_A_CHANGE}...': a response's status was changed in another connection before each fetch, so the "
        "figures were computed again; the other pages are served the figures kept since the last change.)"
    )


def _load(values: tuple[float, float, float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(arguments[0] if arguments else DEFAULT_URL, build="--measure-only" not in sys.argv)
