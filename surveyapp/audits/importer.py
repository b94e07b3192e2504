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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import BinaryIO

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
    TrustCoverage,
)
from surveyapp.audits.questions import InvalidAnswer, normalise
from surveyapp.audits.services import AnswerInput, reference_for, section_is_complete
from surveyapp.csvfiles import Column, CsvTable, ImportFailed, ImportProblem, open_csv
from surveyapp.establishments.importer import whose_row
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
        yield items[start : start + size]


#: rows per write of the COPY buffer (PostgreSQL), and per multi-row insert elsewhere
BATCH = 5000
INSERT_BATCH = 1000

#: called with (rows done, rows in all) as the answers are written
Progress = Callable[[int, int], None]


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_UNESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
_COPY_UNESCAPE = re.compile(r"\\[\\tnr]")


def _copy_text(value) -> str:
    """A value in COPY's text format (psycopg's write_row does the same, several times slower)."""
    if value is None:
        return "\\N"
    if value.__class__ is str:
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).translate(_COPY_ESCAPES)


#: characters of COPY text sent at a time: large enough to keep the server busy, small enough not to matter
COPY_BLOCK = 1 << 18


def copy_lines(table, columns: list[str], lines: Iterable[str]) -> int:
    """COPY ``lines`` (COPY text format, without line breaks) into ``table`` on the session's
    PostgreSQL connection, about ``COPY_BLOCK`` characters to a write. Returns the number of rows."""
    cursor = db.session.connection().connection.driver_connection.cursor()
    count = 0
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        block: list[str] = []
        size = 0
        for line in lines:
            block.append(line)
            size += len(line) + 1
            if size >= COPY_BLOCK:
                copy.write("\n".join(block) + "\n")
                count += len(block)
                block, size = [], 0
        if block:
            copy.write("\n".join(block) + "\n")
            count += len(block)
    return count


def bulk_insert(table, columns: list[str], rows: Iterable[tuple], batch: int = INSERT_BATCH) -> int:
    """Insert ``rows`` (tuples in ``columns``' order) into ``table`` in the session's transaction:
    COPY on PostgreSQL, multi-row inserts of ``batch`` rows elsewhere. Values are the database's
    (enums as their stored text). Returns the number of rows."""
    connection = db.session.connection()
    count = 0
    if connection.dialect.name == "postgresql":
        return copy_lines(table, columns, ("\t".join([_copy_text(value) for value in row]) for row in rows))
    statement = table.insert()
    chunk: list[dict] = []
    for row in rows:
        chunk.append(dict(zip(columns, row, strict=True)))
        if len(chunk) >= batch:
            connection.execute(statement, chunk)
            count += len(chunk)
            chunk = []
    if chunk:
        connection.execute(statement, chunk)
        count += len(chunk)
    return count


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
    checks = [(f"q:{q.key}", q.key, q.type, q.options, q.not_applicable, {}) for q in questions]
    sections = [
        (
            section.key,
            [
                SimpleNamespace(key=q.key, required=q.required, follow_up=q.follow_up, type=q.type, gap=q.gap)
                for q in section.questions
            ],
            {},
        )
        for section in cycle.template.sections
    ]
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
        values = row.values
        for column, key, question_type, options, not_applicable, memo in checks:
            raw = values.get(column, "")
            value = memo.get(raw)
            if value is None:
                try:
                    value = normalise(question_type, raw, options, not_applicable)
                except InvalidAnswer as exc:
                    value = exc
                if len(raw) <= 40 and len(memo) < _MEMO:  # short, repeated values: not free text
                    memo[raw] = value
            if value.__class__ is InvalidAnswer:
                table.problem(line, column, str(value))
                continue
            if value:
                answers[key] = value
        if table.problems:
            continue  # the file will be refused: keep checking, stop keeping
        index = len(returns)
        spool.write("".join(f"{index}\t{key}\t{value.translate(_COPY_ESCAPES)}\n" for key, value in answers.items()))
        returns.append(
            RespondentReturn(
                line,
                label,
                establishment_id,
                trust_id,
                urn or uid,
                submitted,
                len(answers),
                _section_states(sections, answers, cycle.opens_on),
            )
        )
    return returns


#: distinct values remembered per question (and answer sets per section) while reading a file
_MEMO = 2000


def _section_states(sections, answers: dict[str, str], opens_on) -> list[tuple[str, SectionState]]:
    states = []
    for key, questions, memo in sections:
        given_values = tuple(answers.get(q.key, "") for q in questions)
        state = memo.get(given_values, False)
        if state is False:
            given = {q.key: AnswerInput(v) for q, v in zip(questions, given_values, strict=True) if v}
            if section_is_complete(questions, given, opens_on):
                state = SectionState.COMPLETED
            elif given:
                state = SectionState.IN_PROGRESS
            else:
                state = None  # nothing answered in this section: not started
            if len(memo) < _MEMO and all(len(v) <= 40 for v in given_values):  # not free text
                memo[given_values] = state
        if state is not None:
            states.append((key, state))
    return states


