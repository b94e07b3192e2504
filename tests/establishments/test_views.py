"""The lead's register pages and the web imports: upload, preview, confirm."""

from __future__ import annotations

import hashlib
import io
import re
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select

from surveyapp.activity.models import ActivityRecord
from surveyapp.auth.models import Role, User
from surveyapp.establishments.models import Establishment, EstablishmentContact, KeptUpload, Trust
from surveyapp.extensions import db
from surveyapp.stored_files import StoredFile, StoredFilePiece
from tests.conftest import outbox_messages
from tests.establishments.gias_files import (
    NOTRE_DAME,
    OAKFIELD,
    ST_MARYS,
    contacts_csv,
    gias_csv,
    gias_row,
    standard_rows,
)


class KeptUploads:
    """The uploads kept between preview and confirmation, as the database holds them."""

    def __init__(self, instance: Path):
        self.instance = instance

    def data(self, token: str) -> bytes | None:
        db.session.expire_all()
        digest = hashlib.sha256(token.encode()).hexdigest()
        file_id = db.session.scalar(select(KeptUpload.file_id).where(KeptUpload.token_hash == digest))
        if file_id is None:
            return None
        return b"".join(
            db.session.scalars(
                select(StoredFilePiece.data).where(StoredFilePiece.file_id == file_id).order_by(StoredFilePiece.number)
            )
        )

    def stored_files(self) -> int:
        """How many files the database keeps: an upload's goes with it."""
        return db.session.scalar(select(func.count()).select_from(StoredFile))

    def count(self) -> int:
        return db.session.scalar(select(func.count()).select_from(KeptUpload))

    def on_disk(self) -> list[Path]:
        return [path for path in self.instance.rglob("*") if path.is_file()] if self.instance.exists() else []


