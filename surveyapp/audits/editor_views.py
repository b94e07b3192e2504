"""The lead's template editor: draft, preview, check and publish the next version of an audit template."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from surveyapp.audits import editor
from surveyapp.audits.editor_forms import (
    ActionForm,
    DetailsForm,
    NewTemplateForm,
    QuestionForm,
    SectionDetailsForm,
    StartDraftForm,
)
from surveyapp.audits.forms import SectionForm
from surveyapp.audits.models import (
    Assignment,
    AuditTemplate,
    Cycle,
    Response as AuditResponse,
    ResponseStatus,
)
from surveyapp.establishments.models import Establishment
from surveyapp.extensions import db
from surveyapp.policy import Capability as C, requires
from surveyapp.timeutil import today

bp = Blueprint("editor", __name__, url_prefix="/templates")


@bp.context_processor
def _words():
    from surveyapp.audits.editor_forms import TYPE_LABELS

    return {"type_labels": dict(TYPE_LABELS), "gap_words": editor.gap_words, "condition_words": editor.condition_words}


def _draft_or_404(key: str):
    return editor.draft_for(key) or abort(404)


def _upload_text() -> bytes | None:
    file = request.files.get("upload")
    return file.read() if file and file.filename else None


_FIELD_FOR = {"gap": "gap_kind", "condition": "condition_answers", "follow_up": "follow_up_prompt", "": ""}


def _problems_to_form(form, problems: dict[str, str]) -> None:
    """Show each problem the service found beside the field it concerns."""
    for name, message in problems.items():
        field = getattr(form, _FIELD_FOR.get(name, name) or "-", None)
        if field is None or not hasattr(field, "errors"):
            field = getattr(form, "text", None) or form.title
        field.errors = list(field.errors or []) + [message]


def _stale(draft) -> dict:
    """What the page says when somebody else changed the draft first."""
    who = draft.updated_by.display_name if draft.updated_by else "Someone else"
    return {"who": who, "at": draft.updated_at}


class _Saved(NamedTuple):
    made: bool
    result: Any = None  #: what the change returned, once made
    newer: Any = None  #: the draft as somebody else saved it, when they changed it after the page was opened


def _save(form, change) -> _Saved:
    """Make a change posted from one of the draft's form pages, and commit it once made.

    A change made from an older page is not made: the form takes the draft's version, so sending it again
    overwrites. A change the editor refuses is not made either: its problems go beside the form's fields.
    """
    try:
        result = change()
    except editor.StaleDraft as exc:
        db.session.rollback()
        form.lock_version.data = exc.draft.lock_version
        return _Saved(False, newer=exc.draft)
    except editor.EditorError as exc:
        db.session.rollback()
        _problems_to_form(form, exc.problems)
        return _Saved(False)
    return _Saved(True, result)


# --- starting ---------------------------------------------------------------------------


def _start(form, start):
    """Start a draft as the form asks; None, with the problems beside the form's fields, if it cannot start."""
    try:
        draft = start()
    except editor.EditorError as exc:
        db.session.rollback()
        for name, message in exc.problems.items():
            getattr(form, name or "source", form.source).errors.append(message)
        return None
    return draft


@bp.route("/new", methods=["GET", "POST"])
@requires(C.EDIT_TEMPLATES)
def new_template():
    """Start a new template, from scratch or from a JSON file."""
    form = NewTemplateForm()
    if form.validate_on_submit():
        draft = _start(
            form,
            lambda: editor.start_new_template(
                form.source.data,
                current_user,
                key=form.key.data or "",
                title=form.title.data or "",
                upload=_upload_text(),
            ),
        )
        if draft is not None:
            flash("The new template has been started as a draft. Nothing is live until you publish it.", "success")
            return redirect(url_for("editor.show_draft", key=draft.key))
    return render_template("editor/new_template.html", form=form)


