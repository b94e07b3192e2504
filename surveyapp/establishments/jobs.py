"""The web imports as jobs (see surveyapp/jobs): a confirmed import's kept plan applied once, with its progress.

The confirmation (views.confirm_import) has checked that the plan was made against the register as it was
then, and starts the job with the upload's key and that register's fingerprint. The job, in one transaction:
holds the register (no other import writes meanwhile), takes the kept upload (deleting it), checks the
register is still as confirmed, applies the plan and notes what it did on the job. If any of it fails, all of
it rolls back and the upload is kept; once it commits the upload is gone, so a second run (a worker thought
lost, "Start it again") finds nothing to take and reports what the first run imported.

Progress inside that transaction is written on a connection of its own (``progress.aside``), so the job's page
shows "Importing 12,000 of 24,000 establishments" while nothing of the import is visible yet.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from surveyapp.auth.models import User
from surveyapp.establishments import importer, services
from surveyapp.establishments.services import TakenUpload
from surveyapp.extensions import db
from surveyapp.jobs import services as jobs
from surveyapp.jobs.models import Job, JobKind
from surveyapp.jobs.work import Outcome, WorkError, does, plural

CHECKING = "Checking the register is as it was when you confirmed"
CHANGED = (
    "Nothing was imported: the register changed after you confirmed this import (another import, or a change "
    "to an establishment or a contact), so what the file would change is no longer what you were shown. Upload "
    "the file again to see what it would change now, then confirm that."
)
PREVIEWED_AGAIN = (
    "Nothing was imported: the file was checked again with other options after you confirmed it. Upload it "
    "again, check what it would change and confirm that."
)
GONE = (
    "Nothing was imported: the file is no longer kept. It has been imported already, or it waited more than "
    "24 hours after it was uploaded. The register shows what it holds now; to import the file, upload it again."
)
ALREADY = "This file had already been imported by an earlier run of this job, so nothing was imported twice."


def job_params(*, upload_key: str, kind: str, register_version: str, options_key: str, **more) -> dict:
    """What an import job needs to run (and run again): never the upload's token, only its key."""
    return {
        "upload": upload_key,
        "import": kind,
        "register_version": register_version,
        "options": options_key,
        **more,
    }


def job_key(upload_key: str, register_version: str) -> str:
    """One job per confirmation of one plan: a double click finds the job already started, and a plan made
    again (the register changed) is confirmed by a job of its own."""
    return f"import:{upload_key[:40]}:{register_version[:40]}"


def _take(job: Job, progress, version: Callable[[], str]) -> TakenUpload | None:
    """Hold the register, take the kept upload and check the register is as the confirmation saw it.

    None when the upload is no longer kept and an earlier run of this job imported it.

    :raises WorkError: the register changed, or the file is gone and this job did not import it
    """
    params = job.params
    progress(0, params.get("total", 0), CHECKING)  # committed: nothing of the import is written yet
    services.hold_register()
    taken = services.take_upload(params["upload"], kind=params["import"])
    if taken is None:
        db.session.refresh(job)  # what a run that committed meanwhile noted
        if job.params.get("imported"):
            return None
        raise WorkError(GONE)
    confirmed = params["register_version"]
    if taken.register_version != confirmed or version() != confirmed:
        raise WorkError(CHANGED)  # the rollback keeps the upload
    if taken.plan_options != params["options"] or taken.plan is None:
        raise WorkError(PREVIEWED_AGAIN)
    return taken


def _imported(job: Job, summary: str, total: int) -> None:
    """Note on the job, in the import's transaction, what it did: a later run that finds the upload gone says so."""
    job.params = {**job.params, "imported": summary}
    jobs.report(job, total, total, "Imported")


def establishments_summary(plan: importer.EstablishmentsPlan, in_cycles: list) -> str:
    """What an establishments import did, in the words the register's pages use."""
    return f"Establishments imported: {plan.summary()}." + "".join(f" {change.summary()}." for change in in_cycles)


@does(JobKind.REGISTER_IMPORT)
def import_establishments(job: Job, progress, checkpoint) -> Outcome:
    """Apply a confirmed GIAS import and bring the running audit cycles in step, in one transaction."""
    from surveyapp.establishments.signals import consequences_of_register_import

    taken = _take(job, progress, importer.register_version)
    if taken is None:
        return Outcome(f"{ALREADY} {job.params['imported']}")
    plan = importer.load_establishments_plan(taken.plan or b"")
    actor = job.started_by
    total = len(plan.new) + len(plan.updated)

    def writing(done: int, total: int) -> None:
        progress.aside(done, total, f"Importing {done:,} of {total:,} establishments")

    writing(0, total)
    importer.apply_establishments(plan, actor=actor, filename=taken.filename, progress=writing)
    progress.aside(total, total, "Bringing the running audit cycles in step with the register")
    summary = establishments_summary(plan, consequences_of_register_import(actor))
    _imported(job, summary, total)
    return Outcome(summary)


@does(JobKind.CONTACTS_IMPORT)
def import_contacts(job: Job, progress, checkpoint: Callable[[], None]) -> Outcome:
    """Apply a confirmed contacts import; then, if the lead asked, invite those without a password."""
    taken = _take(job, progress, importer.contacts_version)
    already = taken is None
    if taken is not None:
        plan = importer.load_contacts_plan(taken.plan or b"")
        total = len(plan.records)
        progress.aside(0, total, f"Importing {plural(total, 'contact')}")
        result = importer.apply_contacts(plan, actor=job.started_by, filename=taken.filename)
        if job.params.get("invite"):
            job.params = {**job.params, "to_invite": [user.id for user in result.to_invite], "invited": []}
        _imported(job, f"Contacts imported: {plan.summary()}.", total)
        checkpoint()  # the import lands before any invitation goes out: an email cannot be taken back
    imported = job.params["imported"]
    summary = f"{ALREADY} {imported}" if already else imported
    if job.params.get("invite"):
        summary += _invite(job, progress)
    return Outcome(summary)


def _invite(job: Job, progress) -> str:
    """Invite the people the import left without a password, skipping those an earlier run invited."""
    params = job.params
    report = importer.InvitationReport(sent=list(params.get("invited") or []))
    ids = params.get("to_invite") or []
    users: list[User] = []
    for start in range(0, len(ids), 500):
        users.extend(
            db.session.scalars(
                select(User).where(
                    User.id.in_(ids[start : start + 500]), User.password_hash.is_(None), User.is_enabled.is_(True)
                )
            )
        )
    users = sorted((user for user in users if user.email not in report.sent), key=lambda user: user.email)
    total = len(report.sent) + len(users)

    def keep() -> None:
        """After each invitation: keep its link's token, and who has been invited, together."""
        job.params = {**job.params, "invited": list(report.sent)}
        done = len(report.sent) + len(report.failed)
        progress(done, total, f"Sending invitations: {done:,} of {total:,}")

    progress(len(report.sent), total, f"Sending invitations: {len(report.sent):,} of {total:,}")
    starter = job.started_by
    importer.send_invitations(
        users,
        invited_by=starter.display_name if starter else "your local authority",
        commit=keep,
        actor=starter,
        report=report,
    )
    words = f" Invitations sent: {len(report.sent)}."
    if report.failed:
        words += " The contacts were imported, but invitations could not be sent to: " + "; ".join(
            f"{email} ({reason})" for email, reason in report.failed
        )
        words += "."
    return words
