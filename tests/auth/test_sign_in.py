"""Sign-in, single-use links, sessions and the commands that create accounts."""

from __future__ import annotations

import re

import pytest
from flask import g
from sqlalchemy import select

from surveyapp import mail
from surveyapp.auth.models import AccountToken, User
from surveyapp.config import ConfigError, load_config
from surveyapp.extensions import db
from tests.conftest import make_app, outbox_messages


def test_sign_in_goes_to_a_local_next_page_only(client, make):
    lead = make.lead()
    db.session.commit()
    good = client.post("/sign-in?next=/templates", data={"email": lead.email.upper(), "password": make.PASSWORD})
    assert good.headers["Location"] == "/templates"
    client.post("/sign-out")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.post(f"/sign-in?next={evil}", data={"email": lead.email, "password": make.PASSWORD})
        assert response.headers["Location"] == "/", evil
        client.post("/sign-out")


def test_wrong_password_is_refused_with_a_linked_error(client, make):
    lead = make.lead()
    db.session.commit()
    page = client.post("/sign-in", data={"email": lead.email, "password": "wrong wrong wrong"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Enter a correct email address and password" in body and 'href="#email"' in body
    assert client.get("/cycles").status_code == 302  # still signed out


def test_sign_in_is_throttled(client, make):
    lead = make.lead()
    db.session.commit()
    codes = [
        client.post("/sign-in", data={"email": lead.email, "password": "nope nope nope"}).status_code for _ in range(12)
    ]
    assert codes[:10] == [200] * 10
    assert 429 in codes[10:]


def test_create_lead_prints_a_single_use_link_that_sets_the_password(runner, client):
    result = runner.invoke(args=["users", "create-lead", "Lead@Council.example.org", "--name", "Lee Lead"])
    assert result.exit_code == 0, result.output
    link = re.search(r"http://localhost(/set-password/\S+)", result.output).group(1)
    page = client.get(link)
    assert page.status_code == 200 and "lead@council.example.org" in page.get_data(as_text=True)
    short = client.post(link, data={"password": "short", "confirm": "short"})
    assert "12 characters or more" in short.get_data(as_text=True)
    done = client.post(link, data={"password": "a long enough passphrase", "confirm": "a long enough passphrase"})
    assert done.status_code == 302
    assert client.get(link).status_code == 404  # single use
    signed_in = client.post(
        "/sign-in", data={"email": "lead@council.example.org", "password": "a long enough passphrase"}
    )
    assert signed_in.status_code == 302
    again = runner.invoke(args=["users", "create-lead", "lead@council.example.org"])
    assert again.exit_code == 1 and "already an account" in again.output


def test_an_expired_link_is_refused(runner, client):
    from datetime import timedelta

    from surveyapp.timeutil import utcnow

    result = runner.invoke(args=["users", "create-lead", "late@council.example.org"])
    link = re.search(r"(/set-password/\S+)", result.output).group(1)
    db.session.scalar(select(AccountToken)).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = client.get(link)
    assert page.status_code == 404 and "expired" in page.get_data(as_text=True)
    refused = client.post(link, data={"password": "a long enough passphrase", "confirm": "a long enough passphrase"})
    assert refused.status_code == 404
    assert db.session.scalar(select(User.password_hash).where(User.email == "late@council.example.org")) is None


def test_password_reset_email_and_link(client, make, app):
    dsl = make.dsl(make.establishment(), email="dsl@school.example.org")
    db.session.commit()
    page = client.post("/forgot-password", data={"email": "dsl@school.example.org"})
    assert "Check your email" in page.get_data(as_text=True)
    unknown = client.post("/forgot-password", data={"email": "nobody@school.example.org"})
    assert "Check your email" in unknown.get_data(as_text=True)  # does not reveal who has an account
    mail.wait_for_sending()  # the email is handed to the background sender
    messages = outbox_messages(app)
    assert [m["To"] for m in messages] == ["dsl@school.example.org"]
    link = re.search(r"http://localhost(/set-password/\S+)", messages[0].get_payload()).group(1)
    assert (
        client.post(link, data={"password": "brand new passphrase", "confirm": "brand new passphrase"}).status_code
        == 302
    )
    assert client.post("/sign-in", data={"email": dsl.email, "password": "brand new passphrase"}).status_code == 302


def test_signing_out_ends_a_copied_session_cookie(app, make):
    lead = make.lead()
    db.session.commit()
    browser = app.test_client()
    browser.post("/sign-in", data={"email": lead.email, "password": make.PASSWORD})
    cookie = browser.get_cookie("session").value
    assert browser.get("/cycles").status_code == 200
    browser.post("/sign-out")
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/cycles").status_code == 302


def test_a_disabled_user_is_signed_out_at_their_next_request(client, make, sign_in):
    lead = make.lead()
    db.session.commit()
    sign_in(lead)
    assert client.get("/cycles").status_code == 200
    db.session.get(User, lead.id).is_enabled = False
    db.session.commit()
    assert client.get("/cycles").status_code == 302


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SURVEYAPP_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        load_config(str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="too short"):
        load_config(str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    config = load_config(str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is True


def test_security_headers_and_no_store(client):
    response = client.get("/sign-in")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.get_data(as_text=True)


def test_forms_refuse_a_post_without_a_csrf_token(make):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        response = client.post("/sign-in", data={"email": "a@b.example", "password": "whatever"})
        assert response.status_code == 400
        assert "Your page had expired" in response.get_data(as_text=True)


def test_staying_signed_in_counts_the_idle_timeout_again_and_needs_the_csrf_token(make):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        lead = make.lead()
        db.session.commit()
        client = app.test_client()
        page = client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        client.post("/sign-in", data={"csrf_token": token, "email": lead.email, "password": make.PASSWORD})
        # The dialog's token, from a signed-in page (signing in starts a fresh session, and a fresh token).
        # The requests share this test's app context, whose `g` would hand back the old token unsaved.
        g.pop("csrf_token", None)
        page = client.get("/cycles").get_data(as_text=True)
        token = re.search(r'data-csrf-token="([^"]+)"', page).group(1)
        idle = app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
        with client.session_transaction() as session:
            session["last_seen"] -= idle - 5  # five seconds of the sign-in left
            before = session["last_seen"]
        assert client.post("/sign-in/stay").status_code == 400  # no token: refused, nothing extended
        assert client.post("/sign-in/stay", headers={"X-CSRFToken": token}).status_code == 204
        with client.session_transaction() as session:
            assert session["last_seen"] > before + idle - 10


def test_the_sign_in_page_says_once_why_the_sign_in_ended(client, make, sign_in):
    # A visit that needs signing in, not after a timeout: "Sign in to continue."
    assert "Sign in to continue." in client.get("/cycles", follow_redirects=True).get_data(as_text=True)
    lead = make.lead()
    db.session.commit()
    sign_in(lead)
    with client.session_transaction() as session:
        session["last_seen"] -= 121 * 60
    page = client.get("/cycles", follow_redirects=True).get_data(as_text=True)
    assert page.count("govuk-notification-banner__content") == 1
    assert "You were signed out after 2 hours of inactivity. Anything you saved is kept." in page
    sign_in(lead)
    with client.session_transaction() as session:
        session["signed_in_at"] -= 13 * 3600
    page = client.get("/cycles", follow_redirects=True).get_data(as_text=True)
    assert page.count("govuk-notification-banner__content") == 1
    assert "You were signed out because you signed in 12 hours ago. Anything you saved is kept." in page


def test_passwords_are_hashed_at_rfc_9106_cost_outside_the_test_suite(monkeypatch, tmp_path, client, make):
    from argon2.profiles import RFC_9106_LOW_MEMORY, get_default_parameters

    from surveyapp import create_app
    from surveyapp.auth import services

    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    for env in ("production", "development"):
        monkeypatch.setenv("SURVEYAPP_ENV", env)
        assert load_config(str(tmp_path))["PASSWORD_PROFILE"] == "rfc9106-low-memory", env
    assert services.PASSWORD_PROFILES["rfc9106-low-memory"] == RFC_9106_LOW_MEMORY == get_default_parameters()
    # A password set under a production app is hashed at that cost; the test suite's cheap hashes still verify.
    user = make.dsl(make.establishment(), email="dsl@school.example.org")
    db.session.commit()
    try:
        create_app({"ENV_NAME": "production", "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        assert services.hash_password("a long enough password").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert services.authenticate("dsl@school.example.org", make.PASSWORD).id == user.id
        assert not services.authenticate("dsl@school.example.org", "not the password at all")
    finally:
        services.use_password_profile("cheapest-for-tests")
    assert services.hash_password("a long enough password").startswith("$argon2id$v=19$m=8,t=1,p=1$")
