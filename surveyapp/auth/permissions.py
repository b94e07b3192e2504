"""The one place that answers "may this user see or change this?".

Views never test roles by hand: they call these functions or use the
decorators, and anything a user may not see is reported as not found (404),
so ids of other schools' data reveal nothing.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import exists, select

from surveyapp.auth.models import Role, User
from surveyapp.establishments.models import Establishment, EstablishmentContact, TrustContact


def is_lead(user: User) -> bool:
    return user.is_authenticated and user.role is Role.LEAD


def can_read_everything(user: User) -> bool:
    """The lead and board viewers read LA-wide data; only the lead changes it."""
    return user.is_authenticated and user.role in (Role.LEAD, Role.BOARD)


def trust_ids_led_by(user: User) -> set[int]:
    from surveyapp.extensions import db

    return set(db.session.scalars(select(TrustContact.trust_id).where(TrustContact.user_id == user.id)))


def establishment_ids_of(user: User) -> set[int]:
    from surveyapp.extensions import db

    return set(
        db.session.scalars(select(EstablishmentContact.establishment_id).where(EstablishmentContact.user_id == user.id))
    )


def can_view_establishment(user: User, establishment: Establishment) -> bool:
    if not user.is_authenticated:
        return False
    if can_read_everything(user):
        return True
    return _is_contact_for(user, establishment)


def can_answer_for_establishment(user: User, establishment: Establishment) -> bool:
    """DSLs and deputies of the establishment, and the lead of its trust, complete its audit."""
    return user.is_authenticated and user.role in (Role.DSL, Role.TRUST_LEAD) and _is_contact_for(user, establishment)


def can_answer_for_trust(user: User, trust_id: int) -> bool:
    return user.is_authenticated and user.role is Role.TRUST_LEAD and trust_id in trust_ids_led_by(user)


def can_view_trust(user: User, trust_id: int) -> bool:
    return user.is_authenticated and (can_read_everything(user) or trust_id in trust_ids_led_by(user))


def _is_contact_for(user: User, establishment: Establishment) -> bool:
    from surveyapp.extensions import db

    direct = exists().where(
        EstablishmentContact.user_id == user.id, EstablishmentContact.establishment_id == establishment.id
    )
    if db.session.scalar(select(direct)):
        return True
    return establishment.trust_id is not None and establishment.trust_id in trust_ids_led_by(user)


def roles_required(*roles: Role):
    """Allow only these roles; anyone else signed in gets 403 (the page exists, but is not theirs)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


lead_required = roles_required(Role.LEAD)
