"""Keeping a page's input across an expired sign-in."""
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
_NOT_KEPT = {"csrf_token"}


def keep(path: str, formdata: MultiDict) -> str:
    """Store posted input for one page; return the token that gets it back."""
    token = secrets.token_urlsafe(24)
    form = {key: formdata.getlist(key) for key in formdata if key not in _NOT_KEPT}
    db.session.execute(delete(KeptInput).where(KeptInput.expires_at < utcnow()))
    db.session.add(KeptInput(token_hash=_digest(token), path=path[:300], form=form, expires_at=utcnow() + KEEP_FOR))
    db.session.flush()
    return token


def fetch(token: str | None, path: str) -> MultiDict | None:
    """The input kept under this token for this page, or None."""
    if not token:
        return None
    row = db.session.scalar(select(KeptInput).where(KeptInput.token_hash == _digest(token)))
    if row is None or row.path != path or as_utc(row.expires_at) < utcnow():
        return None
    return MultiDict([(key, value) for key, values in row.form.items() for value in values])


def discard(token: str | None) -> None:
    if token:
        db.session.execute(delete(KeptInput).where(KeptInput.token_hash == _digest(token)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
