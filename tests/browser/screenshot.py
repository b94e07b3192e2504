"""Take docs/screenshot.png for the README: a DSL's task list part-way through the audit, at 1280x900.

    python -m tests.browser.screenshot [path]

It builds its own throwaway SQLite database, serves the app on a free port and
photographs the page through Debian's chromium, so it touches nothing else.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from surveyapp.audits import services
from surveyapp.audits.definitions import load_built_in_templates
from surveyapp.audits.services import AnswerInput
from surveyapp.extensions import db
from tests.browser.support import VIEWPORT, LiveServer, chromium_launch_args
from tests.conftest import make_app
from tests.factories import Factory

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"


def _build(make: Factory):
    """A primary school whose DSL has done the first two sections and started the third."""
    school = make.establishment(name="St Mary’s Church of England Primary School", urn="100234")
    dsl = make.dsl(school, name="Priya Shah", email="priya.shah@stmarys.example.org")
    template = {t.key: t for t, _ in load_built_in_templates()}["s175-schools"]
    cycle = make.cycle(template=template)
    response = services.responses_for_user(dsl)[0]
    sections = {s.key: s for s in cycle.template.sections}
    services.save_section(
        response,
        sections["leadership"],
        {
            "leadership_dsl_senior": AnswerInput("yes"),
            "leadership_dsl_resources": AnswerInput("yes"),
            "leadership_dsl_cover": AnswerInput("yes"),
            "leadership_governor_named": AnswerInput("yes"),
            "leadership_governor_reports": AnswerInput("termly"),
        },
        0,
        dsl,
    )
    services.save_section(
        response,
        sections["policies"],
        {
            q.key: AnswerInput("2026-07-14" if q.key == "policies_cp_review_date" else "yes")
            for q in sections["policies"].questions
        },
        0,
        dsl,
    )
    services.save_section(
        response,
        sections["training"],
        {
            "training_dsl_date": AnswerInput("2025-11-03"),
            "training_staff_percentage": AnswerInput("100"),
        },
        0,
        dsl,
    )
    db.session.commit()
    return dsl.email, response.id


def take(path: Path = DEFAULT_PATH) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="surveyapp-screenshot-"))
    app = make_app(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'screenshot.sqlite3'}",
        MAIL_OUTBOX=str(folder / "outbox"),
        WTF_CSRF_ENABLED=True,
    )
    with app.app_context():
        db.create_all()
        email, response_id = _build(Factory())
        db.session.remove()
    path.parent.mkdir(parents=True, exist_ok=True)
    with LiveServer(app) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch_args())
        page = browser.new_page(viewport=VIEWPORT, base_url=server.url, locale="en-GB")
        page.goto("/sign-in")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password", exact=True).fill(Factory.PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        page.goto(f"/audits/{response_id}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Safeguarding audit 2026-27")
        page.evaluate("document.fonts.ready")
        page.screenshot(path=str(path))
        browser.close()
        if server.errors:
            raise RuntimeError(f"the app raised: {server.errors!r}")
    return path


if __name__ == "__main__":
    print(take(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH))
