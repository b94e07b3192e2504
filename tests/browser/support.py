"""A live server for the app and Debian's chromium, shared by the browser tests and the screenshot script."""

from __future__ import annotations

import threading

from flask import Flask, got_request_exception
from werkzeug.serving import make_server

#: Playwright's own browser download does not work here; Debian's chromium does.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}


def chromium_launch_args() -> dict:
    return {"executable_path": CHROMIUM, "headless": True, "args": list(CHROMIUM_ARGS)}


class LiveServer:
    """Serve `app` on 127.0.0.1 (a free port the OS picks) from a background thread.

    Exceptions raised by views are collected in `errors`, so a test can fail on a
    500 the browser only saw as an error page.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.errors: list[BaseException] = []
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)

    def _record(self, sender, exception, **extra):  # noqa: ANN001
        self.errors.append(exception)

    def start(self) -> LiveServer:
        got_request_exception.connect(self._record, self.app)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        got_request_exception.disconnect(self._record, self.app)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
