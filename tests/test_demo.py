"""The demo local authority: the shape a newcomer relies on when they run `surveyapp demo`."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import selectinload

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits.models import (
    Answer,
    Assignment,
    Cycle,
    CycleState,
    Response,
    ResponseStatus,
    SectionProgress,
    SectionState,
    StatusEvent,
    TemplateQuestion,
    TrustCoverage,
)
from surveyapp.audits.questions import is_gap, normalise, skipped_keys
from surveyapp.audits.services import AnswerInput, reference_for, section_is_complete
from surveyapp.auth.models import Role
from surveyapp.auth.services import authenticate
from surveyapp.demo import DEMO_PASSWORD, DemoDatabaseNotEmpty, build_demo
from surveyapp.establishments.models import ContactRole, Establishment, EstablishmentContact, Trust, TrustContact
from surveyapp.extensions import db
from tests.conftest import empty_all_tables, make_app

RETURNED = (ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED)


@pytest.fixture(scope="module")
def demo(_schema):
    """One demo LA shared by this module's tests, built once: building it takes seconds."""
    app = make_app()
    with app.app_context():
        result = build_demo()
        db.session.commit()
        yield SimpleNamespace(app=app, result=result)
        db.session.remove()
    empty_all_tables(app)


def own_statuses(slug: str) -> Counter:
    """How many establishments' own responses stand at each status in the cycle."""
    return Counter(
        dict(
            db.session.execute(
                select(Response.status, func.count())
                .join(Assignment, Assignment.id == Response.assignment_id)
                .join(Cycle, Cycle.id == Assignment.cycle_id)
                .where(Cycle.slug == slug, Assignment.establishment_id.is_not(None))
                .group_by(Response.status)
            ).all()
        )
    )


def trust_returned(slug: str) -> set[int]:
    """The establishments whose trust's returned response answers for them."""
    return set(
        db.session.scalars(
            select(TrustCoverage.establishment_id)
            .join(Response, Response.id == TrustCoverage.response_id)
            .join(Assignment, Assignment.id == Response.assignment_id)
            .join(Cycle, Cycle.id == Assignment.cycle_id)
            .where(Cycle.slug == slug, Response.status.in_(RETURNED))
        )
    )


def own_returned(slug: str) -> set[int]:
    return set(
        db.session.scalars(
            select(Assignment.establishment_id)
            .join(Response, Response.assignment_id == Assignment.id)
            .join(Cycle, Cycle.id == Assignment.cycle_id)
            .where(Cycle.slug == slug, Assignment.establishment_id.is_not(None), Response.status.in_(RETURNED))
        )
    )


def test_the_register_looks_like_a_county(demo):
    establishments = db.session.scalars(select(Establishment)).all()
    trusts = db.session.scalars(select(Trust)).all()
    assert demo.result["establishments"] == len(establishments)
    assert demo.result["trusts"] == len(trusts)
    assert 380 <= len(establishments) <= 420
    assert 18 <= len(trusts) <= 22

    open_ = [e for e in establishments if e.is_open]
    closed = [e for e in establishments if not e.is_open]
    assert 3 <= len(closed) <= 8 and all(e.status_name == "Closed" and e.closed_on for e in closed)
    phases = Counter(e.phase for e in open_)
    assert 0.70 <= phases["Primary"] / len(open_) <= 0.80
    assert 0.10 <= phases["Secondary"] / len(open_) <= 0.20
    assert {"Special", "Nursery", "All-through"} <= set(phases)
    academies = [e for e in open_ if e.trust_id is not None]
    assert 0.35 <= len(academies) / len(open_) <= 0.45
    assert all(e.type_name.startswith("Academy") or e.type_name == "Free schools" for e in academies)
    assert {
        "Community school",
        "Voluntary aided school",
        "Voluntary controlled school",
        "Foundation school",
        "Academy converter",
        "Academy sponsor led",
        "Free schools",
        "Community special school",
        "Pupil referral unit",
    } <= {e.type_name for e in open_}
    assert 6 <= len({e.district for e in establishments}) <= 8

    assert all(re.fullmatch(r"\d{6}", e.urn) for e in establishments)
    assert all(re.fullmatch(r"\d{4,5}", t.uid) for t in trusts)
    assert all(e.number_of_pupils and e.number_of_pupils > 0 for e in establishments)
    assert any("’" in e.name for e in establishments), "a few names carry GIAS's curly apostrophe"
    assert any(t.name.startswith("Diocese of ") and t.name.endswith("Multi Academy Trust") for t in trusts)
    assert all(t.academies for t in trusts)


