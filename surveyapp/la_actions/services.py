"""The LA's action plan: list, summarise, add, edit, report progress; audit findings behind an action.

Plain functions taking a SQLAlchemy session (the committee report and the workbook call them outside
a request): they flush and never commit. Figures about an audit finding come from the analysis layer
(``surveyapp.analysis``), the same figures as the analysis pages, the JSON and the workbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from surveyapp.activity.services import record
from surveyapp.analysis import figures
from surveyapp.analysis.loading import load_in_batches
from surveyapp.audits.models import Cycle, TemplateQuestion
from surveyapp.la_actions.models import STANDARD_AREAS, LaAction, LaActionStatus, LaActionUpdate, Rag
from surveyapp.timeutil import utcnow

#: the fields the lead edits (the finding is fixed when the action is added)
FIELDS = (
    "reference",
    "area",
    "action",
    "milestones",
    "measures",
    "target_date",
    "lead",
    "support",
    "outcomes",
    "rag",
    "status",
    "objective_1",
    "objective_2",
    "objective_3",
)


class StaleLaAction(Exception):
    """Someone changed this action after the page was opened; ``current`` is their version."""

    def __init__(self, current: LaAction):
        super().__init__("stale action")
        self.current = current


class DuplicateReference(ValueError):
    """Another action already has this reference."""


# --- reading ------------------------------------------------------------------------------------


def _area_order(area: str) -> tuple[int, str]:
    return (STANDARD_AREAS.index(area), "") if area in STANDARD_AREAS else (len(STANDARD_AREAS), area.lower())


def _plan_order(action: LaAction) -> tuple:
    return (*_area_order(action.area), action.reference.lower(), action.id)


def list_actions(session, *, area: str | None = None, status: LaActionStatus | str | None = None) -> list[LaAction]:
    """Every action in the plan (or one area's, or those in one status), by area in the plan's order, then reference.

    Updates and the finding's cycle are loaded up front: list pages and exports show them for every row.
    """
    query = select(LaAction).options(selectinload(LaAction.updates), selectinload(LaAction.finding_cycle))
    if area:
        query = query.where(LaAction.area == area)
    if status:
        query = query.where(LaAction.status == LaActionStatus(status))
    return sorted(session.scalars(query).all(), key=_plan_order)


def overdue_actions(session, today: date) -> list[LaAction]:
    """Open actions whose target date is before ``today``, longest overdue first."""
    query = (
        select(LaAction)
        .options(selectinload(LaAction.updates))
        .where(LaAction.status != LaActionStatus.COMPLETE, LaAction.target_date < today)
        .order_by(LaAction.target_date, LaAction.reference, LaAction.id)
    )
    return list(session.scalars(query))


def get_action(session, action_id: int) -> LaAction | None:
    return session.get(LaAction, action_id)


def areas(session) -> list[str]:
    """The standard areas, then every other area the lead has used, for the form's choices."""
    used = set(session.scalars(select(LaAction.area).distinct()))
    return list(STANDARD_AREAS) + sorted(used - set(STANDARD_AREAS), key=str.lower)


@dataclass
class AreaSummary:
    area: str
    total: int = 0
    open: int = 0
    overdue: int = 0
    complete: int = 0


@dataclass
class PlanSummary:
    """Counts for a report or a dashboard: overall, by area (plan order), RAG and status."""

    total: int = 0
    open: int = 0
    overdue: int = 0
    complete: int = 0
    by_area: list[AreaSummary] = field(default_factory=list)
    #: "red" / "amber" / "green" -> count, every rating present
    by_rag: dict[str, int] = field(default_factory=dict)
    #: status value -> count, every status present
    by_status: dict[str, int] = field(default_factory=dict)


def summary(session, today: date) -> PlanSummary:
    """Every count of the plan, overdue judged at ``today``."""
    actions = list_actions(session)
    result = PlanSummary(by_rag={rag.value: 0 for rag in Rag}, by_status={status.value: 0 for status in LaActionStatus})
    by_area: dict[str, AreaSummary] = {}
    for action in actions:
        row = by_area.setdefault(action.area, AreaSummary(action.area))
        overdue = action.is_overdue(today)
        for counts in (result, row):
            counts.total += 1
            counts.open += action.status.is_open
            counts.complete += not action.status.is_open
            counts.overdue += overdue
        result.by_rag[action.rag.value] += 1
        result.by_status[action.status.value] += 1
    result.by_area = sorted(by_area.values(), key=lambda row: _area_order(row.area))
    return result


def summary_by_area(session, today: date) -> list[AreaSummary]:
    return summary(session, today).by_area


def summary_by_rag(session) -> dict[str, int]:
    return summary(session, date.min).by_rag


def summary_by_status(session) -> dict[str, int]:
    return summary(session, date.min).by_status


# --- changing the plan ---------------------------------------------------------------------------


def _clean(values: dict) -> dict:
    cleaned = {name: values[name] for name in FIELDS if name in values}
    for name in ("reference", "area", "action", "milestones", "measures", "lead", "support", "outcomes"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
    if "rag" in cleaned:
        cleaned["rag"] = Rag(cleaned["rag"])
    if "status" in cleaned:
        cleaned["status"] = LaActionStatus(cleaned["status"])
    for n in (1, 2, 3):
        if f"objective_{n}" in cleaned:
            cleaned[f"objective_{n}"] = bool(cleaned[f"objective_{n}"])
    return cleaned


def reference_taken(session, reference: str, except_id: int | None = None) -> bool:
    query = select(LaAction.id).where(LaAction.reference == reference.strip())
    if except_id is not None:
        query = query.where(LaAction.id != except_id)
    return session.scalar(query.limit(1)) is not None


def create_action(
    session, user, /, *, finding_cycle: Cycle | None = None, finding_question_key: str | None = None, **values
) -> LaAction:
    """Add an action to the plan (optionally started from a question's gaps in a cycle).

    :param values: the fields in ``FIELDS``
    :raises DuplicateReference: another action has this reference
    """
    cleaned = _clean(values)
    if reference_taken(session, cleaned["reference"]):
        raise DuplicateReference(cleaned["reference"])
    action = LaAction(
        **cleaned,
        finding_cycle=finding_cycle if finding_question_key else None,
        finding_question_key=finding_question_key if finding_cycle is not None else None,
        created_by_id=getattr(user, "id", None),
        updated_by_id=getattr(user, "id", None),
    )
    session.add(action)
    session.flush()
    record(
        "la_action.created",
        user.id,
        cycle_id=action.finding_cycle_id,
        la_action=action.id,
        reference=action.reference,
        area=action.area,
        finding=action.finding_question_key,
    )
    session.flush()
    return action


def update_action(session, action: LaAction, /, *, expected_version: int, user, **values) -> LaAction:
    """Save the action's new values if nobody saved it since ``expected_version``.

    :raises StaleLaAction: someone else's save came first (theirs is kept)
    :raises DuplicateReference: another action has the new reference
    """
    cleaned = _clean(values)
    if "reference" in cleaned and reference_taken(session, cleaned["reference"], except_id=action.id):
        raise DuplicateReference(cleaned["reference"])
    before = {name: getattr(action, name) for name in cleaned}
    moved = session.execute(
        update(LaAction)
        .where(LaAction.id == action.id, LaAction.version == expected_version)
        .values(**cleaned, version=LaAction.version + 1, updated_at=utcnow(), updated_by_id=getattr(user, "id", None))
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(action)
    if moved != 1:
        raise StaleLaAction(action)
    changed = sorted(name for name, old in before.items() if old != getattr(action, name))
    record(
        "la_action.updated",
        user.id,
        la_action=action.id,
        reference=action.reference,
        changed=changed,
        status=action.status.value,
        rag=action.rag.value,
    )
    session.flush()
    return action


def add_update(session, action: LaAction, user, *, written_on: date, text: str) -> LaActionUpdate:
    """Add a dated progress update to the action."""
    entry = LaActionUpdate(
        la_action=action, written_on=written_on, text=text.strip(), author_id=getattr(user, "id", None)
    )
    session.add(entry)
    session.flush()
    record(
        "la_action.progress_added",
        user.id,
        la_action=action.id,
        reference=action.reference,
        written_on=written_on.isoformat(),
        update=entry.id,
    )
    session.flush()
    return entry


# --- audit findings: a question's gaps in a cycle ---------------------------------------------------


@dataclass
class FindingFigure:
    """How many establishments in scope of ``cycle`` have a gap (not met or partly met) on one question."""

    cycle: Cycle
    question_key: str
    question_text: str
    gaps: int
    in_scope: int
    #: urn, name, phase, trust_name, how (own / trust), class label: one row per establishment behind the figure
    establishments: pd.DataFrame

    @property
    def rows(self) -> list[dict]:
        return self.establishments.to_dict("records")

    @property
    def sentence(self) -> str:
        noun = "establishment" if self.gaps == 1 else "establishments"
        return f"{self.gaps} {noun} did not fully meet “{self.question_text}” in {self.cycle.name}"


@dataclass
class Finding:
    """The figure an action started from, and the same figure in the next cycle, if there is one yet."""

    baseline: FindingFigure
    next: FindingFigure | None


def _analysis(session, cycle: Cycle, cache: dict | None) -> figures.Analysis:
    """The cycle's analysis, computed once per ``cache`` (a plain dict the caller keeps for one page or export).

    Made a batch of establishments at a time: a finding needs only the classes, never the answers' values."""
    if cache is None:
        return figures.analyse_in_batches(*load_in_batches(cycle, session))
    if cycle.id not in cache:
        cache[cycle.id] = figures.analyse_in_batches(*load_in_batches(cycle, session))
    return cache[cycle.id]


def question_gaps(
    session, cycle: Cycle, question_key: str, analysis: figures.Analysis | None = None, cache: dict | None = None
) -> FindingFigure | None:
    """The establishments with a gap on this question in this cycle, from the analysis layer; None if the
    cycle's template has no such question.

    :param cache: cycle id -> analysis, shared by the calls of one page or export
    """
    analysis = analysis or _analysis(session, cycle, cache)
    keys = list(analysis.data.questions["question_key"])
    if question_key not in keys:
        return None
    column = keys.index(question_key)
    codes = [figures.CLASSES.index(name) for name in figures.GAP_CLASSES]
    mask = np.isin(analysis.classes[:, column], codes)
    chosen = analysis.establishments[mask].copy()
    chosen["class"] = [figures.CLASS_LABELS[figures.CLASSES[code]] for code in analysis.classes[mask, column]]
    chosen = chosen[["establishment_id", "urn", "name", "phase", "trust_name", "how", "class"]].reset_index(drop=True)
    row = analysis.questions.iloc[column]
    return FindingFigure(
        cycle=cycle,
        question_key=question_key,
        question_text=str(row["text"]),
        gaps=int(sum(int(row[name]) for name in figures.GAP_CLASSES)),
        in_scope=analysis.in_scope,
        establishments=chosen,
    )


def findings_for_cycle(session, cycle: Cycle) -> list[FindingFigure]:
    """Every question of the cycle with at least one gap, most gaps first: the findings an action can start from."""
    analysis = _analysis(session, cycle, None)
    result = []
    for key in analysis.questions["question_key"]:
        figure = question_gaps(session, cycle, key, analysis)
        if figure is not None and figure.gaps:
            result.append(figure)
    return sorted(result, key=lambda figure: -figure.gaps)


def next_cycle(session, cycle: Cycle, question_key: str) -> Cycle | None:
    """The first cycle due after ``cycle`` whose template asks the same question."""
    return session.scalar(
        select(Cycle)
        .where(
            Cycle.due_on > cycle.due_on,
            select(TemplateQuestion.id)
            .where(TemplateQuestion.template_id == Cycle.template_id, TemplateQuestion.key == question_key)
            .exists(),
        )
        .order_by(Cycle.due_on, Cycle.id)
        .limit(1)
    )


def finding_for(session, action: LaAction, cache: dict | None = None) -> Finding | None:
    """The action's finding as it stood and as it stands in the next cycle (computed now, never stored).

    :param cache: cycle id -> analysis, shared by the calls of one page or export
    """
    if action.finding_cycle is None or not action.finding_question_key:
        return None
    baseline = question_gaps(session, action.finding_cycle, action.finding_question_key, cache=cache)
    if baseline is None:
        return None
    later = next_cycle(session, action.finding_cycle, action.finding_question_key)
    return Finding(
        baseline, None if later is None else question_gaps(session, later, action.finding_question_key, cache=cache)
    )
