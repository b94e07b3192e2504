"""The activity log records changes of state and the lead can filter it."""

from __future__ import annotations

import csv
import io
import re
import tempfile
import tracemalloc
from datetime import date
from urllib.parse import unquote

import openpyxl
import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from surveyapp.activity.models import ActivityRecord
from surveyapp.activity.services import ActivityFilters
from surveyapp.activity_log import export
from surveyapp.activity_log.query import activity_query
from surveyapp.extensions import db
from tests.journey_data import DECLARATION, POLICIES_OK, PREVENT_OK


def test_saves_submission_and_sign_ins_are_logged_and_filterable(client, make, sign_in):
    school = make.establishment(name="Ash Primary")
    make.establishment(name="Birch Primary")  # another school, which the URN filter must leave out
    dsl = make.dsl(school, email="dsl@ash.example.org")
    lead = make.lead()
    make.cycle()
    sign_in(dsl)
    from surveyapp.audits.models import Assignment, Response

    response_id = db.session.scalar(
        select(Response.id).join(Assignment).where(Assignment.establishment_id == school.id)
    )
    client.post(f"/audits/{response_id}/sections/policies", data=POLICIES_OK)
    client.post(f"/audits/{response_id}/sections/prevent", data=PREVENT_OK)
    client.post(f"/audits/{response_id}/declaration", data=DECLARATION)
    client.post("/sign-out")
    client.post("/sign-in", data={"email": lead.email, "password": "wrong password here"})
    actions = [r.action for r in db.session.scalars(select(ActivityRecord).order_by(ActivityRecord.id))]
    assert actions[:1] == ["cycle.opened"]
    assert actions.count("answers.saved") == 2 and "response.submitted" in actions
    assert {"auth.signed_in", "auth.signed_out", "auth.sign_in_failed"} <= set(actions)
    submitted = db.session.scalar(select(ActivityRecord).where(ActivityRecord.action == "response.submitted"))
    assert submitted.establishment_id == school.id and submitted.actor_id == dsl.id

    sign_in(lead)
    page = client.get(f"/activity?action=response&urn={school.urn}").get_data(as_text=True)
    assert '<td class="govuk-table__cell">Submitted a return</td>' in page and "dsl@ash.example.org" in page
    assert '<td class="govuk-table__cell">Saved answers</td>' not in page
    assert "1 entries" in page
    assert "Birch Primary" not in client.get(f"/activity?urn={school.urn}").get_data(as_text=True)


def _one_record():
    from surveyapp.activity.services import record

    entry = record("user.created", None, email="kept@example.org", role="dsl")
    db.session.commit()
    return entry.id, entry.action, dict(entry.detail), entry.at


def _unchanged(entry_id, action, detail, at):
    db.session.rollback()
    db.session.expire_all()
    row = db.session.get(ActivityRecord, entry_id)
    assert row is not None, "the row was deleted"
    assert (row.action, row.detail, row.at) == (action, detail, at)


@pytest.mark.parametrize(
    "statement",
    [
        lambda i: update(ActivityRecord).where(ActivityRecord.id == i).values(action="user.deleted"),
        lambda i: update(ActivityRecord).values(detail={}),
        lambda i: delete(ActivityRecord).where(ActivityRecord.id == i),
        lambda i: delete(ActivityRecord),
        lambda i: text("UPDATE activity_log SET actor_id = NULL"),
        lambda i: text("DELETE FROM activity_log"),
    ],
    ids=["update-one", "update-all", "delete-one", "delete-all", "raw-update", "raw-delete"],
)
def test_the_database_refuses_to_update_or_delete_activity(app, statement):
    kept = _one_record()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(statement(kept[0]))
    _unchanged(*kept)


def test_changing_or_deleting_a_loaded_record_is_refused_at_flush(app):
    kept = _one_record()
    entry = db.session.get(ActivityRecord, kept[0])
    entry.detail = {"email": "changed@example.org"}
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.flush()
    _unchanged(*kept)
    db.session.delete(db.session.get(ActivityRecord, kept[0]))
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.flush()
    _unchanged(*kept)


# How each engine empties a table in one statement: PostgreSQL's TRUNCATE skips row triggers (so the
# log has a statement trigger for it too), SQLite's DELETE without WHERE is its truncate optimisation.
EMPTYING = {
    "postgresql": ["TRUNCATE activity_log", "TRUNCATE users CASCADE"],  # the second reaches the log by its foreign key
    "sqlite": ["DELETE FROM activity_log", "DELETE FROM activity_log WHERE 1"],
}


def test_emptying_the_log_in_one_statement_is_refused(app):
    kept = _one_record()
    for statement in EMPTYING[db.engine.dialect.name]:
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        _unchanged(*kept)


# --- the audit trail exported with the cycle ---------------------------------------------------

