"""The access table again, with two-factor sign-in on for leads and board viewers as in production.

The other tests run with TWO_FACTOR_ROLES empty, so the table there never meets the code step.
Here a lead and a board viewer who have given only their password, whether they have an
authenticator app set up (the code step is pending) or not yet (they must set one up), reach
nothing on any route and method but the code, set-up and sign-out pages and the public pages;
once they have proved the second factor, their access is exactly the table's.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from surveyapp.audits.models import StatusEvent
from surveyapp.auth.models import User
from surveyapp.extensions import db
from tests.factories import Factory
from tests.security.test_access_matrix import OK, _cases, access_failures

#: where someone part-way through signing in may be sent
STEPS = ("/sign-in", "/sign-in/code", "/account/two-factor")
#: pages of the sign-in itself, open to them
OWN_STEP = {"auth.enter_code", "auth.set_up_two_factor", "auth.sign_out", "auth.sign_in"}


@pytest.fixture
def app_config():
    return {"TWO_FACTOR_ROLES": ["lead", "board"]}


def _password(app, user):
    client = app.test_client()
    response = client.post("/sign-in", data={"email": user.email, "password": Factory.PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client, response.headers["Location"]


def _private_words(world) -> list[str]:
    """Text that appears only on pages with audit or account data."""
    users = world["users"]
    return [
        "Ash Primary",
        "Oak Academy",
        "Cedar Primary",
        "Oak Trust",
        "Elm Trust",
        *(user.email for user in users.values()),
    ]


def _only_the_sign_in_steps(client, role, world) -> list[str]:
    failures = []
    for endpoint, method, url, expected in _cases(world):
        response = client.get(url) if method == "GET" else client.post(url, data={})
        got, location = response.status_code, response.headers.get("Location", "")
        if endpoint in OWN_STEP or expected["anonymous"] == OK:
            body = response.data.decode("utf-8", "replace") if got == 200 else ""
            leaked = [word for word in _private_words(world) if word in body]
            if leaked:
                failures.append(f"{role} {method} {url}: {got} shows {leaked}")
        elif got == 302 and location.split("?")[0] in STEPS:
            continue
        elif got not in (403, 404):
            failures.append(f"{role} {method} {url}: expected a sign-in step, 403 or 404, got {got} {location}")
    return failures


def _code(secret: str, step_offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * step_offset)


def test_password_alone_reaches_nothing_and_both_factors_reach_exactly_the_table(app, world):
    lead, board = world["users"]["lead"], world["users"]["board"]
    # The board viewer has an authenticator app already: their password leads to the code step.
    secret = pyotp.random_base32()
    db.session.get(User, board.id).totp_secret = secret
    db.session.commit()

    board_client, step = _password(app, board)
    assert step == "/sign-in/code"
    lead_client, step = _password(app, lead)
    assert step.startswith("/account/two-factor")  # the lead has not set one up yet: that is all they may do

    failures = _only_the_sign_in_steps(board_client, "board (code pending)", world)
    failures += _only_the_sign_in_steps(lead_client, "lead (two-factor not set up)", world)
    assert not failures, "\n".join(failures)
    assert db.session.scalars(select(StatusEvent).where(StatusEvent.response_id == world["response_c"])).all() == []

    # The table's last case signed both out; now each proves the second factor.
    board_client, _ = _password(app, board)
    assert board_client.post("/sign-in/code", data={"code": _code(secret)}).status_code == 302
    lead_client, _ = _password(app, lead)
    page = lead_client.get("/account/two-factor").get_data(as_text=True)
    lead_secret = re.search(r'id="two-factor-key"[^>]*>([A-Z2-7]+)<', page).group(1)
    assert "recovery" in lead_client.post("/account/two-factor", data={"code": _code(lead_secret)}).get_data(
        as_text=True
    )

    # Where two-factor sign-in is required, it cannot be turned off: the one change from the table.
    required = {"auth.disable_two_factor": {"board": 403, "lead": 403}}
    failures = access_failures({"board": board_client, "lead": lead_client}, world, ("board", "lead"), required)
    assert not failures, "\n".join(failures)
    events = db.session.scalars(select(StatusEvent).where(StatusEvent.response_id == world["response_c"])).all()
    assert [(e.to_status.value, e.by_user_id) for e in events] == [("accepted", lead.id)]
