"""Editing the next version of a template in the browser: drafts, their changes, publishing.

A draft holds a definition in the shape ``templates load`` reads, so what the lead
builds and what a JSON file holds are one thing. Every change takes the draft's
lock version from the page it was made on and is refused if somebody else changed
the draft since (like section saves). Plain functions that flush and never commit.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update

from surveyapp.activity.services import record
from surveyapp.audits.definitions import (
    DefinitionError,
    _build,
    latest_template,
    load_template,
    parse_definition_text,
    validate_definition,
)
from surveyapp.audits.models import AuditTemplate, TemplateDraft
from surveyapp.audits.questions import NOT_APPLICABLE, NOT_APPLICABLE_LABEL, choices_for, describe_gap_rule
from surveyapp.extensions import db
from surveyapp.timeutil import utcnow

_KEY_CHARS = re.compile(r"[^a-z0-9]+")
#: words left out of keys made from a question's text
_SMALL_WORDS = {
    "the",
    "and",
    "are",
    "does",
    "did",
    "has",
    "have",
    "you",
    "your",
    "for",
    "with",
    "any",
    "all",
    "this",
    "that",
    "there",
    "been",
    "was",
    "were",
    "from",
    "how",
    "what",
    "when",
    "who",
    "which",
    "its",
    "our",
}
_PATH = re.compile(r"^sections\[(\d+)\](?:\.questions\[(\d+)\])?(?:\.(\w+))?")


class StaleDraft(Exception):
    """Somebody else changed the draft after the page was opened."""

    def __init__(self, draft: TemplateDraft):
        super().__init__("stale draft")
        self.draft = draft


class EditorError(ValueError):
    """A change cannot be made as asked; ``problems`` maps a form field ('' for the page) to its reason."""

    def __init__(self, problems: dict[str, str] | str):
        if isinstance(problems, str):
            problems = {"": problems}
        super().__init__("; ".join(problems.values()))
        self.problems = problems


# --- reading --------------------------------------------------------------------------


def draft_for(key: str) -> TemplateDraft | None:
    return db.session.scalar(select(TemplateDraft).where(TemplateDraft.key == key))


def live_version(key: str) -> AuditTemplate | None:
    """The published version cycles open with from now on: the latest."""
    return latest_template(key)


def find_section(definition: dict, section_key: str) -> tuple[int, dict] | None:
    for index, section in enumerate(definition.get("sections", [])):
        if section.get("key") == section_key:
            return index, section
    return None


def find_question(definition: dict, question_key: str) -> tuple[dict, int, dict] | None:
    """(section, index in it, question) for a question key, or None."""
    for section in definition.get("sections", []):
        for index, question in enumerate(section.get("questions", [])):
            if question.get("key") == question_key:
                return section, index, question
    return None


def all_questions(definition: dict) -> list[dict]:
    return [q for s in definition.get("sections", []) for q in s.get("questions", [])]


def earlier_questions(definition: dict, question_key: str | None) -> list[dict]:
    """The questions asked before this one (all of them for a question not yet added)."""
    earlier = []
    for question in all_questions(definition):
        if question.get("key") == question_key:
            break
        earlier.append(question)
    return earlier


def preview_template(draft: TemplateDraft) -> AuditTemplate:
    """The draft as an unsaved template, for the preview pages; never added to the session."""
    template = _build_loose(draft.definition)
    return template


def _build_loose(definition: dict) -> AuditTemplate:
    # The preview shows an unfinished draft too: fill in what _build needs but the draft may lack.
    data = copy.deepcopy(definition)
    data.setdefault("title", "")
    data.setdefault("version", 1)
    for section in data.get("sections", []):
        section.setdefault("title", "")
        section.setdefault("questions", [])
        for question in section["questions"]:
            question.setdefault("text", "")
    template = _build(data)
    # Ids let the pages tell sections and questions apart; nothing is flushed.
    for index, section in enumerate(template.sections, start=1):
        section.id = -index
    return template


# --- starting a draft -----------------------------------------------------------------


def start_draft(key: str, source: str, user, *, title: str = "", upload: str | bytes | None = None) -> TemplateDraft:
    """Start the next version of template ``key``.

    :param source: "live" (a copy of the live version), "scratch" (one empty section) or "upload" (a JSON file)
    :param title: the title of a new template started from scratch
    :param upload: the uploaded file's text, for "upload"
    :raises EditorError: there is already a draft, no live version to copy, or the file is not a valid template
    """
    if draft_for(key) is not None:
        raise EditorError(f"There is already a draft of {key}. Continue editing it, or discard it first.")
    live = live_version(key)
    next_version = (live.version + 1) if live else 1
    if source == "live":
        if live is None:
            raise EditorError({"source": "There is no live version to copy. Start from scratch or upload a file."})
        definition = copy.deepcopy(live.definition)
    elif source == "scratch":
        title = (title or (live.title if live else "")).strip()
        if not title:
            raise EditorError({"title": "Enter a title for the template"})
        definition = {"key": key, "title": title, "sections": []}
    elif source == "upload":
        definition = _read_upload(upload, key)
    else:
        raise EditorError({"source": "Choose how to start the new version"})
    definition["version"] = next_version
    definition = _ordered(definition)
    now = utcnow()
    draft = TemplateDraft(
        key=key,
        definition=definition,
        lock_version=1,
        based_on=live if source == "live" else None,
        created_at=now,
        created_by_id=getattr(user, "id", None),
        updated_at=now,
        updated_by_id=getattr(user, "id", None),
    )
    db.session.add(draft)
    db.session.flush()
    record(
        "template.draft_started",
        user.id,
        key=key,
        version=next_version,
        source=source,
        based_on=live.version if source == "live" else None,
    )
    return draft


def _read_upload(upload: str | bytes | None, key: str | None) -> dict:
    if not upload:
        raise EditorError({"upload": "Choose a JSON file to upload"})
    if isinstance(upload, bytes):
        try:
            upload = upload.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise EditorError({"upload": "The file must be a JSON file saved as UTF-8"}) from None
    try:
        data = parse_definition_text(upload)
    except DefinitionError as exc:
        raise EditorError({"upload": "The file is not a template: " + "; ".join(exc.problems)}) from None
    # The version number is the editor's to give; a file of any earlier version can start the next one.
    problems = validate_definition({**data, "version": 1})
    if problems:
        raise EditorError({"upload": "The file is not a valid template: " + "; ".join(problems)})
    if key is not None and data["key"] != key:
        raise EditorError({"upload": f'The file is for the template "{data["key"]}", not "{key}"'})
    return data


def start_new_template(
    source: str, user, *, key: str = "", title: str = "", upload: str | bytes | None = None
) -> TemplateDraft:
    """Start version 1 of a new template, from scratch (key and title) or from a JSON file."""
    if source == "upload":
        key = _read_upload(upload, None)["key"]
    else:
        key = (key or "").strip()
        problems = validate_definition({"key": key, "title": title or "x", "version": 1, "sections": []})
        if any(p.startswith("key") for p in problems):
            raise EditorError({"key": 'Enter a key of lower-case letters, digits and "-", like "s175-schools"'})
    if live_version(key) is not None:
        raise EditorError(
            {
                "key"
                if source != "upload"
                else "upload": f'There is already a template "{key}": start a new version of it from the templates page'
            }
        )
    return start_draft(key, source, user, title=title, upload=upload)


# --- changing a draft -----------------------------------------------------------------


def _change(draft: TemplateDraft, expected: int, user, definition: dict, action: str, **detail) -> None:
    """Store a changed definition if nobody changed the draft since ``expected``; log it."""
    now = utcnow()
    # The conditional update both checks the version and takes the row lock, so two saves
    # of one draft cannot both pass.
    moved = db.session.execute(
        update(TemplateDraft)
        .where(TemplateDraft.id == draft.id, TemplateDraft.lock_version == expected)
        .values(lock_version=TemplateDraft.lock_version + 1, updated_at=now, updated_by_id=getattr(user, "id", None))
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.refresh(draft)
        raise StaleDraft(draft)
    db.session.refresh(draft, ["lock_version", "updated_at", "updated_by_id"])
    draft.definition = _ordered(definition)
    db.session.flush()
    record(f"template.draft_{action}", user.id, key=draft.key, version=draft.definition.get("version"), **detail)


def _working_copy(draft: TemplateDraft) -> dict:
    return copy.deepcopy(draft.definition)


def _section_still_there(definition: dict, section_key: str) -> tuple[int, dict]:
    """The section's place and itself; refused if someone removed it after the page was opened."""
    found = find_section(definition, section_key)
    if found is None:
        raise EditorError("That section is no longer in the draft")
    return found


