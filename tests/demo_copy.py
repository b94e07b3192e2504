"""The demo local authority, built once per test run and copied into the database of each test that asks for it.

Building the demo takes several seconds (hundreds of establishments, two cycles of returns, action plans,
the activity log); a test that only reads it gets the very rows the build made, written back in one
transaction as the database stores them (COPY's text on PostgreSQL, SQLite's own values). Every table is
copied but the tracker's figures token, which each test's database has its own of.
"""

from __future__ import annotations

from sqlalchemy import Table, text

from surveyapp.chasing.models import FiguresVersion
from surveyapp.demo import build_demo
from surveyapp.extensions import db

#: the demo's sign-ins by role, every table's rows (parents before children) and, on PostgreSQL, every sequence's
#: last value, as the first build left them
_built: tuple[dict[str, str], list[tuple[Table, object]], list[tuple[str, int]]] | None = None


def _tables() -> list[Table]:
    return [table for table in db.metadata.sorted_tables if table is not FiguresVersion.__table__]


def _read(connection, table: Table):
    """The table's rows as the database stores them: COPY text on PostgreSQL, tuples on SQLite."""
    if connection.dialect.name == "postgresql":
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f'COPY "{table.name}" TO STDOUT') as copy:
                return b"".join(bytes(block) for block in copy)
    return connection.exec_driver_sql(f'SELECT * FROM "{table.name}"').fetchall()


def _write(connection, table: Table, rows) -> None:
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f'COPY "{table.name}" FROM STDIN') as copy:
                copy.write(rows)
        return
    marks = ", ".join("?" * len(rows[0]))
    connection.connection.driver_connection.executemany(f'INSERT INTO "{table.name}" VALUES ({marks})', rows)


#: PostgreSQL: every sequence of the schema the build used, and where it had got to
_SEQUENCES = (
    "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences "
    "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
)


def demo_copy() -> dict[str, str]:
    """Fill the test's (empty) database with the demo; return its sign-in emails by role."""
    global _built
    if _built is None:
        sign_ins = build_demo()["sign_ins"]
        db.session.commit()
        with db.engine.connect() as connection:
            copies = [(table, _read(connection, table)) for table in _tables()]
            postgresql = connection.dialect.name == "postgresql"
            sequences = [tuple(row) for row in connection.execute(text(_SEQUENCES))] if postgresql else []
        _built = sign_ins, copies, sequences
        return dict(sign_ins)
    sign_ins, copies, sequences = _built
    db.session.remove()
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # The rows are the build's own, so every key holds: none needs checking one row at a time.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table, rows in copies:
            _write(connection, table, rows)
        # The rows came with their ids: each sequence carries on from where the build left it.
        for sequence, last in sequences:
            connection.execute(text("SELECT setval(:sequence, :last)"), {"sequence": sequence, "last": last})
    return dict(sign_ins)
