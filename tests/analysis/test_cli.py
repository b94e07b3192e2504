"""`surveyapp analysis` on real rows: loading by SQL gives the same figures as the hand-built frames."""

from __future__ import annotations

import json
from datetime import UTC

from surveyapp.analysis import figures, formatting
from surveyapp.analysis.loading import load_with_previous, previous_cycle
from surveyapp.audits.models import CycleState
from surveyapp.extensions import db
from tests.analysis.scenario import build_database, cycle_data, urn, urns


def test_json_figures_for_a_cycle(make, runner):
    build_database(make)
    result = runner.invoke(args=["analysis", "--cycle", "2026-27", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["cycle"], data["in_scope"], data["submitted"], data["completion_rate"]) == ("2026-27", 6, 4, 0.6667)
    assert data["not_submitted"] == urns("D", "G")
    assert urn("F") not in result.output  # the closed school is not in scope
    prevent = data["tags"]["prevent"]
    assert (prevent["answered"], prevent["answered_rate"], prevent["covered_by_trust"]) == (4, 0.6667, 2)
    assert prevent["not_answered"] == urns("D", "G")
    assert data["tags"]["online"]["skipped"] == urns("B", "E")
    # Compliance counts are of the 4 establishments that returned (own or through their trust), not the 6 in scope.
    expected = {
        "policy_current": [3, 0, 1, 0, 0, 0, 0, 0],
        "policy_review_date": [3, 0, 1, 0, 0, 0, 0, 0],
        # notes have no gap rule: every return's answer, given or not, is for information
        "policy_notes": [0, 0, 0, 0, 0, 0, 0, 4],
        "prevent_wrap": [1, 2, 1, 0, 0, 0, 0, 0],
        "prevent_trained_pct": [4, 0, 0, 0, 0, 0, 0, 0],
        "prevent_sef": [2, 0, 1, 1, 0, 0, 0, 0],
        "online_filtering": [1, 0, 1, 0, 2, 0, 0, 0],
    }
    assert {key: [data["questions"][key][c] for c in figures.CLASSES] for key in expected} == expected
    assert [key for key in expected if not data["questions"][key]["requirement"]] == ["policy_notes"]
    assert (data["questions"]["policy_notes"]["base"], data["questions"]["policy_notes"]["met_rate"]) == (0, 0.0)
    assert {k: data["establishments"][k] for k in ("fully_met", "cannot_confirm", "with_gaps")} == {
        "fully_met": urns("A"),
        "cannot_confirm": urns("C"),
        "with_gaps": urns("B", "E", "C"),
    }
    assert data["year_on_year"]["previous_cycle"] == "2025-26"
    assert data["year_on_year"]["establishments"][urn("C")]["worse"] == [
        "policy_review_date",
        "prevent_sef",
        "prevent_wrap",
    ]
    assert data["year_on_year"]["questions"]["policy_current"]["met_rate_change"] == round(3 / 4 - 1 / 3, 4)
    assert data["year_on_year"]["basis"] == "same_point"  # the cycle is open
    assert data["tags"]["prevent"]["fully_met"] == urns("A") and data["tags"]["prevent"]["with_gaps"] == urns(
        "B", "E", "C"
    )


def test_loading_matches_the_frames_the_pure_tests_use(make):
    made = build_database(make)
    made["cycle"].state = CycleState.CLOSED  # a closed cycle is compared whole cycle against whole cycle
    current, previous = load_with_previous(made["cycle"])
    assert previous.slug == "2025-26" and previous_cycle(made["previous"]) is None
    from_db = formatting.to_json(figures.analyse(current, previous))
    by_hand = formatting.to_json(figures.analyse(cycle_data("current"), cycle_data("previous")))
    assert from_db == by_hand
    assert from_db["year_on_year"]["basis"] == "whole_cycle"


def test_an_open_cycle_counts_last_years_returns_submitted_by_the_same_day_before_the_due_date(make):
    from datetime import date, datetime

    made = build_database(make)
    last_year = made["previous_responses"]
    # Due 31 March both years; last year Alpha returned on 1 March, Gamma on 20 March and Epsilon on 30 March.
    for code, day in (("A", 1), ("C", 20), ("E", 30)):
        last_year[code].submitted_at = datetime(2026, 3, day, 12, tzinfo=UTC)
    db.session.commit()
    current, previous = load_with_previous(made["cycle"], on=date(2027, 3, 20))
    analysis = figures.analyse(current, previous)
    assert figures.completion(analysis.previous)["submitted"] == 2
    assert figures.comparison(analysis)["previous_as_at"] == "2026-03-20"
    current, previous = load_with_previous(made["cycle"], on=date(2027, 3, 31))
    assert figures.completion(figures.analyse(previous))["submitted"] == 3


def test_text_summary_and_unknown_cycle(make, runner):
    build_database(make)
    text = runner.invoke(args=["analysis", "--cycle", "2026-27", "--format", "text"]).output
    assert (
        "4 of 6 establishments (67%) completed the audit; "
        "4 (67%) answered the Prevent questions, 2 of them through their trust" in text
    )
    assert f"Not submitted (2): {urn('D')}, {urn('G')}" in text
    missing = runner.invoke(args=["analysis", "--cycle", "1999-00"])
    assert missing.exit_code == 1 and 'There is no cycle called "1999-00"' in missing.output
