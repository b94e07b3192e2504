"""Time the responses import at national scale against PostgreSQL's COPY of the same rows.

    python -m benchmarks.imports postgresql+psycopg://postgres@127.0.0.1:5432/bench_imports [--build] [--scale N]
        [--rounds 3]

--build (re)creates the national data first (benchmarks/national.py, with N establishments, 24,000 by
default), adds an empty earlier-year cycle of the same template and writes a returns file for it: one
row per establishment, every question answered. Each run is a fresh process, so its peak memory
(maximum resident set size) is its own:

* the import: ``plan_responses`` + ``apply_responses`` from the file into the earlier cycle, as
  ``surveyapp responses import`` runs them (places in the cycle, responses, answers, section progress,
  status events), then rolled back so the next run starts from the same state;
* the baselines: COPY of the same answer rows, prepared in memory before the clock starts, into a
  new table made ``LIKE answers INCLUDING ALL`` (the same columns, defaults and indexes); into such a
  table with the answers table's foreign keys too (each row's response is checked, as it is for the
  import's rows); and into the answers table itself (its indexes, foreign keys and the rows already
  there). For the last two the places and empty responses are made first, outside the clock. Each is
  rolled back.

The four runs are repeated ``--rounds`` times (3), each round starting with a different one, so that
none always meets a cold cache; each round's ratios are printed, then the median of each run.

The ratio (import / COPY) has a target of at most 2. The import's answers are themselves one COPY into
the answers table. Where the database role may set ``session_replication_role`` (a superuser, or from
PostgreSQL 15 a role granted SET on it), the import writes them, and the rows that go with them,
without PostgreSQL's row-by-row foreign-key check, as the first baseline does (``surveyapp/bulk.py``,
``references_held``); the run says which it did.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

EARLIER = "returns-2025-26"
DEFAULT_FILE = Path(tempfile.gettempdir()) / "bench-imports-returns.csv"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(url: str, establishments: int, path: Path) -> None:
    """National data, an empty earlier cycle, and a returns file for it at ``path``."""
    from sqlalchemy import select

    from benchmarks.national import SLUG, TEMPLATE, _value, build_national
    from surveyapp import create_app
    from surveyapp.audits.models import Cycle
    from surveyapp.establishments.models import Establishment
    from surveyapp.extensions import db

    build_national(url, establishments, max(establishments // 10, 10))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-" * 5, "ENV_NAME": "testing"})
    with app.app_context():
        template = db.session.scalar(select(Cycle).where(Cycle.slug == SLUG)).template
        db.session.add(
            Cycle(
                slug=EARLIER,
                name="Safeguarding audit 2025-26",
                template=template,
                opens_on=date(2025, 9, 1),
                due_on=date(2026, 3, 31),
                scope={"types": [], "phases": []},
            )
        )
        db.session.commit()
        definition = json.loads(TEMPLATE.read_text())
        questions = [q for section in definition["sections"] for q in section["questions"]]
        urns = list(db.session.scalars(select(Establishment.urn).order_by(Establishment.urn)))
    rng = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["URN", "Submitted", *[q["key"] for q in questions]])
        for urn in urns:
            values = []
            for q in questions:
                value = _value(rng, q)
                values.append(value.lstrip("=+@-") if q["type"] == "text" else value)
            writer.writerow([urn, rng.choice(["yes", "yes", "no"]), *values])


def run_import(url: str, path: Path) -> dict:
    from sqlalchemy import select

    from surveyapp import create_app
    from surveyapp.audits.importer import apply_responses, plan_responses
    from surveyapp.audits.models import Answer, Cycle
    from surveyapp.bulk import references_held
    from surveyapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-" * 5, "ENV_NAME": "testing"})
    with app.app_context():
        cycle = db.session.scalar(select(Cycle).where(Cycle.slug == EARLIER))
        before = _rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        plan = plan_responses(cycle, path)
        planned = time.perf_counter() - started
        counts = apply_responses(plan, filename=path.name)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        db.session.rollback()
        with references_held([Answer.__table__]) as unchecked:
            pass
        db.session.rollback()
    return {
        "seconds": seconds,
        "unchecked": unchecked,
        "plan": planned,
        "cpu": cpu,
        "rss_before": before,
        "rss_peak": _rss_mb(),
        "answers": counts["answers"],
        "respondents": counts["respondents"],
    }


def run_copy(url: str, path: Path, into: str) -> dict:
    """COPY the answer rows ``into`` "table" (a new table LIKE answers: its columns, defaults and indexes),
    "keyed" (the same, with the answers table's foreign keys, so each row's response is checked as the import's
    rows are) or "answers" (the answers table itself)."""
    import psycopg

    # The rows the import writes, as COPY text, built before the clock starts.
    now = datetime.now(UTC).isoformat()
    lines = []
    with path.open(newline="", encoding="utf-8") as source:
        reader = csv.reader(source)
        keys = next(reader)[2:]
        for number, row in enumerate(reader):
            for key, value in zip(keys, row[2:], strict=True):
                if value:
                    value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
                    lines.append((number, f"{key}\t{value}\t\\N\t{now}\t\\N\n"))
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        with connection.cursor() as cursor:
            if into in ("answers", "keyed"):
                # The places and empty responses the import would make first, outside the clock.
                cycle_id = cursor.execute("SELECT id FROM cycles WHERE slug = %s", (EARLIER,)).fetchone()[0]
                cursor.execute(
                    "INSERT INTO assignments (cycle_id, establishment_id) SELECT %s, id FROM establishments"
                    " ORDER BY urn",
                    (cycle_id,),
                )
                cursor.execute(
                    "INSERT INTO responses (assignment_id, status, imported, headteacher_name, chair_name,"
                    " return_comment) SELECT id, 'not_started', false, '', '', '' FROM assignments"
                    " WHERE cycle_id = %s ORDER BY id",
                    (cycle_id,),
                )
                ids = [
                    row[0]
                    for row in cursor.execute(
                        "SELECT r.id FROM responses r JOIN assignments a ON a.id = r.assignment_id"
                        " JOIN establishments e ON e.id = a.establishment_id WHERE a.cycle_id = %s ORDER BY e.urn",
                        (cycle_id,),
                    )
                ]
                table = "answers"
                if into == "keyed":
                    cursor.execute("CREATE TABLE bench_import_answers (LIKE answers INCLUDING ALL)")
                    cursor.execute(
                        "ALTER TABLE bench_import_answers"
                        " ADD FOREIGN KEY (response_id) REFERENCES responses (id) ON DELETE CASCADE,"
                        " ADD FOREIGN KEY (updated_by_id) REFERENCES users (id) ON DELETE SET NULL"
                    )
                    table = "bench_import_answers"
            else:
                ids = list(range(1, len(lines) + 1))
                cursor.execute("CREATE TABLE bench_import_answers (LIKE answers INCLUDING ALL)")
                table = "bench_import_answers"
            data = "".join(f"{ids[number]}\t{rest}" for number, rest in lines).encode()
            rows = len(lines)
            del lines
            before = _rss_mb()
            started, cpu = time.perf_counter(), time.process_time()
            with cursor.copy(
                f"COPY {table} (response_id, question_key, value, follow_up, updated_at, updated_by_id) FROM STDIN"
            ) as copy:
                for start in range(0, len(data), 1 << 20):
                    copy.write(data[start : start + (1 << 20)])
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        connection.rollback()
    return {"seconds": seconds, "cpu": cpu, "rss_before": before, "rss_peak": _rss_mb(), "answers": rows}


def _child(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.imports", *args], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--build", action="store_true", help="build the national data and the returns file first")
    parser.add_argument("--scale", type=int, default=24000, help="establishments to build (24,000: national)")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="the returns file (written by --build)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the four runs (the medians are compared)")
    parser.add_argument("--child", choices=["import", "copy", "copy-keyed", "copy-answers"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "import":
        print(json.dumps(run_import(args.url, args.file)))
        return
    if args.child in ("copy", "copy-keyed", "copy-answers"):
        into = {"copy": "table", "copy-keyed": "keyed", "copy-answers": "answers"}[args.child]
        print(json.dumps(run_copy(args.url, args.file, into)))
        return
    if args.build or not args.file.exists():
        build(args.url, args.scale, args.file)
    load_before = os.getloadavg()
    kinds = ["import", "copy", "copy-keyed", "copy-answers"]
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for round_number in range(args.rounds):
        # Each round starts with a different run, so none of them always meets the cold cache.
        order = kinds[round_number % len(kinds) :] + kinds[: round_number % len(kinds)]
        for kind in order:
            runs[kind].append(_child(args.url, "--file", str(args.file), "--child", kind))
        done = {kind: runs[kind][-1]["seconds"] for kind in kinds}
        print(
            f"round {round_number + 1} (first: {order[0]}): import {done['import']:.2f} s, COPY {done['copy']:.2f} s"
            f" ({done['import'] / done['copy']:.2f}x), with the foreign keys {done['copy-keyed']:.2f} s"
            f" ({done['import'] / done['copy-keyed']:.2f}x), into the answers table {done['copy-answers']:.2f} s"
            f" ({done['import'] / done['copy-answers']:.2f}x)"
        )
    load_after = os.getloadavg()
    ours, base, keyed, table = (
        sorted(runs[kind], key=lambda run: run["seconds"])[len(runs[kind]) // 2] for kind in kinds
    )
    size = args.file.stat().st_size / 1e6
    print(
        f"{ours['respondents']:,} returns, {ours['answers']:,} answers, a {size:.1f} MB file;"
        f" the median of {args.rounds} runs each"
    )
    print(f"{'run':<52}{'wall s':>8}{'cpu s':>8}{'peak RSS MB':>13}{'growth MB':>11}")
    for label, run in (
        ("COPY of the same answer rows (same indexes)", base),
        ("  the same, with the answers table foreign keys", keyed),
        ("COPY of the same rows into the answers table", table),
        ("responses import (file -> cycle, all tables)", ours),
    ):
        print(
            f"{label:<52}{run['seconds']:>8.2f}{run['cpu']:>8.2f}"
            f"{run['rss_peak']:>13.0f}{run['rss_peak'] - run['rss_before']:>11.0f}"
        )
    print(f"{'  of which reading and checking the file':<52}{ours['plan']:>8.2f}")
    print(
        "the import's answers, section progress, status events and actions skipped the row-by-row key checks"
        if ours["unchecked"]
        else "the import checked every row's keys (this role may not set session_replication_role: see the README)"
    )
    ratio = ours["seconds"] / base["seconds"]
    keyed_ratio, table_ratio = ours["seconds"] / keyed["seconds"], ours["seconds"] / table["seconds"]
    print(
        f"ratio of the medians {ratio:.2f} to COPY (target <= 2: {'met' if ratio <= 2 else 'NOT met'}), "
        f"{keyed_ratio:.2f} to COPY with the foreign keys, {table_ratio:.2f} to COPY into the answers table; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )


if __name__ == "__main__":
    main()