def apply_responses(
    plan: ResponsesPlan, actor=None, filename: str = "", progress: Progress | None = None
) -> dict[str, int]:
    """Write the returns of a plan (flush only): places in the cycle, responses, answers, section
    progress and status; record it in the activity log. Returns the plan's counts.

    :param progress: called with (answers written, answers in all) as the answers go in
    """
    cycle, now = plan.cycle, utcnow()
    actor_id = getattr(actor, "id", None)
    counts = plan.counts
    db.session.flush()
    missing = [r for r in plan.returns if _respondent(r) not in plan.existing]
    for chunk in _chunks(missing, BATCH):
        _insert_many(
            Assignment,
            [{"cycle_id": cycle.id, "establishment_id": r.establishment_id, "trust_id": r.trust_id} for r in chunk],
        )
    rows = db.session.execute(
        select(Assignment.id, Assignment.establishment_id, Assignment.trust_id, Response.id.label("response_id"))
        .outerjoin(Response, Response.assignment_id == Assignment.id)
        .where(Assignment.cycle_id == cycle.id)
    ).all()
    without_response = [row.id for row in rows if row.response_id is None]
    if without_response:
        for chunk in _chunks(without_response, BATCH):
            _insert_many(Response, [{"assignment_id": a, "status": ResponseStatus.NOT_STARTED} for a in chunk])
        rows = db.session.execute(
            select(Assignment.establishment_id, Assignment.trust_id, Response.id.label("response_id"))
            .join(Response, Response.assignment_id == Assignment.id)
            .where(Assignment.cycle_id == cycle.id)
        ).all()
    response_ids = {_respondent(row): row.response_id for row in rows}
    del rows
    old_status = {key: (e.status or ResponseStatus.NOT_STARTED) for key, e in plan.existing.items()}

    targets = [response_ids[_respondent(r)] for r in plan.returns]
    # Only responses imported before can hold answers or progress (others are refused or not started).
    replaced = [
        rid
        for item, rid in zip(plan.returns, targets, strict=True)
        if (place := plan.existing.get(_respondent(item))) is not None and place.response_id is not None
    ]
    versions: dict[tuple[int, str], int] = {}
    for chunk in _chunks(replaced):
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

    total = counts["answers"]

    answer_columns = ["response_id", "question_key", "value", "follow_up", "updated_at", "updated_by_id"]

    def tell(done: int) -> None:
        if progress is not None and (done % BATCH == 0 or done == total):
            progress(done, total)

    if db.session.connection().dialect.name == "postgresql":
        # The spool is already COPY text: put the response in front and the same tail behind each line.
        tail = f"\t\\N\t{now.isoformat()}\t{_copy_text(actor_id)}"
        ids = [str(target) for target in targets]

        def lines() -> Iterator[str]:
            for done, (index, rest) in enumerate(plan.spooled(), start=1):
                yield f"{ids[int(index)]}\t{rest}{tail}"
                tell(done)

        copy_lines(Answer.__table__, answer_columns, lines())
    else:

        def answer_rows() -> Iterator[tuple]:
            for done, (index, key, value) in enumerate(plan.answers(), start=1):
                yield targets[index], key, value, None, now, actor_id
                tell(done)

        bulk_insert(Answer.__table__, answer_columns, answer_rows())
    bulk_insert(
        SectionProgress.__table__,
        ["response_id", "section_key", "state", "version", "updated_at", "updated_by_id"],
        (
            (rid, key, state.value, versions.get((rid, key), 0) + 1, now, actor_id)
            for item, rid in zip(plan.returns, targets, strict=True)
            for key, state in item.sections
        ),
    )

    response_rows, events = [], []
    for item, response_id in zip(plan.returns, targets, strict=True):
        before = old_status.get(_respondent(item), ResponseStatus.NOT_STARTED)
        after = ResponseStatus.SUBMITTED if item.submitted else ResponseStatus.IN_PROGRESS
        if before is ResponseStatus.ACCEPTED and item.submitted:
            after = before  # the lead has accepted this return already: importing it again keeps that
        place = plan.existing.get(_respondent(item))
        kept_submitted_at = place.submitted_at if place is not None and before is after else None
        response_rows.append(
            {
                "id": response_id,
                "status": after,
                "imported": True,
                "started_at": now,
                "updated_at": now,
                "submitted_at": (kept_submitted_at or now) if item.submitted else None,
                "submitted_by_id": actor_id if item.submitted else None,
                "reference": reference_for(_stand_in(cycle, item)) if item.submitted else None,
            }
        )
        if before is not after:
            events.append((response_id, before.value, after.value, now, actor_id, IMPORT_COMMENT))
        if len(response_rows) >= BATCH:
            db.session.execute(update(Response), response_rows)
            response_rows = []
    if response_rows:
        db.session.execute(update(Response), response_rows)
    bulk_insert(
        StatusEvent.__table__, ["response_id", "from_status", "to_status", "at", "by_user_id", "comment"], events
    )
    _plan_actions(cycle, [item for item in plan.returns if item.submitted], response_ids)
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, (Assignment, Response, Answer, SectionProgress)):
            db.session.expire(instance)
    db.session.expire(cycle, ["assignments"])
    record("responses.imported", actor.id if actor else None, cycle_id=cycle.id, file=filename, **counts)
    db.session.flush()
    plan.close()
    return counts


def _plan_actions(cycle: Cycle, submitted: list[RespondentReturn], response_ids: dict) -> None:
    """Make the action plans of the returns imported as submitted, as submit() does for one return.

    Without this an imported return's gaps never reach the action plans, the overdue list or the workbook.
    """
    from surveyapp.audits.signals import returns_imported

    ids = {item.establishment_id for item in submitted if item.establishment_id is not None}
    trust_responses = [response_ids[_respondent(item)] for item in submitted if item.trust_id is not None]
    for chunk in range(0, len(trust_responses), 5000):
        ids.update(
            db.session.scalars(
                select(TrustCoverage.establishment_id).where(
                    TrustCoverage.response_id.in_(trust_responses[chunk : chunk + 5000])
                )
            )
        )
    returns_imported.send(None, cycle=cycle, establishment_ids=sorted(ids))


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
