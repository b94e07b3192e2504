"""User text never becomes a formula, in xlsx or CSV; numbers stay numbers."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import xlsxwriter

from surveyapp.safe_cells import WORKBOOK_OPTIONS, safe_cell, safe_row, write_text_row

NASTY = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
#: a formula behind leading whitespace a spreadsheet may skip (the review's finding)
BEHIND_SPACES = ["\u00a0=HYPERLINK(1)", "\x0b=1+1", "\x0c+1", " =1", "\u2003@SUM(A1)", "\u200b=1", "\n-2"]


# (openpyxl reads a carriage return back as the escape "_x000D_", so it is checked in CSV only)
@pytest.mark.parametrize("text", NASTY[:-1])
def test_formula_looking_text_comes_back_from_xlsx_as_plain_text(tmp_path, text):
    path = tmp_path / "out.xlsx"
    workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    sheet = workbook.add_worksheet("Names")
    write_text_row(sheet, 0, [text, 12, "ordinary"])
    workbook.close()
    cell, number, plain = next(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert cell == text and number == 12 and plain == "ordinary"
    loaded = openpyxl.load_workbook(path).active["A1"]
    assert loaded.data_type == "s"


def test_xlsx_writes_urls_as_text_not_links(tmp_path):
    path = tmp_path / "out.xlsx"
    workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    sheet = workbook.add_worksheet()
    write_text_row(sheet, 0, ["http://evil.example/"])
    workbook.close()
    sheet = openpyxl.load_workbook(path).active
    assert sheet["A1"].value == "http://evil.example/" and sheet["A1"].hyperlink is None


@pytest.mark.parametrize("text", NASTY + BEHIND_SPACES)
def test_csv_puts_an_apostrophe_before_formula_looking_text(text):
    buffer = io.StringIO()
    csv.writer(buffer).writerow(safe_row([text, 3, 2.5, "Hill Primary"]))
    cell, number, decimal, name = next(csv.reader(io.StringIO(buffer.getvalue())))
    assert cell == "'" + text
    assert (number, decimal, name) == ("3", "2.5", "Hill Primary")


def test_numbers_and_empty_values_stay_as_they_are():
    assert safe_cell(-2) == -2 and safe_cell(0.5) == 0.5 and safe_cell(None) == "" and safe_cell("a=b") == "a=b"


def test_text_with_spaces_but_no_formula_is_left_alone():
    assert safe_cell("\u00a0St Mary") == "\u00a0St Mary" and safe_cell(" ") == " "
