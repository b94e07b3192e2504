"""Read one cycle (and the cycle before it) from the database into DataFrames, in a few SQL queries.

No per-school loops: each frame is one SELECT over the whole cycle. The frames are the
input of the pure layer in ``surveyapp.analysis.figures``.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from surveyapp.analysis.figures import CycleData
from surveyapp.audits.models import (
    Answer,
    Assignment,
    Cycle,
    Response,
    TemplateQuestion,
    TemplateSection,
    TrustCoverage,
)
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db


def _frame(statement, columns: list[str]) -> pd.DataFrame:
    # Enum columns come back as StrEnum members; callers map them to plain strings for the pure layer.
    rows = db.session.execute(statement).all()
    return pd.DataFrame.from_records([tuple(row) for row in rows], columns=columns)


def load_establishments(cycle: Cycle) -> pd.DataFrame:
    """Establishments with a place in the cycle, their register details, trust and own response."""
    frame = _frame(
        select(Establishment.id, Establishment.urn, Establishment.name, Establishment.phase, Establishment.type_name,
               Establishment.district, Establishment.trust_id, Trust.name, Response.id, Response.status)
        .join(Assignment, Assignment.establishment_id == Establishment.id)
        .join(Response, Response.assignment_id == Assignment.id)
        .outerjoin(Trust, Trust.id == Establishment.trust_id)
        .where(Assignment.cycle_id == cycle.id)
        .order_by(Establishment.name, Establishment.urn),
        ["establishment_id", "urn", "name", "phase", "type_name", "district", "trust_id", "trust_name",
         "response_id", "status"],
    )
    frame["status"] = frame["status"].map(str)
    frame["trust_id"] = frame["trust_id"].astype("Int64")
    return frame


def load_questions(cycle: Cycle) -> pd.DataFrame:
    """The cycle's template questions in page order, with their section."""
    frame = _frame(
        select(TemplateQuestion.key, TemplateQuestion.text, TemplateSection.key, TemplateSection.title,
               TemplateQuestion.type, TemplateQuestion.required, TemplateQuestion.tags, TemplateQuestion.gap,
               TemplateQuestion.options, TemplateSection.position, TemplateQuestion.position)
        .join(TemplateSection, TemplateSection.id == TemplateQuestion.section_id)
        .where(TemplateQuestion.template_id == cycle.template_id)
        .order_by(TemplateSection.position, TemplateQuestion.position),
        ["question_key", "text", "section_key", "section_title", "type", "required", "tags", "gap", "options",
         "section_position", "position"],
    )
    frame["type"] = frame["type"].map(str)
    frame["tags"] = frame["tags"].map(lambda tags: list(tags or []))
    return frame


def load_establishment_answers(cycle: Cycle) -> pd.DataFrame:
    """Every answer in the establishments' own responses, with the response's status."""
    frame = _frame(
        select(Assignment.establishment_id, Answer.question_key, Answer.value, Response.status)
        .join(Response, Response.id == Answer.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id, Assignment.establishment_id.is_not(None)),
        ["establishment_id", "question_key", "value", "status"],
    )
    frame["status"] = frame["status"].map(str)
    return frame


def load_trust_answers(cycle: Cycle) -> pd.DataFrame:
    """Every answer in the trusts' responses, with the response's status."""
    frame = _frame(
        select(Assignment.trust_id, Response.id, Answer.question_key, Answer.value, Response.status)
        .join(Response, Response.id == Answer.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id, Assignment.trust_id.is_not(None)),
        ["trust_id", "trust_response_id", "question_key", "value", "status"],
    )
    frame["status"] = frame["status"].map(str)
    return frame


def load_coverage(cycle: Cycle) -> pd.DataFrame:
    """Which academy each trust response answers for, with that response's status."""
    frame = _frame(
        select(TrustCoverage.establishment_id, TrustCoverage.response_id, Assignment.trust_id, Response.status)
        .join(Response, Response.id == TrustCoverage.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id),
        ["establishment_id", "trust_response_id", "trust_id", "status"],
    )
    frame["status"] = frame["status"].map(str)
    return frame


def load_cycle(cycle: Cycle) -> CycleData:
    """Everything the analysis needs about one cycle."""
    return CycleData(
        slug=cycle.slug, name=cycle.name, reference=cycle.opens_on,
        establishments=load_establishments(cycle), questions=load_questions(cycle),
        answers=load_establishment_answers(cycle), trust_answers=load_trust_answers(cycle),
        coverage=load_coverage(cycle),
    )


def previous_cycle(cycle: Cycle) -> Cycle | None:
    """The latest cycle due before this one whose template shares at least one question key."""
    keys = select(TemplateQuestion.key).where(TemplateQuestion.template_id == cycle.template_id)
    return db.session.scalar(
        select(Cycle)
        .where(Cycle.due_on < cycle.due_on,
               select(TemplateQuestion.id).where(TemplateQuestion.template_id == Cycle.template_id,
                                                 TemplateQuestion.key.in_(keys)).exists())
        .order_by(Cycle.due_on.desc(), Cycle.id.desc())
        .limit(1)
    )


def load_with_previous(cycle: Cycle) -> tuple[CycleData, CycleData | None]:
    """The cycle's data and the previous cycle's (for year on year), or None if there is none."""
    earlier = previous_cycle(cycle)
    return load_cycle(cycle), (load_cycle(earlier) if earlier is not None else None)
