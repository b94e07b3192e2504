"""Which establishments a trust's returned response answers for: one SQL expression for every count of returns.

An academy counts as complete without a return of its own when its trust's response, submitted or accepted
in the same cycle, covers it. The lead's overview, the tracker's figures and its chart of submissions over
time all ask that question, so they all build it here.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, String, case, func, literal, select, type_coerce

from surveyapp.audits.models import Assignment, Response, ResponseStatus, TrustCoverage

#: a response in one of these statuses has been returned: it counts for the establishments it answers for
RETURNED = (ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED)
#: the status counted for an establishment that has not returned its own response but its trust's covers it
COVERED_BY_TRUST = "covered_by_trust"


def effective_status(covered: ColumnElement[bool]) -> ColumnElement[str]:
    """SQL, beside an establishment's own response: the status its counts take, as plain text.

    Its own status once it has returned its response; else ``covered_by_trust`` where ``covered`` (a returned
    trust response covers it, however the statement asks that); else its own status.
    """
    return type_coerce(
        case(
            (Response.status.in_(RETURNED), Response.status),
            (covered, literal(COVERED_BY_TRUST)),
            else_=Response.status,
        ),
        String,
    )


def completed_at(covered_at: ColumnElement) -> ColumnElement:
    """SQL, beside an establishment's own response: when it became complete, or NULL while it is not.

    Its own submission once it has returned its response; else ``covered_at``, the day its trust's returned
    response covered it (the column of ``trust_cover``, joined to the establishment, NULL where none does).
    """
    return case((Response.status.in_(RETURNED), Response.submitted_at), else_=covered_at)


def trust_cover(cycle_ids: Iterable[int]) -> Select:
    """SELECT cycle_id, establishment_id, covered_at: each establishment covered by a returned trust response.

    :param cycle_ids: the cycles to look in (one row per cycle and establishment)
    :returns: ``covered_at`` is when the first covering trust response was submitted (NULL if never recorded)
    """
    return (
        select(Assignment.cycle_id, TrustCoverage.establishment_id, func.min(Response.submitted_at).label("covered_at"))
        .join(Response, Response.id == TrustCoverage.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        # Only trust responses cover academies; saying so lets the database start from the cycle's few
        # trust assignments instead of every response.
        .where(
            Assignment.cycle_id.in_(list(cycle_ids)), Assignment.trust_id.is_not(None), Response.status.in_(RETURNED)
        )
        .group_by(Assignment.cycle_id, TrustCoverage.establishment_id)
    )


def covered_ids(cycle_id: int) -> Select:
    """SELECT of the ids of establishments covered by a returned trust response in one cycle (for ``IN``).

    An establishment covered twice is listed twice: ``IN`` does not mind, and nothing is grouped.
    """
    return (
        select(TrustCoverage.establishment_id)
        .join(Response, Response.id == TrustCoverage.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle_id, Assignment.trust_id.is_not(None), Response.status.in_(RETURNED))
    )
