"""Sign-in, sign-out, setting and resetting passwords, and the lead's user list."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import select

from surveyapp import mail
from surveyapp.activity.services import record
from surveyapp.auth import mfa, services
from surveyapp.auth.forms import (
    ConfirmTwoFactorForm,
    ForgotPasswordForm,
    InviteUserForm,
    SetPasswordForm,
    SignInForm,
    TwoFactorCodeForm,
)
from surveyapp.auth.invitations import request_password_reset, send_invitation
from surveyapp.auth.models import Role, User
from surveyapp.extensions import db, limiter, login_manager
from surveyapp.policy import Capability as C, public, requires
from surveyapp.timeutil import utcnow
from surveyapp.transaction import commit_now

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = None  # ids rotate on sign-in and carry an epoch instead


@login_manager.unauthorized_handler
def ask_to_sign_in():
    """Send a signed-out visitor to sign in; after an idle timeout the sign-in page says why, once."""
    from flask_login import login_url

    if session.get("signed_out_reason") is None:
        flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, next_url=request.url))


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


_DEVICE_COOKIE = "known_device"


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def _is_known_device() -> bool:
    """This browser has signed in to the posted account before.

    The per-account limit does not apply to it, so an attacker hammering an account
    from elsewhere cannot lock its owner out; per-address limits still apply.
    """
    email = (request.form.get("email") or "").strip().lower()
    try:
        known = _device_serializer().loads(request.cookies.get(_DEVICE_COOKIE, ""))
    except BadSignature:
        return False
    return hashlib.sha256(email.encode()).hexdigest()[:16] in known


def _remember_device(response, user: User):
    try:
        known = _device_serializer().loads(request.cookies.get(_DEVICE_COOKIE, ""))
    except BadSignature:
        known = []
    mark = hashlib.sha256(user.email.encode()).hexdigest()[:16]
    known = ([mark] + [k for k in known if k != mark])[:5]
    response.set_cookie(
        _DEVICE_COOKIE,
        _device_serializer().dumps(known),
        max_age=365 * 86400,
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )
    return response


def _browser_key() -> str:
    """A random key for this browser, kept across sign-ins (not sign-outs) to tie kept input to it."""
    import secrets

    return session.get("browser") or secrets.token_urlsafe(24)


def _complete_sign_in(user: User, next_url: str | None, how: str):
    """Start a fresh session for a user who has given every factor they need."""
    browser = _browser_key()
    session.clear()  # nothing from before survives but the new identity
    login_user(user)
    session["browser"] = browser
    #: stays after an idle timeout (not after signing out), so a save posted then is kept for this person only
    session["last_user"] = user.id
    now = utcnow().timestamp()
    session["signed_in_at"] = now
    session["last_seen"] = now
    session.permanent = True
    record("auth.signed_in", user.id, address=request.remote_addr, factors=how)
    if mfa.required_for(user) and not user.has_two_factor:
        target = url_for("auth.set_up_two_factor", next=next_url) if next_url else url_for("auth.set_up_two_factor")
    else:
        target = next_url or url_for("main.home")
    return _remember_device(redirect(target), user)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT"], methods=["POST"])
@limiter.limit("20 per hour", key_func=_email_key, methods=["POST"], exempt_when=_is_known_device)
@public
def sign_in():
    """Sign in with email and password (then a code, for accounts with two-factor sign-in)."""
    form = SignInForm()
    next_url = safe_next(request.args.get("next"))
    signed_out = session.pop("signed_out_reason", None)
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            record(
                "auth.sign_in_failed", None, email=form.email.data.strip().lower()[:254], address=request.remote_addr
            )
            commit_now()  # the refused attempt stays in the log, although the page answers with an error
            form.email.errors.append("Enter a correct email address and password")
        elif user.has_two_factor:
            browser = _browser_key()
            session.clear()
            session["browser"] = browser
            session["two_factor_pending"] = {
                "user": user.id,
                "epoch": user.session_epoch,
                "at": utcnow().timestamp(),
                "next": next_url,
                "failures_before": user.code_failures,
            }
            return redirect(url_for("auth.enter_code"))
        else:
            return _complete_sign_in(user, next_url, "password")
    return render_template("auth/sign_in.html", form=form, signed_out=signed_out, next_url=next_url)


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit("10 per minute;30 per hour", methods=["POST"])
@public
def enter_code():
    """The second step of signing in: a code from the authenticator app or a recovery code."""
    pending = session.get("two_factor_pending") or {}
    user = db.session.get(User, pending.get("user", 0)) if pending else None
    if (
        user is None
        or user.session_epoch != pending.get("epoch")
        or not user.is_enabled
        or utcnow().timestamp() - pending.get("at", 0) > 600
    ):
        session.pop("two_factor_pending", None)
        flash("Sign in again: the code must be entered within 10 minutes of your password.", "info")
        return redirect(url_for("auth.sign_in"))
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        how = mfa.verify_second_factor(user, form.code.data)
        if how is None:
            record("auth.code_refused", user.id, address=request.remote_addr)
            commit_now()  # the refused attempt stays in the log, although the page answers with an error
            if user.code_failures - pending.get("failures_before", 0) >= mfa.MAX_WRONG_PER_SIGN_IN:
                # Counted from the account's own counter, so replaying an older cookie gains nothing.
                session.pop("two_factor_pending", None)
                flash("Too many wrong codes. Sign in again with your password.", "info")
                return redirect(url_for("auth.sign_in"))
            form.code.errors.append(
                mfa.LOCKED_MESSAGE
                if mfa.locked(user)
                else "Enter the 6-digit code from your authenticator app, or a recovery code"
            )
        else:
            if how == "recovery":
                flash(f"You used a recovery code. You have {len(user.recovery_codes)} left.", "info")
            return _complete_sign_in(user, pending.get("next"), f"password+{how}")
    return render_template("auth/enter_code.html", form=form)


#: how long a confirmed password and code allow the authenticator to be replaced
_REPLACE_WINDOW_SECONDS = 600


def _may_replace_authenticator(user: User) -> bool:
    grant = session.get("replace_authenticator") or {}
    return (
        grant.get("user") == user.id
        and grant.get("epoch") == user.session_epoch
        and utcnow().timestamp() - grant.get("at", 0) <= _REPLACE_WINDOW_SECONDS
    )


@bp.route("/account/two-factor", methods=["GET", "POST"])
@requires(C.USE_SERVICE)
def set_up_two_factor():
    """Set up two-factor sign-in with an authenticator app (or replace it, once confirmed)."""
    user = db.session.get(User, current_user.id)
    if user.has_two_factor and not _may_replace_authenticator(user):
        # A signed-in session alone (a cookie left on a shared computer) must not swap the
        # authenticator: that takes the password and the current code (or a recovery code).
        if request.method == "POST":
            flash("Confirm your password and a code before replacing your authenticator.", "info")
            return redirect(url_for("auth.set_up_two_factor"))
        return render_template(
            "auth/two_factor_on.html", user=user, required=mfa.required_for(user), form=ConfirmTwoFactorForm()
        )
    secret = session.get("two_factor_secret") or mfa.new_secret()
    session["two_factor_secret"] = secret
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        replacing = user.has_two_factor
        codes = mfa.enable(user, secret, form.code.data)
        if codes is None:
            form.code.errors.append("That code did not match: check the time on your phone and enter the current code")
        else:
            session.pop("two_factor_secret", None)
            session.pop("replace_authenticator", None)
            record("user.two_factor_replaced" if replacing else "user.two_factor_enabled", user.id)
            # Enabling ends every other session; this one is re-established with both factors.
            login_user(user)
            return render_template(
                "auth/recovery_codes.html",
                codes=codes,
                next_url=safe_next(request.args.get("next")) or url_for("main.home"),
            )
    uri = mfa.provisioning_uri(user, secret)
    return render_template(
        "auth/set_up_two_factor.html",
        form=form,
        secret=secret,
        qr=Markup(mfa.qr_svg(uri)),
        required=mfa.required_for(user),
    )


def _confirmed(user: User, form: ConfirmTwoFactorForm) -> bool:
    """Check the password and second factor; a wrong one is recorded and counted like a sign-in's."""
    if not form.validate_on_submit():
        return False
    if not services.check_password(user, form.password.data):
        record("auth.password_refused", user.id, address=request.remote_addr)
        commit_now()  # the refused attempt stays in the log, although the page answers with an error
        form.password.errors.append("Enter your current password")
        return False
    if mfa.verify_second_factor(user, form.code.data) is None:
        record("auth.code_refused", user.id, address=request.remote_addr)
        commit_now()  # the refused attempt stays in the log, although the page answers with an error
        form.code.errors.append(
            mfa.LOCKED_MESSAGE
            if mfa.locked(user)
            else "Enter the 6-digit code from your authenticator app, or a recovery code"
        )
        return False
    return True


