"""The responses import reads its file a row at a time: memory does not grow with the answers' size."""

from __future__ import annotations

import csv
import tracemalloc
from datetime import date

import pytest
from sqlalchemy import func, insert, select

from surveyapp.audits.importer import apply_responses, plan_responses
from surveyapp.audits.models import Answer, Response
from surveyapp.csvfiles import ImportFailed
from surveyapp.establishments.models import Establishment
from surveyapp.extensions import db
from tests.audits.test_responses_import import COMPLETE, HEADER, run_import

ROWS = 500
NOTES = "Reviewed by the governing board; " * 125  # about 4,000 characters a return


@pytest.fixture
def big_file(make, tmp_path):
    """A 2024-25 cycle and a returns file of 500 schools, each with a long note: about 2 MB of answers."""
    make.establishment(urn="100001")
    cycle = make.cycle(slug="2024-25", due_on=date(2025, 3, 31), opens_on=date(2024, 9, 1))
    db.session.execute(
        insert(Establishment),
        [
            {
                "urn": str(500000 + n),
                "name": f"School {n}",
                "phase": "Primary",
                "type_name": "Community school",
                "district": "Northtown",
                "is_open": True,
                "status_name": "Open",
            }
            for n in range(ROWS)
        ],
    )
    db.session.commit()
    path = tmp_path / "returns.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, HEADER)
        writer.writeheader()
        for n in range(ROWS):
            writer.writerow({"URN": str(500000 + n), **COMPLETE, "policy_notes": f"{NOTES}{n}"})
    return cycle, path


def test_a_large_file_is_imported_without_holding_its_answers_in_memory(big_file):
    cycle, path = big_file
    size = path.stat().st_size
    tracemalloc.start()
    try:
        plan = plan_responses(cycle, path)
        _current, planning = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        apply_responses(plan, filename=path.name)
        _current, writing = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Answer)) == ROWS * 6
    assert (
        db.session.scalar(
            select(Answer.value).where(Answer.question_key == "policy_notes").order_by(Answer.id.desc()).limit(1)
        )
        == f"{NOTES}{ROWS - 1}"
    )
    # Reading the whole file (its bytes, its text, its rows) would take three times its size; keeping
    # every answer until the end would hold the answers twice while writing.
    assert size > 2_000_000 and planning < size and writing < 1.5 * size, (size, planning, writing)


def test_a_problem_on_the_last_line_of_a_large_file_writes_nothing(big_file):
    cycle, path = big_file
    with path.open("a", newline="", encoding="utf-8") as out:
        csv.DictWriter(out, HEADER).writerow({"URN": "100001", "policy_current": "perhaps"})
    responses_before = db.session.scalar(select(func.count()).select_from(Response))
    with pytest.raises(ImportFailed) as refused:
        plan_responses(cycle, path)
    assert [str(p) for p in refused.value.problems] == [
        f"line {ROWS + 2}, column policy_current: must be one of: Yes, No"
    ]
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 0
    assert db.session.scalar(select(func.count()).select_from(Response)) == responses_before


def test_the_command_reports_its_progress_in_plain_lines_off_a_terminal(runner, tmp_path, make):
    make.establishment(urn="100001")
    make.cycle(slug="2024-25", due_on=date(2025, 3, 31), opens_on=date(2024, 9, 1))
    result = run_import(runner, tmp_path, [{"URN": "100001", **COMPLETE}])
    assert result.exit_code == 0, result.output
    assert "Writing answers: 6 of 6 answers" in result.output
    assert "\x1b[" not in result.output  # no terminal codes in a log
