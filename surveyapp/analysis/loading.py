"""Read one cycle (and the cycle before it) from the database into DataFrames, in a few SQL queries.

No per-school loops: each frame is one SELECT over the whole cycle (or over the few establishments
asked for). The frames are the input of the pure layer in ``surveyapp.analysis.figures``.
Rows are fetched as the driver's plain tuples: at national scale (a million answers) building a
SQLAlchemy row object per answer would cost more than the analysis itself.
"""
from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import String, cast, select, type_coerce

from surveyapp.analysis.figures import CycleData
from surveyapp.audits.models import (
    Answer,
    Assignment,
    Cycle,
    Response,
    ResponseStatus,
    TemplateQuestion,
    TemplateSection,
    TrustCoverage,
)
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db

RETURNED = (ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED)


def _frame(session, statement, columns: list[str]) -> pd.DataFrame:
    """Run ``statement`` and return its rows as a frame, straight from the driver's cursor."""
    result = (session or db.session).connection().execute(statement)
    # The DBAPI cursor's tuples skip SQLAlchemy's per-row processing (enums are selected as plain text).
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=False) if rows else pd.DataFrame(columns=columns)


def _text(column):
    """Select an enum column as its stored text, so the pure layer gets plain strings."""
    return type_coerce(column, String)


def load_establishments(cycle: Cycle, session=None, only: list[int] | None = None) -> pd.DataFrame:
    """Establishments with a place in the cycle, their register details, trust and own response.

    :param only: establishment ids to keep (default every establishment in the cycle)
    """
    statement = (
        select(Establishment.id, Establishment.urn, Establishment.name, Establishment.phase, Establishment.type_name,
               Establishment.district, Establishment.trust_id, Trust.name, Response.id, _text(Response.status))
        .join(Assignment, Assignment.establishment_id == Establishment.id)
        .join(Response, Response.assignment_id == Assignment.id)
        .outerjoin(Trust, Trust.id == Establishment.trust_id)
        # An establishment that closed during the cycle keeps its work but leaves the counts.
        .where(Assignment.cycle_id == cycle.id, Assignment.counted_in(cycle))
        .order_by(Establishment.name, Establishment.urn)
    )
    if only is not None:
        statement = statement.where(Establishment.id.in_(only))
    frame = _frame(session, statement, ["establishment_id", "urn", "name", "phase", "type_name", "district",
                                        "trust_id", "trust_name", "response_id", "status"])
    frame["trust_id"] = frame["trust_id"].astype("Int64")
    return frame


def load_questions(cycle: Cycle, session=None) -> pd.DataFrame:
    """The cycle's template questions in page order, with their section."""
    frame = _frame(
        session,
        select(TemplateQuestion.key, TemplateQuestion.text, TemplateSection.key, TemplateSection.title,
               _text(TemplateQuestion.type), TemplateQuestion.required, TemplateQuestion.tags, TemplateQuestion.gap,
               TemplateQuestion.options, TemplateSection.position, TemplateQuestion.position)
        .join(TemplateSection, TemplateSection.id == TemplateQuestion.section_id)
        .where(TemplateQuestion.template_id == cycle.template_id)
        .order_by(TemplateSection.position, TemplateQuestion.position),
        ["question_key", "text", "section_key", "section_title", "type", "required", "tags", "gap", "options",
         "section_position", "position"],
    )
    # JSON columns arrive as text from the raw cursor on SQLite, already decoded on PostgreSQL.
    for column, empty in (("tags", []), ("gap", None), ("options", [])):
        frame[column] = frame[column].map(lambda value, empty=empty: _json(value, empty))
    return frame


def _json(value, empty):
    if isinstance(value, str):
        value = json.loads(value)
    return empty if value is None else value


def load_establishment_answers(cycle: Cycle, session=None, only: list[int] | None = None) -> pd.DataFrame:
    """Every answer in the establishments' own returned responses, with the response's status.

    Answers of responses still being worked on count for nothing, so they are not read (at national
    scale they are a third of the rows)."""
    statement = (
        select(Assignment.establishment_id, Answer.question_key, Answer.value, _text(Response.status))
        .join(Response, Response.id == Answer.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id, Assignment.establishment_id.is_not(None),
               Response.status.in_(RETURNED))
    )
    if only is not None:
        statement = statement.where(Assignment.establishment_id.in_(only))
    return _frame(session, statement, ["establishment_id", "question_key", "value", "status"])


