"""Audit forms: one builder for every section page, and the declaration.

Section pages are built from the template's questions rather than written by
hand, so a new template version needs no new code. The builder reads the posted
form, turns each answer into its canonical value (or a reason it is invalid),
and gives the template the GOV.UK macro parameters for each question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovDateInput, GovSubmitInput, GovTextInput
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateField, StringField, SubmitField, ValidationError
from wtforms.validators import InputRequired, Length

from surveyapp.audits.answer_types import AnswerType, answer_type
from surveyapp.audits.models import TemplateQuestion
from surveyapp.audits.questions import (
    NOT_APPLICABLE,
    NOT_APPLICABLE_LABEL,
    InvalidAnswer,
    describe_condition,
    describe_gap_rule,
    display,
    is_gap,
    make_date,
    skipped_keys,
)
from surveyapp.audits.services import FOLLOW_UP_PARTS, AnswerInput

_TEXT_LIMIT = 5000


@dataclass
class QuestionState:
    """One question on a section page: what to show in it and what is wrong with it."""

    question: TemplateQuestion
    raw: dict[str, str] = field(default_factory=dict)  # what is in the inputs, as typed
    value: str = ""  # canonical value when valid
    error: str = ""
    follow_up_raw: dict[str, str] = field(default_factory=dict)
    #: follow-up parts of a gap answer that are invalid: the answer is not saved until they are put right
    follow_up_errors: dict[str, str] = field(default_factory=dict)
    #: follow-up parts of a gap answer still empty: saved as they are, and named until filled in
    follow_up_missing: dict[str, str] = field(default_factory=dict)
    from_last_year: bool = False
    trust_answer: str = ""  # display text of the covering trust's answer
    saved_by_other: str | None = None  # display text of a conflicting saved answer
    skipped: bool = False  # not asked: its condition is false
    condition_here: bool = False  # its condition rests on a question on this same page
    condition_text: str = ""  # when it is asked, in plain words

    @property
    def key(self) -> str:
        return self.question.key

    @property
    def answer_type(self) -> AnswerType:
        return answer_type(self.question.type)

    @property
    def first_input_id(self) -> str:
        return self.answer_type.first_input_id(self.key)

    @property
    def has_choices(self) -> bool:
        return self.answer_type.has_choices

    @property
    def follow_up_messages(self) -> dict[str, str]:
        """What to say beside each follow-up field: what is wrong with it, or that it is still empty."""
        return {**self.follow_up_missing, **self.follow_up_errors}

    @property
    def follow_up_target(self) -> tuple[str, str]:
        """The follow-up's target date as (iso date, '') or ('', what is wrong with it); ('', '') if left empty."""
        raw = self.follow_up_raw
        parts = {
            "day": raw.get("target_day", ""),
            "month": raw.get("target_month", ""),
            "year": raw.get("target_year", ""),
        }
        value, error = _date_from_parts(parts, "The date the action will be done by")
        return value, (f"{error} for: {self.question.text}" if error else "")


