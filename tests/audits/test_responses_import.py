"""`surveyapp responses import`: earlier years' returns from a spreadsheet into a cycle."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, event, func, select

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits import services
from surveyapp.audits.models import (
    Answer,
    Assignment,
    Response,
    ResponseStatus,
    SectionProgress,
    SectionState,
    StatusEvent,
)
from surveyapp.auth.models import Role
from surveyapp.extensions import db
from tests.establishments.gias_files import to_csv

HEADER = [
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

COMPLETE = {
    "policy_current": "Yes",
    "policy_review_date": "31/03/2024",
    "policy_notes": "Reviewed by governors",
    "prevent_wrap": "partly",
    "prevent_trained_pct": "85%",
    "prevent_sef": "Cannot confirm",
}


@pytest.fixture
def setup(make):
    """A 2024-25 cycle opened for two schools; a third school and a trust joined the register later."""
    trust = make.trust(name="Oak Learning Trust", uid="5001")
    first = make.establishment(urn="100001", name="St Mary’s Primary")
    second = make.establishment(urn="100002", name="Oak Academy")
    cycle = make.cycle(slug="2024-25", due_on=date(2025, 3, 31), opens_on=date(2024, 9, 1))
    later = make.establishment(urn="100003", name="Hillside Infants", trust=trust)
    db.session.commit()
    return cycle, first, second, later, trust


def run_import(runner, tmp_path, rows, header=HEADER, *options, slug="2024-25"):
    path = tmp_path / "returns-2024-25.csv"
    path.write_bytes(to_csv(rows, header, encoding="utf-8"))
    result = runner.invoke(args=["responses", "import", "--cycle", slug, str(path), *options])
    db.session.expire_all()
    return result


def response_of(**where) -> Response:
    return db.session.scalar(
        select(Response).join(Assignment).where(*(getattr(Assignment, key) == value for key, value in where.items()))
    )


def answers_of(response: Response) -> dict[str, str]:
    return dict(
        db.session.execute(select(Answer.question_key, Answer.value).where(Answer.response_id == response.id)).all()
    )


def progress_of(response: Response) -> dict[str, SectionState]:
    return dict(
        db.session.execute(
            select(SectionProgress.section_key, SectionProgress.state).where(SectionProgress.response_id == response.id)
        ).all()
    )


def row_counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Assignment, Response, Answer, SectionProgress, StatusEvent, ActivityRecord)
    )


def test_returns_are_imported_with_values_normalised(runner, tmp_path, setup):
    cycle, first, second, later, trust = setup
    rows = [
        {"URN": "100001", **COMPLETE},
        {"URN": "100002", "Submitted": "no", "policy_current": "no", "prevent_trained_pct": "92"},
        {"URN": "100003", "Submitted": "Yes", **COMPLETE, "policy_review_date": "2024-01-15"},
        {"Trust UID": "5001", "policy_current": "YES", "policy_review_date": "1-9-2024"},
    ]
    result = run_import(runner, tmp_path, rows)
    assert result.exit_code == 0, result.output
    assert "4 returns (3 submitted, 1 in progress)" in result.output and "2 added to the cycle" in result.output

    submitted = response_of(establishment_id=first.id)
    assert answers_of(submitted) == {
        "policy_current": "yes",
        "policy_review_date": "2024-03-31",
        "policy_notes": "Reviewed by governors",
        "prevent_wrap": "partly",
        "prevent_trained_pct": "85",
        "prevent_sef": "unsure",
    }
    assert submitted.status is ResponseStatus.SUBMITTED and submitted.imported and submitted.submitted_at
    assert submitted.reference == services.reference_for(submitted) == "MINI-2024-25-URN100001"
    assert progress_of(submitted) == {"policies": SectionState.COMPLETED, "prevent": SectionState.COMPLETED}
    assert [(e.from_status, e.to_status) for e in submitted.events] == [
        (ResponseStatus.NOT_STARTED, ResponseStatus.SUBMITTED)
    ]

    in_progress = response_of(establishment_id=second.id)
    assert (
        in_progress.status is ResponseStatus.IN_PROGRESS
        and in_progress.submitted_at is None
        and in_progress.reference is None
    )
    assert answers_of(in_progress) == {"policy_current": "no", "prevent_trained_pct": "92"}
    assert progress_of(in_progress) == {"policies": SectionState.IN_PROGRESS, "prevent": SectionState.IN_PROGRESS}

    # No place in the cycle before: the historic return puts the school (and the trust) in scope.
    added = response_of(establishment_id=later.id)
    assert added is not None and added.status is ResponseStatus.SUBMITTED and added.assignment.cycle_id == cycle.id
    trust_response = response_of(trust_id=trust.id)
    assert trust_response.status is ResponseStatus.SUBMITTED and trust_response.reference == "MINI-2024-25-TRUST5001"
    assert answers_of(trust_response) == {"policy_current": "yes", "policy_review_date": "2024-09-01"}
    assert progress_of(trust_response) == {"policies": SectionState.COMPLETED}

    entry = db.session.scalar(select(ActivityRecord).where(ActivityRecord.action == "responses.imported"))
    assert entry.cycle_id == cycle.id and entry.detail["respondents"] == 4 and entry.detail["answers"] == 16


def test_imported_submitted_returns_get_their_action_plans(runner, tmp_path, setup):
    """A submitted return's gaps reach the action plans, as a submission in the service does."""
    from surveyapp.actions.models import ActionItem

    cycle, first, second, later, trust = setup
    rows = [{"URN": "100001", **COMPLETE}, {"URN": "100002", "Submitted": "no", "prevent_wrap": "no"}]
    result = run_import(runner, tmp_path, rows)
    assert result.exit_code == 0, result.output
    planned = dict(
        db.session.execute(
            select(ActionItem.question_key, ActionItem.establishment_id).where(ActionItem.cycle_id == cycle.id)
        ).all()
    )
    assert set(planned) == {"prevent_wrap", "prevent_trained_pct", "prevent_sef"}
    assert set(planned.values()) == {first.id}, "the return still in progress plans nothing yet"
    assert run_import(runner, tmp_path, rows).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(ActionItem)) == 3, "importing again adds none"


