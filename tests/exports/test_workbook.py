"""The board workbook and the CSVs, read back: every sheet's headers and the figures of a known cycle."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest

from surveyapp.actions.services import generate_for_cycle
from surveyapp.exports.csvfiles import write_gaps_csv, write_responses_csv
from surveyapp.exports.workbook import SHEETS, write_workbook
from surveyapp.extensions import db
from tests.exports import cycle_data
from tests.exports.cycle_data import FORMULA_ACTION, FORMULA_NAME


@pytest.fixture
def known(make):
    built = cycle_data.build(make)
    generate_for_cycle(built["cycle"])
    db.session.commit()
    return built


def _rows(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _table(sheet):
    rows = _rows(sheet)
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture
def book(known, tmp_path):
    path = tmp_path / "board.xlsx"
    write_workbook(db.session, known["cycle"], str(path), on=date(2027, 1, 15))
    return openpyxl.load_workbook(path)


def test_the_workbook_has_every_sheet_with_frozen_headers_and_filters(book):
    assert book.sheetnames == list(SHEETS)
    for name in SHEETS[1:]:
        assert book[name].freeze_panes == "A2", name
        assert book[name].auto_filter.ref, name


def _summary(sheet) -> dict:
    """The Summary's figure rows as {(block heading, label): (count, rate)} and {label: value} for the rest."""
    figures, heading = {}, None
    for row in _rows(sheet):
        if not row or row[0] is None:
            continue
        if row[1] in ("Establishments", "Actions") and str(row[2]).startswith("% of "):
            heading = row[0]
        elif isinstance(row[1], (int, float)) and not isinstance(row[1], bool):
            figures[(heading, row[0].strip())] = (row[1], row[2])
        figures.setdefault(row[0], row[1:3])
    return figures


def test_summary_gives_the_headline_figures_scope_and_charts(book, known):
    sheet = book["Summary"]
    rows = _rows(sheet)
    figures = _summary(sheet)
    assert rows[0][0] == "Safeguarding audit 2026-27: board summary"
    assert rows[1][0].startswith(
        "4 of 5 establishments (80%) completed the audit; 4 (80%) answered the Prevent questions"
    )
    assert figures["Cycle"][0] == "2026-27" and figures["Scope"][0] == "Every open establishment"
    assert figures["Due"][0].date() == date(2027, 3, 31)
    completion = "Completion"
    assert figures[(completion, "Establishments in scope")] == (5, 1)
    assert figures[(completion, "Completed (own return or covered by their trust)")] == (4, 0.8)
    assert figures[(completion, "Returned their own audit")][0] == 3
    assert figures[(completion, "Covered by their trust's returned audit")][0] == 1
    assert figures[(completion, "Not completed")][0] == 1
    headings = [row[:3] for row in rows if row[1] == "Establishments"]
    assert ("Completion", "Establishments", "% of in scope") in [tuple(h) for h in headings]
    assert ("Requirements", "Establishments", "% of returns") in [tuple(h) for h in headings]
    requirements = "Requirements"
    # Of the 4 that returned, not the 5 in scope.
    assert figures[(requirements, "Fully meeting every requirement")] == (1, 0.25)
    assert figures[(requirements, "Cannot confirm at least one requirement")][0] == 1  # through its trust
    assert figures[(requirements, "With at least one gap (not met or partly met)")][0] == 2
    assert figures[("Questions tagged Prevent", "Answered the Prevent questions")][0] == 4
    assert figures[("Questions tagged Prevent", "of which through their trust's return")][0] == 1
    assert figures[("Prevent requirements", "Met every Prevent requirement")] == (
        1,
        0.25,
    )  # Good School, of the 4 answering
    assert figures[("Prevent requirements", "Cannot confirm at least one Prevent requirement")] == (1, 0.25)
    assert figures[("Action plans", "Actions")][0] == 6
    notes = [row[0] for row in rows if row[0] and row[0].startswith("Covered by trust:")]
    assert notes and "its trust's returned answer is used" in notes[0]
    assert sheet.cell(row=13, column=3).number_format == "0.0%"  # the share of establishments in scope
    assert len(sheet._charts) == 2


def test_completion_by_phase_type_district_and_trust(book):
    header, rows = _table(book["Completion"])
    assert header == [
        "Grouped by",
        "Group",
        "In scope",
        "Own return",
        "Covered by trust",
        "Complete",
        "Not submitted",
        "Completion rate",
    ]
    by = {(r["Grouped by"], r["Group"]): r for r in rows}
    assert by[("Phase", "Primary")]["In scope"] == 3 and by[("Phase", "Primary")]["Complete"] == 2
    assert by[("Phase", "Secondary")]["Completion rate"] == 1
    assert by[("Trust", "Oak Trust")]["Covered by trust"] == 1 and by[("Trust", "Oak Trust")]["Own return"] == 1
    assert by[("District", "Southtown")]["Not submitted"] == 0
    assert by[("Type", "Community school")]["Not submitted"] == 1