FORMULA = '=HYPERLINK("http://x","y")'
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture
def trail(app, client, make, sign_in, runner):
    """A cycle with saves, a submission, a return with a formula-looking comment and reminders; another
    cycle's save; sign-ins outside any cycle."""
    from surveyapp.audits.models import Assignment, Response

    school = make.establishment(name=FORMULA, urn="300001")
    quiet = make.establishment(name="Quiet Primary", urn="300002")
    dsl = make.dsl(school, email="dsl@formula.example.org")
    make.dsl(quiet, email="dsl@quiet.example.org")
    lead = make.lead(email="lead@council.example.org")
    earlier = make.cycle(slug="2025-26", opens_on=date(2025, 9, 1), due_on=date(2026, 3, 31))
    cycle = make.cycle()

    def response_id(of_cycle):
        return db.session.scalar(
            select(Response.id)
            .join(Assignment)
            .where(Assignment.establishment_id == school.id, Assignment.cycle_id == of_cycle.id)
        )

    sign_in(dsl)
    client.post(f"/audits/{response_id(earlier)}/sections/prevent", data=PREVENT_OK)
    now = response_id(cycle)
    client.post(f"/audits/{now}/sections/policies", data=POLICIES_OK)
    client.post(f"/audits/{now}/sections/prevent", data=PREVENT_OK)
    client.post(f"/audits/{now}/declaration", data=DECLARATION)
    client.post("/sign-out")
    sign_in(lead)
    client.post(f"/cycles/{cycle.slug}/responses/{now}/return", data={"comment": FORMULA + "\nfix section 2"})
    client.post("/sign-out")
    assert runner.invoke(args=["reminders", "send", "--cycle", cycle.slug, "--status", "not_started"]).exit_code == 0
    # A reminder recorded before record() took cycle_id carried the cycle in its detail.
    db.session.add(
        ActivityRecord(
            action="reminder.sent",
            establishment_id=quiet.id,
            detail={"cycle_id": cycle.id, "to": "old@quiet.example.org"},
        )
    )
    db.session.commit()
    return {"cycle": cycle, "earlier": earlier, "school": school, "quiet": quiet, "lead": lead, "dsl": dsl}


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _xlsx_rows(source) -> list[list]:
    sheet = openpyxl.load_workbook(source, read_only=False).active
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)  # never a formula
    return [[("" if cell.value is None else cell.value) for cell in row] for row in sheet.iter_rows()]


def _check_cycle_trail(rows, trail):
    header, body = rows[0], rows[1:]
    assert header == export.HEADER
    by_action = {}
    for row in body:
        by_action.setdefault(row[9], []).append(dict(zip(header, row, strict=True)))
    exports = by_action.pop("activity.exported", [])
    assert sorted(by_action) == [
        "answers.saved",
        "cycle.opened",
        "reminder.sent",
        "response.returned",
        "response.submitted",
    ]
    assert len(by_action["answers.saved"]) == 2, "the earlier cycle's save is not in this cycle's trail"
    assert len(by_action["reminder.sent"]) == 2  # the one just sent (to the quiet school) and the older one
    assert all(ISO_UTC.fullmatch(row[1]) for row in body)
    assert [int(row[0]) for row in body] == sorted(int(row[0]) for row in body)  # oldest first
    submitted = by_action["response.submitted"][0]
    assert submitted["Actor email"] == "dsl@formula.example.org"
    assert submitted["Actor role"] == "Designated safeguarding lead"
    assert submitted["URN"] in ("300001", 300001) and submitted["Cycle"] == "2026-27"
    returned = by_action["response.returned"][0]
    assert (
        returned["Actor email"] == "lead@council.example.org"
        and returned["Actor role"] == "Education safeguarding lead"
    )
    assert FORMULA + " fix section 2" in returned["Detail"] and returned["Detail"].startswith("response: ")
    assert by_action["cycle.opened"][0]["Actor role"] == export.NO_ACTOR
    assert {r["Establishment"] for r in by_action["reminder.sent"]} == {"Quiet Primary"}
    by_action["activity.exported"] = exports
    return by_action