def load_trust_answers(cycle: Cycle, session=None, trust_response_ids: list[int] | None = None) -> pd.DataFrame:
    """Every answer in the trusts' responses, with the response's status."""
    statement = (
        select(Assignment.trust_id, Response.id, Answer.question_key, Answer.value, _text(Response.status))
        .join(Response, Response.id == Answer.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id, Assignment.trust_id.is_not(None))
    )
    if trust_response_ids is not None:
        statement = statement.where(Response.id.in_(trust_response_ids))
    return _frame(session, statement, ["trust_id", "trust_response_id", "question_key", "value", "status"])


def load_coverage(cycle: Cycle, session=None, only: list[int] | None = None) -> pd.DataFrame:
    """Which academy each trust response answers for, with that response's status."""
    statement = (
        select(TrustCoverage.establishment_id, TrustCoverage.response_id, Assignment.trust_id, _text(Response.status))
        .join(Response, Response.id == TrustCoverage.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id)
    )
    if only is not None:
        statement = statement.where(TrustCoverage.establishment_id.in_(only))
    return _frame(session, statement, ["establishment_id", "trust_response_id", "trust_id", "status"])


def load_follow_ups(cycle: Cycle, session=None) -> pd.DataFrame:
    """The follow-up plans (action, owner, target date) written beside returned answers, own and trusts'.

    ``response_id`` is the establishment's own response or the trust's. Only answers with a plan are
    read, and only the three fields, extracted in SQL: decoding every plan's JSON in Python took
    longer than the rest of the load at national scale."""
    plan = Answer.follow_up
    statement = (
        select(Answer.response_id, Answer.question_key, plan["action"].as_string(), plan["owner"].as_string(),
               plan["target_date"].as_string())
        .join(Response, Response.id == Answer.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        # A missing plan may be stored as SQL NULL or as JSON null, depending on how the answer was written.
        .where(Assignment.cycle_id == cycle.id, Response.status.in_(RETURNED), plan.is_not(None),
               cast(plan, String) != "null")
    )
    frame = _frame(session, statement, ["response_id", "question_key", "action", "owner", "target_date"])
    return frame.fillna("")


def load_cycle(cycle: Cycle, session=None, only: list[int] | None = None) -> CycleData:
    """Everything the analysis needs about one cycle.

    :param session: a SQLAlchemy session (default the app's)
    :param only: read just these establishments (and the trust responses covering them), e.g. for one DSL's page
    """
    coverage = load_coverage(cycle, session, only)
    return CycleData(
        slug=cycle.slug, name=cycle.name, reference=cycle.opens_on,
        establishments=load_establishments(cycle, session, only), questions=load_questions(cycle, session),
        answers=load_establishment_answers(cycle, session, only),
        trust_answers=load_trust_answers(cycle, session, None if only is None else
                                         [int(i) for i in coverage["trust_response_id"].unique()]),
        coverage=coverage,
    )


def previous_cycle(cycle: Cycle, session=None) -> Cycle | None:
    """The latest cycle due before this one whose template shares at least one question key."""
    keys = select(TemplateQuestion.key).where(TemplateQuestion.template_id == cycle.template_id)
    return (session or db.session).scalar(
        select(Cycle)
        .where(Cycle.due_on < cycle.due_on,
               select(TemplateQuestion.id).where(TemplateQuestion.template_id == Cycle.template_id,
                                                 TemplateQuestion.key.in_(keys)).exists())
        .order_by(Cycle.due_on.desc(), Cycle.id.desc())
        .limit(1)
    )


def load_with_previous(cycle: Cycle, session=None, only: list[int] | None = None) -> tuple[CycleData, CycleData | None]:
    """The cycle's data and the previous cycle's (for year on year), or None if there is none."""
    earlier = previous_cycle(cycle, session)
    return load_cycle(cycle, session, only), (load_cycle(earlier, session, only) if earlier is not None else None)