def test_the_import_plans_exactly_what_planning_the_cycle_afresh_plans(runner, tmp_path, make):
    """The gaps of a school's own return are found as the file is read, not read back; a school whose trust's
    return fills its blanks is read back. Either way the plans are those the cycle's answers make."""
    from surveyapp.actions.models import ActionItem
    from surveyapp.actions.services import generate_for_cycle
    from surveyapp.establishments.models import Establishment

    trust = make.trust(name="Oak Learning Trust", uid="5001")
    make.establishment(urn="100001")
    make.establishment(urn="100002")
    make.establishment(urn="100003", trust=trust)
    make.establishment(urn="100004", trust=trust)
    cycle = make.cycle(slug="2024-25", due_on=date(2025, 3, 31), opens_on=date(2024, 9, 1))
    rows = [
        {"URN": "100001", **COMPLETE},
        {"URN": "100002", **COMPLETE, "policy_current": "no", "policy_review_date": "1/1/2022", "prevent_sef": "yes"},
        # Its own Prevent answers meet the rules; its trust's return answers the policy questions it left blank.
        {"URN": "100003", "prevent_wrap": "yes", "prevent_trained_pct": "95", "prevent_sef": "yes"},
        {"Trust UID": "5001", **COMPLETE, "policy_current": "no"},
    ]
    assert run_import(runner, tmp_path, rows).exit_code == 0

    def plans() -> set[tuple]:
        return set(
            db.session.execute(
                select(
                    Establishment.urn,
                    ActionItem.question_key,
                    ActionItem.action,
                    ActionItem.owner,
                    ActionItem.target_date,
                    ActionItem.from_trust,
                ).join(ActionItem.establishment)
            ).all()
        )

    imported = plans()
    trusts = ("policy_current", "prevent_wrap", "prevent_trained_pct", "prevent_sef")
    assert {(urn, key, from_trust) for urn, key, _action, _owner, _date, from_trust in imported} == {
        *(("100001", key, False) for key in ("prevent_wrap", "prevent_trained_pct", "prevent_sef")),
        *(("100002", key, False) for key in ("policy_current", "policy_review_date", "prevent_wrap")),
        ("100002", "prevent_trained_pct", False),
        ("100003", "policy_current", True),
        *(("100004", key, True) for key in trusts),
    }
    db.session.execute(delete(ActionItem))
    generate_for_cycle(cycle)
    assert plans() == imported


