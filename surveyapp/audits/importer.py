"""Importing earlier years' returns kept in spreadsheets into a cycle: plan (read, check) then apply.

One row per respondent (a URN or a Trust UID), one column per question key of
the cycle's template, an optional Submitted column (yes/no, default yes).
Values are read as a DSL would pick them and checked with
``questions.normalise``. Respondents without a place in the cycle get one:
historic returns define who was in scope. Importing the same file again
replaces those respondents' answers, so it is safe to repeat. All or nothing,
with bulk statements (no query per row).

Memory stays bounded whatever the file's size: the file is read a row at a
time, each respondent keeps only a summary in memory (who, submitted, its
sections' states), and the checked answers wait in a temporary file until
they are written in batches: COPY on PostgreSQL, multi-row inserts elsewhere.
"""

from __future__ import annotations

import difflib
import io
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import BinaryIO

from sqlalchemy import delete, select, update

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
    TrustCoverage,
)
from surveyapp.audits.questions import InvalidAnswer, is_gap, normalise, skipped_keys
from surveyapp.audits.services import AnswerInput, reference_for, section_is_complete
from surveyapp.auth.models import User
from surveyapp.bulk import (
    bulk_insert,
    copy_escape,
    copy_lines,
    copy_text,
    hold_for_reference,
    is_postgresql,
    references_held,
)
from surveyapp.csvfiles import Column, CsvTable, ImportFailed, ImportProblem, open_csv
from surveyapp.establishments.importer import whose_row
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db
from surveyapp.timeutil import utcnow

_YES = {"yes", "y", "true", "1", "submitted"}
_NO = {"no", "n", "false", "0", "not submitted", "in progress"}
IMPORT_COMMENT = "Imported from an earlier year's return"


#: rows per ORM bulk update of the responses imported before
BATCH = 5000

#: called with (rows done, rows in all) as the answers are written
Progress = Callable[[int, int], None]

_UNESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
_COPY_UNESCAPE = re.compile(r"\\[\\tnr]")


@dataclass
class RespondentReturn:
    """One valid row: a respondent's answers (canonical values) and whether it was submitted."""

    line: int
    label: str  # "URN 100001" or "trust 5001"
    establishment_id: int | None
    trust_id: int | None
    urn_or_uid: str
    submitted: bool
    #: how many answers the row gives (the answers themselves wait in the plan's spool)
    answered: int
    #: (section key, state) for each section the row answers anything in
    sections: list[tuple[str, SectionState]] = field(default_factory=list)
    #: the keys of the questions whose answer in the row is a gap (``questions.is_gap``), in template order
    gaps: tuple[str, ...] = ()


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
    #: the checked answers, a line each in COPY's text format: index in ``returns``, question key, value
    spool: io.TextIOBase | None = None

    def spooled(self) -> Iterator[tuple[str, str]]:
        """The spool's lines as (index in ``returns``, the rest of the line without its line break)."""
        if self.spool is None:
            return
        self.spool.seek(0)
        for line in self.spool:
            index, rest = line.split("\t", 1)
            yield index, rest[:-1]

    def answers(self) -> Iterator[tuple[int, str, str]]:
        """The checked answers, read back from the spool."""
        for index, rest in self.spooled():
            key, value = rest.split("\t", 1)
            yield int(index), key, _COPY_UNESCAPE.sub(lambda m: _UNESCAPES[m.group()], value)

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None

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
            "answers": sum(r.answered for r in self.returns),
        }

    def summary(self) -> str:
        c = self.counts
        return (
            f"{c['respondents']} returns ({c['submitted']} submitted, {c['in_progress']} in progress), "
            f"{c['answers']} answers; {c['new_assignments']} added to the cycle, {c['replaced']} replaced"
        )


def _respondent(item) -> tuple[str, int]:
    return ("e", item.establishment_id) if item.establishment_id is not None else ("t", item.trust_id)


