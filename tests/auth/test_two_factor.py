"""Two-factor sign-in: required for leads and board viewers, optional for others unless the lead requires it."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from surveyapp.auth.models import User
from surveyapp.extensions import db
from tests.factories import Factory


@pytest.fixture
def app_config():
    return {"TWO_FACTOR_ROLES": ["lead", "board"]}


def _code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset)


def _set_up(client, user_id):
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'id="two-factor-key"[^>]*>([A-Z2-7]+)<', page).group(1)
    assert "<svg" in page  # the QR code
    wrong = client.post("/account/two-factor", data={"code": "000000"})
    assert "did not match" in wrong.get_data(as_text=True)
    done = client.post("/account/two-factor", data={"code": _code(secret)})
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def test_a_lead_must_set_up_two_factor_then_needs_a_code_to_sign_in(client, make):
    lead = make.lead()
    db.session.commit()
    elsewhere = client.application.test_client()
    elsewhere.post("/sign-in", data={"email": lead.email, "password": make.PASSWORD})
    first = client.post("/sign-in", data={"email": lead.email, "password": make.PASSWORD})
    assert first.headers["Location"].startswith("/account/two-factor")
    assert client.get("/cycles").headers["Location"].startswith("/account/two-factor")  # nothing else until set up
    secret, codes = _set_up(client, lead.id)
    assert client.get("/cycles").status_code == 200  # this session proved both factors
    assert elsewhere.get("/cycles").headers["Location"].startswith("/sign-in")  # the password-only one has ended
    client.post("/sign-out")

    password_only = client.post("/sign-in", data={"email": lead.email, "password": make.PASSWORD})
    assert password_only.headers["Location"] == "/sign-in/code"
    assert client.get("/cycles").status_code == 302  # a password alone signs nobody in
    refused = client.post("/sign-in/code", data={"code": "123456"})
    assert "Enter the 6-digit code" in refused.get_data(as_text=True)
    # The code used to turn it on cannot be replayed; the next one works.
    in_with_code = client.post("/sign-in/code", data={"code": _code(secret, 30)})
    assert in_with_code.status_code == 302 and client.get("/cycles").status_code == 200
    client.post("/sign-out")

    client.post("/sign-in", data={"email": lead.email, "password": make.PASSWORD})
    assert client.post("/sign-in/code", data={"code": codes[0]}).status_code == 302
    assert client.get("/cycles").status_code == 200
    client.post("/sign-out")
    client.post("/sign-in", data={"email": lead.email, "password": make.PASSWORD})
    reused = client.post("/sign-in/code", data={"code": codes[0]})
    assert reused.status_code == 200  # a recovery code works once
    assert len(db.session.get(User, lead.id).recovery_codes) == 9


def test_a_dsl_may_sign_in_with_a_password_until_the_lead_requires_two_factor_for_everyone(client, make, sign_in):
    dsl = make.dsl(make.establishment())
    lead = make.lead()
    db.session.commit()
    sign_in(dsl)
    assert client.get("/audits/").status_code == 200
    client.post("/sign-out")
    lead_client = client.application.test_client()
    lead_client.post("/sign-in", data={"email": lead.email, "password": make.PASSWORD})
    _set_up(lead_client, lead.id)
    secret = db.session.scalar(select(User.totp_secret).where(User.id == lead.id))
    lead_client.post("/sign-in", data={"email": lead.email, "password": make.PASSWORD})
    lead_client.post("/sign-in/code", data={"code": _code(secret, 30)})
    assert lead_client.post("/users/two-factor-for-everyone", data={"on": "1"}).status_code == 302
    sign_in(dsl)
    assert client.get("/audits/").headers["Location"].startswith("/account/two-factor")


def test_breached_passwords_are_refused(runner, client):
    result = runner.invoke(args=["users", "create-lead", "new@council.example.org"])
    link = re.search(r"http://localhost(/set-password/\S+)", result.output).group(1)
    page = client.post(link, data={"password": "password1234", "confirm": "password1234"})
    assert "known from data breaches" in page.get_data(as_text=True)
    assert db.session.scalar(select(User.password_hash).where(User.email == "new@council.example.org")) is None


def test_an_attacker_cannot_lock_the_owner_out_of_their_account(app, make):
    dsl = make.dsl(make.establishment())
    db.session.commit()
    owner = app.test_client()
    assert owner.post("/sign-in", data={"email": dsl.email, "password": make.PASSWORD}).status_code == 302
    owner.post("/sign-out")
    # Guesses from many addresses exhaust the per-account limit...
    for n in range(25):
        app.test_client().post(
            "/sign-in",
            data={"email": dsl.email, "password": f"guess {n} guess"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        )
    stranger = app.test_client().post(
        "/sign-in", data={"email": dsl.email, "password": make.PASSWORD}, environ_base={"REMOTE_ADDR": "198.51.100.7"}
    )
    assert stranger.status_code == 429
    # ...but the owner's browser, which has signed in before, still gets in.
    assert owner.post("/sign-in", data={"email": dsl.email, "password": make.PASSWORD}).status_code == 302


def _lead_with_two_factor(client, make):
    lead = make.lead()
    db.session.commit()
    client.post("/sign-in", data={"email": lead.email, "password": make.PASSWORD})
    secret, codes = _set_up(client, lead.id)
    return lead, secret, codes


def _stored_secret(user_id: int) -> str:
    db.session.expire_all()
    return db.session.get(User, user_id).totp_secret


def test_a_signed_in_session_alone_cannot_replace_the_authenticator(client, make):
    """The review's finding: with only a session, posting the set-up form twice swapped the authenticator."""
    lead, secret, _codes = _lead_with_two_factor(client, make)
    first = client.post("/account/two-factor", data={"code": "000000"})
    assert first.status_code == 302  # no new key is shown or stored
    assert "two-factor-key" not in client.get("/account/two-factor").get_data(as_text=True)
    for _ in range(2):
        client.post("/account/two-factor", data={"code": _code(secret, 30)})
    assert _stored_secret(lead.id) == secret
    # A code alone, or a password alone, is not enough either.
    assert (
        client.post("/account/two-factor/replace", data={"password": "", "code": _code(secret, 30)}).status_code == 400
    )
    assert (
        client.post("/account/two-factor/replace", data={"password": make.PASSWORD, "code": "123456"}).status_code
        == 400
    )
    assert (
        client.post(
            "/account/two-factor/replace", data={"password": "not the password", "code": _code(secret, 30)}
        ).status_code
        == 400
    )
    assert "two-factor-key" not in client.get("/account/two-factor").get_data(as_text=True)
    assert _stored_secret(lead.id) == secret