@bp.post("/account/two-factor/replace")
@limiter.limit("10 per minute;30 per hour")
@requires(C.USE_SERVICE)
def replace_two_factor():
    """Confirm the password and a code, then set up a new authenticator."""
    user = db.session.get(User, current_user.id)
    if not user.has_two_factor:
        return redirect(url_for("auth.set_up_two_factor"))
    form = ConfirmTwoFactorForm()
    if not _confirmed(user, form):
        return render_template("auth/two_factor_on.html", user=user, required=mfa.required_for(user), form=form), 400
    session.pop("two_factor_secret", None)
    session["replace_authenticator"] = {"user": user.id, "epoch": user.session_epoch, "at": utcnow().timestamp()}
    return redirect(url_for("auth.set_up_two_factor"))


@bp.post("/account/two-factor/disable")
@limiter.limit("10 per minute;30 per hour")
@requires(C.USE_SERVICE)
def disable_two_factor():
    """Turn two-factor sign-in off, where it is not required (with the password and a code)."""
    user = db.session.get(User, current_user.id)
    if mfa.required_for(user):
        abort(403)
    form = ConfirmTwoFactorForm()
    if user.has_two_factor and not _confirmed(user, form):
        return render_template("auth/two_factor_on.html", user=user, required=False, form=form), 400
    mfa.disable(user)
    record("user.two_factor_disabled", user.id)
    flash("Two-factor sign-in is off.", "success")
    return redirect(url_for("main.home"))


