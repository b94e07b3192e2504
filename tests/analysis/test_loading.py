"""Loading a cycle streams its rows without changing the session's connection for what follows."""

from __future__ import annotations

from surveyapp.analysis.loading import establishment_ids, load_cycle
from surveyapp.extensions import db
from tests.analysis.scenario import build_database


def test_loading_streams_per_statement_and_leaves_the_connection_as_it_was(make):
    made = build_database(make)
    data = load_cycle(made["cycle"])
    assert "stream_results" not in db.session.connection().get_execution_options()
    # The answer frames hold question keys and statuses as categories, and every answer is read.
    assert str(data.answers["question_key"].dtype) == "category" and data.answers["question_key"].notna().all()
    assert establishment_ids(made["cycle"]) == data.establishments["establishment_id"].tolist()