def _question_still_there(definition: dict, question_key: str) -> tuple[dict, int, dict]:
    """The question's section, place and itself; refused if someone removed it after the page was opened."""
    found = find_question(definition, question_key)
    if found is None:
        raise EditorError("That question is no longer in the draft")
    return found


def _ordered(definition: dict) -> dict:
    """Fields in the order the built-in files write them, so an export reads like them."""
    order = ["key", "title", "version", "description", "sections"]
    result = {k: definition[k] for k in order if k in definition}
    result.update({k: v for k, v in definition.items() if k not in result})
    return result


def new_key(text: str, taken: set[str], fallback: str = "question") -> str:
    """A key made from some words of the text, not used by anything in ``taken``."""
    words = _KEY_CHARS.sub(" ", text.lower()).split()
    stem = "_".join(w for w in words if len(w) > 2 and w not in _SMALL_WORDS)[:40].strip("_") or fallback
    if not stem[0].isalpha():
        stem = f"{fallback}_{stem}"
    key, number = stem, 2
    while key in taken:
        key, number = f"{stem}_{number}", number + 1
    return key


def update_details(draft: TemplateDraft, expected: int, user, *, title: str, description: str) -> None:
    definition = _working_copy(draft)
    if not title.strip():
        raise EditorError({"title": "Enter a title for the template"})
    definition["title"] = title.strip()
    if description.strip():
        definition["description"] = description.strip()
    else:
        definition.pop("description", None)
    _change(draft, expected, user, definition, "details_changed")


