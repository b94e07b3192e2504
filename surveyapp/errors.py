"""Error pages: plain words, the GOV.UK layout, the right status code."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("errors/400_csrf.html", reason=error.description), 400

    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, _page_for(code))

    @app.errorhandler(500)
    def server_error(error):
        return render_template("errors/500.html"), 500


def _page_for(code: int):
    def handler(error):
        return render_template(f"errors/{code}.html", error=error), code

    handler.__name__ = f"error_{code}"
    return handler