def test_the_password_and_current_code_allow_replacing_the_authenticator(client, make):
    lead, secret, _codes = _lead_with_two_factor(client, make)
    confirmed = client.post("/account/two-factor/replace", data={"password": make.PASSWORD, "code": _code(secret, 30)})
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("/account/two-factor")
    page = client.get("/account/two-factor").get_data(as_text=True)
    new_secret = re.search(r'id="two-factor-key"[^>]*>([A-Z2-7]+)<', page).group(1)
    done = client.post("/account/two-factor", data={"code": _code(new_secret)})
    assert "recovery" in done.get_data(as_text=True)
    assert _stored_secret(lead.id) == new_secret != secret


def test_the_password_and_a_recovery_code_allow_replacing_a_lost_authenticator(client, make):
    lead, secret, codes = _lead_with_two_factor(client, make)
    confirmed = client.post("/account/two-factor/replace", data={"password": make.PASSWORD, "code": codes[0]})
    assert confirmed.status_code == 302
    assert "two-factor-key" in client.get("/account/two-factor").get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.get(User, lead.id).recovery_codes) == 9  # the code is spent


def test_turning_two_factor_off_needs_the_password_and_a_code(client, make, sign_in):
    dsl = make.dsl(make.establishment())
    db.session.commit()
    sign_in(dsl)
    secret, _codes = _set_up(client, dsl.id)
    assert client.post("/account/two-factor/disable", data={}).status_code == 400
    assert _stored_secret(dsl.id) == secret
    off = client.post("/account/two-factor/disable", data={"password": make.PASSWORD, "code": _code(secret, 30)})
    assert off.status_code == 302
    assert _stored_secret(dsl.id) is None


