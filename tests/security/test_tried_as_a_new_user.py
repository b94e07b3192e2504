"""What a curious or hostile newcomer tries first, end to end through the app.

Another school's response by editing the address; a cookie copied before signing out and
replayed; a DSL moved to another school; a session fixed before sign-in; and a spreadsheet
formula in an import, then every export the lead can take (workbook, CSVs, activity log).
"""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import openpyxl
import pytest
from sqlalchemy import func, select

from surveyapp.audits.models import Answer, Assignment, Response
from surveyapp.establishments.models import Establishment, EstablishmentContact
from surveyapp.extensions import db
from tests.establishments.gias_files import gias_csv, standard_rows
from tests.journey_data import DECLARATION, POLICIES_OK, PREVENT_OK

FORMULA = '=HYPERLINK("http://x","y")'
FILE_NAME = "=SUM(A1:A9) register.csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def response_of(establishment, cycle) -> int:
    return db.session.scalar(
        select(Response.id)
        .join(Assignment)
        .where(Assignment.establishment_id == establishment.id, Assignment.cycle_id == cycle.id)
    )


def answers_of(response_id: int) -> int:
    return db.session.scalar(select(func.count(Answer.id)).where(Answer.response_id == response_id))


@pytest.fixture
def two_schools(make):
    ash, birch = make.establishment(name="Ash Primary"), make.establishment(name="Birch Primary")
    dsl = make.dsl(ash, email="dsl@ash.example.org")
    make.dsl(birch, email="dsl@birch.example.org")
    cycle = make.cycle()
    db.session.commit()
    return {
        "ash": ash,
        "birch": birch,
        "dsl": dsl,
        "cycle": cycle,
        "own": response_of(ash, cycle),
        "other": response_of(birch, cycle),
    }


def test_editing_the_address_to_another_schools_response_finds_nothing(client, sign_in, two_schools):
    sign_in(two_schools["dsl"])
    own, other = two_schools["own"], two_schools["other"]
    assert client.get(f"/audits/{own}/").status_code == 200
    for path in ("/", "/sections/policies", "/check", "/declaration", "/confirmation", "/results", "/action-plan"):
        response = client.get(f"/audits/{other}{path}")
        assert response.status_code == 404, path
        assert "Birch Primary" not in response.get_data(as_text=True)
    # Nor can they write to it, nor reach it through the lead's pages.
    assert client.post(f"/audits/{other}/sections/policies", data=POLICIES_OK).status_code == 404
    assert client.post(f"/audits/{other}/declaration", data=DECLARATION).status_code == 404
    assert client.get(f"/cycles/2026-27/responses/{other}").status_code == 403
    assert answers_of(other) == 0
    assert client.get(f"/audits/{other + 1000}/").status_code == 404  # no different from one that exists


def test_a_cookie_copied_before_signing_out_is_refused_afterwards(app, client, sign_in, two_schools):
    own = two_schools["own"]
    sign_in(two_schools["dsl"])
    assert client.post(f"/audits/{own}/sections/policies", data=POLICIES_OK).status_code == 302
    copied = client.get_cookie("session").value
    client.post("/sign-out")
    replay = app.test_client()
    replay.set_cookie("session", copied)
    read = replay.get(f"/audits/{own}/")
    assert read.status_code == 302 and read.headers["Location"].startswith("/sign-in")
    before = answers_of(own)
    write = replay.post(f"/audits/{own}/sections/prevent", data=PREVENT_OK)
    assert write.status_code == 302 and write.headers["Location"].startswith("/sign-in")
    db.session.expire_all()
    assert answers_of(own) == before
    # Signing in again does not bring the old cookie back to life.
    sign_in(two_schools["dsl"])
    assert replay.get(f"/audits/{own}/").status_code == 302


def test_a_dsl_moved_to_another_school_loses_the_first_at_their_next_request(client, sign_in, two_schools):
    ash, birch, dsl = two_schools["ash"], two_schools["birch"], two_schools["dsl"]
    sign_in(dsl)
    assert client.get(f"/audits/{two_schools['own']}/").status_code == 200
    link = db.session.scalar(select(EstablishmentContact).where(EstablishmentContact.user_id == dsl.id))
    link.establishment_id = birch.id  # the register now has them at Birch
    db.session.commit()
    # The same session, no sign-in again: access follows the register at once.
    assert client.get(f"/audits/{two_schools['own']}/").status_code == 404
    assert client.post(f"/audits/{two_schools['own']}/sections/policies", data=POLICIES_OK).status_code == 404
    assert client.get(f"/audits/{two_schools['other']}/").status_code == 200
    listing = client.get("/audits/").get_data(as_text=True)
    assert "Birch Primary" in listing and "Ash Primary" not in listing
    db.session.delete(db.session.get(EstablishmentContact, link.id))  # and removed from every school
    db.session.commit()
    assert client.get(f"/audits/{two_schools['other']}/").status_code == 404
    assert ash.name not in client.get("/audits/").get_data(as_text=True)


