"""Printable returns in a real browser: the PDF links where people look for them, and pages that print clean."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.audits.test_printable import _world
from tests.browser.journey import h1, sign_in, visit

pytestmark = pytest.mark.browser


def _pdf_text(download) -> str:
    reader = PdfReader(io.BytesIO(open(download.path(), "rb").read()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_dsl_downloads_the_pdf_and_the_answers_page_prints_without_the_service_around_it(page, make):
    world = _world(make)
    own = world["own"]
    sign_in(page, world["dsl"])
    visit(page, f"/audits/{own.id}/confirmation")
    expect(h1(page)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download your audit as a PDF").click()
    assert download.value.suggested_filename == f"{own.reference}.pdf"
    text = _pdf_text(download.value)
    assert "Headteacher Hannah Head" in text and "Answered by Oak Learning Trust" in text

    visit(page, "/audits/")
    expect(page.get_by_role("link", name=f"PDF of the {world['cycle'].name} for Oak Hill Academy")).to_be_visible()

    visit(page, f"/audits/{own.id}/check")
    expect(h1(page)).to_have_text("Submitted answers")
    page.emulate_media(media="print")
    expect(page.get_by_role("banner")).to_be_hidden()
    expect(page.get_by_role("link", name="Back to the task list")).to_be_hidden()
    expect(h1(page)).to_be_visible()
    expect(page.get_by_text("Hannah Head")).to_be_visible()


def test_the_lead_downloads_a_return_from_the_response_page(page, make):
    world = _world(make)
    sign_in(page, world["lead"])
    visit(page, f"/cycles/{world['cycle'].slug}/responses/{world['own'].id}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download this audit as a PDF (Oak Hill Academy)").click()
    assert "Chair of governors Gordon Governor" in _pdf_text(download.value)
    page.emulate_media(media="print")
    expect(page.get_by_role("link", name="Download this audit as a PDF (Oak Hill Academy)")).to_be_hidden()
