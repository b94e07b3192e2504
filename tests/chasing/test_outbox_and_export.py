"""Without SMTP reminders go to the outbox the lead can read; non-responders export with their chase history."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from surveyapp.extensions import db
from tests.conftest import outbox_messages


@pytest.fixture
def app_config():
    return {"SMTP_HOST": None}


def test_without_smtp_reminders_are_kept_in_the_outbox_and_listed(client, sign_in, app, county):
    sign_in(county["lead"])
    preview = client.post("/cycles/2026-27/reminders/preview", data={"establishment": [str(county["birch"].id)]})
    assert "<strong>1</strong> establishment will be reminded" in preview.get_data(as_text=True)
    sent = client.post(
        "/cycles/2026-27/reminders/send",
        data={"batch": "b0", "establishment": [str(county["birch"].id)], **_default_wording()},
    )
    assert sent.status_code == 302
    assert [m["To"] for m in outbox_messages(app)] == ["dsl@200004.example.org"]
    page = client.get("/outbox").get_data(as_text=True)
    assert "dsl@200004.example.org" in page and "No mail server is configured" in page
    assert "finish the safeguarding audit for Birch Secondary" in page


def _default_wording() -> dict:
    from surveyapp.chasing.services import DEFAULT_WORDING

    data = {}
    for kind, (subject, body) in DEFAULT_WORDING.items():
        data[f"subject_{kind.value}"] = subject
        data[f"body_{kind.value}"] = body
    return data


def test_non_responders_export_with_chase_history_and_no_formulas(client, sign_in, make, county):
    county["cedar"].name = '=HYPERLINK("http://evil")'
    db.session.commit()
    sign_in(county["lead"])
    client.post(
        "/cycles/2026-27/reminders/send",
        data={"batch": "b1", "establishment": [str(county["birch"].id)], **_default_wording()},
    )
    response = client.get("/cycles/2026-27/non-responders.csv")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["URN", "Establishment"]
    by_urn = {row[0]: row for row in rows[1:]}
    assert set(by_urn) == {"200004", "200005", "200006"}  # in progress, returned, not started
    assert by_urn["200005"][1].startswith("'=")
    assert "sent to dsl@200004.example.org (in progress)" in by_urn["200004"][-1]
    assert by_urn["200004"][10] == "1"
    workbook = load_workbook(io.BytesIO(client.get("/cycles/2026-27/non-responders.xlsx").data))
    sheet = workbook.active
    values = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["200005"][1] == '=HYPERLINK("http://evil")'  # text, not a formula
    assert sheet.cell(row=2, column=2).data_type == "s"
    assert "sent to dsl@200004.example.org" in values["200004"][-1]