class SectionForm:
    """The answers on one section page."""

    def __init__(
        self, questions: list[TemplateQuestion], reference: date, all_questions: list[TemplateQuestion] | None = None
    ):
        self.questions = questions
        self.reference = reference
        #: every question of the template in page order, for conditions that rest on another section
        self.all_questions = all_questions if all_questions is not None else questions
        self.states: list[QuestionState] = [QuestionState(q) for q in questions]
        self.version = 0
        here = {q.key for q in questions}
        by_key = {q.key: q for q in self.all_questions}
        for state in self.states:
            condition = state.question.condition
            if condition:
                state.condition_here = condition["question"] in here
                state.condition_text = describe_condition(condition, by_key)

    def apply_conditions(self, other_values: dict[str, str]) -> None:
        """Mark the questions whose condition is false, from this page's answers and the saved ones elsewhere.

        A skipped question is never required and its answer is cleared on save, so a stale
        answer to a question no longer asked is not kept."""
        values = {**other_values, **{state.key: state.value for state in self.states}}
        skipped = skipped_keys(self.all_questions, values)
        for state in self.states:
            state.skipped = state.key in skipped
            if state.skipped:
                state.error = ""
                state.follow_up_errors = {}
                state.follow_up_missing = {}

    # -- filling -------------------------------------------------------------------------

    def fill_saved(self, saved: dict, previous: dict[str, str], trust_answers: dict) -> None:
        """Show saved answers; where a question has none, last year's answer (marked as such)."""
        for state in self.states:
            answer = saved.get(state.key)
            q = state.question
            if answer is not None and answer.value:
                state.raw = _raw_from_value(q, answer.value)
                state.value = answer.value
                state.follow_up_raw = _raw_follow_up(answer.follow_up)
            elif previous.get(state.key):
                state.raw = _raw_from_value(q, previous[state.key])
                state.from_last_year = True
            trust_answer = trust_answers.get(state.key)
            if trust_answer is not None and trust_answer.value and not state.value:
                state.trust_answer = display(q.type, trust_answer.value, q.options)

    def fill_posted(self, formdata: MultiDict) -> None:
        """Read what was posted and validate each answer on its own."""
        for state in self.states:
            q = state.question
            state.raw, state.value, state.error = state.answer_type.read_posted(formdata, q)
            if q.not_applicable and not state.has_choices and formdata.get(f"{q.key}__na") == NOT_APPLICABLE:
                state.raw["na"] = NOT_APPLICABLE
                if state.value or state.error:
                    state.error = f"Either answer, or select Not applicable, not both, for: {q.text}"
                    state.value = ""
                else:
                    state.value = NOT_APPLICABLE
            if q.follow_up:
                state.follow_up_raw = {
                    "action": (formdata.get(f"{q.key}__action") or "").strip(),
                    "owner": (formdata.get(f"{q.key}__owner") or "").strip(),
                    "target_day": (formdata.get(f"{q.key}__target-day") or "").strip(),
                    "target_month": (formdata.get(f"{q.key}__target-month") or "").strip(),
                    "target_year": (formdata.get(f"{q.key}__target-year") or "").strip(),
                }
                if self._is_gap(state):
                    self._check_follow_up(state)

    def _is_gap(self, state: QuestionState) -> bool:
        q = state.question
        return bool(q.follow_up) and not state.error and is_gap(q.type, q.gap, state.value, self.reference)

    def _check_follow_up(self, state: QuestionState) -> None:
        # Only a gap's follow-up is read: one left behind by an answer changed to "Yes" is not asked for.
        raw, text = state.follow_up_raw, state.question.text
        if len(raw["action"]) > _TEXT_LIMIT:
            state.follow_up_errors["action"] = f"Enter an action of 5,000 characters or fewer for: {text}"
        if len(raw["owner"]) > 200:
            state.follow_up_errors["owner"] = f"Enter who will do the action in 200 characters or fewer for: {text}"
        _value, error = state.follow_up_target
        if error:
            state.follow_up_errors["target_date"] = error

    def require_follow_ups(self) -> None:
        """Name each part of a gap's follow-up that is still empty, beside its field.

        Called when a section is saved (and when arriving from the check answers page). A part left
        empty is not refused: the DSL may not know yet who will do the action, and answers the audit
        over several sittings, as a required answer left blank is saved too."""
        from surveyapp.audits.services import missing_follow_up_parts

        for state in self.states:
            if state.skipped or state.error:
                continue
            raw = state.follow_up_raw
            given = {
                "action": raw.get("action"),
                "owner": raw.get("owner"),
                "target_date": any(raw.get(f"target_{p}") for p in ("day", "month", "year")),
            }
            for part in missing_follow_up_parts(state.question, state.value, given, self.reference):
                if part not in state.follow_up_errors:
                    state.follow_up_missing[part] = _FOLLOW_UP_MISSING[part] + state.question.text

    # -- results -------------------------------------------------------------------------

    @property
    def has_errors(self) -> bool:
        return any((s.error or s.follow_up_errors or s.follow_up_missing) and not s.skipped for s in self.states)

    @property
    def has_unsaved(self) -> bool:
        """Some answers were refused (invalid), so they are on the page but not saved."""
        return any((s.error or s.follow_up_errors) and not s.skipped for s in self.states)

    @property
    def missing_follow_ups(self) -> int:
        """How many gaps' follow-ups still have a part to fill in."""
        return sum(1 for s in self.states if s.follow_up_missing and not s.skipped)

    def saved_message(self, title: str) -> str:
        """What to say on the task list after "Save and come back later": saved, and any follow-ups still to add."""
        message = f"Your answers to ‘{title}’ have been saved."
        if self.missing_follow_ups:
            gaps = "1 gap" if self.missing_follow_ups == 1 else f"{self.missing_follow_ups} gaps"
            message += f" Add the action, owner and date for {gaps} in that section before you submit."
        return message

    def valid_inputs(self) -> dict[str, AnswerInput]:
        """The answers that can be saved; invalid ones are left as they were."""
        inputs = {}
        for state in self.states:
            if state.skipped:
                inputs[state.key] = AnswerInput("", None)
                continue
            if state.error:
                continue
            follow_up = None
            if self._is_gap(state):
                if state.follow_up_errors:
                    continue
                raw = state.follow_up_raw
                target, _error = state.follow_up_target
                follow_up = {"action": raw.get("action", ""), "owner": raw.get("owner", ""), "target_date": target}
                if not any(follow_up.values()):
                    follow_up = None
            inputs[state.key] = AnswerInput(state.value, follow_up)
        return inputs

    def error_list(self) -> list[dict[str, str]]:
        """For govukErrorSummary: each error links to its field."""
        errors = []
        for state in self.states:
            if state.skipped:
                continue
            if state.error:
                errors.append({"text": state.error, "href": f"#{state.first_input_id}"})
            messages = state.follow_up_messages
            if set(state.follow_up_missing) == set(FOLLOW_UP_PARTS):
                # Nothing of the follow-up given: one line, as the check answers page says it.
                messages = {"action": f"Add the action, owner and date for: {state.question.text}"}
            for part in FOLLOW_UP_PARTS:
                if part in messages:
                    errors.append({"text": messages[part], "href": f"#{_follow_up_input_id(state.key, part)}"})
        return errors

    # -- rendering -----------------------------------------------------------------------

    def follow_up_date_classes(self, state: QuestionState) -> dict[str, str]:
        """The extra classes of the follow-up's target date boxes: the error border on those in error."""
        if not state.follow_up_messages.get("target_date"):
            return {"day": "", "month": "", "year": ""}
        raw = state.follow_up_raw
        wrong = date_parts_in_error(
            {"day": raw.get("target_day"), "month": raw.get("target_month"), "year": raw.get("target_year")}
        )
        return {part: " govuk-input--error" if part in wrong else "" for part in ("day", "month", "year")}

    def follow_up_in_radios(self, state: QuestionState) -> bool:
        """The follow-up is revealed under the answers that are a gap (a radio question with a "when" rule);
        for a date or number, whose gap depends on the value typed, it stays below the field."""
        return bool(state.question.follow_up) and state.has_choices and bool((state.question.gap or {}).get("when"))

    def follow_up_legend(self, state: QuestionState) -> str:
        q = state.question
        rule = describe_gap_rule(q.type, q.gap, q.options)
        prompt = (q.follow_up or {}).get("prompt") or "What action is planned, who will do it and by when?"
        # The rule reads "a gap when the answer is No" or "... when the date is more than 12 months ...".
        when = rule.removeprefix("a gap when ").replace("the answer is ", "your answer is ", 1)
        return prompt, f"Answer this if {when}." if rule else ""

    def params_for(self, state: QuestionState, follow_up_html: str = "") -> dict:
        """GOV.UK macro parameters for the question's main input.

        :param follow_up_html: the follow-up's fields, revealed under the gap answers of a radio question
        """
        q = state.question
        label = q.text if q.required else f"{q.text} (optional)"
        hint_html = ""
        if state.from_last_year:
            hint_html += '<strong class="govuk-tag govuk-tag--grey">From last year</strong> '
        if q.help:
            hint_html += str(escape(q.help))
        params: dict = {"hint": {"html": Markup(hint_html)} if hint_html else None}
        if state.error:
            params["errorMessage"] = {"text": state.error}
        params.update(state.answer_type.field_params(state, label, hint_html))
        if follow_up_html:
            self._reveal_under_gaps(state, params["items"], follow_up_html)
        return params

    def _reveal_under_gaps(self, state: QuestionState, items: list[dict], follow_up_html: str) -> None:
        # Each gap answer gets its own conditional reveal (GOV.UK Frontend sets aria-expanded and
        # aria-controls on it), but the fields are drawn once, so they post once: under the gap chosen,
        # or the first gap; static/app.js moves them to whichever gap is chosen next. Without
        # JavaScript every reveal shows, and the fields sit under the first gap with a hint saying when.
        gaps = [item for item in items if item["value"] in state.question.gap["when"]]
        home = next((item for item in gaps if item["checked"]), gaps[0] if gaps else None)
        for item in gaps:
            item["conditional"] = {
                "html": follow_up_html if item is home else Markup('<div class="app-follow-up-slot"></div>')
            }

    def not_applicable_params(self, state: QuestionState) -> dict:
        """GOV.UK checkboxes parameters for "Not applicable" beside a date, number or text question."""
        return {
            "name": f"{state.key}__na",
            "idPrefix": f"{state.key}__na",
            "classes": "govuk-checkboxes--small",
            "items": [
                {
                    "value": NOT_APPLICABLE,
                    "text": NOT_APPLICABLE_LABEL,
                    "checked": state.raw.get("na") == NOT_APPLICABLE,
                    "hint": {"text": f"Select this instead of answering: {state.question.text}"},
                }
            ],
        }