def test_a_gap_needing_a_follow_up_leaves_its_section_in_progress(runner, tmp_path, setup):
    # section_is_complete asks for an action plan for a gap with a follow-up; spreadsheets have none.
    assert run_import(runner, tmp_path, [{"URN": "100001", **COMPLETE, "policy_current": "No"}]).exit_code == 0
    response = response_of(establishment_id=setup[1].id)
    assert response.status is ResponseStatus.SUBMITTED
    assert progress_of(response) == {"policies": SectionState.IN_PROGRESS, "prevent": SectionState.COMPLETED}
    assert response.sections_completed == 1  # kept with the sections, for the tracker's sort


def test_reimporting_the_same_file_replaces_answers_and_changes_nothing_else(runner, tmp_path, setup):
    rows = [{"URN": "100001", **COMPLETE}, {"URN": "100002", "Submitted": "no", "policy_current": "no"}]
    assert run_import(runner, tmp_path, rows).exit_code == 0
    first = response_of(establishment_id=setup[1].id)
    before = (row_counts(), answers_of(first), first.submitted_at, first.reference)
    again = run_import(runner, tmp_path, rows)
    assert again.exit_code == 0, again.output
    assert "2 replaced" in again.output
    first = response_of(establishment_id=setup[1].id)
    after = (row_counts(), answers_of(first), first.submitted_at, first.reference)
    assert after[0][:5] == before[0][:5] and after[1:] == before[1:]  # only a second activity record

    rows[0]["policy_notes"] = ""
    rows[0]["prevent_wrap"] = "Yes"
    assert run_import(runner, tmp_path, rows).exit_code == 0
    changed = answers_of(response_of(establishment_id=setup[1].id))
    assert "policy_notes" not in changed and changed["prevent_wrap"] == "yes"


@pytest.mark.parametrize(
    "row, expected",
    [
        ({"URN": "100001", "prevent_wrap": "maybe"}, "line 2, column prevent_wrap: must be one of: Yes, Partly, No"),
        (
            {"URN": "100001", "prevent_trained_pct": "120%"},
            "line 2, column prevent_trained_pct: must be between 0 and 100",
        ),
        (
            {"URN": "100001", "policy_review_date": "31/02/2024"},
            "line 2, column policy_review_date: must be a real date",
        ),
        ({"URN": "100001", "Submitted": "perhaps"}, 'line 2, column Submitted: "perhaps" must be yes or no'),
        ({"URN": "999999"}, "line 2, column URN: URN 999999 is not in the register"),
        ({"URN": "100001", "Trust UID": "5001"}, "line 2, column Trust UID: give a URN or a Trust UID, not both"),
    ],
)
def test_a_bad_value_is_refused_with_line_and_column_and_nothing_is_written(runner, tmp_path, setup, row, expected):
    good = {"URN": "100002", **COMPLETE}
    before = row_counts()
    result = run_import(runner, tmp_path, [good, row])
    assert result.exit_code == 1
    assert expected.replace("line 2", "line 3") in result.output, result.output
    assert row_counts() == before


def test_an_unknown_column_is_refused_naming_it(runner, tmp_path, setup):
    header = [*HEADER, "prevent_wrpa"]
    before = row_counts()
    result = run_import(runner, tmp_path, [{"URN": "100001", **COMPLETE, "prevent_wrpa": "yes"}], header)
    assert result.exit_code == 1
    assert (
        "line 1, column prevent_wrpa: is not a question of the cycle’s template (mini version 1) — "
        'did you mean "prevent_wrap"?' in result.output
    )
    assert row_counts() == before


def test_the_same_respondent_twice_is_refused(runner, tmp_path, setup):
    result = run_import(runner, tmp_path, [{"URN": "100001", **COMPLETE}, {"URN": "100001", **COMPLETE}])
    assert result.exit_code == 1
    assert "line 3, column URN: URN 100001 is also on line 2" in result.output


