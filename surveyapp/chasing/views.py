"""The lead's tracker and chasing: filters, reminders with a preview, chase history, exports and the outbox.

Board viewers read the tracker; a trust lead reads it for their own trust's academies only (another trust
is 404); only the lead sends reminders.
"""
from __future__ import annotations

import secrets
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from surveyapp import mail
from surveyapp.audits.services import cycle_by_slug
from surveyapp.auth.models import Role
from surveyapp.auth.permissions import can_view_trust, is_lead, lead_required, roles_required
from surveyapp.chasing import export, services, tracker
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db
from surveyapp.forms.chasing import ReminderForm, ScheduleForm, tracker_filter_form
from surveyapp.numbers import whole_number

bp = Blueprint("chasing", __name__)
readers_required = roles_required(Role.LEAD, Role.BOARD)


def _cycle_or_404(slug: str):
    return cycle_by_slug(slug) or abort(404)


def _trust_for_reader(uid: str) -> Trust:
    """The trust in the URL, for the lead, board viewers and that trust's own leads; 404 for anyone else."""
    trust = db.session.scalar(select(Trust).where(Trust.uid == uid))
    if trust is None or not can_view_trust(current_user, trust.id):
        abort(404)
    return trust


def _tracker_page(cycle, trust: Trust | None, template: str = "chasing/tracker.html", **extra):
    scope = trust.id if trust else None
    filters = tracker.TrackerFilters.from_args(request.args)
    if trust is not None:
        filters.trust = ""  # the scope already limits the list to this trust
    page = tracker.establishment_list(cycle, filters, scope)

    def link(**changes) -> str:
        """This page's address with some filters changed (the filters live in the query string)."""
        return url_for(request.endpoint, **request.view_args, **filters.to_args(**changes))

    breakdowns = tracker.breakdowns(cycle, [key for key in tracker.DIMENSIONS if not (trust and key == "trust")], scope)
    headline = tracker.headline(cycle, scope, breakdowns["phase"])  # the phases add up to the headline
    return render_template(
        template, cycle=cycle, trust=trust, filters=filters, page=page, headline=headline, breakdowns=breakdowns,
        dimensions=tracker.DIMENSIONS,
        progress=tracker.submissions_over_time(cycle, scope, in_scope=headline["counts"].in_scope),
        form=tracker_filter_form(request.args, choices=tracker.choices_from_breakdowns(breakdowns), show_trust=trust is None),
        schedule=services.schedule_for(cycle), can_send=current_user.role is Role.LEAD and trust is None,
        unfinished_trusts=len(services.unfinished_trust_responses(cycle)) if trust is None else 0,
        link=link, **extra,
    )


@bp.get("/cycles/<slug>/tracker")
@readers_required
def show_tracker(slug: str):
    """Show the cycle's live tracker: headline, breakdowns, progress and every establishment."""
    return _tracker_page(_cycle_or_404(slug), None)


@bp.get("/trusts/<uid>/cycles/<slug>/tracker")
@login_required
def show_trust_tracker(uid: str, slug: str):
    """Show the tracker limited to one trust's academies (for its trust leads, the lead and board viewers)."""
    trust = _trust_for_reader(uid)
    return _tracker_page(_cycle_or_404(slug), trust)


@bp.get("/cycles/<slug>/tracker/by-<dimension>")
@readers_required
def show_breakdown(slug: str, dimension: str):
    """Show one breakdown (phase, type, district or trust) in full, each row linking to the filtered list."""
    if dimension not in tracker.DIMENSIONS:
        abort(404)
    cycle = _cycle_or_404(slug)

    groups = tracker.GroupPage.of(tracker.breakdown(cycle, dimension), request.args.get("page", ""))
    tracker_url = url_for("chasing.show_tracker", slug=slug)  # built once, not once per row

    def link(**changes) -> str:
        args = tracker.TrackerFilters().to_args(**changes)
        return f"{tracker_url}?{urlencode(args)}" if args else tracker_url

    return render_template("chasing/breakdown.html", cycle=cycle, field=dimension, link=link,
                           title=tracker.DIMENSIONS[dimension][0], groups=groups)


# --- reminders -------------------------------------------------------------------------------


def _selection(cycle):
    """The establishments chosen on the tracker: the ids ticked, or a SELECT of all matching the filters it carried."""
    if request.form.get("all") == "1":
        return tracker.matching_establishments(cycle, tracker.TrackerFilters.from_args(request.form))
    return [n for n in map(whole_number, request.form.getlist("establishment")) if n is not None]


def _plan(cycle, force: bool):
    return services.plan_reminders(cycle, _selection(cycle), force=force,
                                   cool_off_days=current_app.config.get("REMINDER_COOL_OFF_DAYS", 3),
                                   max_per_cycle=current_app.config.get("REMINDER_MAX_PER_CYCLE", 6))


