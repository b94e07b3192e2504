"""A small cycle with known answers for the export and action-plan tests (tests.factories.SMALL_TEMPLATE).

Five establishments: a trust-covered academy (answers from its trust, which cannot confirm Prevent in
its self-evaluation), an academy answering for itself (WRAP partly done), a school with a formula-looking
name and four gaps, a school that has not started, and a school meeting everything.
"""

from __future__ import annotations

from sqlalchemy import select

from surveyapp.audits.models import Answer, Assignment, ResponseStatus
from surveyapp.extensions import db

FORMULA_NAME = '=HYPERLINK("http://x","y")'
FORMULA_ACTION = "=cmd|' /C calc'!A0"


def _answer(response, **values):
    for key, value in values.items():
        follow_up = None
        if isinstance(value, tuple):
            value, follow_up = value
        db.session.add(Answer(response_id=response.id, question_key=key, value=value, follow_up=follow_up))
    response.status = ResponseStatus.SUBMITTED


def build(make):
    trust = make.trust(name="Oak Trust")
    covered = make.establishment(name="Covered Academy", urn="200001", trust=trust, type_name="Academy converter")
    own = make.establishment(
        name="Own Academy", urn="200002", trust=trust, type_name="Academy converter", phase="Secondary"
    )
    formula = make.establishment(name=FORMULA_NAME, urn="200003", district="Southtown")
    quiet = make.establishment(name="Quiet School", urn="200004")
    good = make.establishment(name="Good School", urn="200005", phase="Secondary")
    make.dsl(quiet, email="dsl@quiet.example.org", name="Quinn DSL")
    cycle = make.cycle()
    responses = {
        (a.establishment_id or ("trust", a.trust_id)): a.response
        for a in db.session.scalars(select(Assignment).where(Assignment.cycle_id == cycle.id))
    }
    _answer(
        responses[("trust", trust.id)],
        policy_current="yes",
        policy_review_date="2026-06-01",
        prevent_wrap="yes",
        prevent_trained_pct="95",
        prevent_sef="unsure",
    )
    _answer(
        responses[own.id],
        policy_current="yes",
        policy_review_date="2026-01-01",
        policy_notes="+1 extra",
        prevent_wrap="partly",
        prevent_trained_pct="95",
        prevent_sef="yes",
    )
    _answer(
        responses[formula.id],
        policy_current=("no", {"action": FORMULA_ACTION, "owner": "@Head", "target_date": "2026-12-01"}),
        policy_review_date="2024-01-01",
        prevent_wrap="yes",
        prevent_trained_pct="80",
        prevent_sef="no",
    )
    _answer(
        responses[good.id],
        policy_current="yes",
        policy_review_date="2026-05-01",
        policy_notes="-2+3",
        prevent_wrap="yes",
        prevent_trained_pct="100",
        prevent_sef="yes",
    )
    db.session.commit()
    return {
        "cycle": cycle,
        "trust": trust,
        "covered": covered,
        "own": own,
        "formula": formula,
        "quiet": quiet,
        "good": good,
        "responses": responses,
    }
