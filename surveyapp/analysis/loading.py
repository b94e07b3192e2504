"""Read one cycle (and the cycle before it) from the database into DataFrames, in a few SQL queries.

No per-school loops: each frame is one SELECT over the whole cycle (or over the few establishments
asked for). The frames are the input of the pure layer in ``surveyapp.analysis.figures``.
Rows are fetched as the driver's plain tuples: at national scale (a million answers) building a
SQLAlchemy row object per answer would cost more than the analysis itself.
"""

from __future__ import annotations

import gc
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Integer, String, any_, bindparam, false, select, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY

from surveyapp.analysis.figures import CycleData
from surveyapp.audits.models import (
    Answer,
    Assignment,
    Cycle,
    CycleState,
    Response,
    ResponseStatus,
    TemplateQuestion,
    TemplateSection,
    TrustCoverage,
)
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db
from surveyapp.timeutil import today

RETURNED = (ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED)


#: rows fetched from the cursor at a time (the Python objects of one fetch are the load's largest passing cost)
FETCH = 5_000


def _chunks(session, statement):
    """The statement's rows as the driver's plain tuples, ``FETCH`` at a time.

    Streamed (a server-side cursor on PostgreSQL): a client-side cursor holds the whole result in the
    driver's memory until the last row is read, well over a hundred megabytes for a national cycle's
    answers. The tuples skip SQLAlchemy's per-row processing (enums are selected as plain text)."""
    # Per statement: Connection.execution_options() would change the session's connection for good.
    connection = (session or db.session).connection()
    if connection.dialect.name == "postgresql":
        # Every row is read: plan for all of them, not for the first tenth as PostgreSQL does for a cursor
        # (after a bulk load, before statistics catch up, that can pick a join hundreds of times slower).
        connection.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1")
    result = connection.execute(statement, execution_options={"stream_results": True})
    try:
        while result.cursor is not None and (rows := result.cursor_strategy.fetchmany(result, result.cursor, FETCH)):
            yield rows
    finally:
        result.close()