def test_the_session_is_new_at_sign_in_so_a_fixed_one_gains_nothing(app, make, two_schools):
    attacker = app.test_client()
    attacker.get("/sign-in")
    with attacker.session_transaction() as planted:
        planted["note"] = "planted before sign-in"
    fixed = attacker.get_cookie("session").value
    victim = app.test_client()
    victim.set_cookie("session", fixed)  # the cookie an attacker managed to give the victim
    assert (
        victim.post("/sign-in", data={"email": two_schools["dsl"].email, "password": make.PASSWORD}).status_code == 302
    )
    signed_in = victim.get_cookie("session").value
    assert signed_in != fixed
    with victim.session_transaction() as session:
        assert "note" not in session  # nothing from before sign-in survives
        first_id = session["_user_id"]
    # The attacker's copy is still nobody's session.
    assert attacker.get(f"/audits/{two_schools['own']}/").status_code == 302
    # Signing in again (after signing out) gives another session, and the first one stays dead.
    victim.post("/sign-out")
    victim.post("/sign-in", data={"email": two_schools["dsl"].email, "password": make.PASSWORD})
    with victim.session_transaction() as session:
        assert session["_user_id"] != first_id
    replay = app.test_client()
    replay.set_cookie("session", signed_in)
    assert replay.get(f"/audits/{two_schools['own']}/").status_code == 302


# --- a formula in an import, then every export ----------------------------------------------------


def _upload(client, url, data, filename):
    return client.post(url, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def _csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def _xlsx_cells(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    cells.append(cell.value)
    return cells


def test_a_formula_in_an_import_never_reaches_a_spreadsheet_as_a_formula(
    app, client, make, sign_in, tmp_path, monkeypatch
):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    lead = make.lead(email="lead@council.example.org")
    db.session.commit()
    sign_in(lead)
    rows = standard_rows()
    # A school whose name in the DfE's extract looks like a formula is imported as given (the extract is not
    # the lead's to edit), flagged in the preview, and neutralised in every export below. The file name is a
    # formula too; it is only ever text.
    rows[0]["EstablishmentName"] = "\u00a0" + FORMULA
    accepted = _upload(client, "/establishments/import/establishments", gias_csv(rows), FILE_NAME)
    assert accepted.status_code == 302, re.findall(
        r"govuk-error-message.{0,300}", unescape(accepted.get_data(as_text=True)), re.S
    )
    preview = unescape(client.get(accepted.headers["Location"]).get_data(as_text=True))
    assert "1 value looks like spreadsheet formulas" in preview and FORMULA in preview
    assert client.post(accepted.headers["Location"]).status_code == 302
    school = db.session.scalar(select(Establishment).where(Establishment.urn == "100001"))
    assert school.name == FORMULA  # whitespace normalised, the name as given
    dsl = make.dsl(school, email="dsl@school.example.org")
    cycle = make.cycle()
    db.session.commit()
    client.post("/sign-out")

    # A DSL types formulas where free text is allowed; the lead's return comment carries one too.
    response_id = response_of(school, cycle)
    sign_in(dsl)
    assert (
        client.post(
            f"/audits/{response_id}/sections/policies", data={**POLICIES_OK, "policy_notes": FORMULA}
        ).status_code
        == 302
    )
    client.post(f"/audits/{response_id}/sections/prevent", data=PREVENT_OK)
    assert client.post(f"/audits/{response_id}/declaration", data=DECLARATION).status_code == 302
    client.post("/sign-out")
    sign_in(lead)
    client.post(f"/cycles/{cycle.slug}/responses/{response_id}/return", data={"comment": FORMULA})
    client.post("/sign-out")
    sign_in(dsl)
    assert client.post(f"/audits/{response_id}/declaration", data=DECLARATION).status_code == 302  # sent in again
    client.post("/sign-out")
    sign_in(lead)

    downloads = {
        # The workbook is written by a job (here, without a queue, in the request): its download.
        "workbook": client.get(client.post(f"/cycles/{cycle.slug}/workbook").location + "/download"),
        "responses": client.get(f"/cycles/{cycle.slug}/responses.csv"),
        "gaps": client.get(f"/cycles/{cycle.slug}/gaps.csv"),
        "activity": client.get("/activity.csv"),
        "activity-xlsx": client.get("/activity.xlsx"),
        "cycle-activity": client.get(f"/activity.xlsx?cycle={cycle.slug}"),
    }
    assert {name: r.status_code for name, r in downloads.items()} == {name: 200 for name in downloads}
    seen = []
    for name, response in downloads.items():
        cells = _xlsx_cells(response.data) if response.data[:2] == b"PK" else _csv_cells(response.data)
        if response.data[:2] != b"PK":
            assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)], name
        seen += [(name, cell) for cell in cells if FORMULA in cell]
    # The typed formula is in the answers and in the activity log, as text each time.
    assert {name for name, _cell in seen} >= {"workbook", "responses", "activity", "activity-xlsx", "cycle-activity"}
    assert ("responses", "'" + FORMULA) in seen
    assert ("workbook", FORMULA) in seen
    # The file name is in the log's detail, which begins with its key and so is never a formula.
    activity = _csv_cells(downloads["activity"].data)
    assert any("file: " + FILE_NAME in cell for cell in activity)