def test_contacts_cover_the_establishments_except_the_ones_to_chase(demo):
    open_ids = set(db.session.scalars(select(Establishment.id).where(Establishment.is_open.is_(True))))
    dsl_links = db.session.execute(
        select(EstablishmentContact.establishment_id, EstablishmentContact.user_id).where(
            EstablishmentContact.role == ContactRole.DSL
        )
    ).all()
    with_dsl = {row.establishment_id for row in dsl_links}
    assert 8 <= len(open_ids - with_dsl) <= 12
    schools_per_dsl = Counter(row.user_id for row in dsl_links)
    assert sorted(schools_per_dsl.values())[-2:] == [1, 2], "exactly one DSL looks after two schools"
    deputies = db.session.scalar(select(func.count()).where(EstablishmentContact.role == ContactRole.DEPUTY_DSL))
    assert deputies >= 5
    trusts_with_lead = set(db.session.scalars(select(TrustContact.trust_id)))
    assert trusts_with_lead == set(db.session.scalars(select(Trust.id)))


def test_last_year_is_complete_counting_trust_returns(demo):
    cycle = db.session.scalar(select(Cycle).where(Cycle.slug == "2025-26"))
    assert cycle.state is CycleState.CLOSED
    assert cycle.template.key == "s175-schools"
    in_cycle = set(
        db.session.scalars(
            select(Assignment.establishment_id).where(
                Assignment.cycle_id == cycle.id, Assignment.establishment_id.is_not(None)
            )
        )
    )
    via_trust = trust_returned("2025-26")
    complete = (own_returned("2025-26") | via_trust) & in_cycle
    assert 0.95 <= len(complete) / len(in_cycle) <= 0.99
    assert len(in_cycle) - len(complete) >= 5, "a handful never sent theirs in"
    # The Staffordshire pattern: a few trusts answered for their academies, which left their own untouched.
    assert len(via_trust) >= 10
    covered_own = set(
        db.session.scalars(
            select(Response.status)
            .join(Assignment, Assignment.id == Response.assignment_id)
            .where(Assignment.cycle_id == cycle.id, Assignment.establishment_id.in_(via_trust))
        )
    )
    assert covered_own == {ResponseStatus.NOT_STARTED}
    statuses = own_statuses("2025-26")
    assert statuses[ResponseStatus.SUBMITTED] > statuses[ResponseStatus.ACCEPTED] > 0


def test_this_year_is_under_way_in_the_stated_proportions(demo):
    statuses = own_statuses("2026-27")
    total = sum(statuses.values())
    returned = statuses[ResponseStatus.SUBMITTED] + statuses[ResponseStatus.ACCEPTED]
    assert 0.15 <= returned / total <= 0.25
    assert 0.40 <= statuses[ResponseStatus.IN_PROGRESS] / total <= 0.50
    assert 0.28 <= statuses[ResponseStatus.NOT_STARTED] / total <= 0.42
    assert statuses[ResponseStatus.RETURNED] == 1

    sections_saved = db.session.execute(
        select(Response.status, func.count(SectionProgress.id))
        .join(Assignment, Assignment.id == Response.assignment_id)
        .join(Cycle, Cycle.id == Assignment.cycle_id)
        .outerjoin(SectionProgress, SectionProgress.response_id == Response.id)
        .where(Cycle.slug == "2026-27", Assignment.establishment_id.is_not(None))
        .group_by(Response.id, Response.status)
    ).all()
    in_progress = [count for status, count in sections_saved if status is ResponseStatus.IN_PROGRESS]
    assert min(in_progress) >= 1 and max(in_progress) <= 8
    assert all(count == 0 for status, count in sections_saved if status is ResponseStatus.NOT_STARTED)

    returned_response = db.session.scalar(select(Response).where(Response.status == ResponseStatus.RETURNED))
    assert returned_response.return_comment
    assert [e.to_status for e in returned_response.events][-1] is ResponseStatus.RETURNED
    trust_statuses = Counter(
        db.session.scalars(
            select(Response.status)
            .join(Assignment, Assignment.id == Response.assignment_id)
            .join(Cycle, Cycle.id == Assignment.cycle_id)
            .where(Cycle.slug == "2026-27", Assignment.trust_id.is_not(None))
        )
    )
    assert trust_statuses[ResponseStatus.IN_PROGRESS] == 1


