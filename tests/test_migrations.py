"""Migrations bring an empty database to the same schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import DBAPIError

from surveyapp.audits.models import Assignment, Response
from surveyapp.extensions import db
from tests.conftest import fresh_database_url, make_app
from tests.factories import Factory


# The tracker's name-order index is PostgreSQL's only (an expression): on SQLite there is nothing to compare.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index:UserWarning")
def test_upgrade_on_an_empty_database_reaches_the_models():
    url = fresh_database_url("surveyapp_migrations_check")
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        engine = create_engine(url)
        with engine.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata
            )
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


def _append_only_triggers(connection) -> list[tuple[str, str]]:
    """The triggers guarding activity_log (and, in PostgreSQL, their function), as the database reports them."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'activity_log' ORDER BY name"
            )
        )
    else:
        rows = connection.execute(
            text(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = 'activity_log'::regclass AND NOT tgisinternal "
                "UNION ALL SELECT proname, pg_get_functiondef(oid) FROM pg_proc "
                "WHERE proname = 'activity_log_append_only' "
                "ORDER BY 1"
            )
        )
    return [tuple(row) for row in rows]


def test_the_migrations_make_the_activity_log_append_only_as_the_models_do(app):
    with db.engine.connect() as connection:
        from_models = _append_only_triggers(connection)
    assert (
        len(from_models) == 2
    )  # SQLite: one trigger for UPDATE, one for DELETE; PostgreSQL: a trigger and its function
    url = fresh_database_url("surveyapp_migrations_triggers")
    other = make_app(SQLALCHEMY_DATABASE_URI=url)
    with other.app_context():
        upgrade()
        engine = create_engine(url)
        with engine.connect() as connection:
            assert _append_only_triggers(connection) == from_models
        downgrade(revision="9d63a92c201f")
        with engine.connect() as connection:
            assert _append_only_triggers(connection) == []
        upgrade()
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO activity_log (at, action, detail) VALUES (CURRENT_TIMESTAMP, 'x.y', '{}')")
            )
        with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text("DELETE FROM activity_log"))
        engine.dispose()
        db.engine.dispose()


def test_template_versions_stored_before_publishing_was_recorded_count_as_published():
    url = fresh_database_url("surveyapp_migrations_published")
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(revision="7c3e9a51d2b8")
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_templates (id, key, version, title, description, definition, created_at) "
                    "VALUES (1, 'mini', 1, 'Mini', '', '{}', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO template_sections (id, template_id, key, title, description, position) "
                    "VALUES (1, 1, 'one', 'One', '', 0)"
                )
            )
        upgrade(revision="68e3c09c6aa8")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT published FROM audit_templates")).scalar_one() in (True, 1)
            assert connection.execute(text("SELECT count(*) FROM template_sections")).scalar_one() == 1
        # Going back drops the column and nothing else: the version keeps its sections.
        downgrade(revision="7c3e9a51d2b8")
        with engine.connect() as connection:
            assert "published" not in {c["name"] for c in inspect(connection).get_columns("audit_templates")}
            assert connection.execute(text("SELECT count(*) FROM template_sections")).scalar_one() == 1
        engine.dispose()
        db.engine.dispose()


def test_an_upload_kept_before_stored_files_is_still_kept_whole_after_the_upgrade_and_back():
    """A preview open while the service is upgraded can still be confirmed: its file moves into stored pieces."""
    url = fresh_database_url("surveyapp_migrations_kept_files")
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one piece
    with app.app_context():
        upgrade(revision="9e41c7d2b6a3")
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, email, name, role, is_enabled, created_at, session_epoch, recovery_codes) "
                    "VALUES (1, 'lead@example.org', 'Lead', 'lead', true, CURRENT_TIMESTAMP, 0, '[]')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO kept_uploads (token_hash, kind, owner_id, filename, data, uploaded_at) "
                    "VALUES ('h', 'establishments', 1, 'gias.csv', :data, CURRENT_TIMESTAMP)"
                ),
                {"data": data},
            )
        upgrade()
        with engine.connect() as connection:
            file_id = connection.execute(text("SELECT file_id FROM kept_uploads")).scalar_one()
            pieces = connection.execute(
                text("SELECT data FROM stored_file_pieces WHERE file_id = :f ORDER BY number"), {"f": file_id}
            ).scalars()
            assert b"".join(bytes(piece) for piece in pieces) == data
            assert connection.execute(text("SELECT size FROM stored_files")).scalar_one() == len(data)
        downgrade(revision="9e41c7d2b6a3")
        with engine.connect() as connection:
            assert bytes(connection.execute(text("SELECT data FROM kept_uploads")).scalar_one()) == data
        engine.dispose()
        db.engine.dispose()


