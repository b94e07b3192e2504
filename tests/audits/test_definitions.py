"""Question fields shared with the template editor: Not applicable, conditions, guidance, plain-text options."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from surveyapp.audits.definitions import DefinitionError, load_template, validate_definition
from surveyapp.audits.models import TemplateQuestion
from surveyapp.extensions import db
from tests.factories import SMALL_TEMPLATE


def _with_prevent_questions(*extra):
    data = copy.deepcopy(SMALL_TEMPLATE)
    data["sections"][1]["questions"].extend(extra)
    return data


GUIDANCE = [
    {
        "title": "Prevent duty guidance, paragraph 4.1",
        "url": "https://www.gov.uk/government/publications/prevent-duty-guidance",
    }
]


def test_not_applicable_condition_guidance_and_plain_options_are_stored(app):
    data = _with_prevent_questions(
        {
            "key": "provider_kind",
            "text": "Who provides it?",
            "type": "choice",
            "options": ["LA", "Trust", {"value": "other", "label": "Someone else"}],
        },
        {
            "key": "provider_checked",
            "text": "Have you checked the provider?",
            "type": "yes_no",
            "not_applicable": True,
            "condition": {"question": "provider_kind", "in": ["Trust", "other"]},
            "guidance": GUIDANCE,
        },
    )
    assert validate_definition(data) == []
    template, outcome = load_template(data)
    db.session.commit()
    assert outcome == "created"
    questions = {
        q.key: q
        for q in db.session.scalars(select(TemplateQuestion).where(TemplateQuestion.template_id == template.id))
    }
    assert questions["provider_kind"].options == [
        {"value": "LA", "label": "LA"},
        {"value": "Trust", "label": "Trust"},
        {"value": "other", "label": "Someone else"},
    ]
    checked = questions["provider_checked"]
    assert checked.not_applicable is True
    assert checked.condition == {"question": "provider_kind", "in": ["Trust", "other"]}
    assert checked.guidance == GUIDANCE
    assert questions["policy_current"].not_applicable is False
    assert questions["policy_current"].condition is None and questions["policy_current"].guidance == []
    # the stored definition is what was loaded, so an export gives back the plain-text options unchanged
    assert template.definition["sections"][1]["questions"][3]["options"][0] == "LA"


def test_a_condition_may_name_not_applicable_when_the_earlier_question_allows_it():
    data = _with_prevent_questions(
        {"key": "has_nursery", "text": "Is there a nursery?", "type": "yes_no", "not_applicable": True},
        {
            "key": "nursery_ratio",
            "text": "Are ratios kept?",
            "type": "yes_no",
            "condition": {"question": "has_nursery", "in": ["yes", "not_applicable"]},
        },
    )
    assert validate_definition(data) == []


@pytest.mark.parametrize(
    ("question", "problem"),
    [
        ({"not_applicable": "yes"}, "sections[1].questions[3].not_applicable: must be true or false"),
        (
            {"condition": {"question": "nowhere", "in": ["yes"]}},
            'sections[1].questions[3].condition: "nowhere" is not the key of an earlier question',
        ),
        (
            {"condition": {"question": "later_one", "in": ["yes"]}},
            'sections[1].questions[3].condition: "later_one" is not the key of an earlier question',
        ),
        (
            {"condition": {"question": "extra", "in": ["yes"]}},
            'sections[1].questions[3].condition: "extra" is not the key of an earlier question',
        ),
        (
            {"condition": {"question": "prevent_wrap", "in": ["maybe"]}},
            'sections[1].questions[3].condition: "in" lists "maybe", which is not an answer to "prevent_wrap"',
        ),
        (
            {"condition": {"question": "prevent_wrap", "in": ["not_applicable"]}},
            'sections[1].questions[3].condition: "in" lists "not_applicable", which is not an answer to "prevent_wrap"',
        ),
        (
            {"condition": {"question": "prevent_trained_pct", "in": ["90"]}},
            'sections[1].questions[3].condition: "prevent_trained_pct" has no fixed answers to depend on',
        ),
        ({"condition": {"question": "prevent_wrap"}}, "sections[1].questions[3].condition: must be {"),
        ({"condition": {"question": "prevent_wrap", "in": []}}, "sections[1].questions[3].condition: must be {"),
        (
            {"guidance": [{"title": "KCSIE", "url": "javascript:alert(1)"}]},
            "sections[1].questions[3].guidance: must be a list of",
        ),
        (
            {"guidance": [{"title": "", "url": "https://www.gov.uk/"}]},
            "sections[1].questions[3].guidance: must be a list of",
        ),
        (
            {"guidance": {"title": "KCSIE", "url": "https://www.gov.uk/"}},
            "sections[1].questions[3].guidance: must be a list of",
        ),
        (
            {"guidance": [{"title": "KCSIE", "url": "https://www.gov.uk/", "note": "x"}]},
            "sections[1].questions[3].guidance: must be a list of",
        ),
        (
            {"type": "choice", "options": ["LA", ""]},
            "sections[1].questions[3].options: a choice question needs 2 or more options",
        ),
        (
            {"type": "choice", "options": ["LA", {"value": "LA", "label": "Local authority"}]},
            "sections[1].questions[3].options: option values must be different",
        ),
        (
            {"type": "choice", "not_applicable": True, "options": ["LA", "not_applicable"]},
            'sections[1].questions[3].options: "not_applicable" is the Not applicable answer',
        ),
    ],
)
def test_bad_new_fields_are_named_by_their_path(question, problem):
    extra = {"key": "extra", "text": "An extra question?", "type": "yes_no", **question}
    data = _with_prevent_questions(extra, {"key": "later_one", "text": "Later?", "type": "yes_no"})
    problems = validate_definition(data)
    assert any(p.startswith(problem) for p in problems), problems


def test_a_gap_rule_cannot_make_not_applicable_a_gap(app):
    data = _with_prevent_questions(
        {
            "key": "extra",
            "text": "An extra question?",
            "type": "yes_no",
            "not_applicable": True,
            "gap": {"when": ["not_applicable"]},
        }
    )
    with pytest.raises(DefinitionError) as error:
        load_template(data)
    assert (
        'sections[1].questions[3].gap: "when" lists "not_applicable", which is not an answer to a yes_no question'
        in error.value.problems
    )
