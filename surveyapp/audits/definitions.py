"""Reading an audit template definition (JSON or YAML) and storing it as a version.

A definition is checked in full before anything is stored, and every problem
is reported with the path of the item it concerns, e.g.
``sections[6].questions[2].gap: "when" lists "maybe", which is not an answer to a yes_no question``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from surveyapp.audits.answer_types import answer_type
from surveyapp.audits.models import AuditTemplate, QuestionType, TemplateQuestion, TemplateSection
from surveyapp.audits.questions import NOT_APPLICABLE, allowed_values, option_objects
from surveyapp.extensions import db

BUILT_IN_FOLDER = Path(__file__).parent.parent / "audit_templates"
_KEY = re.compile(r"^[a-z][a-z0-9_\-]{0,79}$")
_URL = re.compile(r"^https://[^\s/$.?#][^\s]*$")
_TEMPLATE_KEYS = {"key", "title", "version", "description", "sections"}
_SECTION_KEYS = {"key", "title", "description", "questions"}
_QUESTION_KEYS = {
    "key",
    "text",
    "help",
    "type",
    "required",
    "tags",
    "gap",
    "follow_up",
    "options",
    "not_applicable",
    "condition",
    "guidance",
}


class DefinitionError(ValueError):
    """The definition is not a valid template; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def read_definition_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    return parse_definition_text(text, yaml_file=path.suffix.lower() in {".yaml", ".yml"})