_FOLLOW_UP_MISSING = {
    "action": "Enter the action planned for: ",
    "owner": "Enter who will do the action for: ",
    "target_date": "Enter the date the action will be done by for: ",
}


def _follow_up_input_id(key: str, part: str) -> str:
    return f"{key}__target-day" if part == "target_date" else f"{key}__{part}"


def _raw_from_value(question: TemplateQuestion, value: str) -> dict[str, str]:
    kind = answer_type(question.type)
    if value == NOT_APPLICABLE:
        return {"value": value} if kind.has_choices else {"na": value}
    return kind.raw_from_value(value)


def _raw_follow_up(follow_up: dict | None) -> dict[str, str]:
    follow_up = follow_up or {}
    raw = {"action": follow_up.get("action", ""), "owner": follow_up.get("owner", "")}
    target = follow_up.get("target_date")
    if target:
        parsed = date.fromisoformat(target)
        raw.update(target_day=str(parsed.day), target_month=str(parsed.month), target_year=str(parsed.year))
    return raw


def _date_from_parts(parts: dict[str, str], what: str) -> tuple[str, str]:
    """Return (iso date, '') or ('', GOV.UK-style error); ('', '') when every box is empty.

    :param what: the date as the error names it, e.g. "The date the DSL last completed Prevent training"
    """
    day, month, year = parts.get("day", ""), parts.get("month", ""), parts.get("year", "")
    if not (day or month or year):
        return "", ""
    missing = [name for name, value in (("day", day), ("month", month), ("year", year)) if not value]
    if missing:
        return "", f"{what} must include a {' and '.join(missing)}"
    if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
        return "", f"{what} must be a real date, with a 4-digit year"
    try:
        return make_date(int(day), int(month), int(year)).isoformat(), ""
    except InvalidAnswer:
        return "", f"{what} must be a real date"