def plan_responses(cycle: Cycle, data: bytes | BinaryIO | Path) -> ResponsesPlan:
    """Read a returns file for ``cycle`` and check every value, writing nothing to the database.

    :param data: the file: its bytes, a seekable binary file, or a path (read a row at a time)
    :raises ImportFailed: every problem with the file
    """
    if isinstance(data, Path):
        with data.open("rb") as source:
            return plan_responses(cycle, source)
    source = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    template = cycle.template
    questions = list(template.questions)
    columns = [
        Column("urn", "URN"),
        Column("trust_uid", "Trust UID", ("Trusts (code)", "Trust code")),
        Column("submitted", "Submitted"),
        *[Column(f"q:{q.key}", q.key) for q in questions],
    ]
    table = open_csv(source, columns)
    keys = [q.key for q in questions]
    for header in table.unmatched:
        guess = difflib.get_close_matches(header.lower(), keys, n=1)
        hint = f' — did you mean "{guess[0]}"?' if guess else ""
        table.problems.append(
            ImportProblem(
                1,
                header,
                f"is not a question of the cycle’s template ({template.key} version {template.version}){hint}",
            )
        )
    if not table.has("urn") and not table.has("trust_uid"):
        table.problems.append(
            ImportProblem(
                1, None, 'the file has no "URN" column or "Trust UID" column: the header row must name one of them'
            )
        )
        raise ImportFailed(table.problems)
    if table.unmatched:
        raise ImportFailed(table.problems)

    establishment_ids = dict(db.session.execute(select(Establishment.urn, Establishment.id)).all())
    trust_ids = dict(db.session.execute(select(Trust.uid, Trust.id)).all())
    existing = {
        ("e", row.establishment_id) if row.establishment_id is not None else ("t", row.trust_id): _Existing(
            row.id, row.response_id, row.status, bool(row.imported), row.submitted_at
        )
        for row in db.session.execute(
            select(
                Assignment.id,
                Assignment.establishment_id,
                Assignment.trust_id,
                Response.id.label("response_id"),
                Response.status,
                Response.imported,
                Response.submitted_at,
            )
            .outerjoin(Response, Response.assignment_id == Assignment.id)
            .where(Assignment.cycle_id == cycle.id)
        )
    }
    spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
    try:
        returns = _returns(table, cycle, questions, establishment_ids, trust_ids, existing, spool)
        table.raise_if_problems()
    except BaseException:
        spool.close()
        raise
    return ResponsesPlan(cycle, returns, questions, existing, spool)


