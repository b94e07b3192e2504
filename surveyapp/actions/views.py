"""Action plans: a DSL updates their establishment's plan; the lead and board see overdue actions.

The board workbook and the CSVs of a cycle are downloaded from surveyapp/exports/views.py."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from surveyapp.actions import services
from surveyapp.actions.forms import ActionItemForm
from surveyapp.actions.models import ActionItem, rag
from surveyapp.audits.services import cycle_by_slug
from surveyapp.extensions import db
from surveyapp.numbers import page_number, whole_number
from surveyapp.policy import Capability as C, requires

bp = Blueprint("actions", __name__)


def _form_for(item: ActionItem, formdata=None) -> ActionItemForm:
    form = ActionItemForm(
        formdata=formdata, prefix=f"item{item.id}", obj=None if formdata else item, meta={"csrf": False}
    )
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
@requires(C.ANSWER_FOR_ESTABLISHMENT, load="response")
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
                services.update_action(
                    item,
                    expected_version=_version(form.version.data),
                    user=current_user,
                    action=form.action.data,
                    owner=form.owner.data or "",
                    target_date=form.target_date.data,
                    status=form.status.data,
                    notes=form.notes.data or "",
                )
            except services.StaleAction as exc:
                db.session.rollback()
                conflict = {"item_id": item.id, "current": exc.current, "yours": form}
                item = db.session.get(ActionItem, item.id)
                forms[item.id] = _form_for(item)
            else:
                flash("The action has been saved.", "success")
                return redirect(url_for("actions.edit_action_plan", response_id=response.id) + f"#action-{item.id}")
    page = render_template(
        "actions/plan.html", response=response, plan=plan, forms=forms, conflict=conflict, on=services.today(), rag=rag
    )
    return page, 409 if conflict else 200


@bp.get("/cycles/<slug>/actions")
@requires(C.READ_LA_FIGURES)
def list_actions(slug: str):
    """List the cycle's actions across every establishment, a page at a time; ?overdue=1 for those past their date."""
    cycle = cycle_by_slug(slug) or abort(404)
    overdue = request.args.get("overdue") == "1"
    listed = services.cycle_actions(cycle, overdue_only=overdue, page=page_number(request.args.get("page")))
    questions = {q.key: q for q in cycle.template.questions}

    def page_link(number: int) -> str:
        return url_for("actions.list_actions", slug=slug, overdue=1 if overdue else None, page=number)

    return render_template(
        "actions/list.html",
        cycle=cycle,
        listed=listed,
        overdue=overdue,
        questions=questions,
        on=services.today(),
        rag=rag,
        page_link=page_link,
    )