def date_parts_in_error(parts: dict[str, str]) -> set[str]:
    """The boxes of a date in error that get the error border: the empty ones when only some
    are empty (the message names them), otherwise all three."""
    empty = {name for name in ("day", "month", "year") if not parts.get(name)}
    return empty if empty and len(empty) < 3 else {"day", "month", "year"}


class GovDateField(DateField):
    """A date in three boxes (day, month, year), with GOV.UK error wording."""

    def process_formdata(self, valuelist):
        if valuelist and len(valuelist) != 3:
            # A forged or broken post: keep three boxes so the page can show them again.
            self.raw_data = (list(valuelist) + ["", "", ""])[:3]
            self.data = None
            raise ValueError("The date must be a real date, with a day, month and year")
        if not valuelist or not any(part.strip() for part in valuelist):
            # Boxes left out of the post altogether are shown again empty, not as a server error.
            self.raw_data = ["", "", ""]
            self.data = None
            return
        value, error = _date_from_parts(
            dict(zip(("day", "month", "year"), (p.strip() for p in valuelist), strict=True)), "The date"
        )
        if error:
            self.data = None
            raise ValueError(error)
        self.data = date.fromisoformat(value)


class DeclarationForm(FlaskForm):
    """The sign-off: who declares the audit accurate, and when."""

    headteacher_name = StringField(
        "Headteacher’s full name",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the headteacher’s full name"), Length(max=200)],
    )
    chair_name = StringField(
        "Chair of governors’ full name",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the chair of governors’ full name"), Length(max=200)],
    )
    declaration_date = GovDateField(
        "Date of the declaration",
        widget=GovDateInput(),
        format="%d %m %Y",
        description="For example, 27 3 2027",
        validators=[InputRequired("Enter the date of the declaration")],
    )
    confirm = BooleanField(
        "We confirm that the answers in this audit are accurate to the best of our knowledge, and that "
        "the governing body will be told of the findings and the actions planned.",
        widget=GovCheckboxInput(),
        validators=[InputRequired("Confirm that the answers are accurate")],
    )
    submit = SubmitField("Submit the audit", widget=GovSubmitInput())

    def __init__(self, *args, for_trust: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if for_trust:
            # New validator objects: the class's are shared by every form, school or trust.
            self.headteacher_name.label.text = "Chief executive’s full name"
            self.headteacher_name.validators = [InputRequired("Enter the chief executive’s full name"), Length(max=200)]
            self.chair_name.label.text = "Chair of trustees’ full name"
            self.chair_name.validators = [InputRequired("Enter the chair of trustees’ full name"), Length(max=200)]

    def validate_declaration_date(self, field):
        from surveyapp.timeutil import today

        if field.data and field.data > today():
            raise ValidationError("The date of the declaration must be today or in the past")
        if field.data and field.data.year < 2000:
            raise ValidationError("The date of the declaration must be a real date")

    def validate_headteacher_name(self, field):
        _refuse_formula(field)

    def validate_chair_name(self, field):
        _refuse_formula(field)


def _refuse_formula(field) -> None:
    # Names go into the board's spreadsheets; a leading = + - @ would run there as a formula.
    if (field.data or "").strip()[:1] in ("=", "+", "-", "@"):
        raise ValidationError("Enter a name, not a formula")