def _returns(
    table: CsvTable, cycle: Cycle, questions, establishment_ids, trust_ids, existing, spool
) -> list[RespondentReturn]:
    returns = []
    # Plain copies and memos: a national file repeats the same few values millions of times, and
    # ORM attribute access and normalise() per cell would dominate the import's time.
    checks = [(f"q:{q.key}", q.key, q.type, q.options, q.not_applicable, q.gap, {}) for q in questions]
    plain = {
        q.key: SimpleNamespace(
            key=q.key, required=q.required, follow_up=q.follow_up, type=q.type, gap=q.gap, condition=q.condition
        )
        for q in questions
    }
    sections = [(section.key, [(plain[q.key], {}) for q in section.questions]) for section in cycle.template.sections]
    # Only questions with a condition can be skipped (a question depending on a skipped one has one too).
    conditional = [plain[q.key] for q in questions if q.condition]
    first_line: dict[tuple[str, int], int] = {}
    for row in table.rows:
        line = row.line
        urn, uid = row.get("urn"), row.get("trust_uid")
        found = whose_row(
            table,
            row,
            establishment_ids,
            trust_ids,
            both="give a URN or a Trust UID, not both",
            blank="is blank: say whose return this row is",
        )
        if found is None:
            continue
        establishment_id, trust_id = found
        label = f"URN {urn}" if establishment_id is not None else f"trust {uid}"
        respondent = ("e", establishment_id) if establishment_id is not None else ("t", trust_id)
        where = "urn" if establishment_id is not None else "trust_uid"
        if respondent in first_line:
            table.problem(line, where, f"{label} is also on line {first_line[respondent]}: give one row per return")
            continue
        first_line[respondent] = line
        place = existing.get(respondent)
        if (
            place is not None
            and place.response_id is not None
            and not place.imported
            and place.status is not ResponseStatus.NOT_STARTED
        ):
            table.problem(
                line,
                where,
                f"{label} has already started this audit in the service ({place.status.label.lower()}): "
                "importing would overwrite its answers",
            )
            continue

        submitted_text = row.get("submitted").lower()
        submitted = True
        if submitted_text in _NO:
            submitted = False
        elif submitted_text and submitted_text not in _YES:
            table.problem(line, "submitted", f'"{row.get("submitted")}" must be yes or no (blank means yes)')
        answers = {}
        lines = []  # the spool's lines for the row, but for the index in front of each
        gaps = []
        values = row.values
        for column, key, question_type, options, not_applicable, gap_rule, memo in checks:
            raw = values.get(column, "")
            checked = memo.get(raw)
            if checked is None:
                try:
                    value = normalise(question_type, raw, options, not_applicable)
                    gap = is_gap(question_type, gap_rule, value, cycle.opens_on)
                    checked = (value, f"\t{key}\t{copy_escape(value)}\n", gap)
                except InvalidAnswer as exc:
                    checked = exc
                if len(raw) <= 40 and len(memo) < _MEMO:  # short, repeated values: not free text
                    memo[raw] = checked
            if checked.__class__ is InvalidAnswer:
                table.problem(line, column, str(checked))
                continue
            if checked[0]:
                answers[key] = checked[0]
                lines.append(checked[1])
                if checked[2]:
                    gaps.append(key)
        if table.problems:
            continue  # the file will be refused: keep checking, stop keeping
        index = str(len(returns))
        spool.write(index + index.join(lines) if lines else "")  # each line ends with a line break
        skipped = skipped_keys(conditional, answers) if conditional else frozenset()
        returns.append(
            RespondentReturn(
                line,
                label,
                establishment_id,
                trust_id,
                urn or uid,
                submitted,
                len(answers),
                _section_states(sections, answers, skipped, cycle.opens_on),
                tuple(gaps),
            )
        )
    return returns


#: distinct values remembered per question while reading a file
_MEMO = 2000


def _section_states(sections, answers: dict[str, str], skipped, opens_on) -> list[tuple[str, SectionState]]:
    """Each section's state as a save of these answers would leave it (``services.save_section``):
    completed when ``section_is_complete``, in progress when anything in it is answered, else not started.

    ``section_is_complete`` asks the same of each question not skipped, so it is asked one question at a
    time and remembered for each question's values: a national file repeats them.
    """
    states = []
    for key, questions in sections:
        complete, answered = True, False
        for question, memo in questions:
            value = answers.get(question.key, "")
            if value:
                answered = True
            if not complete or question.key in skipped:
                continue
            passes = memo.get(value)
            if passes is None:
                given = {question.key: AnswerInput(value)} if value else {}
                passes = section_is_complete([question], given, opens_on)
                if len(value) <= 40 and len(memo) < _MEMO:
                    memo[value] = passes
            complete = passes
        if complete:
            states.append((key, SectionState.COMPLETED))
        elif answered:
            states.append((key, SectionState.IN_PROGRESS))
    return states


_RESPONSE_COLUMNS = [
    "assignment_id",
    "status",
    "imported",
    "started_at",
    "updated_at",
    "submitted_at",
    "submitted_by_id",
    "reference",
    "sections_completed",
]