def test_the_sign_ins_work_and_show_what_they_promise(demo):
    sign_ins = demo.result["sign_ins"]
    assert set(sign_ins) == {"lead", "board", "dsl", "dsl_two_schools", "trust_lead"}
    users = {key: authenticate(email, DEMO_PASSWORD) for key, email in sign_ins.items()}
    assert all(users.values()), users
    assert [users[k].role for k in ("lead", "board", "dsl", "dsl_two_schools", "trust_lead")] == [
        Role.LEAD,
        Role.BOARD,
        Role.DSL,
        Role.DSL,
        Role.TRUST_LEAD,
    ]
    assert authenticate(sign_ins["dsl"], "not-the-password") is None

    dsl_schools = [link.establishment for link in users["dsl"].establishment_links]
    assert len(dsl_schools) == 1 and dsl_schools[0].phase == "Primary"
    assert _own_response(dsl_schools[0], "2026-27").status is ResponseStatus.IN_PROGRESS
    assert _own_response(dsl_schools[0], "2025-26").status in RETURNED
    assert len(users["dsl_two_schools"].establishment_links) == 2

    trust = users["trust_lead"].trust_links[0].trust
    trust_response = db.session.scalar(
        select(Response)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .join(Cycle, Cycle.id == Assignment.cycle_id)
        .where(Cycle.slug == "2026-27", Assignment.trust_id == trust.id)
    )
    assert trust_response.status is ResponseStatus.IN_PROGRESS
    assert {c.establishment_id for c in trust_response.coverage} == {a.id for a in trust.academies if a.is_open}
    db.session.rollback()  # authenticate stamps last_sign_in_at: leave the shared demo as built