def test_questions_sheet_counts_each_class(book):
    header, rows = _table(book["Questions"])
    # The question's words first, its key last; counts and rates of the 4 returns (Quiet School has not returned).
    assert header[:13] == [
        "Question",
        "Section",
        "Tags",
        "Returns",
        "Met",
        "Partly met",
        "Not met",
        "Cannot confirm",
        "Not answered",
        "Not applicable",
        "Not needed",
        "For information",
        "Asked and applicable",
    ]
    assert header[-1] == "Question key" and "Not met % of asked and applicable" in header
    assert rows[0]["Question"] == "Is the child protection policy current?"
    by = {r["Question key"]: r for r in rows}

    def counts(key):
        return [by[key][c] for c in ("Met", "Partly met", "Not met", "Cannot confirm", "Not answered")]

    assert counts("policy_current") == [3, 0, 1, 0, 0]
    assert counts("prevent_wrap") == [3, 1, 0, 0, 0]
    assert counts("prevent_sef") == [2, 0, 1, 1, 0]
    assert counts("policy_review_date") == [3, 0, 1, 0, 0]
    # The notes have no gap rule: no return meets them or leaves them unanswered, and they have no rates.
    assert counts("policy_notes") == [0, 0, 0, 0, 0]
    assert by["policy_notes"]["For information"] == 4
    assert [by["policy_notes"][c] for c in ("Asked and applicable", "Met % of asked and applicable")] == [None, None]
    assert by["policy_notes"]["Not met % of asked and applicable"] is None
    assert by["policy_notes"]["A gap when"] == "Never: recorded for information, not a requirement"
    assert by["prevent_sef"]["Returns"] == by["prevent_sef"]["Asked and applicable"] == 4
    assert by["prevent_sef"]["Not met % of asked and applicable"] == pytest.approx(0.25)
    column = header.index("Not met % of asked and applicable") + 1
    assert book["Questions"].cell(row=2, column=column).number_format == "0.0%"
    assert book["Questions"].conditional_formatting


def test_gaps_sheet_has_one_row_per_establishment_and_gap(book):
    header, rows = _table(book["Gaps"])
    assert header[:8] == ["URN", "Establishment", "Phase", "Trust", "Section", "Question", "Answer", "Class"]
    assert header[-1] == "Question key"
    pairs = sorted((r["URN"], r["Question key"], r["Class"], r["From trust"]) for r in rows)
    assert pairs == [
        ("200001", "prevent_sef", "Cannot confirm", "Yes"),
        ("200002", "prevent_wrap", "Partly met", "No"),
        ("200003", "policy_current", "Not met", "No"),
        ("200003", "policy_review_date", "Not met", "No"),
        ("200003", "prevent_sef", "Not met", "No"),
        ("200003", "prevent_trained_pct", "Not met", "No"),
    ]
    formula_row = next(r for r in rows if r["Question key"] == "policy_current")
    assert formula_row["Establishment"] == FORMULA_NAME
    assert formula_row["Planned action"] == FORMULA_ACTION and formula_row["Owner"] == "@Head"


def test_non_responders_have_their_dsl(book):
    header, rows = _table(book["Non-responders"])
    assert header[:9] == [
        "URN",
        "Establishment",
        "Phase",
        "Type",
        "District",
        "Trust",
        "Return status",
        "DSL",
        "DSL email",
    ]
    assert [(r["URN"], r["DSL"], r["DSL email"]) for r in rows] == [("200004", "Quinn DSL", "dsl@quiet.example.org")]


def test_action_plans_sheet_with_rag(book):
    header, rows = _table(book["Action plans"])
    assert header == [
        "URN",
        "Establishment",
        "Question",
        "Action",
        "Owner",
        "Target date",
        "Status",
        "RAG",
        "Overdue",
        "From trust",
        "Notes",
        "Last updated",
        "Question key",
    ]
    assert len(rows) == 6
    planned = next(r for r in rows if r["Question key"] == "policy_current")
    assert planned["Question"] == "Is the child protection policy current?"
    assert planned["Action"] == FORMULA_ACTION and planned["Owner"] == "@Head"
    assert planned["Target date"].date() == date(2026, 12, 1)
    assert (planned["RAG"], planned["Overdue"]) == ("Red", "Yes")  # judged on 15 January 2027
    assert book["Action plans"].conditional_formatting


