"""Last year's answers pre-fill this year's where the question key is the same."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from surveyapp.audits.models import Answer, Assignment, Response, ResponseStatus
from surveyapp.extensions import db


def _response(establishment, cycle):
    return db.session.scalar(
        select(Response)
        .join(Assignment)
        .where(Assignment.establishment_id == establishment.id, Assignment.cycle_id == cycle.id)
    )


def test_last_years_answers_are_prefilled_and_marked(client, make, sign_in):
    school = make.establishment()
    dsl = make.dsl(school)
    template = make.template()
    last_year = make.cycle(slug="2025-26", template=template, opens_on=date(2025, 9, 1), due_on=date(2026, 3, 31))
    old = _response(school, last_year)
    old.status = ResponseStatus.SUBMITTED
    db.session.add_all(
        [
            Answer(response_id=old.id, question_key="prevent_wrap", value="partly"),
            Answer(response_id=old.id, question_key="prevent_trained_pct", value="64"),
        ]
    )
    this_year = make.cycle(slug="2026-27", template=template)
    current = _response(school, this_year)
    sign_in(dsl)
    page = client.get(f"/audits/{current.id}/sections/prevent").get_data(as_text=True)
    assert page.count("From last year") >= 3  # the explanation and two marked answers
    assert 'value="partly" checked' in page and 'value="64"' in page
    # Nothing is stored for this year until the DSL saves the page.
    assert db.session.scalar(select(Answer).where(Answer.response_id == current.id)) is None


def test_an_unsubmitted_response_from_last_year_is_not_used(client, make, sign_in):
    school = make.establishment()
    dsl = make.dsl(school)
    template = make.template()
    last_year = make.cycle(slug="2025-26", template=template, opens_on=date(2025, 9, 1), due_on=date(2026, 3, 31))
    old = _response(school, last_year)
    old.status = ResponseStatus.IN_PROGRESS
    db.session.add(Answer(response_id=old.id, question_key="prevent_wrap", value="no"))
    this_year = make.cycle(slug="2026-27", template=template)
    sign_in(dsl)
    page = client.get(f"/audits/{_response(school, this_year).id}/sections/prevent").get_data(as_text=True)
    assert "From last year" not in page
