"""A save posted after the sign-in ended is kept, and given back after signing in again."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from surveyapp.audits.models import Answer, Assignment, KeptInput, Response
from surveyapp.auth.models import User
from surveyapp.extensions import db
from tests.journey_data import PREVENT_OK


def test_input_posted_after_sign_in_ended_survives_signing_in_again(client, make, sign_in):
    school = make.establishment()
    dsl = make.dsl(school)
    make.cycle()
    response = db.session.scalar(select(Response).join(Assignment).where(Assignment.establishment_id == school.id))
    sign_in(dsl)
    # The sign-in ends behind the browser's back (as an idle timeout would).
    db.session.get(User, dsl.id).session_epoch += 1
    db.session.commit()
    typed = {**PREVENT_OK, "prevent_wrap": "partly", "prevent_trained_pct": "72"}
    posted = client.post(f"/audits/{response.id}/sections/prevent", data=typed)
    assert posted.status_code == 302
    location = urlsplit(posted.headers["Location"])
    assert location.path == "/sign-in"
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 0  # not saved without a sign-in
    sign_in_page = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert "We have kept what you typed" in sign_in_page
    back = client.post(posted.headers["Location"], data={"email": dsl.email, "password": make.PASSWORD})
    assert back.status_code == 302
    section = client.get(back.headers["Location"])
    page = section.get_data(as_text=True)
    assert "Not saved yet" in page
    assert 'value="72"' in page and 'value="partly" checked' in page
    token = parse_qs(urlsplit(back.headers["Location"]).query)["kept"][0]
    saved = client.post(f"/audits/{response.id}/sections/prevent", data={**typed, "kept": token})
    assert saved.status_code == 302
    answers = dict(db.session.execute(select(Answer.question_key, Answer.value)).all())
    assert answers["prevent_trained_pct"] == "72" and answers["prevent_wrap"] == "partly"
    assert db.session.scalar(select(func.count()).select_from(KeptInput)) == 0


def _expire_sign_in(user) -> None:
    """End the user's sign-in behind the browser's back (as an idle timeout would)."""
    db.session.get(User, user.id).session_epoch += 1
    db.session.commit()


def _kept_token(posted) -> str:
    next_url = parse_qs(urlsplit(posted.headers["Location"]).query)["next"][0]
    return parse_qs(urlsplit(next_url).query)["kept"][0]


def _school_response(make):
    school = make.establishment()
    dsl = make.dsl(school)
    make.cycle()
    response = db.session.scalar(select(Response).join(Assignment).where(Assignment.establishment_id == school.id))
    return school, dsl, response


def test_an_anonymous_post_plants_nothing(make, app):
    """The review's finding: a POST without signing in was kept and offered to whoever signed in next."""
    _school, _dsl, response = _school_response(make)
    planted = {**PREVENT_OK, "prevent_trained_pct": "1"}
    posted = app.test_client().post(f"/audits/{response.id}/sections/prevent", data=planted)
    assert posted.status_code == 302
    assert urlsplit(posted.headers["Location"]).path == "/sign-in"
    assert "kept" not in posted.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(KeptInput)) == 0


def test_kept_input_is_given_back_only_to_its_typist_in_their_own_browser(client, make, sign_in, app):
    school, dsl, response = _school_response(make)
    deputy = make.dsl(school, deputy=True)
    sign_in(dsl)
    _expire_sign_in(dsl)
    posted = client.post(f"/audits/{response.id}/sections/prevent", data={**PREVENT_OK, "prevent_trained_pct": "72"})
    token = _kept_token(posted)
    url = f"/audits/{response.id}/sections/prevent?kept={token}"

    # Another person allowed on the page, in another browser: nothing given back.
    other = sign_in(deputy, test_client=app.test_client())
    assert "Not saved yet" not in other.get(url).get_data(as_text=True)
    # The same person in another browser (the link was copied): nothing given back.
    elsewhere = sign_in(dsl, test_client=app.test_client())
    assert "Not saved yet" not in elsewhere.get(url).get_data(as_text=True)
    # The typist, back in their own browser: given back, but only on the page it came from.
    sign_in(dsl)
    assert "Not saved yet" not in client.get(f"/audits/{response.id}/sections/policies?kept={token}").get_data(
        as_text=True
    )
    page = client.get(url).get_data(as_text=True)
    assert "Not saved yet" in page and 'value="72"' in page


def test_kept_input_is_refused_to_a_different_person_signing_in_on_the_same_browser(client, make, sign_in):
    school, dsl, response = _school_response(make)
    deputy = make.dsl(school, deputy=True)
    sign_in(dsl)
    _expire_sign_in(dsl)
    posted = client.post(f"/audits/{response.id}/sections/prevent", data={**PREVENT_OK, "prevent_trained_pct": "72"})
    token = _kept_token(posted)
    sign_in(deputy)  # a shared computer: the next person signs in
    page = client.get(f"/audits/{response.id}/sections/prevent?kept={token}").get_data(as_text=True)
    assert "Not saved yet" not in page and 'value="72"' not in page


def test_a_huge_post_after_the_sign_in_ended_is_refused_not_stored(client, make, sign_in):
    """The review stored one anonymous 19.6 MB POST as a single row."""
    _school, dsl, response = _school_response(make)
    sign_in(dsl)
    _expire_sign_in(dsl)
    posted = client.post(
        f"/audits/{response.id}/sections/prevent", data={**PREVENT_OK, "prevent_notes": "x" * (20 * 1024 * 1024)}
    )
    assert posted.status_code == 413
    assert db.session.scalar(select(func.count()).select_from(KeptInput)) == 0