def add_section(draft: TemplateDraft, expected: int, user, *, title: str, description: str = "") -> str:
    """Add a section at the end; return its key."""
    definition = _working_copy(draft)
    if not title.strip():
        raise EditorError({"title": "Enter a title for the section"})
    key = new_key(title, {s.get("key") for s in definition.get("sections", [])}, "section")
    section: dict[str, Any] = {"key": key, "title": title.strip()}
    if description.strip():
        section["description"] = description.strip()
    section["questions"] = []
    definition.setdefault("sections", []).append(section)
    _change(draft, expected, user, definition, "section_added", section=key, title=title.strip())
    return key


def update_section(
    draft: TemplateDraft, expected: int, user, section_key: str, *, title: str, description: str
) -> None:
    definition = _working_copy(draft)
    found = _section_still_there(definition, section_key)
    if not title.strip():
        raise EditorError({"title": "Enter a title for the section"})
    _index, section = found
    rebuilt: dict[str, Any] = {"key": section["key"], "title": title.strip()}
    if description.strip():
        rebuilt["description"] = description.strip()
    rebuilt["questions"] = section.get("questions", [])
    definition["sections"][_index] = rebuilt
    _change(draft, expected, user, definition, "section_changed", section=section_key)


def move_section(draft: TemplateDraft, expected: int, user, section_key: str, direction: int) -> None:
    """Move a section one place up (-1) or down (+1)."""
    definition = _working_copy(draft)
    found = _section_still_there(definition, section_key)
    index, section = found
    target = index + (1 if direction > 0 else -1)
    sections = definition["sections"]
    if not 0 <= target < len(sections):
        raise EditorError("That section cannot move further")
    sections[index], sections[target] = sections[target], sections[index]
    _change(draft, expected, user, definition, "section_moved", section=section_key, to_position=target + 1)


