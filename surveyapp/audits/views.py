"""A DSL's or trust lead's audits: task list, sections, check answers, sign-off and submit."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from surveyapp.audits import kept, printable, services
from surveyapp.audits.forms import DeclarationForm, SectionForm
from surveyapp.audits.lifecycle import CycleClosed
from surveyapp.audits.models import ResponseStatus
from surveyapp.extensions import db, limiter
from surveyapp.numbers import whole_number
from surveyapp.policy import Capability as C, requires
from surveyapp.timeutil import today

bp = Blueprint("audits", __name__, url_prefix="/audits")


@bp.get("/")
@requires(C.USE_SERVICE)
def list_audits():
    """List the audits this user completes, newest cycle first."""
    responses = services.responses_for_user(current_user)
    trusts = {r.assignment.trust for r in responses if r.assignment.trust_id is not None}
    return render_template(
        "audits/list.html",
        responses=responses,
        groups=services.by_cycle(responses),
        covered=services.covered_by_returned_trust(responses),
        trusts=sorted(trusts, key=lambda trust: trust.name),
    )


@bp.get("/<int:response_id>/")
@requires(C.ANSWER_FOR_ESTABLISHMENT, load="response")
def show_task_list(response):
    """Show the audit's sections and where each stands."""
    trust_response = services.covering_trust_response(response)
    return render_template(
        "audits/task_list.html",
        response=response,
        trust_response=trust_response,
        sections=services.section_summaries(response, trust_response),
        academies=services.trust_academies_in_cycle(response) if response.assignment.trust_id else [],
    )


def _section_or_404(response, section_key):
    for section in response.assignment.cycle.template.sections:
        if section.key == section_key:
            return section
    abort(404)


def _keep_and_sign_in():
    from surveyapp.extensions import login_manager

    # Only a browser whose own sign-in ended has someone to keep the input for; a POST from
    # anyone else (no sign-in in its cookie) keeps nothing.
    typist, browser = session.get("last_user"), session.get("browser")
    if request.method != "POST" or not typist or not browser:
        return login_manager.unauthorized()
    try:
        token = kept.keep(request.path, request.form, typist, browser)
    except kept.TooLarge:
        abort(413)
    back_to = request.path + "?" + urlencode({"kept": token})
    return redirect(url_for("auth.sign_in", next=back_to, kept=1))


@bp.route("/<int:response_id>/sections/<section_key>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"], exempt_when=lambda: current_user.is_authenticated)
@requires(C.ANSWER_FOR_ESTABLISHMENT, load="response", signed_out=_keep_and_sign_in)
def edit_section(response, section_key: str):
    """Answer one section; every save is kept, even one posted after the sign-in ended."""
    section = _section_or_404(response, section_key)
    if not response.status.is_editable:
        flash("This audit has been submitted, so it cannot be changed.", "info")
        return redirect(url_for("audits.check_answers", response_id=response.id))
    cycle = response.assignment.cycle
    if not cycle.takes_answers:
        raise CycleClosed(cycle)  # the closed page, with anything posted given back
    all_questions = services.template_questions(cycle.template)
    form = SectionForm(section.questions, cycle.opens_on, all_questions)
    trust_response = services.covering_trust_response(response)
    elsewhere = services.effective_values(response, trust_response)
    trust_answers = (
        services.answers_by_key(trust_response) if trust_response and trust_response.status.is_returned_to_la else {}
    )
    progress = next((p for p in response.sections if p.section_key == section.key), None)
    kept_token = request.values.get("kept")
    conflict = None
    saved_with_errors = False
    next_url = None
    # Arrived from a follow-up on the check answers page: show what it still needs beside its
    # fields, and land on the first of them (static/app.js) rather than on an error summary.
    checking = request.method == "GET" and request.args.get("check") == "1" and not request.args.get("kept")

    if request.method == "POST":
        form.fill_posted(request.form)
        form.apply_conditions(elsewhere)
        form.require_follow_ups()
        expected = _int(request.form.get("version"))
        try:
            progress = services.save_section(response, section, form.valid_inputs(), expected, current_user)
        except services.StaleSection as exc:
            db.session.rollback()
            conflict = exc.progress
            _mark_conflicts(form, response.id, section)
            form.version = conflict.version if conflict else 0
        except services.NotEditable:
            db.session.rollback()
            flash("This audit was submitted while you were editing it, so your changes were not saved.", "info")
            return redirect(url_for("audits.check_answers", response_id=response.id))
        else:
            kept.discard(kept_token)
            later = request.form.get("then") == "later"
            title = section.title
            next_url = (
                url_for("audits.show_task_list", response_id=response.id) if later else _next_place(response, section)
            )
            # A follow-up still to fill in is saved as it is, and named on the page, unless the DSL
            # chose to come back later; an invalid answer is never saved, and stays on the page.
            if not form.has_unsaved and (later or not form.missing_follow_ups):
                if later:
                    flash(form.saved_message(title), "success")
                return redirect(next_url)
            saved_with_errors = True
            form.version = progress.version
    else:
        restored = kept.fetch(kept_token, request.path, current_user.id, session.get("browser"))
        if restored is not None:
            form.fill_posted(restored)
            form.version = _int(restored.get("version"))
        else:
            kept_token = None
            form.fill_saved(services.answers_by_key(response), services.previous_answers(response), trust_answers)
            form.version = progress.version if progress else 0
        for state in form.states:
            if not state.trust_answer and state.key in trust_answers and not state.value:
                from surveyapp.audits.questions import display

                state.trust_answer = display(
                    state.question.type, trust_answers[state.key].value, state.question.options
                )
        form.apply_conditions(elsewhere)
        if checking:
            form.require_follow_ups()

    return render_template(
        "audits/section.html",
        response=response,
        section=section,
        form=form,
        conflict=conflict,
        saved_with_errors=saved_with_errors,
        next_url=next_url,
        checking=checking,
        restored=bool(kept_token) and request.method == "GET",
        kept_token=kept_token if request.method == "GET" else None,
        trust=trust_response.assignment.trust if trust_response else None,
        any_last_year=any(s.from_last_year for s in form.states),
    ), (409 if conflict else 200)


