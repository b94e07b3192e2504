"""The committee report, read back from Word (python-docx), PDF (pypdf) and HTML, figure by figure against
`surveyapp analysis --format json` and the board workbook: one source of figures."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import openpyxl
import pytest
from docx import Document
from pypdf import PdfReader

from surveyapp.actions.services import generate_for_cycle
from surveyapp.chasing.models import Reminder, ReminderKind, ReminderStatus
from surveyapp.exports.workbook import SUMMARY_LABELS, write_workbook
from surveyapp.extensions import db
from surveyapp.la_actions import services as la_actions
from tests.analysis.scenario import build_database
from tests.exports.test_workbook import _summary, _table

COUNCIL = "Northshire County Council"


def _pct(rate: float) -> str:
    return f"{round(rate * 100)}%"


@pytest.fixture
def app_config():
    return {"COUNCIL_NAME": COUNCIL}


@pytest.fixture
def world(make):
    made = build_database(make)
    generate_for_cycle(made["cycle"])  # the establishments' action plans from their gaps
    # Delta (not returned) was chased twice; Eta never.
    for n in range(2):
        db.session.add(
            Reminder(
                cycle_id=made["cycle"].id,
                establishment_id=made["D"].id,
                recipient_email="d@x.example",
                kind=list(ReminderKind)[0],
                subject="Reminder",
                body="Please",
                status=ReminderStatus.SENT,
                sent_at=datetime(2026, 11, 10 + n, 9, tzinfo=UTC),
                idempotency_key=f"d-{n}",
            )
        )
    lead = make.lead()
    la_actions.create_action(
        db.session,
        lead,
        reference="TR 01",
        area="Training",
        action="Train every DSL in WRAP",
        target_date=date(2026, 10, 1),
        status="in_progress",
        rag="red",
        lead="Prevent lead",
    )
    la_actions.create_action(
        db.session,
        lead,
        reference="ST 01",
        area="Strategy",
        action="Publish the Prevent strategy",
        target_date=date(2027, 6, 1),
        status="complete",
        rag="green",
        lead="Head of safeguarding",
    )
    db.session.commit()
    return made


@pytest.fixture
def outputs(world, runner, tmp_path):
    made = world
    json_out = runner.invoke(args=["analysis", "--cycle", "2026-27", "--format", "json"])
    assert json_out.exit_code == 0, json_out.output
    paths = {}
    for kind in ("docx", "pdf", "html"):
        paths[kind] = tmp_path / f"committee.{kind}"
        result = runner.invoke(args=["report", "--cycle", "2026-27", "--out", str(paths[kind])])
        assert result.exit_code == 0, result.output
        assert "Wrote the committee report for 2026-27" in result.output
    book = tmp_path / "board.xlsx"
    write_workbook(db.session, made["cycle"], str(book))
    return json.loads(json_out.output), paths, openpyxl.load_workbook(book)


def _docx_tables(path) -> dict[str, list[list[str]]]:
    """Every table of the Word document by its first header cell: rows of cell texts, header first."""
    document = Document(str(path))
    return {
        table.rows[0].cells[0].text: [[cell.text for cell in row.cells] for row in table.rows]
        for table in document.tables
    }


def _docx_text(path) -> str:
    return " ".join(p.text for p in Document(str(path)).paragraphs)


def _pdf_text(path) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(str(path)).pages))


def _by_first(rows):
    return {row[0]: row for row in rows[1:]}


def test_the_word_report_has_the_json_and_workbook_figures(outputs):
    figures, paths, book = outputs
    tables, text = _docx_tables(paths["docx"]), _docx_text(paths["docx"])
    assert COUNCIL in text
    for heading in (
        "Purpose",
        "Scope and method",
        "Completion",
        "How many meet the requirements",
        "The requirements most often not met",
        "Compared with last year",
        "Establishments that have not returned",
        "Establishments' action plans",
        "The local authority's own actions",
    ):
        assert heading in [p.text for p in Document(str(paths["docx"])).paragraphs], heading
    # Completion, with the trust explanation.
    assert (
        f"{figures['submitted']} establishments out of {figures['in_scope']} completed the audit, "
        f"a completion rate of {_pct(figures['completion_rate'])}"
    ) in text
    assert f"{figures['covered_by_trust']} academy was covered by their trust's return." in text
    headline = _by_first(tables["Headline figure"])
    assert headline["Completed the audit"][1:] == [
        str(figures["submitted"]),
        str(figures["in_scope"]),
        _pct(figures["completion_rate"]),
    ]
    summary = _summary(book["Summary"])
    for label, key in (
        ("Met all of the requirements", "fully_met"),
        ("Not able to confirm at least one", "cannot_confirm"),
        ("At least one requirement not met", "with_gaps"),
    ):
        count, out_of, rate = headline[label][1:]
        assert int(count) == figures["establishments"][f"{key}_count"], key
        assert int(out_of) == figures["returned"] == 4, key  # of the returns, not of the 6 in scope
        assert rate == _pct(figures["establishments"][f"{key}_rate"]), key
        workbook_count, workbook_rate = summary[("Requirements", SUMMARY_LABELS[key])]
        assert (int(count), rate) == (workbook_count, _pct(workbook_rate)), key
    topics = _by_first(tables["Topic"])
    for tag, expected in figures["tags"].items():
        row = topics["Prevent" if tag == "prevent" else tag]
        assert int(row[1]) == expected["judged"]
        assert (int(row[2]), row[3]) == (expected["fully_met_count"], _pct(expected["fully_met_rate"])), tag
        assert (int(row[4]), row[5]) == (expected["cannot_confirm_count"], _pct(expected["cannot_confirm_rate"])), tag
        assert (int(row[6]), row[7]) == (expected["with_gaps_count"], _pct(expected["with_gaps_rate"])), tag
        label = "Prevent" if tag == "prevent" else tag
        assert summary[(f"{label} requirements", f"Met every {label} requirement")][0] == int(row[2])
    assert (
        "Of the 4 establishments that answered the Prevent questions, around 25% had actioned all of the requirements."
        in text
    )
    phases = _by_first(tables["Phase"])
    for phase, expected in figures["completion_by"]["phase"].items():
        assert phases[phase][1:] == [
            str(expected["in_scope"]),
            str(expected["submitted"]),
            str(expected["by_trust"]),
            _pct(expected["completion_rate"]),
        ], phase
    _header, sheet = _table(book["Questions"])
    by_text = {row["Question"]: row for row in sheet}
    worst = tables["Question (most often not met)"][1:]
    keys = [by_text[row[0]]["Question key"] for row in worst]
    assert keys == figures["most_not_met"]
    for row, key in zip(worst, keys, strict=True):
        expected = figures["questions"][key]
        assert (int(row[1]), int(row[2]), row[3]) == (
            expected["not_met"],
            expected["base"],
            _pct(expected["not_met_rate"]),
        )
        assert int(row[1]) == by_text[row[0]]["Not met"] and int(row[2]) == by_text[row[0]]["Asked and applicable"]
    yoy = _by_first(tables["Question (year on year)"])
    for key, expected in figures["year_on_year"]["questions"].items():
        text_of = next(t for t, r in by_text.items() if r["Question key"] == key)
        assert yoy[text_of][1:3] == [_pct(expected["met_rate_previous"]), _pct(expected["met_rate"])], key
        assert yoy[text_of][4].endswith(f"(of {expected['both_years']})"), key
    missing = _by_first(tables["Establishment (not returned)"])
    assert sorted(row[1] for row in missing.values()) == sorted(figures["not_submitted"])
    assert missing["Delta Primary"][3] == "2" and missing["Eta Academy"][3] == "0"
    assert "Between them they were sent 2 reminders; 1 of them had not been sent one." in text
    planned = _by_first(tables["Actions (establishments)"])
    assert int(planned["Planned"][1]) == summary[("Action plans", "Actions")][0]
    # The LA's own plan: by area, each action with its RAG and status, the overdue ones.
    areas = _by_first(tables["Area"])
    assert areas["Training"][1:] == ["1", "1", "1", "0"] and areas["Strategy"][1:] == ["1", "0", "0", "1"]
    actions = _by_first(tables["Reference"])
    assert actions["TR 01"][5:] == ["Red", "In progress"]
    assert list(_by_first(tables["Reference (overdue)"])) == ["TR 01"]


def test_the_pdf_report_has_the_same_figures(outputs):
    figures, paths, _book = outputs
    text = _pdf_text(paths["pdf"])
    assert COUNCIL in text
    assert (
        f"{figures['submitted']} establishments out of {figures['in_scope']} completed the audit, "
        f"a completion rate of {_pct(figures['completion_rate'])}"
    ) in text
    establishments = figures["establishments"]
    for label, key in (
        ("Met all of the requirements", "fully_met"),
        ("Not able to confirm at least one", "cannot_confirm"),
        ("At least one requirement not met", "with_gaps"),
    ):
        assert (
            f"{label} {establishments[f'{key}_count']} {figures['returned']} {_pct(establishments[f'{key}_rate'])}"
            in text
        )
    prevent = figures["tags"]["prevent"]
    assert (
        f"Prevent {prevent['judged']} {prevent['fully_met_count']} {_pct(prevent['fully_met_rate'])} "
        f"{prevent['cannot_confirm_count']} {_pct(prevent['cannot_confirm_rate'])} {prevent['with_gaps_count']} "
        f"{_pct(prevent['with_gaps_rate'])}"
    ) in text
    for phase, expected in figures["completion_by"]["phase"].items():
        assert (
            f"{phase} {expected['in_scope']} {expected['submitted']} {expected['by_trust']} "
            f"{_pct(expected['completion_rate'])}"
        ) in text
    assert "TR 01" in text and "Train every DSL in WRAP" in text


def test_the_html_report_draws_charts_without_links_and_keeps_their_tables(outputs):
    _figures, paths, _book = outputs
    html = paths["html"].read_text()
    charts = re.findall(r"<svg.*?</svg>", html, re.S)
    assert charts and all('role="img"' in svg and "<title" in svg and "<a " not in svg for svg in charts)
    # Labelled with question texts, never keys.
    assert "Is the child protection policy current?" in html and "policy_current" not in html
    assert html.count("<figure>") == len(charts)
    assert html.count("(chart). The same figures are in the table below.") == len(charts)


def _report(client, kind: str):
    """Start the report as the page's form does; without a queue its job runs in the request. Its download."""
    started = client.post("/cycles/2026-27/committee-report", data={"kind": kind})
    assert started.status_code == 302 and started.location.startswith("/jobs/")
    return client.get(started.location + "/download")


