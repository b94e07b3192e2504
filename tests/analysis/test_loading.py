"""Loading a cycle streams its rows without changing the session's connection for what follows."""

from __future__ import annotations

from sqlalchemy import delete, select

from surveyapp.analysis.loading import establishment_ids, load_cycle
from surveyapp.audits.models import Answer, ResponseStatus
from surveyapp.extensions import db
from tests.analysis.scenario import build_database


def test_loading_streams_per_statement_and_leaves_the_connection_as_it_was(make):
    made = build_database(make)
    data = load_cycle(made["cycle"])
    assert "stream_results" not in db.session.connection().get_execution_options()
    # The answer frames hold question keys and statuses as categories, and every answer is read.
    assert str(data.answers["question_key"].dtype) == "category" and data.answers["question_key"].notna().all()
    assert establishment_ids(made["cycle"]) == data.establishments["establishment_id"].tolist()


#: free-text answers that a careless reader of the rows would change: quotes, commas, line breaks (both
#: kinds), a percent sign, a backslash-N (COPY's own mark for NULL), words a CSV reader takes for missing,
#: an empty answer and text outside ASCII
AWKWARD = {
    "A": 'Reviewed "in full", by governors;\nnext review\r\nin June — 100% done ✓ \\N',
    "C": "NA",
    "E": "",
    "T1": "null",
}


def test_every_answer_text_is_read_exactly_as_it_was_saved(make):
    made = build_database(make)
    # A school's own answers and a trust's, each with an awkward free-text answer (Oak's is returned, so read).
    responses = {code: made["responses"][code] for code in AWKWARD}
    responses["T1"].status = ResponseStatus.SUBMITTED
    for code, text in AWKWARD.items():
        answer = db.session.scalar(
            select(Answer).where(Answer.response_id == responses[code].id, Answer.question_key == "policy_notes")
        )
        if answer is None:
            answer = Answer(response_id=responses[code].id, question_key="policy_notes")
            db.session.add(answer)
        answer.value = text
    db.session.commit()

    data = load_cycle(made["cycle"])

    notes = data.answers[data.answers["question_key"] == "policy_notes"]
    by_code = {code: made[code].id for code in ("A", "C", "E")}
    read = dict(zip(notes["establishment_id"], notes["value"], strict=True))
    assert {code: read[by_code[code]] for code in by_code} == {code: AWKWARD[code] for code in by_code}
    trust_notes = data.trust_answers[data.trust_answers["question_key"] == "policy_notes"]
    assert trust_notes["value"].tolist() == [AWKWARD["T1"]]
    assert trust_notes["trust_response_id"].tolist() == [responses["T1"].id]
    # Whole numbers stay whole numbers, whichever way the engine's rows were read.
    assert str(data.answers["establishment_id"].dtype) == "int64"
    assert str(data.trust_answers["trust_id"].dtype) == "int64"
    assert str(data.trust_answers["status"].dtype) == "category"


def test_a_cycle_with_no_returned_answers_loads_empty_frames(make):
    made = build_database(make)
    db.session.execute(delete(Answer))
    db.session.commit()

    data = load_cycle(made["cycle"])

    assert data.answers.empty and list(data.answers.columns) == ["establishment_id", "question_key", "value", "status"]
    assert data.trust_answers.empty
    assert len(data.establishments) == 6  # everyone in scope is still there, with nothing answered
