"""Whole numbers from URLs and forms, kept within what the database can compare.

SQLite and PostgreSQL hold at most a signed 64-bit integer; a larger number in an id,
``?page=`` or ``?trust=`` used to reach the database and fail there (a 500). Such a
number can name nothing, so it is treated as not found (ids) or clamped (pages).
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

#: the largest signed 64-bit integer: SQLite's INTEGER and PostgreSQL's BIGINT
DB_INT_MAX = 2**63 - 1
#: no list is anywhere near this many pages; a larger ?page= shows the last page or an empty one
MAX_PAGE = 1_000_000


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` that matches only numbers the database can hold; a larger one is a 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def whole_number(value) -> int | None:
    """A non-negative whole number the database can hold, or None."""
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if number <= DB_INT_MAX else None


def page_number(value) -> int:
    """A page number from ?page=: 1 when missing or not a number, never above MAX_PAGE."""
    number = whole_number(value)
    return min(max(number or 1, 1), MAX_PAGE)
