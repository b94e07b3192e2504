"""The register: searching establishments, reading one establishment or trust, and holding an
uploaded import file between its preview and its confirmation. Plain functions; nothing commits."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, BinaryIO

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from surveyapp import stored_files
from surveyapp.establishments.models import Establishment, EstablishmentContact, KeptUpload, Trust, TrustContact
from surveyapp.extensions import db
from surveyapp.paging import Page
from surveyapp.timeutil import utcnow

PER_PAGE = 50


# --- the register ------------------------------------------------------------------------


def search_register(
    query: str = "", phase: str = "", status: str = "", page: int = 1, per_page: int = PER_PAGE
) -> Page[tuple[Establishment, int]]:
    """One page of the register, by name.

    :param query: part of a name, or a URN (matched exactly)
    :param phase: only this phase of education ("" for all)
    :param status: "open", "closed" or "" for both
    """
    conditions = []
    query = query.strip()
    if query:
        conditions.append(
            or_(func.lower(Establishment.name).contains(query.lower(), autoescape=True), Establishment.urn == query)
        )
    if phase:
        conditions.append(Establishment.phase == phase)
    if status in ("open", "closed"):
        conditions.append(Establishment.is_open.is_(status == "open"))
    total = db.session.scalar(select(func.count(Establishment.id)).where(*conditions)) or 0
    listed: Page[tuple[Establishment, int]] = Page.clamped(total, page, per_page)
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
        .offset(listed.offset)
    ).all()
    listed.rows = [(row[0], row[1]) for row in rows]
    return listed


def phases_in_register() -> list[str]:
    return list(
        db.session.scalars(
            select(Establishment.phase).where(Establishment.phase != "").distinct().order_by(Establishment.phase)
        )
    )


def establishment_by_urn(urn: str) -> Establishment | None:
    """The establishment with its trust and contacts (and their accounts) loaded for its page."""
    return db.session.scalar(
        select(Establishment)
        .where(Establishment.urn == urn)
        .options(
            joinedload(Establishment.trust), selectinload(Establishment.contacts).joinedload(EstablishmentContact.user)
        )
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
    #: what importing the file would do (``importer.dump_plan``), None if none was kept
    plan: bytes | None
    #: the options the plan was made with, and the fingerprint of the register it was made against
    plan_options: str
    register_version: str


def store_upload(
    *,
    kind: str,
    owner_id: int,
    filename: str,
    file: BinaryIO,
    plan: bytes | None = None,
    plan_options: str = "",
    register_version: str = "",
) -> str:
    """Keep an uploaded file and its plan until it is confirmed (flush only); return the random token that names it.

    The file and its plan are kept in the database, not on the host that received them: behind a load
    balancer the preview and the confirmation may reach other hosts. The file is read from ``file``'s start
    and kept in pieces, never whole in memory.

    :param kind: what the file is for, e.g. "establishments"; checked again on confirmation
    :param owner_id: the uploading user: only they may confirm it
    :param plan: what importing it would do, so the confirmation need not read the file again
    :param plan_options: the options the plan was made with
    :param register_version: a fingerprint of the register the plan was made against
    """
    purge_old_uploads()
    token = secrets.token_urlsafe(32)
    file.seek(0)
    file_id = stored_files.store(file)
    db.session.execute(
        insert(KeptUpload).values(
            token_hash=_hash(token),
            kind=kind,
            owner_id=owner_id,
            filename=filename[:255],
            file_id=file_id,
            uploaded_at=utcnow(),
            plan=plan,
            plan_options=plan_options,
            register_version=register_version,
        )
    )
    return token


def load_upload(token: str, *, kind: str, owner_id: int) -> PendingUpload:
    """The upload with this token (its plan, not its file), if this user made it for this kind of import.

    :raises UploadNotFound: otherwise (the reason is not told apart, so tokens reveal nothing)
    """
    if not _TOKEN.match(token or ""):
        raise UploadNotFound(token)
    kept = db.session.execute(
        select(
            KeptUpload.kind,
            KeptUpload.owner_id,
            KeptUpload.filename,
            KeptUpload.plan,
            KeptUpload.plan_options,
            KeptUpload.register_version,
        ).where(
            KeptUpload.token_hash == _hash(token),
            KeptUpload.uploaded_at >= utcnow() - timedelta(seconds=UPLOAD_MAX_AGE_SECONDS),
        )
    ).first()
    if kept is None or kept.kind != kind or kept.owner_id != owner_id:
        raise UploadNotFound(token)
    return PendingUpload(
        token, kind, kept.filename, owner_id, kept.plan, kept.plan_options or "", kept.register_version or ""
    )


def open_upload(upload: PendingUpload) -> IO[bytes]:
    """The file of a loaded upload, to check it again: read piece by piece from the database."""
    file_id = db.session.scalar(select(KeptUpload.file_id).where(KeptUpload.token_hash == _hash(upload.token)))
    if file_id is None:
        raise UploadNotFound(upload.token)
    return stored_files.open_stored(file_id)


def keep_plan(upload: PendingUpload, plan: bytes, *, plan_options: str, register_version: str) -> None:
    """Replace an upload's plan with one made again (flush only)."""
    db.session.execute(
        update(KeptUpload)
        .where(KeptUpload.token_hash == _hash(upload.token))
        .values(plan=plan, plan_options=plan_options, register_version=register_version)
    )
    upload.plan, upload.plan_options, upload.register_version = plan, plan_options, register_version


