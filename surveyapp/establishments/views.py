"""The lead's register of establishments and trusts, and the web imports.

An import is three steps: upload (the file is read and checked once; if it is
good, it and its plan, what importing it would do, are kept in the database
under a random token, with a fingerprint of the register the plan was made
against), preview (the kept plan is shown) and confirm (a job is started that
applies the kept plan and deletes it, without reading the file again: see
establishments/jobs.py; the lead is taken to the job's page). If the register
has changed since the plan was made, the kept file is checked again against
the register as it is now: the preview shows the new plan, and a confirmation
shows it too, to be confirmed again, rather than applying changes the lead has
not seen; the job checks once more before it writes. Only the user who
uploaded a file may preview or confirm it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from surveyapp.csvfiles import ImportFailed
from surveyapp.establishments import importer, jobs as import_jobs, services
from surveyapp.establishments.forms import ConfirmContactsForm, ConfirmImportForm, RegisterFilterForm, UploadCsvForm
from surveyapp.establishments.signals import preview_register_import
from surveyapp.jobs import runner, services as jobs
from surveyapp.jobs.models import JobKind
from surveyapp.numbers import page_number
from surveyapp.policy import Capability as C, requires

bp = Blueprint("establishments", __name__, url_prefix="/establishments")


# --- the register ---------------------------------------------------------------------------


@bp.get("/")
@requires(C.MANAGE_REGISTER)
def list_establishments():
    """List the register, searched by name or URN and filtered by phase and status."""
    form = RegisterFilterForm(request.args, phases=services.phases_in_register())
    page = services.search_register(
        form.q.data or "", form.phase.data or "", form.status.data or "", page=page_number(request.args.get("page"))
    )
    return render_template("establishments/list.html", form=form, register=page)


@bp.get("/<urn>")
@requires(C.MANAGE_REGISTER)
def show_establishment(urn: str):
    """Show an establishment: its details, its trust and its contacts."""
    establishment = services.establishment_by_urn(urn) or abort(404)
    return render_template("establishments/show.html", establishment=establishment)


@bp.get("/trusts/<uid>")
@requires(C.MANAGE_REGISTER)
def show_trust(uid: str):
    """Show a trust: its academies and its safeguarding leads."""
    trust = services.trust_by_uid(uid) or abort(404)
    counts = services.contact_counts([academy.id for academy in trust.academies])
    return render_template("establishments/trust.html", trust=trust, counts=counts)


@bp.post("/<urn>/contacts/<int:user_id>/remove")
@requires(C.MANAGE_REGISTER)
def remove_establishment_contact(urn: str, user_id: int):
    """Remove a person from an establishment: they no longer see it."""
    establishment = services.establishment_by_urn(urn) or abort(404)
    return _remove_contact(user_id, url_for("establishments.show_establishment", urn=urn), establishment=establishment)


@bp.post("/trusts/<uid>/contacts/<int:user_id>/remove")
@requires(C.MANAGE_REGISTER)
def remove_trust_contact(uid: str, user_id: int):
    """Remove a person from a trust: they no longer see it or its academies."""
    trust = services.trust_by_uid(uid) or abort(404)
    return _remove_contact(user_id, url_for("establishments.show_trust", uid=uid), trust=trust)


def _remove_contact(user_id: int, back: str, *, establishment=None, trust=None):
    """Remove a person from an establishment or a trust (404 if they are not linked to it), then go ``back``."""
    user = services.remove_contact(user_id, current_user, establishment=establishment, trust=trust) or abort(404)
    flash(f"{user.display_name} ({user.email}) has been removed from {(establishment or trust).name}.", "success")
    return redirect(back)


# --- imports ------------------------------------------------------------------------------
#
# The two imports share their steps; what differs (how a file is read, what the preview adds, the job that
# applies it, the rows its preview shows) is named once per kind in IMPORTS below.


def _sync_option(values) -> dict:
    """Contacts: whether the import makes the links match the file (removing links it does not have)."""
    return {"sync": values.get("sync") == "1"}


def _preview_establishments(upload, plan) -> dict:
    # What the import would change in running audit cycles: worked out by the same code as the real
    # import, in a savepoint that is rolled back.
    return {
        "in_cycles": preview_register_import(
            lambda: importer.apply_establishments(plan, actor=None, filename=upload.filename)
        )
    }


def _establishments_to_import(plan) -> tuple[int, str]:
    total = len(plan.new) + len(plan.updated)
    return total, f"Waiting to import {total:,} establishment{'s' if total != 1 else ''}"


def _contacts_to_import(plan) -> tuple[int, str]:
    total = len(plan.records)
    return total, f"Waiting to import {total:,} contact{'s' if total != 1 else ''}"


def _nothing(*args) -> dict:
    return {}


@dataclass(frozen=True)
class ImportKind:
    """One kind of web import: how its file is read, previewed and applied."""

    name: str  #: in the URL, and what the kept upload is filed under
    title: str  #: the upload page's heading
    plan: Callable  #: reads and checks a file: (data, **options) -> plan, raising ImportFailed
    load_plan: Callable[[bytes], object]  #: a kept plan (importer.dump_plan) read back
    version: Callable[[], str]  #: a fingerprint of what a plan is made against; a plan made at another is stale
    job: JobKind  #: the job that applies a confirmed plan (establishments/jobs.py)
    to_import: Callable[..., tuple[int, str]]  #: (plan) -> (how many rows it writes, the waiting job's words)
    confirm_form: type[ConfirmImportForm]
    partial: str  #: the template of the preview's own rows (see preview_import.html)
    options: Callable[[Mapping[str, str]], dict] = (
        _nothing  #: the plan's options, from the preview's query or the confirm form
    )
    preview: Callable[..., dict] = _nothing  #: (upload, plan) -> what else the preview page shows


IMPORTS = {
    kind.name: kind
    for kind in (
        ImportKind(
            name="establishments",
            title="Import establishments (GIAS extract)",
            plan=importer.plan_establishments,
            load_plan=importer.load_establishments_plan,
            version=importer.register_version,
            preview=_preview_establishments,
            job=JobKind.REGISTER_IMPORT,
            to_import=_establishments_to_import,
            confirm_form=ConfirmImportForm,
            partial="establishments/_preview_establishments.html",
        ),
        ImportKind(
            name="contacts",
            title="Import contacts",
            plan=importer.plan_contacts,
            load_plan=importer.load_contacts_plan,
            version=importer.contacts_version,
            options=_sync_option,
            job=JobKind.CONTACTS_IMPORT,
            to_import=_contacts_to_import,
            confirm_form=ConfirmContactsForm,
            partial="establishments/_preview_contacts.html",
        ),
    )
}

#: the URL part that names an import: only the kinds above route
_KIND = "<any(" + ", ".join(IMPORTS) + "):kind>"


def _options_key(options: Mapping) -> str:
    return json.dumps(options, sort_keys=True)


def _kept_plan(importing: ImportKind, token: str, **options):
    """The user's kept upload and its plan, made again from the kept file only if the register has changed
    since (or the plan was made with other options).

    Returns ``(upload, plan, rechecked, None)``, where ``rechecked`` says the register had changed, or
    ``(upload, None, False, page)`` where the page says why the file no longer imports.
    """
    try:
        upload = services.load_upload(token, kind=importing.name, owner_id=current_user.id)
    except services.UploadNotFound:
        abort(404)
    # The fingerprint before the plan: a change landing between the two makes the plan look stale, never fresh.
    version, wanted = importing.version(), _options_key(options)
    if upload.plan is not None and upload.plan_options == wanted and upload.register_version == version:
        return upload, importing.load_plan(upload.plan), False, None
    rechecked = upload.plan is not None and upload.register_version != version
    try:
        with services.open_upload(upload) as kept:
            plan = importing.plan(kept, **options)
    except ImportFailed as exc:
        services.discard_upload(token)
        form = UploadCsvForm(formdata=None)
        form.file.errors = ["The file cannot be imported now: fix the problems listed and upload it again"]
        return (
            upload,
            None,
            False,
            render_template("establishments/upload.html", form=form, problems=exc.problems, kind=importing),
        )
    services.keep_plan(upload, importer.dump_plan(plan), plan_options=wanted, register_version=version)
    return upload, plan, rechecked, None


def _preview_page(importing: ImportKind, upload, plan, options: dict, rechecked: bool):
    return render_template(
        "establishments/preview_import.html",
        kind=importing,
        plan=plan,
        upload=upload,
        form=importing.confirm_form(),
        sample=importer.SAMPLE_SIZE,
        rechecked=rechecked,
        **options,
        **importing.preview(upload, plan),
    )


@bp.route(f"/import/{_KIND}", methods=["GET", "POST"])
@requires(C.MANAGE_REGISTER)
def upload_import(kind: str):
    """Upload a GIAS establishment extract or a contacts file to check it."""
    importing = IMPORTS[kind]
    form = UploadCsvForm()
    problems = []
    if form.validate_on_submit():
        # The upload as the server spooled it (a temporary file once it is large): read once for the plan,
        # then kept in pieces, never held whole in memory.
        file = form.file.data.stream
        options = importing.options({})
        version = importing.version()
        try:
            plan = importing.plan(file, **options)
        except ImportFailed as exc:
            problems = exc.problems
            form.file.errors.append("The file cannot be imported: fix the problems listed and upload it again")
        else:
            token = services.store_upload(
                kind=importing.name,
                owner_id=current_user.id,
                filename=form.file.data.filename or "",
                file=file,
                plan=importer.dump_plan(plan),
                plan_options=_options_key(options),
                register_version=version,
            )
            return redirect(url_for(".preview_import", kind=kind, token=token))
    return render_template("establishments/upload.html", form=form, problems=problems, kind=importing)


@bp.get(f"/import/{_KIND}/<token>")
@requires(C.MANAGE_REGISTER)
def preview_import(kind: str, token: str):
    """Show what importing the uploaded file would change."""
    importing = IMPORTS[kind]
    options = importing.options(request.args)
    upload, plan, rechecked, refused = _kept_plan(importing, token, **options)
    return refused or _preview_page(importing, upload, plan, options, rechecked)


@bp.post(f"/import/{_KIND}/<token>")
@requires(C.MANAGE_REGISTER)
def confirm_import(kind: str, token: str):
    """Start importing the uploaded file as its preview showed it; if the register has changed since, show it
    again. The import runs as a job (establishments/jobs.py), whose page follows it and says what it did."""
    importing = IMPORTS[kind]
    form = importing.confirm_form()
    options = importing.options(request.form)
    upload, plan, rechecked, refused = _kept_plan(importing, token, **options)
    if refused:
        return refused
    if rechecked:  # the lead has not seen what the file would do now: show them, to confirm again
        return _preview_page(importing, upload, plan, options, rechecked)
    key = services.upload_key(upload)
    job_key = import_jobs.job_key(key, upload.register_version)
    job = jobs.job_for_key(job_key)
    if job is None:  # not a second press of the same confirmation
        total, waiting = importing.to_import(plan)
        job = jobs.start_job(
            importing.job,
            current_user,
            key=job_key,
            message=waiting,
            params=import_jobs.job_params(
                upload_key=key,
                kind=importing.name,
                register_version=upload.register_version,
                options_key=upload.plan_options,
                total=total,
                invite=isinstance(form, ConfirmContactsForm) and bool(form.invite.data),
            ),
        )
        runner.dispatch(job)
    return redirect(url_for("jobs.show_job", job_id=job.id))
