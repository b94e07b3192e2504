"""The shared CSV reader: encodings, separators, headers, cut-short files and formulas."""

from __future__ import annotations

import pytest

from surveyapp.csvfiles import Column, ImportFailed, ImportProblem, header_key, read_csv

COLUMNS = [
    Column("urn", "URN", required=True),
    Column("name", "EstablishmentName", ("Name",), required=True, text=True, max_length=60),
    Column("type_name", "TypeOfEstablishment (name)", ("Type",), text=True),
]


def refused(data: bytes, columns=COLUMNS) -> list[str]:
    with pytest.raises(ImportFailed) as caught:
        table = read_csv(data, columns)
        table.raise_if_problems()
    return [str(problem) for problem in caught.value.problems]


def test_headers_compare_without_case_spaces_or_punctuation():
    assert header_key("TypeOfEstablishment (name)") == "typeofestablishmentname"
    table = read_csv(b"urn,ESTABLISHMENT NAME,typeofestablishment-name,Ignored column\n1,A,B,C\n", COLUMNS)
    assert table.found == {"urn": "urn", "name": "ESTABLISHMENT NAME", "type_name": "typeofestablishment-name"}
    assert table.unmatched == ["Ignored column"]
    assert table.rows[0].values == {"urn": "1", "name": "A", "type_name": "B"}


def test_windows_1252_keeps_curly_apostrophes_and_en_dashes():
    data = "URN,Name\r\n1,St Mary’s – Upper\r\n".encode("cp1252")
    assert b"\x92" in data and b"\x96" in data
    table = read_csv(data, COLUMNS)
    assert table.encoding == "windows-1252"
    assert table.rows[0].get("name") == "St Mary’s – Upper"


def test_utf8_with_a_byte_order_mark():
    table = read_csv("\ufeffURN,Name\n1,Brontë House\n".encode(), COLUMNS)
    assert table.encoding == "utf-8" and table.found["urn"] == "URN"
    assert table.rows[0].get("name") == "Brontë House"


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"URN,Name\n1,ok\n2,bad \x81 byte\n", "line 3: byte 0x81 is not UTF-8 or Windows-1252 text"),
        (b"URN,Name\n1,ok\n2,\x9d\n", "line 3: byte 0x9D is not UTF-8 or Windows-1252"),
        ("URN,Name\n1,St Mary’s\n".encode("utf-16"), "the file is in UTF-16"),
        (b"URN,Name\n1,x\x00y\n", "line 2: the file contains NUL bytes"),
        (b"PK\x03\x04\x14\x00\x06\x00", "this is an Excel workbook: save it as CSV"),
        (b"", "the file is empty"),
        # UTF-8 curly apostrophe on line 2, a Windows-1252 one on line 3: reading either way would garble one
        (
            "URN,Name\n1,St Mary’s\n".encode() + b"2,St John\x92s\n",
            "line 3: the file mixes UTF-8 with another encoding",
        ),
    ],
    ids=["cp1252-undefined-0x81", "cp1252-undefined-0x9d", "utf-16", "nul-bytes", "xlsx", "empty", "mixed"],
)
def test_files_that_cannot_be_decoded_are_refused_with_the_line(data, expected):
    problems = refused(data)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


@pytest.mark.parametrize("separator, name", [(";", "semicolons"), ("\t", "tabs")])
def test_the_wrong_separator_is_refused(separator, name):
    data = f"URN{separator}Name\n1{separator}A\n".encode()
    assert refused(data) == [f"line 1: the file is separated by {name}; save it as comma-separated CSV"]


def test_a_row_cut_short_names_its_line():
    header = ",".join(["URN", "Name"] + [f"Extra {n}" for n in range(58)])
    rows = "\n".join(",".join([str(n), f"School {n}"] + ["x"] * 58) for n in range(1, 411))
    data = f"{header}\n{rows}\n412,Last school,x,x,x,x,x,x,x,x,x,x".encode()
    assert refused(data) == ["line 412: has 12 columns, the header has 60 — the file may have been cut short"]