def parse_definition_text(text: str, yaml_file: bool = False) -> dict[str, Any]:
    try:
        if yaml_file:
            import yaml  # optional: only needed for YAML definitions

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except ImportError as exc:
        raise DefinitionError(["YAML definitions need the PyYAML package; use JSON instead"]) from exc
    except json.JSONDecodeError as exc:
        raise DefinitionError([f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"]) from exc
    except Exception as exc:  # yaml.YAMLError and friends
        raise DefinitionError([f"not valid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise DefinitionError(["the file must hold one template object"])
    return data


def validate_definition(data: dict[str, Any]) -> list[str]:
    """Return every problem with a definition (an empty list means it is valid)."""
    problems: list[str] = []
    _unknown_keys(data, _TEMPLATE_KEYS, "template", problems)
    if not isinstance(data.get("key"), str) or not _KEY.match(data.get("key", "")):
        problems.append('key: required, lower-case letters, digits, "-" or "_", e.g. "s175-schools"')
    if not isinstance(data.get("title"), str) or not data.get("title", "").strip():
        problems.append("title: required text")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append("version: required, a whole number of 1 or more")
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        problems.append("sections: required, a list of at least one section")
        return problems
    section_keys: set[str] = set()
    #: every question key so far -> the answers a condition may name (None: no fixed answers)
    question_keys: dict[str, set[str] | None] = {}
    for s_index, section in enumerate(sections):
        where = f"sections[{s_index}]"
        if not isinstance(section, dict):
            problems.append(f"{where}: must be an object")
            continue
        _unknown_keys(section, _SECTION_KEYS, where, problems)
        key = section.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            problems.append(f"{where}.key: required, lower-case letters, digits and _")
        elif key in section_keys:
            problems.append(f'{where}.key: "{key}" is used by another section')
        else:
            section_keys.add(key)
        if not isinstance(section.get("title"), str) or not section.get("title", "").strip():
            problems.append(f"{where}.title: required text")
        questions = section.get("questions")
        if not isinstance(questions, list) or not questions:
            problems.append(f"{where}.questions: required, a list of at least one question")
            continue
        for q_index, question in enumerate(questions):
            _validate_question(question, f"{where}.questions[{q_index}]", question_keys, problems)
    return problems


def _validate_question(question: Any, where: str, seen: dict[str, set[str] | None], problems: list[str]) -> None:
    if not isinstance(question, dict):
        problems.append(f"{where}: must be an object")
        return
    _unknown_keys(question, _QUESTION_KEYS, where, problems)
    key = question.get("key")
    new_key = None
    if not isinstance(key, str) or not _KEY.match(key) or "__" in key:
        problems.append(f"{where}.key: required, lower-case letters, digits and single underscores")
    elif key in seen:
        problems.append(f'{where}.key: "{key}" is used by another question')
    else:
        new_key = key
        seen[key] = None  # until its answers are known; a later question may still refer to it
    if not isinstance(question.get("text"), str) or not question.get("text", "").strip():
        problems.append(f"{where}.text: required text")
    if "help" in question and not isinstance(question["help"], str):
        problems.append(f"{where}.help: must be text")
    if "required" in question and not isinstance(question["required"], bool):
        problems.append(f"{where}.required: must be true or false")
    not_applicable = question.get("not_applicable", False)
    if not isinstance(not_applicable, bool):
        problems.append(f"{where}.not_applicable: must be true or false")
        not_applicable = False
    _validate_guidance(question.get("guidance"), f"{where}.guidance", problems)
    if "condition" in question:
        _validate_condition(question["condition"], key, seen, f"{where}.condition", problems)
    tags = question.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) and _KEY.match(tag) for tag in tags):
        problems.append(f"{where}.tags: must be a list of lower-case words")
    try:
        question_type = QuestionType(question.get("type"))
    except ValueError:
        listed = ", ".join(member.value for member in QuestionType)
        problems.append(f"{where}.type: must be one of {listed}")
        return
    options = answer_type(question_type).check_options(question.get("options"), where, problems)
    if not_applicable and NOT_APPLICABLE in allowed_values(question_type, options):
        problems.append(
            f'{where}.options: "{NOT_APPLICABLE}" is the Not applicable answer; give the option another value'
        )
    if new_key is not None and allowed_values(question_type, options or []):
        seen[new_key] = allowed_values(question_type, options or []) | ({NOT_APPLICABLE} if not_applicable else set())
    gap = question.get("gap")
    if gap is not None:
        _validate_gap(gap, question_type, options or [], f"{where}.gap", problems)
    follow_up = question.get("follow_up")
    if follow_up is not None:
        if gap is None:
            problems.append(f"{where}.follow_up: only a question with a gap rule can have a follow-up")
        if (
            not isinstance(follow_up, dict)
            or set(follow_up) - {"prompt"}
            or not isinstance(follow_up.get("prompt", ""), str)
        ):
            problems.append(f'{where}.follow_up: must be {{"prompt": "..."}}')


def _validate_guidance(guidance: Any, where: str, problems: list[str]) -> None:
    if guidance is None:
        return
    if not isinstance(guidance, list) or not all(
        isinstance(link, dict)
        and set(link) == {"title", "url"}
        and isinstance(link["title"], str)
        and link["title"].strip()
        and isinstance(link["url"], str)
        and _URL.match(link["url"])
        for link in guidance
    ):
        problems.append(
            f'{where}: must be a list of {{"title": ..., "url": "https://..."}}, each with a title and a web address'
        )


def _validate_condition(
    condition: Any, own_key: Any, earlier: dict[str, set[str] | None], where: str, problems: list[str]
) -> None:
    if (
        not isinstance(condition, dict)
        or set(condition) != {"question", "in"}
        or not isinstance(condition["question"], str)
        or not isinstance(condition["in"], list)
        or not condition["in"]
    ):
        problems.append(f'{where}: must be {{"question": "<key of an earlier question>", "in": ["<answer>", ...]}}')
        return
    target = condition["question"]
    if target == own_key or target not in earlier:
        problems.append(f'{where}: "{target}" is not the key of an earlier question')
        return
    answers = earlier[target]
    if answers is None:
        problems.append(f'{where}: "{target}" has no fixed answers to depend on (only yes/no and choice questions)')
        return
    for value in condition["in"]:
        if value not in answers:
            problems.append(f'{where}: "in" lists "{value}", which is not an answer to "{target}"')


def _validate_gap(gap: Any, question_type: QuestionType, options, where: str, problems: list[str]) -> None:
    if not isinstance(gap, dict) or len(gap) != 1:
        problems.append(f'{where}: must be one rule: {{"when": [...]}}, {{"older_than_months": N}} or {{"below": N}}')
        return
    ((rule, value),) = gap.items()
    kind = answer_type(question_type)
    if rule == "when" and rule not in kind.gap_rules:
        problems.append(f'{where}: "when" applies to questions with fixed answers, not {question_type.value}')
    elif rule == "older_than_months" and rule not in kind.gap_rules:
        problems.append(f'{where}: "older_than_months" applies to date questions only')
    elif rule == "below" and rule not in kind.gap_rules:
        problems.append(f'{where}: "below" applies to number and percentage questions only')
    elif rule in ("when", "older_than_months", "below"):
        kind.check_gap_value(rule, value, options, where, problems)
    else:
        problems.append(f'{where}: unknown rule "{rule}"')


def _unknown_keys(item: dict, allowed: set[str], where: str, problems: list[str]) -> None:
    for key in sorted(set(item) - allowed):
        problems.append(f'{where}: unknown field "{key}"')


class TemplateFrozen(Exception):
    """A version in use by a cycle cannot change."""


class TemplatePublished(TemplateFrozen):
    """A published version cannot be replaced, even before a cycle uses it."""


def load_template(data: dict[str, Any], new_version: bool = False) -> tuple[AuditTemplate, str]:
    """Store a definition; return the template and what happened ("created", "replaced", "unchanged").

    Only a draft version (loaded from a file, not published, not used by a cycle) is replaced in place. A
    published version, or one a cycle uses, is frozen: loading different content under its number is
    refused, or with ``new_version`` stored as the next version number.

    :raises TemplatePublished: the version is published (and ``new_version`` is not given)
    :raises TemplateFrozen: a cycle uses the version (and ``new_version`` is not given)
    """
    problems = validate_definition(data)
    if problems:
        raise DefinitionError(problems)
    existing = db.session.scalar(
        select(AuditTemplate).where(AuditTemplate.key == data["key"], AuditTemplate.version == data["version"])
    )
    if existing is not None and existing.definition == data:
        return existing, "unchanged"
    if existing is not None and (existing.is_frozen or existing.published):
        if not new_version:
            _refuse_to_replace(existing)
        latest = db.session.scalar(select(func.max(AuditTemplate.version)).where(AuditTemplate.key == data["key"]))
        data = {**data, "version": latest + 1}
        existing = None
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
        outcome = "replaced"
    else:
        outcome = "created"
    template = _build(data)
    db.session.add(template)
    db.session.flush()
    return template, outcome


def _refuse_to_replace(existing: AuditTemplate) -> None:
    if existing.is_frozen:
        raise TemplateFrozen(
            f'Version {existing.version} of "{existing.key}" is used by cycle '
            f"{', '.join(c.slug for c in existing.cycles)} and cannot change. "
            "Give the file a new version number (or load it as a new version)."
        )
    raise TemplatePublished(
        f'Version {existing.version} of "{existing.key}" is published and cannot be replaced: '
        "cycles opened from now on may use it as it is."
    )


def _build(data: dict[str, Any]) -> AuditTemplate:
    template = AuditTemplate(
        key=data["key"],
        version=data["version"],
        title=data["title"].strip(),
        description=data.get("description", "").strip(),
        definition=data,
    )
    position = 0
    for s_index, section_data in enumerate(data["sections"]):
        section = TemplateSection(
            key=section_data["key"],
            title=section_data["title"].strip(),
            description=section_data.get("description", "").strip(),
            position=s_index,
        )
        template.sections.append(section)
        for question_data in section_data["questions"]:
            position += 1
            question = TemplateQuestion(
                key=question_data["key"],
                text=question_data["text"].strip(),
                help=question_data.get("help", "").strip(),
                type=QuestionType(question_data["type"]),
                required=question_data.get("required", True),
                options=option_objects(question_data.get("options", [])),
                tags=question_data.get("tags", []),
                gap=question_data.get("gap"),
                follow_up=question_data.get("follow_up"),
                not_applicable=question_data.get("not_applicable", False),
                condition=question_data.get("condition"),
                guidance=question_data.get("guidance", []),
                position=position,
            )
            question.template = template
            section.questions.append(question)
    return template


def latest_template(key: str) -> AuditTemplate | None:
    return db.session.scalar(
        select(AuditTemplate).where(AuditTemplate.key == key).order_by(AuditTemplate.version.desc()).limit(1)
    )


def load_built_in_templates() -> list[tuple[AuditTemplate, str]]:
    """Load the templates shipped with surveyapp (a new install starts with these)."""
    return [load_template(read_definition_file(path)) for path in sorted(BUILT_IN_FOLDER.glob("*.json"))]
