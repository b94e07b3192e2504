"""Importing earlier years' returns kept in spreadsheets into a cycle: plan (read, check) then apply.

One row per respondent (a URN or a Trust UID), one column per question key of
the cycle's template, an optional Submitted column (yes/no, default yes).
Values are read as a DSL would pick them and checked with
``questions.normalise``. Respondents without a place in the cycle get one:
historic returns define who was in scope. Importing the same file again
replaces those respondents' answers, so it is safe to repeat. All or nothing,
with bulk statements (no query per row).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import delete, insert, select, update

from surveyapp.activity.services import record
from surveyapp.audits.models import (
    Answer,
    Assignment,
    Cycle,
    Response,
    ResponseStatus,
    SectionProgress,
    SectionState,
    StatusEvent,
    TemplateQuestion,
)
from surveyapp.audits.questions import InvalidAnswer, normalise
from surveyapp.audits.services import AnswerInput, reference_for, section_is_complete
from surveyapp.csvfiles import Column, CsvTable, ImportFailed, ImportProblem, read_csv
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db
from surveyapp.timeutil import utcnow

_YES = {"yes", "y", "true", "1", "submitted"}
_NO = {"no", "n", "false", "0", "not submitted", "in progress"}
IMPORT_COMMENT = "Imported from an earlier year's return"


def _insert_many(model, rows: list[dict]) -> None:
    """Insert rows with one executemany. ``render_nulls`` keeps None as NULL: without it the ORM
    leaves out None values and splits the batch wherever the None columns change."""
    if rows:
        db.session.execute(insert(model).execution_options(render_nulls=True), rows)


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass
class RespondentReturn:
    """One valid row: a respondent's answers (canonical values) and whether it was submitted."""

    line: int
    label: str  # "URN 100001" or "trust 5001"
    establishment_id: int | None
    trust_id: int | None
    urn_or_uid: str
    submitted: bool
    answers: dict[str, str]


@dataclass
class _Existing:
    assignment_id: int
    response_id: int | None
    status: ResponseStatus | None
    imported: bool
    submitted_at: datetime | None


@dataclass
class ResponsesPlan:
    cycle: Cycle
    returns: list[RespondentReturn]
    questions: list[TemplateQuestion]
    #: respondent (("e", id) or ("t", id)) -> its place in the cycle, where it has one
    existing: dict[tuple[str, int], _Existing] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        new = sum(1 for r in self.returns if _respondent(r) not in self.existing)
        replaced = sum(1 for r in self.returns if (e := self.existing.get(_respondent(r))) and e.imported)
        return {
            "respondents": len(self.returns),
            "new_assignments": new,
            "replaced": replaced,
            "submitted": sum(1 for r in self.returns if r.submitted),
            "in_progress": sum(1 for r in self.returns if not r.submitted),
            "answers": sum(len(r.answers) for r in self.returns),
        }

    def summary(self) -> str:
        c = self.counts
        return (f"{c['respondents']} returns ({c['submitted']} submitted, {c['in_progress']} in progress), "
                f"{c['answers']} answers; {c['new_assignments']} added to the cycle, {c['replaced']} replaced")


def _respondent(item) -> tuple[str, int]:
    return ("e", item.establishment_id) if item.establishment_id is not None else ("t", item.trust_id)