def test_an_unterminated_quote_at_the_end_names_the_line():
    data = b'URN,Name\n1,"Complete"\n2,"Cut sh'
    assert refused(data) == [
        "line 3: a quoted value that starts here is never closed — the file may have been cut short"
    ]


def test_quoted_commas_line_breaks_blank_lines_and_trailing_empty_cells_are_fine():
    data = b'URN,Name\r\n1,"Notre Dame, Leeds"\r\n\r\n2,"Two\r\nlines",,\r\n,,\r\n3,Three\r\n'
    table = read_csv(data, COLUMNS)
    assert [(row.line, row.get("name")) for row in table.rows] == [
        (2, "Notre Dame, Leeds"),
        (4, "Two lines"),
        (7, "Three"),
    ]
    assert table.problems == []


@pytest.mark.parametrize(
    "value, stored",
    [
        ('"=HYPERLINK(""http://evil.example"",""Click"")"', '=HYPERLINK("http://evil.example","Click")'),
        ("+44 1234", "+44 1234"),
        ("-2+3", "-2+3"),
        ("@SUM(A1)", "@SUM(A1)"),
        ('"\t=1+1"', "=1+1"),
        # The review's finding: a leading non-breaking space, vertical tab or form feed got past the check.
        ("\u00a0=HYPERLINK(1)", "=HYPERLINK(1)"),
        ("\x0b=1+1", "=1+1"),
        ("\x0c@SUM(A1)", "@SUM(A1)"),
        ("\u200b\u2003+Saint Chad\u2019s", "+Saint Chad\u2019s"),
    ],
)
def test_formula_looking_names_are_kept_as_given_after_normalising_whitespace_and_flagged(value, stored):
    table = read_csv(f"URN,Name\n1,{value}\n".encode(), COLUMNS)
    assert table.problems == []
    assert [row.get("name") for row in table.rows] == [stored]
    assert [(flag.line, flag.column) for flag in table.formula_like] == [(2, "Name")]
    assert "could read it as a formula" in table.formula_like[0].reason


def test_every_kind_of_space_is_normalised_inside_and_around_values():
    table = read_csv("URN,Name\n1,\u00a0St\u00a0Mary\x0b\x0cof  the\u2009Angels\u00a0\n".encode(), COLUMNS)
    assert table.rows[0].get("name") == "St Mary of the Angels" and table.formula_like == []


def test_formula_characters_are_fine_in_columns_that_are_not_name_like():
    columns = [Column("urn", "URN", required=True), Column("score", "Score")]
    assert read_csv(b"URN,Score\n1,-5\n", columns).rows[0].get("score") == "-5"


def test_missing_required_columns_are_named():
    assert refused(b"URN,Type\n1,x\n") == [
        'line 1: the file has no "EstablishmentName" column: the header row must name it'
    ]
    assert len(refused(b"Town,Type\n1,x\n")) == 2


def test_a_column_given_twice_is_refused():
    assert refused(b"URN,Name,EstablishmentName\n1,a,b\n") == [
        'line 1, column EstablishmentName: gives the same thing as column "Name": keep one of them'
    ]


def test_a_value_longer_than_the_database_keeps_is_refused():
    problems = refused(f"URN,Name\n1,{'x' * 61}\n".encode())
    assert problems == ["line 2, column Name: must be 60 characters or fewer (it has 61)"]


def test_the_message_lists_the_first_fifty_problems_and_counts_the_rest():
    failed = ImportFailed([ImportProblem(n, "URN", "is blank") for n in range(2, 122)])
    text = str(failed)
    assert text.splitlines()[0] == "line 2, column URN: is blank"
    assert len(text.splitlines()) == 51 and text.splitlines()[-1] == "and 70 more problems"
    assert len(failed.describe().splitlines()) == 120