@bp.before_app_request
def insist_on_two_factor():
    """Someone who must use two-factor sign-in can do nothing else until it is set up."""
    if not current_user.is_authenticated or current_user.has_two_factor:
        return None
    if request.endpoint in _OPEN_WITHOUT_TWO_FACTOR or request.endpoint is None:
        return None
    if mfa.required_for(current_user):
        return redirect(url_for("auth.set_up_two_factor"))
    return None


_OPEN_WITHOUT_TWO_FACTOR = {
    "auth.set_up_two_factor",
    "auth.sign_out",
    "static",
    "main.govuk_assets",
    "main.healthz",
    "main.accessibility",
    "main.privacy",
}


@bp.post("/users/two-factor-for-everyone")
@requires(C.MANAGE_USERS)
def require_two_factor_for_everyone():
    """Require (or stop requiring) two-factor sign-in for every account, not just leads and board viewers."""
    on = request.form.get("on") == "1"
    mfa.set_required_for_everyone(on)
    record("settings.two_factor_for_everyone", current_user.id, on=on)
    flash(
        "Every user must now set up two-factor sign-in."
        if on
        else "Two-factor sign-in is now required for leads and board viewers only.",
        "success",
    )
    return redirect(url_for("auth.list_users"))


@bp.post("/sign-in/stay")
@requires(C.USE_SERVICE)
def stay_signed_in():
    """Stay signed in: this request is activity, so the idle timeout counts again from now (security.py)."""
    return "", 204


