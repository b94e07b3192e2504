"""The template editor's forms. Each turns what the lead typed into the definition's shape and back."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from surveyapp.audits.models import QuestionType
from surveyapp.audits.questions import NOT_APPLICABLE, NOT_APPLICABLE_LABEL, choices_for, option_objects

#: the answer types in the lead's words, in the order offered
TYPE_LABELS = [
    ("yes_no", "Yes or no"),
    ("yes_no_partly", "Yes, partly or no"),
    ("yes_no_unsure", "Yes, no or cannot confirm"),
    ("choice", "One of a list of options"),
    ("date", "A date"),
    ("number", "A number"),
    ("percentage", "A percentage"),
    ("text", "Text"),
]
DEFAULT_FOLLOW_UP = "What action is planned, who will do it and by when?"


class _Versioned(FlaskForm):
    #: the draft's lock version when the page was opened
    lock_version = HiddenField()

    @property
    def opened_at(self) -> int:
        try:
            return int(self.lock_version.data)
        except (TypeError, ValueError):
            return -1


def _refuse_formula(text: str | None) -> None:
    # Question texts reach the board's spreadsheets; a leading = + - @ would run there as a formula.
    if (text or "").strip()[:1] in ("=", "+", "-", "@"):
        raise ValidationError("Start with a word, not = + - or @")


class StartDraftForm(FlaskForm):
    source = RadioField(
        "How do you want to start the new version?",
        widget=GovRadioInput(),
        choices=[
            ("live", "Copy the live version and change it"),
            ("scratch", "Start from scratch"),
            ("upload", "Upload a JSON file"),
        ],
        validators=[InputRequired("Choose how to start the new version")],
    )
    upload = FileField(
        "JSON file",
        widget=GovFileInput(),
        description="Only if you chose to upload a file",
        validators=[FileAllowed(["json"], "The selected file must be a JSON file")],
    )
    submit = SubmitField("Start the new version", widget=GovSubmitInput())

    def __init__(self, *args, has_live: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not has_live:
            self.source.choices = self.source.choices[1:]


class NewTemplateForm(FlaskForm):
    source = RadioField(
        "How do you want to start?",
        widget=GovRadioInput(),
        choices=[("scratch", "Start from scratch"), ("upload", "Upload a JSON file")],
        validators=[InputRequired("Choose how to start the template")],
    )
    key = StringField(
        "Key",
        widget=GovTextInput(),
        validators=[Length(max=80)],
        description=(
            'Lower-case letters, digits and "-", like "early-help-audit". '
            "Used in links and files; it cannot change later."
        ),
    )
    title = StringField("Title", widget=GovTextInput(), validators=[Length(max=255)])
    upload = FileField(
        "JSON file",
        widget=GovFileInput(),
        description="Only if you chose to upload a file",
        validators=[FileAllowed(["json"], "The selected file must be a JSON file")],
    )
    submit = SubmitField("Start the template", widget=GovSubmitInput())


class DetailsForm(_Versioned):
    title = StringField("Title", widget=GovTextInput(), validators=[InputRequired("Enter a title"), Length(max=255)])
    description = TextAreaField(
        "Description",
        widget=GovTextArea(),
        validators=[Length(max=5000)],
        description="Shown to schools above the task list",
    )
    submit = SubmitField("Save", widget=GovSubmitInput())

    def validate_title(self, field):
        _refuse_formula(field.data)


class SectionDetailsForm(_Versioned):
    title = StringField(
        "Section title",
        widget=GovTextInput(),
        validators=[InputRequired("Enter a title for the section"), Length(max=255)],
    )
    description = TextAreaField(
        "Description",
        widget=GovTextArea(),
        validators=[Length(max=5000)],
        description="Optional: shown under the title on the section’s page",
    )
    submit = SubmitField("Save", widget=GovSubmitInput())

    def validate_title(self, field):
        _refuse_formula(field.data)


class ActionForm(_Versioned):
    """A button on the draft's page: move, remove, publish, discard."""

    direction = HiddenField()


