"""Inputs the review found giving server errors (500) now get a clear 4xx or are handled."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyapp.audits.models import Assignment, Response
from surveyapp.extensions import db

HUGE = str(2**63)
HUGER = "9" * 30


@pytest.fixture
def world(make):
    school = make.establishment()
    dsl = make.dsl(school)
    lead = make.lead()
    trust = make.trust()
    lead_of_trust = make.trust_lead(trust)
    cycle = make.cycle()
    response = db.session.scalar(select(Response).join(Assignment).where(Assignment.establishment_id == school.id))
    db.session.commit()
    return {"dsl": dsl, "lead": lead, "trust_lead": lead_of_trust, "cycle": cycle, "response": response}


@pytest.mark.parametrize("number", [HUGE, HUGER])
def test_ids_too_large_for_the_database_are_not_found(client, sign_in, world, number):
    sign_in(world["dsl"])
    for url in (f"/audits/{number}/", f"/audits/{number}/sections/policies", f"/audits/{number}/action-plan"):
        assert client.get(url).status_code == 404, url
    client.post("/sign-out")
    sign_in(world["lead"])
    slug = world["cycle"].slug
    assert client.get(f"/cycles/{slug}/responses/{number}").status_code == 404
    assert client.post(f"/cycles/{slug}/responses/{number}/accept").status_code == 404
    assert client.post(f"/users/{number}/resend-invitation").status_code == 404


@pytest.mark.parametrize("number", [HUGE, HUGER, "-1", "abc", "1e9"])
def test_page_numbers_of_any_size_show_a_page(client, sign_in, world, number):
    sign_in(world["lead"])
    slug = world["cycle"].slug
    for url in (
        "/establishments/",
        f"/cycles/{slug}/",
        "/activity",
        f"/cycles/{slug}/tracker",
        f"/cycles/{slug}/tracker/by-phase",
    ):
        assert client.get(f"{url}?page={number}").status_code == 200, url


@pytest.mark.parametrize("number", [HUGE, HUGER, "abc"])
def test_a_trust_too_large_or_not_a_number_is_not_found(client, sign_in, world, number):
    slug = world["cycle"].slug
    sign_in(world["lead"])
    assert client.get(f"/cycles/{slug}/analysis?trust={number}").status_code == 404
    client.post("/sign-out")
    sign_in(world["trust_lead"])
    assert client.get(f"/cycles/{slug}/analysis?trust={number}").status_code == 404


def test_form_lists_of_ids_too_large_are_ignored(client, sign_in, world):
    sign_in(world["lead"])
    slug = world["cycle"].slug
    page = client.post(f"/cycles/{slug}/reminders/preview", data={"establishment": [HUGE, HUGER]})
    assert page.status_code in (200, 302, 400)
