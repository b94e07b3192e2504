"""A GIAS import whose register changes between the preview and the confirmation, in a real browser with
CSRF on: the confirmation shows the file checked again, with a warning, and imports on the second press (its
job runs as the confirmation is sent: no queue here; tests/browser/test_jobs.py has one).

Needs pytest-playwright (skipped when the run uses ``-p no:playwright``) and /usr/bin/chromium.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from surveyapp.establishments.models import Establishment
from surveyapp.extensions import db
from tests.browser.imports_support import page as page
from tests.browser.journey import press, sign_in, visit
from tests.establishments.gias_files import ST_MARYS, gias_csv

pytestmark = pytest.mark.browser


def test_a_register_change_after_the_preview_is_shown_before_anything_is_imported(page, make, tmp_path):
    lead = make.lead()
    make.establishment(urn="100001", name="St Mary’s (old name)")
    db.session.commit()
    sign_in(page, lead)
    visit(page, "/establishments/")
    good = tmp_path / "edubasealldata.csv"
    good.write_bytes(gias_csv())
    press(page, page.get_by_role("button", name="Import establishments (GIAS extract)"))
    page.get_by_label("Upload a file").set_input_files(good)
    press(page, page.get_by_role("button", name="Check the file"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the establishments import")
    expect(page.get_by_text("The register has changed")).to_have_count(0)

    # Another lead's change lands while this one reads the preview.
    db.session.execute(update(Establishment).values(name="St Mary’s (renamed meanwhile)"))
    db.session.commit()

    press(page, page.get_by_role("button", name="Confirm import"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the establishments import")
    expect(page.locator(".govuk-warning-text")).to_contain_text(
        "The register has changed since this file was checked, so it has been checked again"
    )
    expect(page.get_by_role("table", name=re.compile("Changes to establishments"))).to_contain_text(
        "St Mary’s (renamed meanwhile)"
    )
    db.session.rollback()
    assert db.session.scalar(select(Establishment.name).where(Establishment.urn == "100001")) != ST_MARYS

    press(page, page.get_by_role("button", name="Confirm import"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Establishments import")
    expect(page.get_by_text("Establishments imported: 3 new, 1 updated")).to_be_visible()
    db.session.rollback()
    assert db.session.scalar(select(Establishment.name).where(Establishment.urn == "100001")) == ST_MARYS