class QuestionForm(_Versioned):
    text = TextAreaField(
        "Question", widget=GovTextArea(), validators=[InputRequired("Enter the question"), Length(max=2000)]
    )
    key = StringField(
        "Key",
        widget=GovTextInput(),
        validators=[Length(max=80)],
        description="Answers are matched across years by key: last year’s answer to a question with the same key "
        "is offered again. Give the question a new key when its meaning changes. Leave blank on a new "
        "question to make one from its words.",
    )
    type = RadioField(
        "Type of answer",
        widget=GovRadioInput(),
        choices=TYPE_LABELS,
        validators=[InputRequired("Choose the type of answer")],
    )
    options = TextAreaField(
        "Options",
        widget=GovTextArea(),
        description="For “One of a list of options”: one option per line. To store a short value beside "
        "the words shown, write it first and a bar: “la | Local authority”.",
    )
    required = RadioField(
        "Must it be answered?",
        widget=GovRadioInput(),
        choices=[("yes", "Yes"), ("no", "No, it is optional")],
        default="yes",
        validators=[InputRequired("Say whether the question must be answered")],
    )
    not_applicable = BooleanField(
        "Allow “Not applicable” as an answer",
        widget=GovCheckboxInput(),
        description="It is never counted as met or as a gap.",
    )
    help = TextAreaField(
        "Help text",
        widget=GovTextArea(),
        validators=[Length(max=5000)],
        description="Optional: shown under the question",
    )
    guidance = TextAreaField(
        "Guidance links",
        widget=GovTextArea(),
        description="Optional: one link per line, the title, a bar and the web address, like "
        "“KCSIE 2025, paragraph 103 | https://www.gov.uk/...”",
    )
    tags = StringField(
        "Tags",
        widget=GovTextInput(),
        description="Optional: words that group questions in the analysis, "
        "separated by commas, like “prevent, training”",
    )
    gap_kind = RadioField(
        "When is an answer a gap?",
        widget=GovRadioInput(),
        default="none",
        choices=[
            ("none", "Never: this question has no gap rule"),
            ("when", "When the answer is one of those ticked"),
            ("older", "When a date is too long before the audit opens"),
            ("below", "When a number is below a threshold"),
        ],
    )
    gap_when = SelectMultipleField("Answers that are a gap", widget=GovCheckboxesInput(), validate_choice=False)
    gap_months = IntegerField(
        "Months",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=1, max=600)],
        description="A gap when the date is more than this many months before the audit opened",
    )
    gap_below = StringField(
        "Threshold", widget=GovTextInput(), description="A gap when the answer is below this number"
    )
    follow_up = BooleanField("Ask for an action plan when the answer is a gap", widget=GovCheckboxInput())
    follow_up_prompt = StringField(
        "What to ask",
        widget=GovTextInput(),
        validators=[Length(max=500)],
        description=f"For example: “{DEFAULT_FOLLOW_UP}”",
    )
    condition_question = SelectField("Ask this question", widget=GovSelect(), validate_choice=False)
    condition_answers = StringField(
        "Only when the answer to that question is",
        widget=GovTextInput(),
        description="The answers, separated by commas, like “Yes, Partly”",
    )
    submit = SubmitField("Save question", widget=GovSubmitInput())

    def __init__(self, *args, earlier: list[dict] = (), **kwargs):
        super().__init__(*args, **kwargs)
        #: earlier questions with fixed answers: a condition can depend only on these
        self.earlier = {q["key"]: q for q in earlier if _answers_of(q)}
        self.condition_question.choices = [SelectChoice("", "Always")] + [
            SelectChoice(key, f"Only if: {q.get('text', key)}") for key, q in self.earlier.items()
        ]
        self._gap_choices()

    def _gap_choices(self) -> None:
        # Every fixed answer, and this question's options: the type may change on the same page.
        values = [("yes", "Yes"), ("no", "No"), ("partly", "Partly"), ("unsure", "Cannot confirm")]
        values += [
            (o["value"], o["label"])
            for o in option_objects(self._options_now())
            if o["value"] not in {v for v, _l in values}
        ]
        self.gap_when.choices = values

    def _options_now(self) -> list:
        try:
            return parse_options(self.options.data or "")
        except ValueError:
            return []

    # -- from a stored question ---------------------------------------------------------

    def fill(self, question: dict) -> None:
        self.text.data = question.get("text", "")
        self.key.data = question.get("key", "")
        self.type.data = question.get("type")
        self.options.data = "\n".join(
            o if isinstance(o, str) else (o["label"] if o["value"] == o["label"] else f"{o['value']} | {o['label']}")
            for o in question.get("options", [])
        )
        self.required.data = "yes" if question.get("required", True) else "no"
        self.not_applicable.data = bool(question.get("not_applicable"))
        self.help.data = question.get("help", "")
        self.guidance.data = "\n".join(f"{g['title']} | {g['url']}" for g in question.get("guidance", []))
        self.tags.data = ", ".join(question.get("tags", []))
        gap = question.get("gap") or {}
        self.gap_kind.data = {"when": "when", "older_than_months": "older", "below": "below"}.get(
            next(iter(gap), ""), "none"
        )
        self.gap_when.data = gap.get("when", [])
        self.gap_months.data = gap.get("older_than_months")
        self.gap_below.data = str(gap["below"]) if "below" in gap else ""
        self.follow_up.data = question.get("follow_up") is not None
        self.follow_up_prompt.data = (question.get("follow_up") or {}).get("prompt", "")
        condition = question.get("condition") or {}
        self.condition_question.data = condition.get("question", "")
        target = self.earlier.get(condition.get("question"))
        labels = dict(_answers_of(target)) if target else {}
        self.condition_answers.data = ", ".join(labels.get(v, v) for v in condition.get("in", []))
        self._gap_choices()

    # -- to the definition's shape ------------------------------------------------------

    def question(self) -> dict:
        """The question as the definition stores it, in the built-in files' field order."""
        question: dict = {}
        if (self.key.data or "").strip():
            question["key"] = self.key.data.strip()
        question["text"] = " ".join(self.text.data.split())
        if (self.help.data or "").strip():
            question["help"] = self.help.data.strip()
        question["type"] = self.type.data
        if self.required.data == "no":
            question["required"] = False
        tags = [t.strip().lower().replace(" ", "_") for t in (self.tags.data or "").split(",") if t.strip()]
        if tags:
            question["tags"] = tags
        if self.type.data == QuestionType.CHOICE.value:
            question["options"] = parse_options(self.options.data or "")
        gap = self._gap()
        if gap:
            question["gap"] = gap
        if self.follow_up.data:
            question["follow_up"] = {"prompt": (self.follow_up_prompt.data or "").strip() or DEFAULT_FOLLOW_UP}
        if self.not_applicable.data:
            question["not_applicable"] = True
        condition = self._condition()
        if condition:
            question["condition"] = condition
        guidance = parse_guidance(self.guidance.data or "")
        if guidance:
            question["guidance"] = guidance
        return question

    def _gap(self) -> dict | None:
        kind = self.gap_kind.data
        if kind == "when":
            if not self.gap_when.data:
                raise ValidationError("Tick the answers that are a gap")
            return {"when": list(self.gap_when.data)}
        if kind == "older":
            if not self.gap_months.data:
                raise ValidationError("Enter the number of months")
            return {"older_than_months": self.gap_months.data}
        if kind == "below":
            try:
                number = float((self.gap_below.data or "").strip())
            except ValueError:
                raise ValidationError("Enter the threshold as a number, like 90") from None
            return {"below": int(number) if number.is_integer() else number}
        return None

    def _condition(self) -> dict | None:
        target_key = self.condition_question.data or ""
        if not target_key:
            return None
        target = self.earlier.get(target_key)
        if target is None:
            raise ValidationError("Choose a question asked before this one")
        by_word = {}
        for value, label in _answers_of(target):
            by_word[value.lower()] = value
            by_word[label.lower()] = value
        chosen = []
        for word in (self.condition_answers.data or "").split(","):
            word = word.strip().lower()
            if not word:
                continue
            if word not in by_word:
                listed = ", ".join(label for _v, label in _answers_of(target))
                raise ValidationError(f"“{word}” is not an answer to that question: use {listed}")
            chosen.append(by_word[word])
        if not chosen:
            raise ValidationError("Enter the answers that make this question be asked")
        return {"question": target_key, "in": chosen}

    def definition_problems(self) -> dict[str, str]:
        """Turn what was typed into a question, naming the field of each thing that cannot be read."""
        problems = {}
        for name, convert in (
            ("options", lambda: parse_options(self.options.data or "") if self.type.data == "choice" else None),
            ("guidance", lambda: parse_guidance(self.guidance.data or "")),
            ("gap_kind", self._gap),
            ("condition_answers", self._condition),
        ):
            try:
                convert()
            except (ValueError, ValidationError) as exc:
                problems[name] = str(exc)
        return problems

    def validate_text(self, field):
        _refuse_formula(field.data)


def _answers_of(question: dict | None) -> list[tuple[str, str]]:
    if not question:
        return []
    try:
        answers = list(choices_for(question.get("type"), option_objects(question.get("options"))))
    except ValueError:
        return []
    if answers and question.get("not_applicable"):
        answers.append((NOT_APPLICABLE, NOT_APPLICABLE_LABEL))
    return answers


def parse_options(text: str) -> list:
    """One option a line: a plain text, or "value | label"."""
    options: list = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if "|" in line:
            value, _bar, label = (part.strip() for part in line.partition("|"))
            if not value or not label:
                raise ValueError(f"“{line}” needs words on both sides of the bar")
            options.append({"value": value, "label": label})
        else:
            options.append(line)
    return options


def parse_guidance(text: str) -> list[dict[str, str]]:
    """One link a line: "Title | https://..."."""
    links = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        title, bar, url = (part.strip() for part in line.rpartition("|"))
        if not bar or not title or not url.startswith("https://"):
            raise ValueError(
                f"Line {number} of the guidance links needs a title, a bar and a web address starting https://"
            )
        links.append({"title": title, "url": url})
    return links
