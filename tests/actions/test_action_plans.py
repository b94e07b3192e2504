"""Action plans: generated from gaps on submission, updated by the DSL, overdue ones seen by the lead."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from surveyapp.actions.models import ActionItem, ActionStatus
from surveyapp.actions.services import generate_for_cycle
from surveyapp.audits import services as audit_services
from surveyapp.audits.models import Answer
from surveyapp.extensions import db
from tests.exports import cycle_data
from tests.exports.cycle_data import FORMULA_ACTION


def _items(establishment):
    return db.session.scalars(
        select(ActionItem).where(ActionItem.establishment_id == establishment.id).order_by(ActionItem.question_key)
    ).all()


def test_generating_adds_one_action_per_gap_and_only_the_missing_ones(make):
    built = cycle_data.build(make)
    assert generate_for_cycle(built["cycle"]) == 6
    formula = {i.question_key: i for i in _items(built["formula"])}
    assert set(formula) == {"policy_current", "policy_review_date", "prevent_sef", "prevent_trained_pct"}
    planned = formula["policy_current"]
    assert (planned.action, planned.owner, planned.target_date) == (FORMULA_ACTION, "@Head", date(2026, 12, 1))
    assert formula["prevent_sef"].action.startswith("Close the gap: Is Prevent in your self-evaluation?")
    assert [(i.question_key, i.from_trust) for i in _items(built["covered"])] == [("prevent_sef", True)]
    assert _items(built["good"]) == [] and _items(built["quiet"]) == []
    planned.status = ActionStatus.DONE
    planned.notes = "Policy rewritten"
    db.session.commit()
    assert generate_for_cycle(built["cycle"]) == 0
    db.session.delete(formula["prevent_sef"])
    db.session.commit()
    assert generate_for_cycle(built["cycle"]) == 1
    assert db.session.get(ActionItem, planned.id).status is ActionStatus.DONE
    assert db.session.scalar(select(func.count()).select_from(ActionItem)) == 6


def test_submitting_a_response_with_gaps_makes_its_plan(make):
    school = make.establishment()
    dsl = make.dsl(school)
    cycle = make.cycle()
    response = cycle.assignments[0].response
    for key, value, plan in (
        ("policy_current", "no", {"action": "Rewrite the policy", "owner": "Head", "target_date": "2027-01-31"}),
        ("policy_review_date", "2026-06-01", None),
        ("prevent_wrap", "yes", None),
        ("prevent_trained_pct", "50", None),
        ("prevent_sef", "yes", None),
    ):
        db.session.add(Answer(response_id=response.id, question_key=key, value=value, follow_up=plan))
    db.session.commit()
    assert audit_services.submit(
        response, headteacher_name="Ann", chair_name="Cal", declaration_date=date(2026, 10, 1), user=dsl
    )
    db.session.commit()
    items = {i.question_key: i for i in _items(school)}
    assert set(items) == {"policy_current", "prevent_trained_pct"}
    assert (items["policy_current"].action, items["policy_current"].target_date) == (
        "Rewrite the policy",
        date(2027, 1, 31),
    )


def _form(item, **changes):
    prefix = f"item{item.id}-"
    data = {
        "item_id": str(item.id),
        prefix + "version": str(item.version),
        prefix + "action": item.action,
        prefix + "owner": item.owner,
        prefix + "status": item.status.value,
        prefix + "notes": item.notes,
        prefix + "target_date": ["31", "1", "2027"],
    }
    data.update({prefix + key: value for key, value in changes.items()})
    return data


def test_dsl_updates_their_plan_and_a_stale_edit_does_not_overwrite_a_newer_one(client, make, sign_in):
    built = cycle_data.build(make)
    generate_for_cycle(built["cycle"])
    dsl = make.dsl(built["formula"])
    db.session.commit()
    response = built["responses"][built["formula"].id]
    sign_in(dsl)
    page = client.get(f"/audits/{response.id}/action-plan").get_data(as_text=True)
    assert "4 actions" in page and FORMULA_ACTION.replace("'", "&#39;") in page
    item = next(i for i in _items(built["formula"]) if i.question_key == "policy_current")
    opened = _form(item)
    saved = client.post(
        f"/audits/{response.id}/action-plan", data=_form(item, status="on_track", notes="Draft written")
    )
    assert saved.status_code == 302
    db.session.expire_all()
    item = db.session.get(ActionItem, item.id)
    assert (item.status, item.notes, item.version, item.updated_by_id) == (
        ActionStatus.ON_TRACK,
        "Draft written",
        2,
        dsl.id,
    )
    # A second tab opened before that save tries to mark it blocked.
    opened[f"item{item.id}-status"] = "blocked"
    stale = client.post(f"/audits/{response.id}/action-plan", data=opened)
    assert stale.status_code == 409
    assert "changed by someone else" in stale.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ActionItem, item.id).status is ActionStatus.ON_TRACK


def test_another_schools_dsl_cannot_see_the_plan(client, make, sign_in):
    built = cycle_data.build(make)
    generate_for_cycle(built["cycle"])
    stranger = make.dsl(built["good"])
    db.session.commit()
    sign_in(stranger)
    assert client.get(f"/audits/{built['responses'][built['formula'].id].id}/action-plan").status_code == 404


def test_lead_sees_overdue_actions_across_establishments(client, make, sign_in, monkeypatch):
    built = cycle_data.build(make)
    generate_for_cycle(built["cycle"])
    lead = make.lead()
    db.session.commit()
    monkeypatch.setattr("surveyapp.actions.services.today", lambda: date(2027, 1, 15))
    sign_in(lead)
    page = client.get(f"/cycles/{built['cycle'].slug}/actions?overdue=1").get_data(as_text=True)
    assert "1 overdue action</caption>" in page and "(overdue)" in page and "@Head" in page
    every = client.get(f"/cycles/{built['cycle'].slug}/actions").get_data(as_text=True)
    assert "6 actions" in every


@pytest.mark.parametrize(
    "path",
    [
        "/cycles/2026-27/actions?overdue=1",
        "/cycles/2026-27/responses.csv",
        "/cycles/2026-27/gaps.csv",
    ],
)
@pytest.mark.parametrize(
    "role,expected", [("lead", 200), ("board", 200), ("dsl", 403), ("trust_lead", 403), ("anonymous", 302)]
)
def test_who_may_read_the_lead_pages_and_downloads(client, make, sign_in, path, role, expected):
    built = cycle_data.build(make)
    users = {
        "lead": make.lead,
        "board": make.board,
        "dsl": lambda: make.dsl(built["formula"]),
        "trust_lead": lambda: make.trust_lead(built["trust"]),
    }
    if role != "anonymous":
        user = users[role]()
        db.session.commit()
        sign_in(user)
    assert client.get(path).status_code == expected
    if expected == 200 and role == "lead":
        assert client.get(path.replace("2026-27", "no-such-cycle")).status_code == 404


def test_the_download_button_gives_the_workbook(client, make, sign_in):
    built = cycle_data.build(make)
    board = make.board()
    db.session.commit()
    sign_in(board)
    # The workbook is written by a job (here, without a queue, in the request), whose page offers it.
    started = client.post(f"/cycles/{built['cycle'].slug}/workbook")
    assert started.status_code == 302 and started.location.startswith("/jobs/")
    got = client.get(started.location + "/download")
    assert got.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "safeguarding-audit-2026-27.xlsx" in got.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(got.data))
    assert book["Summary"]["A1"].value == "Safeguarding audit 2026-27: board summary"
    gaps = client.get(f"/cycles/{built['cycle'].slug}/gaps.csv").get_data(as_text=True)
    assert gaps.lstrip("\ufeff").startswith("URN,Establishment") and "'=cmd" in gaps
    # The workbook is never written inside a GET request any more.
    assert client.get(f"/cycles/{built['cycle'].slug}/workbook.xlsx").status_code == 404


def test_cli_exports_the_workbook_and_csvs_and_generates_plans(runner, make, tmp_path):
    cycle_data.build(make)
    result = runner.invoke(args=["actions", "generate", "--cycle", "2026-27"])
    assert result.exit_code == 0 and "Added 6 actions" in result.output
    result = runner.invoke(
        args=[
            "export",
            "--cycle",
            "2026-27",
            "--out",
            str(tmp_path / "b.xlsx"),
            "--responses-csv",
            str(tmp_path / "r.csv"),
            "--gaps-csv",
            str(tmp_path / "g.csv"),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Exporting: 0 of 3 files" in result.output and "Exporting: 3 of 3 files" in result.output
    assert openpyxl.load_workbook(tmp_path / "b.xlsx")["Action plans"].max_row == 7
    assert (tmp_path / "g.csv").read_text(encoding="utf-8-sig").count("\n") == 7
    assert runner.invoke(args=["export", "--cycle", "nope", "--out", str(tmp_path / "x.xlsx")]).exit_code != 0


@pytest.mark.parametrize(
    "version, action",
    [("1", ""), ("not a number", ""), ("not a number", "Review it"), ("99999999999999999999", "Review it")],
)
def test_a_form_without_its_target_date_boxes_that_fails_validation_is_shown_again(
    client, make, sign_in, version, action
):
    """The review's finding: such a post was a server error (500)."""
    built = cycle_data.build(make)
    generate_for_cycle(built["cycle"])
    dsl = make.dsl(built["formula"])
    db.session.commit()
    response = built["responses"][built["formula"].id]
    sign_in(dsl)
    item = next(i for i in _items(built["formula"]) if i.question_key == "policy_current")
    data = _form(item, action=action, version=version)
    del data[f"item{item.id}-target_date"]
    page = client.post(f"/audits/{response.id}/action-plan", data=data)
    assert page.status_code in (200, 409)
    text = page.get_data(as_text=True)
    assert "Say what you will do" in text or "changed by someone else" in text
    db.session.expire_all()
    assert db.session.get(ActionItem, item.id).version == 1


