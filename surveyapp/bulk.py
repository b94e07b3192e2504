"""Writing many rows in the session's transaction: COPY on PostgreSQL, multi-row inserts elsewhere.

For the imports and the action plans they make, where one statement per row (or an ORM flush)
would cost more than the rows themselves. Values are the database's (enums as their stored text);
a column left out gets the model's default, as an ORM insert would give it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from surveyapp.extensions import db

#: rows per multi-row insert where there is no COPY
INSERT_BATCH = 1000

#: characters of COPY text sent at a time: large enough to keep the server busy, small enough not to matter
COPY_BLOCK = 1 << 18

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_escape(text: str) -> str:
    """Text as one field of COPY's text format."""
    return text.translate(_COPY_ESCAPES)


def copy_text(value: Any) -> str:
    """A value in COPY's text format (psycopg's write_row does the same, several times slower)."""
    kind = value.__class__
    if kind is str:
        return value.translate(_COPY_ESCAPES)
    if kind is int:
        return str(value)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def is_postgresql() -> bool:
    return db.session.connection().dialect.name == "postgresql"


def copy_lines(table, columns: list[str], lines: Iterable[str]) -> int:
    """COPY ``lines`` (COPY text format, without line breaks) into ``table`` on the session's
    PostgreSQL connection, about ``COPY_BLOCK`` characters to a write. Returns the number of rows."""
    cursor = db.session.connection().connection.driver_connection.cursor()
    count = 0
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        block: list[str] = []
        size = 0
        for line in lines:
            block.append(line)
            size += len(line) + 1
            if size >= COPY_BLOCK:
                copy.write("\n".join(block) + "\n")
                count += len(block)
                block, size = [], 0
        if block:
            copy.write("\n".join(block) + "\n")
            count += len(block)
    return count


def _defaults(table, columns: list[str]) -> dict[str, Any]:
    """The model's default for each column of ``table`` left out of ``columns`` that has one
    (a callable default, such as the time, is called once for all the rows)."""
    given = set(columns)
    defaults = {}
    for column in table.columns:
        if column.name in given or column.default is None or column.primary_key:
            continue
        default = column.default
        if default.is_scalar:
            defaults[column.name] = default.arg
        elif default.is_callable:
            defaults[column.name] = default.arg({})
    return defaults


def bulk_insert(
    table,
    columns: list[str],
    rows: Iterable[tuple],
    constants: dict[str, Any] | None = None,
    batch: int = INSERT_BATCH,
) -> int:
    """Insert ``rows`` (tuples in ``columns``' order) into ``table`` in the session's transaction:
    COPY on PostgreSQL, multi-row inserts of ``batch`` rows elsewhere. Returns the number of rows.

    :param constants: values every row has, by column (written once, not asked of each row); the
        columns in neither get the model's default
    """
    fixed = {**_defaults(table, [*columns, *(constants or {})]), **(constants or {})}
    names = [*columns, *fixed]
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        tail = "".join("\t" + copy_text(value) for value in fixed.values())
        return copy_lines(table, names, ("\t".join([copy_text(value) for value in row]) + tail for row in rows))
    statement = table.insert()
    extra = tuple(fixed.values())
    count = 0
    chunk: list[dict] = []
    for row in rows:
        chunk.append(dict(zip(names, (*row, *extra), strict=True)))
        if len(chunk) >= batch:
            connection.execute(statement, chunk)
            count += len(chunk)
            chunk = []
    if chunk:
        connection.execute(statement, chunk)
        count += len(chunk)
    return count


def hold_for_reference(table, ids: Iterable[int]) -> None:
    """Lock these rows of ``table`` against deletion (and key changes) until the transaction ends, as
    PostgreSQL's check of a foreign key does for each row that refers to them (FOR KEY SHARE). Nothing
    on SQLite, whose writers take the whole database."""
    wanted = list(ids)
    if wanted and is_postgresql():
        db.session.execute(select(table.c.id).where(table.c.id.in_(wanted)).with_for_update(read=True, key_share=True))


@contextmanager
def references_held(tables: Sequence) -> Iterator[bool]:
    """Within the block, rows written to ``tables`` skip PostgreSQL's row-by-row check of their foreign
    keys, where this database lets them; yields whether they do.

    Only for bulk writes whose every referenced row this transaction has made itself or holds locked
    (``hold_for_reference``), so that no check could fail: the responses import's answers, whose check
    of each row's response takes their COPY from about 12 to 28 s at national scale, and the rows that go
    with them. It is ``session_replication_role = replica`` for this transaction only (SET LOCAL), as
    pg_restore's ``--disable-triggers`` does. Replica mode skips every ordinary trigger too, so the block
    checks every row as usual where one of ``tables`` has a trigger of its own (the activity log's
    append-only guard, the tracker's figures), and where the role may not set the mode: it needs to be a
    superuser or, from PostgreSQL 15, granted ``SET ON PARAMETER session_replication_role``.
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql" or not _may_skip_checks(connection, tables):
        yield False
        return
    connection.execute(text("SET LOCAL session_replication_role = replica"))
    try:
        yield True
    except BaseException:
        # An error has usually ended the transaction, and its rollback ends the mode with it.
        with suppress(DBAPIError):
            connection.execute(text("SET LOCAL session_replication_role = origin"))
        raise
    connection.execute(text("SET LOCAL session_replication_role = origin"))


def _may_skip_checks(connection, tables: Sequence) -> bool:
    if connection.dialect.server_version_info >= (15,):
        allowed = connection.scalar(text("SELECT has_parameter_privilege('session_replication_role', 'SET')"))
    else:
        allowed = connection.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    if not allowed:
        return False
    triggers = connection.scalar(
        text("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = ANY(CAST(:names AS regclass[]))"),
        {"names": [table.name for table in tables]},
    )
    return triggers == 0
