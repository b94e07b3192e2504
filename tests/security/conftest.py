"""The world of the access table: two trusts, their academies, three schools, a user of every role and a cycle.

It is shared by the tables in this folder (test_access_matrix.py, test_two_factor_matrix.py) and by
tests/chasing/test_access.py, which imports it into its own folder's conftest.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyapp.audits.models import Assignment, Response, ResponseStatus
from surveyapp.extensions import db


@pytest.fixture
def world(app, make):
    trust, other_trust = make.trust(name="Oak Trust"), make.trust(name="Elm Trust")
    school_a = make.establishment(name="Ash Primary")
    school_e = make.establishment(name="Birch Infants")  # the DSL's second school, its audit submitted
    academy_b = make.establishment(name="Oak Academy", trust=trust)
    school_c = make.establishment(name="Cedar Primary")
    academy_d = make.establishment(name="Elm Academy", trust=other_trust)
    users = {
        "dsl": make.dsl(school_a, school_e),
        "deputy": make.dsl(school_a, school_e, deputy=True),
        "trust_lead": make.trust_lead(trust),
        "board": make.board(),
        "lead": make.lead(),
        "disabled": make.dsl(school_a),
    }
    dsl_c = make.dsl(school_c)
    cycle = make.cycle()

    def response_of(**where):
        return db.session.scalar(
            select(Response.id).join(Assignment).where(*(getattr(Assignment, k) == v for k, v in where.items()))
        )

    world = {
        "users": users,
        "cycle_slug": cycle.slug,
        "template_id": cycle.template_id,
        "dsl_c_id": dsl_c.id,
        "urn_a": school_a.urn,
        "trust_uid": trust.uid,
        "other_trust_uid": other_trust.uid,
        "response_a": response_of(establishment_id=school_a.id),
        "response_b": response_of(establishment_id=academy_b.id),
        "response_c": response_of(establishment_id=school_c.id),
        "response_d": response_of(establishment_id=academy_d.id),
        "response_t": response_of(trust_id=trust.id),
        "response_u": response_of(trust_id=other_trust.id),
        "response_e": response_of(establishment_id=school_e.id),
    }
    db.session.get(Response, world["response_e"]).status = ResponseStatus.SUBMITTED
    db.session.get(Response, world["response_c"]).status = ResponseStatus.SUBMITTED
    from surveyapp.la_actions.services import create_action

    world["la_action_id"] = create_action(
        db.session,
        users["lead"],
        reference="CS ALL 01",
        area="Strategy",
        action="Keep a Prevent action plan",
        rag="amber",
        status="ongoing",
    ).id
    from surveyapp.jobs import services as jobs
    from surveyapp.jobs.models import JobKind

    # A register import the lead confirmed, finished: its page names what changed in the register.
    imported = jobs.start_job(JobKind.REGISTER_IMPORT, users["lead"], params={"import": "establishments"})
    jobs.finish(imported, "Establishments imported: 1 new, 0 updated, 0 unchanged, 0 closed; trusts: 0 new, 0 renamed.")
    world["import_job_id"] = imported.id
    from surveyapp.audits.editor import start_draft

    start_draft(cycle.template.key, "live", users["lead"])
    db.session.commit()
    return world