@bp.post("/cycles/<slug>/reminders/preview")
@lead_required
def preview_reminders(slug: str):
    """Show how many reminders will be sent and skipped (and why), with the wording to edit."""
    cycle = _cycle_or_404(slug)
    force = request.form.get("force") == "1"
    plan = _plan(cycle, force)
    if not plan.to_send and not plan.skipped:
        flash("Choose at least one establishment to remind.", "info")
        return redirect(url_for("chasing.show_tracker", slug=slug, **tracker.TrackerFilters.from_args(request.form).to_args()))
    form = ReminderForm(formdata=None, batch=secrets.token_urlsafe(16), force="1" if force else "")
    return _preview_page(cycle, plan, form, force)


#: names listed in each group of the preview before "and N more"
PREVIEW_NAMES = 50


def _preview_page(cycle, plan, form, force: bool):
    """The preview: counts, the first names of each group, and the wording to edit."""
    chosen = tracker.TrackerFilters.from_args(request.form) if request.form.get("all") == "1" else tracker.TrackerFilters()
    # the establishments skipped for want of a contact are the unfinished ones of the selection without one
    no_contact = chosen.to_args(no_contact=True, status=chosen.status or "incomplete", page=1)
    return render_template("chasing/preview.html", cycle=cycle, plan=plan, form=form, force=force,
                           unfinished_trusts=len(services.unfinished_trust_responses(cycle)),
                           selection=_selection_fields(), cool_off=current_app.config.get("REMINDER_COOL_OFF_DAYS", 3),
                           list_limit=PREVIEW_NAMES,
                           no_contact_link=url_for("chasing.show_tracker", slug=cycle.slug, **no_contact) + "#establishments")


def _selection_fields() -> list[tuple[str, str]]:
    """The posted selection, to carry through the preview as hidden fields."""
    keep = ("all", "establishment", "status", "phase", "type", "district", "trust", "no_contact", "q")
    return [(key, value) for key in keep for value in request.form.getlist(key)]


@bp.post("/cycles/<slug>/reminders/send")
@lead_required
def send_reminders(slug: str):
    """Send the previewed reminders: planned again now, queued and committed, then delivered with retries."""
    cycle = _cycle_or_404(slug)
    form = ReminderForm()
    force = form.force.data == "1"
    plan = _plan(cycle, force)
    if not form.validate_on_submit() or not form.batch.data:
        return _preview_page(cycle, plan, form, force), 400
    _queue_and_deliver(cycle, plan, form, skipped_noun="establishment", failures_seen_on="the tracker")
    return redirect(url_for("chasing.show_tracker", slug=slug))


def _queue_and_deliver(cycle, plan, form, *, skipped_noun: str, failures_seen_on: str) -> None:
    """Queue the planned reminders, commit, deliver them with retries, commit, and say what happened."""
    queued = services.queue_reminders(cycle, plan, batch=f"web:{form.batch.data}", actor=current_user,
                                      base_url=current_app.config["BASE_URL"], wording=form.wording())
    ids = [reminder.id for reminder in queued]
    # Committed before sending: mail cannot be rolled back, so the log must exist before anything goes.
    db.session.commit()
    delivery = _deliver(ids)
    db.session.commit()
    message = f"{delivery.sent} reminder{'s' if delivery.sent != 1 else ''} sent."
    if plan.skipped:
        message += f" {len(plan.skipped)} {skipped_noun}{'s' if len(plan.skipped) != 1 else ''} skipped."
    if delivery.failed:
        message += f" {len(delivery.failed)} could not be sent after retrying: see {failures_seen_on}."
    if not queued and plan.to_send:
        message = "These reminders have already been sent."
    flash(message, "success" if not delivery.failed else "info")


def _deliver(ids: list[int]):
    config = current_app.config
    return services.deliver(services.reload_queued(ids), mail.MailSettings.from_config(config),
                            attempts=config.get("REMINDER_ATTEMPTS", 3), backoff=config.get("REMINDER_BACKOFF_SECONDS", 2.0),
                            actor=current_user)


@bp.get("/cycles/<slug>/establishments/<urn>/reminders")
@readers_required
def show_chase_history(slug: str, urn: str):
    """Show every reminder sent about one establishment in this cycle."""
    cycle = _cycle_or_404(slug)
    establishment = db.session.scalar(select(Establishment).where(Establishment.urn == urn)) or abort(404)
    return render_template("chasing/history.html", cycle=cycle, establishment=establishment,
                           reminders=services.chase_history(cycle, establishment))


# --- trusts' own responses --------------------------------------------------------------------