def test_the_leads_action_list_comes_a_page_at_a_time_soonest_first(client, make, sign_in, monkeypatch):
    """A national cycle holds hundreds of thousands of actions: the lead's list shows 50 at a time."""
    schools = [make.establishment(name=f"School {n}") for n in range(3)]
    cycle = make.cycle()
    lead = make.lead()
    # 55 actions: 52 dated from 1 December onwards (the first three done), then 3 with no target date.
    for n in range(55):
        db.session.add(
            ActionItem(
                cycle_id=cycle.id,
                establishment_id=schools[n % 3].id,
                question_key=f"question_{n:02d}",  # one action per establishment and question
                action=f"Action {n:02d}",
                owner="Head",
                target_date=date(2026, 12, 1) + timedelta(days=n) if n < 52 else None,
                status=ActionStatus.DONE if n < 3 else ActionStatus.NOT_STARTED,
            )
        )
    db.session.commit()
    monkeypatch.setattr("surveyapp.actions.services.today", lambda: date(2027, 1, 1))
    sign_in(lead)

    def listed(path):
        page = client.get(path)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        title = html[html.index("<title>") + 7 : html.index("</title>")]
        table = html[html.index('id="actions"') : html.index("</table>")]
        return html, " ".join(title.split()), re.findall(r"Action (\d\d)", table)

    html, title, shown = listed(f"/cycles/{cycle.slug}/actions")
    assert title.startswith("Actions (page 1 of 2)")
    assert "55 actions" in html and "1 to 50 shown" in html
    assert shown == [f"{n:02d}" for n in range(50)]
    assert f'href="/cycles/{cycle.slug}/actions?page=2"' in html
    html, title, shown = listed(f"/cycles/{cycle.slug}/actions?page=2")
    assert title.startswith("Actions (page 2 of 2)") and "51 to 55 shown" in html
    # Those with no target date come last, by establishment: 54 is School 0's, 52 School 1's, 53 School 2's.
    assert shown == ["50", "51", "54", "52", "53"]
    assert html.count("Not set</td>") == 3
    # A page past the end shows the last page rather than an empty list.
    assert listed(f"/cycles/{cycle.slug}/actions?page=9")[2] == shown

    # Overdue on 1 January: not done, dated 31 December or before (3 to 30).
    html, title, shown = listed(f"/cycles/{cycle.slug}/actions?overdue=1")
    assert title.startswith("Overdue actions – ") and "28 overdue actions" in html
    assert shown == [f"{n:02d}" for n in range(3, 31)]
    assert "Pages of actions" not in html  # one page: no page links
