"""Browser test fixtures: the app served live (CSRF on), Debian's chromium, a fresh context per test.

Data is built with the `make` factory in the test and committed before the browser
asks for a page: the live server answers from its own threads and database sessions.
"""

from __future__ import annotations

import pytest

from tests.browser.accessibility import AXE_SCRIPT, MINOR_FINDINGS, LoadLog
from tests.browser.support import VIEWPORT, LiveServer, chromium_launch_args


@pytest.fixture
def app_config():
    # CSRF stays on in browser tests: every form must carry a working token.
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def live_server(app):
    """The test's app, served on 127.0.0.1 for the length of the test."""
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        server.stop()
    if server.errors:
        raise AssertionError(f"The app raised during the test: {server.errors!r}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's session browser, launched from /usr/bin/chromium."""
    return {**browser_type_launch_args, **chromium_launch_args()}


@pytest.fixture(scope="session")
def browser_context_args():
    """Context options are set per test in `context` (pytest-base-url is not used here)."""
    return {}


@pytest.fixture
def context(new_context, live_server):
    """A fresh browser context (cookies, storage) per test, pointed at the live server."""
    context = new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/London")
    context.add_init_script(script=AXE_SCRIPT)  # every document gets axe-core, for check_page
    return context


@pytest.fixture
def page(context, request):
    """The test's page; every page it loads must go through check_page."""
    page = context.new_page()
    page.set_default_timeout(10_000)
    log = LoadLog()
    log.watch(page)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.passed and log.unchecked():
        pytest.fail("Pages loaded but never checked for accessibility: " + ", ".join(log.unchecked()), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def pytest_terminal_summary(terminalreporter):
    if not MINOR_FINDINGS:
        return
    terminalreporter.section("axe findings below 'serious' (not failing)")
    for (rule, impact, help_text), urls in sorted(MINOR_FINDINGS.items()):
        terminalreporter.write_line(f"{rule} ({impact}): {help_text}")
        for url in sorted(urls):
            terminalreporter.write_line(f"    {url}")
