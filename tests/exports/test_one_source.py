"""The board workbook and `surveyapp analysis --format json` give the same figures for the same cycle.

Built on the analysis scenario (trust-covered academies, cannot-confirm answers, a skipped optional
section, a closed school, an in-progress trust response), read back with openpyxl.
"""

from __future__ import annotations

import json
from datetime import date

import openpyxl
import pytest

from surveyapp.analysis.figures import CLASSES
from surveyapp.exports.workbook import SUMMARY_LABELS, write_workbook
from surveyapp.extensions import db
from tests.analysis.scenario import build_database
from tests.exports.test_workbook import _summary, _table

QUESTION_COLUMNS = dict(
    zip(
        CLASSES,
        (
            "Met",
            "Partly met",
            "Not met",
            "Cannot confirm",
            "Not answered",
            "Not applicable",
            "Not needed",
            "For information",
        ),
        strict=True,
    )
)
RATED = CLASSES[:5]


@pytest.fixture
def both(make, runner, tmp_path):
    made = build_database(make)
    output = runner.invoke(args=["analysis", "--cycle", "2026-27", "--format", "json"])
    assert output.exit_code == 0, output.output
    path = tmp_path / "board.xlsx"
    write_workbook(db.session, made["cycle"], str(path), on=date(2027, 1, 15))
    return json.loads(output.output), openpyxl.load_workbook(path)


def test_summary_figures_are_the_json_figures(both):
    figures, book = both
    summary = _summary(book["Summary"])
    completion = {
        key: summary[("Completion", SUMMARY_LABELS[key])]
        for key in ("in_scope", "submitted", "submitted_own", "covered_by_trust", "not_submitted")
    }
    assert completion["in_scope"][0] == figures["in_scope"] == 6
    assert completion["submitted"][0] == figures["submitted"]
    assert completion["submitted"][1] == pytest.approx(figures["completion_rate"], abs=1e-4)
    assert completion["submitted_own"][0] == figures["submitted_own"]
    assert completion["covered_by_trust"][0] == figures["covered_by_trust"]
    assert completion["not_submitted"][0] == len(figures["not_submitted"])
    requirements = "Requirements"
    for key in ("fully_met", "cannot_confirm", "with_gaps"):
        count, rate = summary[(requirements, SUMMARY_LABELS[key])]
        assert count == len(figures["establishments"][key]) == figures["establishments"][f"{key}_count"], key
        assert rate == pytest.approx(figures["establishments"][f"{key}_rate"], abs=1e-4), key
    assert set(figures["tags"]) == {"prevent", "online"}
    for tag, expected in figures["tags"].items():
        label = "Prevent" if tag == "prevent" else tag
        block = f"Questions tagged {label}"
        answered = summary[(block, f"Answered the {label} questions")]
        assert answered[0] == expected["answered"], tag
        assert answered[1] == pytest.approx(expected["answered_rate"], abs=1e-4), tag
        assert summary[(block, "of which through their trust's return")][0] == expected["covered_by_trust"], tag
        assert summary[(block, f"Did not answer the {label} questions")][0] == len(expected["not_answered"]), tag
        assert summary[(block, "of which submitted but skipped them")][0] == len(expected["skipped"]), tag
        assert summary[(block, "of which have not completed the audit")][0] == len(expected["not_submitted"]), tag
        for key, words in (
            ("fully_met", f"Met every {label} requirement"),
            ("cannot_confirm", f"Cannot confirm at least one {label} requirement"),
            ("with_gaps", f"At least one {label} gap"),
        ):
            count, rate = summary[(f"{label} requirements", words)]
            assert count == len(expected[key]) == expected[f"{key}_count"], (tag, key)
            assert rate == pytest.approx(expected[f"{key}_rate"], abs=1e-4), (tag, key)


def test_questions_sheet_is_the_json_per_question(both):
    figures, book = both
    _header, rows = _table(book["Questions"])
    sheet = {row["Question key"]: row for row in rows}
    assert list(sheet) == list(figures["questions"])
    for key, expected in figures["questions"].items():
        for name, column in QUESTION_COLUMNS.items():
            assert sheet[key][column] == expected[name], (key, name)
        for name in RATED:
            column = f"{QUESTION_COLUMNS[name]} % of asked and applicable"
            if expected["requirement"]:
                assert sheet[key][column] == pytest.approx(expected[f"{name}_rate"], abs=1e-4), (key, name)
            else:  # no gap rule: the sheet leaves the rate empty where the JSON's is 0 over a base of 0
                assert (sheet[key][column], expected["base"]) == (None, 0), (key, name)
        assert sheet[key]["Returns"] == expected["returned"]
        # What the rates are out of, beside them: the JSON's base, where there is a requirement.
        assert sheet[key]["Asked and applicable"] == (expected["base"] if expected["requirement"] else None), key
        assert sheet[key]["From trusts"] == expected["from_trust"]


def test_completion_gaps_and_responses_sheets_agree_with_the_json(both):
    figures, book = both
    _header, completion = _table(book["Completion"])
    for row in completion:
        group = {"Phase": "phase", "Type": "type_name", "District": "district", "Trust": "trust_name"}[
            row["Grouped by"]
        ]
        expected = figures["completion_by"][group][row["Group"]]
        assert (row["In scope"], row["Complete"], row["Covered by trust"]) == (
            expected["in_scope"],
            expected["submitted"],
            expected["by_trust"],
        )
    _header, responses = _table(book["Responses"])
    assert len(responses) == figures["in_scope"]
    missing = [row["URN"] for row in responses if row["Return"] == "Not submitted"]
    assert sorted(missing) == sorted(figures["not_submitted"])
    _header, non_responders = _table(book["Non-responders"])
    assert [row["URN"] for row in non_responders] == figures["not_submitted"]
    _header, gaps = _table(book["Gaps"])
    listed = {}
    for row in gaps:
        listed.setdefault(row["Class"], set()).add(row["URN"])
    assert listed["Cannot confirm"] == set(figures["establishments"]["cannot_confirm"])
    assert listed["Not met"] | listed["Partly met"] == set(figures["establishments"]["with_gaps"])
    for key, expected in figures["questions"].items():
        counted = {
            name: sum(1 for row in gaps if row["Question key"] == key and row["Class"] == QUESTION_COLUMNS[name])
            for name in ("not_met", "partly", "cannot_confirm")
        }
        assert counted == {name: expected[name] for name in counted}, key
