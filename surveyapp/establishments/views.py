"""The lead's register of establishments and trusts, and the web imports.

An import is three steps: upload (the file is checked; if it is good it is kept
under a random token in the instance folder), preview (what would change) and
confirm (the file is checked again against the register as it is now, applied,
committed, and deleted). Only the user who uploaded a file may preview or
confirm it.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from surveyapp.auth.permissions import lead_required
from surveyapp.csvfiles import ImportFailed
from surveyapp.establishments import importer, services
from surveyapp.establishments.signals import consequences_of_register_import, preview_register_import
from surveyapp.extensions import db
from surveyapp.forms.establishments import ConfirmContactsForm, ConfirmImportForm, RegisterFilterForm, UploadCsvForm

bp = Blueprint("establishments", __name__, url_prefix="/establishments")

#: what each kind of import is called, and how it reads a file
IMPORTS = {
    "establishments": {"title": "Import establishments (GIAS extract)", "plan": importer.plan_establishments},
    "contacts": {"title": "Import contacts", "plan": importer.plan_contacts},
}


def upload_folder() -> Path:
    return Path(current_app.instance_path) / "uploads"


def page_numbers(page: int, pages: int) -> list[int | None]:
    """The page links to show: the first, the last and two either side of the current one (None is a gap)."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    result: list[int | None] = []
    for number in shown:
        if result and number - result[-1] > 1:
            result.append(None)
        result.append(number)
    return result


# --- the register ---------------------------------------------------------------------------


@bp.get("/")
@lead_required
def list_establishments():
    """List the register, searched by name or URN and filtered by phase and status."""
    form = RegisterFilterForm(request.args, phases=services.phases_in_register())
    page = services.search_register(form.q.data or "", form.phase.data or "", form.status.data or "",
                                    page=request.args.get("page", 1, type=int))
    return render_template("establishments/list.html", form=form, register=page,
                           page_numbers=page_numbers(page.page, page.pages))


@bp.get("/<urn>")
@lead_required
def show_establishment(urn: str):
    """Show an establishment: its details, its trust and its contacts."""
    establishment = services.establishment_by_urn(urn) or abort(404)
    return render_template("establishments/show.html", establishment=establishment)


@bp.get("/trusts/<uid>")
@lead_required
def show_trust(uid: str):
    """Show a trust: its academies and its safeguarding leads."""
    trust = services.trust_by_uid(uid) or abort(404)
    counts = services.contact_counts([academy.id for academy in trust.academies])
    return render_template("establishments/trust.html", trust=trust, counts=counts)


# --- imports ------------------------------------------------------------------------------


def _upload(kind: str):
    form = UploadCsvForm()
    problems = []
    if form.validate_on_submit():
        data = form.file.data.read()
        try:
            IMPORTS[kind]["plan"](data)
        except ImportFailed as exc:
            problems = exc.problems
            form.file.errors.append("The file cannot be imported: fix the problems listed and upload it again")
        else:
            token = services.store_upload(upload_folder(), kind=kind, owner_id=current_user.id,
                                          filename=form.file.data.filename or "", data=data)
            return redirect(url_for(f".preview_{kind}", token=token))
    return render_template("establishments/upload.html", form=form, problems=problems, kind=kind,
                           title=IMPORTS[kind]["title"])


def _checked(kind: str, token: str):
    """The user's kept upload and its plan, checked again now (the register may have changed since).

    Returns ``(upload, plan, None)``, or ``(upload, None, page)`` where the page says why it no longer imports.
    """
    try:
        upload = services.load_upload(upload_folder(), token, kind=kind, owner_id=current_user.id)
    except services.UploadNotFound:
        abort(404)
    try:
        return upload, IMPORTS[kind]["plan"](upload.data), None
    except ImportFailed as exc:
        services.discard_upload(upload_folder(), token)
        form = UploadCsvForm(formdata=None)
        form.file.errors = ["The file cannot be imported now: fix the problems listed and upload it again"]
        return upload, None, render_template("establishments/upload.html", form=form, problems=exc.problems,
                                             kind=kind, title=IMPORTS[kind]["title"])


@bp.route("/import/establishments", methods=["GET", "POST"])
@lead_required
def upload_establishments():
    """Upload a GIAS establishment extract to check it."""
    return _upload("establishments")


@bp.get("/import/establishments/<token>")
@lead_required
def preview_establishments(token: str):
    """Show what importing the uploaded GIAS extract would change."""
    upload, plan, refused = _checked("establishments", token)
    if refused:
        return refused
    # What the import would change in running audit cycles: worked out by the same code as the real
    # import, in a savepoint that is rolled back.
    in_cycles = preview_register_import(
        lambda: importer.apply_establishments(plan, actor=None, filename=upload.filename))
    return render_template("establishments/preview_establishments.html", plan=plan, upload=upload,
                           form=ConfirmImportForm(), sample=importer.SAMPLE_SIZE, in_cycles=in_cycles)


@bp.post("/import/establishments/<token>")
@lead_required
def confirm_establishments(token: str):
    """Import the uploaded GIAS extract, checking it again first."""
    upload, plan, refused = _checked("establishments", token)
    if refused:
        return refused
    importer.apply_establishments(plan, actor=current_user, filename=upload.filename)
    in_cycles = consequences_of_register_import(current_user)
    db.session.commit()
    services.discard_upload(upload_folder(), token)
    flash(f"Establishments imported: {plan.summary()}." + "".join(f" {change.summary()}." for change in in_cycles),
          "success")
    return redirect(url_for(".list_establishments"))


@bp.route("/import/contacts", methods=["GET", "POST"])
@lead_required
def upload_contacts():
    """Upload a contacts file to check it."""
    return _upload("contacts")


@bp.get("/import/contacts/<token>")
@lead_required
def preview_contacts(token: str):
    """Show what importing the uploaded contacts would change."""
    upload, plan, refused = _checked("contacts", token)
    if refused:
        return refused
    return render_template("establishments/preview_contacts.html", plan=plan, upload=upload,
                           form=ConfirmContactsForm(), sample=importer.SAMPLE_SIZE)


@bp.post("/import/contacts/<token>")
@lead_required
def confirm_contacts(token: str):
    """Import the uploaded contacts, checking them again first; invite them if asked."""
    form = ConfirmContactsForm()
    upload, plan, refused = _checked("contacts", token)
    if refused:
        return refused
    result = importer.apply_contacts(plan, actor=current_user, filename=upload.filename)
    db.session.commit()
    services.discard_upload(upload_folder(), token)
    flash(f"Contacts imported: {plan.summary()}.", "success")
    if form.invite.data:
        report = importer.send_invitations(result.to_invite, invited_by=current_user.display_name,
                                           commit=db.session.commit, actor=current_user)
        flash(f"Invitations sent: {len(report.sent)}.", "success")
        if report.failed:
            flash("The contacts were imported, but invitations could not be sent to: "
                  + "; ".join(f"{email} ({reason})" for email, reason in report.failed), "error")
    return redirect(url_for(".list_establishments"))
