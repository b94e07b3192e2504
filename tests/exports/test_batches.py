"""The board workbook's analysis, made a few establishments at a time, gives the figures of the whole cycle at once.

A small cycle with what a batch could get wrong: academies covered by their trust's return (one with none of
its own, one answering some questions itself, one whose own answers all win), a trust whose return is still in
progress, follow-up plans on an establishment's answer and on the trust's, "not applicable" answers, questions
asked only after a given answer (with a stale answer left behind), a return in progress and one not started.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import numpy as np
import openpyxl
import pytest
from pandas.testing import assert_frame_equal
from sqlalchemy import select

from surveyapp.analysis import figures, formatting, loading
from surveyapp.analysis.loading import load_cycle, load_in_batches
from surveyapp.audits.models import Answer, Assignment, ResponseStatus
from surveyapp.exports import workbook
from surveyapp.exports.csvfiles import write_gaps_csv
from surveyapp.exports.workbook import write_workbook
from surveyapp.extensions import db

TEMPLATE = {
    "key": "batches",
    "title": "Alternative provision and policies",
    "version": 1,
    "sections": [
        {
            "key": "provision",
            "title": "Provision",
            "questions": [
                {"key": "uses_ap", "text": "Do pupils attend alternative provision?", "type": "yes_no"},
                {
                    "key": "ap_checks",
                    "text": "Do you have the provider's written confirmation of checks?",
                    "type": "yes_no",
                    "condition": {"question": "uses_ap", "in": ["yes"]},
                    "gap": {"when": ["no"]},
                    "follow_up": {"prompt": "What will you do?"},
                },
                {
                    "key": "ap_daily",
                    "text": "Do you know where each pupil is every day?",
                    "type": "yes_no_unsure",
                    "condition": {"question": "ap_checks", "in": ["yes", "no"]},
                    "gap": {"when": ["no", "unsure"]},
                },
                {
                    "key": "lettings",
                    "text": "Do hire agreements cover safeguarding?",
                    "type": "yes_no_partly",
                    "not_applicable": True,
                    "tags": ["prevent"],
                    "gap": {"when": ["no", "partly"]},
                },
                {
                    "key": "staff_pct",
                    "text": "What percentage of staff are trained?",
                    "type": "percentage",
                    "not_applicable": True,
                    "tags": ["prevent"],
                    "gap": {"below": 90},
                },
            ],
        },
        {
            "key": "policies",
            "title": "Policies",
            "questions": [
                {
                    "key": "policy_current",
                    "text": "Is the child protection policy current?",
                    "type": "yes_no",
                    "tags": ["governors"],
                    "gap": {"when": ["no"]},
                    "follow_up": {"prompt": "What will you do?"},
                },
                {"key": "policy_notes", "text": "Anything else?", "type": "text", "required": False},
            ],
        },
    ],
}
TRUST_PLAN = {"action": "Trust-wide checks", "owner": "CEO", "target_date": "2027-02-01"}
OWN_PLAN = {"action": "=Rewrite the policy", "owner": "Head", "target_date": "2026-12-01"}

#: respondent -> (status, answers); an answer given as (value, plan) has a follow-up plan
RESPONSES = {
    "Oak Trust": (
        "submitted",
        {
            "uses_ap": "yes",
            "ap_checks": ("no", TRUST_PLAN),
            "ap_daily": "unsure",
            "lettings": "partly",
            "staff_pct": "95",
            "policy_current": "yes",
        },
    ),
    "Elm Trust": ("in_progress", {"policy_current": "no"}),
    "Ash Academy": ("not_started", {}),
    # Its own "no" to alternative provision wins: the trust's answers to the questions after it are not needed.
    "Birch Academy": ("submitted", {"uses_ap": "no", "lettings": "not_applicable", "staff_pct": "80"}),
    "Cedar School": (
        "submitted",
        {
            "uses_ap": "no",
            "ap_checks": "no",  # stale: left from before the answer above changed
            "lettings": "not_applicable",
            "staff_pct": "80",
            "policy_current": ("no", OWN_PLAN),
            "policy_notes": "+1 more",
        },
    ),
    "Damson School": ("in_progress", {"policy_current": "no"}),
    "Elm Academy": ("not_started", {}),
    "Fir School": (
        "submitted",
        {
            "uses_ap": "yes",
            "ap_checks": "yes",
            "ap_daily": "yes",
            "lettings": "yes",
            "staff_pct": "not_applicable",
            "policy_current": "yes",
        },
    ),
    "Gorse Academy": (
        "accepted",
        {"uses_ap": "yes", "ap_checks": "yes", "lettings": "no", "staff_pct": "100", "policy_current": "yes"},
    ),
}
ESTABLISHMENTS = 7


@pytest.fixture
def cycle(make):
    oak, elm = make.trust(name="Oak Trust"), make.trust(name="Elm Trust")
    trusts = {"Oak Trust": oak, "Elm Trust": elm}
    in_trust = {"Ash Academy": oak, "Birch Academy": oak, "Gorse Academy": oak, "Elm Academy": elm}
    made = {
        name: make.establishment(name=name, urn=str(300000 + n), trust=in_trust.get(name), phase="Primary")
        for n, name in enumerate(name for name in RESPONSES if name not in trusts)
    }
    make.dsl(made["Elm Academy"], email="dsl@elm.example.org", name="Elm DSL")
    cycle = make.cycle(template=make.template(TEMPLATE))
    by_id = {("trust", t.id): name for name, t in trusts.items()} | {e.id: name for name, e in made.items()}
    for assignment in db.session.scalars(select(Assignment).where(Assignment.cycle_id == cycle.id)):
        name = by_id[assignment.establishment_id or ("trust", assignment.trust_id)]
        status, answers = RESPONSES[name]
        response = assignment.response
        for key, given in answers.items():
            value, plan = given if isinstance(given, tuple) else (given, None)
            db.session.add(Answer(response_id=response.id, question_key=key, value=value, follow_up=plan))
        response.status = ResponseStatus(status)
    db.session.commit()
    return cycle


def test_the_cycle_has_what_a_batch_could_get_wrong(cycle):
    analysis = figures.analyse(load_cycle(cycle))
    counts = analysis.establishments.set_index("name")
    assert len(counts) == ESTABLISHMENTS
    assert counts.loc["Ash Academy", "how"] == "trust" and counts.loc["Ash Academy", "answers_from_trust"] == 6
    assert counts.loc["Birch Academy", "how"] == "own" and counts.loc["Birch Academy", "answers_from_trust"] > 0
    assert counts.loc["Birch Academy", "skipped"] == 2 and counts.loc["Cedar School", "skipped"] == 2
    assert counts.loc["Cedar School", "not_applicable"] == 1 and counts.loc["Fir School", "not_applicable"] == 1
    assert counts.loc["Gorse Academy", "cannot_confirm"] == 1  # the trust's "unsure", where Gorse gave no answer
    assert not counts.loc["Elm Academy", "submitted"] and not counts.loc["Damson School", "submitted"]


@pytest.mark.parametrize("size", [1, 2, 3])
def test_figures_made_a_few_establishments_at_a_time_are_those_of_the_whole_cycle(cycle, size):
    whole = figures.analyse(load_cycle(cycle))
    seen = []
    batched = figures.analyse_in_batches(
        *load_in_batches(cycle, size=size), lambda cells: seen.append((cells.start, len(cells.establishments)))
    )
    assert seen == [(start, min(size, ESTABLISHMENTS - start)) for start in range(0, ESTABLISHMENTS, size)]
    assert_frame_equal(batched.establishments, whole.establishments)
    assert_frame_equal(batched.questions, whole.questions)
    assert_frame_equal(batched.tag_status, whole.tag_status)
    assert_frame_equal(batched.section_status, whole.section_status)
    np.testing.assert_array_equal(batched.classes, whole.classes)
    np.testing.assert_array_equal(batched.source, whole.source)
    assert formatting.to_json(batched) == formatting.to_json(whole)
    for kind in ("tag", "section"):
        assert_frame_equal(figures.coverage(batched, kind), figures.coverage(whole, kind))
        assert_frame_equal(figures.compliance_by(batched, kind), figures.compliance_by(whole, kind))


def test_batches_must_take_every_establishment_in_order(cycle):
    data, batches = load_in_batches(cycle, size=2)
    parts = list(batches)
    with pytest.raises(ValueError, match="in order"):
        figures.analyse_in_batches(data, [parts[1], parts[0], *parts[2:]])
    with pytest.raises(ValueError, match="every establishment"):
        figures.analyse_in_batches(data, parts[:-1])


def _cells(path) -> dict:
    """Every sheet's cells: value, italics, fill and number format."""
    book = openpyxl.load_workbook(path)
    return {
        name: [
            [(cell.value, cell.font.i, cell.fill.fgColor.rgb, cell.number_format) for cell in row]
            for row in book[name].iter_rows()
        ]
        for name in book.sheetnames
    }


