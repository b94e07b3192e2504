"""Migrations bring an empty database to the same schema the models describe."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect

from surveyapp.extensions import db
from tests.conftest import fresh_database_url, make_app


def test_upgrade_on_an_empty_database_reaches_the_models():
    url = fresh_database_url("surveyapp_migrations_check")
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        engine = create_engine(url)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata)
            tables = set(inspect(connection).get_table_names())
        engine.dispose()
        db.engine.dispose()
    assert differences == []
    assert {"establishments", "trusts", "responses", "answers", "activity_log"} <= tables


def test_the_cli_upgrade_command_runs():
    url = fresh_database_url("surveyapp_migrations_cli")
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()