def test_a_response_started_in_the_service_is_not_overwritten(runner, tmp_path, setup, make):
    cycle, first, *_ = setup
    response = response_of(establishment_id=first.id)
    dsl = make.user(Role.DSL)
    services.save_section(response, cycle.template.sections[0], {"policy_current": services.AnswerInput("yes")}, 0, dsl)
    db.session.commit()
    before = row_counts()
    result = run_import(runner, tmp_path, [{"URN": "100001", **COMPLETE}])
    assert result.exit_code == 1
    assert "line 2, column URN: URN 100001 has already started this audit in the service (in progress)" in result.output
    assert row_counts() == before
    assert answers_of(response_of(establishment_id=first.id)) == {"policy_current": "yes"}


def test_an_unknown_cycle_is_refused(runner, tmp_path, setup):
    result = run_import(runner, tmp_path, [{"URN": "100001"}], slug="1999-00")
    assert result.exit_code == 1 and 'There is no cycle "1999-00"' in result.output


def test_a_dry_run_writes_nothing(runner, tmp_path, setup):
    before = row_counts()
    result = run_import(runner, tmp_path, [{"URN": "100003", **COMPLETE}], HEADER, "--dry-run")
    assert result.exit_code == 0 and "1 added to the cycle" in result.output and "Nothing was changed" in result.output
    assert row_counts() == before


def test_the_import_does_not_query_once_per_row(runner, tmp_path, setup, make):
    for n in range(300):
        make.establishment(urn=str(400000 + n))
    db.session.commit()
    rows = [
        {
            "URN": str(400000 + n),
            **COMPLETE,
            "Submitted": "yes" if n % 2 else "no",
            "policy_notes": "" if n % 3 else "Noted",
        }
        for n in range(300)
    ]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = run_import(runner, tmp_path, rows)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert result.exit_code == 0, result.output
    assert "300 returns (150 submitted, 150 in progress)" in result.output
    assert len(statements) < 40, len(statements)
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 300 * 5 + 100


def test_an_earlier_year_becomes_a_closed_cycle_holding_only_the_schools_in_the_file(
    runner, tmp_path, setup, make, client, sign_in
):
    _cycle, first, second, later, _trust = setup
    dsl_of_second = make.dsl(second)
    db.session.commit()
    result = run_import(
        runner,
        tmp_path,
        [{"URN": "100001", **COMPLETE}],
        HEADER,
        "--template",
        "mini",
        "--due",
        "2024-03-31",
        "--name",
        "Safeguarding audit 2023-24",
        slug="2023-24",
    )
    assert result.exit_code == 0, result.output
    assert "a new closed cycle" in result.output
    cycle = services.cycle_by_slug("2023-24")
    assert cycle.state.value == "closed" and cycle.due_on == date(2024, 3, 31)
    assert db.session.scalars(select(Assignment.establishment_id).where(Assignment.cycle_id == cycle.id)).all() == [
        first.id
    ]
    assert response_of(establishment_id=first.id, cycle_id=cycle.id).status is ResponseStatus.SUBMITTED
    # The DSL of a school that is not in the file never sees that year's audit.
    sign_in(dsl_of_second)
    assert "2023-24" not in client.get("/audits/").get_data(as_text=True)
    # Filling it again (another file of the same year) adds to the same closed cycle.
    again = run_import(runner, tmp_path, [{"URN": "100003", **COMPLETE}], HEADER, slug="2023-24")
    assert again.exit_code == 0, again.output
    assert (
        len(
            db.session.scalars(
                select(Assignment.id).where(Assignment.cycle_id == cycle.id, Assignment.establishment_id.is_not(None))
            ).all()
        )
        == 2
    )


def test_a_historic_cycle_is_not_created_by_a_dry_run_or_a_bad_file(runner, tmp_path, setup):
    from surveyapp.audits.models import Cycle

    dry = run_import(
        runner,
        tmp_path,
        [{"URN": "100001", **COMPLETE}],
        HEADER,
        "--dry-run",
        "--template",
        "mini",
        "--due",
        "2024-03-31",
        slug="2023-24",
    )
    assert dry.exit_code == 0 and "Nothing was changed" in dry.output
    bad = run_import(
        runner,
        tmp_path,
        [{"URN": "100001", **COMPLETE, "prevent_trained_pct": "lots"}],
        HEADER,
        "--template",
        "mini",
        "--due",
        "2024-03-31",
        slug="2023-24",
    )
    assert bad.exit_code == 1 and "line 2" in bad.output
    assert db.session.scalar(select(func.count()).select_from(Cycle).where(Cycle.slug == "2023-24")) == 0


