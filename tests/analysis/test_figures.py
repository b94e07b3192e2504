"""The pure analysis layer on frames built by hand: no app, no database."""

from __future__ import annotations

from datetime import UTC, date

import pandas as pd
import pytest

from surveyapp.analysis import figures, formatting
from surveyapp.audits.questions import is_gap
from tests.analysis.scenario import cycle_data, questions_frame, urn, urns


@pytest.fixture(scope="module")
def analysis():
    return figures.analyse(cycle_data("current"), cycle_data("previous"))


def _class(analysis, code, key):
    grid = analysis.grid
    eid = analysis.establishments.set_index("urn").loc[urn(code), "establishment_id"]
    row = grid[(grid["establishment_id"] == eid) & (grid["question_key"] == key)].iloc[0]
    return str(row["class"]), row["source"], row["value"]


def test_effective_answers_are_own_returned_answers_filled_from_the_covering_trust(analysis):
    assert _class(analysis, "A", "prevent_wrap") == ("met", "own", "yes")
    assert _class(analysis, "B", "prevent_wrap") == ("partly", "trust", "partly")
    # Gamma's own answer wins; the questions it left are filled from Oak's return.
    assert _class(analysis, "C", "policy_review_date") == ("not_met", "own", "2025-01-01")
    assert _class(analysis, "C", "prevent_trained_pct") == ("met", "trust", "95")
    assert _class(analysis, "C", "prevent_sef") == ("cannot_confirm", "own", "unsure")
    # In-progress answers (Delta's own, Elm's for Eta) count for nothing.
    assert _class(analysis, "D", "policy_current") == ("unanswered", "", "")
    assert _class(analysis, "G", "prevent_wrap") == ("unanswered", "", "")
    assert _class(analysis, "E", "prevent_trained_pct") == ("met", "own", "90")  # 90 is not below 90


def test_completion_counts_trust_cover_and_lists_who_has_not_submitted(analysis):
    result = figures.completion(analysis)
    assert result == {
        "in_scope": 6,
        "submitted": 4,
        "completion_rate": 4 / 6,
        "submitted_own": 3,
        "covered_by_trust": 1,
        "not_submitted": urns("D", "G"),
    }
    assert urn("F") not in set(analysis.establishments["urn"])  # closed: not in scope


def test_completion_by_phase_type_district_and_trust(analysis):
    phase = figures.completion_by(analysis, "phase").set_index("group")
    assert phase.loc["Primary", ["in_scope", "submitted", "by_trust", "not_submitted"]].tolist() == [5, 3, 0, 2]
    assert phase.loc["Secondary", ["in_scope", "submitted", "by_trust"]].tolist() == [1, 1, 1]
    trust = figures.completion_by(analysis, "trust_name").set_index("group")
    assert trust.loc["Oak Learning Trust", ["in_scope", "submitted", "own", "by_trust"]].tolist() == [2, 2, 1, 1]
    assert trust.loc["Elm Trust", ["in_scope", "submitted"]].tolist() == [1, 0]
    assert trust.loc[figures.NO_TRUST, ["in_scope", "submitted"]].tolist() == [3, 2]
    district = figures.completion_by(analysis, "district").set_index("group")
    assert district.loc["Northtown", "completion_rate"] == 1.0 and district.loc["Easttown", "completion_rate"] == 0.0
    kind = figures.completion_by(analysis, "type_name").set_index("group")
    assert kind.loc["Academy converter", ["in_scope", "submitted"]].tolist() == [2, 2]


def test_coverage_per_tag_says_who_answered_through_their_trust_and_why_others_did_not(analysis):
    tags = figures.coverage(analysis, "tag").set_index("tag")
    prevent = tags.loc["prevent"]
    assert (prevent["answered"], prevent["answered_own"], prevent["covered_by_trust"]) == (4, 2, 2)
    assert prevent["answered_rate"] == 4 / 6
    assert prevent["not_submitted_urns"] == urns("D", "G") and prevent["skipped_urns"] == []
    online = tags.loc["online"]
    assert (online["answered"], online["covered_by_trust"]) == (2, 0)
    assert online["skipped_urns"] == urns("B", "E")  # submitted, but the optional section was left
    assert sorted(online["not_answered"]) == sorted(urns("B", "D", "E", "G"))
    sections = figures.coverage(analysis, "section").set_index("section_key")
    assert sections["title"].tolist() == ["Policies", "Prevent duty", "Online safety"]
    assert (sections.loc["policies", "answered_own"], sections.loc["policies", "covered_by_trust"]) == (3, 1)