def _mark_conflicts(form: SectionForm, response_id: int, section) -> None:
    """Show, beside each answer the other person changed, what they saved."""
    from sqlalchemy import select

    from surveyapp.audits.models import Answer
    from surveyapp.audits.questions import display

    saved = {
        a.question_key: a.value for a in db.session.scalars(select(Answer).where(Answer.response_id == response_id))
    }
    for state in form.states:
        theirs = saved.get(state.key, "")
        if theirs != (state.value or ""):
            state.saved_by_other = display(state.question.type, theirs, state.question.options) or "No answer"


def _next_place(response, section) -> str:
    sections = response.assignment.cycle.template.sections
    index = sections.index(section)
    if index + 1 < len(sections):
        return url_for("audits.edit_section", response_id=response.id, section_key=sections[index + 1].key)
    return url_for("audits.check_answers", response_id=response.id)


def _int(value) -> int:
    number = whole_number(value)
    return -1 if number is None else number


@bp.get("/<int:response_id>/check")
@requires(C.ANSWER_FOR_ESTABLISHMENT, load="response")
def check_answers(response):
    """Show every answer, section by section, before the declaration."""
    trust_response = services.covering_trust_response(response)
    open_to_change = response.status.is_editable and response.assignment.cycle.takes_answers
    missing = services.still_to_do(response, trust_response) if open_to_change else []
    # Until the DSL has tried to sign off, what is left is a to-do list, not an error.
    tried = request.args.get("tried") == "1" and bool(missing)
    return render_template(
        "audits/check_answers.html",
        response=response,
        groups=services.effective_answers(response, trust_response),
        missing=missing,
        tried=tried,
        trust=trust_response.assignment.trust if trust_response else None,
    )


@bp.route("/<int:response_id>/declaration", methods=["GET", "POST"])
@requires(C.ANSWER_FOR_ESTABLISHMENT, load="response")
def declaration(response):
    """Name the headteacher and chair of governors, then submit."""
    if response.status in (ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED):
        return redirect(url_for("audits.confirmation", response_id=response.id))
    if not response.assignment.cycle.takes_answers:
        raise CycleClosed(response.assignment.cycle)
    for_trust = response.assignment.trust_id is not None
    form = DeclarationForm(for_trust=for_trust)
    if request.method == "GET":
        form.headteacher_name.data = response.headteacher_name
        form.chair_name.data = response.chair_name
        form.declaration_date.data = response.declaration_date or today()
    if form.validate_on_submit():
        try:
            services.submit(
                response,
                headteacher_name=form.headteacher_name.data,
                chair_name=form.chair_name.data,
                declaration_date=form.declaration_date.data,
                user=current_user,
            )
        except services.IncompleteResponse:
            db.session.rollback()
            return redirect(url_for("audits.check_answers", response_id=response.id, tried=1))
        return redirect(url_for("audits.confirmation", response_id=response.id))
    return render_template("audits/declaration.html", response=response, form=form, for_trust=for_trust)


@bp.get("/<int:response_id>/confirmation")
@requires(C.ANSWER_FOR_ESTABLISHMENT, load="response")
def confirmation(response):
    """Confirm the submission and give its reference."""
    if not response.status.is_returned_to_la:
        return redirect(url_for("audits.show_task_list", response_id=response.id))
    return render_template("audits/confirmation.html", response=response)


@bp.get("/<int:response_id>/return.pdf")
@requires(C.ANSWER_FOR_ESTABLISHMENT, load="response")
def download_return_pdf(response):
    """Download the returned audit as a PDF, with its sign-off, for the governors' and the LA's files."""
    return printable.return_pdf(response)


@bp.route("/<int:response_id>/academies", methods=["GET", "POST"])
@requires(C.ANSWER_FOR_TRUST, load="response")
def choose_academies(response):
    """Choose which academies the trust's response answers for."""
    if response.assignment.trust_id is None:
        abort(404)
    academies = services.trust_academies_in_cycle(response)
    if request.method == "POST":
        chosen = {n for n in map(whole_number, request.form.getlist("academies")) if n is not None}
        try:
            services.set_coverage(response, chosen, current_user)
        except services.NotEditable:
            db.session.rollback()
            flash("This response has been submitted, so what it covers cannot change.", "info")
        except ValueError:
            abort(400)
        else:
            flash(f"This response now answers for {len(chosen)} of {len(academies)} academies.", "success")
        return redirect(url_for("audits.show_task_list", response_id=response.id))
    covered = {row.establishment_id for row in response.coverage}
    return render_template("audits/academies.html", response=response, academies=academies, covered=covered)
