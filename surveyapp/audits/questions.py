"""What each question type accepts, how answers read back, and when an answer is a gap.

Plain functions on plain values, shared by the form builder, the imports and
the analysis, so a value means the same thing everywhere.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from surveyapp.audits.models import QuestionType
from surveyapp.timeutil import add_months

#: the fixed answers of the yes/no question types, in the order they are offered
FIXED_CHOICES: dict[QuestionType, list[tuple[str, str]]] = {
    QuestionType.YES_NO: [("yes", "Yes"), ("no", "No")],
    QuestionType.YES_NO_PARTLY: [("yes", "Yes"), ("partly", "Partly"), ("no", "No")],
    QuestionType.YES_NO_UNSURE: [("yes", "Yes"), ("no", "No"), ("unsure", "Cannot confirm")],
}

#: the stored answer "Not applicable", allowed where a question says so; never met nor a gap
NOT_APPLICABLE = "not_applicable"
NOT_APPLICABLE_LABEL = "Not applicable"

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class InvalidAnswer(ValueError):
    """The value is not a valid answer to the question; the message says why, for the user."""


def option_objects(options: list[str | dict[str, str]] | None) -> list[dict[str, str]]:
    """A choice question's options as {value, label} objects; a plain text is both its value and label."""
    return [{"value": o.strip(), "label": o.strip()} if isinstance(o, str) else o for o in options or []]


def choices_for(question_type: QuestionType | str, options: list[dict[str, str]] | None = None) -> list[tuple[str, str]]:
    question_type = QuestionType(question_type)
    if question_type in FIXED_CHOICES:
        return FIXED_CHOICES[question_type]
    if question_type is QuestionType.CHOICE:
        return [(option["value"], option["label"]) for option in option_objects(options)]
    return []


def allowed_values(question_type, options=None) -> set[str]:
    return {value for value, _label in choices_for(question_type, options)}


def answer_choices(question) -> list[tuple[str, str]]:
    """The radio options a DSL sees for a question: its fixed answers, then "Not applicable" where allowed."""
    choices = choices_for(question.type, question.options)
    if choices and getattr(question, "not_applicable", False):
        choices = [*choices, (NOT_APPLICABLE, NOT_APPLICABLE_LABEL)]
    return choices


def normalise(question_type: QuestionType | str, raw: Any, options: list[dict[str, str]] | None = None,
              not_applicable: bool = False) -> str:
    """Turn raw input into the stored canonical text ('' for no answer).

    Accepts what a DSL or a spreadsheet would write: "Yes", "no", "Cannot confirm",
    "31/03/2026" or "2026-03-31", "85%", "12", and "Not applicable" where the question
    allows it. Raises InvalidAnswer with a reason.
    """
    question_type = QuestionType(question_type)
    text = "" if raw is None else str(raw).strip()
    if text == "":
        return ""
    if not_applicable and text.lower() in {NOT_APPLICABLE, "not applicable", "n/a", "na"}:
        return NOT_APPLICABLE
    if question_type in FIXED_CHOICES or question_type is QuestionType.CHOICE:
        lowered = text.lower()
        for value, label in choices_for(question_type, options):
            if lowered in (value.lower(), label.lower()):
                return value
        if question_type is QuestionType.YES_NO_UNSURE and lowered in {"cannot confirm", "can't confirm", "not sure", "unknown"}:
            return "unsure"
        listed = ", ".join(label for _value, label in choices_for(question_type, options))
        raise InvalidAnswer(f"must be one of: {listed}")
    if question_type is QuestionType.DATE:
        return parse_date(text).isoformat()
    if question_type in (QuestionType.NUMBER, QuestionType.PERCENTAGE):
        candidate = text.rstrip("%").strip().replace(",", "") if question_type is QuestionType.PERCENTAGE else text.replace(",", "")
        if not _NUMBER.match(candidate):
            raise InvalidAnswer("must be a number, like 12" if question_type is QuestionType.NUMBER else "must be a percentage, like 85")
        number = Decimal(candidate)
        if number < 0:
            raise InvalidAnswer("must be 0 or more")
        if question_type is QuestionType.PERCENTAGE and number > 100:
            raise InvalidAnswer("must be between 0 and 100")
        if number > 10_000_000:
            raise InvalidAnswer("is too large")
        return format(number.normalize(), "f")
    if question_type is QuestionType.TEXT:
        if len(text) > 5000:
            raise InvalidAnswer("must be 5,000 characters or fewer")
        return text
    raise InvalidAnswer("is not a known question type")  # pragma: no cover - guarded by template validation