@bp.post("/sign-out")
@public
def sign_out():
    """Sign out: the cookie is cleared and every other session of this user ends too."""
    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
        services.end_all_sessions(user)
        record("auth.signed_out", user.id)
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
@public
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
            record("auth.password_set", user.id, purpose=row.purpose.value)
            logout_user()
            session.clear()
            flash("Your password has been saved. Sign in with it now.", "success")
            return redirect(url_for("auth.sign_in"))
    return render_template("auth/set_password.html", form=form, user=row.user)


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("5 per minute;20 per hour", methods=["POST"])
@public
def forgot_password():
    """Email a reset link; the page says the same whether or not the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.find_user(form.email.data)
        if user is not None and not user.is_enabled:
            user = None
        # The same work on both paths before answering: a token, a log row, a commit, a hand-off.
        send = request_password_reset(user)
        if user is not None:
            record("auth.password_reset_requested", user.id)
        else:
            record("auth.password_reset_unknown", None, email=form.email.data.strip().lower()[:254])
        commit_now()
        page = render_template("auth/reset_sent.html", email=form.email.data)
        # Handed off last, so the sending does not compete with building this answer.
        mail.hand_off(send)
        return page
    return render_template("auth/forgot_password.html", form=form)


@bp.get("/users")
@requires(C.MANAGE_USERS)
def list_users():
    """List every account with its role and links."""
    users = db.session.scalars(select(User).order_by(User.role, User.email)).all()
    return render_template(
        "auth/users.html", users=users, everyone=mfa.required_for_everyone(), always=mfa.roles_always_required()
    )


@bp.route("/users/invite", methods=["GET", "POST"])
@requires(C.MANAGE_USERS)
def invite_user():
    """Invite another lead or a board viewer (contacts come from the contacts import)."""
    form = InviteUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(form.email.data, Role(form.role.data), form.name.data)
        except services.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            record("user.created", current_user.id, email=user.email, role=user.role.value)
            commit_now()  # the account exists before the email that names it goes out
            try:
                send_invitation(user, invited_by=current_user.display_name)
            except mail.MailError as exc:
                flash(f"The account was created but the invitation email could not be sent: {exc}", "error")
                return redirect(url_for("auth.list_users"))
            flash(f"Invitation sent to {user.email}.", "success")
            return redirect(url_for("auth.list_users"))
    return render_template("auth/invite.html", form=form)


@bp.post("/users/<int:user_id>/disable")
@requires(C.MANAGE_USERS)
def disable_user(user_id: int):
    """Disable an account: the person's access ends on their next request."""
    return _set_enabled(user_id, False)


@bp.post("/users/<int:user_id>/enable")
@requires(C.MANAGE_USERS)
def enable_user(user_id: int):
    """Re-enable a disabled account."""
    return _set_enabled(user_id, True)


def _set_enabled(user_id: int, enabled: bool):
    user = db.session.get(User, user_id) or abort(404)
    try:
        changed = services.set_enabled(user, enabled, current_user)
    except services.AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("auth.list_users"))
    if changed:
        flash(
            f"{user.display_name} ({user.email}) can sign in again."
            if enabled
            else f"{user.display_name} ({user.email}) has been disabled and can no longer use the service.",
            "success",
        )
    return redirect(url_for("auth.list_users"))


@bp.post("/users/<int:user_id>/resend-invitation")
@requires(C.MANAGE_USERS)
def resend_invitation(user_id: int):
    """Send a fresh set-password link (earlier links stop working)."""
    user = db.session.get(User, user_id) or abort(404)
    try:
        send_invitation(user, invited_by=current_user.display_name)
    except mail.MailError as exc:
        flash(f"The invitation could not be sent: {exc}", "error")
    else:
        record("user.invited", current_user.id, email=user.email)
        flash(f"A new invitation was sent to {user.email}.", "success")
    return redirect(url_for("auth.list_users"))
