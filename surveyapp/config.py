"""Configuration read from the environment.

Nothing secret lives in code: SECRET_KEY and the SMTP password come from the
environment. In development a random key is generated once and kept in the
instance folder, so sign-ins survive a restart of the demo server.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path


class ConfigError(RuntimeError):
    """The environment does not describe a safe, working configuration."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def _development_secret(instance_path: str) -> str:
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Return the settings for this process, refusing unsafe production ones.

    :param instance_path: the app's instance folder (SQLite file, dev secret, outbox)
    :param overrides: settings that win over the environment (tests pass these)
    """
    overrides = dict(overrides or {})
    env = overrides.get("ENV_NAME") or os.environ.get("SURVEYAPP_ENV", "development")
    if env not in {"development", "production", "testing"}:
        raise ConfigError(f"SURVEYAPP_ENV must be development, production or testing, not {env!r}")
    production = env == "production"

    secret = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    if not secret:
        if production:
            raise ConfigError("SECRET_KEY must be set in production (a long random string).")
        secret = _development_secret(instance_path)
    elif production and len(secret) < 32:
        raise ConfigError("SECRET_KEY is too short for production: use at least 32 random characters.")

    database_url = os.environ.get("DATABASE_URL") or "sqlite:///" + str(Path(instance_path) / "surveyapp.sqlite3")
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]

    smtp_security = (os.environ.get("SMTP_SECURITY") or "starttls").lower()
    if smtp_security not in {"starttls", "ssl", "none"}:
        raise ConfigError(f"SMTP_SECURITY must be starttls, ssl or none, not {smtp_security!r}")

    council_colour = (os.environ.get("COUNCIL_COLOUR") or "#1d70b8").strip()
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", council_colour):
        raise ConfigError(f"COUNCIL_COLOUR must be a colour like #1d70b8, not {council_colour!r}")

    idle_minutes = _int("SESSION_IDLE_MINUTES", 120)
    absolute_hours = _int("SESSION_ABSOLUTE_HOURS", 12)

    config = {
        "ENV_NAME": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Mail: without SMTP_HOST every message is written to the outbox folder.
        "SMTP_HOST": os.environ.get("SMTP_HOST") or None,
        "SMTP_PORT": _int("SMTP_PORT", 465 if smtp_security == "ssl" else 587),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_SECURITY": smtp_security,
        "SMTP_TIMEOUT": _int("SMTP_TIMEOUT", 20),
        "MAIL_FROM": os.environ.get("MAIL_FROM") or "surveyapp <no-reply@localhost>",
        "MAIL_OUTBOX": os.environ.get("MAIL_OUTBOX") or str(Path(instance_path) / "outbox"),
        # Links in emails and printed by the CLI need an absolute address.
        "BASE_URL": (os.environ.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        #: the council's name as the committee report prints it
        # The signed cookie lives as long as the absolute limit, so a DSL whose
        # sign-in went idle still has the CSRF secret that lets their save be kept.
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=absolute_hours),
        "SESSION_IDLE_TIMEOUT": timedelta(minutes=idle_minutes),
        #: how long before the idle timeout a signed-in page warns that it is coming, and offers to stay signed in
        "SESSION_TIMEOUT_WARNING": timedelta(minutes=min(_int("SESSION_WARNING_MINUTES", 5), idle_minutes)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        # A CSRF token never expires sooner than the session that carries it.
        "WTF_CSRF_TIME_LIMIT": None,
        "INVITATION_HOURS": _int("INVITATION_HOURS", 72),
        "PASSWORD_RESET_HOURS": _int("PASSWORD_RESET_HOURS", 2),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        #: roles that must set up two-factor sign-in (the lead can extend it to everyone in the app)
        "TWO_FACTOR_ROLES": [
            r.strip() for r in (os.environ.get("TWO_FACTOR_ROLES", "lead,board")).split(",") if r.strip()
        ],
        "REMINDER_COOL_OFF_DAYS": _int("REMINDER_COOL_OFF_DAYS", 3),
        #: reminders an establishment may have in one cycle (its most-reminded DSL); the preview shows who is at it
        "REMINDER_MAX_PER_CYCLE": _int("REMINDER_MAX_PER_CYCLE", 6),
        "REMINDER_ATTEMPTS": _int("REMINDER_ATTEMPTS", 3),
        "REMINDER_BACKOFF_SECONDS": _int("REMINDER_BACKOFF_SECONDS", 2),
        # Long work (reminders, big exports) goes to an RQ queue on this Redis, run by `surveyapp worker`;
        # without it, jobs run in the request that starts them (development, the demo, most tests).
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "JOB_QUEUE": os.environ.get("JOB_QUEUE") or "surveyapp",
        "JOB_TIMEOUT_SECONDS": _int("JOB_TIMEOUT_SECONDS", 3600),
        #: on PostgreSQL a running job beats this often; one whose beats stop for JOB_LOST_AFTER_SECONDS has
        #: lost its worker and may be started again (without beats: after ten minutes with no progress)
        "JOB_HEARTBEAT_SECONDS": _int("JOB_HEARTBEAT_SECONDS", 15),
        "JOB_LOST_AFTER_SECONDS": _int("JOB_LOST_AFTER_SECONDS", 90),
        #: the most records the activity log's GET download writes in the request (about 3 seconds to xlsx);
        #: more are written by a job, started from the activity page
        "ACTIVITY_DOWNLOAD_IN_REQUEST_MAX": _int("ACTIVITY_DOWNLOAD_IN_REQUEST_MAX", 10_000),
        #: reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed (0: none, use the
        #: connecting address); more than the real number lets a client choose its own address
        "TRUSTED_PROXY_COUNT": _int("TRUSTED_PROXY_COUNT", 0),
        "SIGN_IN_LIMIT": os.environ.get("SIGN_IN_LIMIT") or "10 per minute;50 per hour",
        #: the cost of hashing passwords (surveyapp.auth.services.PASSWORD_PROFILES): the cheapest only for tests
        "PASSWORD_PROFILE": "cheapest-for-tests" if env == "testing" else "rfc9106-low-memory",
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 80) * 1024 * 1024,
        # The council's own service: its name, logo and colour in the header (GOV.UK's crown and font are
        # reserved for GOV.UK), and where the phase banner sends feedback.
        "COUNCIL_NAME": os.environ.get("COUNCIL_NAME") or "Demo County Council",
        "COUNCIL_LOGO_URL": os.environ.get("COUNCIL_LOGO_URL") or None,
        "COUNCIL_COLOUR": council_colour,
        "FEEDBACK_URL": os.environ.get("FEEDBACK_URL") or "mailto:safeguarding.audit@example.org",
        "TESTING": env == "testing",
    }
    config.update(overrides)
    return config
