"""The register and the imports in a real browser, with CSRF on: every page passes axe and the
structural checks (labels, one h1, error summary focus and links).

Needs pytest-playwright (skipped when the run uses ``-p no:playwright``) and /usr/bin/chromium.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from surveyapp.establishments.models import Establishment
from surveyapp.extensions import db
from tests.browser.imports_support import page as page
from tests.browser.journey import press, sign_in, visit
from tests.establishments.gias_files import OAKFIELD, contacts_csv, gias_csv, standard_rows

pytestmark = pytest.mark.browser


def test_the_lead_imports_establishments_and_contacts_in_the_browser(page, make, tmp_path):
    lead = make.lead()
    db.session.commit()
    sign_in(page, lead)
    visit(page, "/establishments/")
    expect(page.get_by_text("The register is empty")).to_be_visible()

    # A bad file: the error summary names line, column and reason and leads to the file field.
    rows = standard_rows()
    rows[1]["NumberOfPupils"] = "lots"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(gias_csv(rows))
    press(page, page.get_by_role("button", name="Import establishments (GIAS extract)"))
    page.get_by_label("Upload a file").set_input_files(bad)
    press(page, page.get_by_role("button", name="Check the file"))
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        'line 3, column NumberOfPupils: "lots" must be a whole number'
    )

    good = tmp_path / "edubasealldata.csv"
    good.write_bytes(gias_csv())
    page.get_by_label("Upload a file").set_input_files(good)
    press(page, page.get_by_role("button", name="Check the file"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the establishments import")
    expect(page.get_by_role("table", name=re.compile("New establishments"))).to_contain_text(OAKFIELD)
    # Without a job queue the import's job runs as the confirmation is sent; its page says what it did.
    press(page, page.get_by_role("button", name="Confirm import"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Establishments import")
    expect(page.get_by_text("Establishments imported: 4 new")).to_be_visible()

    press(page, page.get_by_role("link", name="Back to the register"))
    press(page, page.get_by_role("link", name=OAKFIELD))
    expect(page.get_by_role("heading", level=1)).to_have_text(OAKFIELD)
    press(page, page.get_by_role("link", name="Northern Lights Academy Trust – North"))
    expect(page.get_by_role("table", name=re.compile("academies in"))).to_contain_text(OAKFIELD)

    visit(page, "/establishments/?q=oak&phase=Secondary&status=open")
    expect(page.get_by_role("table")).to_contain_text(OAKFIELD)

    contacts = tmp_path / "contacts.csv"
    contacts.write_bytes(
        contacts_csv(
            [
                {"URN": "100002", "Name": "Dee Lead", "Email": "dee@oak.example.org", "Role": "dsl"},
                {"Trust UID": "5001", "Name": "Tess Trust", "Email": "tess@trust.example.org"},
            ]
        )
    )
    visit(page, "/establishments/")
    press(page, page.get_by_role("button", name="Import contacts"))
    page.get_by_label("Upload a file").set_input_files(contacts)
    press(page, page.get_by_role("button", name="Check the file"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the contacts import")
    page.get_by_label("Email an invitation to each person who has not set a password yet").check()
    press(page, page.get_by_role("button", name="Confirm import"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts import")
    expect(page.get_by_text("Invitations sent: 2.")).to_be_visible()
    db.session.rollback()
    assert db.session.scalar(select(Establishment).where(Establishment.urn == "100002")).contacts