def test_the_workbook_is_the_same_written_one_or_two_establishments_at_a_time(cycle, monkeypatch, tmp_path):
    monkeypatch.setattr(workbook, "utcnow", lambda: datetime(2027, 1, 15, 9, 30))
    whole = write_workbook(db.session, cycle, str(tmp_path / "whole.xlsx"), on=date(2027, 1, 15))
    expected = _cells(tmp_path / "whole.xlsx")
    for size in (1, 2):
        monkeypatch.setattr(loading, "BATCH", size)
        batched = write_workbook(db.session, cycle, str(tmp_path / f"by-{size}.xlsx"), on=date(2027, 1, 15))
        assert batched.sheets == whole.sheets and (batched.in_scope, batched.complete) == (7, 5)
        assert _cells(tmp_path / f"by-{size}.xlsx") == expected, size
    # Each gap's plan is the one beside the answer that counts: the trust's for an academy it answered for.
    header, *rows = [[cell[0] for cell in row] for row in expected["Gaps"]]
    gaps = {(row[1], row[-1]): dict(zip(header, row, strict=True)) for row in rows}
    assert gaps[("Ash Academy", "ap_checks")]["Planned action"] == TRUST_PLAN["action"]
    assert gaps[("Ash Academy", "ap_checks")]["From trust"] == "Yes"
    assert gaps[("Cedar School", "policy_current")]["Planned action"] == OWN_PLAN["action"]
    assert ("Birch Academy", "ap_checks") not in gaps  # not needed: Birch does not use alternative provision
    # The trust's answers are in italics on blue, the establishment's own are not.
    header, *rows = expected["Responses"]
    birch = next(row for row in rows if row[1][0] == "Birch Academy")
    column = [cell[0] for cell in header].index("Do hire agreements cover safeguarding? (lettings)")
    assert birch[column][:2] == ("Not applicable", False)
    ash = next(row for row in rows if row[1][0] == "Ash Academy")
    assert ash[column][:2] == ("Partly", True)


def test_the_gaps_csv_is_the_same_written_one_establishment_at_a_time(cycle, monkeypatch):
    whole = io.StringIO()
    count = write_gaps_csv(db.session, cycle, whole)
    monkeypatch.setattr(loading, "BATCH", 1)
    batched = io.StringIO()
    assert write_gaps_csv(db.session, cycle, batched) == count
    assert batched.getvalue() == whole.getvalue()
    rows = list(csv.DictReader(io.StringIO(whole.getvalue())))
    assert len(rows) == count > 0
    cedar = next(row for row in rows if row["Question key"] == "policy_current")
    assert cedar["Planned action"] == "'" + OWN_PLAN["action"]
