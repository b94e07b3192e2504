"""Everything about one answer type, in one class per type.

A type says what its answers are (fixed choices or typed values), how raw input becomes the
stored text and how that text reads back, which gap rules apply to it and when an answer is a
gap, how its field is read from a posted page and drawn with the GOV.UK macros, which answers
are a class of their own in the analysis (partly, cannot confirm), and what the demo answers.
Adding a type is a new class here, registered in ``TYPES``: ``QuestionType`` (the stored type of a
template question) is made from the registry, and templates, the section page, imports, the analysis,
the exports and the demo all ask the type's class.

Plain values in, plain values out: no Flask, no database (the analysis imports this).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from surveyapp import timeutil
from surveyapp.timeutil import add_months

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class InvalidAnswer(ValueError):
    """The value is not a valid answer to the question; the message says why, for the user."""


def option_objects(options: list[str | dict[str, str]] | None) -> list[dict[str, str]]:
    """A choice question's options as {value, label} objects; a plain text is both its value and label."""
    return [{"value": o.strip(), "label": o.strip()} if isinstance(o, str) else o for o in options or []]


class AnswerType:
    """The behaviour every type shares; each type overrides what differs."""

    #: the stored name of the type, e.g. "yes_no" (``QuestionType`` has one member per type)
    value: str
    #: the GOV.UK macro that draws the field: "radios", "date", "textarea" or "input"
    macro = "input"
    #: the gap rules that apply: "when", "older_than_months", "below"
    gap_rules: tuple[str, ...] = ()
    #: answers that are a class of their own in the analysis, e.g. {"partly": "partly"}
    classes: dict[str, str] = {}
    #: read this from a spreadsheet or a form too, e.g. "not sure" for "unsure"
    synonyms: dict[str, str] = {}
    #: how often the demo leaves an optional question of this type blank
    demo_blank = 0.15

    # -- answers -------------------------------------------------------------------------

    def choices(self, options=None) -> list[tuple[str, str]]:
        """The fixed answers, as (value, label), in the order they are offered; [] for typed answers."""
        return []

    @property
    def has_choices(self) -> bool:
        return self.macro == "radios"

    def check_options(self, options: Any, where: str, problems: list[str]) -> list[dict[str, str]]:
        """Validate a definition's ``options``; return them as {value, label} objects."""
        if options is not None:
            problems.append(f"{where}.options: only choice questions have options")
        return []

    def normalise(self, text: str, options=None) -> str:
        """Turn non-empty raw input into the stored canonical text; raise InvalidAnswer with a reason."""
        lowered = text.lower()
        for value, label in self.choices(options):
            if lowered in (value.lower(), label.lower()):
                return value
        if lowered in self.synonyms:
            return self.synonyms[lowered]
        listed = ", ".join(label for _value, label in self.choices(options))
        raise InvalidAnswer(f"must be one of: {listed}")

    def display(self, value: str, options=None) -> str:
        """How a stored (non-empty) answer reads on a page or in a spreadsheet."""
        return dict(self.choices(options)).get(value, value)

    # -- gaps ----------------------------------------------------------------------------

    def check_gap_value(self, rule: str, value: Any, options, where: str, problems: list[str]) -> None:
        """Validate the value of a gap rule that applies to this type."""
        if rule == "when":
            allowed = {v for v, _label in self.choices(options)}
            if not isinstance(value, list) or not value:
                problems.append(f'{where}: "when" must list one or more answers')
                return
            for item in value:
                if item not in allowed:
                    problems.append(
                        f'{where}: "when" lists "{item}", which is not an answer to a {self.value} question'
                    )

    def gap_mask(self, values: np.ndarray, rule: dict, reference: date) -> np.ndarray:
        """Which of these stored answers are gaps under the rule (vectorised: one question, every establishment)."""
        if "when" in rule:
            return np.isin(values, [str(v) for v in rule["when"]])
        return np.zeros(len(values), dtype=bool)

    def is_gap(self, value: str, rule: dict, reference: date) -> bool:
        """``gap_mask`` for one stored answer, without building arrays: a page save or an import asks it
        once per answer, and a one-value pandas call costs a thousand times more than the comparison."""
        return "when" in rule and value in [str(v) for v in rule["when"]]

    def gap_values(self, rule: dict) -> list[str] | None:
        """Every stored answer that can be a gap under the rule, where they can be listed (the answers
        "when" names), so a database can pick out the few that may be gaps before ``is_gap`` decides;
        None where any answer may be one (a date, a number)."""
        return [str(v) for v in rule["when"]] if "when" in rule else []

    def describe_gap(self, rule: dict, options=None) -> str:
        if "when" in rule:
            labels = dict(self.choices(options))
            return "a gap when the answer is " + " or ".join(labels.get(v, v) for v in rule["when"])
        return ""

    # -- the section page ----------------------------------------------------------------

    def first_input_id(self, key: str) -> str:
        return key

    def read_posted(self, formdata, question) -> tuple[dict[str, str], str, str]:
        """(what was typed, canonical value, error) for the question's inputs in a posted page."""
        from surveyapp.audits.questions import normalise  # Not applicable is read there, for every type

        raw = formdata.get(question.key) or ""
        try:
            return {"value": raw}, normalise(question.type, raw, question.options, question.not_applicable), ""
        except InvalidAnswer as exc:
            return {"value": raw}, "", self.error_message(question, str(exc))

    def raw_from_value(self, value: str) -> dict[str, str]:
        return {"value": value}

    def error_message(self, question, reason: str) -> str:
        return f"Select an answer from the list for: {question.text}"

    def field_params(self, state, label: str, hint_html: str) -> dict:
        """The GOV.UK macro parameters for the field (hint and error are added by the form)."""
        raise NotImplementedError  # pragma: no cover - every type draws its own field

    # -- the demo ------------------------------------------------------------------------

    def demo_value(self, rng, question, strength: float, when: DemoContext) -> str:
        """A plausible answer: mostly good, more gaps the weaker the respondent."""
        raise NotImplementedError  # pragma: no cover - every type answers for itself


