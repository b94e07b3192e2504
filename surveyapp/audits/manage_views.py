"""The lead's side of audits: templates, cycles and reviewing returns. Board viewers read only."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from surveyapp import mail
from surveyapp.audits import printable, services
from surveyapp.audits.manage_forms import OpenCycleForm, ReturnForm
from surveyapp.audits.models import AuditTemplate, IllegalStatusChange, ResponseStatus
from surveyapp.audits.services import load_response
from surveyapp.establishments.models import Establishment
from surveyapp.extensions import db
from surveyapp.numbers import page_number
from surveyapp.policy import Capability as C, may, requires
from surveyapp.transaction import commit_now

bp = Blueprint("manage", __name__)


@bp.get("/cycles")
@requires(C.READ_LA_FIGURES)
def list_cycles():
    """List the cycles with their completion."""
    return render_template("manage/cycles.html", cycles=services.list_cycles_with_counts())


@bp.route("/cycles/new", methods=["GET", "POST"])
@requires(C.MANAGE_CYCLES)
def open_cycle():
    """Open a new cycle for the establishments in scope."""
    templates = db.session.scalars(
        select(AuditTemplate).order_by(AuditTemplate.key, AuditTemplate.version.desc())
    ).all()
    types = db.session.scalars(
        select(Establishment.type_name)
        .where(Establishment.type_name != "")
        .distinct()
        .order_by(Establishment.type_name)
    ).all()
    phases = db.session.scalars(
        select(Establishment.phase).where(Establishment.phase != "").distinct().order_by(Establishment.phase)
    ).all()
    form = OpenCycleForm(templates=templates, types=types, phases=phases)
    if form.validate_on_submit():
        template = db.session.get(AuditTemplate, int(form.template.data))
        try:
            cycle = services.open_cycle(
                slug=form.slug.data,
                name=form.name.data,
                template=template,
                due_on=form.due_on.data,
                types=form.types.data,
                phases=form.phases.data,
                actor=current_user,
                draft=form.draft.data,
            )
        except services.CycleError as exc:
            db.session.rollback()
            form.slug.errors.append(str(exc))
        else:
            count = services.status_counts(cycle)["in_scope"]
            flash(
                f"{cycle.name} is a draft for {count} establishments: open it to them when it is ready."
                if form.draft.data
                else f"{cycle.name} is open for {count} establishments.",
                "success",
            )
            return redirect(url_for("manage.show_cycle", slug=cycle.slug))
    return render_template("manage/open_cycle.html", form=form)


def _cycle_or_404(slug: str):
    return services.cycle_by_slug(slug) or abort(404)


@bp.get("/cycles/<slug>/")
@requires(C.READ_LA_FIGURES)
def show_cycle(slug: str):
    """Show a cycle's establishments and where each stands."""
    cycle = _cycle_or_404(slug)
    status = request.args.get("status") or None
    if status and status not in {s.value for s in ResponseStatus}:
        abort(404)
    page = page_number(request.args.get("page"))
    rows, total = services.cycle_rows(cycle, status=status, page=page)
    return render_template(
        "manage/cycle.html",
        cycle=cycle,
        counts=services.status_counts(cycle),
        rows=rows,
        total=total,
        page=page,
        status=status,
        sections=len(cycle.template.sections),
    )


def _cycle_response_or_404(slug: str, response_id: int):
    cycle = _cycle_or_404(slug)
    response = load_response(response_id)
    if response is None or response.assignment.cycle_id != cycle.id:
        abort(404)
    return cycle, response


@bp.get("/cycles/<slug>/responses/<int:response_id>")
@requires(C.READ_LA_FIGURES)
def show_response(slug: str, response_id: int):
    """Read a response, with its history, and (for the lead) accept or return it."""
    cycle, response = _cycle_response_or_404(slug, response_id)
    trust_response = services.covering_trust_response(response)
    return render_template(
        "manage/response.html",
        cycle=cycle,
        response=response,
        groups=services.effective_answers(response, trust_response),
        trust=trust_response.assignment.trust if trust_response else None,
        previous=services.previous_answers(response),
        form=ReturnForm(),
    )