def test_each_question_counts_every_class_over_the_establishments_that_returned(analysis):
    q = analysis.questions.set_index("question_key")
    # met, partly, not met, cannot confirm, not answered, not applicable, not needed, for information
    columns = list(figures.CLASSES)
    # Delta (in progress) and Eta (its trust's return in progress) have not returned: they are in no class.
    assert q.loc["policy_current", columns].tolist() == [3, 0, 1, 0, 0, 0, 0, 0]
    assert q.loc["policy_review_date", columns].tolist() == [3, 0, 1, 0, 0, 0, 0, 0]
    # The notes have no gap rule: the one answer given is not "met", the three left blank not "not answered".
    assert q.loc["policy_notes", columns].tolist() == [0, 0, 0, 0, 0, 0, 0, 4]
    assert q.loc["prevent_wrap", columns].tolist() == [1, 2, 1, 0, 0, 0, 0, 0]
    assert q.loc["prevent_trained_pct", columns].tolist() == [4, 0, 0, 0, 0, 0, 0, 0]
    assert q.loc["prevent_sef", columns].tolist() == [2, 0, 1, 1, 0, 0, 0, 0]
    assert q.loc["online_filtering", columns].tolist() == [1, 0, 1, 0, 2, 0, 0, 0]
    assert q.index[~q["requirement"]].tolist() == ["policy_notes"]
    assert q.loc["policy_notes", "base"] == 0  # no requirement, so out of no compliance rate
    assert q.loc["prevent_wrap", "partly_rate"] == 2 / 4  # of the 4 returns, not of the 6 in scope
    assert q.loc["prevent_wrap", "from_trust"] == 2
    assert (q[columns].sum(axis=1) == 4).all() and (q["returned"] == 4).all() and (q["in_scope"] == 6).all()
    assert (analysis.in_scope, analysis.returned) == (6, 4)


def test_not_applicable_answers_leave_that_questions_compliance_denominator():
    data = cycle_data("current")
    answers = data.answers.copy()
    frame = data.establishments.set_index("urn")
    alpha = int(frame.loc[urn("A"), "establishment_id"])
    answers.loc[(answers["establishment_id"] == alpha) & (answers["question_key"] == "online_filtering"), "value"] = (
        "not_applicable"
    )
    data.answers = answers
    analysis = figures.analyse(data)
    q = analysis.questions.set_index("question_key")
    assert q.loc["online_filtering", ["met", "not_met", "unanswered", "not_applicable"]].tolist() == [0, 1, 2, 1]
    assert (q.loc["online_filtering", "returned"], q.loc["online_filtering", "base"]) == (4, 3)
    assert q.loc["online_filtering", "not_met_rate"] == 1 / 3
    assert q.loc["policy_current", "base"] == 4  # other questions keep every return
    # Not applicable is neither a gap nor something Alpha cannot confirm: it still meets every requirement.
    assert urn("A") in figures.establishment_lists(analysis)["fully_met"]
    online = figures.compliance_by(analysis, "tag").set_index("tag").loc["online"]
    assert (online["answered"], online["with_gaps_urns"]) == (1, urns("C"))


def test_fully_met_cannot_confirm_and_with_gaps_per_tag_and_per_section(analysis):
    tags = figures.compliance_by(analysis, "tag").set_index("tag")
    prevent = tags.loc["prevent"]
    # Of the 4 that answered the Prevent questions: Alpha meets them all; Gamma cannot confirm its SEF;
    # Beta (WRAP partly, through Oak), Gamma (WRAP partly) and Epsilon have gaps.
    assert prevent["answered"] == 4
    assert prevent["fully_met_urns"] == urns("A")
    assert prevent["cannot_confirm_urns"] == urns("C")
    assert prevent["with_gaps_urns"] == urns("B", "E", "C")
    assert (prevent["fully_met_rate"], prevent["cannot_confirm_rate"], prevent["with_gaps_rate"]) == (
        1 / 4,
        1 / 4,
        3 / 4,
    )
    online = tags.loc["online"]
    assert (online["answered"], online["fully_met_urns"], online["with_gaps_urns"]) == (2, urns("A"), urns("C"))
    sections = figures.compliance_by(analysis, "section").set_index("section_key")
    policies = sections.loc["policies"]
    assert (policies["title"], policies["answered"]) == ("Policies", 4)
    # Policy notes are optional, so Beta (through Oak) fully meets the policies section.
    assert policies["fully_met_urns"] == urns("A", "B")
    assert policies["with_gaps_urns"] == urns("E", "C")


