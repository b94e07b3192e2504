"""One commit per request, and per CLI command.

Services only add and flush; they never commit, so one request's changes land together or not at all.
At the end of a request that succeeded (any status below 400: a page, a download or a redirect) the
session is committed; a request that fails (an error page, a refused form, an exception) is rolled
back, whatever it flushed. Indico's request handlers work the same way.

``commit_now()`` is for the few places that must commit before the request ends: before sending an
email (so no message goes out about a change that could still roll back), and to keep a record of a
refused attempt (a wrong password or code) that the error response would otherwise roll back.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response

from surveyapp.extensions import db


def register(app: Flask) -> None:
    app.after_request(_commit_or_roll_back)


def _commit_or_roll_back(response: Response) -> Response:
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def commit_now() -> None:
    """Commit what this request has done so far (see the module's note for when)."""
    db.session.commit()


def commits(command: Callable[..., Any]) -> Callable[..., Any]:
    """A CLI command's changes are committed once it returns, and rolled back if it fails."""

    @wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            result = command(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return result

    return wrapped