@bp.route("/<key>/draft/new", methods=["GET", "POST"])
@requires(C.EDIT_TEMPLATES)
def start_draft(key: str):
    """Start the next version of a template: from the live version, from scratch or from a JSON file."""
    live = editor.live_version(key) or abort(404)
    existing = editor.draft_for(key)
    if existing is not None:
        flash("There is already a draft of the next version. Continue editing it here.", "info")
        return redirect(url_for("editor.show_draft", key=key))
    form = StartDraftForm()
    if form.validate_on_submit():
        draft = _start(
            form,
            lambda: editor.start_draft(key, form.source.data, current_user, title=live.title, upload=_upload_text()),
        )
        if draft is not None:
            flash(
                f"Version {draft.definition['version']} has been started as a draft. Nothing changes for schools "
                "until you publish it.",
                "success",
            )
            return redirect(url_for("editor.show_draft", key=key))
    return render_template("editor/start_draft.html", form=form, live=live)


# --- the draft's page -------------------------------------------------------------------


@bp.get("/<key>/draft")
@requires(C.EDIT_TEMPLATES)
def show_draft(key: str):
    """Show the draft's sections and questions, with what can be done to each."""
    draft = _draft_or_404(key)
    return render_template(
        "editor/draft.html", draft=draft, definition=draft.definition, live=editor.live_version(key), form=ActionForm()
    )


@bp.route("/<key>/draft/details", methods=["GET", "POST"])
@requires(C.EDIT_TEMPLATES)
def edit_details(key: str):
    """Change the template's title and description."""
    draft = _draft_or_404(key)
    form = DetailsForm()
    stale = None
    if form.validate_on_submit():
        outcome = _save(
            form,
            lambda: editor.update_details(
                draft, form.opened_at, current_user, title=form.title.data, description=form.description.data or ""
            ),
        )
        if outcome.made:
            flash("The title and description have been saved.", "success")
            return redirect(url_for("editor.show_draft", key=key))
        stale = outcome.newer and _stale(outcome.newer)
    elif request.method == "GET":
        form.title.data = draft.definition.get("title", "")
        form.description.data = draft.definition.get("description", "")
        form.lock_version.data = draft.lock_version
    return render_template("editor/details.html", draft=draft, form=form, stale=stale), (409 if stale else 200)


@bp.route("/<key>/draft/sections/new", methods=["GET", "POST"])
@requires(C.EDIT_TEMPLATES)
def add_section(key: str):
    """Add a section at the end of the draft."""
    return _section_page(_draft_or_404(key), None)


@bp.route("/<key>/draft/sections/<section_key>", methods=["GET", "POST"])
@requires(C.EDIT_TEMPLATES)
def edit_section(key: str, section_key: str):
    """Change a section's title and description."""
    draft = _draft_or_404(key)
    found = editor.find_section(draft.definition, section_key) or abort(404)
    return _section_page(draft, found[1])


def _section_page(draft, section: dict | None):
    form = SectionDetailsForm()
    stale = None
    if form.validate_on_submit():

        def change() -> None:
            details = {"title": form.title.data, "description": form.description.data or ""}
            if section is None:
                editor.add_section(draft, form.opened_at, current_user, **details)
            else:
                editor.update_section(draft, form.opened_at, current_user, section["key"], **details)

        outcome = _save(form, change)
        if outcome.made:
            flash(f"The section ‘{form.title.data.strip()}’ has been saved.", "success")
            return redirect(url_for("editor.show_draft", key=draft.key))
        stale = outcome.newer and _stale(outcome.newer)
    elif request.method == "GET":
        form.title.data = (section or {}).get("title", "")
        form.description.data = (section or {}).get("description", "")
        form.lock_version.data = draft.lock_version
    saved = editor.find_section(draft.definition, section["key"])[1] if section and stale else None
    return render_template("editor/section.html", draft=draft, section=section, form=form, stale=stale, saved=saved), (
        409 if stale else 200
    )


@bp.route("/<key>/draft/sections/<section_key>/questions/new", methods=["GET", "POST"])
@requires(C.EDIT_TEMPLATES)
def add_question(key: str, section_key: str):
    """Add a question at the end of a section."""
    draft = _draft_or_404(key)
    found = editor.find_section(draft.definition, section_key) or abort(404)
    return _question_page(draft, found[1], None)


@bp.route("/<key>/draft/questions/<question_key>", methods=["GET", "POST"])
@requires(C.EDIT_TEMPLATES)
def edit_question(key: str, question_key: str):
    """Change a question: its words, answer type, options, gap rule, follow-up, condition and guidance."""
    draft = _draft_or_404(key)
    section, _index, question = editor.find_question(draft.definition, question_key) or abort(404)
    return _question_page(draft, section, question)


