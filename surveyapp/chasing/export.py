"""The non-responders export as CSV or xlsx bytes, through the formula-safe helpers (no Flask)."""

from __future__ import annotations

import csv
import io

import xlsxwriter

from surveyapp.safe_cells import WORKBOOK_OPTIONS, safe_row, write_text_row


def to_csv(header: list[str], rows: list[list]) -> bytes:
    """UTF-8 CSV with a byte-order mark so Excel reads names with accents correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow(safe_row(row))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(header: list[str], rows: list[list], sheet: str = "Non-responders") -> bytes:
    """One sheet, header in bold, every text cell written as a string (never a formula)."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {**WORKBOOK_OPTIONS, "in_memory": True})
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    write_text_row(worksheet, 0, header, [bold] * len(header))
    for number, row in enumerate(rows, start=1):
        write_text_row(worksheet, number, row)
    worksheet.set_column(0, 0, 10)
    worksheet.set_column(1, 1, 40)
    worksheet.set_column(len(header) - 1, len(header) - 1, 80)
    workbook.close()
    return buffer.getvalue()
