"""Forms for the register: its search filters, the import uploads and their confirmation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovFileInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import BooleanField, Form, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice


class RegisterFilterForm(Form):
    """The register's search (a GET form: it changes nothing, so it carries no CSRF token)."""

    q = StringField("Name or URN", widget=GovTextInput())
    phase = SelectField("Phase", widget=GovSelect(), validate_choice=False)
    status = SelectField(
        "Open or closed",
        widget=GovSelect(),
        validate_choice=False,
        choices=[SelectChoice("", "Open and closed"), SelectChoice("open", "Open"), SelectChoice("closed", "Closed")],
    )
    submit = SubmitField("Search", widget=GovSubmitInput())

    def __init__(self, formdata=None, *, phases: list[str], **kwargs):
        super().__init__(formdata, **kwargs)
        self.phase.choices = [SelectChoice("", "All phases")] + [SelectChoice(phase) for phase in phases]


class UploadCsvForm(FlaskForm):
    file = FileField(
        "Upload a file",
        widget=GovFileInput(),
        description="A CSV file (comma-separated values), saved from GIAS or from a spreadsheet.",
        validators=[FileRequired("Select a CSV file"), FileAllowed(["csv"], "The selected file must be a CSV")],
    )
    submit = SubmitField("Check the file", widget=GovSubmitInput())


class ConfirmImportForm(FlaskForm):
    submit = SubmitField("Confirm import", widget=GovSubmitInput())


class ConfirmContactsForm(ConfirmImportForm):
    invite = BooleanField(
        "Email an invitation to each person who has not set a password yet", widget=GovCheckboxInput()
    )