def parse_date(text: str) -> date:
    """Read ISO (2026-03-31) or UK (31/03/2026, 31-03-2026) dates; refuse anything else."""
    text = text.strip()
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        match = re.fullmatch(r"(\d{1,2})[/\-. ](\d{1,2})[/\-. ](\d{4})", text)
        if not match:
            raise InvalidAnswer("must be a date, like 31/03/2026")
        day, month, year = (int(part) for part in match.groups())
    return make_date(day, month, year)


def make_date(day: int, month: int, year: int) -> date:
    if not 1900 <= year <= 2100:
        raise InvalidAnswer("must have a year between 1900 and 2100")
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidAnswer("must be a real date") from exc


def display(question_type: QuestionType | str, value: str | None, options=None) -> str:
    """How a stored answer reads on a page or in a spreadsheet."""
    if not value:
        return ""
    if value == NOT_APPLICABLE:
        return NOT_APPLICABLE_LABEL
    question_type = QuestionType(question_type)
    if question_type in FIXED_CHOICES or question_type is QuestionType.CHOICE:
        return dict(choices_for(question_type, options)).get(value, value)
    if question_type is QuestionType.DATE:
        parsed = date.fromisoformat(value)
        return f"{parsed.day} {parsed:%B %Y}"
    if question_type is QuestionType.PERCENTAGE:
        return f"{value}%"
    return value


def is_gap(question_type: QuestionType | str, gap_rule: dict | None, value: str | None, reference: date) -> bool:
    """Is this answer a gap under the question's rule? No rule or no answer is never a gap.

    :param reference: the date the audit is judged at (the cycle's opening date), so
        "older than 12 months" means the same for every school in the cycle
    """
    if not gap_rule or not value or value == NOT_APPLICABLE:
        return False
    if "when" in gap_rule:
        return value in gap_rule["when"]
    if "older_than_months" in gap_rule:
        try:
            answered = date.fromisoformat(value)
        except ValueError:
            return False
        return answered < add_months(reference, -int(gap_rule["older_than_months"]))
    if "below" in gap_rule:
        try:
            return Decimal(value) < Decimal(str(gap_rule["below"]))
        except InvalidOperation:
            return False
    return False


def describe_gap_rule(question_type, gap_rule: dict | None, options=None) -> str:
    """Plain words for a rule, e.g. 'a gap when the answer is No or Partly'."""
    if not gap_rule:
        return ""
    if "when" in gap_rule:
        labels = dict(choices_for(question_type, options))
        return "a gap when the answer is " + " or ".join(labels.get(v, v) for v in gap_rule["when"])
    if "older_than_months" in gap_rule:
        return f"a gap when the date is more than {gap_rule['older_than_months']} months before the audit opened"
    return f"a gap when the answer is below {gap_rule['below']}"


def skipped_keys(questions, values: dict[str, str]) -> set[str]:
    """Keys of the questions not asked because their condition is false.

    :param questions: every question of the template, in page order (anything with ``key`` and ``condition``)
    :param values: the answers given, by question key; a question that depends on a skipped one is skipped too
    """
    skipped: set[str] = set()
    for question in questions:
        condition = question.condition
        if condition and (condition["question"] in skipped or values.get(condition["question"], "") not in condition["in"]):
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