def test_the_report_downloads_for_lead_and_board_only(client, make, sign_in, world):
    sign_in(make.board())
    page = _report(client, "docx")
    assert page.status_code == 200
    assert page.headers["Content-Disposition"].startswith("attachment;")
    assert "committee-report-2026-27.docx" in page.headers["Content-Disposition"]
    assert page.data[:2] == b"PK"  # a Word (zip) document
    assert _report(client, "pdf").data[:5] == b"%PDF-"
    assert client.post("/cycles/2026-27/committee-report", data={"kind": "txt"}).status_code == 400
    assert client.post("/cycles/1999-00/committee-report", data={"kind": "pdf"}).status_code == 404
    # The report is never written inside a GET request any more.
    assert client.get("/cycles/2026-27/committee-report.docx").status_code == 404
    links = client.get("/cycles/2026-27/").get_data(as_text=True)
    form = links[links.index('action="/cycles/2026-27/committee-report"') :]
    form = form[: form.index("</form>")]
    assert 'name="kind" value="docx"' in form and 'name="kind" value="pdf"' in form


def test_a_dsl_cannot_download_the_report(client, make, sign_in, world):
    sign_in(make.dsl(world["A"]))
    assert client.post("/cycles/2026-27/committee-report", data={"kind": "docx"}).status_code == 403


def test_the_report_command_refuses_an_unknown_format_or_cycle(world, runner, tmp_path):
    bad = runner.invoke(args=["report", "--cycle", "2026-27", "--out", str(tmp_path / "report.txt")])
    assert bad.exit_code == 2 and "must end in .docx, .pdf or .html" in bad.output
    missing = runner.invoke(args=["report", "--cycle", "1999-00", "--out", str(tmp_path / "report.pdf")])
    assert missing.exit_code == 1 and 'There is no cycle called "1999-00"' in missing.output
