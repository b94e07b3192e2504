"""The demo local authority, built once per test run and copied into the database of each test that asks for it.

Building the demo takes several seconds (hundreds of establishments, two cycles of returns, action plans,
the activity log); a test that only reads it gets the very rows the build made, written back in one
transaction as the database stores them (COPY's text on PostgreSQL, SQLite's own values). Every table is
copied but the tracker's figures token, which each test's database has its own of.
"""

from __future__ import annotations

from sqlalchemy import Integer, Table, func, select, text

from surveyapp.chasing.models import FiguresVersion
from surveyapp.demo import build_demo
from surveyapp.extensions import db

#: the demo's sign-ins by role, and every table's rows (parents before children) as the first build left them
_built: tuple[dict[str, str], list[tuple[Table, object]]] | None = None


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
        # The rows came with their ids: each sequence carries on from the highest, as after the build.
        for column in table.primary_key.columns:
            sequence = isinstance(column.type, Integer) and connection.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"), {"table": table.name, "column": column.name}
            )
            if sequence:
                highest = connection.scalar(select(func.max(column)))
                connection.execute(
                    text("SELECT setval(:sequence, :highest)"), {"sequence": sequence, "highest": highest}
                )
        return
    marks = ", ".join("?" * len(rows[0]))
    connection.connection.driver_connection.executemany(f'INSERT INTO "{table.name}" VALUES ({marks})', rows)


def demo_copy() -> dict[str, str]:
    """Fill the test's (empty) database with the demo; return its sign-in emails by role."""
    global _built
    if _built is None:
        sign_ins = build_demo()["sign_ins"]
        db.session.commit()
        with db.engine.connect() as connection:
            _built = sign_ins, [(table, _read(connection, table)) for table in _tables()]
        return dict(sign_ins)
    sign_ins, copies = _built
    db.session.remove()
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # The rows are the build's own, so every key holds: none needs checking one row at a time.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table, rows in copies:
            _write(connection, table, rows)
    return dict(sign_ins)
