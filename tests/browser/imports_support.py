"""The page the import tests drive: the app served live with its instance folder (where kept import plans are
written) in the test's own temporary folder.

Test modules take the fixture by importing it (``from tests.browser.imports_support import page as page``).
"""

from __future__ import annotations

import pytest

from tests.browser.support import VIEWPORT, LiveServer


@pytest.fixture
def page(request, app, tmp_path, monkeypatch):
    if not request.config.pluginmanager.hasplugin("playwright"):
        pytest.skip("a browser test: run without -p no:playwright")
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    server = LiveServer(app).start()
    request.addfinalizer(server.stop)
    context = request.getfixturevalue("new_context")(
        base_url=server.url, viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/London"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    assert not server.errors, server.errors
