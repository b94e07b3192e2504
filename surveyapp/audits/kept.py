"""Keeping a page's input across an expired sign-in.

Input is kept only for the person whose sign-in ended in this browser, and given back
only to that person in that same browser: an anonymous POST (no earlier sign-in in the
cookie) keeps nothing, so nobody can plant answers for someone else to save.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from werkzeug.datastructures import MultiDict

from surveyapp.audits.models import KeptInput
from surveyapp.extensions import db
from surveyapp.timeutil import as_utc, utcnow

KEEP_FOR = timedelta(hours=24)
#: a section's longest honest input is well under this (text answers stop at 5,000 characters)
MAX_KEPT_BYTES = 200_000
_NOT_KEPT = {"csrf_token", "kept"}


class TooLarge(ValueError):
    """The input is larger than any honest section page sends."""


def size_of(formdata: MultiDict) -> int:
    return sum(
        len(key.encode()) + len(value.encode())
        for key in formdata
        if key not in _NOT_KEPT
        for value in formdata.getlist(key)
    )


def keep(path: str, formdata: MultiDict, user_id: int, browser: str) -> str:
    """Store posted input for one page, for one person in one browser; return the token that gets it back.

    :param user_id: the person whose sign-in ended in this browser
    :param browser: the random key held in this browser's signed session cookie
    :raises TooLarge: the input is over MAX_KEPT_BYTES
    """
    if size_of(formdata) > MAX_KEPT_BYTES:
        raise TooLarge(f"Input over {MAX_KEPT_BYTES} bytes is not kept")
    token = secrets.token_urlsafe(24)
    form = {key: formdata.getlist(key) for key in formdata if key not in _NOT_KEPT}
    db.session.execute(delete(KeptInput).where(KeptInput.expires_at < utcnow()))
    db.session.add(
        KeptInput(
            token_hash=_digest(token),
            path=path[:300],
            form=form,
            user_id=user_id,
            browser_hash=_digest(browser),
            expires_at=utcnow() + KEEP_FOR,
        )
    )
    db.session.flush()
    return token


def fetch(token: str | None, path: str, user_id: int, browser: str | None) -> MultiDict | None:
    """The input kept under this token for this page, person and browser, or None."""
    if not token or not browser:
        return None
    row = db.session.scalar(select(KeptInput).where(KeptInput.token_hash == _digest(token)))
    if (
        row is None
        or row.path != path
        or as_utc(row.expires_at) < utcnow()
        or row.user_id != user_id
        or not secrets.compare_digest(row.browser_hash, _digest(browser))
    ):
        return None
    return MultiDict([(key, value) for key, values in row.form.items() for value in values])


def discard(token: str | None) -> None:
    if token:
        db.session.execute(delete(KeptInput).where(KeptInput.token_hash == _digest(token)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