def remove_section(draft: TemplateDraft, expected: int, user, section_key: str) -> None:
    definition = _working_copy(draft)
    found = _section_still_there(definition, section_key)
    index, section = found
    leaving = {q.get("key") for q in section.get("questions", [])}
    _refuse_if_depended_on(definition, leaving, "section")
    del definition["sections"][index]
    _change(
        draft,
        expected,
        user,
        definition,
        "section_removed",
        section=section_key,
        questions=sorted(k for k in leaving if k),
    )


def _refuse_if_depended_on(definition: dict, leaving: set[str], what: str) -> None:
    for question in all_questions(definition):
        condition = question.get("condition") or {}
        if condition.get("question") in leaving and question.get("key") not in leaving:
            raise EditorError(
                f"“{question.get('text', question.get('key'))}” is asked only depending on the answer to "
                f"a question in this {what}. Change or remove that condition first."
            )


def add_question(draft: TemplateDraft, expected: int, user, section_key: str, question: dict) -> str:
    """Add a question at the end of a section; return its key (made from its text unless given)."""
    definition = _working_copy(draft)
    found = _section_still_there(definition, section_key)
    question = dict(question)
    taken = {q.get("key") for q in all_questions(definition)}
    if not question.get("key"):
        question["key"] = new_key(question.get("text", ""), taken)
    found[1].setdefault("questions", []).append(question)
    _check_question(definition, question["key"])
    _change(draft, expected, user, definition, "question_added", section=section_key, question=question["key"])
    return question["key"]


def update_question(draft: TemplateDraft, expected: int, user, question_key: str, question: dict) -> str:
    """Replace a question; a new ``key`` in it renames the question (and conditions that refer to it)."""
    definition = _working_copy(draft)
    found = _question_still_there(definition, question_key)
    section, index, _old = found
    question = dict(question)
    question["key"] = question.get("key") or question_key
    section["questions"][index] = question
    if question["key"] != question_key:
        for other in all_questions(definition):
            condition = other.get("condition")
            if condition and condition.get("question") == question_key:
                condition["question"] = question["key"]
    _check_question(definition, question["key"])
    detail = {"question": question["key"]}
    if question["key"] != question_key:
        detail["was"] = question_key
    _change(draft, expected, user, definition, "question_changed", **detail)
    return question["key"]


def move_question(draft: TemplateDraft, expected: int, user, question_key: str, direction: int) -> None:
    """Move a question one place up (-1) or down (+1); past a section's edge it joins the next section."""
    definition = _working_copy(draft)
    found = _question_still_there(definition, question_key)
    section, index, question = found
    sections = definition["sections"]
    s_index = sections.index(section)
    questions = section["questions"]
    target = index + (1 if direction > 0 else -1)
    if 0 <= target < len(questions):
        questions[index], questions[target] = questions[target], questions[index]
    elif target < 0 and s_index > 0:
        questions.pop(index)
        sections[s_index - 1].setdefault("questions", []).append(question)
    elif target >= len(questions) and s_index + 1 < len(sections):
        questions.pop(index)
        sections[s_index + 1].setdefault("questions", []).insert(0, question)
    else:
        raise EditorError("That question cannot move further")
    _change(draft, expected, user, definition, "question_moved", question=question_key)


def remove_question(draft: TemplateDraft, expected: int, user, question_key: str) -> None:
    definition = _working_copy(draft)
    found = _question_still_there(definition, question_key)
    section, index, question = found
    _refuse_if_depended_on(definition, {question_key}, "question")
    del section["questions"][index]
    _change(draft, expected, user, definition, "question_removed", question=question_key, text=question.get("text", ""))


def _check_question(definition: dict, question_key: str) -> None:
    """Refuse a question the published template could not hold, naming the form field at fault."""
    problems: dict[str, str] = {}
    if sum(1 for q in all_questions(definition) if q.get("key") == question_key) > 1:
        problems["key"] = f'The key "{question_key}" is used by another question: choose another'
    for problem in validate_definition({**definition, "version": 1}):
        where, _sep, reason = problem.partition(": ")
        match = _PATH.match(where)
        if not match or match.group(2) is None:
            continue
        question = definition["sections"][int(match.group(1))]["questions"][int(match.group(2))]
        if question.get("key") != question_key or "is used by another" in reason:
            continue
        if match.group(3) == "key":
            problems.setdefault(
                "key", 'Enter a key of lower-case letters, digits and single underscores, like "dsl_trained"'
            )
        else:
            problems.setdefault(match.group(3) or "", _plain(reason))
    if problems:
        raise EditorError(problems)


