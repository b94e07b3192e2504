"""Building a small cycle whose tracker figures are known."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from surveyapp.audits.models import Assignment, Response, ResponseStatus, SectionProgress, SectionState
from surveyapp.extensions import db


def response_of(cycle, establishment=None, trust=None) -> Response:
    column = Assignment.establishment_id if establishment is not None else Assignment.trust_id
    target = establishment if establishment is not None else trust
    return db.session.scalar(
        select(Response).join(Assignment).where(Assignment.cycle_id == cycle.id, column == target.id)
    )


def set_status(cycle, status: ResponseStatus, *, establishment=None, trust=None, done: tuple[str, ...] = (),
               submitted_at: datetime | None = None, updated_at: datetime | None = None) -> Response:
    """Put a response straight into a status, with some sections completed."""
    response = response_of(cycle, establishment, trust)
    response.status = status
    response.updated_at = updated_at or datetime(2026, 11, 1, 10, tzinfo=UTC)
    if status in (ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED):
        response.submitted_at = submitted_at or datetime(2026, 11, 2, 10, tzinfo=UTC)
    for key in done:
        db.session.add(SectionProgress(response_id=response.id, section_key=key, state=SectionState.COMPLETED))
    db.session.flush()
    return response
