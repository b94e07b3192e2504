"""Fixtures: an app on a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL).

Tables are created once per run and emptied after every test, so each test
starts from an empty database without paying for a fresh schema.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from surveyapp import create_app
from surveyapp.activity.models import SQLITE_APPEND_ONLY, SQLITE_DROP_APPEND_ONLY
from surveyapp.chasing.models import FIRST_FIGURES_VERSION
from surveyapp.extensions import db
from tests.factories import Factory

_TMP = Path(tempfile.mkdtemp(prefix="surveyapp-tests-"))


def database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'test.sqlite3'}"


def make_app(**overrides):
    config = {
        "ENV_NAME": "testing",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "WTF_CSRF_ENABLED": False,
        "MAIL_OUTBOX": str(_TMP / "outbox"),
        "SMTP_HOST": None,
        "BASE_URL": "http://localhost",
        "SERVER_NAME": None,
        # Two-factor sign-in has its own tests (tests/auth/test_two_factor.py), which turn it on for
        # leads and board viewers as production does; elsewhere tests sign in with a password alone.
        "TWO_FACTOR_ROLES": [],
        # Said every time: Flask-Limiter's one limiter keeps the last app's RATELIMIT_ENABLED as its
        # default, so a test that turns limits off would otherwise leave them off for the next.
        "RATELIMIT_ENABLED": True,
    }
    config.update(overrides)
    app = create_app(config)

    @app.teardown_request
    def _forget_request_user(_exc):
        # Tests keep one app context open, and Flask reuses it for each request, so g
        # would outlive the request; in production every request has a fresh g.
        from flask import g

        g.pop("_login_user", None)

    return app


@pytest.fixture(scope="session")
def _schema():
    app = make_app()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # Start from an empty schema: tables left by another branch or run would block drop_all.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
        db.create_all()
        db.engine.dispose()
    yield


def empty_all_tables(app) -> None:
    """Empty every table, the append-only activity log included.

    The log's triggers refuse deletes, so this steps round them inside its own transaction
    only: PostgreSQL skips ordinary triggers in replica mode (SET LOCAL: this transaction;
    needs a superuser, as the test server's postgres is); SQLite drops the triggers, deletes
    and creates them again, all in one transaction, so no other connection sees the log open.

    PostgreSQL deletes rather than truncates: TRUNCATE gives each of the schema's 170-odd
    tables and indexes a new file, about 0.7 s after every test, where a test's few rows
    take a DELETE a few milliseconds. Replica mode also skips the foreign keys' checks
    (every table is emptied, so none can dangle), and every sequence starts again at 1, as
    TRUNCATE's RESTART IDENTITY did.
    """
    with app.app_context():
        db.session.remove()
        engine = db.engine
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                for table in tables:
                    connection.execute(text(f'DELETE FROM "{table}"'))
                connection.execute(
                    text(
                        "SELECT setval(c.oid, 1, false) FROM pg_class c "
                        "WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace"
                    )
                )
            else:
                for statement in SQLITE_DROP_APPEND_ONLY:
                    connection.execute(text(statement))
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))
                for statement in SQLITE_APPEND_ONLY:
                    connection.execute(text(statement))
            # The tracker's figures keep their version row (emptied above with the rest), a new token each time.
            connection.execute(text(FIRST_FIGURES_VERSION[engine.dialect.name]))
        engine.dispose()


@pytest.fixture
def app_config():
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def app(_schema, app_config, tmp_path):
    app = make_app(MAIL_OUTBOX=str(tmp_path / "outbox"), **app_config)
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        ctx.pop()
        empty_all_tables(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app):
    """Factory helpers that build real rows: make.establishment(), make.dsl(...), make.cycle(...)."""
    return Factory()


@pytest.fixture
def sign_in(client):
    """Sign a user in through the real sign-in form."""

    def _sign_in(user, password=Factory.PASSWORD, test_client=None):
        test_client = test_client or client
        response = test_client.post("/sign-in", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return test_client

    return _sign_in


def outbox_messages(app):
    """The emails written to the outbox folder (mail without SMTP settings)."""
    import email

    folder = Path(app.config["MAIL_OUTBOX"])
    if not folder.exists():
        return []
    return [
        email.message_from_bytes(p.read_bytes())
        for p in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    ]


@pytest.fixture
def postgres_admin_url():
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return None
    return url


def fresh_database_url(name: str) -> str:
    """A new, empty database of the engine under test (for migration tests)."""
    url = database_url()
    if url.startswith("sqlite"):
        path = _TMP / f"{name}.sqlite3"
        if path.exists():
            path.unlink()
        return f"sqlite:///{path}"
    # Prefixed with the test database's own name so two runs on one server (each with its own
    # test database) never drop each other's scratch databases.
    base, own = url.rsplit("/", 1)
    name = f"{own}_{name}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base + "/" + name