def plan_responses(cycle: Cycle, data: bytes) -> ResponsesPlan:
    """Read a returns file for ``cycle`` and check every value, writing nothing.

    :raises ImportFailed: every problem with the file
    """
    template = cycle.template
    questions = list(template.questions)
    columns = [
        Column("urn", "URN"),
        Column("trust_uid", "Trust UID", ("Trusts (code)", "Trust code")),
        Column("submitted", "Submitted"),
        *[Column(f"q:{q.key}", q.key) for q in questions],
    ]
    table = read_csv(data, columns)
    keys = [q.key for q in questions]
    for header in table.unmatched:
        guess = difflib.get_close_matches(header.lower(), keys, n=1)
        hint = f' — did you mean "{guess[0]}"?' if guess else ""
        table.problems.append(ImportProblem(
            1, header, f'is not a question of the cycle’s template ({template.key} version {template.version}){hint}'))
    if not table.has("urn") and not table.has("trust_uid"):
        table.problems.append(ImportProblem(1, None, 'the file has no "URN" column or "Trust UID" column: the header '
                                                     "row must name one of them"))
        raise ImportFailed(table.problems)
    if table.unmatched:
        raise ImportFailed(table.problems)

    establishment_ids = dict(db.session.execute(select(Establishment.urn, Establishment.id)).all())
    trust_ids = dict(db.session.execute(select(Trust.uid, Trust.id)).all())
    existing = {
        ("e", row.establishment_id) if row.establishment_id is not None else ("t", row.trust_id):
            _Existing(row.id, row.response_id, row.status, bool(row.imported), row.submitted_at)
        for row in db.session.execute(
            select(Assignment.id, Assignment.establishment_id, Assignment.trust_id, Response.id.label("response_id"),
                   Response.status, Response.imported, Response.submitted_at)
            .outerjoin(Response, Response.assignment_id == Assignment.id)
            .where(Assignment.cycle_id == cycle.id)
        )
    }
    returns = _returns(table, questions, establishment_ids, trust_ids, existing)
    table.raise_if_problems()
    return ResponsesPlan(cycle, returns, questions, existing)


def _returns(table: CsvTable, questions, establishment_ids, trust_ids, existing) -> list[RespondentReturn]:
    returns = []
    first_line: dict[tuple[str, int], int] = {}
    for row in table.rows:
        line = row.line
        urn, uid = row.get("urn"), row.get("trust_uid")
        establishment_id = trust_id = None
        if urn and uid:
            table.problem(line, "trust_uid", "give a URN or a Trust UID, not both")
            continue
        if urn:
            establishment_id = establishment_ids.get(urn)
            if establishment_id is None:
                table.problem(line, "urn", f"URN {urn} is not in the register: import the establishments first, or correct the URN")
                continue
            label = f"URN {urn}"
        elif uid:
            trust_id = trust_ids.get(uid)
            if trust_id is None:
                table.problem(line, "trust_uid", f"trust {uid} is not in the register: import the establishments first, or correct the UID")
                continue
            label = f"trust {uid}"
        else:
            table.problem(line, "urn" if table.has("urn") else "trust_uid", "is blank: say whose return this row is")
            continue
        respondent = ("e", establishment_id) if establishment_id is not None else ("t", trust_id)
        where = "urn" if establishment_id is not None else "trust_uid"
        if respondent in first_line:
            table.problem(line, where, f"{label} is also on line {first_line[respondent]}: give one row per return")
            continue
        first_line[respondent] = line
        place = existing.get(respondent)
        if place is not None and place.response_id is not None and not place.imported and place.status is not ResponseStatus.NOT_STARTED:
            table.problem(line, where, f"{label} has already started this audit in the service ({place.status.label.lower()}): "
                                       "importing would overwrite its answers")
            continue

        submitted_text = row.get("submitted").lower()
        submitted = True
        if submitted_text in _NO:
            submitted = False
        elif submitted_text and submitted_text not in _YES:
            table.problem(line, "submitted", f'"{row.get("submitted")}" must be yes or no (blank means yes)')
        answers = {}
        for question in questions:
            raw = row.get(f"q:{question.key}")
            try:
                value = normalise(question.type, raw, question.options, question.not_applicable)
            except InvalidAnswer as exc:
                table.problem(line, f"q:{question.key}", str(exc))
                continue
            if value:
                answers[question.key] = value
        returns.append(RespondentReturn(line, label, establishment_id, trust_id, urn or uid, submitted, answers))
    return returns


