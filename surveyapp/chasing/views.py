"""The lead's tracker and chasing: filters, reminders with a preview, chase history, exports and the outbox.

Board viewers read the tracker; a trust lead reads it for their own trust's academies only (another trust
is 404); only the lead sends reminders.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from surveyapp.audits.services import cycle_by_slug
from surveyapp.chasing import export, services, tracker
from surveyapp.chasing.chart import progress_chart
from surveyapp.chasing.forms import ReminderForm, ScheduleForm, tracker_filter_form
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db
from surveyapp.jobs import runner, services as jobs
from surveyapp.jobs.models import JobKind
from surveyapp.numbers import whole_number
from surveyapp.policy import Capability as C, may, requires

bp = Blueprint("chasing", __name__)


def _cycle_or_404(slug: str):
    return cycle_by_slug(slug) or abort(404)


def _trust_for_reader(uid: str) -> Trust:
    """The trust in the URL, for the lead, board viewers and that trust's own leads; 404 for anyone else."""
    trust = db.session.scalar(select(Trust).where(Trust.uid == uid))
    if trust is None or not may(current_user, C.READ_TRUST_FIGURES, trust):
        abort(404)
    return trust


def _tracker_page(cycle, trust: Trust | None, template: str = "chasing/tracker.html", **extra):
    scope = trust.id if trust else None
    filters = tracker.TrackerFilters.from_args(request.args)
    if trust is not None:
        filters.trust = ""  # the scope already limits the list to this trust
    # The breakdowns and this cycle's line on the chart come from one pass over the cycle.
    figures = tracker.figures(
        cycle, [key for key in tracker.DIMENSIONS if not (trust and key == "trust")], scope, by_day=True
    )
    breakdowns = figures.breakdowns
    headline = tracker.headline(cycle, scope, breakdowns["phase"])  # the phases add up to the headline
    # The headline and breakdowns often hold how many the list matches already (unfiltered, or one phase, type,
    # district or trust): the list then need not count, and a late page is read from the end.
    known = tracker.known_count(filters, headline["counts"], breakdowns)
    page = tracker.establishment_list(cycle, filters, scope, total=known)

    def link(**changes) -> str:
        """This page's address with some filters changed (the filters live in the query string)."""
        return url_for(request.endpoint, **request.view_args, **filters.to_args(**changes))

    progress = tracker.submissions_over_time(
        cycle, scope, in_scope=headline["counts"].in_scope, completed_by_day=figures.completed_by_day
    )
    return render_template(
        template,
        cycle=cycle,
        trust=trust,
        filters=filters,
        page=page,
        headline=headline,
        breakdowns=breakdowns,
        dimensions=tracker.DIMENSIONS,
        progress=progress,
        chart=progress_chart(progress),
        form=tracker_filter_form(
            request.args, choices=tracker.choices_from_breakdowns(breakdowns), show_trust=trust is None
        ),
        schedule=services.schedule_for(cycle),
        can_send=may(current_user, C.CHASE_NON_RESPONDERS) and trust is None,
        unfinished_trusts=services.count_unfinished_trust_responses(cycle) if trust is None else 0,
        link=link,
        **extra,
    )


@bp.get("/cycles/<slug>/tracker")
@requires(C.READ_LA_FIGURES)
def show_tracker(slug: str):
    """Show the cycle's live tracker: headline, breakdowns, progress and every establishment."""
    return _tracker_page(_cycle_or_404(slug), None)


@bp.get("/trusts/<uid>/cycles/<slug>/tracker")
@requires(C.USE_SERVICE)
def show_trust_tracker(uid: str, slug: str):
    """Show the tracker limited to one trust's academies (for its trust leads, the lead and board viewers)."""
    trust = _trust_for_reader(uid)
    return _tracker_page(_cycle_or_404(slug), trust)


@bp.get("/cycles/<slug>/tracker/by-<dimension>")
@requires(C.READ_LA_FIGURES)
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

    return render_template(
        "chasing/breakdown.html",
        cycle=cycle,
        field=dimension,
        link=link,
        title=tracker.DIMENSIONS[dimension][0],
        groups=groups,
    )


# --- reminders -------------------------------------------------------------------------------


def _selection(cycle):
    """The establishments chosen on the tracker: the ids ticked, or a SELECT of all matching the filters it carried."""
    if request.form.get("all") == "1":
        return tracker.matching_establishments(cycle, tracker.TrackerFilters.from_args(request.form))
    return [n for n in map(whole_number, request.form.getlist("establishment")) if n is not None]