def test_gap_rates_by_phase_and_type(analysis):
    phase = figures.question_rates_by(analysis, "phase").set_index(["group", "question_key"])
    assert phase.loc[("Secondary", "prevent_wrap"), ["partly", "partly_rate"]].tolist() == [1, 1.0]
    # Over the primaries that returned (Alpha, Gamma, Epsilon), not the five in scope.
    assert phase.loc[("Primary", "prevent_wrap"), ["met", "partly", "not_met", "unanswered", "returned"]].tolist() == [
        1,
        1,
        1,
        0,
        3,
    ]
    assert phase.loc[("Primary", "prevent_wrap"), "met_rate"] == 1 / 3
    kind = figures.question_rates_by(analysis, "type_name").set_index(["group", "question_key"])
    assert kind.loc[("Voluntary aided school", "prevent_sef"), "not_met"] == 1


def test_lists_of_establishments_and_each_ones_gaps(analysis):
    assert figures.establishment_lists(analysis) == {
        "fully_met": urns("A"),
        "cannot_confirm": urns("C"),
        "with_gaps": urns("B", "E", "C"),  # in name order
    }
    gaps = figures.establishment_gaps(analysis)
    by_school = gaps.groupby("urn")["question_key"].agg(list).to_dict()
    assert by_school == {
        urn("B"): ["prevent_wrap"],
        urn("C"): ["policy_review_date", "prevent_wrap", "online_filtering"],
        urn("E"): ["policy_current", "prevent_wrap", "prevent_sef"],
    }
    assert figures.most_not_met(analysis)["question_key"].tolist() == [
        "policy_current",
        "policy_review_date",
        "prevent_wrap",
        "prevent_sef",
        "online_filtering",
    ]


def test_year_on_year_per_question_and_per_establishment(analysis):
    questions = figures.year_on_year_questions(analysis).set_index("question_key")
    assert questions.loc["policy_current", "met_rate_previous"] == pytest.approx(1 / 3)
    # Each year over its own returns: 3 of 4 this year, 1 of 3 last year.
    assert questions.loc["policy_current", "met_rate_change"] == pytest.approx(3 / 4 - 1 / 3)
    assert questions.loc["prevent_wrap", "partly_rate_change"] == pytest.approx(2 / 4 - 1 / 3)
    # Among the establishments that returned both years (Alpha, Gamma, Epsilon): 2 of 3 meet it now, 1 of 3 then.
    assert questions.loc["policy_current", ["both_years", "met_both", "met_both_previous"]].tolist() == [3, 2, 1]
    assert figures.comparison(analysis) == {
        "previous_cycle": "2025-26",
        "basis": "whole_cycle",
        "previous_as_at": None,
        "days_before_due": None,
        "returned_both": 3,
    }
    changes = figures.year_on_year_establishments(analysis)
    better = changes[changes["change"] == "better"].groupby("urn")["question_key"].agg(sorted).to_dict()
    worse = changes[changes["change"] == "worse"].groupby("urn")["question_key"].agg(sorted).to_dict()
    assert better == {urn("A"): ["policy_current"]}
    assert worse == {
        urn("C"): ["policy_review_date", "prevent_sef", "prevent_wrap"],
        urn("E"): ["prevent_sef", "prevent_wrap"],
    }


def test_headline_sentence(analysis):
    assert formatting.headline(analysis) == (
        "4 of 6 establishments (67%) completed the audit; "
        "4 (67%) answered the Prevent questions, 2 of them through their trust"
    )