class DemoContext:
    """What a demo answer may depend on: when the cycle opened, when the section was saved, the pupils,
    and the comments a text answer picks from."""

    def __init__(self, opens_on: date, saved_on: date, pupils: int, comments: list[str]):
        self.opens_on, self.saved_on, self.pupils, self.comments = opens_on, saved_on, pupils, comments


class _Radios(AnswerType):
    macro = "radios"
    gap_rules = ("when",)
    fixed: list[tuple[str, str]] = []

    def choices(self, options=None):
        return self.fixed

    def field_params(self, state, label, hint_html):
        from surveyapp.audits.questions import answer_choices, normalise

        q = state.question
        chosen = state.raw.get("value", "")
        if chosen and not state.error:
            chosen = normalise(q.type, chosen, q.options, q.not_applicable)
        return {
            "name": q.key,
            "idPrefix": q.key,
            "fieldset": {"legend": {"text": label, "classes": "govuk-fieldset__legend--s"}},
            "items": [{"value": v, "text": t, "checked": v == chosen} for v, t in answer_choices(q)],
            "classes": "govuk-radios--inline" if self.value == "yes_no" else "",
        }


class YesNo(_Radios):
    value = "yes_no"
    fixed = [("yes", "Yes"), ("no", "No")]

    def demo_value(self, rng, question, strength, when):
        return "yes" if rng.random() < 0.85 + 0.14 * strength else "no"


class YesNoPartly(_Radios):
    value = "yes_no_partly"
    fixed = [("yes", "Yes"), ("partly", "Partly"), ("no", "No")]
    classes = {"partly": "partly"}

    def demo_value(self, rng, question, strength, when):
        return "yes" if rng.random() < 0.62 + 0.36 * strength else "partly" if rng.random() < 0.72 else "no"


