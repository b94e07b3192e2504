"""Adding and editing an action in the LA's own action plan, and reporting its progress."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from surveyapp.audits.forms import GovDateField
from surveyapp.la_actions.models import PREVENT_OBJECTIVES, LaActionStatus, Rag

#: the area choice that means "the one typed in the box below"
OTHER_AREA = "other"


class LaActionForm(FlaskForm):
    """One action of the plan. ``areas`` are the choices (the standard ones and those already used)."""

    version = HiddenField()
    reference = StringField(
        "Reference",
        widget=GovTextInput(),
        description="For example, CS ALL 01",
        validators=[InputRequired("Enter a reference"), Length(max=40)],
    )
    area = SelectField("Area", widget=GovSelect(), validators=[InputRequired("Choose an area")])
    new_area = StringField(
        "Name of the new area",
        widget=GovTextInput(),
        description="Only if you chose ‘Another area’",
        validators=[Length(max=120)],
    )
    action = TextAreaField(
        "Action", widget=GovTextArea(), validators=[InputRequired("Enter the action"), Length(max=5000)]
    )
    milestones = TextAreaField("Milestones", widget=GovTextArea(), validators=[Length(max=5000)])
    measures = TextAreaField(
        "Measures", widget=GovTextArea(), description="How you will know it has worked", validators=[Length(max=5000)]
    )
    target_date = GovDateField(
        "Target date",
        widget=GovDateInput(),
        format="%d %m %Y",
        description="For example, 31 3 2027",
        validators=[Optional()],
    )
    lead = StringField(
        "Lead", widget=GovTextInput(), description="The role that leads the action", validators=[Length(max=200)]
    )
    support = StringField("Support", widget=GovTextInput(), validators=[Length(max=400)])
    outcomes = TextAreaField("Outcomes", widget=GovTextArea(), validators=[Length(max=5000)])
    rag = RadioField(
        "RAG rating",
        widget=GovRadioInput(),
        choices=[SelectChoice(r.value, r.label) for r in Rag],
        description="Progress to completion",
        validators=[InputRequired("Choose a RAG rating")],
    )
    status = RadioField(
        "Status",
        widget=GovRadioInput(),
        choices=[SelectChoice(s.value, s.label) for s in LaActionStatus],
        validators=[InputRequired("Choose a status")],
    )
    objectives = SelectMultipleField(
        "Prevent objectives",
        widget=GovCheckboxesInput(),
        choices=[SelectChoice(str(n), f"{n}. {text}") for n, text in PREVENT_OBJECTIVES.items()],
        description="Select all that apply",
    )
    submit = SubmitField("Save the action", widget=GovSubmitInput())

    def __init__(self, *args, areas: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.area.choices = (
            [SelectChoice("", "Choose an area")]
            + [SelectChoice(a, a) for a in areas]
            + [SelectChoice(OTHER_AREA, "Another area")]
        )

    def validate_new_area(self, field) -> None:
        if self.area.data == OTHER_AREA and not (field.data or "").strip():
            raise ValidationError("Enter the name of the new area")

    def chosen_area(self) -> str:
        return (self.new_area.data or "").strip() if self.area.data == OTHER_AREA else self.area.data

    def values(self) -> dict:
        """The fields as the service takes them."""
        chosen = {int(n) for n in self.objectives.data or []}
        return {
            "reference": self.reference.data,
            "area": self.chosen_area(),
            "action": self.action.data,
            "milestones": self.milestones.data or "",
            "measures": self.measures.data or "",
            "target_date": self.target_date.data,
            "lead": self.lead.data or "",
            "support": self.support.data or "",
            "outcomes": self.outcomes.data or "",
            "rag": self.rag.data,
            "status": self.status.data,
            **{f"objective_{n}": n in chosen for n in (1, 2, 3)},
        }

    def fill_from(self, action) -> None:
        """Show an action's saved values (a GET, or the latest version after a refused stale edit)."""
        for name in ("reference", "action", "milestones", "measures", "target_date", "lead", "support", "outcomes"):
            getattr(self, name).data = getattr(action, name)
        self.area.data, self.new_area.data = action.area, ""
        self.rag.data, self.status.data = action.rag.value, action.status.value
        self.objectives.data = [str(n) for n in action.objectives]
        self.version.data = str(action.version)


class ProgressUpdateForm(FlaskForm):
    """A dated progress update ("Oct update: ...")."""

    written_on = GovDateField(
        "Date of the update",
        widget=GovDateInput(),
        format="%d %m %Y",
        description="For example, 31 10 2026",
        validators=[InputRequired("Enter the date of the update")],
    )
    text = TextAreaField(
        "Progress", widget=GovTextArea(), validators=[InputRequired("Enter the progress made"), Length(max=5000)]
    )
    submit = SubmitField("Add the update", widget=GovSubmitInput())
