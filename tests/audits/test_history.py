"""A DSL who joins later sees every earlier return of their establishment, read-only."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from surveyapp.audits.models import Answer, Assignment, Response, ResponseStatus
from surveyapp.extensions import db
from tests.journey_data import PREVENT_OK


def test_a_new_dsl_sees_earlier_cycles_returns_read_only(client, make, sign_in):
    school = make.establishment(name="Oak Primary")
    make.dsl(school, email="former@oak.example.org")
    earlier = make.cycle(slug="2025-26", opens_on=date(2025, 9, 1), due_on=date(2026, 3, 31))
    current = make.cycle(slug="2026-27")
    old = db.session.scalar(
        select(Response)
        .join(Assignment)
        .where(Assignment.establishment_id == school.id, Assignment.cycle_id == earlier.id)
    )
    old.status = ResponseStatus.ACCEPTED
    db.session.add(Answer(response_id=old.id, question_key="prevent_trained_pct", value="64"))
    db.session.commit()

    newcomer = make.dsl(school, email="new@oak.example.org")
    db.session.commit()
    sign_in(newcomer)
    listing = client.get("/audits/").get_data(as_text=True)
    assert "2025-26" in listing and "2026-27" in listing and f"/audits/{old.id}/" in listing
    answers = client.get(f"/audits/{old.id}/check").get_data(as_text=True)
    assert "64" in answers
    refused = client.post(f"/audits/{old.id}/sections/prevent", data={**PREVENT_OK, "version": "0"})
    assert refused.status_code == 302 and refused.headers["Location"].endswith(f"/audits/{old.id}/check")
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(Answer.value).where(Answer.response_id == old.id, Answer.question_key == "prevent_trained_pct")
        )
        == "64"
    )
    assert current.slug == "2026-27"
