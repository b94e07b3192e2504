"""Accounts: passwords, single-use links, invitations and sign-in checks."""

from __future__ import annotations

import gzip
import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update

from surveyapp.auth.models import AccountToken, Role, TokenPurpose, User
from surveyapp.extensions import db, rows_changed
from surveyapp.timeutil import as_utc, utcnow

#: Argon2id's cost, by name: RFC 9106's second recommended profile (argon2-cffi's default) for real use, and
#: argon2-cffi's cheapest for the test suite, whose hundreds of sign-ins would otherwise take minutes. A hash
#: records its own cost, so each verifies as it was made, whichever profile is in use.
PASSWORD_PROFILES = {"rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY, "cheapest-for-tests": profiles.CHEAPEST}

_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
#: verified against when the email is unknown, so timing does not reveal which accounts exist
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def use_password_profile(name: str) -> None:
    """Hash new passwords (and time unknown emails) at this cost, one of ``PASSWORD_PROFILES``, from now on."""
    global _hasher, _DUMMY_HASH
    parameters = PASSWORD_PROFILES[name]
    if _hasher.time_cost == parameters.time_cost and _hasher.memory_cost == parameters.memory_cost:
        return
    _hasher = PasswordHasher.from_parameters(parameters)
    _DUMMY_HASH = _hasher.hash("not-a-real-password")


MIN_PASSWORD_LENGTH = 12


class AccountError(Exception):
    """An account operation that cannot go ahead, with a message for the user."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # 19,640 passwords most often found in breaches (the list Django ships, by Royce Williams; BSD licence).
    with gzip.open(Path(__file__).with_name("common-passwords.txt.gz"), "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def check_password_rules(password: str, user: User | None = None) -> list[str]:
    """Return the reasons a password is refused.

    As NCSC advises: a minimum length and a block-list of passwords known from
    breaches, and no composition rules (no "must contain a symbol").
    """
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Password must be {MIN_PASSWORD_LENGTH} characters or more")
    elif len(password) > 256:
        problems.append("Password must be 256 characters or fewer")
    elif password.strip().lower() in _common_passwords() or len(set(password)) < 4:
        problems.append("This password is too easy to guess: it is on a list of passwords known from data breaches")
    elif user is not None and user.email.split("@")[0] in password.lower():
        problems.append("Password must not contain your email address")
    return problems


def authenticate(email: str, password: str) -> User | None:
    """Return the enabled user with this email and password, or None."""
    user = find_user(email)
    if user is None or not user.password_hash:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if not user.is_enabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = utcnow()
    return user


def check_password(user: User, password: str) -> bool:
    """True if this is the user's current password."""
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(email: str, role: Role, name: str = "") -> User:
    """Add a user with no password yet (they set one through an invitation)."""
    email = normalise_email(email)
    if find_user(email) is not None:
        raise AccountError(f"There is already an account for {email}")
    user = User(email=email, role=role, name=name.strip())
    db.session.add(user)
    db.session.flush()
    return user


def issue_token(user: User | None, purpose: TokenPurpose, hours: int) -> str:
    """Create a single-use link token; only its hash is stored. Earlier unused ones lapse.

    With ``user`` None (a reset asked for an email with no account) the same statements run and
    an already-spent stand-in row is written, so the request takes as long as a real one.
    """
    now = utcnow()
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == (user.id if user is not None else 0), AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user_id=user.id if user is not None else None,
            purpose=purpose,
            token_hash=_digest(token),
            expires_at=now + timedelta(hours=hours),
            used_at=None if user is not None else now,
        )
    )
    db.session.flush()
    return token


def peek_token(token: str) -> AccountToken | None:
    """Return the usable token row for this link, or None if unknown, used or expired."""
    row = db.session.scalar(select(AccountToken).where(AccountToken.token_hash == _digest(token)))
    if row is None or row.used_at is not None or as_utc(row.expires_at) < utcnow():
        return None
    return row


def set_password_with_token(token: str, password: str) -> User:
    """Spend a single-use link to set a password; refuses a used or expired link."""
    row = peek_token(token)
    if row is None:
        raise AccountError("This link has expired or has already been used. Ask for a new one.")
    problems = check_password_rules(password, row.user)
    if problems:
        raise AccountError(problems[0])
    # Conditional update: of two simultaneous uses of one link, only one succeeds.
    spent = rows_changed(
        update(AccountToken).where(AccountToken.id == row.id, AccountToken.used_at.is_(None)).values(used_at=utcnow())
    )
    if spent != 1:
        raise AccountError("This link has already been used. Ask for a new one.")
    user = row.user
    if user is None:  # the account was deleted after the link was sent
        raise AccountError("This link has expired or has already been used. Ask for a new one.")
    user.password_hash = hash_password(password)
    # Every existing session of this user ends: a leaked cookie stops working.
    user.session_epoch += 1
    return user


def load_user_from_session_id(session_id: str) -> User | None:
    """Flask-Login's loader: "<id>:<epoch>"; a stale epoch means the session was ended."""
    try:
        user_id, epoch = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_epoch != epoch or not user.is_enabled:
        return None
    return user


def set_enabled(user: User, enabled: bool, actor: User | None) -> bool:
    """Disable or re-enable an account; return False if it already was so.

    Disabling ends every session at once (the next request of each is refused); the person's
    past answers, submissions and log entries keep their name.

    :raises AccountError: a lead may not disable their own account (nobody would be left to undo it)
    """
    if actor is not None and actor.id == user.id and not enabled:
        raise AccountError("You cannot disable your own account")
    if user.is_enabled == enabled:
        return False
    user.is_enabled = enabled
    if not enabled:
        user.session_epoch += 1
    from surveyapp.activity.services import record  # the log builds on accounts

    record(
        "user.enabled" if enabled else "user.disabled",
        actor.id if actor else None,
        email=user.email,
        role=user.role.value,
    )
    db.session.flush()
    return True


def end_all_sessions(user: User) -> None:
    user.session_epoch += 1


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
