"""Not applicable answers and questions skipped by a condition are never met, a gap or unanswered."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from surveyapp.analysis import figures
from tests.analysis.scenario import questions_frame

DEFINITION = {
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
                    "gap": {"when": ["no", "partly"]},
                },
                {
                    "key": "staff_pct",
                    "text": "What percentage of staff are trained?",
                    "type": "percentage",
                    "not_applicable": True,
                    "gap": {"below": 90},
                },
            ],
        }
    ]
}

#: establishment -> its answers; "stale" answers to skipped questions must count for nothing
ANSWERS = {
    1: {"uses_ap": "yes", "ap_checks": "no", "ap_daily": "yes", "lettings": "not_applicable", "staff_pct": "95"},
    2: {"uses_ap": "no", "ap_checks": "no", "ap_daily": "unsure", "lettings": "no", "staff_pct": "not_applicable"},
    3: {"uses_ap": "no", "lettings": "not_applicable", "staff_pct": "80"},
    4: {"uses_ap": "yes", "ap_checks": "yes", "lettings": "yes", "staff_pct": "100"},
}


@pytest.fixture(scope="module")
def analysis():
    establishments = pd.DataFrame(
        [
            {
                "establishment_id": n,
                "urn": str(100000 + n),
                "name": f"School {n}",
                "phase": "Primary",
                "type_name": "Community school",
                "district": "Northtown",
                "trust_id": None,
                "trust_name": None,
                "response_id": 100 + n,
                "status": "submitted",
            }
            for n in ANSWERS
        ]
    )
    establishments["trust_id"] = establishments["trust_id"].astype("Int64")
    answers = pd.DataFrame(
        [
            {"establishment_id": n, "question_key": k, "value": v, "status": "submitted"}
            for n, given in ANSWERS.items()
            for k, v in given.items()
        ]
    )
    empty_trust = pd.DataFrame(columns=["trust_id", "trust_response_id", "question_key", "value", "status"])
    coverage = pd.DataFrame(columns=["establishment_id", "trust_response_id", "trust_id", "status"])
    data = figures.CycleData(
        "2026-27",
        "Audit",
        date(2026, 9, 1),
        establishments,
        questions_frame(DEFINITION),
        answers,
        empty_trust,
        coverage,
    )
    return figures.analyse(data)


def _classes(analysis, key):
    column = list(analysis.data.questions["question_key"]).index(key)
    return [figures.CLASSES[code] for code in analysis.classes[:, column]]


def test_not_applicable_is_its_own_class_never_met_gap_or_unanswered(analysis):
    assert _classes(analysis, "lettings") == ["not_applicable", "not_met", "not_applicable", "met"]
    assert _classes(analysis, "staff_pct") == ["met", "not_applicable", "not_met", "met"]


def test_a_question_whose_condition_is_false_is_skipped_even_with_a_stale_answer(analysis):
    assert _classes(analysis, "ap_checks") == ["not_met", "skipped", "skipped", "met"]
    # School 4 answered "yes" to checks but left the daily question: asked, so unanswered.
    # Schools 2 and 3 skipped ap_checks, so ap_daily (which rests on it) is skipped too.
    assert _classes(analysis, "ap_daily") == ["met", "skipped", "skipped", "unanswered"]


def test_rates_leave_not_applicable_and_skipped_out_of_their_denominator(analysis):
    q = analysis.questions.set_index("question_key")
    assert q.loc["lettings", list(figures.CLASSES)].tolist() == [1, 0, 1, 0, 0, 2, 0, 0]
    assert (q.loc["lettings", "met_rate"], q.loc["lettings", "not_met_rate"]) == (0.5, 0.5)
    assert q.loc["lettings", "not_applicable_rate"] == 0.5  # of all four in scope
    assert q.loc["ap_checks", list(figures.CLASSES)].tolist() == [1, 0, 1, 0, 0, 0, 2, 0]
    assert q.loc["ap_checks", "not_met_rate"] == 0.5
    assert q.loc["ap_daily", "unanswered_rate"] == 0.5


def test_not_applicable_and_skipped_do_not_stop_an_establishment_fully_meeting_the_audit(analysis):
    schools = analysis.establishments.set_index("establishment_id")
    # School 3: not applicable, skipped, but a percentage below the threshold: one gap. Whether its pupils
    # attend alternative provision has no gap rule: recorded for information, not met.
    assert schools.loc[
        3, ["met", "not_met", "unanswered", "not_applicable", "skipped", "information", "gaps"]
    ].tolist() == [0, 1, 0, 1, 2, 1, 1]
    # School 2 has a gap (lettings "no") and nothing unanswered: its skipped questions are not missing.
    assert schools.loc[2, "required_unanswered"] == 0
    assert schools.loc[4, "required_unanswered"] == 1 and not schools.loc[4, "fully_met"]
    assert schools.loc[1, "gaps"] == 1  # the checks gap; the not applicable lettings answer is none


def test_every_question_with_only_not_applicable_answers_has_no_rates():
    data_questions = questions_frame(
        {
            "sections": [
                {
                    "key": "s",
                    "title": "S",
                    "questions": [{"key": "q", "text": "Q?", "type": "yes_no", "not_applicable": True}],
                }
            ]
        }
    )
    establishments = pd.DataFrame(
        [
            {
                "establishment_id": 1,
                "urn": "100001",
                "name": "A",
                "phase": "Primary",
                "type_name": "Community school",
                "district": "N",
                "trust_id": None,
                "trust_name": None,
                "response_id": 1,
                "status": "submitted",
            }
        ]
    )
    establishments["trust_id"] = establishments["trust_id"].astype("Int64")
    answers = pd.DataFrame(
        [{"establishment_id": 1, "question_key": "q", "value": "not_applicable", "status": "submitted"}]
    )
    data = figures.CycleData(
        "x",
        "x",
        date(2026, 9, 1),
        establishments,
        data_questions,
        answers,
        pd.DataFrame(columns=["trust_id", "trust_response_id", "question_key", "value", "status"]),
        pd.DataFrame(columns=["establishment_id", "trust_response_id", "trust_id", "status"]),
    )
    q = figures.analyse(data).questions.iloc[0]
    assert (q["met_rate"], q["not_met_rate"], q["not_applicable_rate"]) == (0.0, 0.0, 1.0)
    assert bool(figures.analyse(data).establishments.loc[0, "fully_met"])


def test_exports_show_not_applicable_and_not_needed_in_words(analysis):
    from surveyapp.exports.tables import shown_answers

    shown = shown_answers(analysis)
    keys = list(analysis.data.questions["question_key"])
    assert [shown[i, keys.index("lettings")] for i in range(4)] == ["Not applicable", "No", "Not applicable", "Yes"]
    # School 2's stale "No" to a question it was not asked is not exported as its answer.
    assert [shown[i, keys.index("ap_checks")] for i in range(4)] == ["No", "Not needed", "Not needed", "Yes"]


@pytest.fixture
def returned(make):
    """The same four returns, submitted in the service: a cycle of this template, a school each."""
    from sqlalchemy import select

    from surveyapp.audits.models import Answer, Assignment, Response, ResponseStatus
    from surveyapp.extensions import db

    schools = {n: make.establishment(name=f"School {n}") for n in ANSWERS}
    cycle = make.cycle(template=make.template({"key": "ap", "title": "AP", "version": 1, **DEFINITION}))
    for n, given in ANSWERS.items():
        response = db.session.scalar(
            select(Response).join(Assignment).where(Assignment.establishment_id == schools[n].id)
        )
        response.status = ResponseStatus.SUBMITTED
        db.session.add_all(Answer(response_id=response.id, question_key=k, value=v) for k, v in given.items())
    db.session.commit()
    return cycle


def test_the_questions_page_rates_only_what_out_of_is_made_of(client, make, sign_in, returned):
    import re

    sign_in(make.board())
    html = client.get(f"/cycles/{returned.slug}/analysis/questions").get_data(as_text=True)

    def row(key):
        found = re.search(rf'id="question-{key}".*?</tr>', html, re.S).group(0)
        cells = re.findall(r'<td class="govuk-table__cell[^"]*">(.*?)</td>', found, re.S)
        return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip() for cell in cells]

    # Out of, then met, partly, not met, cannot confirm, not answered, not applicable, not needed, for information.
    # Hire agreements: 1 met and 1 not met of the 2 it applies to; the 2 "not applicable" are a count, not "50%"
    # of the 4 returns, which a reader would take to be out of the 2 beside it.
    lettings = row("lettings")
    assert lettings[0] == "2"
    assert lettings[1].startswith("1 ") and lettings[1].endswith("50%")
    assert lettings[6].startswith("2 ") and "%" not in lettings[6]
    # Written confirmation: asked of the 2 using alternative provision; the 2 not asked are Not needed, no rate.
    checks = row("ap_checks")
    assert checks[0] == "2" and checks[3].endswith("50%")
    assert checks[7].startswith("2 ") and "%" not in checks[7]
    assert "is what every rate on its row is a share of" in html


def test_the_questions_sheet_says_what_its_rates_are_out_of(returned, tmp_path):
    import openpyxl

    from surveyapp.exports.workbook import write_workbook
    from surveyapp.extensions import db

    write_workbook(db.session, returned, str(tmp_path / "board.xlsx"), on=date(2027, 1, 15))
    book = openpyxl.load_workbook(tmp_path / "board.xlsx")
    # All four have returned: nobody to chase (the workbook once failed here, listing all four with no URN).
    assert [row for row in book["Non-responders"].iter_rows(min_row=2, values_only=True) if any(row)] == []
    sheet = book["Questions"]
    rows = list(sheet.iter_rows(values_only=True))
    by = {row[-1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    lettings = by["lettings"]
    assert (lettings["Returns"], lettings["Not applicable"], lettings["Asked and applicable"]) == (4, 2, 2)
    assert lettings["Met % of asked and applicable"] == lettings["Not met % of asked and applicable"] == 0.5
    checks = by["ap_checks"]
    assert (checks["Returns"], checks["Not needed"], checks["Asked and applicable"]) == (4, 2, 2)
    assert checks["Not met % of asked and applicable"] == 0.5
    assert not any(str(header).startswith(("Not applicable %", "Not needed %")) for header in rows[0])
