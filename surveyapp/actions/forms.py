"""Updating one action in an establishment's action plan."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from surveyapp.actions.models import ActionStatus
from surveyapp.audits.forms import GovDateField


class ActionItemForm(FlaskForm):
    """One action; the page shows one of these per action, each with its own prefix and save button."""

    item_id = HiddenField()
    version = HiddenField()
    action = TextAreaField(
        "Action", widget=GovTextArea(), validators=[InputRequired("Say what you will do"), Length(max=5000)]
    )
    owner = StringField("Who is responsible", widget=GovTextInput(), validators=[Length(max=200)])
    target_date = GovDateField(
        "Target date",
        widget=GovDateInput(),
        format="%d %m %Y",
        description="For example, 31 3 2027",
        validators=[Optional()],
    )
    status = RadioField(
        "Status",
        widget=GovRadioInput(),
        choices=[SelectChoice(s.value, s.label) for s in ActionStatus],
        validators=[InputRequired("Choose a status")],
    )
    notes = TextAreaField("Progress notes", widget=GovTextArea(), validators=[Length(max=5000)])
    submit = SubmitField("Save this action", widget=GovSubmitInput())
