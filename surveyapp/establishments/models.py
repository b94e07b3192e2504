"""The register: establishments (schools and settings), trusts, and who their contacts are."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import Model, db, str_enum
from surveyapp.timeutil import utcnow


class Trust(Model):
    """A multi-academy trust (or federation), keyed by its GIAS group UID."""

    __tablename__ = "trusts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: GIAS "Trusts (code)", the group UID
    uid: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    academies: Mapped[list[Establishment]] = relationship(back_populates="trust", order_by="Establishment.name")
    contacts: Mapped[list[TrustContact]] = relationship(back_populates="trust", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Trust {self.uid} {self.name}>"


class Establishment(Model):
    """A school or setting, keyed by URN (settings outside GIAS are given one locally)."""

    __tablename__ = "establishments"

    id: Mapped[int] = mapped_column(primary_key=True)
    urn: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    #: GIAS "TypeOfEstablishment (name)", e.g. "Academy converter"
    type_name: Mapped[str] = mapped_column(String(120), default="", index=True)
    #: GIAS "PhaseOfEducation (name)", e.g. "Primary"
    phase: Mapped[str] = mapped_column(String(60), default="", index=True)
    #: GIAS "EstablishmentStatus (name)"; blank means open (settings outside GIAS)
    status_name: Mapped[str] = mapped_column(String(60), default="")
    #: False for closed (or not yet open) establishments: they leave the scope of new cycles
    is_open: Mapped[bool] = mapped_column(default=True, index=True)
    la_code: Mapped[str] = mapped_column(String(10), default="")
    la_name: Mapped[str] = mapped_column(String(120), default="")
    district: Mapped[str] = mapped_column(String(120), default="", index=True)
    number_of_pupils: Mapped[int | None]
    opened_on: Mapped[date | None]
    closed_on: Mapped[date | None]
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    # The tracker's list is sorted by name unless asked otherwise: read in this order, its first pages need
    # not sort the whole cycle. PostgreSQL only (the production engine, at national scale): SQLite's
    # reflection cannot read an index on an expression back.
    __table_args__ = (Index("ix_establishments_name_order", func.lower(name), name, id).ddl_if(dialect="postgresql"),)

    trust: Mapped[Trust | None] = relationship(back_populates="academies")
    contacts: Mapped[list[EstablishmentContact]] = relationship(
        back_populates="establishment", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Establishment {self.urn} {self.name}>"


class ContactRole(enum.StrEnum):
    DSL = "dsl"
    DEPUTY_DSL = "deputy_dsl"

    @property
    def label(self) -> str:
        return "Designated safeguarding lead" if self is ContactRole.DSL else "Deputy designated safeguarding lead"


class EstablishmentContact(Model):
    """A user's safeguarding role at an establishment: what lets a DSL see it."""

    __tablename__ = "establishment_contacts"
    __table_args__ = (UniqueConstraint("establishment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[ContactRole] = mapped_column(str_enum(ContactRole))

    establishment: Mapped[Establishment] = relationship(back_populates="contacts")
    user = relationship("User", back_populates="establishment_links")


class TrustContact(Model):
    """A trust safeguarding lead: sees the trust and all of its academies."""

    __tablename__ = "trust_contacts"
    __table_args__ = (UniqueConstraint("trust_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    trust: Mapped[Trust] = relationship(back_populates="contacts")
    user = relationship("User", back_populates="trust_links")


class KeptUpload(Model):
    """An import file kept between its preview and its confirmation, in the database so that any
    app host can confirm what another one previewed."""

    __tablename__ = "kept_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the token in the preview's address: a copy of the database does not give the address
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: what the file is for ("establishments" or "contacts"), checked again on confirmation
    kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    #: the file as uploaded, in pieces (surveyapp/stored_files.py); read again only when the register has
    #: changed since its plan was made
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="CASCADE"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, index=True)
    #: what importing the file would do, made when it was uploaded (compressed JSON, see importer.dump_plan):
    #: the preview shows it and the confirmation applies it, without reading the file again
    plan: Mapped[bytes | None] = mapped_column(db.LargeBinary, deferred=True)
    #: the options the plan was made with (JSON, e.g. {"sync": true} for contacts)
    plan_options: Mapped[str] = mapped_column(String(200), default="")
    #: a fingerprint of the register the plan was made against: if it differs now, the plan is stale
    register_version: Mapped[str] = mapped_column(String(64), default="")
