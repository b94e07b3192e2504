"""A council's own service: its name, colour and feedback address, none of GOV.UK's reserved brand."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from surveyapp.extensions import db
from tests.browser.journey import sign_in_directly, visit

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    return {
        "WTF_CSRF_ENABLED": True,
        "COUNCIL_NAME": "Northshire County Council",
        "COUNCIL_COLOUR": "#005a30",
        "FEEDBACK_URL": "mailto:audit.feedback@northshire.example",
    }


def test_pages_carry_the_councils_brand_and_none_of_govuks(page, make):
    lead = make.lead()
    db.session.commit()
    for signed_in in (False, True):
        if signed_in:
            sign_in_directly(page, lead)
        visit(page, "/accessibility")
        header = page.get_by_role("banner")
        expect(header.get_by_role("link", name="Northshire County Council")).to_be_visible()
        background = header.locator(".app-council-header").evaluate("(el) => getComputedStyle(el).backgroundColor")
        assert background == "rgb(0, 90, 48)"
        feedback = page.locator(".govuk-phase-banner").get_by_role("link", name="give your feedback")
        expect(feedback).to_have_attribute("href", "mailto:audit.feedback@northshire.example")
        footer = page.get_by_role("contentinfo")
        expect(footer).not_to_contain_text("Crown copyright")
        expect(footer).not_to_contain_text("Open Government Licence")
        expect(footer).to_contain_text("Run by Northshire County Council")
        # No crown or Royal Arms anywhere: no inline crown, no crest image.
        assert (
            page.locator("svg.govuk-header__logotype, svg.govuk-footer__crown, .govuk-footer__copyright-logo").count()
            == 0
        )
        fonts = page.evaluate("""() => [...new Set([...document.querySelectorAll('body *')]
            .map((el) => getComputedStyle(el).fontFamily))]""")
        assert not [font for font in fonts if "GDS Transport" in font], fonts
        loaded = page.evaluate("() => performance.getEntriesByType('resource').map((entry) => entry.name)")
        assert not [url for url in loaded if "/assets/fonts/" in url or "crest" in url], loaded
