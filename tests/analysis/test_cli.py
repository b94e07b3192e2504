"""`surveyapp analysis` on real rows: loading by SQL gives the same figures as the hand-built frames."""
from __future__ import annotations

import json

from surveyapp.analysis import figures
from surveyapp.analysis.loading import load_with_previous, previous_cycle
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
    expected = {"policy_current": [3, 0, 1, 0, 2, 0, 0], "policy_review_date": [3, 0, 1, 0, 2, 0, 0], "policy_notes": [1, 0, 0, 0, 5, 0, 0],
                "prevent_wrap": [1, 2, 1, 0, 2, 0, 0], "prevent_trained_pct": [4, 0, 0, 0, 2, 0, 0], "prevent_sef": [2, 0, 1, 1, 2, 0, 0],
                "online_filtering": [1, 0, 1, 0, 4, 0, 0]}
    assert {key: [data["questions"][key][c] for c in figures.CLASSES] for key in expected} == expected
    assert {k: data["establishments"][k] for k in ("fully_met", "cannot_confirm", "with_gaps")} == {
        "fully_met": urns("A"), "cannot_confirm": urns("C"), "with_gaps": urns("B", "E", "C")}
    assert data["year_on_year"]["previous_cycle"] == "2025-26"
    assert data["year_on_year"]["establishments"][urn("C")]["worse"] == ["policy_review_date", "prevent_sef", "prevent_wrap"]
    assert data["year_on_year"]["questions"]["policy_current"]["met_rate_change"] == round(3 / 6 - 1 / 3, 4)


def test_loading_matches_the_frames_the_pure_tests_use(make):
    made = build_database(make)
    current, previous = load_with_previous(made["cycle"])
    assert previous.slug == "2025-26" and previous_cycle(made["previous"]) is None
    from_db = figures.to_json(figures.analyse(current, previous))
    by_hand = figures.to_json(figures.analyse(cycle_data("current"), cycle_data("previous")))
    assert from_db == by_hand


def test_text_summary_and_unknown_cycle(make, runner):
    build_database(make)
    text = runner.invoke(args=["analysis", "--cycle", "2026-27", "--format", "text"]).output
    assert "4 of 6 establishments (67%) completed the audit; 4 (67%) answered the Prevent questions, 2 of them through their trust" in text
    assert f"Not submitted (2): {urn('D')}, {urn('G')}" in text
    missing = runner.invoke(args=["analysis", "--cycle", "1999-00"])
    assert missing.exit_code == 1 and 'There is no cycle called "1999-00"' in missing.output
