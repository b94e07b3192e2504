"""Printable returns: a returned audit as a PDF with its sign-off and what the trust answered, read back."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select

from surveyapp.audits import services
from surveyapp.audits.models import Answer, Assignment
from surveyapp.extensions import db


def _text(download) -> str:
    assert download.status_code == 200, download.status_code
    assert download.mimetype == "application/pdf" and download.data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(download.data))
    # Lines wrap where the page ends: compare words, not layout.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _response(cycle, **where):
    return db.session.scalar(
        select(Assignment).where(
            Assignment.cycle_id == cycle.id, *(getattr(Assignment, key) == value for key, value in where.items())
        )
    ).response


def _answer(response, **values):
    for key, value in values.items():
        value, plan = value if isinstance(value, tuple) else (value, None)
        db.session.add(Answer(response_id=response.id, question_key=key, value=value, follow_up=plan))
    db.session.flush()


def _world(make):
    """An academy that answers the policies itself and leaves Prevent to its trust; both returns submitted."""
    trust = make.trust(name="Oak Learning Trust")
    academy = make.establishment(name="Oak Hill Academy", urn="140001", trust=trust)
    other = make.establishment(name="Cedar Primary", urn="140002")
    dsl, trust_lead, lead, board = make.dsl(academy), make.trust_lead(trust), make.lead(), make.board()
    other_dsl = make.dsl(other)
    cycle = make.cycle()
    trust_response, own = _response(cycle, trust_id=trust.id), _response(cycle, establishment_id=academy.id)
    services.set_coverage(trust_response, {academy.id}, trust_lead)
    _answer(
        trust_response,
        prevent_wrap="yes",
        prevent_trained_pct="95",
        prevent_sef="yes",
        policy_current="yes",
        policy_review_date="2026-06-01",
    )
    assert services.submit(
        trust_response,
        headteacher_name="Tara Chief",
        chair_name="Terry Trustee",
        declaration_date=date(2026, 10, 1),
        user=trust_lead,
    )
    _answer(
        own,
        policy_current=(
            "no",
            {"action": "Rewrite the policy with the LA model", "owner": "Head", "target_date": "2027-01-31"},
        ),
        policy_review_date="2026-02-01",
        policy_notes="Governors reviewed it in March",
    )
    assert services.submit(
        own, headteacher_name="Hannah Head", chair_name="Gordon Governor", declaration_date=date(2026, 10, 20), user=dsl
    )
    db.session.commit()
    return {
        "cycle": cycle,
        "academy": academy,
        "own": own,
        "trust_response": trust_response,
        "dsl": dsl,
        "not_sent": _response(cycle, establishment_id=other.id),
        "trust_lead": trust_lead,
        "lead": lead,
        "board": board,
        "other_dsl": other_dsl,
    }


def test_the_dsl_prints_their_return_with_its_sign_off_and_the_trusts_section(client, make, sign_in):
    world = _world(make)
    sign_in(world["dsl"])
    own = world["own"]
    confirmation = client.get(f"/audits/{own.id}/confirmation").get_data(as_text=True)
    assert f'href="/audits/{own.id}/return.pdf"' in confirmation
    assert f'href="/audits/{own.id}/return.pdf"' in client.get("/audits/").get_data(as_text=True)

    text = _text(client.get(f"/audits/{own.id}/return.pdf"))
    assert "Oak Hill Academy" in text and "140001" in text and own.reference in text
    assert "Headteacher Hannah Head" in text and "Chair of governors Gordon Governor" in text
    assert "20 October 2026" in text
    # Its own answers, with the action it planned...
    assert "Is the child protection policy current? No" in text
    assert "Action planned: Rewrite the policy with the LA model (Head, by 31 January 2027)" in text
    assert "Governors reviewed it in March" in text
    # ...and the section its trust answered, with the trust's own sign-off.
    assert "Answered by Oak Learning Trust" in text
    assert "signed off by Tara Chief (chief executive) and Terry Trustee (chair of trustees) on 1 October 2026" in text
    assert "Prevent duty 3" in text  # the Prevent section's three questions came from the trust
    assert "What percentage of staff are Prevent trained? 95% (answered by the trust)" in text


def test_the_trust_lead_prints_the_trust_return_and_its_academys(client, make, sign_in):
    world = _world(make)
    sign_in(world["trust_lead"])
    trust_text = _text(client.get(f"/audits/{world['trust_response'].id}/return.pdf"))
    assert "Chief executive Tara Chief" in trust_text and "Chair of trustees Terry Trustee" in trust_text
    assert "Academies this return answers for" in trust_text and "Oak Hill Academy 140001" in trust_text
    academy_text = _text(client.get(f"/audits/{world['own'].id}/return.pdf"))
    assert "Hannah Head" in academy_text


def test_the_lead_and_board_print_any_return_from_the_response_page(client, make, sign_in):
    world = _world(make)
    cycle, own = world["cycle"], world["own"]
    for user in (world["lead"], world["board"]):
        reader = sign_in(user, test_client=client.application.test_client())
        page = reader.get(f"/cycles/{cycle.slug}/responses/{own.id}").get_data(as_text=True)
        url = f"/cycles/{cycle.slug}/responses/{own.id}/return.pdf"
        assert f'href="{url}"' in page
        assert "Gordon Governor" in _text(reader.get(url))


def test_nobody_else_gets_a_return_and_nothing_is_printed_before_it_is_submitted(client, make, sign_in):
    world = _world(make)
    sign_in(world["other_dsl"])
    assert client.get(f"/audits/{world['own'].id}/return.pdf").status_code == 404
    assert client.get(f"/audits/{world['not_sent'].id}/return.pdf").status_code == 404
    assert "return.pdf" not in client.get("/audits/").get_data(as_text=True)
    lead = sign_in(world["lead"], test_client=client.application.test_client())
    cycle = world["cycle"].slug
    assert lead.get(f"/cycles/{cycle}/responses/{world['not_sent'].id}/return.pdf").status_code == 404
    assert "return.pdf" not in lead.get(f"/cycles/{cycle}/responses/{world['not_sent'].id}").get_data(as_text=True)
