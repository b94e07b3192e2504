"""Sign-in, sign-out, setting and resetting passwords, and the lead's user list."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from surveyapp import mail
from surveyapp.activity.services import record
from surveyapp.auth import services
from surveyapp.auth.invitations import send_invitation, send_password_reset
from surveyapp.auth.models import Role, User
from surveyapp.auth.permissions import lead_required
from surveyapp.extensions import db, limiter, login_manager
from surveyapp.forms.auth import ForgotPasswordForm, InviteUserForm, SetPasswordForm, SignInForm
from surveyapp.timeutil import utcnow

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = None  # ids rotate on sign-in and carry an epoch instead


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    return services.load_user_from_session_id(session_id)


def safe_next(target: str | None) -> str | None:
    """Only a local path may be the place to go after signing in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _email_key() -> str:
    return "sign-in:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT"], methods=["POST"])
@limiter.limit("20 per hour", key_func=_email_key, methods=["POST"])
def sign_in():
    """Sign in with email and password."""
    form = SignInForm()
    next_url = safe_next(request.args.get("next"))
    timed_out = session.pop("signed_out_reason", None) == "timeout"
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            record("auth.sign_in_failed", None, email=form.email.data.strip().lower()[:254], address=request.remote_addr)
            db.session.commit()
            form.email.errors.append("Enter a correct email address and password")
        else:
            # A fresh session on every sign-in: nothing from before survives but the new identity.
            session.clear()
            login_user(user)
            now = utcnow().timestamp()
            session["signed_in_at"] = now
            session["last_seen"] = now
            session.permanent = True
            record("auth.signed_in", user, address=request.remote_addr)
            db.session.commit()
            return redirect(next_url or url_for("main.home"))
    return render_template("auth/sign_in.html", form=form, timed_out=timed_out, next_url=next_url)


@bp.post("/sign-out")
def sign_out():
    """Sign out: the cookie is cleared and every other session of this user ends too."""
    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
        services.end_all_sessions(user)
        record("auth.signed_out", user)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def set_password(token: str):
    """Set a password with a single-use link from an invitation or reset email."""
    row = services.peek_token(token)
    if row is None:
        return render_template("auth/link_expired.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.set_password_with_token(token, form.password.data)
        except services.AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            record("auth.password_set", user, purpose=row.purpose.value)
            db.session.commit()
            logout_user()
            session.clear()
            flash("Your password has been saved. Sign in with it now.", "success")
            return redirect(url_for("auth.sign_in"))
    return render_template("auth/set_password.html", form=form, user=row.user)


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("5 per minute;20 per hour", methods=["POST"])
def forgot_password():
    """Email a reset link; the page says the same whether or not the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.find_user(form.email.data)
        if user is not None and user.is_enabled:
            try:
                send_password_reset(user)
            except mail.MailError:
                current_app.logger.exception("password reset email failed")
            record("auth.password_reset_requested", user)
        db.session.commit()
        return render_template("auth/reset_sent.html", email=form.email.data)
    return render_template("auth/forgot_password.html", form=form)


@bp.get("/users")
@lead_required
def list_users():
    """List every account with its role and links."""
    users = db.session.scalars(select(User).order_by(User.role, User.email)).all()
    return render_template("auth/users.html", users=users)


@bp.route("/users/invite", methods=["GET", "POST"])
@lead_required
def invite_user():
    """Invite another lead or a board viewer (contacts come from the contacts import)."""
    form = InviteUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(form.email.data, Role(form.role.data), form.name.data)
        except services.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            record("user.created", current_user, email=user.email, role=user.role.value)
            try:
                send_invitation(user, invited_by=current_user.display_name)
            except mail.MailError as exc:
                db.session.commit()
                flash(f"The account was created but the invitation email could not be sent: {exc}", "error")
                return redirect(url_for("auth.list_users"))
            db.session.commit()
            flash(f"Invitation sent to {user.email}.", "success")
            return redirect(url_for("auth.list_users"))
    return render_template("auth/invite.html", form=form)


@bp.post("/users/<int:user_id>/resend-invitation")
@lead_required
def resend_invitation(user_id: int):
    """Send a fresh set-password link (earlier links stop working)."""
    user = db.session.get(User, user_id) or abort(404)
    try:
        send_invitation(user, invited_by=current_user.display_name)
    except mail.MailError as exc:
        flash(f"The invitation could not be sent: {exc}", "error")
    else:
        record("user.invited", current_user, email=user.email)
        flash(f"A new invitation was sent to {user.email}.", "success")
    db.session.commit()
    return redirect(url_for("auth.list_users"))
