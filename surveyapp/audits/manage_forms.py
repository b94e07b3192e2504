"""The lead's forms: opening a cycle, returning a response."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, Regexp

from surveyapp.audits.forms import GovDateField, GovDateInput


class OpenCycleForm(FlaskForm):
    slug = StringField(
        "Short name",
        widget=GovTextInput(),
        description="Used in links and references, for example 2026-27",
        validators=[
            InputRequired("Enter a short name, like 2026-27"),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9\-]*$", message="Use letters, numbers and hyphens only, like 2026-27"),
        ],
    )
    name = StringField(
        "Title shown to schools", widget=GovTextInput(), validators=[InputRequired("Enter a title"), Length(max=255)]
    )
    template = SelectField("Audit template", widget=GovSelect(), validators=[InputRequired("Choose a template")])
    due_on = GovDateField(
        "Due date",
        widget=GovDateInput(),
        format="%d %m %Y",
        description="For example, 31 3 2027",
        validators=[InputRequired("Enter the due date")],
    )
    types = SelectMultipleField(
        "Types of establishment",
        widget=GovCheckboxesInput(),
        validate_choice=True,
        description="Leave all unticked to include every type",
    )
    phases = SelectMultipleField(
        "Phases",
        widget=GovCheckboxesInput(),
        validate_choice=True,
        description="Leave all unticked to include every phase",
    )
    draft = BooleanField(
        "Keep it as a draft for now",
        widget=GovCheckboxInput(),
        description="Establishments cannot see a draft and nobody is reminded about it. Open it to "
        "them from the cycle's page when it is ready.",
    )
    submit = SubmitField("Open the cycle", widget=GovSubmitInput())

    def __init__(self, *args, templates=(), types=(), phases=(), **kwargs):
        super().__init__(*args, **kwargs)
        live = {}
        for t in templates:
            live[t.key] = max(live.get(t.key, 0), t.version)
        # The live (latest published) version of each template first: new cycles should use it.
        ordered = sorted(templates, key=lambda t: (t.version != live[t.key], t.key, -t.version))
        self.template.choices = [("", "Choose a template")] + [
            (
                str(t.id),
                f"{t.title} (version {t.version}{', live' if t.version == live[t.key] else ', earlier version'})",
            )
            for t in ordered
        ]
        self.types.choices = [(t, t) for t in types]
        self.phases.choices = [(p, p) for p in phases]

    def validate_name(self, field):
        if (field.data or "").strip()[:1] in ("=", "+", "-", "@"):
            raise ValidationError("Enter a title, not a formula")


class ReturnForm(FlaskForm):
    comment = TextAreaField(
        "What needs to change",
        widget=GovTextArea(),
        description="The DSL sees this on their task list and in the email we send them.",
        validators=[InputRequired("Say what needs to change"), Length(max=5000)],
    )
    submit = SubmitField("Return for amendment", widget=GovSubmitInput())