def test_every_answer_is_valid_and_every_completed_section_is_complete(demo):
    questions = {(q.template_id, q.key): q for q in db.session.scalars(select(TemplateQuestion))}
    rows = db.session.execute(
        select(
            Answer.response_id, Answer.question_key, Answer.value, Answer.follow_up, Cycle.template_id, Cycle.opens_on
        )
        .join(Response, Response.id == Answer.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .join(Cycle, Cycle.id == Assignment.cycle_id)
    ).all()
    assert len(rows) > 20_000
    answers_by_response: dict[int, dict[str, AnswerInput]] = defaultdict(dict)
    for row in rows:
        question = questions[(row.template_id, row.question_key)]
        assert normalise(question.type, row.value, question.options, question.not_applicable) == row.value, (
            question.key,
            row.value,
        )
        if question.follow_up and is_gap(question.type, question.gap, row.value, row.opens_on):
            assert set(row.follow_up) == {"action", "owner", "target_date"} and all(row.follow_up.values())
            normalise("date", row.follow_up["target_date"])
        answers_by_response[row.response_id][row.question_key] = AnswerInput(row.value, row.follow_up)

    responses = db.session.scalars(
        select(Response)
        .where(Response.status != ResponseStatus.NOT_STARTED)
        # Hundreds of responses: load what the checks read up front rather than once per response.
        .options(
            selectinload(Response.sections),
            selectinload(Response.events),
            selectinload(Response.assignment).selectinload(Assignment.establishment),
            selectinload(Response.assignment).selectinload(Assignment.trust),
        )
    ).all()
    sections = {
        cycle.id: [(s, list(s.questions)) for s in cycle.template.sections]
        for cycle in db.session.scalars(select(Cycle))
    }
    for response in responses:
        cycle = response.assignment.cycle
        progress = {p.section_key: p.state for p in response.sections}
        given = {key: answer.value for key, answer in answers_by_response[response.id].items()}
        skipped = skipped_keys([q for _section, questions in sections[cycle.id] for q in questions], given)
        for section, section_questions in sections[cycle.id]:
            if progress.get(section.key) is SectionState.COMPLETED:
                assert section_is_complete(
                    section_questions, answers_by_response[response.id], cycle.opens_on, skipped
                ), (response.id, section.key)
        if response.status.is_returned_to_la:
            assert set(progress.values()) == {SectionState.COMPLETED} and len(progress) == len(sections[cycle.id])
            assert response.reference == reference_for(response)
            assert response.headteacher_name and response.chair_name and response.declaration_date
            assert cycle.opens_on <= response.submitted_at.date() <= cycle.due_on
        moves = [(e.from_status, e.to_status) for e in response.events]
        assert moves[0] == (ResponseStatus.NOT_STARTED, ResponseStatus.IN_PROGRESS)
        assert moves[-1][1] is response.status


def test_building_again_needs_reset(demo):
    with pytest.raises(DemoDatabaseNotEmpty, match="--reset"):
        build_demo()
    result = demo.app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert "surveyapp demo --reset" in result.output
    assert db.session.scalar(select(func.count(StatusEvent.id))) > 0


def test_cli_resets_and_rebuilds_the_same_demo(demo):
    before = db.session.scalar(select(func.count(Answer.id)))
    logged = db.session.scalar(select(func.count(ActivityRecord.id)))
    stranger = ActivityRecord(action="auth.sign_in_failed", detail={"email": "someone@example.org"})
    db.session.add(stranger)
    db.session.commit()
    result = demo.app.test_cli_runner().invoke(args=["demo", "--reset"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)  # the migrations log to stderr
    # Seeded: every build is the same LA, with the same sign-ins.
    assert printed == demo.result
    assert printed["sign_ins"]["lead"] == "lead@demo.surveyapp.test"
    assert db.session.scalar(select(func.count(Establishment.id))) == printed["establishments"]
    assert db.session.scalar(select(func.count(Answer.id))) == before
    # The database was rebuilt, not emptied row by row: the log holds the demo's records only, and the
    # rebuilt log is still append-only (the migrations made its triggers again).
    assert db.session.scalar(select(func.count(ActivityRecord.id))) == logged
    assert (
        db.session.scalar(
            select(func.count()).where(ActivityRecord.detail["email"].as_string() == "someone@example.org")
        )
        == 0
    )
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(delete(ActivityRecord))
    db.session.rollback()


def _own_response(establishment: Establishment, slug: str) -> Response:
    return db.session.scalar(
        select(Response)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .join(Cycle, Cycle.id == Assignment.cycle_id)
        .where(Cycle.slug == slug, Assignment.establishment_id == establishment.id)
    )


def test_the_board_workbook_lists_every_planned_action_and_the_las_own_plan(demo, tmp_path):
    import openpyxl

    from surveyapp.actions.models import ActionItem
    from surveyapp.exports.workbook import write_workbook
    from surveyapp.la_actions.services import question_gaps

    this_year = db.session.scalar(select(Cycle).where(Cycle.slug == "2026-27"))
    last_year = db.session.scalar(select(Cycle).where(Cycle.slug == "2025-26"))
    write_workbook(db.session, this_year, str(tmp_path / "board.xlsx"))
    book = openpyxl.load_workbook(tmp_path / "board.xlsx", read_only=True)

    planned = list(book["Action plans"].iter_rows(values_only=True))[1:]
    items = db.session.scalar(select(func.count()).select_from(ActionItem).where(ActionItem.cycle_id == this_year.id))
    assert len(planned) == items > 100
    # Every establishment whose own return planned an action (a follow-up beside a gap) has it in the sheet.
    # (A missing plan may be stored as JSON null rather than SQL NULL.)
    from sqlalchemy import String, cast

    with_plans = set(
        db.session.scalars(
            select(Establishment.urn)
            .join(Assignment, Assignment.establishment_id == Establishment.id)
            .join(Response, Response.assignment_id == Assignment.id)
            .join(Answer, Answer.response_id == Response.id)
            .where(
                Assignment.cycle_id == this_year.id,
                Response.status.in_(RETURNED),
                Answer.follow_up.is_not(None),
                cast(Answer.follow_up, String) != "null",
            )
        )
    )
    assert len(with_plans) > 70 and with_plans <= {row[0] for row in planned}

    header, *rows = list(book["The LA's actions"].iter_rows(values_only=True))
    by_reference = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert len(by_reference) == 6
    finding = by_reference["L&S 10"]
    assert finding["Establishments then"] == question_gaps(db.session, last_year, "prevent_risk_assessment").gaps > 0
    assert (
        finding["Establishments in the next cycle"]
        == question_gaps(db.session, this_year, "prevent_risk_assessment").gaps
    )
    assert by_reference["L&S 09"]["Progress updates"].startswith("31 Oct 2026: Oct update")
