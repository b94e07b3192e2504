"""What a question accepts, how answers read back, when an answer is a gap, and which questions are asked.

Plain functions on plain values, shared by the form builder, the imports and the analysis, so a
value means the same thing everywhere. What differs by answer type is asked of the type's class
(``surveyapp.audits.answer_types``); Not applicable and conditions, which any type may have, are here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from surveyapp.audits.answer_types import InvalidAnswer, answer_type, make_date, option_objects, parse_date  # noqa: F401
from surveyapp.audits.models import QuestionType

#: the stored answer "Not applicable", allowed where a question says so; never met nor a gap
NOT_APPLICABLE = "not_applicable"
NOT_APPLICABLE_LABEL = "Not applicable"


def choices_for(
    question_type: QuestionType | str, options: list[dict[str, str]] | None = None
) -> list[tuple[str, str]]:
    return answer_type(question_type).choices(options)


def allowed_values(question_type, options=None) -> set[str]:
    return {value for value, _label in choices_for(question_type, options)}


def answer_choices(question) -> list[tuple[str, str]]:
    """The radio options a DSL sees for a question: its fixed answers, then "Not applicable" where allowed."""
    choices = choices_for(question.type, question.options)
    if choices and getattr(question, "not_applicable", False):
        choices = [*choices, (NOT_APPLICABLE, NOT_APPLICABLE_LABEL)]
    return choices


def normalise(
    question_type: QuestionType | str,
    raw: Any,
    options: list[dict[str, str]] | None = None,
    not_applicable: bool = False,
) -> str:
    """Turn raw input into the stored canonical text ('' for no answer).

    Accepts what a DSL or a spreadsheet would write: "Yes", "no", "Cannot confirm",
    "31/03/2026" or "2026-03-31", "85%", "12", and "Not applicable" where the question
    allows it. Raises InvalidAnswer with a reason.
    """
    text = "" if raw is None else str(raw).strip()
    if text == "":
        return ""
    if not_applicable and text.lower() in {NOT_APPLICABLE, "not applicable", "n/a", "na"}:
        return NOT_APPLICABLE
    return answer_type(question_type).normalise(text, options)


def display(question_type: QuestionType | str, value: str | None, options=None) -> str:
    """How a stored answer reads on a page or in a spreadsheet."""
    if not value:
        return ""
    if value == NOT_APPLICABLE:
        return NOT_APPLICABLE_LABEL
    return answer_type(question_type).display(value, options)


def is_gap(question_type: QuestionType | str, gap_rule: dict | None, value: str | None, reference: date) -> bool:
    """Is this answer a gap under the question's rule? No rule, no answer or Not applicable is never a gap.

    :param reference: the date the audit is judged at (the cycle's opening date), so
        "older than 12 months" means the same for every school in the cycle
    """
    if not gap_rule or not value or value == NOT_APPLICABLE:
        return False
    return answer_type(question_type).is_gap(value, gap_rule, reference)


def describe_gap_rule(question_type, gap_rule: dict | None, options=None) -> str:
    """Plain words for a rule, e.g. 'a gap when the answer is No or Partly'."""
    if not gap_rule:
        return ""
    return answer_type(question_type).describe_gap(gap_rule, options)


def skipped_keys(questions, values: dict[str, str]) -> set[str]:
    """Keys of the questions not asked because their condition is false.

    :param questions: every question of the template, in page order (anything with ``key`` and ``condition``)
    :param values: the answers given, by question key; a question that depends on a skipped one is skipped too
    """
    skipped: set[str] = set()
    for question in questions:
        condition = question.condition
        if condition and (
            condition["question"] in skipped or values.get(condition["question"], "") not in condition["in"]
        ):
            skipped.add(question.key)
    return skipped


def describe_condition(condition: dict | None, questions_by_key: dict) -> str:
    """Plain words for a condition, e.g. 'Only if your answer to ‘Do pupils attend alternative provision?’ is Yes.'"""
    if not condition:
        return ""
    target = questions_by_key.get(condition["question"])
    if target is None:
        return ""
    labels = dict(answer_choices(target))
    answers = " or ".join(labels.get(value, value) for value in condition["in"])
    return f"Only if your answer to ‘{target.text}’ is {answers}."