class YesNoUnsure(_Radios):
    value = "yes_no_unsure"
    fixed = [("yes", "Yes"), ("no", "No"), ("unsure", "Cannot confirm")]
    classes = {"unsure": "cannot_confirm"}
    synonyms = {"cannot confirm": "unsure", "can't confirm": "unsure", "not sure": "unsure", "unknown": "unsure"}

    def demo_value(self, rng, question, strength, when):
        return "yes" if rng.random() < 0.74 + 0.24 * strength else "unsure" if rng.random() < 0.65 else "no"


class Choice(_Radios):
    value = "choice"

    def choices(self, options=None):
        return [(option["value"], option["label"]) for option in option_objects(options)]

    def check_options(self, options, where, problems):
        if (
            not isinstance(options, list)
            or len(options) < 2
            or not all(
                (isinstance(o, str) and o.strip())
                or (
                    isinstance(o, dict)
                    and set(o) == {"value", "label"}
                    and all(isinstance(v, str) and v for v in o.values())
                )
                for o in options
            )
        ):
            problems.append(
                f"{where}.options: a choice question needs 2 or more options, "
                'each a text or {"value": ..., "label": ...}'
            )
            return []
        options = option_objects(options)
        values = [o["value"] for o in options]
        if len(set(values)) != len(values):
            problems.append(f"{where}.options: option values must be different")
        return options

    def demo_value(self, rng, question, strength, when):
        gaps = (question.gap or {}).get("when", [])
        values = [option["value"] for option in option_objects(question.options)]
        weights = [0.06 * (1.3 - strength) if value in gaps else 6 / (index + 1) for index, value in enumerate(values)]
        return rng.choices(values, weights=weights)[0]