def test_each_response_counts_the_sections_it_had_completed_before_the_upgrade():
    """A service upgraded mid-season shows the sections already completed in its tracker, not zeros."""
    url = fresh_database_url("surveyapp_migrations_sections_completed")
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        make = Factory()
        schools = [make.establishment() for _ in range(3)]
        cycle = make.cycle()
        db.session.commit()
        responses = {
            school.id: db.session.scalar(
                select(Response.id)
                .join(Assignment)
                .where(Assignment.cycle_id == cycle.id, Assignment.establishment_id == school.id)
            )
            for school in schools
        }
        db.session.remove()
        downgrade(revision="f4c8a2d6b9e1")
        engine = create_engine(url)
        with engine.begin() as connection:
            progress = [
                (responses[schools[0].id], "policies", "completed"),
                (responses[schools[0].id], "prevent", "completed"),
                (responses[schools[1].id], "policies", "completed"),
                (responses[schools[1].id], "prevent", "in_progress"),
            ]
            for response_id, key, state in progress:
                connection.execute(
                    text(
                        "INSERT INTO section_progress (response_id, section_key, state, version, updated_at) "
                        "VALUES (:r, :k, :s, 1, CURRENT_TIMESTAMP)"
                    ),
                    {"r": response_id, "k": key, "s": state},
                )
        upgrade()
        with engine.connect() as connection:
            counted = dict(connection.execute(text("SELECT id, sections_completed FROM responses")).all())
        assert [counted[responses[school.id]] for school in schools] == [2, 1, 0]
        engine.dispose()
        db.engine.dispose()


def _figures_triggers(connection) -> list[tuple[str, str]]:
    """The triggers that move the tracker's figures token (and, in PostgreSQL, their function)."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%figures%' ORDER BY name"
    else:
        query = (
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname LIKE '%figures%' AND NOT tgisinternal "
            "UNION ALL SELECT proname, pg_get_functiondef(oid) FROM pg_proc WHERE proname = 'figures_changed' "
            "ORDER BY 1"
        )
    return [tuple(row) for row in connection.execute(text(query))]


def test_the_migrations_keep_the_figures_token_moving_as_the_models_do(app):
    with db.engine.connect() as connection:
        from_models = _figures_triggers(connection)
    # SQLite: added, removed and changed on each of the five tables; PostgreSQL: two per table and the function
    assert len(from_models) == (15 if db.engine.dialect.name == "sqlite" else 11)
    url = fresh_database_url("surveyapp_migrations_figures")
    other = make_app(SQLALCHEMY_DATABASE_URI=url)
    with other.app_context():
        upgrade()
        engine = create_engine(url)
        with engine.connect() as connection:
            assert _figures_triggers(connection) == from_models
            first = connection.scalar(text("SELECT token FROM figures_version"))
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO trusts (uid, name, updated_at) VALUES ('T1', 'A trust', CURRENT_TIMESTAMP)")
            )
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT token FROM figures_version")) != first
        downgrade(revision="a8e3d5c1b7f9")
        with engine.connect() as connection:
            assert _figures_triggers(connection) == []
            assert "figures_version" not in inspect(connection).get_table_names()
            # with the triggers gone, the tables they watched take changes again without the token's table
            connection.execute(text("UPDATE trusts SET name = 'Renamed' WHERE uid = 'T1'"))
            connection.commit()
        upgrade()
        engine.dispose()
        db.engine.dispose()
