"""A cycle at its edges, as a lead meets it: nobody has returned yet, only a trust has (answering for every
academy), or the template has no requirement at all. Every page and download answers, and the board workbook and
the committee report are written (the workbook once failed when every establishment had returned)."""

from __future__ import annotations

from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from surveyapp.audits.models import Answer, Assignment, Response, ResponseStatus
from surveyapp.exports.workbook import write_workbook
from surveyapp.extensions import db
from surveyapp.reports.content import build_report
from surveyapp.reports.writers import write_report

FOR_INFORMATION_ONLY = {
    "key": "information",
    "title": "Information only",
    "version": 1,
    "sections": [
        {
            "key": "meeting",
            "title": "Meeting",
            "questions": [
                {"key": "met_on", "text": "When did the governors last meet?", "type": "date", "required": False},
                {"key": "notes", "text": "Anything else?", "type": "text", "required": False},
            ],
        }
    ],
}

PAGES = [
    "/cycles/{slug}/",
    "/cycles/{slug}/tracker",
    "/cycles/{slug}/tracker/trusts",
    "/cycles/{slug}/tracker/by-phase",
    "/cycles/{slug}/tracker/by-trust",
    "/cycles/{slug}/reminders/schedule",
    "/cycles/{slug}/actions",
    "/cycles/{slug}/analysis",
    "/cycles/{slug}/analysis/topics",
    "/cycles/{slug}/analysis/sections",
    "/cycles/{slug}/analysis/questions",
    "/cycles/{slug}/analysis/year-on-year",
    "/cycles/{slug}/analysis/establishments?list=fully_met",
    "/cycles/{slug}/analysis/establishments?list=with_gaps",
    "/cycles/{slug}/non-responders.csv",
    "/cycles/{slug}/non-responders.xlsx",
    "/cycles/{slug}/responses.csv",
    "/cycles/{slug}/gaps.csv",
    "/la-action-plan",
    "/la-action-plan/findings",
]


def _responses(cycle) -> dict:
    """The cycle's responses by establishment id, or ("trust", id) for a trust's."""
    return {
        assignment.establishment_id or ("trust", assignment.trust_id): response
        for assignment, response in db.session.execute(
            select(Assignment, Response).join(Response).where(Assignment.cycle_id == cycle.id)
        )
    }


def _every_page_and_file(client, cycle, tmp_path) -> openpyxl.Workbook:
    for page in PAGES:
        url = page.format(slug=cycle.slug)
        assert client.get(url).status_code == 200, url
    for response in _responses(cycle).values():
        url = f"/cycles/{cycle.slug}/responses/{response.id}"
        assert client.get(url).status_code == 200, url
        # A return prints once it has reached the local authority; until then there is nothing to print.
        printed = client.get(url + "/return.pdf")
        assert printed.status_code == (200 if response.status.is_returned_to_la else 404), url
    report = build_report(db.session, cycle, "Demo County Council", on=date(2027, 1, 15))
    for kind in ("html", "docx", "pdf"):
        write_report(report, kind, str(tmp_path / f"report.{kind}"))
        assert (tmp_path / f"report.{kind}").stat().st_size > 1000, kind
    write_workbook(db.session, cycle, str(tmp_path / "board.xlsx"), on=date(2027, 1, 15))
    return openpyxl.load_workbook(tmp_path / "board.xlsx")


def _chased(book) -> list[str]:
    return sorted(row[1] for row in book["Non-responders"].iter_rows(min_row=2, values_only=True) if any(row))


@pytest.fixture
def lead_signed_in(make, sign_in):
    return sign_in(make.lead())


def test_nobody_has_returned(client, make, lead_signed_in, tmp_path):
    for name in ("Ash Primary", "Birch Primary", "Cedar Primary"):
        make.establishment(name=name)
    cycle = make.cycle()
    book = _every_page_and_file(client, cycle, tmp_path)
    assert _chased(book) == ["Ash Primary", "Birch Primary", "Cedar Primary"]


def test_only_a_trust_has_returned_for_every_academy(client, make, lead_signed_in, tmp_path):
    trust = make.trust(name="Oak Trust")
    for name in ("Oak Academy", "Elm Academy"):
        make.establishment(name=name, trust=trust)
    cycle = make.cycle()
    answers_for_all = _responses(cycle)[("trust", trust.id)]
    answers_for_all.status = ResponseStatus.SUBMITTED
    db.session.add_all(
        Answer(response_id=answers_for_all.id, question_key=q.key, value="no" if q.type.startswith("yes") else "")
        for q in cycle.template.questions
    )
    db.session.commit()
    book = _every_page_and_file(client, cycle, tmp_path)
    assert _chased(book) == []  # both are covered by their trust's return


def test_a_template_with_no_requirement(client, make, lead_signed_in, tmp_path):
    make.establishment(name="Ash Primary")
    make.establishment(name="Birch Primary")
    template = make.template(FOR_INFORMATION_ONLY)
    earlier = make.cycle(slug="2025-26", template=template, opens_on=date(2025, 9, 1), due_on=date(2026, 3, 31))
    cycle = make.cycle(template=template)
    for each in (earlier, cycle):
        for response in _responses(each).values():
            response.status = ResponseStatus.SUBMITTED
            db.session.add(Answer(response_id=response.id, question_key="notes", value="All well"))
    db.session.commit()
    book = _every_page_and_file(client, cycle, tmp_path)
    rows = list(book["Questions"].iter_rows(values_only=True))
    by = {row[-1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by["notes"]["For information"] == 2 and by["notes"]["Asked and applicable"] is None
