"""The activity log is append-only: triggers refuse UPDATE, DELETE (and in PostgreSQL TRUNCATE)

The app only ever inserts into activity_log; these triggers make the database refuse
anything else, whichever connection or tool tries. The SQL is copied here (a migration
must not change when the app's code does); surveyapp/activity/models.py builds the same
triggers for create_all, and tests/test_migrations.py checks the two agree.

SQLite: a batch migration that rebuilds activity_log (copy, drop, rename) drops these
triggers with the old table; such a migration must create them again.

An erasure a DPIA calls for (a data subject's rows) is a DBA's step, not the app's: in
PostgreSQL, as a superuser, in one transaction: SET LOCAL session_replication_role =
replica; DELETE ...; in SQLite: drop the triggers, delete, create them again (see README).

Revision ID: e4a1c7b2d9f3
Revises: 9d63a92c201f
Create Date: 2026-11-23 20:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e4a1c7b2d9f3'
down_revision = '9d63a92c201f'
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE TRIGGER activity_log_no_update BEFORE UPDATE ON activity_log "
    "BEGIN SELECT RAISE(ABORT, 'activity_log is append-only: its rows cannot be updated'); END",
    "CREATE TRIGGER activity_log_no_delete BEFORE DELETE ON activity_log "
    "BEGIN SELECT RAISE(ABORT, 'activity_log is append-only: its rows cannot be deleted'); END",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS activity_log_no_update", "DROP TRIGGER IF EXISTS activity_log_no_delete"]

POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION activity_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION USING MESSAGE = 'activity_log is append-only: ' || TG_OP || ' refused', "
    "ERRCODE = 'insufficient_privilege'; END $$",
    "CREATE TRIGGER activity_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON activity_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION activity_log_append_only()",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS activity_log_append_only ON activity_log",
    "DROP FUNCTION IF EXISTS activity_log_append_only()",
]


def _statements(by_dialect):
    name = op.get_bind().dialect.name
    if name not in by_dialect:
        raise NotImplementedError(f"No append-only triggers for {name}: add them before running surveyapp on it")
    return by_dialect[name]


def upgrade():
    for statement in _statements({"sqlite": SQLITE, "postgresql": POSTGRESQL}):
        op.execute(statement)


def downgrade():
    for statement in _statements({"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN}):
        op.execute(statement)