def _plain(reason: str) -> str:
    return reason[:1].upper() + reason[1:]


# --- checking, publishing, discarding -------------------------------------------------


@dataclass
class Problem:
    """One reason the draft cannot be published, with where it is."""

    message: str
    section: str = ""  # the section's title, or ""
    question: str = ""  # the question's text, or ""
    section_key: str = ""  # where to fix it
    question_key: str = ""

    @property
    def text(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"Section “{self.section}”" if self.section else "",
                f"question “{self.question}”" if self.question else "",
            )
            if part
        )
        return f"{where}: {self.message}" if where else self.message


def problems_with(draft: TemplateDraft) -> list[Problem]:
    """Everything that stops the draft being published, each naming its section and question."""
    definition = {**draft.definition, "version": draft.definition.get("version", 1)}
    problems = []
    for problem in validate_definition(definition):
        where, _sep, reason = problem.partition(": ")
        match = _PATH.match(where)
        section = question = None
        if match:
            sections = definition.get("sections", [])
            section = sections[int(match.group(1))] if int(match.group(1)) < len(sections) else None
            if section is not None and match.group(2) is not None:
                questions = section.get("questions", [])
                question = questions[int(match.group(2))] if int(match.group(2)) < len(questions) else None
        if where == "sections" and not definition.get("sections"):
            reason = "add at least one section"
        elif match and match.group(2) is None and where.endswith(".questions"):
            reason = "add at least one question to this section"
        else:
            field_name = where.rsplit(".", 1)[-1] if "." in where else where
            reason = f"{field_name.replace('_', ' ')}: {reason}" if question is not None else reason
        problems.append(
            Problem(
                message=reason,
                section=(section or {}).get("title", "") if isinstance(section, dict) else "",
                question=(question or {}).get("text", "") if isinstance(question, dict) else "",
                section_key=str(section.get("key") or "") if isinstance(section, dict) else "",
                question_key=str(question.get("key") or "") if isinstance(question, dict) else "",
            )
        )
    return problems


class NotPublishable(Exception):
    """The draft has problems; ``problems`` lists them."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


def publish(draft: TemplateDraft, expected: int, user) -> AuditTemplate:
    """Store the draft as the next published version (frozen from now on) and remove the draft.

    :raises NotPublishable: the draft is not a valid template
    :raises StaleDraft: somebody changed the draft after the page was opened
    """
    problems = problems_with(draft)
    if problems:
        raise NotPublishable(problems)
    # Take the row lock and check the version before anything is stored.
    _change(draft, expected, user, draft.definition, "publishing")
    latest = db.session.scalar(select(func.max(AuditTemplate.version)).where(AuditTemplate.key == draft.key)) or 0
    definition = {**draft.definition, "version": latest + 1}
    template, _outcome = load_template(_ordered(definition))
    template.published = True
    db.session.delete(draft)
    db.session.flush()
    record("template.published", user.id, key=template.key, version=template.version, questions=len(template.questions))
    return template


def discard(draft: TemplateDraft, expected: int, user) -> None:
    _change(draft, expected, user, draft.definition, "discarding")
    key = draft.key
    db.session.delete(draft)
    db.session.flush()
    record("template.draft_discarded", user.id, key=key)


# --- exchange -------------------------------------------------------------------------


def export_text(definition: dict) -> str:
    """The JSON a template (or draft) is exchanged as; ``templates load`` reads it back unchanged."""
    return json.dumps(definition, indent=2, ensure_ascii=False) + "\n"


def template_version(key: str, version: int | None = None) -> AuditTemplate | None:
    if version is None:
        return latest_template(key)
    return db.session.scalar(select(AuditTemplate).where(AuditTemplate.key == key, AuditTemplate.version == version))


# --- comparison -----------------------------------------------------------------------


@dataclass
class QuestionChange:
    key: str
    text: str
    section: str
    before: str = ""  # the earlier wording, or the earlier gap rule in words
    after: str = ""


@dataclass
class Comparison:
    """What changes between two versions, in the lead's words."""

    earlier_version: int | None
    added: list[QuestionChange] = field(default_factory=list)
    removed: list[QuestionChange] = field(default_factory=list)
    reworded: list[QuestionChange] = field(default_factory=list)
    gap_rules: list[QuestionChange] = field(default_factory=list)
    other: list[QuestionChange] = field(default_factory=list)  # type, options, required, not applicable, condition
    prefilled: list[QuestionChange] = field(default_factory=list)  # same key: last year's answer is offered

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.reworded or self.gap_rules or self.other)


