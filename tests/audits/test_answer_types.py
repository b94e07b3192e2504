"""One class per answer type: every part of the product asks the type's class, so the types agree everywhere."""

from __future__ import annotations

import random
from datetime import date
from types import SimpleNamespace

import numpy as np
import pytest

from surveyapp.audits.answer_types import TYPES, DemoContext, InvalidAnswer, answer_type, date_name
from surveyapp.audits.forms import QuestionState
from surveyapp.audits.models import QuestionType
from surveyapp.audits.questions import display, is_gap, normalise

OPTIONS = ["LA", {"value": "trust", "label": "Trust"}, "Other"]
RULES = {
    "yes_no": {"when": ["no"]},
    "yes_no_partly": {"when": ["no", "partly"]},
    "yes_no_unsure": {"when": ["no", "unsure"]},
    "date": {"older_than_months": 12},
    "number": {"below": 1},
    "percentage": {"below": 90},
    "text": None,
    "choice": {"when": ["Other"]},
}
REFERENCE = date(2026, 9, 1)


def _question(kind, **extra):
    return SimpleNamespace(
        key=f"q_{kind}",
        text=f"A {kind} question?",
        type=QuestionType(kind),
        required=True,
        help="",
        options=OPTIONS if kind == "choice" else [],
        gap=RULES[kind],
        not_applicable=False,
        **extra,
    )


def test_question_type_has_one_member_per_answer_type_in_the_same_order():
    assert [member.value for member in QuestionType] == list(TYPES)
    assert list(TYPES) == ["yes_no", "yes_no_partly", "yes_no_unsure", "date", "number", "percentage", "text", "choice"]
    with pytest.raises(ValueError):
        answer_type("slider")


@pytest.mark.parametrize("kind", list(TYPES))
def test_demo_answers_are_valid_answers_and_the_gap_test_agrees_with_the_analysis(kind):
    kind_class, question = answer_type(kind), _question(kind)
    rng = random.Random(7)
    values = [
        kind_class.demo_value(rng, question, strength, DemoContext(REFERENCE, date(2026, 10, 1), 300, ["All fine"]))
        for strength in (0.0, 0.5, 1.0)
        for _ in range(40)
    ]
    assert all(normalise(kind, value, question.options) == value for value in values)
    assert all(display(kind, value, question.options) for value in values)
    if RULES[kind]:
        mask = kind_class.gap_mask(np.asarray(values, dtype=object), RULES[kind], REFERENCE)
        assert mask.tolist() == [is_gap(kind, RULES[kind], value, REFERENCE) for value in values]
        assert not all(mask), kind
        # The demo shows gaps too (a choice's gap option is rare by design: about 1 in 100).
        assert any(mask) or kind == "choice", kind


#: stored answers at the edges of each rule, and values no rule reads, for the one-answer gap test
EDGES = {
    "yes_no": ["yes", "no", "No", "unsure", "not_applicable"],
    "yes_no_partly": ["yes", "partly", "no", "Partly"],
    "yes_no_unsure": ["yes", "no", "unsure", "cannot confirm"],
    "date": ["2025-09-01", "2025-08-31", "2025-09-02", "2020-02-29", "2026-09-01", "31/08/2025", "2025-13-01", "soon"],
    "number": ["0", "0.5", "1", "1.0", "12", "-3", "a few"],
    "percentage": ["89", "89.99", "90", "100", "ninety"],
    "choice": ["LA", "trust", "Other", "other"],
}


@pytest.mark.parametrize("kind", list(EDGES))
def test_one_answers_gap_test_agrees_with_the_analysis_at_the_rules_edges(kind):
    # A page save, the imports and the action plans ask one answer at a time; the analysis asks every
    # establishment's at once. A date exactly 12 months before the audit opened is not yet a gap.
    values = EDGES[kind]
    mask = answer_type(kind).gap_mask(np.asarray(values, dtype=object), RULES[kind], REFERENCE).tolist()
    assert [is_gap(kind, RULES[kind], value, REFERENCE) for value in values] == mask
    assert any(mask) and not all(mask), (kind, mask)
    # The answers a database is asked for when looking for gaps include every gap (None: ask for all).
    listed = answer_type(kind).gap_values(RULES[kind])
    assert listed is None or {value for value, gap in zip(values, mask, strict=True) if gap} <= set(listed)
    assert answer_type(kind).gap_values({}) == []


@pytest.mark.parametrize(
    ("kind", "typed", "stored", "shown"),
    [
        ("yes_no", "YES", "yes", "Yes"),
        ("yes_no_partly", "partly", "partly", "Partly"),
        ("yes_no_unsure", "not sure", "unsure", "Cannot confirm"),
        ("date", "31/03/2026", "2026-03-31", "31 March 2026"),
        ("number", "1,200", "1200", "1200"),
        ("percentage", "85%", "85", "85%"),
        ("text", " Notes ", "Notes", "Notes"),
        ("choice", "trust", "trust", "Trust"),
        ("choice", "la", "LA", "LA"),
    ],
)
def test_each_type_reads_what_people_type_and_shows_it_back(kind, typed, stored, shown):
    assert normalise(kind, typed, OPTIONS) == stored
    assert display(kind, stored, OPTIONS) == shown


@pytest.mark.parametrize(
    ("kind", "typed", "reason"),
    [
        ("yes_no", "maybe", "must be one of: Yes, No"),
        ("date", "March", "must be a date, like 31/03/2026"),
        ("number", "-1", "must be 0 or more"),
        ("percentage", "150", "must be between 0 and 100"),
        ("text", "x" * 5001, "5,000"),
        ("choice", "Council", "must be one of: LA, Trust, Other"),
    ],
)
def test_each_type_refuses_what_it_cannot_read_with_a_reason(kind, typed, reason):
    with pytest.raises(InvalidAnswer, match=reason):
        normalise(kind, typed, OPTIONS)


@pytest.mark.parametrize("kind", list(TYPES))
def test_each_type_draws_its_field_with_the_id_that_error_links_point_to(kind):
    question = _question(kind)
    kind_class = answer_type(kind)
    state = QuestionState(question)
    params = kind_class.field_params(state, question.text, "")
    assert kind_class.macro in ("radios", "date", "textarea", "input")
    field_id = params.get("idPrefix") or params.get("id")
    assert kind_class.first_input_id(question.key) in (field_id, f"{field_id}-day")
    legend_or_label = (params.get("fieldset") or {}).get("legend") or params.get("label")
    assert legend_or_label["text"] == question.text  # a field without its question would be unlabelled
    if kind_class.has_choices:
        assert [item["value"] for item in params["items"]] == [value for value, _label in kind_class.choices(OPTIONS)]


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("When did the DSL last complete Prevent training?", "The date the DSL last completed Prevent training"),
        (
            "When was your child protection policy last reviewed and approved by the governing body?",
            "The date your child protection policy was last reviewed and approved by the governing body",
        ),
        (
            "When was the single central record last checked by a governor or senior leader?",
            "The date the single central record was last checked by a governor or senior leader",
        ),
        (
            "What was the date of the meeting where governors discussed this audit?",
            "The date of the meeting where governors discussed this audit",
        ),
        ("When did the lead last take part in a drill?", "The date the lead last took part in a drill"),
        ("Fire drill held on", "The date for ‘Fire drill held on’"),  # worded otherwise: named in full
    ],
)
def test_a_date_question_is_named_in_its_errors(question, name):
    assert date_name(question) == name
