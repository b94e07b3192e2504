"""Action plans: a DSL updates their establishment's plan; the lead and board see overdue actions."""
from __future__ import annotations

import io
import tempfile
from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from surveyapp.actions import services
from surveyapp.actions.models import ActionItem, rag
from surveyapp.audits.access import respondent_response
from surveyapp.audits.services import cycle_by_slug
from surveyapp.auth.models import Role
from surveyapp.exports.csvfiles import write_gaps_csv, write_responses_csv
from surveyapp.exports.workbook import write_workbook
from surveyapp.extensions import db
from surveyapp.forms.actions import ActionItemForm
from surveyapp.numbers import whole_number

bp = Blueprint("actions", __name__)


def readers_required(view):
    """The lead and board viewers; a trust lead is told the page does not exist (404), anyone else 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role is Role.TRUST_LEAD:
            abort(404)
        if current_user.role not in (Role.LEAD, Role.BOARD):
            abort(403)
        return view(*args, **kwargs)

    return wrapped

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _form_for(item: ActionItem, formdata=None) -> ActionItemForm:
    form = ActionItemForm(formdata=formdata, prefix=f"item{item.id}", obj=None if formdata else item,
                          meta={"csrf": False})
    if formdata is None:
        form.item_id.data = str(item.id)
        form.version.data = str(item.version)
        form.status.data = item.status.value
    return form


def _version(value) -> int:
    """The version the page was opened at; a forged one is stale (never matches), not a server error."""
    number = whole_number(value)
    return -1 if number is None else number


@bp.route("/audits/<int:response_id>/action-plan", methods=["GET", "POST"])
@login_required
@respondent_response
def edit_action_plan(response):
    """Show the establishment's action plan and save changes to one action at a time."""
    assignment = response.assignment
    if assignment.establishment_id is None:
        abort(404)  # a trust's own response has no plan: each academy's plan is on its own audit
    plan = services.plan_for(assignment.cycle, assignment.establishment_id)
    forms = {row.item.id: _form_for(row.item) for row in plan}
    conflict = None
    if request.method == "POST":
        item = next((row.item for row in plan if str(row.item.id) == request.form.get("item_id")), None) or abort(404)
        form = forms[item.id] = _form_for(item, request.form)
        if form.validate():
            try:
                services.update_action(item, expected_version=_version(form.version.data), user=current_user,
                                       action=form.action.data, owner=form.owner.data or "",
                                       target_date=form.target_date.data, status=form.status.data,
                                       notes=form.notes.data or "")
            except services.StaleAction as exc:
                db.session.rollback()
                conflict = {"item_id": item.id, "current": exc.current, "yours": form}
                item = db.session.get(ActionItem, item.id)
                forms[item.id] = _form_for(item)
            else:
                db.session.commit()
                flash("The action has been saved.", "success")
                return redirect(url_for("actions.edit_action_plan", response_id=response.id) + f"#action-{item.id}")
    page = render_template("actions/plan.html", response=response, plan=plan, forms=forms, conflict=conflict,
                           on=services.today(), rag=rag)
    return page, 409 if conflict else 200


@bp.get("/cycles/<slug>/actions")
@readers_required
def list_actions(slug: str):
    """List the cycle's actions across every establishment; ?overdue=1 for those past their date."""
    cycle = cycle_by_slug(slug) or abort(404)
    overdue = request.args.get("overdue") == "1"
    rows = services.overdue_actions(cycle, overdue_only=overdue)
    questions = {q.key: q for q in cycle.template.questions}
    return render_template("actions/list.html", cycle=cycle, rows=rows, overdue=overdue, questions=questions,
                           on=services.today(), rag=rag)


# --- downloads: the board workbook and CSVs (written to a temporary file, then streamed) ---------


def _download(slug: str, suffix: str, mimetype: str, write):
    cycle = cycle_by_slug(slug) or abort(404)
    handle = tempfile.TemporaryFile(suffix=suffix)
    write(cycle, handle)
    handle.seek(0)
    return send_file(handle, mimetype=mimetype, as_attachment=True, download_name=f"safeguarding-audit-{cycle.slug}{suffix}")


@bp.get("/cycles/<slug>/workbook.xlsx")
@readers_required
def download_workbook(slug: str):
    """Download the cycle's board workbook."""
    return _download(slug, ".xlsx", XLSX, lambda cycle, handle: write_workbook(db.session, cycle, handle))


@bp.get("/cycles/<slug>/responses.csv")
@readers_required
def download_responses_csv(slug: str):
    """Download every establishment's answers as CSV."""
    return _download(slug, "-responses.csv", "text/csv", lambda cycle, handle: _csv(write_responses_csv, cycle, handle))


@bp.get("/cycles/<slug>/gaps.csv")
@readers_required
def download_gaps_csv(slug: str):
    """Download the gap list as CSV."""
    return _download(slug, "-gaps.csv", "text/csv", lambda cycle, handle: _csv(write_gaps_csv, cycle, handle))


def _csv(writer, cycle, handle) -> None:
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    writer(db.session, cycle, text)
    text.flush()
    text.detach()