def _question_page(draft, section: dict, question: dict | None):
    earlier = editor.earlier_questions(draft.definition, question["key"] if question else None)
    form = QuestionForm(earlier=earlier)
    stale = None
    saved = None
    if form.validate_on_submit():
        problems = form.definition_problems()
        if problems:
            _problems_to_form(form, problems)
        else:

            def change() -> str:
                if question is None:
                    return editor.add_question(draft, form.opened_at, current_user, section["key"], form.question())
                return editor.update_question(draft, form.opened_at, current_user, question["key"], form.question())

            outcome = _save(form, change)
            if outcome.made:
                flash(f"The question ‘{form.question()['text']}’ has been saved.", "success")
                return redirect(url_for("editor.show_draft", key=draft.key) + f"#question-{outcome.result}")
            if outcome.newer is not None:
                stale = _stale(outcome.newer)
                if question is not None:
                    found = editor.find_question(outcome.newer.definition, question["key"])
                    saved = found[2] if found else {}
    elif request.method == "GET":
        if question is not None:
            form.fill(question)
        form.lock_version.data = draft.lock_version
    return render_template(
        "editor/question.html", draft=draft, section=section, question=question, form=form, stale=stale, saved=saved
    ), (409 if stale else 200)


def _act(key: str, do, done: str, what: str):
    """Run a move or a removal posted from the draft's page; refuse one made from an older page."""
    draft = _draft_or_404(key)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        do(draft, form)
    except editor.StaleDraft as exc:
        db.session.rollback()
        stale = _stale(exc.draft)
        flash(
            f"Your change ({what}) was not made: {stale['who']} changed the draft after you opened the page. "
            "This is the draft as it is now; make the change again if it is still needed.",
            "info",
        )
    except editor.EditorError as exc:
        db.session.rollback()
        flash(str(exc), "info")
    else:
        flash(done, "success")
    return redirect(url_for("editor.show_draft", key=key))


def _direction(form) -> int:
    return {"up": -1, "down": 1}.get(form.direction.data) or abort(400)


#: what the draft's page moves and removes, by the word in its URLs: the users' word, and the editor's moves
_PARTS = {
    "sections": ("section", editor.move_section, editor.remove_section),
    "questions": ("question", editor.move_question, editor.remove_question),
}
_PART = "<any(" + ", ".join(_PARTS) + "):part>"


@bp.post(f"/<key>/draft/{_PART}/<part_key>/move")
@requires(C.EDIT_TEMPLATES)
def move_part(key: str, part: str, part_key: str):
    """Move a section or a question up or down (a question past a section's edge goes into the next section)."""
    noun, move, _remove = _PARTS[part]
    return _act(
        key,
        lambda d, f: move(d, f.opened_at, current_user, part_key, _direction(f)),
        f"The {noun} has been moved.",
        f"moving a {noun} {request.form.get('direction', '')}",
    )


@bp.post(f"/<key>/draft/{_PART}/<part_key>/remove")
@requires(C.EDIT_TEMPLATES)
def remove_part(key: str, part: str, part_key: str):
    """Remove a section (with its questions) or a question."""
    noun, _move, remove = _PARTS[part]
    return _act(
        key,
        lambda d, f: remove(d, f.opened_at, current_user, part_key),
        f"The {noun} has been removed.",
        f"removing a {noun}",
    )


# --- preview ----------------------------------------------------------------------------


def _preview_response(draft):
    """An unsaved response to the draft, as a DSL of an example school would start it."""
    template = editor.preview_template(draft)
    cycle = Cycle(
        id=0,
        slug="preview",
        name=template.title or "Preview",
        template=template,
        opens_on=today(),
        due_on=today() + timedelta(days=90),
    )
    establishment = Establishment(id=0, urn="100000", name="Example Primary School")
    assignment = Assignment(id=0, cycle=cycle, establishment=establishment, establishment_id=0)
    response = AuditResponse(id=0, status=ResponseStatus.NOT_STARTED, assignment=assignment, return_comment="")
    return response