def apply_responses(plan: ResponsesPlan, actor=None, filename: str = "") -> dict[str, int]:
    """Write the returns of a plan (flush only): places in the cycle, responses, answers, section
    progress and status; record it in the activity log. Returns the plan's counts."""
    cycle, now = plan.cycle, utcnow()
    actor_id = getattr(actor, "id", None)
    counts = plan.counts
    missing = [r for r in plan.returns if _respondent(r) not in plan.existing]
    _insert_many(Assignment, [{"cycle_id": cycle.id, "establishment_id": r.establishment_id, "trust_id": r.trust_id}
                              for r in missing])
    rows = db.session.execute(
        select(Assignment.id, Assignment.establishment_id, Assignment.trust_id, Response.id.label("response_id"))
        .outerjoin(Response, Response.assignment_id == Assignment.id)
        .where(Assignment.cycle_id == cycle.id)
    ).all()
    without_response = [row.id for row in rows if row.response_id is None]
    if without_response:
        _insert_many(Response, [{"assignment_id": a, "status": ResponseStatus.NOT_STARTED} for a in without_response])
        rows = db.session.execute(
            select(Assignment.establishment_id, Assignment.trust_id, Response.id.label("response_id"))
            .join(Response, Response.assignment_id == Assignment.id)
            .where(Assignment.cycle_id == cycle.id)
        ).all()
    response_ids = {_respondent(row): row.response_id for row in rows}
    old_status = {key: (e.status or ResponseStatus.NOT_STARTED) for key, e in plan.existing.items()}

    targets = [response_ids[_respondent(r)] for r in plan.returns]
    versions: dict[tuple[int, str], int] = {}
    for chunk in _chunks(targets):
        versions.update({(rid, key): v for rid, key, v in db.session.execute(
            select(SectionProgress.response_id, SectionProgress.section_key, SectionProgress.version)
            .where(SectionProgress.response_id.in_(chunk)))})
        db.session.execute(delete(Answer).where(Answer.response_id.in_(chunk)))
        db.session.execute(delete(SectionProgress).where(SectionProgress.response_id.in_(chunk)))

    answer_rows, progress_rows, response_rows, events = [], [], [], []
    sections = cycle.template.sections
    for item in plan.returns:
        response_id = response_ids[_respondent(item)]
        for key, value in item.answers.items():
            answer_rows.append({"response_id": response_id, "question_key": key, "value": value, "follow_up": None,
                                "updated_at": now, "updated_by_id": actor_id})
        given = {key: AnswerInput(value) for key, value in item.answers.items()}
        for section in sections:
            complete = section_is_complete(section.questions, given, cycle.opens_on)
            if not complete and not any(q.key in given for q in section.questions):
                continue  # nothing answered in this section: not started
            progress_rows.append({
                "response_id": response_id, "section_key": section.key,
                "state": SectionState.COMPLETED if complete else SectionState.IN_PROGRESS,
                "version": versions.get((response_id, section.key), 0) + 1, "updated_at": now, "updated_by_id": actor_id,
            })
        before = old_status.get(_respondent(item), ResponseStatus.NOT_STARTED)
        after = ResponseStatus.SUBMITTED if item.submitted else ResponseStatus.IN_PROGRESS
        if before is ResponseStatus.ACCEPTED and item.submitted:
            after = before  # the lead has accepted this return already: importing it again keeps that
        place = plan.existing.get(_respondent(item))
        kept_submitted_at = place.submitted_at if place is not None and before is after else None
        response_rows.append({
            "id": response_id, "status": after, "imported": True, "started_at": now, "updated_at": now,
            "submitted_at": (kept_submitted_at or now) if item.submitted else None,
            "submitted_by_id": actor_id if item.submitted else None,
            "reference": reference_for(_stand_in(cycle, item)) if item.submitted else None,
        })
        if before is not after:
            events.append({"response_id": response_id, "from_status": before, "to_status": after, "at": now,
                           "by_user_id": actor_id, "comment": IMPORT_COMMENT})
    _insert_many(Answer, answer_rows)
    _insert_many(SectionProgress, progress_rows)
    if response_rows:
        db.session.execute(update(Response), response_rows)
    _insert_many(StatusEvent, events)
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, (Assignment, Response, Answer, SectionProgress)):
            db.session.expire(instance)
    db.session.expire(cycle, ["assignments"])
    record("responses.imported", actor, cycle=cycle, file=filename, **counts)
    db.session.flush()
    return counts


def _stand_in(cycle: Cycle, item: RespondentReturn) -> SimpleNamespace:
    """Just enough of a response for services.reference_for, without loading one per row."""
    code = item.urn_or_uid
    assignment = SimpleNamespace(
        cycle=cycle, establishment_id=item.establishment_id, trust_id=item.trust_id,
        establishment=SimpleNamespace(urn=code), trust=SimpleNamespace(uid=code),
    )
    return SimpleNamespace(assignment=assignment)