class Date(AnswerType):
    value = "date"
    macro = "date"
    gap_rules = ("older_than_months",)

    def normalise(self, text, options=None):
        return parse_date(text).isoformat()

    def display(self, value, options=None):
        parsed = date.fromisoformat(value)
        return f"{parsed.day} {parsed:%B %Y}"

    def check_gap_value(self, rule, value, options, where, problems):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.append(f'{where}: "older_than_months" must be a whole number of 1 or more')

    def gap_mask(self, values, rule, reference):
        if "older_than_months" not in rule:
            return np.zeros(len(values), dtype=bool)
        answered = pd.to_datetime(pd.Series(values), format="%Y-%m-%d", errors="coerce")
        limit = pd.Timestamp(add_months(reference, -int(rule["older_than_months"])))
        return (answered < limit).to_numpy(dtype=bool)

    def gap_values(self, rule):
        return None if "older_than_months" in rule else []

    def is_gap(self, value, rule, reference):
        if "older_than_months" not in rule:
            return False
        try:
            answered = datetime.strptime(value, "%Y-%m-%d").date()
        except (TypeError, ValueError):
            return False  # not a date: never a gap, as gap_mask's NaT
        return answered < add_months(reference, -int(rule["older_than_months"]))

    def describe_gap(self, rule, options=None):
        return f"a gap when the date is more than {rule['older_than_months']} months before the audit opened"

    def first_input_id(self, key):
        return f"{key}-day"

    def read_posted(self, formdata, question):
        from surveyapp.audits.forms import _date_from_parts  # GOV.UK wording for the three boxes

        raw = {part: (formdata.get(f"{question.key}-{part}") or "").strip() for part in ("day", "month", "year")}
        value, error = _date_from_parts(raw, date_name(question.text))
        return raw, value, error

    def raw_from_value(self, value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            return {}
        return {"day": str(parsed.day), "month": str(parsed.month), "year": str(parsed.year)}

    def field_params(self, state, label, hint_html):
        q = state.question
        from markupsafe import Markup

        from surveyapp.audits.forms import date_parts_in_error

        wrong = date_parts_in_error(state.raw) if state.error else set()
        error = {part: " govuk-input--error" if part in wrong else "" for part in ("day", "month", "year")}

        return {
            "id": q.key,
            "namePrefix": q.key,
            "fieldset": {"legend": {"text": label, "classes": "govuk-fieldset__legend--s"}},
            "items": [
                {
                    "name": "day",
                    "label": "Day",
                    "value": state.raw.get("day", ""),
                    "classes": "govuk-input--width-2" + error["day"],
                },
                {
                    "name": "month",
                    "label": "Month",
                    "value": state.raw.get("month", ""),
                    "classes": "govuk-input--width-2" + error["month"],
                },
                {
                    "name": "year",
                    "label": "Year",
                    "value": state.raw.get("year", ""),
                    "classes": "govuk-input--width-4" + error["year"],
                },
            ],
            "hint": {"html": Markup(hint_html + (" " if hint_html else "") + "For example, 27 3 2026")},
        }

    def demo_value(self, rng, question, strength, when):
        months = (question.gap or {}).get("older_than_months")
        if months is None:  # e.g. the governors' meeting: shortly before the return
            return (when.saved_on - timedelta(days=rng.randint(3, 45))).isoformat()
        limit = add_months(when.opens_on, -months)
        if rng.random() < 0.2 * (1.2 - strength):
            return (limit - timedelta(days=rng.randint(7, 240))).isoformat()  # out of date: a gap
        return (limit + timedelta(days=rng.randint(10, max(10, (when.saved_on - limit).days - 2)))).isoformat()


class Number(AnswerType):
    value = "number"
    gap_rules = ("below",)
    #: what the error and the suffix say
    example = "must be a number, like 12"

    def normalise(self, text, options=None):
        candidate = self._candidate(text)
        if not _NUMBER.match(candidate):
            raise InvalidAnswer(self.example)
        number = Decimal(candidate)
        if number < 0:
            raise InvalidAnswer("must be 0 or more")
        self._check_range(number)
        if number > 10_000_000:
            raise InvalidAnswer("is too large")
        return format(number.normalize(), "f")

    def _candidate(self, text: str) -> str:
        return text.replace(",", "")

    def _check_range(self, number: Decimal) -> None:
        pass

    def display(self, value, options=None):
        return value

    def check_gap_value(self, rule, value, options, where, problems):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            problems.append(f'{where}: "below" must be a number')

    def gap_mask(self, values, rule, reference):
        if "below" not in rule:
            return np.zeros(len(values), dtype=bool)
        number = pd.to_numeric(pd.Series(values), errors="coerce")
        return (number < float(rule["below"])).to_numpy(dtype=bool)

    def gap_values(self, rule):
        return None if "below" in rule else []

    def is_gap(self, value, rule, reference):
        if "below" not in rule:
            return False
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False  # not a number: never a gap, as gap_mask's NaN
        return number < float(rule["below"])

    def describe_gap(self, rule, options=None):
        return f"a gap when the answer is below {rule['below']}"

    def error_message(self, question, reason):
        return f"Enter a whole or decimal number for: {question.text}"

    def field_params(self, state, label, hint_html):
        q = state.question
        return {
            "name": q.key,
            "id": q.key,
            "value": state.raw.get("value", ""),
            "label": {"text": label, "classes": "govuk-label--s"},
            "inputmode": "decimal",
            "spellcheck": False,
            "classes": "govuk-input--width-5",
            "suffix": None,
        }

    def demo_value(self, rng, question, strength, when):
        return str(max(0, round(rng.gauss(when.pupils / 90, when.pupils / 200 + 1))))


class Percentage(Number):
    value = "percentage"
    example = "must be a percentage, like 85"

    def _candidate(self, text):
        return text.rstrip("%").strip().replace(",", "")

    def _check_range(self, number):
        if number > 100:
            raise InvalidAnswer("must be between 0 and 100")

    def display(self, value, options=None):
        return f"{value}%"

    def error_message(self, question, reason):
        return f"Enter a percentage between 0 and 100 for: {question.text}"

    def field_params(self, state, label, hint_html):
        return {**super().field_params(state, label, hint_html), "suffix": {"text": "%"}}

    def demo_value(self, rng, question, strength, when):
        below = max(70, min(99, 100 - round(1 + abs(rng.gauss(0, 8)))))  # 70-99: a gap under "below 100"
        return "100" if rng.random() < 0.3 + 0.6 * strength else str(below)


class Text(AnswerType):
    value = "text"
    macro = "textarea"
    demo_blank = 0.65
    limit = 5000

    def normalise(self, text, options=None):
        if len(text) > self.limit:
            raise InvalidAnswer("must be 5,000 characters or fewer")
        return text

    def display(self, value, options=None):
        return value

    def error_message(self, question, reason):
        return f"Enter 5,000 characters or fewer for: {question.text}"

    def field_params(self, state, label, hint_html):
        q = state.question
        return {
            "name": q.key,
            "id": q.key,
            "value": state.raw.get("value", ""),
            "label": {"text": label, "classes": "govuk-label--s"},
            "rows": 4,
        }

    def demo_value(self, rng, question, strength, when):
        return rng.choice(when.comments)


#: verbs whose past tense is not made by adding "ed" (the questions' "When did ... last <verb> ...?")
_IRREGULAR_PAST = {
    "do": "did",
    "go": "went",
    "have": "had",
    "hold": "held",
    "meet": "met",
    "give": "gave",
    "get": "got",
    "see": "saw",
    "take": "took",
    "undertake": "undertook",
    "write": "wrote",
    "run": "ran",
    "read": "read",
    "set": "set",
    "send": "sent",
    "teach": "taught",
}


def date_name(question_text: str) -> str:
    """What a date question asks for, as the start of its error messages (GOV.UK's "[whatever it is]
    must be a real date"), e.g. "When did the DSL last complete Prevent training?" gives "The date
    the DSL last completed Prevent training". A question worded otherwise is named in full."""
    text = question_text.strip().rstrip("?").strip()
    match = re.fullmatch(r"When (was|were) (.+?) ((?:last |first )?\w+(?:ed|en|wn|ne|t))\b(.*)", text, re.IGNORECASE)
    if match:
        verb, subject, participle, rest = match.groups()
        return f"The date {subject} {verb.lower()} {participle}{rest}"
    match = re.fullmatch(r"When did (.+?) (last|first) (\w+)\b(.*)", text, re.IGNORECASE)
    if match:
        subject, when, verb, rest = match.groups()
        return f"The date {subject} {when} {_past(verb)}{rest}"
    match = re.fullmatch(r"What (?:was|is) (the date\b.*)", text, re.IGNORECASE)
    if match:
        return match.group(1)[0].upper() + match.group(1)[1:]
    return f"The date for ‘{question_text.strip()}’"


def _past(verb: str) -> str:
    lowered = verb.lower()
    if lowered in _IRREGULAR_PAST:
        return _IRREGULAR_PAST[lowered]
    if lowered.endswith("e"):
        return verb + "d"
    if lowered.endswith("y") and lowered[-2:-1] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"


def parse_date(text: str) -> date:
    """Read ISO (2026-03-31) or UK (31/03/2026, 31-03-2026) dates; refuse anything else with a reason."""
    try:
        return timeutil.parse_date(text)
    except timeutil.NotADate as exc:
        raise InvalidAnswer(str(exc)) from None


def make_date(day: int, month: int, year: int) -> date:
    try:
        return timeutil.make_date(day, month, year)
    except timeutil.NotADate as exc:
        raise InvalidAnswer(str(exc)) from None


#: every answer type, by its stored name, in the order the types are listed to template authors
TYPES: dict[str, AnswerType] = {
    answer_type.value: answer_type
    for answer_type in (YesNo(), YesNoPartly(), YesNoUnsure(), Date(), Number(), Percentage(), Text(), Choice())
}


def answer_type(question_type: str) -> AnswerType:
    """The class of a type, from its ``QuestionType`` or its stored name."""
    try:
        return TYPES[str(question_type)]
    except KeyError:
        raise ValueError(f"{question_type!r} is not a question type") from None