@bp.get("/<key>/draft/preview")
@requires(C.EDIT_TEMPLATES)
def preview_draft(key: str):
    """Show the draft's task list exactly as a DSL will see it; nothing is saved."""
    from surveyapp.audits.services import section_summaries

    draft = _draft_or_404(key)
    response = _preview_response(draft)
    return render_template(
        "audits/task_list.html",
        response=response,
        trust_response=None,
        sections=section_summaries(response),
        academies=[],
        preview=draft,
    )


@bp.route("/<key>/draft/preview/<section_key>", methods=["GET", "POST"])
@requires(C.EDIT_TEMPLATES)
def preview_section(key: str, section_key: str):
    """Show one section of the draft exactly as a DSL will see it; answers posted are checked, never saved."""
    draft = _draft_or_404(key)
    response = _preview_response(draft)
    section = next((s for s in response.assignment.cycle.template.sections if s.key == section_key), None) or abort(404)
    all_questions = [q for s in response.assignment.cycle.template.sections for q in s.questions]
    form = SectionForm(section.questions, response.assignment.cycle.opens_on, all_questions)
    if request.method == "POST":
        form.fill_posted(request.form)
    # As for a DSL who has answered nothing elsewhere yet: conditions on other sections' questions are false.
    form.apply_conditions({})
    return render_template(
        "audits/section.html",
        response=response,
        section=section,
        form=form,
        conflict=None,
        saved_with_errors=False,
        restored=False,
        kept_token=None,
        trust=None,
        any_last_year=False,
        preview=draft,
    )


# --- checking, publishing, discarding, downloading --------------------------------------


@bp.route("/<key>/draft/publish", methods=["GET", "POST"])
@requires(C.EDIT_TEMPLATES)
def publish_draft(key: str):
    """Check the draft as a whole, compare it with the live version, and publish it."""
    draft = _draft_or_404(key)
    form = ActionForm()
    problems = editor.problems_with(draft)
    live = editor.live_version(key)
    if form.validate_on_submit():
        try:
            template = editor.publish(draft, form.opened_at, current_user)
        except editor.NotPublishable as exc:
            db.session.rollback()
            problems = exc.problems
        except editor.StaleDraft as exc:
            db.session.rollback()
            draft = exc.draft
            flash(
                f"The draft was not published: {_stale(draft)['who']} changed it after you opened this page. "
                "Check it again below, then publish.",
                "info",
            )
            return redirect(url_for("editor.publish_draft", key=key))
        else:
            flash(
                f"Version {template.version} of ‘{template.title}’ is live. Cycles opened from now on use it; "
                "it can no longer change.",
                "success",
            )
            return redirect(url_for("manage.show_template", template_id=template.id))
    comparison = editor.compare(live.definition if live else None, draft.definition)
    return render_template(
        "editor/publish.html", draft=draft, live=live, problems=problems, comparison=comparison, form=form
    ), (400 if request.method == "POST" else 200)


@bp.post("/<key>/draft/discard")
@requires(C.EDIT_TEMPLATES)
def discard_draft(key: str):
    """Throw the draft away; the live version is untouched."""
    draft = _draft_or_404(key)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        editor.discard(draft, form.opened_at, current_user)
    except editor.StaleDraft:
        db.session.rollback()
        flash("The draft was not discarded: someone changed it after you opened the page. Check it first.", "info")
        return redirect(url_for("editor.show_draft", key=key))
    flash("The draft has been discarded.", "success")
    return redirect(url_for("manage.list_templates"))


def _json_download(definition: dict, filename: str) -> Response:
    return Response(
        editor.export_text(definition),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/<key>/draft.json")
@requires(C.EDIT_TEMPLATES)
def export_draft(key: str):
    """Download the draft as JSON (the file `surveyapp templates load` reads)."""
    draft = _draft_or_404(key)
    return _json_download(draft.definition, f"{draft.key}-v{draft.definition.get('version', '')}-draft.json")


@bp.get("/<int:template_id>.json")
@requires(C.READ_LA_FIGURES)
def export_template(template_id: int):
    """Download a published version as JSON; loading it back gives the same version."""
    template = db.session.get(AuditTemplate, template_id) or abort(404)
    return _json_download(template.definition, f"{template.key}-v{template.version}.json")