def upload_key(upload: PendingUpload) -> str:
    """What a job keeps to find the upload it imports: the token's hash, never the token (the preview's
    address stays out of the database)."""
    return _hash(upload.token)


@dataclass
class TakenUpload:
    """A kept upload's plan, taken for importing: the upload is gone once the taking commits."""

    kind: str
    filename: str
    plan: bytes | None
    plan_options: str
    register_version: str


def take_upload(key: str, *, kind: str) -> TakenUpload | None:
    """Delete the kept upload ``upload_key`` named and return its plan (flush only); None if it is no longer
    kept (imported already, or expired) or is for another kind of import.

    One statement, so two runs of one import cannot both take it: the second waits for the first to commit
    (or roll back) and finds it gone (or takes it). Import in the same transaction, and the upload is used
    exactly when the import lands.
    """
    taken = db.session.execute(
        delete(KeptUpload)
        .where(KeptUpload.token_hash == key, KeptUpload.kind == kind)
        .returning(
            KeptUpload.kind,
            KeptUpload.filename,
            KeptUpload.plan,
            KeptUpload.plan_options,
            KeptUpload.register_version,
            KeptUpload.file_id,
        )
    ).first()
    if taken is None:
        return None
    stored_files.forget([taken.file_id])
    return TakenUpload(taken.kind, taken.filename, taken.plan, taken.plan_options or "", taken.register_version or "")


#: the PostgreSQL advisory lock that register imports hold while they check the register and write to it
REGISTER_LOCK = 0x5A0E_1E61_5E0D


def hold_register() -> None:
    """Keep other imports off the register until this transaction ends, so a check that the register is as a
    plan expects still holds when the plan is written.

    PostgreSQL: a transaction-level advisory lock, taken by the web imports' jobs and the CLI imports. SQLite
    lets one transaction write at a time: an import's first write holds the register the same way.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(REGISTER_LOCK)))


def discard_upload(token: str) -> None:
    """Forget a kept upload (flush only)."""
    if _TOKEN.match(token or ""):
        # The file goes, and its upload with it (ON DELETE CASCADE).
        stored_files.forget(select(KeptUpload.file_id).where(KeptUpload.token_hash == _hash(token)))


def purge_old_uploads(max_age: float = UPLOAD_MAX_AGE_SECONDS) -> None:
    """Forget abandoned uploads (flush only)."""
    stored_files.forget(
        select(KeptUpload.file_id).where(KeptUpload.uploaded_at < utcnow() - timedelta(seconds=max_age))
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def remove_contact(user_id: int, actor, *, establishment: Establishment | None = None, trust: Trust | None = None):
    """Remove a person from an establishment's or a trust's contacts; return the user, or None if not linked.

    Their access to it ends with the link (on their next request); their account, their past
    answers and the log entries that name them stay.
    """
    from surveyapp.activity.services import record  # the log builds on the register
    from surveyapp.auth.models import User
    from surveyapp.establishments.models import EstablishmentContact, TrustContact

    link: EstablishmentContact | TrustContact | None
    if establishment is not None:
        link = db.session.scalar(
            select(EstablishmentContact).where(
                EstablishmentContact.establishment_id == establishment.id, EstablishmentContact.user_id == user_id
            )
        )
    elif trust is not None:
        link = db.session.scalar(
            select(TrustContact).where(TrustContact.trust_id == trust.id, TrustContact.user_id == user_id)
        )
    else:
        raise ValueError("remove_contact needs an establishment or a trust")
    user = db.session.get(User, user_id)
    if link is None or user is None:
        return None
    db.session.delete(link)
    role = link.role.value if isinstance(link, EstablishmentContact) else None
    record(
        "contact.removed",
        actor.id if actor else None,
        establishment_id=establishment.id if establishment else None,
        trust_id=trust.id if trust else None,
        email=user.email,
        role=role,
    )
    db.session.flush()
    return user


def establishment_ids_of(user_id: int) -> set[int]:
    """The establishments a user is a DSL or deputy of."""
    return set(
        db.session.scalars(select(EstablishmentContact.establishment_id).where(EstablishmentContact.user_id == user_id))
    )


def trust_ids_led_by(user_id: int) -> set[int]:
    """The trusts a user is a safeguarding lead of."""
    return set(db.session.scalars(select(TrustContact.trust_id).where(TrustContact.user_id == user_id)))
