"""Loading a response from the URL for the people who complete it.

Anyone else gets 404, so a changed id in the address reveals nothing.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy.orm import selectinload

from surveyapp.audits.models import Assignment, AuditTemplate, Cycle, Response, TemplateSection
from surveyapp.auth.permissions import can_answer_for_establishment, can_answer_for_trust
from surveyapp.extensions import db


def load_response(response_id: int) -> Response | None:
    # The page walks the template's sections and questions: load them in a few queries, not one per section.
    return db.session.get(
        Response,
        response_id,
        options=[
            selectinload(Response.assignment).selectinload(Assignment.establishment),
            selectinload(Response.assignment).selectinload(Assignment.trust),
            selectinload(Response.assignment).selectinload(Assignment.cycle).selectinload(Cycle.template)
            .selectinload(AuditTemplate.sections).selectinload(TemplateSection.questions),
            selectinload(Response.sections),
            selectinload(Response.answers),
        ],
    )


def may_answer(user, response: Response) -> bool:
    assignment = response.assignment
    if assignment.establishment_id is not None:
        return can_answer_for_establishment(user, assignment.establishment)
    return can_answer_for_trust(user, assignment.trust_id)


def respondent_response(view):
    """Load <response_id> as `response` for a user who completes it; 404 for anyone else."""

    @wraps(view)
    def wrapped(response_id: int, **kwargs):
        response = load_response(response_id)
        # A draft cycle is not yet visible to schools: its responses are not found.
        if response is None or not response.assignment.cycle.visible_to_respondents or not may_answer(current_user, response):
            abort(404)
        return view(response=response, **kwargs)

    return wrapped
