"""The web imports read their file once: the plan made at the upload is kept in the database, shown by the
preview and applied by the confirmation on any host; a plan the register has moved away from is made again."""

from __future__ import annotations

import io
from html import unescape

import pytest
from sqlalchemy import func, select, update

from surveyapp import stored_files
from surveyapp.establishments import importer
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db
from tests.establishments.gias_files import ST_MARYS, contacts_csv, gias_csv, gias_row, standard_rows


@pytest.fixture
def lead(make):
    user = make.lead(name="Lee Lead")
    db.session.commit()
    return user


class Reads:
    """Counts the imports' readings of a CSV file; once ``refuse`` is set, a reading fails the test."""

    def __init__(self, monkeypatch):
        self.count = 0
        self.refuse = False
        for name in ("open_csv", "read_csv"):
            original = getattr(importer, name)
            monkeypatch.setattr(importer, name, self._counted(name, original))

    def _counted(self, name, original):
        def counted(*args, **kwargs):
            if self.refuse:
                raise AssertionError(f"the file was read again ({name})")
            self.count += 1
            return original(*args, **kwargs)

        return counted


@pytest.fixture
def reads(monkeypatch) -> Reads:
    return Reads(monkeypatch)


def upload(client, url: str, data: bytes, filename: str = "edubasealldata.csv"):
    return client.post(url, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def page_text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_preview_on_one_host_and_confirm_on_another_read_the_file_once(app, make, lead, tmp_path, reads):
    """Two app instances, each with its own instance folder, one database: the upload and preview on one,
    the confirmation on the other, which applies the kept plan without reading the file."""
    from tests.conftest import make_app

    make.establishment(urn="100001", name="St Mary’s (old name)")
    db.session.commit()
    first, second = app, make_app(MAIL_OUTBOX=str(tmp_path / "outbox"))
    first.instance_path, second.instance_path = str(tmp_path / "host-a"), str(tmp_path / "host-b")
    browser_a, browser_b = first.test_client(), second.test_client()
    for browser in (browser_a, browser_b):
        assert browser.post("/sign-in", data={"email": lead.email, "password": make.PASSWORD}).status_code == 302

    preview_url = upload(browser_a, "/establishments/import/establishments", gias_csv()).headers["Location"]
    preview = page_text(browser_a.get(preview_url))
    assert "St Mary’s (old name)" in preview and "The register has changed" not in preview
    assert reads.count == 1  # the upload read it; the preview showed the kept plan

    reads.refuse = True
    confirmed = browser_b.post(preview_url)
    assert confirmed.status_code == 302 and confirmed.headers["Location"].startswith("/jobs/")
    assert "Establishments imported: 3 new, 1 updated" in page_text(browser_a.get(confirmed.headers["Location"]))
    db.session.expire_all()
    assert db.session.scalar(select(Establishment.name).where(Establishment.urn == "100001")) == ST_MARYS
    assert db.session.scalar(select(func.count()).select_from(Establishment)) == 4
    assert db.session.scalar(select(Trust.name)) == "Northern Lights Academy Trust – North"
    for host in ("host-a", "host-b"):
        folder = tmp_path / host
        assert not folder.exists() or not [p for p in folder.rglob("*") if p.is_file()]
    assert browser_a.post(preview_url).status_code == 404  # spent, on every host


def test_a_confirmation_after_the_register_changed_checks_again_and_asks_again(
    client, make, sign_in, lead, reads, monkeypatch
):
    # The kept file is stored in pieces and read back across them: small pieces split rows and values.
    monkeypatch.setattr(stored_files, "PIECE_SIZE", 97)
    make.establishment(urn="100001", name="St Mary’s (old name)")
    db.session.commit()
    sign_in(lead)
    preview_url = upload(client, "/establishments/import/establishments", gias_csv()).headers["Location"]
    assert "St Mary’s (old name)" in page_text(client.get(preview_url))
    # Someone else's import renames the school between the preview and the confirmation.
    db.session.execute(update(Establishment).values(name="St Mary’s (renamed meanwhile)"))
    db.session.commit()

    again = page_text(client.post(preview_url))
    assert "The register has changed since this file was checked" in again
    assert "St Mary’s (renamed meanwhile)" in again and "St Mary’s (old name)" not in again
    assert reads.count == 2  # the upload, then the check against the changed register
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Establishment)) == 1  # nothing imported yet

    reads.refuse = True  # the plan made again is kept: confirming it reads nothing
    confirmed = client.post(preview_url)
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Establishment.name).where(Establishment.urn == "100001")) == ST_MARYS
    assert db.session.scalar(select(func.count()).select_from(Establishment)) == 4


def test_contacts_switch_to_sync_makes_the_plan_again_then_confirms_it_as_kept(client, make, sign_in, lead, reads):
    school = make.establishment(urn="100001", name="St Mary’s")
    make.dsl(school, email="old@stmarys.example.org")
    db.session.commit()
    sign_in(lead)
    data = contacts_csv([{"URN": "100001", "Name": "Dee Lead", "Email": "dee@stmarys.example.org", "Role": "dsl"}])
    preview_url = upload(client, "/establishments/import/contacts", data, "c.csv").headers["Location"]
    assert "nobody is removed" in page_text(client.get(preview_url))
    synced = page_text(client.get(preview_url + "?sync=1"))
    assert "old@stmarys.example.org" in synced and reads.count == 2  # other options: planned again

    reads.refuse = True
    assert client.post(preview_url, data={"sync": "1"}).status_code == 302
    db.session.expire_all()
    from surveyapp.establishments.models import EstablishmentContact

    assert db.session.scalar(select(func.count()).select_from(EstablishmentContact)) == 1


def test_a_kept_establishments_plan_reads_back_as_it_was_made(make):
    trust = make.trust(uid="5001", name="Old Trust Name")
    make.establishment(urn="100002", name="Oakfield", is_open=True, trust=trust)
    make.establishment(urn="100004", name="Brontë", is_open=True)
    db.session.commit()
    rows = [*standard_rows(), gias_row("100005", '=cmd|" /C calc"!A0', trust_uid="5002", trust_name="New Trust")]
    plan = importer.plan_establishments(gias_csv(rows))
    assert plan.new and plan.updated and plan.closed and plan.new_trusts and plan.renamed_trusts
    assert plan.formula_like

    kept = importer.load_establishments_plan(importer.dump_plan(plan))
    assert kept == plan
    assert kept.closed[0] is next(c for c in kept.updated if c.record.urn == kept.closed[0].record.urn)


def test_a_kept_contacts_plan_reads_back_as_it_was_made(make):
    school = make.establishment(urn="100001", name="St Mary’s")
    trust = make.trust(uid="5001")
    make.dsl(school, email="deputy@stmarys.example.org", deputy=True)
    make.dsl(school, email="gone@stmarys.example.org")
    db.session.commit()
    data = contacts_csv(
        [
            {"URN": "100001", "Name": "Dee Lead", "Email": "dee@stmarys.example.org", "Role": "dsl"},
            {"URN": "100001", "Name": "Dep Uty", "Email": "deputy@stmarys.example.org", "Role": "dsl"},
            {"Trust UID": "5001", "Name": "Dep Uty", "Email": "deputy@stmarys.example.org", "Role": ""},
        ]
    )
    plan = importer.plan_contacts(data, sync=True)
    assert plan.new_users and plan.updated_users and plan.new_links and plan.changed_links and plan.removed_links
    assert importer.load_contacts_plan(importer.dump_plan(plan)) == plan
    assert trust.id in {r.trust_id for r in plan.new_links}