def _frame(session, statement, columns: list[str], categories: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Run ``statement`` and return its rows as a frame, built chunk by chunk from the driver's tuples.

    Each chunk becomes arrays at once: whole numbers as int64, the ``categories`` columns as
    categorical codes (a value outside its categories is missing), anything else as objects with
    every string kept once. A national cycle's million answers repeat a few hundred distinct texts
    (question keys, "yes", statuses): as Python lists, one new string or int per cell, they took
    several hundred megabytes before the frame was built."""
    categories = categories or {}
    kinds = [categories.get(name) for name in columns]
    parts: list[list[np.ndarray]] = [[] for _ in columns]
    seen: dict = {}
    with _without_cycle_collection():
        _fill(parts, kinds, _chunks(session, statement), seen)
    if not parts[0]:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame({position: _column(chunks, kinds[position]) for position, chunks in enumerate(parts)})
    frame.columns = columns  # by position: two selected columns may share a name
    return frame


@contextmanager
def _without_cycle_collection():
    """Pause Python's cycle collector while rows are turned into arrays.

    The rows are tuples of plain values, freed by reference counting, so there is nothing for it to
    find; but a national cycle's hundreds of thousands of row tuples set it off again and again, and
    each full pass walks every object of the running app: it took more than half the load's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fill(parts: list[list[np.ndarray]], kinds: list, chunks, seen: dict) -> None:
    """Append each chunk of rows to ``parts`` as one array per column (see ``_frame``)."""
    keep = seen.setdefault
    for rows in chunks:
        for position, values in enumerate(zip(*rows, strict=True)):
            cells = np.fromiter(values, dtype=object, count=len(values))
            if kinds[position] is not None:
                parts[position].append(pd.Categorical(cells, categories=kinds[position]).codes)
                continue
            if pd.api.types.infer_dtype(cells, skipna=False) == "integer":
                parts[position].append(cells.astype(np.int64))
                continue
            if pd.api.types.infer_dtype(cells, skipna=True) == "string":  # each distinct string once
                codes, uniques = pd.factorize(cells)
                if len(uniques) < len(cells) // 2:
                    kept = [keep(u, u) if u.__class__ is str else u for u in uniques]
                    cells = np.fromiter([*kept, None], dtype=object, count=len(kept) + 1)[codes]
            parts[position].append(cells)
        if len(seen) > 100_000:  # mostly free text: remembering it would cost more than it saves
            seen.clear()


def _column(chunks: list[np.ndarray], categories: list[str] | None) -> pd.Series:
    """A column as from_records would make it: whole numbers as int64, anything else inferred from objects."""
    if categories is not None:
        return pd.Series(pd.Categorical.from_codes(np.concatenate(chunks), categories=categories))
    if all(chunk.dtype == np.int64 for chunk in chunks):
        return pd.Series(np.concatenate(chunks))
    values = np.concatenate([chunk.astype(object) for chunk in chunks])
    chunks.clear()
    return pd.Series(pd.array(values, dtype=object)).infer_objects()


def _copied_frame(
    session, statement, columns: list[str], categories: dict[str, list[str]], texts: tuple[str, ...] = ("value",)
) -> pd.DataFrame:
    """A query's rows as a frame: the ``texts`` columns are text (NULL read as ""), the ``categories`` columns
    categorical, and the rest whole numbers, none of them NULL.

    On PostgreSQL the rows come through ``COPY (query) TO STDOUT`` as CSV, parsed by pandas' C reader as
    they arrive: a national cycle's answers took half the time of turning the driver's tuples into
    arrays (``_frame``), which was most of the board workbook's load. Elsewhere, ``_frame``, with NULL
    texts made "" as the CSV gives them."""
    connection = (session or db.session).connection()
    if connection.dialect.name != "postgresql":
        frame = _frame(session, statement, columns, categories)
        for name in texts:
            if name in frame:
                frame[name] = frame[name].fillna("")
        return frame
    dtypes = {
        name: pd.CategoricalDtype(categories[name]) if name in categories else "str" if name in texts else "int64"
        for name in columns
    }
    # COPY takes no parameters, so the statement carries its values as literals (ids and statuses only).
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    with connection.connection.driver_connection.cursor() as cursor:
        # Parameters given (none), so psycopg turns the compiler's doubled percent signs back into one.
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", ()) as copy:
            try:
                return pd.read_csv(
                    io.BufferedReader(_CopyStream(copy), buffer_size=1 << 20),
                    header=None,
                    names=columns,
                    dtype=dtypes,
                    # Text is text: an answer "NA", "null" or "" is not missing.
                    keep_default_na=False,
                    na_filter=False,
                    encoding="utf-8",
                )
            except pd.errors.EmptyDataError:  # no rows at all, as ``_frame`` gives it
                return pd.DataFrame(columns=columns)


class _CopyStream(io.RawIOBase):
    """A COPY TO's blocks as a binary file, read as they arrive: the CSV of a whole cycle is never held."""

    def __init__(self, copy):
        self._blocks = iter(copy)
        self._pending = bytearray()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        # PostgreSQL sends a block per row: they are gathered until the buffer's size, not handed on one by one.
        room, pending = len(buffer), self._pending
        while len(pending) < room and (block := next(self._blocks, None)) is not None:
            pending += block
        size = min(room, len(pending))
        buffer[:size] = pending[:size]
        del pending[:size]
        return size


def _text(column):
    """Select an enum column as its stored text, so the pure layer gets plain strings."""
    return type_coerce(column, String)


def _among(session, column, ids: list[int]):
    """``column IN ids``; on PostgreSQL as one array parameter (``= ANY``), not a parameter per id: a batch's
    thousands of ids took longer to render and parse than its query took to run."""
    if not ids:  # an empty array has no type PostgreSQL can tell, once written out for COPY
        return false()
    if (session or db.session).get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, [int(i) for i in ids], type_=ARRAY(Integer)))
    return column.in_(ids)


