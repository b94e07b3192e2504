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


def test_kept_input_is_only_given_back_on_its_own_page_to_someone_allowed(client, make, sign_in, app):
    school, other_school = make.establishment(), make.establishment()
    dsl = make.dsl(school)
    intruder = make.dsl(other_school)
    make.cycle()
    response = db.session.scalar(select(Response).join(Assignment).where(Assignment.establishment_id == school.id))
    anonymous = app.test_client()
    posted = anonymous.post(f"/audits/{response.id}/sections/prevent", data=PREVENT_OK)
    next_url = parse_qs(urlsplit(posted.headers["Location"]).query)["next"][0]
    sign_in(intruder)
    assert client.get(next_url).status_code == 404
    token = parse_qs(urlsplit(next_url).query)["kept"][0]
    client.post("/sign-out")
    sign_in(dsl)
    other_page = client.get(f"/audits/{response.id}/sections/policies?kept={token}").get_data(as_text=True)
    assert "Not saved yet" not in other_page