def test_imported_returns_are_what_the_same_answers_typed_and_submitted_in_the_service_give(runner, tmp_path, make):
    """Each return imported beside a twin school whose DSL types the same answers, section by section,
    and submits: the same answers, the same section progress (a question its condition skips is not
    required), the same status and the same action plan. The history says the return was imported."""
    from surveyapp.actions.models import ActionItem
    from surveyapp.actions.services import generate_for_cycle
    from tests.audits.test_conditions import TEMPLATE

    rows = [
        # Not in alternative provision: the two questions about it are skipped, so both sections are complete.
        {"uses_ap": "no", "lettings": "n/a", "scr_date": "2026-01-10", "notes": "All fine"},
        # In alternative provision, with gaps (no follow-up asked for, so the sections are still complete).
        {"uses_ap": "yes", "ap_checks": "no", "lettings": "partly", "scr_date": "2026-02-01", "ap_daily": "yes"},
        # In alternative provision, the provider's checks not answered: the first section is still in progress.
        {"uses_ap": "yes", "lettings": "yes", "scr_date": "2026-03-01", "ap_daily": "no", "Submitted": "no"},
    ]
    imported = [make.establishment(urn=str(300001 + n)) for n in range(len(rows))]
    typed = [make.establishment(urn=str(310001 + n)) for n in range(len(rows))]
    dsl = make.dsl(*typed)
    cycle = make.cycle(template=make.template(TEMPLATE))
    for school, row in zip(typed, rows, strict=True):
        response = response_of(establishment_id=school.id)
        for section in cycle.template.sections:
            given = {
                q.key: services.AnswerInput(row.get(q.key, "").replace("n/a", "not_applicable"))
                for q in section.questions
            }
            services.save_section(response, section, given, 0, dsl)
        if row.get("Submitted") != "no":
            assert services.submit(
                response, headteacher_name="A Head", chair_name="A Chair", declaration_date=date(2026, 10, 1), user=dsl
            )
    db.session.commit()

    header = ["URN", "Submitted", "uses_ap", "ap_checks", "lettings", "scr_date", "ap_daily", "notes"]
    file_rows = [{"URN": school.urn, **row} for school, row in zip(imported, rows, strict=True)]
    result = run_import(runner, tmp_path, file_rows, header, slug=cycle.slug)
    assert result.exit_code == 0, result.output

    def plan_of(school):
        return sorted(
            db.session.execute(
                select(ActionItem.question_key, ActionItem.action, ActionItem.owner, ActionItem.target_date).where(
                    ActionItem.cycle_id == cycle.id, ActionItem.establishment_id == school.id
                )
            ).all()
        )

    for mine, twin in zip(imported, typed, strict=True):
        ours, theirs = response_of(establishment_id=mine.id), response_of(establishment_id=twin.id)
        assert answers_of(ours) == answers_of(theirs)
        assert progress_of(ours) == progress_of(theirs)
        assert ours.status is theirs.status
        assert plan_of(mine) == plan_of(twin)
        assert [(e.from_status, e.to_status, e.comment, e.by_user_id) for e in ours.events] == [
            (ResponseStatus.NOT_STARTED, theirs.status, "Imported from an earlier year's return", None)
        ]
    assert progress_of(response_of(establishment_id=imported[0].id)) == {
        "pupils": SectionState.COMPLETED,
        "provision": SectionState.COMPLETED,
    }
    assert progress_of(response_of(establishment_id=imported[2].id))["pupils"] is SectionState.IN_PROGRESS
    assert [key for key, *_ in plan_of(imported[1])] == ["ap_checks", "lettings"]

    # The plans made in bulk for the import are the ones the whole cycle's gaps give, made afresh.
    def every_plan():
        return sorted(
            db.session.execute(
                select(
                    ActionItem.establishment_id,
                    ActionItem.question_key,
                    ActionItem.action,
                    ActionItem.owner,
                    ActionItem.target_date,
                    ActionItem.from_trust,
                    ActionItem.status,
                ).where(ActionItem.cycle_id == cycle.id)
            ).all()
        )

    made = every_plan()
    db.session.execute(delete(ActionItem).where(ActionItem.cycle_id == cycle.id))
    assert generate_for_cycle(cycle) == len(made)
    assert every_plan() == made
