"""A cycle over time, for the lead: launch a draft, close, extend, reopen and archive.

Also the page a respondent sees when they try to change something in a cycle that is no longer open.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from surveyapp.audits import lifecycle, services
from surveyapp.audits.cycle_forms import CloseCycleForm, ConfirmForm, ExtendCycleForm, ReopenCycleForm
from surveyapp.audits.lifecycle import CycleClosed
from surveyapp.auth.models import User
from surveyapp.establishments.models import Establishment
from surveyapp.extensions import db
from surveyapp.policy import Capability as C, may, requires, users_with

bp = Blueprint("cycles", __name__, url_prefix="/cycles")

#: form fields that carry no answer (tokens, versions, buttons)
_NOT_TYPED = {"csrf_token", "version", "then", "submit", "kept"}


def _cycle_or_404(slug: str):
    return services.cycle_by_slug(slug) or abort(404)


@bp.route("/<slug>/close", methods=["GET", "POST"])
@requires(C.MANAGE_CYCLES)
def close_cycle(slug: str):
    """Close an open cycle, after showing what is unfinished and which extensions still run."""
    cycle = _cycle_or_404(slug)
    form = CloseCycleForm()
    if form.validate_on_submit():
        return _move(
            cycle,
            lambda: lifecycle.close(cycle, current_user, form.reason.data or ""),
            "{name} is closed. Schools can read their returns but no longer change them.",
        )
    return render_template("manage/close_cycle.html", cycle=cycle, form=form, summary=lifecycle.close_summary(cycle))


@bp.route("/<slug>/reopen", methods=["GET", "POST"])
@requires(C.MANAGE_CYCLES)
def reopen_cycle(slug: str):
    """Reopen a closed or archived cycle, with a reason."""
    cycle = _cycle_or_404(slug)
    form = ReopenCycleForm()
    if form.validate_on_submit():
        return _move(
            cycle,
            lambda: lifecycle.reopen(cycle, current_user, form.reason.data),
            "{name} is open again. Schools can change and submit their returns.",
        )
    return render_template("manage/reopen_cycle.html", cycle=cycle, form=form)


@bp.route("/<slug>/extend", methods=["GET", "POST"])
@requires(C.MANAGE_CYCLES)
def extend_cycle(slug: str):
    """Move the cycle's due date, or agree an extension with one establishment."""
    cycle = _cycle_or_404(slug)
    form = ExtendCycleForm()
    if request.method == "GET":
        form.due_on.data = cycle.due_on
        form.urn.data = request.args.get("urn", "")[:20]
    if form.validate_on_submit():
        establishment = None
        if form.urn.data:
            establishment = db.session.scalar(select(Establishment).where(Establishment.urn == form.urn.data.strip()))
            if establishment is None:
                form.urn.errors.append(f"There is no establishment with URN {form.urn.data.strip()} in the register")
        if not form.errors:
            try:
                lifecycle.extend(cycle, form.due_on.data, current_user, establishment)
            except lifecycle.LifecycleError as exc:
                db.session.rollback()
                (form.urn if establishment else form.due_on).errors.append(str(exc))
            else:
                flash(_extended_message(cycle, form.due_on.data, establishment), "success")
                return redirect(url_for("manage.show_cycle", slug=slug))
    return render_template(
        "manage/extend_cycle.html", cycle=cycle, form=form, extensions=lifecycle.running_extensions(cycle)
    )


def _extended_message(cycle, due_on, establishment) -> str:
    if establishment is None:
        return f"{cycle.name} is now due on {due_on:%-d %B %Y}."
    if due_on > cycle.due_on:
        return f"{establishment.name} has an extension to {due_on:%-d %B %Y}."
    return f"{establishment.name} no longer has an extension: its return is due with everyone else’s."


@bp.post("/<slug>/launch")
@requires(C.MANAGE_CYCLES)
def launch_cycle(slug: str):
    """Open a draft cycle to its establishments."""
    return _simple_move(slug, lifecycle.launch, "{name} is open: its establishments can now see and complete it.")


@bp.post("/<slug>/archive")
@requires(C.MANAGE_CYCLES)
def archive_cycle(slug: str):
    """Archive a closed cycle."""
    return _simple_move(slug, lifecycle.archive, "{name} is archived. Its returns and figures stay readable.")


def _simple_move(slug: str, move, message: str):
    cycle = _cycle_or_404(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _move(cycle, lambda: move(cycle, current_user), message)


def _move(cycle, move, message: str):
    """Make a lifecycle move and go back to the cycle's page; a move the cycle's state refuses is said, not made.

    :param move: makes the move (a lifecycle function given its arguments)
    :param message: what to say when it is made; ``{name}`` is the cycle's name
    """
    try:
        move()
    except lifecycle.LifecycleError as exc:
        db.session.rollback()
        flash(str(exc), "info")
    else:
        flash(message.format(name=cycle.name), "success")
    return redirect(url_for("manage.show_cycle", slug=cycle.slug))


@bp.app_errorhandler(CycleClosed)
def cycle_closed(error: CycleClosed):
    """Tell a respondent the cycle is not open, whom to contact, and give back what they typed."""
    db.session.rollback()
    cycle = error.cycle
    return render_template("audits/closed.html", cycle=cycle, contacts=_contacts(cycle), typed=_typed(cycle)), 409


def _contacts(cycle) -> list[User]:
    """Whom a school should contact: the lead who set the cycle up, or else every active lead."""
    if cycle.created_by_id:
        creator = db.session.get(User, cycle.created_by_id)
        if creator is not None and may(creator, C.MANAGE_CYCLES) and creator.is_active:
            return [creator]
    return users_with(C.MANAGE_CYCLES)


def _typed(cycle) -> list[tuple[str, str]]:
    """What the person posted, labelled with the question it answers where there is one,
    so nothing they typed is lost: they can copy it, or wait until the lead reopens the cycle."""
    if request.method != "POST":
        return []
    form = request.form
    labels = {q.key: q.text for q in cycle.template.questions}
    typed = []
    for name in form:
        if name in _NOT_TYPED:
            continue
        value = " ".join(v.strip() for v in form.getlist(name) if v.strip())
        if not value:
            continue
        key, _, part = name.partition("__")
        base = key.rsplit("-", 1)[0] if key not in labels else key
        label = labels.get(base, name.replace("_", " "))
        if part or base != key:
            label = f"{label} ({(part or key.rsplit('-', 1)[1]).replace('_', ' ').replace('-', ' ')})"
        typed.append((label, value))
    return typed
