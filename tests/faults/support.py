"""Shared builders for the fault tests: one school with a DSL and a deputy in an open cycle."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from surveyapp.audits.models import Answer, Assignment, Response, SectionProgress
from surveyapp.extensions import db


@dataclass
class School:
    establishment: object
    dsl: object
    deputy: object
    response_id: int


def school_in_cycle(make) -> School:
    """A school whose DSL and deputy DSL both complete this year's (small) audit."""
    establishment = make.establishment(name="St Mary’s Primary")
    dsl = make.dsl(establishment)
    deputy = make.dsl(establishment, deputy=True)
    make.cycle()
    response_id = db.session.scalar(
        select(Response.id).join(Assignment).where(Assignment.establishment_id == establishment.id)
    )
    db.session.commit()
    return School(establishment, dsl, deputy, response_id)


def signed_in(app, user, password: str):
    """A fresh test client signed in through the real form."""
    client = app.test_client()
    reply = client.post("/sign-in", data={"email": user.email, "password": password})
    assert reply.status_code == 302, reply.get_data(as_text=True)[:500]
    return client


def stored_answers(response_id: int) -> dict[str, str]:
    db.session.rollback()
    return dict(
        db.session.execute(select(Answer.question_key, Answer.value).where(Answer.response_id == response_id)).all()
    )


def section_version(response_id: int, section_key: str) -> int:
    db.session.rollback()
    version = db.session.scalar(
        select(SectionProgress.version).where(
            SectionProgress.response_id == response_id, SectionProgress.section_key == section_key
        )
    )
    return version or 0
