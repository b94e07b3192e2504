"""Time helpers: every stored timestamp is timezone-aware UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import overload


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return utcnow().date()


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; treat them as the UTC they were stored as."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def add_months(day: date, months: int) -> date:
    """Shift a date by whole months, clamping to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=candidate)
        except ValueError:
            continue
    raise ValueError(day)


class NotADate(ValueError):
    """The text is not a date; the message says why, in words for the person who typed it."""


def parse_date(text: str) -> date:
    """Read ISO (2026-03-31) or UK (31/03/2026, 31-03-2026) dates; refuse anything else."""
    text = text.strip()
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        match = re.fullmatch(r"(\d{1,2})[/\-. ](\d{1,2})[/\-. ](\d{4})", text)
        if not match:
            raise NotADate("must be a date, like 31/03/2026")
        day, month, year = (int(part) for part in match.groups())
    return make_date(day, month, year)


def make_date(day: int, month: int, year: int) -> date:
    if not 1900 <= year <= 2100:
        raise NotADate("must have a year between 1900 and 2100")
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise NotADate("must be a real date") from exc
