"""The register: searching establishments, reading one establishment or trust, and holding an
uploaded import file between its preview and its confirmation. Plain functions; nothing commits."""
from __future__ import annotations

import json
import math
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from surveyapp.establishments.models import Establishment, EstablishmentContact, Trust, TrustContact
from surveyapp.extensions import db

PER_PAGE = 50


# --- the register ------------------------------------------------------------------------


@dataclass
class RegisterPage:
    #: (establishment, number of DSLs and deputies)
    rows: list[tuple[Establishment, int]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def search_register(query: str = "", phase: str = "", status: str = "", page: int = 1, per_page: int = PER_PAGE) -> RegisterPage:
    """One page of the register, by name.

    :param query: part of a name, or a URN (matched exactly)
    :param phase: only this phase of education ("" for all)
    :param status: "open", "closed" or "" for both
    """
    conditions = []
    query = query.strip()
    if query:
        conditions.append(or_(func.lower(Establishment.name).contains(query.lower(), autoescape=True), Establishment.urn == query))
    if phase:
        conditions.append(Establishment.phase == phase)
    if status in ("open", "closed"):
        conditions.append(Establishment.is_open.is_(status == "open"))
    total = db.session.scalar(select(func.count(Establishment.id)).where(*conditions))
    page = max(1, min(page, max(1, math.ceil(total / per_page))))
    contacts = (
        select(func.count(EstablishmentContact.id))
        .where(EstablishmentContact.establishment_id == Establishment.id)
        .correlate(Establishment)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Establishment, contacts)
        .where(*conditions)
        # The list shows each establishment's trust: load them with the page, not one query per row.
        .options(joinedload(Establishment.trust))
        .order_by(Establishment.name, Establishment.urn)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return RegisterPage([(row[0], row[1]) for row in rows], total, page, per_page)


def phases_in_register() -> list[str]:
    return list(db.session.scalars(select(Establishment.phase).where(Establishment.phase != "").distinct().order_by(Establishment.phase)))


def establishment_by_urn(urn: str) -> Establishment | None:
    """The establishment with its trust and contacts (and their accounts) loaded for its page."""
    return db.session.scalar(
        select(Establishment)
        .where(Establishment.urn == urn)
        .options(joinedload(Establishment.trust), selectinload(Establishment.contacts).joinedload(EstablishmentContact.user))
    )


def trust_by_uid(uid: str) -> Trust | None:
    """The trust with its academies (and their contact counts) and its leads loaded for its page."""
    return db.session.scalar(
        select(Trust)
        .where(Trust.uid == uid)
        .options(selectinload(Trust.academies), selectinload(Trust.contacts).joinedload(TrustContact.user))
    )


def contact_counts(establishment_ids: list[int]) -> dict[int, int]:
    if not establishment_ids:
        return {}
    return dict(
        db.session.execute(
            select(EstablishmentContact.establishment_id, func.count(EstablishmentContact.id))
            .where(EstablishmentContact.establishment_id.in_(establishment_ids))
            .group_by(EstablishmentContact.establishment_id)
        ).all()
    )


# --- uploads held between preview and confirmation ------------------------------------------

#: abandoned uploads are deleted after this long
UPLOAD_MAX_AGE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{32,64}$")


class UploadNotFound(Exception):
    """No upload with this token belongs to this user (never uploaded, someone else's, used or expired)."""


@dataclass
class PendingUpload:
    token: str
    kind: str
    filename: str
    owner_id: int
    data: bytes


def store_upload(folder: str | Path, *, kind: str, owner_id: int, filename: str, data: bytes) -> str:
    """Keep an uploaded file until it is confirmed; return the random token that names it.

    :param folder: where uploads are kept (the app's instance folder + "/uploads")
    :param kind: what the file is for, e.g. "establishments"; checked again on confirmation
    :param owner_id: the uploading user: only they may confirm it
    """
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    purge_old_uploads(folder)
    token = secrets.token_urlsafe(32)
    _write_private(folder / f"{token}.csv", data)
    meta = {"kind": kind, "owner_id": owner_id, "filename": filename, "uploaded_at": time.time()}
    _write_private(folder / f"{token}.json", json.dumps(meta).encode())
    return token


def load_upload(folder: str | Path, token: str, *, kind: str, owner_id: int) -> PendingUpload:
    """The upload with this token, if this user made it for this kind of import.

    :raises UploadNotFound: otherwise (the reason is not told apart, so tokens reveal nothing)
    """
    if not _TOKEN.match(token or ""):
        raise UploadNotFound(token)
    folder = Path(folder)
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        if meta.get("kind") != kind or meta.get("owner_id") != owner_id:
            raise UploadNotFound(token)
        if time.time() - float(meta.get("uploaded_at", 0)) > UPLOAD_MAX_AGE_SECONDS:
            raise UploadNotFound(token)
        data = (folder / f"{token}.csv").read_bytes()
    except (OSError, ValueError) as exc:
        raise UploadNotFound(token) from exc
    return PendingUpload(token, kind, str(meta.get("filename", "")), owner_id, data)


def discard_upload(folder: str | Path, token: str) -> None:
    if not _TOKEN.match(token or ""):
        return
    for suffix in (".csv", ".json"):
        try:
            (Path(folder) / f"{token}{suffix}").unlink()
        except FileNotFoundError:
            pass


def purge_old_uploads(folder: str | Path, max_age: float = UPLOAD_MAX_AGE_SECONDS) -> None:
    cutoff = time.time() - max_age
    for path in Path(folder).glob("*.*"):
        try:
            if path.suffix in (".csv", ".json") and path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            pass


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def remove_contact(user_id: int, actor, *, establishment: Establishment | None = None, trust: Trust | None = None):
    """Remove a person from an establishment's or a trust's contacts; return the user, or None if not linked.

    Their access to it ends with the link (on their next request); their account, their past
    answers and the log entries that name them stay.
    """
    from surveyapp.activity.services import record  # the log builds on the register
    from surveyapp.auth.models import User
    from surveyapp.establishments.models import EstablishmentContact, TrustContact

    if establishment is not None:
        link = db.session.scalar(select(EstablishmentContact).where(
            EstablishmentContact.establishment_id == establishment.id, EstablishmentContact.user_id == user_id))
    else:
        link = db.session.scalar(select(TrustContact).where(
            TrustContact.trust_id == trust.id, TrustContact.user_id == user_id))
    if link is None:
        return None
    user = db.session.get(User, user_id)
    db.session.delete(link)
    record("contact.removed", actor, establishment=establishment, trust=trust, email=user.email,
           role=getattr(link, "role", None) and link.role.value)
    db.session.flush()
    return user
