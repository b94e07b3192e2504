"""The tracker's figures keep a version: a token the database moves whenever anything they count changes

One row in figures_version, and triggers on every table the tracker's figures read (responses,
assignments, trust_coverage, establishments, trusts): a row added or removed, or a counted column
changed, moves the token. Workers keep the figures they computed under a token and compute them again
only when it has moved. PostgreSQL runs the trigger once per transaction, at its commit (a deferred
constraint trigger); SQLite runs it at once. The SQL is copied here (a migration must not change when the
app's code does); surveyapp/chasing/models.py builds the same for create_all, and tests/test_migrations.py
checks the two agree.

SQLite: a batch migration that rebuilds one of these tables (copy, drop, rename) drops its triggers with
the old table; such a migration must create them again.

Revision ID: c6f2a9d4e8b1
Revises: a8e3d5c1b7f9
Create Date: 2026-12-02 08:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c6f2a9d4e8b1'
down_revision = 'a8e3d5c1b7f9'
branch_labels = None
depends_on = None

INPUTS = {
    "responses": ("status", "submitted_at", "assignment_id"),
    "assignments": ("cycle_id", "establishment_id", "trust_id", "left_on"),
    "trust_coverage": ("response_id", "establishment_id"),
    "establishments": ("phase", "type_name", "district", "trust_id"),
    "trusts": ("uid", "name"),
}


def _changed(columns, distinct):
    return " OR ".join(f"OLD.{column} {distinct} NEW.{column}" for column in columns)


def _sqlite():
    bump = "BEGIN UPDATE figures_version SET token = lower(hex(randomblob(16))); END"
    statements = []
    for table, columns in INPUTS.items():
        statements += [
            f"CREATE TRIGGER {table}_figures_added AFTER INSERT ON {table} {bump}",
            f"CREATE TRIGGER {table}_figures_removed AFTER DELETE ON {table} {bump}",
            f"CREATE TRIGGER {table}_figures_changed AFTER UPDATE OF {', '.join(columns)} ON {table} "
            f"WHEN {_changed(columns, 'IS NOT')} {bump}",
        ]
    return statements


def _postgresql():
    statements = [
        "CREATE OR REPLACE FUNCTION figures_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF current_setting('surveyapp.figures_changed', true) IS DISTINCT FROM 'yes' THEN "
        "PERFORM set_config('surveyapp.figures_changed', 'yes', true); "
        "UPDATE figures_version SET token = gen_random_uuid()::text; "
        "END IF; RETURN NULL; END $$"
    ]
    deferred = "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
    for table, columns in INPUTS.items():
        statements += [
            f"CREATE CONSTRAINT TRIGGER {table}_figures_added_or_removed AFTER INSERT OR DELETE ON {table} "
            f"{deferred} EXECUTE FUNCTION figures_changed()",
            f"CREATE CONSTRAINT TRIGGER {table}_figures_changed AFTER UPDATE OF {', '.join(columns)} "
            f"ON {table} {deferred} WHEN ({_changed(columns, 'IS DISTINCT FROM')}) "
            "EXECUTE FUNCTION figures_changed()",
        ]
    return statements


def _dialect():
    name = op.get_bind().dialect.name
    if name not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"No figures triggers for {name}: add them before running surveyapp on it")
    return name


def upgrade():
    name = _dialect()
    op.create_table(
        'figures_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_figures_version')),
    )
    # random, so a database built again never repeats a token a running worker kept figures under
    token = "lower(hex(randomblob(16)))" if name == "sqlite" else "gen_random_uuid()::text"
    op.execute(f"INSERT INTO figures_version (id, token) VALUES (1, {token})")
    for statement in _sqlite() if name == "sqlite" else _postgresql():
        op.execute(statement)


def downgrade():
    name = _dialect()
    for table in INPUTS:
        if name == "sqlite":
            for suffix in ("added", "removed", "changed"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_figures_{suffix}")
        else:
            for suffix in ("added_or_removed", "changed"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_figures_{suffix} ON {table}")
    if name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS figures_changed()")
    op.drop_table('figures_version')
