"""Forms for chasing: the tracker's filters, the reminder wording and the cycle's reminder schedule."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import (
    BooleanField,
    Form,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from surveyapp.chasing.models import ReminderKind
from surveyapp.chasing.services import DEFAULT_WORDING, WordingError, check_wording
from surveyapp.chasing.tracker import STATUSES


class TrackerFilterForm(Form):
    """The tracker's filters (a GET form: it changes nothing, so it carries no CSRF token)."""

    q = StringField("Name or URN", widget=GovTextInput())
    status = SelectField("Status", widget=GovSelect(), validate_choice=False)
    phase = SelectField("Phase", widget=GovSelect(), validate_choice=False)
    type = SelectField("Type of establishment", widget=GovSelect(), validate_choice=False)
    district = SelectField("District", widget=GovSelect(), validate_choice=False)
    trust = SelectField("Trust", widget=GovSelect(), validate_choice=False)
    no_contact = BooleanField("Only establishments with no DSL contact", widget=GovCheckboxInput())
    submit = SubmitField("Apply filters", widget=GovSubmitInput())

    def __init__(self, formdata=None, *, choices: dict[str, list[tuple[str, str]]], show_trust: bool = True, **kwargs):
        super().__init__(formdata, **kwargs)
        self.status.choices = [
            SelectChoice("", "Any status"),
            SelectChoice("incomplete", "Not complete (any)"),
            SelectChoice("complete", "Complete (any)"),
        ] + [SelectChoice(key, label) for key, label in STATUSES.items()]
        self.phase.choices = [SelectChoice("", "All phases")] + [
            SelectChoice(v, label) for v, label in choices["phase"]
        ]
        self.type.choices = [SelectChoice("", "All types")] + [SelectChoice(v, label) for v, label in choices["type"]]
        self.district.choices = [SelectChoice("", "All districts")] + [
            SelectChoice(v, label) for v, label in choices["district"]
        ]
        if isinstance(self.trust, SelectField):
            self.trust.choices = [SelectChoice("", "All establishments"), SelectChoice("none", "Not in a trust")] + [
                SelectChoice(v, label) for v, label in choices["trust"]
            ]
        if not show_trust:
            del self.trust


class TrackerFilterFormByTrustUid(TrackerFilterForm):
    """The tracker's filters when there are too many trusts to list: the trust is given by its UID."""

    trust = StringField(
        "Trust’s group UID",
        widget=GovTextInput(),
        description="The trust’s group UID from Get Information about Schools, or “none” for "
        "establishments outside a trust. The breakdown by trust links to each trust.",
    )


#: more trusts than this and the trust filter is a box for the trust's UID, not a list: a list of
#: thousands of trusts is no use to choose from and makes every tracker page heavy to build and load
TRUST_CHOICES_LIMIT = 200


def tracker_filter_form(
    formdata, *, choices: dict[str, list[tuple[str, str]]], show_trust: bool = True
) -> TrackerFilterForm:
    """The tracker's filter form, with the trust as a list or, when there are too many, a box for its UID."""
    form_class = (
        TrackerFilterFormByTrustUid if len(choices.get("trust", [])) > TRUST_CHOICES_LIMIT else TrackerFilterForm
    )
    return form_class(formdata, choices=choices, show_trust=show_trust)


def _wording_validator(form, field):
    try:
        check_wording(field.data or "")
    except WordingError as exc:
        raise ValidationError(str(exc)) from None


def _one_line(form, field):
    if any(ch in (field.data or "") for ch in "\r\n\x0b\x0c\x85\u2028\u2029"):
        raise ValidationError("The subject must be on one line: remove the line break")


class ReminderForm(FlaskForm):
    """The preview's editable wording, one subject and body per kind of reminder."""

    batch = HiddenField()
    force = HiddenField()
    submit = SubmitField("Send reminders", widget=GovSubmitInput())

    def wording(self) -> dict[ReminderKind, tuple[str, str]]:
        return {kind: (self[f"subject_{kind.value}"].data, self[f"body_{kind.value}"].data) for kind in ReminderKind}


for _kind in ReminderKind:
    setattr(
        ReminderForm,
        f"subject_{_kind.value}",
        StringField(
            f"Subject ({_kind.label.lower()})",
            widget=GovTextInput(),
            default=DEFAULT_WORDING[_kind][0],
            validators=[InputRequired("Enter a subject"), Length(max=200), _one_line, _wording_validator],
        ),
    )
    setattr(
        ReminderForm,
        f"body_{_kind.value}",
        TextAreaField(
            f"Message ({_kind.label.lower()})",
            widget=GovTextArea(),
            default=DEFAULT_WORDING[_kind][1],
            validators=[InputRequired("Enter the message"), Length(max=5000), _wording_validator],
        ),
    )


class ScheduleForm(FlaskForm):
    days = StringField(
        "Days before the due date",
        widget=GovTextInput(),
        description="Whole numbers separated by commas, for example 14, 7, 2. Leave empty for none.",
    )
    weekly = BooleanField("Then every week while returns are overdue", widget=GovCheckboxInput())
    submit = SubmitField("Save the schedule", widget=GovSubmitInput())

    def validate_days(self, field):
        try:
            self.day_numbers = sorted(
                {int(part) for part in (field.data or "").replace(" ", "").split(",") if part}, reverse=True
            )
        except ValueError:
            raise ValidationError("Enter whole numbers separated by commas, like 14, 7, 2") from None
        if any(day < 0 or day > 365 for day in self.day_numbers):
            raise ValidationError("Each number of days must be between 0 and 365")
