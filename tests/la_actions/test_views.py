"""The LA's action plan pages: the lead adds, edits and reports progress; board viewers read; the export."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
from sqlalchemy import select

from surveyapp.activity.models import ActivityRecord
from surveyapp.extensions import db
from surveyapp.la_actions.models import LaAction
from surveyapp.timeutil import today
from tests.exports import cycle_data

FORMULA = '=HYPERLINK("http://x","y")'


def _form(**changes):
    last_week = today() - timedelta(days=7)
    data = {
        "reference": "CS ALL 43",
        "area": "Training",
        "new_area": "",
        "action": "Ensure frontline staff understand Prevent",
        "milestones": "Online training for all staff",
        "measures": "Training report",
        "target_date": [str(last_week.day), str(last_week.month), str(last_week.year)],
        "lead": "Head of Safeguarding",
        "support": "Principal Safeguarding Officer",
        "outcomes": "Staff recognise vulnerability",
        "rag": "amber",
        "status": "in_progress",
        "objectives": ["2", "3"],
    }
    data.update(changes)
    return data


def _add(client, **changes):
    """Add an action as the signed-in lead and open the page it leads to (which shows, and so clears, the message)."""
    added = client.post("/la-action-plan/new", data=_form(**changes))
    assert added.status_code == 302, added.get_data(as_text=True)
    return client.get(added.headers["Location"]).get_data(as_text=True)


def test_the_lead_adds_an_action_in_a_new_area_edits_it_and_reports_progress(client, make, sign_in):
    lead = make.lead()
    db.session.commit()
    sign_in(lead)
    refused = client.post("/la-action-plan/new", data=_form(area="other", new_area=""))
    assert "Enter the name of the new area" in refused.get_data(as_text=True)
    added = client.post("/la-action-plan/new", data=_form(area="other", new_area="Children missing education"))
    assert added.status_code == 302
    action = db.session.scalar(select(LaAction))
    assert (action.area, action.objectives, action.target_date) == (
        "Children missing education",
        [2, 3],
        today() - timedelta(days=7),
    )
    page = client.get(added.headers["Location"]).get_data(as_text=True)
    assert "Action CS ALL 43 has been added" in page and "This action is overdue" in page
    assert "2. Prevent people from being drawn into terrorism" in page

    duplicate = client.post("/la-action-plan/new", data=_form(area="Training"))
    assert "Another action already has this reference" in duplicate.get_data(as_text=True)
    assert "Children missing education" in client.get("/la-action-plan/new").get_data(as_text=True)  # offered again

    edited = client.post(
        f"/la-action-plan/{action.id}/edit",
        data=_form(version="1", area="Children missing education", status="complete", rag="green", objectives=["1"]),
    )
    assert edited.status_code == 302
    db.session.refresh(action)
    assert (action.status.value, action.rag.value, action.objectives, action.version) == ("complete", "green", [1], 2)

    missing_date = client.post(f"/la-action-plan/{action.id}/updates", data={"written_on": ["", "", ""], "text": "x"})
    assert "Enter the date of the update" in missing_date.get_data(as_text=True)
    client.post(
        f"/la-action-plan/{action.id}/updates",
        data={"written_on": ["31", "10", "2026"], "text": "Oct update: 346 staff trained"},
    )
    client.post(
        f"/la-action-plan/{action.id}/updates",
        data={"written_on": ["30", "9", "2026"], "text": "Sept update: 252 attended"},
    )
    page = client.get(f"/la-action-plan/{action.id}").get_data(as_text=True)
    assert (
        page.index("31 October 2026")
        < page.index("Oct update")
        < page.index("30 September 2026")
        < page.index("Sept update")
    )
    log = [r.action for r in db.session.scalars(select(ActivityRecord).order_by(ActivityRecord.id))]
    assert log[-4:] == [
        "la_action.created",
        "la_action.updated",
        "la_action.progress_added",
        "la_action.progress_added",
    ]


def test_a_stale_edit_is_refused_with_both_versions_on_screen(client, make, sign_in):
    lead = make.lead(name="Lee Lead")
    db.session.commit()
    sign_in(lead)
    _add(client)
    action = db.session.scalar(select(LaAction))
    assert (
        client.post(
            f"/la-action-plan/{action.id}/edit", data=_form(version="1", lead="Director of Learning")
        ).status_code
        == 302
    )
    stale = client.post(f"/la-action-plan/{action.id}/edit", data=_form(version="1", lead="Corporate Director"))
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "This action was changed by someone else" in page
    assert "Director of Learning" in page and 'value="Corporate Director"' in page and 'value="2"' in page
    db.session.refresh(action)
    assert (action.lead, action.version) == ("Director of Learning", 2)
    assert (
        client.post(f"/la-action-plan/{action.id}/edit", data=_form(version="2", lead="Corporate Director")).status_code
        == 302
    )


def test_the_overdue_view_and_a_board_viewer_reads_without_changing(client, make, sign_in):
    lead, board = make.lead(), make.board()
    db.session.commit()
    sign_in(lead)
    _add(client, reference="T 01")
    _add(client, reference="T 02", target_date=["1", "1", str(today().year + 2)])
    _add(client, reference="T 03", status="complete")
    overdue = client.get("/la-action-plan/overdue").get_data(as_text=True)
    assert "1 overdue action" in overdue and "T 01" in overdue and "T 02" not in overdue and "T 03" not in overdue

    reader = sign_in(board, test_client=client.application.test_client())
    plan = reader.get("/la-action-plan").get_data(as_text=True)
    assert "3 actions: 2 open, of which 1 overdue, and 1 complete" in plan
    assert "Add an action" not in plan
    first = db.session.scalar(select(LaAction).where(LaAction.reference == "T 01"))
    shown = reader.get(f"/la-action-plan/{first.id}").get_data(as_text=True)
    assert "Change this action" not in shown and "Add a progress update" not in shown
    assert reader.post(f"/la-action-plan/{first.id}/edit", data=_form(version="1")).status_code == 403


def test_an_action_started_from_a_finding_lists_the_establishments_behind_it(client, make, sign_in):
    built = cycle_data.build(make)
    lead = make.lead()
    db.session.commit()
    sign_in(lead)
    findings = client.get(f"/la-action-plan/findings?cycle={built['cycle'].slug}").get_data(as_text=True)
    assert "When was the policy last reviewed?" in findings
    url = f"/la-action-plan/new?cycle={built['cycle'].slug}&question=policy_review_date"
    form = client.get(url).get_data(as_text=True)
    assert "1 establishment did not fully meet" in form and "200003" in form
    added = client.post(url, data=_form(reference="PP 01", area="Policy and practice"))
    assert added.status_code == 302
    action = db.session.scalar(select(LaAction))
    assert (action.finding_cycle_id, action.finding_question_key) == (built["cycle"].id, "policy_review_date")
    page = client.get(added.headers["Location"]).get_data(as_text=True)
    assert "The audit finding it started from" in page and "200003" in page
    assert "There is no later cycle asking this question yet" in page


def test_the_export_is_the_plan_with_its_updates_and_no_formulas(client, make, sign_in):
    lead = make.lead()
    db.session.commit()
    sign_in(lead)
    _add(client, reference="T 01", action=FORMULA, objectives=["1", "2", "3"])
    action = db.session.scalar(select(LaAction))
    client.post(
        f"/la-action-plan/{action.id}/updates", data={"written_on": ["31", "10", "2026"], "text": "+346 trained"}
    )
    download = client.get("/la-action-plan/export.xlsx")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(download.data))["The LA's actions"]
    rows = list(sheet.iter_rows(values_only=True))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Reference"] == "T 01" and row["Action"] == FORMULA and row["Prevent objectives"] == "1, 2 & 3"
    assert row["Progress updates"] == "31 Oct 2026: +346 trained" and row["Overdue"] == "Yes"
    assert row["Target date"].date() == today() - timedelta(days=7)
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)