def _in_cycle(statement, cycle: Cycle):
    """``statement`` limited to the establishments counted in the cycle, in the analysis's order (name, URN)."""
    return (
        statement.join(Assignment, Assignment.establishment_id == Establishment.id)
        .join(Response, Response.assignment_id == Assignment.id)
        # An establishment that closed during the cycle keeps its work but leaves the counts.
        .where(Assignment.cycle_id == cycle.id, Assignment.counted_in(cycle))
        .order_by(Establishment.name, Establishment.urn)
    )


def establishment_ids(cycle: Cycle, session=None) -> list[int]:
    """The ids of the establishments counted in the cycle, in the order ``load_establishments`` gives them."""
    return list((session or db.session).scalars(_in_cycle(select(Establishment.id), cycle)))


def load_establishments(cycle: Cycle, session=None, only: list[int] | None = None) -> pd.DataFrame:
    """Establishments with a place in the cycle, their register details, trust and own response.

    :param only: establishment ids to keep (default every establishment in the cycle)
    """
    statement = select(
        Establishment.id,
        Establishment.urn,
        Establishment.name,
        Establishment.phase,
        Establishment.type_name,
        Establishment.district,
        Establishment.trust_id,
        Trust.name,
        Response.id,
        _text(Response.status),
        Response.submitted_at,
    ).outerjoin(Trust, Trust.id == Establishment.trust_id)
    statement = _in_cycle(statement, cycle)
    if only is not None:
        statement = statement.where(_among(session, Establishment.id, only))
    frame = _frame(
        session,
        statement,
        [
            "establishment_id",
            "urn",
            "name",
            "phase",
            "type_name",
            "district",
            "trust_id",
            "trust_name",
            "response_id",
            "status",
            "submitted_at",
        ],
    )
    frame["trust_id"] = frame["trust_id"].astype("Int64")
    return frame


def load_questions(cycle: Cycle, session=None) -> pd.DataFrame:
    """The cycle's template questions in page order, with their section."""
    frame = _frame(
        session,
        select(
            TemplateQuestion.key,
            TemplateQuestion.text,
            TemplateSection.key,
            TemplateSection.title,
            _text(TemplateQuestion.type),
            TemplateQuestion.required,
            TemplateQuestion.tags,
            TemplateQuestion.gap,
            TemplateQuestion.options,
            TemplateSection.position,
            TemplateQuestion.position,
            TemplateQuestion.condition,
        )
        .join(TemplateSection, TemplateSection.id == TemplateQuestion.section_id)
        .where(TemplateQuestion.template_id == cycle.template_id)
        .order_by(TemplateSection.position, TemplateQuestion.position),
        [
            "question_key",
            "text",
            "section_key",
            "section_title",
            "type",
            "required",
            "tags",
            "gap",
            "options",
            "section_position",
            "position",
            "condition",
        ],
    )
    # JSON columns arrive as text from the raw cursor on SQLite, already decoded on PostgreSQL.
    for column, empty in (("tags", []), ("gap", None), ("options", []), ("condition", None)):
        frame[column] = frame[column].map(lambda value, empty=empty: _json(value, empty))
    return frame


def _json(value, empty):
    if isinstance(value, str):
        value = json.loads(value)
    return empty if value is None else value


#: every status a response can have: the categories of the answer frames' status column
STATUSES = [status.value for status in ResponseStatus]


def _keys(cycle: Cycle, session=None) -> list[str]:
    """The cycle's question keys: the categories of the answer frames' question_key column."""
    return list(
        (session or db.session).scalars(
            select(TemplateQuestion.key).where(TemplateQuestion.template_id == cycle.template_id)
        )
    )


#: a follow-up plan's fields (what will be done, by whom, by when), read beside each answer when asked for
PLAN_FIELDS = ["action", "owner", "target_date"]


