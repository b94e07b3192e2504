"""Flask extensions: created here, attached to the app in create_app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import CursorResult, MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints let Alembic alter them in SQLite batch mode.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
if TYPE_CHECKING:
    # Type checkers cannot see through Flask-SQLAlchemy's generated model class: to them it is the Base.
    Model = Base
else:
    Model = db.Model
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def str_enum(enum_class: type) -> db.Enum:
    """Store a StrEnum as its values in a VARCHAR: portable and readable in SQL."""
    return db.Enum(
        enum_class,
        native_enum=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def rows_changed(statement: Any) -> int:
    """Run an UPDATE or DELETE in the app's session and say how many rows it changed (a conditional
    update that changed none lost a race)."""
    result = db.session.execute(statement)
    return cast(CursorResult, result).rowcount
