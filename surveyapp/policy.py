"""Who may do what: the only code that knows the roles.

A role is a set of capabilities (``RIGHTS``). A route declares the one capability it needs with
``@requires``; templates ask ``may(...)``. Where a capability is about one school's or one trust's
data, the object is checked too: a DSL answers for their own establishments, a trust lead for their
trust and its academies, and anything a user may not see is "not found" (404), so ids of other
schools' data reveal nothing. A page of another role answers 403: it exists, but is not theirs.

Adding a role: a member of ``Role`` (auth/models.py, with a migration if the database enumerates
roles), a row in ``RIGHTS``, and a column in tests/security/test_access_matrix.py.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from surveyapp.audits.models import Response
from surveyapp.auth.models import Role, User
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.establishments.services import establishment_ids_of, trust_ids_led_by
from surveyapp.extensions import db, login_manager
from surveyapp.jobs.models import Job, JobKind


class Capability(enum.StrEnum):
    """What a user may do, in the users' words (templates ask ``may("review returns")``)."""

    USE_SERVICE = "use the service"  #: any signed-in user: their own account, their list of audits
    READ_LA_FIGURES = "read the LA's figures"  #: every cycle, tracker, analysis, template and export
    READ_TRUST_FIGURES = "read a trust's figures"  #: a trust's tracker and analysis (scoped: a trust)
    ANSWER_FOR_ESTABLISHMENT = "answer for an establishment"  #: complete its audit (scoped: a response)
    ANSWER_FOR_TRUST = "answer for a trust"  #: complete a trust's audit for its academies
    MANAGE_CYCLES = "manage cycles"  #: open, launch, extend, close, reopen and archive cycles
    EDIT_TEMPLATES = "edit templates"  #: draft, change and publish audit templates
    REVIEW_RETURNS = "review returns"  #: accept a return, or send it back for amendment
    CHASE_NON_RESPONDERS = "chase non-responders"  #: reminders, their schedule, the outbox
    MANAGE_REGISTER = "manage the register"  #: establishments, trusts, their contacts and imports
    MANAGE_USERS = "manage users"  #: invite, disable and enable users; the two-factor setting
    READ_ACTIVITY_LOG = "read the activity log"  #: who did what, with addresses and failed sign-ins
    MANAGE_LA_ACTION_PLAN = "manage the LA's action plan"  #: the LA's own actions and their updates
    FOLLOW_EVERY_JOB = "follow every send and download"  #: everyone's jobs, not only one's own


C = Capability

#: The rights of each role. A new role is a row here.
RIGHTS: dict[Role, frozenset[Capability]] = {
    Role.LEAD: frozenset(C) - {C.ANSWER_FOR_ESTABLISHMENT, C.ANSWER_FOR_TRUST},
    Role.BOARD: frozenset({C.USE_SERVICE, C.READ_LA_FIGURES, C.READ_TRUST_FIGURES}),
    Role.TRUST_LEAD: frozenset({C.USE_SERVICE, C.READ_TRUST_FIGURES, C.ANSWER_FOR_ESTABLISHMENT, C.ANSWER_FOR_TRUST}),
    Role.DSL: frozenset({C.USE_SERVICE, C.ANSWER_FOR_ESTABLISHMENT}),
}


#: what starting each kind of job needs, and so seeing it: someone who has lost the right no longer sees theirs
JOB_NEEDS: dict[JobKind, Capability] = {
    JobKind.REMINDERS: C.CHASE_NON_RESPONDERS,
    JobKind.WORKBOOK: C.READ_LA_FIGURES,
    JobKind.COMMITTEE_REPORT: C.READ_LA_FIGURES,
    JobKind.ACTIVITY_EXPORT: C.READ_ACTIVITY_LOG,
    JobKind.REGISTER_IMPORT: C.MANAGE_REGISTER,
    JobKind.CONTACTS_IMPORT: C.MANAGE_REGISTER,
}