def _limits(force: bool) -> dict:
    """How often anyone may be reminded, as the planners of both kinds of reminder take it."""
    return {
        "force": force,
        "cool_off_days": current_app.config.get("REMINDER_COOL_OFF_DAYS", 3),
        "max_per_cycle": current_app.config.get("REMINDER_MAX_PER_CYCLE", 6),
    }


def _plan(cycle, force: bool):
    return services.plan_reminders(cycle, _selection(cycle), **_limits(force))


def _preview(cycle, plan_for, page, *, nothing_chosen: str, back: str):
    """Plan the chosen reminders and show their preview with a fresh batch, or go back when nothing was chosen.

    Establishments and trusts are previewed alike; only how they are planned and shown differs.
    """
    force = request.form.get("force") == "1"
    plan = plan_for(cycle, force)
    if not plan.to_send and not plan.skipped:
        flash(nothing_chosen, "info")
        return redirect(back)
    form = ReminderForm(formdata=None, batch=secrets.token_urlsafe(16), force="1" if force else "")
    return page(cycle, plan, form, force)


def _send(cycle, plan_for, page, **delivery):
    """Plan the previewed reminders again now and queue them, or show the preview again if the form is not valid."""
    form = ReminderForm()
    force = form.force.data == "1"
    plan = plan_for(cycle, force)
    if not form.validate_on_submit() or not form.batch.data:
        return page(cycle, plan, form, force), 400
    job = _queue_and_deliver(cycle, plan, form, **delivery)
    return redirect(url_for("jobs.show_job", job_id=job.id))


@bp.post("/cycles/<slug>/reminders/preview")
@requires(C.CHASE_NON_RESPONDERS)
def preview_reminders(slug: str):
    """Show how many reminders will be sent and skipped (and why), with the wording to edit."""
    return _preview(
        _cycle_or_404(slug),
        _plan,
        _preview_page,
        nothing_chosen="Choose at least one establishment to remind.",
        back=url_for("chasing.show_tracker", slug=slug, **tracker.TrackerFilters.from_args(request.form).to_args()),
    )


#: names listed in each group of the preview before "and N more"
PREVIEW_NAMES = 50


def _preview_page(cycle, plan, form, force: bool):
    """The preview: counts, the first names of each group, and the wording to edit."""
    chosen = (
        tracker.TrackerFilters.from_args(request.form) if request.form.get("all") == "1" else tracker.TrackerFilters()
    )
    # the establishments skipped for want of a contact are the unfinished ones of the selection without one
    no_contact = chosen.to_args(no_contact=True, status=chosen.status or "incomplete", page=1)
    return render_template(
        "chasing/preview.html",
        cycle=cycle,
        plan=plan,
        form=form,
        force=force,
        unfinished_trusts=services.count_unfinished_trust_responses(cycle),
        selection=_selection_fields(),
        cool_off=current_app.config.get("REMINDER_COOL_OFF_DAYS", 3),
        list_limit=PREVIEW_NAMES,
        no_contact_link=url_for("chasing.show_tracker", slug=cycle.slug, **no_contact) + "#establishments",
    )


def _selection_fields() -> list[tuple[str, str]]:
    """The posted selection, to carry through the preview as hidden fields."""
    keep = ("all", "establishment", "status", "phase", "type", "district", "trust", "no_contact", "q")
    return [(key, value) for key in keep for value in request.form.getlist(key)]


@bp.post("/cycles/<slug>/reminders/send")
@requires(C.CHASE_NON_RESPONDERS)
def send_reminders(slug: str):
    """Send the previewed reminders: planned again now, queued and committed, then delivered by a job."""
    return _send(
        _cycle_or_404(slug),
        _plan,
        _preview_page,
        skipped_noun="establishment",
        failures_seen_on="the tracker",
        back="tracker",
    )


def _queue_and_deliver(cycle, plan, form, *, skipped_noun: str, failures_seen_on: str, back: str):
    """Queue the planned reminders and a job to deliver them, commit both, and start the job.

    A worker sends them when a queue is set up, otherwise they are sent now; either way the job's page
    shows the progress and then what happened. A replayed form (same batch) finds the same job.
    """
    batch = f"web:{form.batch.data}"
    key = f"reminders:{batch}"
    job = jobs.job_for_key(key)
    if job is not None:
        return job
    queued = services.queue_reminders(
        cycle, plan, batch=batch, actor=current_user, base_url=current_app.config["BASE_URL"], wording=form.wording()
    )
    job = jobs.start_job(
        JobKind.REMINDERS,
        current_user,
        cycle=cycle,
        key=key,
        message=f"Waiting to send {len(queued):,} reminder{'s' if len(queued) != 1 else ''}",
        params={
            "batch": batch,
            "planned": bool(plan.to_send),
            "skipped": len(plan.skipped),
            "skipped_noun": skipped_noun,
            "failures_seen_on": failures_seen_on,
            "back": back,
        },
    )
    runner.dispatch(job)
    return job