def apply_responses(
    plan: ResponsesPlan, actor=None, filename: str = "", progress: Progress | None = None
) -> dict[str, int]:
    """Write the returns of a plan (flush only): places in the cycle, responses, answers, section
    progress and status history, and the action plans of the submitted returns; record it in the
    activity log. Returns the plan's counts.

    Every table is written in bulk (COPY on PostgreSQL, multi-row inserts elsewhere): a new response
    is written once, with its final status, and nothing is read back but the new rows' ids.

    :param progress: called with (answers written, answers in all) as the answers go in
    """
    cycle, now = plan.cycle, utcnow()
    actor_id = getattr(actor, "id", None)
    counts = plan.counts
    db.session.flush()
    bulk_insert(
        Assignment.__table__,
        ["establishment_id", "trust_id"],
        ((r.establishment_id, r.trust_id) for r in plan.returns if _respondent(r) not in plan.existing),
        constants={"cycle_id": cycle.id},
    )
    places = _places(cycle)

    # Each return's status before (not started where it had no response) and after, and its response's values.
    outcomes = []
    for item in plan.returns:
        place = plan.existing.get(_respondent(item))
        before = (place.status if place is not None else None) or ResponseStatus.NOT_STARTED
        after = ResponseStatus.SUBMITTED if item.submitted else ResponseStatus.IN_PROGRESS
        if before is ResponseStatus.ACCEPTED and item.submitted:
            after = before  # the lead has accepted this return already: importing it again keeps that
        kept_submitted_at = place.submitted_at if place is not None and before is after else None
        values = (
            after.value,
            True,
            now,
            now,
            (kept_submitted_at or now) if item.submitted else None,
            actor_id if item.submitted else None,
            reference_for(_stand_in(cycle, item)) if item.submitted else None,
            sum(state is SectionState.COMPLETED for _key, state in item.sections),
        )
        outcomes.append((before, after, values))

    # New responses are written whole, in the file's order; those there already are updated.
    bulk_insert(
        Response.__table__,
        _RESPONSE_COLUMNS,
        (
            (places[_respondent(item)][0], *values)
            for item, (_before, _after, values) in zip(plan.returns, outcomes, strict=True)
            if places[_respondent(item)][1] is None
        ),
    )
    changes = []
    for item, (_before, _after, values) in zip(plan.returns, outcomes, strict=True):
        response_id = places[_respondent(item)][1]
        if response_id is not None:
            changes.append({"id": response_id, **dict(zip(_RESPONSE_COLUMNS[1:], values, strict=True))})
        if len(changes) >= BATCH:
            db.session.execute(update(Response), changes)
            changes = []
    if changes:
        db.session.execute(update(Response), changes)
    if any(response_id is None for _assignment_id, response_id in places.values()):
        places = _places(cycle)
    targets = [places[_respondent(item)][1] for item in plan.returns]
    del places

    # Only responses imported before can hold answers or progress (others are refused or not started).
    replaced = [
        rid
        for item, rid in zip(plan.returns, targets, strict=True)
        if (place := plan.existing.get(_respondent(item))) is not None and place.response_id is not None
    ]
    versions: dict[tuple[int, str], int] = {}
    for start in range(0, len(replaced), 500):
        chunk = replaced[start : start + 500]
        versions.update(
            {
                (rid, key): v
                for rid, key, v in db.session.execute(
                    select(SectionProgress.response_id, SectionProgress.section_key, SectionProgress.version).where(
                        SectionProgress.response_id.in_(chunk)
                    )
                )
            }
        )
        db.session.execute(delete(Answer).where(Answer.response_id.in_(chunk)))
        db.session.execute(delete(SectionProgress).where(SectionProgress.response_id.in_(chunk)))

    # Every row below refers only to what this transaction holds: the responses it made or updated above,
    # and the cycle and the actor, held here. Checking each row's keys one by one could never fail.
    hold_for_reference(Cycle.__table__, [cycle.id])
    hold_for_reference(User.__table__, [actor_id] if actor_id is not None else [])
    with references_held([Answer.__table__, SectionProgress.__table__, StatusEvent.__table__]):
        _write_answers(plan, targets, now, actor_id, progress)
        bulk_insert(
            SectionProgress.__table__,
            ["response_id", "section_key", "state", "version"],
            (
                (rid, key, state.value, versions.get((rid, key), 0) + 1)
                for item, rid in zip(plan.returns, targets, strict=True)
                for key, state in item.sections
            ),
            constants={"updated_at": now, "updated_by_id": actor_id},
        )
        bulk_insert(
            StatusEvent.__table__,
            ["response_id", "from_status", "to_status"],
            (
                (rid, before.value, after.value)
                for rid, (before, after, _values) in zip(targets, outcomes, strict=True)
                if before is not after
            ),
            constants={"at": now, "by_user_id": actor_id, "comment": IMPORT_COMMENT},
        )

    _plan_actions(cycle, [(item, rid) for item, rid in zip(plan.returns, targets, strict=True) if item.submitted])
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, (Assignment, Response, Answer, SectionProgress, StatusEvent)):
            db.session.expire(instance)
    db.session.expire(cycle, ["assignments"])
    record("responses.imported", actor.id if actor else None, cycle_id=cycle.id, file=filename, **counts)
    db.session.flush()
    plan.close()
    return counts


