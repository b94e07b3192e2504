"""Hostile and odd input in every form and import: never a 500, never stored other than accepted, never echoed raw.

Hypothesis draws the input (long strings, control characters, right-to-left and zero-width marks,
lone surrogates sent as the bytes a broken client would send, script tags, spreadsheet formulas,
huge numbers, impossible dates). Each test builds its data once and replays many examples
against it, so the file runs in seconds; every example is checked against what a user would see
(the status, the page) and what the database then holds.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits.importer import apply_responses, plan_responses
from surveyapp.audits.models import Answer, Response, ResponseStatus
from surveyapp.audits.questions import InvalidAnswer, normalise
from surveyapp.auth.models import User
from surveyapp.csvfiles import ImportFailed
from surveyapp.establishments.importer import apply_contacts, apply_establishments, plan_contacts, plan_establishments
from surveyapp.establishments.models import Establishment, EstablishmentContact, Trust, TrustContact
from surveyapp.extensions import db
from tests.factories import Factory
from tests.faults.support import school_in_cycle, section_version, signed_in, stored_answers

FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: a marker inside script payloads; finding it after a raw "<script>" means the page echoed input unescaped
SCRIPT = "<script>fz(1)</script>"
NASTY = [
    SCRIPT,
    '"><img src=x onerror=fz(2)>',
    '=HYPERLINK("http://evil.example","Click")',
    "+SUM(A1:A9)",
    "-2+3",
    "@cmd",
    "\u202eevil\u202c",
    "a\u200bb\u200dc\ufeff",
    "\x00nul",
    "\x1b[31mred",
    "\r\n\t",
    "😀👩‍👧",
    "é" * 3000,
    "9" * 400,
    "1e309",
    "-0",
    "NaN",
    "0x10",
    "31/02/2026",
    "2026-13-01",
    "0000-00-00",
    "\ud800lone",
    "\udfff",
    "Robert'); DROP TABLE answers;--",
    "%s%n",
    "{{ 7*7 }}",
    "${7*7}",
]
text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Lo", "Mn"]), max_size=40),
    st.builds(lambda a, b: a + SCRIPT + b, st.text(max_size=10), st.text(max_size=10)),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(min_size=4990, max_size=5020, alphabet="ab<>&\"'"),
)
date_part = st.one_of(
    st.sampled_from(["", "0", "29", "31", "02", "13", "2026", "1899", "99999", " 1 ", "١٢"]),
    st.integers(min_value=-5, max_value=100000).map(str),
    text,
)


@pytest.fixture
def app_config():
    # The sign-in throttle would answer 429 after ten attempts; the fuzzing is of the form behind it.
    return {"RATELIMIT_ENABLED": False}


def form_body(fields: dict[str, str | list[str]]) -> bytes:
    """URL-encode as a browser would, but let lone surrogates through as the (invalid) bytes they make."""
    pairs = [(k, v) for k, values in fields.items() for v in ([values] if isinstance(values, str) else values)]
    return b"&".join(
        quote_from_bytes(k.encode()).encode() + b"=" + quote_from_bytes(v.encode("utf-8", "surrogatepass")).encode()
        for k, v in pairs
    )


def post(client, url: str, fields: dict[str, str]):
    return client.post(url, data=form_body(fields), content_type="application/x-www-form-urlencoded")


def as_received(value: str) -> str:
    """What the server reads back from ``form_body``: invalid UTF-8 becomes U+FFFD."""
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def assert_escaped(page: str) -> None:
    assert "<script>fz(" not in page
    assert "<img src=x onerror" not in page


# --- the section page ----------------------------------------------------------------------------------


@pytest.fixture
def section_scene(app, make):
    school = school_in_cycle(make)
    return school, signed_in(app, school.dsl, Factory.PASSWORD)


def expected_value(question_type: str, raw: str) -> str | None:
    """The canonical value a valid answer is stored as, or None when the form must refuse it."""
    try:
        return normalise(question_type, raw)
    except InvalidAnswer:
        return None


@FUZZ
@given(current=text, review=st.tuples(date_part, date_part, date_part), notes=text, action=text, owner=text)
def test_policies_section_stores_exactly_what_it_accepts(section_scene, current, review, notes, action, owner):
    school, client = section_scene
    url = f"/audits/{school.response_id}/sections/policies"
    before = stored_answers(school.response_id)
    fields = {
        "version": str(section_version(school.response_id, "policies")),
        "policy_current": current,
        "policy_review_date-day": review[0],
        "policy_review_date-month": review[1],
        "policy_review_date-year": review[2],
        "policy_notes": notes,
        "policy_current__action": action,
        "policy_current__owner": owner,
    }
    reply = post(client, url, fields)
    assert reply.status_code in (200, 302), reply.status_code
    assert_escaped(reply.get_data(as_text=True))

    after = stored_answers(school.response_id)
    notes_value = expected_value("text", as_received(notes))
    current_value = expected_value("yes_no", as_received(current))
    assert after.get("policy_notes", "") == (before.get("policy_notes", "") if notes_value is None else notes_value)
    if current_value is not None and current_value != "no":
        assert after.get("policy_current", "") == current_value
    else:
        # Invalid, or a gap whose follow-up may itself be refused: never anything but a valid answer.
        assert after.get("policy_current", "") in ("", "yes", "no")
    if reply.status_code == 302:
        assert not (notes_value is None or current_value is None)
    for page in (client.get(url), client.get(f"/audits/{school.response_id}/check")):
        assert page.status_code == 200
        assert_escaped(page.get_data(as_text=True))


@FUZZ
@given(wrap=text, pct=st.one_of(text, st.decimals(allow_nan=True).map(str), st.integers().map(str)), sef=text)
def test_prevent_section_numbers_and_choices(section_scene, wrap, pct, sef):
    school, client = section_scene
    url = f"/audits/{school.response_id}/sections/prevent"
    before = stored_answers(school.response_id)
    fields = {
        "version": str(section_version(school.response_id, "prevent")),
        "prevent_wrap": wrap,
        "prevent_trained_pct": pct,
        "prevent_sef": sef,
    }
    reply = post(client, url, fields)
    assert reply.status_code in (200, 302)
    assert_escaped(reply.get_data(as_text=True))
    after = stored_answers(school.response_id)
    for key, question_type, raw in (
        ("prevent_wrap", "yes_no_partly", wrap),
        ("prevent_trained_pct", "percentage", pct),
        ("prevent_sef", "yes_no_unsure", sef),
    ):
        accepted = expected_value(question_type, as_received(raw))
        assert after.get(key, "") == (before.get(key, "") if accepted is None else accepted), key
    if "prevent_trained_pct" in after and after["prevent_trained_pct"]:
        assert 0 <= float(after["prevent_trained_pct"]) <= 100


# --- the declaration -----------------------------------------------------------------------------------


@pytest.fixture
def declaration_scene(app, make):
    school = school_in_cycle(make)
    client = signed_in(app, school.dsl, Factory.PASSWORD)
    for url, fields in (
        (
            f"/audits/{school.response_id}/sections/policies",
            {
                "version": "0",
                "policy_current": "yes",
                "policy_review_date-day": "1",
                "policy_review_date-month": "6",
                "policy_review_date-year": "2026",
            },
        ),
        (
            f"/audits/{school.response_id}/sections/prevent",
            {"version": "0", "prevent_wrap": "yes", "prevent_trained_pct": "95", "prevent_sef": "yes"},
        ),
    ):
        assert client.post(url, data=fields).status_code == 302
    return school, client


@FUZZ
@given(
    head=text,
    chair=text,
    when=st.tuples(date_part, date_part, date_part),
    confirm=st.sampled_from(["y", "", "n", SCRIPT]),
)
def test_declaration_stores_names_as_typed_and_never_a_formula(declaration_scene, head, chair, when, confirm):
    school, client = declaration_scene
    reply = post(
        client,
        f"/audits/{school.response_id}/declaration",
        {"headteacher_name": head, "chair_name": chair, "declaration_date": list(when), "confirm": confirm},
    )
    assert reply.status_code in (200, 302)
    assert_escaped(reply.get_data(as_text=True))
    db.session.rollback()
    response = db.session.get(Response, school.response_id)
    if reply.status_code == 302:
        assert response.status is ResponseStatus.SUBMITTED
        assert response.headteacher_name == as_received(head).strip()
        assert response.chair_name == as_received(chair).strip()
        for name in (response.headteacher_name, response.chair_name):
            assert name and name[:1] not in ("=", "+", "-", "@")
        page = client.get(f"/audits/{school.response_id}/confirmation")
        assert page.status_code == 200
        assert_escaped(page.get_data(as_text=True))
        # Open it again for the next example.
        response.status = ResponseStatus.IN_PROGRESS
        response.headteacher_name = response.chair_name = None
        db.session.commit()
    else:
        assert response.status is ResponseStatus.IN_PROGRESS
        assert "There is a problem" in reply.get_data(as_text=True)


def test_declaration_with_a_date_box_missing_is_an_error_not_a_crash(declaration_scene):
    school, client = declaration_scene
    reply = client.post(
        f"/audits/{school.response_id}/declaration",
        data={"headteacher_name": "Ann Head", "chair_name": "Cal Chair", "declaration_date": "3", "confirm": "y"},
    )
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert "There is a problem" in page and "The date must be a real date" in page


# --- signing in -------------------------------------------------------------------------------------


@pytest.fixture
def sign_in_scene(app, make):
    user = make.dsl(make.establishment())
    db.session.commit()
    return user, app.test_client()


@settings(FUZZ, max_examples=12)  # each refused sign-in costs a deliberate argon2 hash
@given(
    email=text,
    password=text,
    next_url=st.one_of(
        text, st.sampled_from(["//evil.example", "https://evil.example/", "javascript:fz(3)", "/\\evil.example"])
    ),
)
def test_sign_in_refuses_odd_input_without_error(sign_in_scene, email, password, next_url):
    user, client = sign_in_scene
    reply = client.post(
        "/sign-in?next=" + quote_from_bytes(next_url.encode("utf-8", "surrogatepass")),
        data=form_body({"email": email, "password": password}),
        content_type="application/x-www-form-urlencoded",
    )
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert_escaped(page)
    assert "There is a problem" in page
    assert client.get("/audits/").status_code == 302  # still signed out


# --- the three imports --------------------------------------------------------------------------------

FORMULA = ("=", "+", "-", "@")


def table_counts(*models) -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in models)


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *rows])
    return buffer.getvalue().encode(encoding, "surrogatepass" if encoding == "utf-8" else "replace")


def check_import(plan, apply, data: bytes, models) -> object | None:
    """Plan and apply as the command and the web page do; a refused file names its problems and writes nothing."""
    before = table_counts(*models)
    try:
        result = apply(plan(data))
    except ImportFailed as exc:
        assert exc.problems and all(problem.reason for problem in exc.problems)
        assert all(problem.line is None or problem.line >= 1 for problem in exc.problems)
        db.session.flush()
        assert table_counts(*models) == before
        return None
    db.session.flush()
    return result


cell = st.one_of(
    text,
    st.sampled_from(
        [
            "",
            "100001",
            "100002",
            "5001",
            "Open",
            "Closed",
            "dsl",
            "deputy dsl",
            "trust lead",
            "a@b.example",
            "01-09-1990",
            "31/03/2024",
            "Yes",
            "85%",
        ]
    ),
)
raw_bytes = st.one_of(
    st.binary(max_size=400),
    st.sampled_from(
        [
            b"",
            b"\xef\xbb\xbf",
            b"PK\x03\x04junk",
            b"\xff\xfeU\x00R\x00",
            b"URN\r\n\x00\x00",
            b'URN,"unterminated\r\n1,"x',
        ]
    ),
)


@pytest.fixture
def register(app, make):
    trust = make.trust(name="Oak Learning Trust", uid="5001")
    make.establishment(urn="100001", name="St Mary’s Primary")
    make.establishment(urn="100002", name="Oak Academy", trust=trust)
    db.session.commit()
    yield
    db.session.rollback()


ESTABLISHMENT_HEADER = [
    "URN",
    "EstablishmentName",
    "TypeOfEstablishment (name)",
    "EstablishmentStatus (name)",
    "PhaseOfEducation (name)",
    "OpenDate",
    "CloseDate",
    "NumberOfPupils",
    "Trusts (code)",
    "Trusts (name)",
    "DistrictAdministrative (name)",
]


@FUZZ
@given(
    data=st.one_of(
        raw_bytes,
        st.builds(
            csv_bytes,
            st.just(ESTABLISHMENT_HEADER),
            st.lists(st.lists(cell, min_size=11, max_size=11), max_size=4),
            st.sampled_from(["utf-8", "cp1252"]),
        ),
    )
)
def test_establishments_import_succeeds_or_names_every_problem(register, data):
    try:
        if (
            check_import(
                plan_establishments,
                lambda plan: apply_establishments(plan, filename="fuzz.csv"),
                data,
                (Establishment, Trust, ActivityRecord),
            )
            is not None
        ):
            for name in db.session.scalars(select(Establishment.name)):
                assert name[:1] not in FORMULA, name
            for name in db.session.scalars(select(Trust.name)):
                assert name[:1] not in FORMULA, name
    finally:
        db.session.rollback()


@FUZZ
@given(
    data=st.one_of(
        raw_bytes,
        st.builds(
            csv_bytes,
            st.just(["URN", "Trust UID", "Name", "Email", "Role"]),
            st.lists(st.lists(cell, min_size=5, max_size=5), max_size=4),
            st.sampled_from(["utf-8", "cp1252"]),
        ),
    )
)
def test_contacts_import_succeeds_or_names_every_problem(register, data):
    try:
        if (
            check_import(
                plan_contacts,
                lambda plan: apply_contacts(plan, filename="fuzz.csv"),
                data,
                (User, EstablishmentContact, TrustContact, ActivityRecord),
            )
            is not None
        ):
            for name in db.session.scalars(select(User.name)):
                assert name[:1] not in FORMULA, name
    finally:
        db.session.rollback()


@pytest.fixture
def earlier_cycle(app, make):
    make.establishment(urn="100001", name="St Mary’s Primary")
    cycle = make.cycle(slug="2024-25", due_on=date(2025, 3, 31), opens_on=date(2024, 9, 1))
    db.session.commit()
    yield cycle
    db.session.rollback()


RESPONSES_HEADER = [
    "URN",
    "Trust UID",
    "Submitted",
    "policy_current",
    "policy_review_date",
    "policy_notes",
    "prevent_wrap",
    "prevent_trained_pct",
    "prevent_sef",
]


@FUZZ
@given(
    data=st.one_of(
        raw_bytes,
        st.builds(
            csv_bytes,
            st.just(RESPONSES_HEADER),
            st.lists(st.lists(cell, min_size=9, max_size=9), max_size=3),
            st.sampled_from(["utf-8", "cp1252"]),
        ),
    )
)
def test_responses_import_succeeds_or_names_every_problem(earlier_cycle, data):
    try:
        if (
            check_import(
                lambda raw: plan_responses(earlier_cycle, raw),
                lambda plan: apply_responses(plan, filename="fuzz.csv"),
                data,
                (Answer, ActivityRecord),
            )
            is not None
        ):
            for key, value in db.session.execute(select(Answer.question_key, Answer.value)):
                question_type = {
                    "policy_current": "yes_no",
                    "policy_review_date": "date",
                    "policy_notes": "text",
                    "prevent_wrap": "yes_no_partly",
                    "prevent_trained_pct": "percentage",
                    "prevent_sef": "yes_no_unsure",
                }[key]
                assert normalise(question_type, value) == value  # only canonical, valid answers are stored
                assert key != "policy_notes" or value[:1] not in FORMULA
    finally:
        db.session.rollback()
