"""Emails that carry single-use links: invitations and password resets."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from surveyapp import mail
from surveyapp.auth.models import TokenPurpose, User
from surveyapp.auth.services import issue_token


def set_password_link(token: str) -> str:
    """The address of the page where a single-use token sets a password."""
    return current_app.config["BASE_URL"] + "/set-password/" + token


def invitation_link(user: User) -> str:
    """Issue ``user`` an invitation token and return its link (it works for INVITATION_HOURS)."""
    return set_password_link(issue_token(user, TokenPurpose.INVITATION, current_app.config["INVITATION_HOURS"]))


def send_invitation(user: User, invited_by: str = "your local authority") -> None:
    """Email a new user a link to set their password. Raises mail.MailError on failure."""
    hours = current_app.config["INVITATION_HOURS"]
    link = invitation_link(user)
    body = (
        f"Dear {user.display_name},\n\n"
        f"{invited_by} has given you an account on the safeguarding audit service ({user.role.label.lower()}).\n\n"
        f"Set your password using this link within {hours} hours. It works once.\n\n{link}\n\n"
        "If you were not expecting this email, you can ignore it.\n"
    )
    mail.send(
        mail.MailSettings.from_config(current_app.config),
        user.email,
        "Set your password for the safeguarding audit",
        body,
    )


def request_password_reset(user: User | None) -> Callable[[], object]:
    """Make a reset link for ``user`` (or, for an unknown email, the same work for nobody); return the send.

    Both paths make, hash and store a token (for nobody, already spent), and both return a job for
    mail.hand_off, so the answer takes as long whether or not the account exists.
    """
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    token = issue_token(user, TokenPurpose.PASSWORD_RESET, hours)
    if user is None:
        return lambda: None
    settings = mail.MailSettings.from_config(current_app.config)
    link = set_password_link(token)
    body = (
        f"Dear {user.display_name},\n\n"
        "Somebody asked to reset the password for this account. "
        f"Use this link within {hours} hours to choose a new password. It works once.\n\n"
        f"{link}\n\nIf it was not you, you can ignore this email: your password has not changed.\n"
    )
    to = user.email
    return lambda: mail.send(settings, to, "Reset your password for the safeguarding audit", body)
