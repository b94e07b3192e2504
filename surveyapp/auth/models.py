"""Users and the single-use tokens that let them set a password."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.extensions import Model, db, str_enum
from surveyapp.timeutil import utcnow


class Role(enum.StrEnum):
    LEAD = "lead"  #: the LA's education safeguarding lead: administers everything
    DSL = "dsl"  #: a designated safeguarding lead (or deputy) of one or more establishments
    TRUST_LEAD = "trust_lead"  #: a trust's safeguarding lead: the trust and its academies
    BOARD = "board"  #: a board member: reads analysis, changes nothing

    @property
    def label(self) -> str:
        return {
            "lead": "Education safeguarding lead",
            "dsl": "Designated safeguarding lead",
            "trust_lead": "Trust safeguarding lead",
            "board": "Board viewer",
        }[self.value]


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stored lower-case; sign-in compares lower-case
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(str_enum(Role))
    #: None until the user follows their invitation and sets a password
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: bumped to end every session of this user (sign-out everywhere, disable, password change)
    session_epoch: Mapped[int] = mapped_column(default=0)
    #: base32 TOTP secret once two-factor sign-in is set up
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: the last TOTP time step accepted, so a code cannot be used twice
    totp_last_step: Mapped[int | None]
    #: wrong second-factor codes since the last right one (counted across sign-ins and addresses)
    code_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    #: authenticator codes are refused until then (recovery codes still work)
    code_locked_until: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    #: sha256 hashes of the unused recovery codes
    recovery_codes: Mapped[list[str]] = mapped_column(db.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))

    establishment_links = relationship("EstablishmentContact", back_populates="user", cascade="all, delete-orphan")
    trust_links = relationship("TrustContact", back_populates="user", cascade="all, delete-orphan")

    def get_id(self) -> str:
        # The epoch in the session id means a bumped epoch refuses old cookies.
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_enabled

    @property
    def has_two_factor(self) -> bool:
        return bool(self.totp_secret)

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class TokenPurpose(enum.StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"


class AccountToken(Model):
    """A single-use link to set a password. Only a hash of the token is stored."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for the stand-in written (already spent) when a reset is asked for an email with no account,
    #: so that request does the same work as a real one
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))

    user: Mapped[User | None] = relationship()


class SiteSetting(Model):
    """A setting the lead changes in the app (not deployment configuration)."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict] = mapped_column(db.JSON, default=dict)
