"""A trust answering for its academies, and academies answering for themselves."""

from __future__ import annotations

import re

from sqlalchemy import select

from surveyapp.audits import services
from surveyapp.audits.models import Assignment, Response, ResponseStatus
from surveyapp.extensions import db
from tests.journey_data import DECLARATION, POLICIES_OK, PREVENT_OK


def _response(**where):
    return db.session.scalar(
        select(Response).join(Assignment).where(*(getattr(Assignment, key) == value for key, value in where.items()))
    )


def test_trust_lead_answers_for_chosen_academies(client, make, sign_in):
    trust = make.trust(name="Oak Learning Trust")
    first, second, third = (
        make.establishment(name=f"Oak Academy {n}", trust=trust, type_name="Academy converter") for n in (1, 2, 3)
    )
    lead = make.trust_lead(trust)
    make.cycle()
    trust_response = _response(trust_id=trust.id)
    sign_in(lead)
    audits = client.get("/audits/").get_data(as_text=True)
    assert "Oak Learning Trust (trust response)" in audits
    assert all(f"Oak Academy {n}" in audits for n in (1, 2, 3))
    assert (
        client.post(
            f"/audits/{trust_response.id}/academies", data={"academies": [str(first.id), str(second.id)]}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert {row.establishment_id for row in db.session.get(Response, trust_response.id).coverage} == {
        first.id,
        second.id,
    }
    client.post(f"/audits/{trust_response.id}/sections/policies", data=POLICIES_OK)
    client.post(f"/audits/{trust_response.id}/sections/prevent", data=PREVENT_OK)
    declaration = client.post(f"/audits/{trust_response.id}/declaration", data=DECLARATION)
    assert declaration.status_code == 302
    db.session.expire_all()
    assert db.session.get(Response, trust_response.id).status is ResponseStatus.SUBMITTED

    dsl = make.dsl(first)
    db.session.commit()
    client.post("/sign-out")
    sign_in(dsl)
    own = _response(establishment_id=first.id)
    task_list = client.get(f"/audits/{own.id}/").get_data(as_text=True)
    assert "Oak Learning Trust, is answering this audit" in task_list
    assert len(re.findall(r"govuk-task-list__status[^>]*>\s*Answered by trust", task_list)) == 2
    check = client.get(f"/audits/{own.id}/check").get_data(as_text=True)
    assert "Answered by Oak Learning Trust" in check
    assert "Continue to sign-off" in check  # the trust's answers fill every required question

    # The academy's own answer wins over the trust's.
    client.post(f"/audits/{own.id}/sections/prevent", data={**PREVENT_OK, "prevent_wrap": "partly"})
    groups = services.effective_answers(db.session.get(Response, own.id), db.session.get(Response, trust_response.id))
    wrap = next(item for g in groups for item in g.answers if item.question.key == "prevent_wrap")
    policy = next(item for g in groups for item in g.answers if item.question.key == "policy_current")
    assert (wrap.value, wrap.from_trust) == ("partly", False)
    assert (policy.value, policy.from_trust) == ("yes", True)

    # The third academy was not covered: it sees nothing from the trust.
    third_dsl = make.dsl(third)
    db.session.commit()
    client.post("/sign-out")
    sign_in(third_dsl)
    third_list = client.get(f"/audits/{_response(establishment_id=third.id).id}/").get_data(as_text=True)
    assert "is answering this audit" not in third_list


def test_a_trust_lead_cannot_cover_another_trusts_academy(client, make, sign_in):
    trust, other = make.trust(), make.trust()
    mine = make.establishment(trust=trust)
    theirs = make.establishment(trust=other)
    lead = make.trust_lead(trust)
    make.cycle()
    sign_in(lead)
    trust_response = _response(trust_id=trust.id)
    assert (
        client.post(
            f"/audits/{trust_response.id}/academies", data={"academies": [str(mine.id), str(theirs.id)]}
        ).status_code
        == 400
    )
    assert client.get(f"/audits/{_response(trust_id=other.id).id}/").status_code == 404
    assert client.get(f"/audits/{_response(establishment_id=theirs.id).id}/").status_code == 404
    assert client.get(f"/audits/{_response(establishment_id=mine.id).id}/").status_code == 200
