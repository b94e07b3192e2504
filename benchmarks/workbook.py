"""Time the board workbook at national scale against raw xlsxwriter writing the same number of cells.

    python -m benchmarks.workbook postgresql+psycopg://postgres@127.0.0.1:5432/bench_workbook [--build]

--build (re)creates the national data first (benchmarks/national.py). Prints both times, the ratio
(target <= 1.5) and the peak memory of each run (tracemalloc's peak of Python allocations, and the
process's maximum resident set size).
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import tracemalloc

import xlsxwriter


def raw_xlsxwriter(path: str, cells: int, columns: int = 68) -> float:
    """Write ``cells`` short strings with raw xlsxwriter in constant-memory mode; return seconds."""
    started = time.perf_counter()
    book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet("Raw")
    values = ["Yes", "Partly", "No", "12 March 2026", "Cannot confirm", "School 01234", "95%"]
    rows, rest = divmod(cells, columns)
    for row in range(rows + (1 if rest else 0)):
        width = columns if row < rows else rest
        for column in range(width):
            sheet.write_string(row, column, values[(row + column) % 7])
    book.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--build", action="store_true", help="build the national data first")
    args = parser.parse_args()
    from benchmarks.national import SLUG, build_national

    if args.build:
        build_national(args.url)
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from surveyapp import models  # noqa: F401  (every table)
    from surveyapp.audits.models import Cycle
    from surveyapp.exports.workbook import write_workbook

    engine = create_engine(args.url)
    folder = tempfile.mkdtemp(prefix="bench-workbook-")
    with Session(engine) as session:
        cycle = session.scalar(select(Cycle).where(Cycle.slug == SLUG))
        tracemalloc.start()
        started = time.perf_counter()
        figures = write_workbook(session, cycle, os.path.join(folder, "board.xlsx"))
        ours = time.perf_counter() - started
        _, ours_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss_after_ours = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    raw = raw_xlsxwriter(os.path.join(folder, "raw.xlsx"), figures.cells)
    _, raw_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = os.path.getsize(os.path.join(folder, "board.xlsx")) / 1e6
    print(f"{'run':<34}{'seconds':>10}{'cells':>12}{'peak MB (tracemalloc)':>24}")
    print(f"{'board workbook (DB -> 7 sheets)':<34}{ours:>10.1f}{figures.cells:>12,}{ours_peak / 1e6:>24.1f}")
    print(f"{'raw xlsxwriter, constant memory':<34}{raw:>10.1f}{figures.cells:>12,}{raw_peak / 1e6:>24.1f}")
    print(f"ratio {ours / raw:.2f} (target <= 1.5); establishments {figures.in_scope:,}; workbook {size:.1f} MB; "
          f"max RSS {rss_after_ours:.0f} MB")


if __name__ == "__main__":
    main()