@bp.get("/cycles/<slug>/tracker/trusts")
@readers_required
def show_trust_responses(slug: str):
    """List the trusts whose own response is not yet submitted, with their leads and chasing so far."""
    cycle = _cycle_or_404(slug)
    return render_template("chasing/trust_responses.html", cycle=cycle,
                           trusts=services.unfinished_trust_responses(cycle), can_send=is_lead(current_user))


def _trust_plan(cycle, force: bool):
    chosen = None if request.form.get("all") == "1" else [
        n for n in map(whole_number, request.form.getlist("trust")) if n is not None]
    return services.plan_trust_reminders(cycle, chosen, force=force,
                                         cool_off_days=current_app.config.get("REMINDER_COOL_OFF_DAYS", 3),
                                         max_per_cycle=current_app.config.get("REMINDER_MAX_PER_CYCLE", 6))


def _trust_preview_page(cycle, plan, form, force: bool):
    selection = [(key, value) for key in ("all", "trust") for value in request.form.getlist(key)]
    return render_template("chasing/trust_preview.html", cycle=cycle, plan=plan, form=form, force=force,
                           selection=selection, cool_off=current_app.config.get("REMINDER_COOL_OFF_DAYS", 3))


@bp.post("/cycles/<slug>/trust-reminders/preview")
@lead_required
def preview_trust_reminders(slug: str):
    """Show how many trust leads will be reminded of their trust's response and who is skipped, with the wording."""
    cycle = _cycle_or_404(slug)
    force = request.form.get("force") == "1"
    plan = _trust_plan(cycle, force)
    if not plan.to_send and not plan.skipped:
        flash("Choose at least one trust to remind.", "info")
        return redirect(url_for("chasing.show_trust_responses", slug=slug))
    form = ReminderForm(formdata=None, batch=secrets.token_urlsafe(16), force="1" if force else "")
    return _trust_preview_page(cycle, plan, form, force)


@bp.post("/cycles/<slug>/trust-reminders/send")
@lead_required
def send_trust_reminders(slug: str):
    """Send the previewed trust reminders: planned again now, queued and committed, then delivered."""
    cycle = _cycle_or_404(slug)
    form = ReminderForm()
    force = form.force.data == "1"
    plan = _trust_plan(cycle, force)
    if not form.validate_on_submit() or not form.batch.data:
        return _trust_preview_page(cycle, plan, form, force), 400
    _queue_and_deliver(cycle, plan, form, skipped_noun="trust", failures_seen_on="the chase history")
    return redirect(url_for("chasing.show_trust_responses", slug=slug))


@bp.get("/cycles/<slug>/trusts/<uid>/reminders")
@readers_required
def show_trust_chase_history(slug: str, uid: str):
    """Show every reminder sent about one trust's own response in this cycle."""
    cycle = _cycle_or_404(slug)
    trust = db.session.scalar(select(Trust).where(Trust.uid == uid)) or abort(404)
    return render_template("chasing/history.html", cycle=cycle, establishment=None, trust=trust,
                           reminders=services.trust_chase_history(cycle, trust))


@bp.get("/cycles/<slug>/non-responders.<fmt>")
@lead_required
def export_non_responders(slug: str, fmt: str):
    """Download the establishments not yet complete, with their chase history, as CSV or xlsx."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    cycle = _cycle_or_404(slug)
    header, rows = services.non_responders(cycle)
    filename = f"non-responders-{cycle.slug}.{fmt}"
    if fmt == "csv":
        body, mimetype = export.to_csv(header, rows), "text/csv; charset=utf-8"
    else:
        body, mimetype = export.to_xlsx(header, rows), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/cycles/<slug>/reminders/schedule", methods=["GET", "POST"])
@lead_required
def edit_schedule(slug: str):
    """Set the days before the due date on which `surveyapp reminders run-due` chases this cycle."""
    cycle = _cycle_or_404(slug)
    schedule = services.schedule_for(cycle)
    form = ScheduleForm()
    if request.method == "GET":
        form.days.data = ", ".join(str(d) for d in (schedule.days_before_due if schedule else [14, 7, 2]))
        form.weekly.data = schedule.weekly_when_overdue if schedule else True
    if form.validate_on_submit():
        services.set_schedule(cycle, form.day_numbers, form.weekly.data, actor=current_user)
        db.session.commit()
        flash("The reminder schedule has been saved.", "success")
        return redirect(url_for("chasing.show_tracker", slug=slug))
    return render_template("chasing/schedule.html", cycle=cycle, form=form)


@bp.get("/outbox")
@lead_required
def list_outbox():
    """List the emails written to the outbox folder because no mail server is configured."""
    return render_template("chasing/outbox.html", messages=services.outbox(current_app.config["MAIL_OUTBOX"]),
                           smtp=bool(current_app.config.get("SMTP_HOST")))

