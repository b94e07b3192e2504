"""Time the board workbook at national scale against raw xlsxwriter writing the same cells.

    python -m benchmarks.workbook postgresql+psycopg://postgres@127.0.0.1:5432/bench_workbook [--build]

--build (re)creates the national data first (benchmarks/national.py: 24,000 establishments, the
s175-schools template). Each run is a fresh process, so its peak memory (maximum resident set
size) is its own and one run's memory or caches cannot help the other:

* the board workbook: ``write_workbook`` from the database to the file, split into load (SQL into
  frames), analysis (pandas) and write (xlsxwriter, including the small sheets' queries);
* the raw baseline: xlsxwriter in constant-memory mode with the same options, writing the same
  sheets in the same order with, sheet by sheet, the same number of rows and of string and number
  cells (taken from the workbook run), with ``write_row`` from lists built before the clock starts.

The ratio (workbook / raw) has a target of at most 1.5. Timings are wall-clock and CPU seconds;
on a shared machine compare the CPU ratio too and note the load average printed beside them.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

SAMPLE_STRINGS = ["Yes", "Partly", "No", "12 March 2026", "Cannot confirm", "St School 01234", "95%", "Primary",
                  "Academy converter", "District 17", "Trust 0042", "Own return submitted", "Reviewed with governors"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_workbook(url: str, path: str) -> dict:
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from benchmarks.national import SLUG
    from surveyapp import models  # noqa: F401  (every table)
    from surveyapp.audits.models import Cycle
    from surveyapp.exports.workbook import write_workbook

    engine = create_engine(url)
    with Session(engine) as session:
        cycle = session.scalar(select(Cycle).where(Cycle.slug == SLUG))
        before = _rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        result = write_workbook(session, cycle, path)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "timings": result.timings, "in_scope": result.in_scope,
            "rss_before": before, "rss_peak": _rss_mb(), "size_mb": os.path.getsize(path) / 1e6,
            "sheets": {name: [sheet.rows, sheet.strings, sheet.numbers] for name, sheet in result.sheets.items()}}


def run_raw(path: str, sheets: dict[str, list[int]]) -> dict:
    import xlsxwriter

    from surveyapp.exports.safe import WORKBOOK_OPTIONS

    # Built before the clock starts: the baseline measures writing only.
    plans = {}
    for name, (rows, strings, numbers) in sheets.items():
        rows = max(rows, 1)
        per_row_strings, extra_strings = divmod(strings, rows)
        per_row_numbers, extra_numbers = divmod(numbers, rows)
        plans[name] = [
            [SAMPLE_STRINGS[(r + c) % len(SAMPLE_STRINGS)] for c in range(per_row_strings + (r < extra_strings))]
            + [float(r + c) for c in range(per_row_numbers + (r < extra_numbers))]
            for r in range(rows)
        ]
    before = _rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    book = xlsxwriter.Workbook(path, WORKBOOK_OPTIONS)
    for name, rows in plans.items():
        sheet = book.add_worksheet(name)
        write_row = sheet.write_row
        for r, values in enumerate(rows):
            write_row(r, 0, values)
    book.close()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "rss_before": before, "rss_peak": _rss_mb(),
            "size_mb": os.path.getsize(path) / 1e6}


def _child(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.workbook", *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--build", action="store_true", help="build the national data first")
    parser.add_argument("--child", choices=["workbook", "raw"], help=argparse.SUPPRESS)
    parser.add_argument("--shape", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "workbook":
        print(json.dumps(run_workbook(args.url, args.out)))
        return
    if args.child == "raw":
        print(json.dumps(run_raw(args.out, json.loads(args.shape))))
        return
    if args.build:
        from benchmarks.national import build_national

        build_national(args.url)
    folder = tempfile.mkdtemp(prefix="bench-workbook-")
    load_before = os.getloadavg()
    ours = _child(args.url, "--child", "workbook", "--out", os.path.join(folder, "board.xlsx"))
    raw = _child(args.url, "--child", "raw", "--out", os.path.join(folder, "raw.xlsx"), "--shape", json.dumps(ours["sheets"]))
    load_after = os.getloadavg()
    cells = sum(strings + numbers for _rows, strings, numbers in ours["sheets"].values())
    t = ours["timings"]
    print(f"{ours['in_scope']:,} establishments; {cells:,} cells in {len(ours['sheets'])} sheets "
          + ", ".join(f"{name} {s + n:,}" for name, (_r, s, n) in ours["sheets"].items()))
    print(f"{'run':<44}{'wall s':>8}{'cpu s':>8}{'peak RSS MB':>13}{'file MB':>9}")
    print(f"{'raw xlsxwriter (constant memory, write_row)':<44}{raw['seconds']:>8.2f}{raw['cpu']:>8.2f}"
          f"{raw['rss_peak']:>13.0f}{raw['size_mb']:>9.1f}")
    print(f"{'board workbook (database -> 7 sheets)':<44}{ours['seconds']:>8.2f}{ours['cpu']:>8.2f}"
          f"{ours['rss_peak']:>13.0f}{ours['size_mb']:>9.1f}")
    for stage in ("load", "analysis", "write"):
        print(f"{'  ' + stage:<44}{t[stage]:>8.2f}")
    ratio, cpu_ratio = ours["seconds"] / raw["seconds"], ours["cpu"] / raw["cpu"]
    print(f"ratio {ratio:.2f} wall, {cpu_ratio:.2f} cpu (target <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'}); "
          f"RSS before the run: workbook {ours['rss_before']:.0f} MB, raw {raw['rss_before']:.0f} MB; "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")


if __name__ == "__main__":
    main()
