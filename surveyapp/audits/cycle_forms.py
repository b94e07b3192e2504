"""The lead's forms for a cycle over time: closing, reopening, extending."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from surveyapp.audits.forms import GovDateField, GovDateInput


class CloseCycleForm(FlaskForm):
    reason = TextAreaField(
        "Reason (optional)",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=2000)],
        description="Kept in the activity log, for example “Due date passed; returns to committee”.",
    )
    submit = SubmitField("Close the cycle", widget=GovSubmitInput())


class ReopenCycleForm(FlaskForm):
    reason = TextAreaField(
        "Why are you reopening it?",
        widget=GovTextArea(),
        description="Kept in the activity log, for example “Three schools agreed late returns”.",
        validators=[InputRequired("Say why you are reopening the cycle"), Length(max=2000)],
    )
    submit = SubmitField("Reopen the cycle", widget=GovSubmitInput())


class ExtendCycleForm(FlaskForm):
    due_on = GovDateField(
        "New due date",
        widget=GovDateInput(),
        format="%d %m %Y",
        description="For example, 30 4 2027",
        validators=[InputRequired("Enter the new due date")],
    )
    urn = StringField(
        "URN of one establishment (optional)",
        widget=GovTextInput(),
        description="Leave blank to move the due date for the whole cycle. Give a URN to agree an "
        "extension with that establishment alone.",
        validators=[Optional(), Length(max=20), Regexp(r"^\d+$", message="A URN is a number, like 100001")],
    )
    submit = SubmitField("Save the due date", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())