@bp.get("/cycles/<slug>/establishments/<urn>/reminders")
@requires(C.READ_LA_FIGURES)
def show_chase_history(slug: str, urn: str):
    """Show every reminder sent about one establishment in this cycle."""
    cycle = _cycle_or_404(slug)
    establishment = db.session.scalar(select(Establishment).where(Establishment.urn == urn)) or abort(404)
    return render_template(
        "chasing/history.html",
        cycle=cycle,
        establishment=establishment,
        reminders=services.chase_history(cycle, establishment),
    )


# --- trusts' own responses --------------------------------------------------------------------


@bp.get("/cycles/<slug>/tracker/trusts")
@requires(C.READ_LA_FIGURES)
def show_trust_responses(slug: str):
    """List the trusts whose own response is not yet submitted, with their leads and chasing so far."""
    cycle = _cycle_or_404(slug)
    # Built once with a placeholder: a national cycle lists a thousand trusts or more.
    history = url_for("chasing.show_trust_chase_history", slug=slug, uid="UID")

    def history_url(uid: str) -> str:
        return history.replace("/UID/", f"/{quote(uid, safe='')}/")

    return render_template(
        "chasing/trust_responses.html",
        cycle=cycle,
        trusts=services.unfinished_trust_responses(cycle),
        can_send=may(current_user, C.CHASE_NON_RESPONDERS),
        history_url=history_url,
    )


def _trust_plan(cycle, force: bool):
    chosen = (
        None
        if request.form.get("all") == "1"
        else [n for n in map(whole_number, request.form.getlist("trust")) if n is not None]
    )
    return services.plan_trust_reminders(cycle, chosen, **_limits(force))


def _trust_preview_page(cycle, plan, form, force: bool):
    selection = [(key, value) for key in ("all", "trust") for value in request.form.getlist(key)]
    return render_template(
        "chasing/trust_preview.html",
        cycle=cycle,
        plan=plan,
        form=form,
        force=force,
        selection=selection,
        cool_off=current_app.config.get("REMINDER_COOL_OFF_DAYS", 3),
    )


@bp.post("/cycles/<slug>/trust-reminders/preview")
@requires(C.CHASE_NON_RESPONDERS)
def preview_trust_reminders(slug: str):
    """Show how many trust leads will be reminded of their trust's response and who is skipped, with the wording."""
    return _preview(
        _cycle_or_404(slug),
        _trust_plan,
        _trust_preview_page,
        nothing_chosen="Choose at least one trust to remind.",
        back=url_for("chasing.show_trust_responses", slug=slug),
    )


@bp.post("/cycles/<slug>/trust-reminders/send")
@requires(C.CHASE_NON_RESPONDERS)
def send_trust_reminders(slug: str):
    """Send the previewed trust reminders: planned again now, queued and committed, then delivered by a job."""
    return _send(
        _cycle_or_404(slug),
        _trust_plan,
        _trust_preview_page,
        skipped_noun="trust",
        failures_seen_on="the chase history",
        back="trust_responses",
    )


@bp.get("/cycles/<slug>/trusts/<uid>/reminders")
@requires(C.READ_LA_FIGURES)
def show_trust_chase_history(slug: str, uid: str):
    """Show every reminder sent about one trust's own response in this cycle."""
    cycle = _cycle_or_404(slug)
    trust = db.session.scalar(select(Trust).where(Trust.uid == uid)) or abort(404)
    return render_template(
        "chasing/history.html",
        cycle=cycle,
        establishment=None,
        trust=trust,
        reminders=services.trust_chase_history(cycle, trust),
    )


@bp.get("/cycles/<slug>/non-responders.<fmt>")
@requires(C.CHASE_NON_RESPONDERS)
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
        body, mimetype = (
            export.to_xlsx(header, rows),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/cycles/<slug>/reminders/schedule", methods=["GET", "POST"])
@requires(C.CHASE_NON_RESPONDERS)
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
        flash("The reminder schedule has been saved.", "success")
        return redirect(url_for("chasing.show_tracker", slug=slug))
    return render_template("chasing/schedule.html", cycle=cycle, form=form)


@bp.get("/outbox")
@requires(C.CHASE_NON_RESPONDERS)
def list_outbox():
    """List the emails written to the outbox folder because no mail server is configured."""
    return render_template(
        "chasing/outbox.html",
        messages=services.outbox(current_app.config["MAIL_OUTBOX"]),
        smtp=bool(current_app.config.get("SMTP_HOST")),
    )