def test_the_cli_exports_a_cycles_trail_as_csv_and_xlsx(trail, runner, tmp_path):
    out = tmp_path / "trail.csv"
    result = runner.invoke(args=["activity", "export", "--cycle", "2026-27", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and "records for 2026-27" in result.output
    rows = _csv_rows(out.read_bytes())
    by_action = _check_cycle_trail(rows, trail)
    # The school's name is written behind an apostrophe so no spreadsheet runs it.
    assert by_action["response.submitted"][0]["Establishment"] == "'" + FORMULA
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)

    book = tmp_path / "trail.xlsx"
    assert runner.invoke(args=["activity", "export", "--cycle", "2026-27", "--out", str(book)]).exit_code == 0
    sheet = _xlsx_rows(book)
    by_action = _check_cycle_trail(sheet, trail)
    assert by_action["response.submitted"][0]["Establishment"] == FORMULA  # text in a text cell
    assert len(sheet) == len(rows) + 1  # and the CSV export before it, recorded against the cycle
    assert [(r["Actor role"], r["Detail"]) for r in by_action["activity.exported"]] == [
        (export.NO_ACTOR, f"format: csv; records: {len(rows) - 1}; via: cli")
    ]
    # Taking the trail out of the app is recorded, against the cycle.
    exported = db.session.scalars(select(ActivityRecord).where(ActivityRecord.action == "activity.exported")).all()
    assert [(e.detail["format"], e.cycle_id) for e in exported] == [
        ("csv", trail["cycle"].id),
        ("xlsx", trail["cycle"].id),
    ]


def test_the_cli_refuses_an_unknown_cycle_or_format(trail, runner, tmp_path):
    missing = runner.invoke(args=["activity", "export", "--cycle", "1999-00", "--out", str(tmp_path / "x.csv")])
    assert missing.exit_code == 1 and 'There is no cycle called "1999-00"' in missing.output
    odd = runner.invoke(args=["activity", "export", "--cycle", "2026-27", "--out", str(tmp_path / "x.json")])
    assert odd.exit_code == 2 and "must end in .csv or .xlsx" in odd.output
    assert not list(tmp_path.glob("x.*"))


def test_the_lead_downloads_the_filtered_log_from_the_page(trail, client, sign_in):
    sign_in(trail["lead"])
    page = client.get("/activity?cycle=2026-27&action=response").get_data(as_text=True)
    assert "2 entries" in page
    form = page[page.index('action="/activity/download"') :]
    form = form[: form.index("</form>")]
    assert '<input type="hidden" name="action" value="response">' in form
    assert '<input type="hidden" name="cycle" value="2026-27">' in form
    assert 'name="fmt" value="csv"' in form and 'name="fmt" value="xlsx"' in form

    download = client.get("/activity.csv?action=response&cycle=2026-27")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "filename=activity-2026-27.csv" in download.headers["Content-Disposition"]
    rows = _csv_rows(download.data)
    assert [row[9] for row in rows[1:]] == ["response.submitted", "response.returned"]

    book = client.get("/activity.xlsx?action=response&cycle=2026-27")
    assert book.status_code == 200 and book.data[:2] == b"PK"
    # The same rows, the formula-looking text as plain text rather than behind an apostrophe.
    assert [
        [str(int(c)) if isinstance(c, (int, float)) else c for c in r] for r in _xlsx_rows(io.BytesIO(book.data))
    ] == [[c[1:] if c.startswith("'=") else c for c in r] for r in rows]

    everything = _csv_rows(client.get("/activity.csv?email=dsl@formula.example.org").data)
    assert {"auth.signed_in", "auth.signed_out", "answers.saved"} <= {row[9] for row in everything[1:]}
    assert {row[2] for row in everything[1:]} == {"dsl@formula.example.org"}
    assert client.get("/activity.csv?cycle=no-such-cycle").status_code == 404


def test_a_download_too_large_to_write_while_the_lead_waits_goes_back_to_the_page(trail, app, client, sign_in):
    """The GET downloads write small views in the request; a larger one is left to the page's download
    buttons, which write it as a job."""
    app.config["ACTIVITY_DOWNLOAD_IN_REQUEST_MAX"] = 2
    sign_in(trail["lead"])
    assert client.get("/activity.csv?action=response&cycle=2026-27").status_code == 200  # 2 records: written
    larger = client.get("/activity.xlsx?email=dsl@formula.example.org")
    assert larger.status_code == 302
    assert unquote(larger.location) == "/activity?email=dsl@formula.example.org"  # the page, its filters kept
    page = client.get(larger.location).get_data(as_text=True)
    assert "more than the 2 written while you wait" in page
    assert "Download them with the buttons below: the file is written in the background." in page
    assert 'action="/activity/download"' in page


def test_the_export_streams_in_constant_memory(app, make, monkeypatch):
    """Five times the records must not take five times the memory: rows go from the cursor to the file."""
    monkeypatch.setattr(export, "BATCH", 250)  # several batches either way
    school = make.establishment(name="Ash Primary")
    cycle = make.cycle()

    def add(count):
        db.session.execute(
            insert(ActivityRecord),
            [
                {
                    "action": "answers.saved",
                    "establishment_id": school.id,
                    "cycle_id": cycle.id,
                    "detail": {"section": "policies", "comment": "x" * 200, "n": n},
                }
                for n in range(count)
            ],
        )
        db.session.commit()

    def peak(fmt) -> int:
        handle = tempfile.TemporaryFile()
        db.session.expire_all()
        tracemalloc.start()
        try:
            query = activity_query(ActivityFilters(cycle=cycle.slug))
            if fmt == "csv":
                text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
                export.write_csv(db.session, query, text)
                text.flush()
            else:
                export.write_xlsx(db.session, query, handle)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            handle.close()
            db.session.rollback()

    add(1_000)
    small = {fmt: peak(fmt) for fmt in ("csv", "xlsx")}
    add(4_000)
    large = {fmt: peak(fmt) for fmt in ("csv", "xlsx")}
    for fmt in ("csv", "xlsx"):
        assert large[fmt] < small[fmt] * 1.3, (fmt, small[fmt], large[fmt])