def _plans(statement, plans: bool):
    """``statement`` with each answer's follow-up plan fields after its other columns, if ``plans``.

    Extracted in SQL (decoding every plan's JSON in Python took longer than the rest of the load at national
    scale), in the answers' own query: a separate query for a batch's plans took nearly as long as its answers
    (1.2 s against 1.4 s for a national cycle's). A missing plan, stored as SQL NULL or as JSON null, reads as
    empty fields, as does a plan field left out."""
    if not plans:
        return statement
    return statement.add_columns(*(Answer.follow_up[name].as_string() for name in PLAN_FIELDS))


def load_establishment_answers(
    cycle: Cycle, session=None, only: list[int] | None = None, plans: bool = False
) -> pd.DataFrame:
    """Every answer in the establishments' own returned responses, with the response's status.

    Answers of responses still being worked on count for nothing, so they are not read (at national
    scale they are a third of the rows). The question key and status are categorical (an answer to a
    key the template no longer has is missing): a million rows hold a byte for each, not a pointer.

    :param plans: add each answer's follow-up plan (``PLAN_FIELDS``, "" where there is none)"""
    statement = (
        select(Assignment.establishment_id, Answer.question_key, Answer.value, _text(Response.status))
        .join(Response, Response.id == Answer.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id, Assignment.establishment_id.is_not(None), Response.status.in_(RETURNED))
    )
    if only is not None:
        statement = statement.where(_among(session, Assignment.establishment_id, only))
    return _copied_frame(
        session,
        _plans(statement, plans),
        ["establishment_id", "question_key", "value", "status"] + (PLAN_FIELDS if plans else []),
        {"question_key": _keys(cycle, session), "status": STATUSES},
        texts=("value", *PLAN_FIELDS),
    )


def load_trust_answers(
    cycle: Cycle, session=None, trust_response_ids: list[int] | None = None, plans: bool = False
) -> pd.DataFrame:
    """Every answer in the trusts' responses, with the response's status.

    :param plans: add each answer's follow-up plan (``PLAN_FIELDS``, "" where there is none)"""
    statement = (
        select(Assignment.trust_id, Response.id, Answer.question_key, Answer.value, _text(Response.status))
        .join(Response, Response.id == Answer.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id, Assignment.trust_id.is_not(None))
    )
    if trust_response_ids is not None:
        statement = statement.where(_among(session, Response.id, trust_response_ids))
    return _copied_frame(
        session,
        _plans(statement, plans),
        ["trust_id", "trust_response_id", "question_key", "value", "status"] + (PLAN_FIELDS if plans else []),
        {"question_key": _keys(cycle, session), "status": STATUSES},
        texts=("value", *PLAN_FIELDS),
    )


def load_coverage(cycle: Cycle, session=None, only: list[int] | None = None) -> pd.DataFrame:
    """Which academy each trust response answers for, with that response's status."""
    statement = (
        select(
            TrustCoverage.establishment_id,
            TrustCoverage.response_id,
            Assignment.trust_id,
            _text(Response.status),
            Response.submitted_at,
        )
        .join(Response, Response.id == TrustCoverage.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id)
    )
    if only is not None:
        statement = statement.where(_among(session, TrustCoverage.establishment_id, only))
    return _frame(session, statement, ["establishment_id", "trust_response_id", "trust_id", "status", "submitted_at"])


def load_cycle(cycle: Cycle, session=None, only: list[int] | None = None) -> CycleData:
    """Everything the analysis needs about one cycle.

    :param session: a SQLAlchemy session (default the app's)
    :param only: read just these establishments (and the trust responses covering them), e.g. for one DSL's page
    """
    coverage = load_coverage(cycle, session, only)
    return CycleData(
        slug=cycle.slug,
        name=cycle.name,
        reference=cycle.opens_on,
        establishments=load_establishments(cycle, session, only),
        questions=load_questions(cycle, session),
        answers=load_establishment_answers(cycle, session, only),
        trust_answers=load_trust_answers(
            cycle, session, None if only is None else [int(i) for i in coverage["trust_response_id"].unique()]
        ),
        coverage=coverage,
        due_on=cycle.due_on,
    )