def has(user: Any, capability: Capability | str) -> bool:
    """Whether the user holds the capability at all (for some object, where it is scoped)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Capability(capability) in RIGHTS.get(user.role, frozenset())


def may(user: Any, capability: Capability | str, obj: object = None) -> bool:
    """Whether the user may do this, to this object where the capability is scoped to one."""
    capability = Capability(capability)
    if not has(user, capability):
        return False
    if obj is None:
        return True
    if isinstance(obj, Response):
        assignment = obj.assignment
        if assignment.establishment_id is not None:
            return may(user, capability, assignment.establishment)
        # A trust's own return is answered for the trust, not for an establishment.
        if capability is C.ANSWER_FOR_ESTABLISHMENT:
            capability = C.ANSWER_FOR_TRUST
        return may(user, capability, assignment.trust)
    if isinstance(obj, Establishment):
        if capability is not C.ANSWER_FOR_ESTABLISHMENT and has(user, C.READ_LA_FIGURES):
            return True
        # Its DSLs and deputies, and the leads of its trust.
        return obj.id in establishment_ids_of(user.id) or (
            obj.trust_id is not None and obj.trust_id in trust_ids_led_by(user.id)
        )
    if isinstance(obj, Trust):
        if capability is C.READ_TRUST_FIGURES and has(user, C.READ_LA_FIGURES):
            return True
        return obj.id in trust_ids_led_by(user.id)
    if isinstance(obj, Job):
        # Whoever started a send, a download or an import follows it, while they may still do that work (an
        # import's page names people and their addresses); so does whoever follows them all.
        if not has(user, JOB_NEEDS[obj.kind]):
            return False
        return obj.started_by_id == user.id or has(user, C.FOLLOW_EVERY_JOB)
    raise TypeError(f"No rule for {capability!r} on {type(obj).__name__}")


def trust_ids_in_scope(user: Any) -> set[int] | None:
    """The trusts whose figures the user reads: None means every trust."""
    if has(user, C.READ_LA_FIGURES):
        return None
    if has(user, C.READ_TRUST_FIGURES):
        return trust_ids_led_by(user.id)
    return set()


def roles_with(capability: Capability) -> list[Role]:
    return [role for role, rights in RIGHTS.items() if capability in rights]


def users_with(capability: Capability) -> list[User]:
    """The enabled users who hold a capability (for example, who to tell about a cycle), oldest first."""
    return list(
        db.session.scalars(
            select(User).where(User.role.in_(roles_with(capability)), User.is_enabled.is_(True)).order_by(User.id)
        )
    )


# --- routes ---------------------------------------------------------------------------------


def _load_response(response_id: int) -> Response | None:
    from surveyapp.audits.services import load_response

    response = load_response(response_id)
    # A draft cycle is not yet visible to schools: its responses are not found.
    if response is None or not response.assignment.cycle.visible_to_respondents:
        return None
    return response


def _load_trust(uid: str) -> Trust | None:
    return db.session.scalar(select(Trust).where(Trust.uid == uid))


def _load_establishment(urn: str) -> Establishment | None:
    from surveyapp.establishments.services import establishment_by_urn

    return establishment_by_urn(urn)


def _load_cycle(slug: str):
    from surveyapp.audits.services import cycle_by_slug

    return cycle_by_slug(slug)


#: what ``requires(..., load=...)`` can load: the URL argument it reads, the keyword it passes, and how
#: it finds the object. Respondents' objects (a response, a trust) are scoped to the user: 404 if not theirs.
_LOADERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "response": ("response_id", _load_response),
    "trust": ("uid", _load_trust),
    "establishment": ("urn", _load_establishment),
    "cycle": ("slug", _load_cycle),
    "job": ("job_id", lambda job_id: db.session.get(Job, job_id)),
}

#: loads whose objects belong to someone: a user who may not act on one is told it does not exist
_SCOPED_LOADS = frozenset({"response", "trust", "job"})


def requires(capability: Capability, load: str | None = None, signed_out: Callable[[], Any] | None = None):
    """Declare the capability a route needs, and optionally load its object from the URL.

    Anonymous visitors are sent to sign in. A user without the capability gets 403 for an
    unscoped page. With ``load``, the object is looked up from its URL argument and passed to the
    view in its place (``response=``, ``trust=``, ``establishment=``, ``cycle=``, ``job=``); it is 404
    when missing or, for a response, trust or job, when the user may not act on that one.
    ``signed_out`` answers a visitor who is not signed in, instead of the sign-in page (a section keeps
    what was typed after the sign-in ended).
    """
    capability = Capability(capability)
    if load is not None and load not in _LOADERS:
        raise ValueError(f"requires() cannot load {load!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return signed_out() if signed_out else login_manager.unauthorized()
            if load is None:
                if not has(current_user, capability):
                    abort(403)
                return view(*args, **kwargs)
            argument, find = _LOADERS[load]
            scoped = load in _SCOPED_LOADS
            if not scoped and not has(current_user, capability):
                abort(403)
            obj = find(kwargs.pop(argument))
            if obj is None or (scoped and not may(current_user, capability, obj)):
                abort(404)
            return view(*args, **{load: obj}, **kwargs)

        wrapped.__dict__["capability"] = capability  # read by the access-matrix test (wrappers copy __dict__)
        return wrapped

    return decorator


def public(view):
    """Declare a route open to everyone, signed in or not (sign-in pages, assets, the start page)."""
    view.capability = None
    view.public = True
    return view


def may_in_template(capability: str, obj: object = None) -> bool:
    """``may(capability, obj)`` in templates, for the signed-in user."""
    return may(current_user, capability, obj)
