"""Sign-in, password and user forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, EqualTo, InputRequired, Length

from surveyapp.auth.models import Role


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address", widget=GovTextInput(), validators=[InputRequired("Enter your email address"), Length(max=254)]
    )
    password = PasswordField("Password", widget=GovPasswordInput(), validators=[InputRequired("Enter your password")])
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "Create a password",
        widget=GovPasswordInput(),
        description="Use 12 characters or more. A few unrelated words make a strong password you can remember.",
        validators=[
            InputRequired("Enter a password"),
            Length(min=12, max=256, message="Password must be 12 characters or more"),
        ],
    )
    confirm = PasswordField(
        "Confirm your password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Confirm your password"), EqualTo("password", "Passwords do not match")],
    )
    submit = SubmitField("Save password", widget=GovSubmitInput())


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter your email address"),
            Email("Enter an email address in the correct format, like name@example.org", check_deliverability=False),
        ],
    )
    submit = SubmitField("Send me a link", widget=GovSubmitInput())


class InviteUserForm(FlaskForm):
    name = StringField(
        "Full name", widget=GovTextInput(), validators=[InputRequired("Enter the person’s name"), Length(max=200)]
    )
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter an email address"),
            Length(max=254),
            Email("Enter an email address in the correct format, like name@example.org", check_deliverability=False),
        ],
    )
    role = RadioField(
        "Role",
        widget=GovRadioInput(),
        validators=[InputRequired("Choose a role")],
        choices=[SelectChoice(Role.LEAD.value, Role.LEAD.label), SelectChoice(Role.BOARD.value, Role.BOARD.label)],
    )
    submit = SubmitField("Send invitation", widget=GovSubmitInput())


class TwoFactorCodeForm(FlaskForm):
    code = StringField(
        "Code",
        widget=GovTextInput(),
        description="The 6-digit code shown in your authenticator app, or one of your recovery codes",
        validators=[InputRequired("Enter the code"), Length(max=20)],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ConfirmTwoFactorForm(FlaskForm):
    """Proof that the person at the keyboard owns the account: password and a second factor."""

    password = PasswordField(
        "Your password", widget=GovPasswordInput(), validators=[InputRequired("Enter your password")]
    )
    code = StringField(
        "Code",
        widget=GovTextInput(),
        description="The 6-digit code shown in your authenticator app now, or one of your recovery codes",
        validators=[InputRequired("Enter the code"), Length(max=20)],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())
