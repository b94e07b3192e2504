"""The LA's action plan pages: the lead keeps the plan, board viewers read it."""

from __future__ import annotations

import tempfile

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from surveyapp.audits.models import Cycle
from surveyapp.audits.services import cycle_by_slug
from surveyapp.extensions import db
from surveyapp.la_actions import services
from surveyapp.la_actions.export import write_la_actions
from surveyapp.la_actions.forms import LaActionForm, ProgressUpdateForm
from surveyapp.la_actions.models import PREVENT_OBJECTIVES, LaAction
from surveyapp.policy import Capability as C, may, requires
from surveyapp.timeutil import today

bp = Blueprint("la_actions", __name__, url_prefix="/la-action-plan")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _action(action_id: int) -> LaAction:
    return services.get_action(db.session, action_id) or abort(404)


def _finding_from_args():
    """The cycle and question an action starts from (?cycle=SLUG&question=KEY), or (None, None); 404 if unknown."""
    slug, key = request.values.get("cycle"), request.values.get("question")
    if not slug and not key:
        return None, None
    cycle = cycle_by_slug(slug or "") or abort(404)
    figure = services.question_gaps(db.session, cycle, key or "") or abort(404)
    return cycle, figure


@bp.get("")
@requires(C.READ_LA_FIGURES)
def list_la_actions():
    """Show the LA's action plan, by area, with its counts."""
    on = today()
    return render_template(
        "la_actions/list.html",
        actions=services.list_actions(db.session),
        plan=services.summary(db.session, on),
        on=on,
        overdue_view=False,
        may_edit=may(current_user, C.MANAGE_LA_ACTION_PLAN),
    )


@bp.get("/overdue")
@requires(C.READ_LA_FIGURES)
def list_overdue_la_actions():
    """Show the open actions past their target date."""
    on = today()
    return render_template(
        "la_actions/list.html",
        actions=services.overdue_actions(db.session, on),
        plan=services.summary(db.session, on),
        on=on,
        overdue_view=True,
        may_edit=may(current_user, C.MANAGE_LA_ACTION_PLAN),
    )


@bp.get("/export.xlsx")
@requires(C.READ_LA_FIGURES)
def export_la_actions():
    """Download the LA's action plan as a spreadsheet."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    write_la_actions(db.session, handle, today())
    handle.seek(0)
    return send_file(handle, mimetype=XLSX, as_attachment=True, download_name=f"la-action-plan-{today()}.xlsx")


@bp.get("/findings")
@requires(C.MANAGE_LA_ACTION_PLAN)
def choose_finding():
    """List a cycle's questions with gaps, so an action can start from one of them."""
    cycles = db.session.scalars(select(Cycle).order_by(Cycle.due_on.desc(), Cycle.id.desc())).all()
    slug = request.args.get("cycle") or (cycles[0].slug if cycles else None)
    cycle = (cycle_by_slug(slug) or abort(404)) if slug else None
    findings = services.findings_for_cycle(db.session, cycle) if cycle else []
    return render_template("la_actions/findings.html", cycles=cycles, cycle=cycle, findings=findings)


@bp.route("/new", methods=["GET", "POST"])
@requires(C.MANAGE_LA_ACTION_PLAN)
def add_la_action():
    """Add an action to the plan, optionally from an audit finding."""
    cycle, figure = _finding_from_args()
    form = LaActionForm(areas=services.areas(db.session))
    if request.method == "GET":
        form.rag.data, form.status.data = "amber", "not_started"
        if figure is not None:
            form.measures.data = (
                f"Fewer than {figure.gaps} establishments with this gap in the next cycle" if figure.gaps else ""
            )
    if form.validate_on_submit():
        if services.reference_taken(db.session, form.reference.data):
            form.reference.errors.append("Another action already has this reference")
        else:
            action = services.create_action(
                db.session,
                current_user,
                finding_cycle=cycle,
                finding_question_key=figure.question_key if figure else None,
                **form.values(),
            )
            flash(f"Action {action.reference} has been added.", "success")
            return redirect(url_for("la_actions.show_la_action", action_id=action.id))
    return render_template("la_actions/form.html", form=form, action=None, figure=figure, conflict=None)


@bp.get("/<int:action_id>")
@requires(C.READ_LA_FIGURES)
def show_la_action(action_id: int):
    """Show one action, its progress updates and the finding it started from."""
    action = _action(action_id)
    form = ProgressUpdateForm()
    form.written_on.data = today()
    return render_template(
        "la_actions/show.html",
        action=action,
        finding=services.finding_for(db.session, action),
        form=form,
        on=today(),
        objectives=PREVENT_OBJECTIVES,
        may_edit=may(current_user, C.MANAGE_LA_ACTION_PLAN),
    )


@bp.route("/<int:action_id>/edit", methods=["GET", "POST"])
@requires(C.MANAGE_LA_ACTION_PLAN)
def edit_la_action(action_id: int):
    """Change an action; a save made on an older version is refused with both versions on screen."""
    action = _action(action_id)
    form = LaActionForm(areas=services.areas(db.session))
    if request.method == "GET":
        form.fill_from(action)
    conflict = None
    if form.validate_on_submit():
        try:
            services.update_action(
                db.session, action, expected_version=int(form.version.data or 0), user=current_user, **form.values()
            )
        except services.StaleLaAction as exc:
            db.session.rollback()
            conflict = _latest(exc.current.id)
            form.version.data = str(conflict.version)  # saving again is a deliberate choice over their version
        except services.DuplicateReference:
            db.session.rollback()
            form.reference.errors.append("Another action already has this reference")
        else:
            flash(f"Action {action.reference} has been saved.", "success")
            return redirect(url_for("la_actions.show_la_action", action_id=action.id))
    page = render_template("la_actions/form.html", form=form, action=action, figure=None, conflict=conflict)
    return page, 409 if conflict else 200


def _latest(action_id: int) -> LaAction:
    return db.session.get(LaAction, action_id)


@bp.post("/<int:action_id>/updates")
@requires(C.MANAGE_LA_ACTION_PLAN)
def add_la_action_update(action_id: int):
    """Add a dated progress update to an action."""
    action = _action(action_id)
    form = ProgressUpdateForm()
    if form.validate_on_submit():
        services.add_update(db.session, action, current_user, written_on=form.written_on.data, text=form.text.data)
        flash("The progress update has been added.", "success")
        return redirect(url_for("la_actions.show_la_action", action_id=action.id) + "#updates")
    page = render_template(
        "la_actions/show.html",
        action=action,
        finding=services.finding_for(db.session, action),
        form=form,
        on=today(),
        objectives=PREVENT_OBJECTIVES,
        may_edit=True,
    )
    return page
