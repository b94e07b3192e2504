"""Two-factor sign-in: time-based one-time codes (TOTP) and single-use recovery codes."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

import pyotp
import segno
from sqlalchemy import select, update

from surveyapp.auth.models import Role, SiteSetting, User
from surveyapp.extensions import db
from surveyapp.timeutil import as_utc, utcnow

ISSUER = "Safeguarding audit"
RECOVERY_CODE_COUNT = 10
REQUIRE_FOR_ALL = "require_two_factor_for_all"
#: wrong codes one pending sign-in may try before the password must be given again
MAX_WRONG_PER_SIGN_IN = 5
#: wrong codes (from anywhere) after which authenticator codes are refused for LOCK_FOR
MAX_WRONG_PER_ACCOUNT = 10
LOCK_FOR = timedelta(minutes=15)
LOCKED_MESSAGE = (
    "Too many wrong codes have been entered for this account. Use one of your recovery codes, "
    "or wait 15 minutes and enter the code from your app"
)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The setup link as an SVG QR code, for an authenticator app to scan."""
    return segno.make(uri, error="m").svg_inline(scale=4, title="QR code for your authenticator app")


def roles_always_required() -> list[Role]:
    """The roles that TWO_FACTOR_ROLES makes sign in with two factors, whatever the lead chooses."""
    from flask import current_app

    return [role for role in Role if role.value in current_app.config["TWO_FACTOR_ROLES"]]


def required_for(user: User) -> bool:
    """Roles in TWO_FACTOR_ROLES (leads and board viewers by default) always sign in with two factors;
    everyone else too if the lead requires it."""
    from flask import current_app

    return user.role.value in current_app.config["TWO_FACTOR_ROLES"] or required_for_everyone()


def required_for_everyone() -> bool:
    setting = db.session.get(SiteSetting, REQUIRE_FOR_ALL)
    return bool(setting and setting.value.get("on"))


def set_required_for_everyone(on: bool) -> None:
    setting = db.session.get(SiteSetting, REQUIRE_FOR_ALL)
    if setting is None:
        setting = SiteSetting(key=REQUIRE_FOR_ALL, value={})
        db.session.add(setting)
    setting.value = {"on": bool(on)}
    db.session.flush()


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).lower()


def check_totp(secret: str, code: str, last_step: int | None, at: float | None = None) -> int | None:
    """Return the time step the code belongs to (the current one or either neighbour), or None.

    A step at or before ``last_step`` is refused, so a code seen over a shoulder cannot be replayed.
    """
    code = _normalise(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    current = int(now // totp.interval)
    for step in (current, current - 1, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.at(step * totp.interval), code):
            return step
    return None


def enable(user: User, secret: str, code: str) -> list[str] | None:
    """Turn on two-factor sign-in if ``code`` proves the app has the secret; return fresh recovery codes."""
    step = check_totp(secret, code, None)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_last_step = step
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODE_COUNT)]
    user.recovery_codes = [_digest(c) for c in codes]
    user.session_epoch += 1  # other sessions started with one factor end
    db.session.flush()
    return codes


def disable(user: User) -> None:
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_codes = []
    db.session.flush()


def verify_second_factor(user: User, code: str) -> str | None:
    """Accept a current authenticator code or an unused recovery code; return which ("totp"/"recovery").

    Every wrong code is counted on the account; after MAX_WRONG_PER_ACCOUNT of them authenticator
    codes are refused for LOCK_FOR, but recovery codes (too long to guess) still let the owner in.
    """
    if not user.totp_secret:
        return None
    if not locked(user):
        step = check_totp(user.totp_secret, code, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            _reset_failures(user)
            return "totp"
    digest = _digest(_normalise(code)[:6] + "-" + _normalise(code)[6:]) if len(_normalise(code)) == 12 else None
    if digest and digest in (user.recovery_codes or []):
        user.recovery_codes = [c for c in user.recovery_codes if c != digest]
        _reset_failures(user)
        return "recovery"
    if not locked(user):  # guesses during a lock are not tried, so they do not extend it
        _count_failure(user)
    return None


def locked(user: User) -> bool:
    return user.code_locked_until is not None and as_utc(user.code_locked_until) > utcnow()


def _count_failure(user: User) -> None:
    # Counted in the database, not the session cookie: a replayed cookie cannot reset it, and
    # simultaneous guesses each count.
    db.session.execute(update(User).where(User.id == user.id).values(code_failures=User.code_failures + 1))
    db.session.refresh(user, ["code_failures"])
    if user.code_failures % MAX_WRONG_PER_ACCOUNT == 0:
        user.code_locked_until = utcnow() + LOCK_FOR
    db.session.flush()


def _reset_failures(user: User) -> None:
    user.code_failures = 0
    user.code_locked_until = None


def _digest(code: str) -> str:
    return hashlib.sha256(code.lower().encode()).hexdigest()


def users_without_two_factor_who_need_it() -> int:
    query = select(User).where(User.totp_secret.is_(None), User.is_enabled.is_(True))
    return sum(1 for user in db.session.scalars(query) if required_for(user))
