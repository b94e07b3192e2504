"""Time the pure analysis at national scale: 24,000 establishments x the s175 template's questions.

    python benchmarks/analysis.py [ESTABLISHMENTS]

Builds a synthetic cycle (and a previous one for year on year) as frames, then times each step and
prints a table. No database: this measures the pandas layer the pages, CLI and exports share.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from surveyapp.analysis import figures, formatting  # noqa: E402
from tests.analysis.scenario import questions_frame as scenario_questions_frame  # noqa: E402

TEMPLATE = Path(__file__).resolve().parent.parent / "surveyapp" / "audit_templates" / "s175-schools.json"


def questions_frame() -> pd.DataFrame:
    return scenario_questions_frame(json.loads(TEMPLATE.read_text()))


def sample_values(kind: str, count: int, rng: np.random.Generator, options) -> np.ndarray:
    if kind == "yes_no":
        return rng.choice(["yes", "no"], count, p=[0.9, 0.1])
    if kind == "yes_no_partly":
        return rng.choice(["yes", "partly", "no"], count, p=[0.8, 0.12, 0.08])
    if kind == "yes_no_unsure":
        return rng.choice(["yes", "no", "unsure"], count, p=[0.85, 0.1, 0.05])
    if kind == "date":
        days = rng.integers(0, 800, count)
        return (np.datetime64("2026-09-01") - days.astype("timedelta64[D]")).astype(str)
    if kind in ("number", "percentage"):
        return rng.integers(60, 101, count).astype(str)
    if kind == "choice":
        return rng.choice([o["value"] for o in options] or ["x"], count)
    return np.array(["Some notes"] * count)


def build(n: int, slug: str, reference: date, seed: int) -> figures.CycleData:
    rng = np.random.default_rng(seed)
    questions = questions_frame()
    ids = np.arange(1, n + 1)
    trust_ids = np.where(rng.random(n) < 0.4, rng.integers(1, n // 20 + 2, n), 0)
    statuses = rng.choice(["submitted", "accepted", "in_progress", "not_started"], n, p=[0.45, 0.45, 0.06, 0.04])
    establishments = pd.DataFrame(
        {
            "establishment_id": ids,
            "urn": (100000 + ids).astype(str),
            "name": [f"School {i}" for i in ids],
            "phase": rng.choice(["Primary", "Secondary", "Nursery", "All-through"], n),
            "type_name": rng.choice(["Community school", "Academy converter", "Voluntary aided school"], n),
            "district": rng.choice([f"District {d}" for d in range(40)], n),
            "trust_id": pd.array(np.where(trust_ids > 0, trust_ids, pd.NA), dtype="Int64"),
            "trust_name": np.where(trust_ids > 0, [f"Trust {t}" for t in trust_ids], None),
            "response_id": ids,
            "status": statuses,
        }
    )
    answered = []
    for q in questions.to_dict("records"):
        mask = rng.random(n) < (0.97 if q["required"] else 0.6)
        answered.append(
            pd.DataFrame(
                {
                    "establishment_id": ids[mask],
                    "question_key": q["question_key"],
                    "value": sample_values(q["type"], int(mask.sum()), rng, q["options"]),
                    "status": statuses[mask],
                }
            )
        )
    answers = pd.concat(answered, ignore_index=True)
    trusts = np.unique(trust_ids[trust_ids > 0])
    trust_answers = pd.concat(
        [
            pd.DataFrame(
                {
                    "trust_id": trusts,
                    "trust_response_id": 10_000_000 + trusts,
                    "question_key": q["question_key"],
                    "value": sample_values(q["type"], len(trusts), rng, q["options"]),
                    "status": "submitted",
                }
            )
            for q in questions.to_dict("records")
        ],
        ignore_index=True,
    )
    covered = (trust_ids > 0) & (rng.random(n) < 0.3)
    coverage = pd.DataFrame(
        {
            "establishment_id": ids[covered],
            "trust_response_id": 10_000_000 + trust_ids[covered],
            "trust_id": trust_ids[covered],
            "status": "submitted",
        }
    )
    return figures.CycleData(slug, slug, reference, establishments, questions, answers, trust_answers, coverage)


def timed(label: str, rows: list, function):
    # CPU time as well as wall time: on a shared machine the wall clock also counts other processes.
    start, cpu = time.perf_counter(), time.process_time()
    result = function()
    rows.append((label, time.perf_counter() - start, time.process_time() - cpu))
    return result


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 24_000
    current = build(n, "2026-27", date(2026, 9, 1), 1)
    previous = build(n, "2025-26", date(2025, 9, 1), 2)
    answers = len(current.answers) + len(previous.answers)
    rows: list = []
    analysis = timed("analyse (both cycles)", rows, lambda: figures.analyse(current, previous))
    # First, as the CLI does: every summary the JSON needs is computed here, once; the steps
    # below then time the summaries the JSON does not use (the rest come from the analysis's cache).
    timed("JSON summary (to_json, from a fresh analysis)", rows, lambda: formatting.to_json(analysis))
    timed(
        "completion by phase, type, district, trust",
        rows,
        lambda: [figures.completion_by(analysis, g) for g in figures.GROUPS],
    )
    timed(
        "coverage per tag and section",
        rows,
        lambda: (figures.coverage(analysis, "tag"), figures.coverage(analysis, "section")),
    )
    timed(
        "gap rates by phase and type",
        rows,
        lambda: [figures.question_rates_by(analysis, g) for g in ("phase", "type_name")],
    )
    timed("gaps per establishment", rows, lambda: figures.establishment_gaps(analysis))
    timed(
        "year on year (questions, establishments)",
        rows,
        lambda: (figures.year_on_year_questions(analysis), figures.year_on_year_establishments(analysis)),
    )
    total = sum(row[1] for row in rows)
    total_cpu = sum(row[2] for row in rows)
    print(f"{n:,} establishments x {len(current.questions)} questions; {answers:,} answer rows in two cycles")
    print(f"{'step':<45} {'wall s':>8} {'cpu s':>8} {'share':>7}")
    for label, seconds, cpu in rows:
        print(f"{label:<45} {seconds:>8.2f} {cpu:>8.2f} {cpu / total_cpu:>7.0%}")
    print(f"{'everything':<45} {total:>8.2f} {total_cpu:>8.2f} {'100%':>7}")
    print(
        f"cpu per establishment: {1000 * total_cpu / n:.3f} ms; wall/cpu ratio {total / total_cpu:.2f} "
        f"(above 1 means the machine was busy); "
        f"target 'a few seconds' (< 5 s cpu): {'met' if total_cpu < 5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