#: establishments whose answers are read and analysed at a time by ``load_in_batches``
BATCH = 2_000


def load_in_batches(
    cycle: Cycle, session=None, size: int | None = None, plans: bool = False
) -> tuple[CycleData, Iterator[CycleData]]:
    """The cycle without its establishments' own answers, and the same cycle ``size`` establishments at a time.

    The first is read at once: establishments, questions, trust cover and the trusts' answers (one row per
    establishment, question or trust answer). The batches are read as they are asked for, each with just its
    establishments' own answers and trust cover, in the order of the establishments: what
    ``surveyapp.analysis.figures.analyse_in_batches`` takes. A national cycle's million answers are then never
    in memory together.

    :param size: establishments per batch (default ``BATCH``)
    :param plans: read each answer's follow-up plan beside it, own and trusts' (see ``load_establishment_answers``)"""
    size = size or BATCH
    coverage = load_coverage(cycle, session)
    establishments = load_establishments(cycle, session)
    questions = load_questions(cycle, session)
    whole = CycleData(
        slug=cycle.slug,
        name=cycle.name,
        reference=cycle.opens_on,
        establishments=establishments,
        questions=questions,
        answers=pd.DataFrame(columns=["establishment_id", "question_key", "value", "status"]),
        trust_answers=load_trust_answers(cycle, session, plans=plans),
        coverage=coverage,
        due_on=cycle.due_on,
    )

    def batches() -> Iterator[CycleData]:
        for start in range(0, len(establishments), size):
            part = establishments.iloc[start : start + size].reset_index(drop=True)
            ids = [int(i) for i in part["establishment_id"]]
            yield replace(
                whole,
                establishments=part,
                answers=load_establishment_answers(cycle, session, ids, plans=plans),
                coverage=coverage[coverage["establishment_id"].isin(ids)].reset_index(drop=True),
            )

    return whole, batches()


def previous_cycle(cycle: Cycle, session=None) -> Cycle | None:
    """The latest cycle due before this one whose template shares at least one question key."""
    keys = select(TemplateQuestion.key).where(TemplateQuestion.template_id == cycle.template_id)
    return (session or db.session).scalar(
        select(Cycle)
        .where(
            Cycle.due_on < cycle.due_on,
            select(TemplateQuestion.id)
            .where(TemplateQuestion.template_id == Cycle.template_id, TemplateQuestion.key.in_(keys))
            .exists(),
        )
        .order_by(Cycle.due_on.desc(), Cycle.id.desc())
        .limit(1)
    )


def comparable_day(cycle: Cycle, earlier: Cycle, on: date) -> date | None:
    """The day of ``earlier`` to compare an open (or draft) ``cycle`` with on ``on``: as many days before its due
    date as ``on`` is before this one's. None once the cycle is closed or archived: then whole cycle is compared
    with whole cycle."""
    if cycle.state not in (CycleState.DRAFT, CycleState.OPEN):
        return None
    return earlier.due_on - (cycle.due_on - on)


def load_with_previous(
    cycle: Cycle, session=None, only: list[int] | None = None, on: date | None = None
) -> tuple[CycleData, CycleData | None]:
    """The cycle's data and the previous cycle's (for year on year), or None if there is none.

    While the cycle is open, last year's returns count only if they had been submitted by the same number of
    days before last year's due date as ``on`` (default today) is before this year's, so a cycle half-way
    through is not compared with a finished one."""
    earlier = previous_cycle(cycle, session)
    if earlier is None:
        return load_cycle(cycle, session, only), None
    before = load_cycle(earlier, session, only)
    day = comparable_day(cycle, earlier, on or today())
    return load_cycle(cycle, session, only), (before.returns_by(day) if day is not None else before)
