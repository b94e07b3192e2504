"""Filtered, sorted and paged lists each have their own page title, with the page number, so a
screen reader user (and the browser's history) can tell one view from another."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from surveyapp.extensions import db
from tests.browser.journey import sign_in_directly, visit

pytestmark = pytest.mark.browser


def test_the_tracker_and_the_register_name_each_view_and_page_in_their_titles(page, make):
    lead = make.lead()
    for n in range(55):
        make.establishment(name=f"School {n:02d}", phase="Secondary" if n % 5 == 0 else "Primary")
    cycle = make.cycle()
    db.session.commit()
    sign_in_directly(page, lead)

    tracker = f"/cycles/{cycle.slug}/tracker"
    titles = {}
    for path in (
        tracker,
        f"{tracker}?page=2",
        f"{tracker}?phase=Secondary",
        f"{tracker}?status=not_started",
        f"{tracker}?sort=urn&direction=desc",
        f"{tracker}?sort=urn&direction=desc&page=2",
        "/establishments/",
        "/establishments/?page=2",
        "/establishments/?phase=Secondary",
        "/establishments/?q=School+1",
    ):
        visit(page, path)
        titles[path] = page.title()
    assert len(set(titles.values())) == len(titles), titles
    assert titles[tracker].startswith(f"Tracker: {cycle.name} (page 1 of 2)"), titles
    assert titles[f"{tracker}?page=2"].startswith(f"Tracker: {cycle.name} (page 2 of 2)"), titles
    assert titles[f"{tracker}?phase=Secondary"].startswith(f"Tracker: {cycle.name} – Secondary –"), titles
    assert titles[f"{tracker}?sort=urn&direction=desc&page=2"].startswith(
        f"Tracker: {cycle.name} – sorted by urn (descending) (page 2 of 2)"
    ), titles
    assert titles["/establishments/?page=2"].startswith("Establishments (page 2 of 2)"), titles
    assert titles["/establishments/?q=School+1"].startswith("Establishments – matching “School 1” –"), titles
    expect(page.get_by_role("heading", level=1)).to_have_text("Establishments")