#: answers written between two calls of the progress callback
PROGRESS_EVERY = 5000

_ANSWER_COLUMNS = ["response_id", "question_key", "value", "follow_up", "updated_at", "updated_by_id"]


def _write_answers(
    plan: ResponsesPlan, targets: list[int], now: datetime, actor_id: int | None, progress: Progress | None
) -> None:
    """The plan's answers from its spool, each to its return's response (``targets``, in the plan's order)."""
    total = plan.counts["answers"]

    def tell(done: int) -> None:
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)

    if is_postgresql():
        # The spool is already COPY text: put the response in front and the same tail behind each line.
        tail = f"\t\\N\t{now.isoformat()}\t{copy_text(actor_id)}"
        ids = [str(target) for target in targets]

        def lines() -> Iterator[str]:
            for done, (index, rest) in enumerate(plan.spooled(), start=1):
                yield f"{ids[int(index)]}\t{rest}{tail}"
                tell(done)

        copy_lines(Answer.__table__, _ANSWER_COLUMNS, lines())
        return

    def answer_rows() -> Iterator[tuple]:
        for done, (index, key, value) in enumerate(plan.answers(), start=1):
            yield targets[index], key, value, None, now, actor_id
            tell(done)

    bulk_insert(Answer.__table__, _ANSWER_COLUMNS, answer_rows())


def _places(cycle: Cycle) -> dict[tuple[str, int], tuple[int, int | None]]:
    """Each respondent's place in the cycle: (assignment id, response id or None)."""
    return {
        _respondent(row): (row.id, row.response_id)
        for row in db.session.execute(
            select(Assignment.id, Assignment.establishment_id, Assignment.trust_id, Response.id.label("response_id"))
            .outerjoin(Response, Response.assignment_id == Assignment.id)
            .where(Assignment.cycle_id == cycle.id)
        )
    }


def _plan_actions(cycle: Cycle, submitted: list[tuple[RespondentReturn, int]]) -> None:
    """Make the action plans of the returns imported as submitted, as submit() does for one return.

    Without this an imported return's gaps never reach the action plans, the overdue list or the workbook.
    """
    from surveyapp.audits.signals import returns_imported

    ids = {item.establishment_id for item, _rid in submitted if item.establishment_id is not None}
    trust_responses = [rid for item, rid in submitted if item.trust_id is not None]
    for chunk in range(0, len(trust_responses), 5000):
        ids.update(
            db.session.scalars(
                select(TrustCoverage.establishment_id).where(
                    TrustCoverage.response_id.in_(trust_responses[chunk : chunk + 5000])
                )
            )
        )
    # The gaps of an establishment's own return were found as the file was read: the plans need not read
    # them back, unless a trust's return fills what the establishment left blank.
    own_gaps = {item.establishment_id: item.gaps for item, _rid in submitted if item.establishment_id is not None}
    returns_imported.send(None, cycle=cycle, establishment_ids=sorted(ids), own_gaps=own_gaps)


def _stand_in(cycle: Cycle, item: RespondentReturn) -> SimpleNamespace:
    """Just enough of a response for services.reference_for, without loading one per row."""
    code = item.urn_or_uid
    assignment = SimpleNamespace(
        cycle=cycle,
        establishment_id=item.establishment_id,
        trust_id=item.trust_id,
        establishment=SimpleNamespace(urn=code),
        trust=SimpleNamespace(uid=code),
    )
    return SimpleNamespace(assignment=assignment)