@pytest.fixture
def uploads(app, tmp_path, monkeypatch) -> KeptUploads:
    """The kept uploads; the app gets an instance folder of its own, to show nothing is kept there."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    return KeptUploads(tmp_path / "instance")


@pytest.fixture
def lead(make):
    user = make.lead(name="Lee Lead")
    db.session.commit()
    return user


def upload(client, url: str, data: bytes, filename: str = "edubasealldata.csv"):
    return client.post(url, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def page_text(response) -> str:
    return unescape(response.get_data(as_text=True))


def counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Establishment, Trust, User, EstablishmentContact, ActivityRecord)
    )


ROUTES = [
    ("get", "/establishments/"),
    ("get", "/establishments/100001"),
    ("get", "/establishments/trusts/5001"),
    ("get", "/establishments/import/establishments"),
    ("post", "/establishments/import/establishments"),
    ("get", "/establishments/import/establishments/" + "a" * 43),
    ("post", "/establishments/import/establishments/" + "a" * 43),
    ("get", "/establishments/import/contacts"),
    ("post", "/establishments/import/contacts"),
    ("get", "/establishments/import/contacts/" + "a" * 43),
    ("post", "/establishments/import/contacts/" + "a" * 43),
]


@pytest.mark.parametrize("role", [Role.DSL, Role.TRUST_LEAD, Role.BOARD, None])
def test_only_the_lead_may_use_the_register(client, make, sign_in, role):
    trust = make.trust(uid="5001")
    make.establishment(urn="100001", trust=trust)
    if role is not None:
        sign_in(make.user(role))
    for method, url in ROUTES:
        response = getattr(client, method)(url)
        if role is None:
            assert response.status_code == 302 and "/sign-in" in response.headers["Location"], url
        else:
            assert response.status_code == 403, (method, url, response.status_code)


def test_the_register_lists_searches_filters_and_pages(client, make, sign_in, lead):
    trust = make.trust(name="Oak Learning Trust", uid="5001")
    oak = make.establishment(name="Oak Academy", urn="100001", trust=trust, phase="Secondary")
    make.dsl(oak)
    make.dsl(oak, deputy=True)
    make.establishment(name="Birch Nursery", urn="100002", phase="Nursery", is_open=False)
    for n in range(55):
        make.establishment(name=f"Primary School {n:02d}", urn=str(200000 + n))
    db.session.commit()
    sign_in(lead)

    first = page_text(client.get("/establishments/"))
    assert "57 establishments" in first and "Page 1 of 2" in first
    assert 'aria-label="Page 2"' in first and "govuk-pagination" in first
    assert "Birch Nursery" in first and "Oak Learning Trust" in first
    oak_row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Oak Academy(?:(?!</tr>).)*</tr>", first, re.S).group(0)
    assert re.search(r"--numeric\">\s*2\s*</td>", oak_row)
    second = page_text(client.get("/establishments/?page=2"))
    assert "Primary School 54" in second and "Oak Academy" not in second

    found = page_text(client.get("/establishments/?q=oak"))
    assert "1 establishment found" in found and "Oak Academy" in found and "Birch" not in found
    assert "Oak Academy" in page_text(client.get("/establishments/?q=100001"))
    nursery = page_text(client.get("/establishments/?phase=Nursery"))
    assert "Birch Nursery" in nursery and "Oak Academy" not in nursery
    closed = page_text(client.get("/establishments/?status=closed"))
    assert "1 establishment found" in closed and "Birch Nursery" in closed
    paged = page_text(client.get("/establishments/?phase=Primary&page=2"))
    assert "Page 2 of 2" in paged and "phase=Primary" in paged
    none = page_text(client.get("/establishments/?q=zzz%25"))
    assert "No establishments match your search" in none


def test_establishment_and_trust_pages(client, make, sign_in, lead):
    trust = make.trust(name="Oak Learning Trust", uid="5001")
    oak = make.establishment(name="Oak Academy", urn="100001", trust=trust)
    make.dsl(oak, name="Dee Lead", email="dee@oak.example.org")
    make.trust_lead(trust, name="Tess Trust", email="tess@oak.example.org")
    db.session.commit()
    sign_in(lead)
    page = page_text(client.get("/establishments/100001"))
    assert "<h1" in page and "Oak Academy" in page and "Dee Lead" in page and "dee@oak.example.org" in page
    assert "Designated safeguarding lead" in page and 'href="/establishments/trusts/5001"' in page
    trust_page = page_text(client.get("/establishments/trusts/5001"))
    assert "Oak Learning Trust" in trust_page and "Tess Trust" in trust_page and "Oak Academy" in trust_page
    assert client.get("/establishments/999999").status_code == 404
    assert client.get("/establishments/trusts/9999").status_code == 404


def test_establishments_import_upload_preview_confirm(client, make, sign_in, lead, uploads):
    make.establishment(urn="100001", name="St Mary’s (old name)")
    db.session.commit()
    sign_in(lead)
    form = page_text(client.get("/establishments/import/establishments"))
    assert (
        "Import establishments (GIAS extract)" in form
        and 'type="file"' in form
        and 'enctype="multipart/form-data"' in form
    )

    response = upload(client, "/establishments/import/establishments", gias_csv())
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    token = preview_url.rsplit("/", 1)[1]
    assert uploads.data(token) == gias_csv() and uploads.on_disk() == []  # kept in the database, not on this host
    assert counts()[0] == 1  # nothing imported yet

    preview = page_text(client.get(preview_url))
    assert "Check the establishments import" in preview and "Windows-1252" in preview
    assert OAKFIELD in preview and NOTRE_DAME in preview and "Northern Lights Academy Trust – North" in preview
    assert "St Mary’s (old name)" in preview and ST_MARYS in preview  # the rename is shown
    assert "Confirm import" in preview and f'action="{preview_url}"' in preview

    # Without a job queue the import's job runs in the request; the lead is taken to its page.
    confirmed = client.post(preview_url)
    assert confirmed.status_code == 302 and confirmed.headers["Location"].startswith("/jobs/")
    assert uploads.data(token) is None and uploads.stored_files() == 0  # the file went with its upload
    db.session.expire_all()
    assert db.session.scalar(select(Establishment.name).where(Establishment.urn == "100001")) == ST_MARYS
    assert counts()[:2] == (4, 1)
    entry = db.session.scalar(select(ActivityRecord).where(ActivityRecord.action == "establishments.imported"))
    assert entry.actor_id == lead.id and entry.detail["new"] == 3 and entry.detail["updated"] == 1
    result = page_text(client.get(confirmed.headers["Location"]))
    assert "Establishments import" in result and "Finished" in result
    assert "Establishments imported: 3 new, 1 updated" in result
    assert 'href="/establishments/"' in result and "Back to the register" in result
    assert OAKFIELD in page_text(client.get("/establishments/"))
    assert client.post(preview_url).status_code == 404  # the upload is spent


def test_contacts_import_upload_preview_confirm_and_invite(client, make, sign_in, lead, uploads, app):
    trust = make.trust(uid="5001")
    make.establishment(urn="100001", name="St Mary’s")
    db.session.commit()
    sign_in(lead)
    data = contacts_csv(
        [
            {"URN": "100001", "Name": "Dee Lead", "Email": "dee@stmarys.example.org", "Role": "dsl"},
            {"Trust UID": trust.uid, "Name": "Tess Trust", "Email": "tess@trust.example.org"},
        ]
    )
    response = upload(client, "/establishments/import/contacts", data, "contacts.csv")
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    preview = page_text(client.get(preview_url))
    assert "Check the contacts import" in preview and "dee@stmarys.example.org" in preview and "URN 100001" in preview
    assert 'name="invite"' in preview and "<label" in preview

    confirmed = client.post(preview_url, data={"invite": "y"})
    assert confirmed.status_code == 302 and confirmed.headers["Location"].startswith("/jobs/")
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == "dee@stmarys.example.org")).role is Role.DSL
    assert sorted(m["To"] for m in outbox_messages(app)) == ["dee@stmarys.example.org", "tess@trust.example.org"]
    result = page_text(client.get(confirmed.headers["Location"]))
    assert "Contacts import" in result
    assert "Contacts imported: 2 people added" in result and "Invitations sent: 2." in result


def test_a_bad_file_shows_every_problem_and_writes_nothing(client, make, sign_in, lead, uploads):
    rows = standard_rows()
    rows[1]["NumberOfPupils"] = "lots"
    rows[2]["OpenDate"] = "31-02-2020"
    sign_in(lead)
    before = counts()
    response = upload(client, "/establishments/import/establishments", gias_csv(rows))
    page = page_text(response)
    assert response.status_code == 200
    assert "govuk-error-summary" in page and "The file cannot be imported: 2 problems" in page
    assert 'line 3, column NumberOfPupils: "lots" must be a whole number' in page
    assert "line 4, column OpenDate:" in page
    assert 'href="#file"' in page and "<title>Error:" in page
    assert counts() == before
    assert uploads.count() == 0


def test_the_upload_form_checks_a_file_was_chosen_and_is_a_csv(client, sign_in, lead, uploads):
    sign_in(lead)
    empty = page_text(client.post("/establishments/import/establishments", data={}, content_type="multipart/form-data"))
    assert "Select a CSV file" in empty and "govuk-error-summary" in empty
    workbook = page_text(upload(client, "/establishments/import/establishments", b"PK\x03\x04", "gias.xlsx"))
    assert "The selected file must be a CSV" in workbook
    renamed = page_text(upload(client, "/establishments/import/establishments", b"PK\x03\x04\x14\x00", "gias.csv"))
    assert "this is an Excel workbook: save it as CSV" in renamed


def test_another_users_upload_cannot_be_previewed_or_confirmed(client, app, make, sign_in, lead, uploads):
    other = make.lead(email="other.lead@council.example.org")
    db.session.commit()
    sign_in(lead)
    preview_url = upload(client, "/establishments/import/establishments", gias_csv()).headers["Location"]
    token = preview_url.rsplit("/", 1)[1]
    intruder = app.test_client()
    sign_in(other, test_client=intruder)
    before = counts()
    assert intruder.get(preview_url).status_code == 404
    assert intruder.post(preview_url).status_code == 404
    assert intruder.post(f"/establishments/import/contacts/{token}").status_code == 404  # nor as another kind
    assert intruder.post("/establishments/import/establishments/..%2F..%2Fsecret_key").status_code == 404
    db.session.expire_all()
    assert counts() == before and uploads.data(token) is not None
    assert client.post(preview_url).status_code == 302  # the owner still can


def test_confirm_checks_the_file_again(client, make, sign_in, lead, uploads):
    school = make.establishment(urn="100001")
    db.session.commit()
    sign_in(lead)
    data = contacts_csv([{"URN": "100001", "Name": "Dee", "Email": "dee@example.org", "Role": "dsl"}])
    preview_url = upload(client, "/establishments/import/contacts", data, "contacts.csv").headers["Location"]
    db.session.delete(school)  # the register changed between preview and confirm
    db.session.commit()
    before = counts()
    page = page_text(client.post(preview_url))
    assert "line 2, column URN: URN 100001 is not in the register" in page and "govuk-error-summary" in page
    db.session.expire_all()
    assert counts() == before
    assert uploads.count() == 0


def test_an_import_that_changes_nothing_offers_no_confirm(client, sign_in, lead, uploads):
    sign_in(lead)
    data = gias_csv([gias_row("100001", "Only School")])
    client.post(upload(client, "/establishments/import/establishments", data).headers["Location"])
    again = page_text(client.get(upload(client, "/establishments/import/establishments", data).headers["Location"]))
    assert "there is nothing to import" in again and "Confirm import" not in again


def test_contacts_preview_says_what_changes_for_existing_people(client, make, sign_in, lead, uploads):
    school = make.establishment(urn="100001", name="St Mary’s")
    make.dsl(school, email="dee@stmarys.example.org", name="Dee Old")
    db.session.commit()
    sign_in(lead)
    data = contacts_csv([{"URN": "100001", "Name": "Dee Lead", "Email": "dee@stmarys.example.org", "Role": "deputy"}])
    preview = page_text(
        client.get(upload(client, "/establishments/import/contacts", data, "c.csv").headers["Location"])
    )
    rows = [
        " ".join(re.sub(r"<[^>]+>", " ", cells).split())
        for cells in re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', preview, re.S)
    ]
    assert any(
        r.startswith("dee@stmarys.example.org URN 100001") and "Designated safeguarding lead" in r for r in rows
    ), rows
    assert "dee@stmarys.example.org Name becomes Dee Lead" in rows, rows


def test_establishments_preview_shows_a_sample_of_a_large_file(client, sign_in, lead, uploads, monkeypatch):
    from surveyapp.establishments import importer

    monkeypatch.setattr(importer, "SAMPLE_SIZE", 3)
    sign_in(lead)
    rows = [gias_row(str(200000 + n), f"School {n}") for n in range(5)]
    preview = page_text(
        client.get(upload(client, "/establishments/import/establishments", gias_csv(rows)).headers["Location"])
    )
    assert "New establishments (the first 3 of 5)" in preview
    assert "School 2" in preview and "School 3" not in preview


def test_an_upload_that_no_longer_imports_is_refused_with_its_problems(client, make, sign_in, lead, uploads):
    school = make.establishment(urn="100001", name="St Mary’s")
    db.session.commit()
    sign_in(lead)
    data = contacts_csv([{"URN": "100001", "Name": "Dee Lead", "Email": "dee@stmarys.example.org", "Role": "dsl"}])
    preview_url = upload(client, "/establishments/import/contacts", data, "c.csv").headers["Location"]
    db.session.delete(school)  # the register changes between the upload and the confirmation
    db.session.commit()
    before = counts()

    refused = page_text(client.post(preview_url))
    assert "The file cannot be imported now" in refused and "100001" in refused
    assert counts() == before
    assert client.get(preview_url).status_code == 404  # the kept file is gone: upload it again


def test_a_file_over_the_upload_limit_gets_a_clear_page(app, client, sign_in, lead, uploads):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    sign_in(lead)
    reply = upload(client, "/establishments/import/establishments", gias_csv(standard_rows()) + b" " * 1024 * 1024)
    assert reply.status_code == 413
    assert "The largest file this service accepts is 1 MB" in page_text(reply)
    assert uploads.count() == 0


def test_a_preview_on_one_host_is_confirmed_on_another(app, make, lead, tmp_path):
    """Two app instances, as behind a load balancer, each with its own instance folder, one database."""
    from tests.conftest import make_app

    make.establishment(urn="100001", name="St Mary’s (old name)")
    db.session.commit()
    first, second = app, make_app(MAIL_OUTBOX=str(tmp_path / "outbox"))
    first.instance_path, second.instance_path = str(tmp_path / "host-a"), str(tmp_path / "host-b")
    browser_a, browser_b = first.test_client(), second.test_client()
    for browser in (browser_a, browser_b):
        assert browser.post("/sign-in", data={"email": lead.email, "password": make.PASSWORD}).status_code == 302

    preview_url = upload(browser_a, "/establishments/import/establishments", gias_csv()).headers["Location"]
    assert "St Mary’s (old name)" in page_text(browser_b.get(preview_url))  # host B previews what host A received
    confirmed = browser_b.post(preview_url)
    assert confirmed.status_code == 302 and confirmed.headers["Location"].startswith("/jobs/")
    db.session.expire_all()
    assert db.session.scalar(select(Establishment.name).where(Establishment.urn == "100001")) == ST_MARYS
    assert counts()[:2] == (4, 1)
    for host in ("host-a", "host-b"):
        folder = tmp_path / host
        assert not folder.exists() or not [p for p in folder.rglob("*") if p.is_file()]
    assert browser_a.post(preview_url).status_code == 404  # spent, on every host


def test_the_preview_flags_names_that_look_like_formulas_and_imports_them(client, make, sign_in, lead, uploads):
    rows = standard_rows()
    rows[2]["EstablishmentName"] = '\u00a0=HYPERLINK("http://evil.example","x")'
    sign_in(lead)
    response = upload(client, "/establishments/import/establishments", gias_csv(rows))
    assert response.status_code == 302
    preview = page_text(client.get(response.headers["Location"]))
    assert "1 value looks like spreadsheet formulas" in preview
    assert "Values that look like formulas" in preview and "EstablishmentName" in preview
    assert client.post(response.headers["Location"]).status_code == 302
    assert (
        db.session.scalar(select(Establishment).where(Establishment.name == '=HYPERLINK("http://evil.example","x")'))
        is not None
    )


def test_the_lead_removes_a_person_from_an_establishment_and_from_a_trust(app, client, make, sign_in, lead):
    trust = make.trust(name="Acorn Trust", uid="T100")
    school = make.establishment(name="Oak Academy", urn="300001", trust=trust)
    leaver = make.dsl(school, name="Lee Leaver", email="lee@oak.example.org")
    stayer = make.dsl(school, deputy=True, email="sam@oak.example.org")
    trust_lead = make.trust_lead(trust, email="tess@acorn.example.org")
    make.cycle()
    db.session.commit()
    leaver_browser = sign_in(leaver, test_client=app.test_client())
    assert leaver_browser.get("/audits/").get_data(as_text=True).count("Oak Academy") >= 1

    sign_in(lead)
    page = page_text(client.get("/establishments/300001"))
    assert f'action="/establishments/300001/contacts/{leaver.id}/remove"' in page
    done = page_text(client.post(f"/establishments/300001/contacts/{leaver.id}/remove", follow_redirects=True))
    assert "Lee Leaver (lee@oak.example.org) has been removed from Oak Academy." in done
    assert "sam@oak.example.org" in done and "lee@oak.example.org" not in done.split("has been removed")[1]
    assert client.post(f"/establishments/300001/contacts/{leaver.id}/remove").status_code == 404  # already gone
    # The person's next request no longer shows the school.
    assert "Oak Academy" not in leaver_browser.get("/audits/").get_data(as_text=True)

    done = page_text(client.post(f"/establishments/trusts/T100/contacts/{trust_lead.id}/remove", follow_redirects=True))
    assert "has been removed from Acorn Trust" in done
    db.session.expire_all()
    assert db.session.scalars(select(EstablishmentContact.user_id)).all() == [stayer.id]
    removed = db.session.scalars(
        select(ActivityRecord).where(ActivityRecord.action == "contact.removed").order_by(ActivityRecord.id)
    ).all()
    assert [r.detail["email"] for r in removed] == ["lee@oak.example.org", "tess@acorn.example.org"]
