"""Writing many rows in the session's transaction: COPY on PostgreSQL, multi-row inserts elsewhere.

For the imports and the action plans they make, where one statement per row (or an ORM flush)
would cost more than the rows themselves. Values are the database's (enums as their stored text);
a column left out gets the model's default, as an ORM insert would give it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

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
