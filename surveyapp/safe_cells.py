"""The one helper every export goes through so user text is never read as a formula.

A spreadsheet treats a cell beginning with = + - @ (or a tab or carriage return
before one) as a formula: a school named ``=HYPERLINK(...)`` would become a live
link in the lead's workbook. xlsx cells are written as strings with formula and
URL detection off; CSV text that could start a formula gets a leading apostrophe.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

#: xlsxwriter.Workbook options for every workbook: text stays text, memory stays flat
WORKBOOK_OPTIONS: dict[str, bool] = {"strings_to_formulas": False, "strings_to_urls": False, "constant_memory": True}

#: first characters that make a CSV cell a formula in Excel, LibreOffice or Google Sheets
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: spaces a spreadsheet may skip before a formula: any whitespace (NBSP, vertical tab, form feed,
#: ...) and the invisible characters Python does not count as whitespace
_LEADING_SPACE = re.compile("^[\\s\u200b\u200c\u200d\u2060\ufeff]+")


def starts_formula(text: str) -> bool:
    """Could a spreadsheet read this text as a formula, even after leading spaces of any kind?"""
    if text.startswith(FORMULA_STARTS):
        return True
    rest = _LEADING_SPACE.sub("", text)
    return rest != text and rest.startswith(FORMULA_STARTS)


def safe_cell(value: Any) -> Any:
    """A CSV cell: numbers and dates as they are, text starting a formula behind an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value)
    if starts_formula(text):
        return "'" + text
    return text


def safe_row(values) -> list[Any]:
    return [safe_cell(value) for value in values]


def write_text_row(worksheet, row: int, values, formats=None) -> None:
    """Write one row to an xlsx sheet: numbers as numbers, everything else with write_string.

    :param formats: optional list (same length as values) of xlsxwriter formats or None
    """
    for column, value in enumerate(values):
        fmt = formats[column] if formats else None
        write_value(worksheet, row, column, value, fmt)


def write_value(worksheet, row: int, column: int, value: Any, fmt=None) -> None:
    """Write one cell; text always as a string, so it can never become a formula or a link."""
    if value is None or value == "":
        if fmt is not None:
            worksheet.write_blank(row, column, None, fmt)
        return
    if isinstance(value, bool):
        worksheet.write_string(row, column, "Yes" if value else "No", fmt)
    elif isinstance(value, (int, float, Decimal)):
        worksheet.write_number(row, column, float(value), fmt)
    elif isinstance(value, (date, datetime)) and fmt is not None:
        worksheet.write_datetime(
            row,
            column,
            datetime(value.year, value.month, value.day)
            if not isinstance(value, datetime)
            else value.replace(tzinfo=None),
            fmt,
        )
    elif isinstance(value, (date, datetime)):
        worksheet.write_string(row, column, value.isoformat()[:10])
    else:
        worksheet.write_string(row, column, str(value), fmt)