def _indexed(definition: dict | None) -> dict[str, tuple[dict, str]]:
    if not definition:
        return {}
    return {
        q.get("key"): (q, s.get("title", ""))
        for s in definition.get("sections", [])
        for q in s.get("questions", [])
        if q.get("key")
    }


def _gap_words(question: dict) -> str:
    if not question.get("gap"):
        return "no gap rule"
    try:
        return describe_gap_rule(question.get("type"), question.get("gap"), _option_dicts(question.get("options")))
    except (ValueError, KeyError, TypeError):
        return json.dumps(question.get("gap"))


def _option_dicts(options) -> list[dict[str, str]]:
    return [o if isinstance(o, dict) else {"value": o, "label": o} for o in options or []]


_OTHER_FIELDS = {
    "type": "answer type",
    "options": "options",
    "required": "required",
    "not_applicable": "“Not applicable”",
    "condition": "condition",
    "help": "help text",
    "guidance": "guidance links",
    "tags": "tags",
    "follow_up": "follow-up",
}


def compare(earlier: dict | None, later: dict) -> Comparison:
    """Compare two definitions question by question (matched by key)."""
    before, after = _indexed(earlier), _indexed(later)
    comparison = Comparison(earlier_version=(earlier or {}).get("version"))
    for key, (question, section) in after.items():
        text = question.get("text", "")
        if key not in before:
            comparison.added.append(QuestionChange(key, text, section))
            continue
        old, _old_section = before[key]
        comparison.prefilled.append(QuestionChange(key, text, section))
        if old.get("text", "").strip() != text.strip():
            comparison.reworded.append(QuestionChange(key, text, section, before=old.get("text", ""), after=text))
        if (old.get("gap"), old.get("type")) != (question.get("gap"), question.get("type")) or old.get(
            "options"
        ) != question.get("options"):
            if _gap_words(old) != _gap_words(question):
                comparison.gap_rules.append(
                    QuestionChange(key, text, section, before=_gap_words(old), after=_gap_words(question))
                )
        changed = [
            label
            for name, label in _OTHER_FIELDS.items()
            if name not in ("help", "guidance", "tags", "follow_up") and old.get(name) != question.get(name)
        ]
        if changed:
            comparison.other.append(QuestionChange(key, text, section, after=", ".join(changed)))
    for key, (question, section) in before.items():
        if key not in after:
            comparison.removed.append(QuestionChange(key, question.get("text", ""), section))
    return comparison


def condition_words(question: dict, definition: dict) -> str:
    """A question's condition in plain words, e.g. 'only if “Do you have a deputy?” is Yes'."""
    condition = question.get("condition")
    if not condition:
        return ""
    found = find_question(definition, condition.get("question", ""))
    if found is None:
        return f"only if the answer to {condition.get('question')} is " + " or ".join(condition.get("in", []))
    target = found[2]
    labels = dict(choices_for(target.get("type"), _option_dicts(target.get("options"))))
    labels[NOT_APPLICABLE] = NOT_APPLICABLE_LABEL
    answers = " or ".join(labels.get(value, value) for value in condition.get("in", []))
    return f"only if “{target.get('text', '')}” is {answers}"


def gap_words(question: dict) -> str:
    return _gap_words(question) if question.get("gap") else ""