def test_responses_sheet_shows_effective_answers_and_where_they_came_from(book):
    sheet = book["Responses"]
    header, rows = _table(sheet)
    assert header[:9] == [
        "URN",
        "Establishment",
        "Phase",
        "Type",
        "District",
        "Trust",
        "Return",
        "Covered by trust",
        "Answers from trust",
    ]
    assert header[9] == "Is the child protection policy current? (policy_current)"
    by = {r["URN"]: r for r in rows}
    assert [r["URN"] for r in rows] == ["200003", "200001", "200005", "200002", "200004"]  # by name ("=" sorts first)
    covered = by["200001"]
    assert covered["Covered by trust"] == "Yes" and covered["Answers from trust"] == 5
    assert covered["Is Prevent in your self-evaluation? (prevent_sef)"] == "Cannot confirm"
    assert sheet.cell(row=3, column=10).font.i is True  # the trust's answers are in italics
    assert not sheet.cell(row=5, column=10).font.i
    assert by["200002"]["Anything else? (policy_notes)"] == "+1 extra"
    assert by["200002"]["Has the DSL completed WRAP? (prevent_wrap)"] == "Partly"
    assert by["200003"]["Establishment"] == FORMULA_NAME
    assert by["200003"]["When was the policy last reviewed? (policy_review_date)"] == "1 January 2024"
    assert by["200003"]["What percentage of staff are Prevent trained? (prevent_trained_pct)"] == "80%"
    assert (
        by["200004"]["Return"] == "Not submitted"
        and by["200004"]["Is the child protection policy current? (policy_current)"] is None
    )
    assert by["200005"]["Anything else? (policy_notes)"] == "-2+3"
    # Nothing anywhere is a formula.
    for name in SHEETS:
        for row in book[name].iter_rows():
            for cell in row:
                assert cell.data_type != "f", (name, cell.coordinate, cell.value)


def test_responses_csv_has_every_answer_and_neutralises_formulas(known):
    out = io.StringIO()
    count = write_responses_csv(db.session, known["cycle"], out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert count == len(rows) == 5 * 6
    formula = [r for r in rows if r["URN"] == "200003"]
    assert {r["Establishment"] for r in formula} == {"'" + FORMULA_NAME}
    notes = {r["URN"]: r["Answer"] for r in rows if r["Question key"] == "policy_notes"}
    assert notes["200002"] == "'+1 extra" and notes["200005"] == "'-2+3"
    sef = next(r for r in rows if r["URN"] == "200001" and r["Question key"] == "prevent_sef")
    assert (sef["Answer as displayed"], sef["From trust"], sef["Class"]) == ("Cannot confirm", "Yes", "Cannot confirm")


def test_responses_csv_is_the_same_written_a_few_establishments_at_a_time(known, monkeypatch):
    from surveyapp.analysis import figures
    from surveyapp.analysis.loading import load_cycle
    from surveyapp.exports import csvfiles

    whole = io.StringIO()
    write_responses_csv(db.session, known["cycle"], whole)
    monkeypatch.setattr(csvfiles, "CHUNK", 2)  # 5 establishments: chunks of 2, 2 and 1
    chunked = io.StringIO()
    assert write_responses_csv(db.session, known["cycle"], chunked) == 5 * 6
    assert chunked.getvalue() == whole.getvalue()
    # In the analysis's order (by name), each establishment's questions together.
    order = [str(urn) for urn in figures.analyse(load_cycle(known["cycle"])).establishments["urn"]]
    urns = [row["URN"] for row in csv.DictReader(io.StringIO(chunked.getvalue()))]
    assert urns == [urn for urn in order for _ in range(6)]


def test_gaps_csv_lists_each_gap(known):
    out = io.StringIO()
    assert write_gaps_csv(db.session, known["cycle"], out) == 6
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    planned = next(r for r in rows if r["Question key"] == "policy_current")
    assert planned["Planned action"] == "'" + FORMULA_ACTION and planned["Owner"] == "'@Head"
    assert planned["Target date"] == "2026-12-01"


def test_the_las_own_actions_are_a_sheet_of_the_workbook_with_their_findings(known, make, tmp_path):
    from surveyapp.la_actions.services import create_action

    lead = make.lead()
    create_action(
        db.session,
        lead,
        reference="=A1",
        area="Training",
        action=FORMULA_ACTION,
        status="in_progress",
        rag="red",
        objective_2=True,
        target_date=date(2027, 1, 1),
        finding_cycle=known["cycle"],
        finding_question_key="prevent_trained_pct",
    )
    db.session.commit()
    write_workbook(db.session, known["cycle"], str(tmp_path / "board.xlsx"), on=date(2027, 1, 15))
    sheet = openpyxl.load_workbook(tmp_path / "board.xlsx")["The LA's actions"]
    header, rows = _table(sheet)
    assert header[:3] == ["Reference", "Area", "Action"] and len(rows) == 1
    row = rows[0]
    assert (row["Reference"], row["Action"], row["RAG"], row["Overdue"], row["Prevent objectives"]) == (
        "=A1",
        FORMULA_ACTION,
        "Red",
        "Yes",
        "2",
    )
    assert row["Establishments then"] == 1 and row["Establishments in the next cycle"] is None
    assert row["Audit finding"].startswith(
        "1 establishment did not fully meet “What percentage of staff are Prevent trained?”"
    )
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)