def _password_step(app, user, address: str):
    client = app.test_client()
    reply = client.post(
        "/sign-in", data={"email": user.email, "password": Factory.PASSWORD}, environ_base={"REMOTE_ADDR": address}
    )
    assert reply.headers["Location"].endswith("/sign-in/code")
    return client


def _wrong_code(secret: str) -> str:
    right = {_code(secret, offset) for offset in (-30, 0, 30, 60)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in right)


def _lead_with_secret(app, make):
    lead = make.lead()
    secret = pyotp.random_base32()
    lead.totp_secret = secret
    lead.recovery_codes = []
    db.session.commit()
    return lead, secret


def test_one_pending_sign_in_gets_five_wrong_codes_then_needs_the_password_again(app, make):
    lead, secret = _lead_with_secret(app, make)
    client = _password_step(app, lead, "203.0.113.1")
    for _ in range(4):
        assert client.post("/sign-in/code", data={"code": _wrong_code(secret)}).status_code == 200
    fifth = client.post("/sign-in/code", data={"code": _wrong_code(secret)})
    assert fifth.status_code == 302 and fifth.headers["Location"].endswith("/sign-in")
    # The right code now is no use without the password.
    assert client.post("/sign-in/code", data={"code": _code(secret)}).headers["Location"].endswith("/sign-in")


def test_wrong_codes_from_many_addresses_are_capped_per_account(app, make):
    """The review's finding: 28 guesses from 3 addresses, then an accepted code."""
    lead, secret = _lead_with_secret(app, make)
    guesses = 0
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        client = _password_step(app, lead, address)
        for _ in range(4):
            if guesses < 10:
                client.post("/sign-in/code", data={"code": _wrong_code(secret)}, environ_base={"REMOTE_ADDR": address})
                guesses += 1
    assert guesses == 10
    # The eleventh attempt, from a fourth address, is the right code: refused, and told why.
    attacker = _password_step(app, lead, "203.0.113.4")
    refused = attacker.post("/sign-in/code", data={"code": _code(secret)}, environ_base={"REMOTE_ADDR": "203.0.113.4"})
    assert refused.status_code == 200 and "Too many wrong codes" in refused.get_data(as_text=True)
    # Guesses during the lock are not tried and do not lengthen it.
    for _ in range(3):
        attacker.post("/sign-in/code", data={"code": _wrong_code(secret)})
    db.session.expire_all()
    locked_until = db.session.get(User, lead.id).code_locked_until
    assert locked_until is not None


def test_the_owner_gets_in_with_a_recovery_code_during_a_lock_and_the_lock_is_short(app, make):
    lead, secret = _lead_with_secret(app, make)
    client = _password_step(app, lead, "203.0.113.9")
    from surveyapp.auth import mfa

    user = db.session.get(User, lead.id)
    user.recovery_codes = [mfa._digest("abcdef-012345")]
    user.code_failures = 9
    db.session.commit()
    client.post("/sign-in/code", data={"code": _wrong_code(secret)})
    db.session.expire_all()
    user = db.session.get(User, lead.id)
    from surveyapp.timeutil import as_utc, utcnow

    assert 14 * 60 < (as_utc(user.code_locked_until) - utcnow()).total_seconds() <= 15 * 60
    owner_client = _password_step(app, lead, "198.51.100.1")
    assert owner_client.post("/sign-in/code", data={"code": "abcdef-012345"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, lead.id).code_failures == 0