@bp.get("/cycles/<slug>/responses/<int:response_id>/return.pdf")
@requires(C.READ_LA_FIGURES)
def download_response_pdf(slug: str, response_id: int):
    """Download a returned audit as a PDF for the LA's file."""
    _cycle, response = _cycle_response_or_404(slug, response_id)
    return printable.return_pdf(response)


@bp.post("/cycles/<slug>/responses/<int:response_id>/return")
@requires(C.REVIEW_RETURNS)
def return_response(slug: str, response_id: int):
    """Return a submitted response to its DSL for amendment, with a comment."""
    cycle, response = _cycle_response_or_404(slug, response_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        flash("Say what needs to change before returning the audit.", "info")
        return redirect(url_for("manage.show_response", slug=slug, response_id=response.id))
    try:
        services.return_for_amendment(response, form.comment.data, current_user, seen=_seen_status())
    except IllegalStatusChange as exc:
        db.session.rollback()
        flash(str(exc), "info")
        return redirect(url_for("manage.show_response", slug=slug, response_id=response.id))
    commit_now()  # before the emails: they cannot be taken back
    failures = _tell_respondents(response, form.comment.data)
    flash(
        f"{response.assignment.respondent_name}’s audit has been returned for amendment."
        + (f" The email to {', '.join(failures)} could not be sent." if failures else ""),
        "success",
    )
    return redirect(url_for("manage.show_cycle", slug=slug))


@bp.post("/cycles/<slug>/responses/<int:response_id>/accept")
@requires(C.REVIEW_RETURNS)
def accept_response(slug: str, response_id: int):
    """Accept a submitted response."""
    cycle, response = _cycle_response_or_404(slug, response_id)
    try:
        services.accept(response, current_user, seen=_seen_status())
    except IllegalStatusChange as exc:
        db.session.rollback()
        flash(str(exc), "info")
    else:
        flash(f"{response.assignment.respondent_name}’s audit has been accepted.", "success")
    return redirect(url_for("manage.show_cycle", slug=slug))


def _seen_status() -> ResponseStatus | None:
    """The status the lead's page showed when they pressed the button (None from an older page)."""
    try:
        return ResponseStatus(request.form.get("seen", ""))
    except ValueError:
        return None


def _tell_respondents(response, comment: str) -> list[str]:
    """Email the people who complete this response; return the addresses that failed."""
    assignment = response.assignment
    if assignment.establishment_id:
        people = [c.user for c in assignment.establishment.contacts]
    else:
        people = [c.user for c in assignment.trust.contacts]
    settings = mail.MailSettings.from_config(current_app.config)
    link = current_app.config["BASE_URL"] + url_for("audits.show_task_list", response_id=response.id)
    failed = []
    for person in people:
        body = (
            f"Dear {person.display_name},\n\nYour local authority has returned the {assignment.cycle.name} for "
            f"{assignment.respondent_name} for you to change.\n\nTheir comment:\n{comment}\n\n"
            f"Sign in to make the changes and submit it again:\n{link}\n"
        )
        try:
            mail.send(
                settings, person.email, f"Your safeguarding audit has been returned: {assignment.respondent_name}", body
            )
        except mail.MailError:
            failed.append(person.email)
    return failed


@bp.get("/templates")
@requires(C.READ_LA_FIGURES)
def list_templates():
    """List the audit templates and their versions."""
    from surveyapp.audits.models import TemplateDraft

    templates = db.session.scalars(
        select(AuditTemplate).order_by(AuditTemplate.key, AuditTemplate.version.desc())
    ).all()
    drafts = {draft.key: draft for draft in db.session.scalars(select(TemplateDraft))}
    return render_template(
        "manage/templates.html", templates=templates, drafts=drafts, may_edit=may(current_user, C.EDIT_TEMPLATES)
    )


@bp.get("/templates/<int:template_id>")
@requires(C.READ_LA_FIGURES)
def show_template(template_id: int):
    """Show a template's sections and questions with their gap rules."""
    template = db.session.get(AuditTemplate, template_id) or abort(404)
    return render_template("manage/template.html", template=template)