def test_json_summary_has_the_contract_keys(analysis):
    data = formatting.to_json(analysis)
    assert (data["cycle"], data["in_scope"], data["submitted"], data["completion_rate"]) == ("2026-27", 6, 4, 0.6667)
    assert data["not_submitted"] == urns("D", "G")
    assert data["tags"]["prevent"]["answered"] == 4 and data["tags"]["prevent"]["covered_by_trust"] == 2
    assert data["tags"]["prevent"]["not_answered"] == urns("D", "G")
    assert data["questions"]["prevent_sef"] == {
        **data["questions"]["prevent_sef"],
        "met": 2,
        "partly": 0,
        "not_met": 1,
        "cannot_confirm": 1,
        "unanswered": 0,
        "not_applicable": 0,
        "returned": 4,
        "base": 4,
        "met_rate": 0.5,
    }
    assert (data["returned"], data["denominators"]) == (4, {"completion": "in_scope", "compliance": "returned"})
    prevent = data["tags"]["prevent"]
    assert (prevent["fully_met"], prevent["cannot_confirm"], prevent["with_gaps"]) == (
        urns("A"),
        urns("C"),
        urns("B", "E", "C"),
    )
    assert (prevent["judged"], prevent["fully_met_rate"]) == (4, 0.25)
    assert data["sections"]["policies"]["fully_met"] == urns("A", "B")
    assert data["establishments"]["fully_met_rate"] == 0.25  # of the 4 returns
    assert data["establishments"]["fully_met"] == urns("A")
    assert data["year_on_year"]["establishments"][urn("A")] == {"better": ["policy_current"], "worse": []}
    import json

    json.dumps(data)  # every value is plain JSON


def test_a_trust_lead_sees_only_their_academies():
    analysis = figures.analyse(cycle_data().restricted_to_trusts({1}))
    assert figures.completion(analysis)["in_scope"] == 2
    assert set(analysis.establishments["urn"]) == set(urns("B", "C"))


VALUES = {
    "yes_no": ["yes", "no", ""],
    "yes_no_partly": ["yes", "no", "partly"],
    "yes_no_unsure": ["yes", "no", "unsure"],
    "date": ["2025-08-31", "2025-09-01", "2026-01-01", "not a date"],
    "percentage": ["89.9", "90", "100", "x"],
    "text": ["anything"],
}


def test_vectorised_gaps_agree_with_is_gap():
    questions = questions_frame()
    rows = [
        (key, value)
        for key, kind in zip(questions["question_key"], questions["type"], strict=True)
        for value in VALUES[kind]
    ]
    grid = pd.DataFrame(rows, columns=["question_key", "value"])
    reference = date(2026, 9, 1)
    classes = figures.classify(grid, questions, reference)
    rules = questions.set_index("question_key")
    for (key, value), found in zip(rows, classes, strict=True):
        kind, rule = rules.loc[key, "type"], rules.loc[key, "gap"]
        gap = is_gap(kind, rule, value, reference)
        if not rule:
            expected = "not_applicable" if value == "not_applicable" else "information"
        elif value == "":
            expected = "unanswered"
        elif value == "unsure":
            expected = "cannot_confirm"
        elif value == "partly":
            expected = "partly"
        else:
            expected = "not_met" if gap else "met"
        assert found == expected, (key, value)


def test_an_open_cycle_is_compared_with_last_years_returns_at_the_same_distance_from_the_due_date():
    from datetime import datetime

    previous = cycle_data("previous")
    # Last year Alpha returned on 1 March 2026, Gamma on 20 March, Epsilon (and nobody else) on 30 March.
    when = {
        urn("A"): datetime(2026, 3, 1, 10, tzinfo=UTC),
        urn("C"): datetime(2026, 3, 20, 9, tzinfo=UTC),
        urn("E"): datetime(2026, 3, 30, 23, 59, tzinfo=UTC),
    }
    previous.establishments["submitted_at"] = previous.establishments["urn"].map(when)
    previous.due_on = date(2026, 3, 31)
    # Today is 20 March 2027, 11 days before this year's due date: last year is counted at 20 March 2026.
    as_then = previous.returns_by(date(2026, 3, 20))
    analysis = figures.analyse(cycle_data("current"), as_then)
    assert figures.completion(analysis.previous)["submitted"] == 2  # Alpha and Gamma had returned by then
    assert figures.comparison(analysis)["basis"] == "same_point"
    assert figures.comparison(analysis)["days_before_due"] == 11
    questions = figures.year_on_year_questions(analysis).set_index("question_key")
    # Last year at that point: Alpha "no", Gamma "yes" -> 1 of 2 met; Epsilon's later "no" is not counted.
    assert questions.loc["policy_current", "met_rate_previous"] == 1 / 2
    # Per establishment only those that returned in both years by then: Epsilon had not, so has no change.
    changes = figures.year_on_year_establishments(analysis)
    assert urn("E") not in set(changes["urn"])
    assert set(changes["urn"]) == set(urns("A", "C"))
    assert formatting.comparison_words(figures.comparison(analysis)) == (
        "last year's returns as they stood 11 days before its due date, as this year's stand now"
    )
