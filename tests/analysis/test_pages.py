"""The analysis pages: figures, charts with table alternatives, links to who is behind each figure, and access."""
from __future__ import annotations

import re

import pytest

from tests.analysis.scenario import build_database, urn


@pytest.fixture
def la(make):
    return build_database(make)


def _text(page) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)))


def test_board_viewer_reads_the_headline_charts_and_tables(client, make, sign_in, la):
    sign_in(make.board())
    page = client.get("/cycles/2026-27/analysis")
    assert page.status_code == 200
    html, text = page.get_data(as_text=True), _text(page)
    assert ("4 of 6 establishments (67%) completed the audit; 4 (67%) answered the Prevent questions, "
            "2 of them through their trust.") in text
    # Charts are SVG with a title, text labels on every bar and a hatched pattern, each followed by a table.
    assert html.count("app-chart") == 3 and 'role="img"' in html and "-hatch" in html
    assert 'id="completion-table"' in html and 'id="questions-table"' in html and 'id="year-on-year-table"' in html
    assert "3 of 5 (60%)" in html  # Primary completion bar label
    # Every figure links to the establishments behind it.
    assert "/cycles/2026-27/analysis/establishments?question=prevent_wrap&amp;class=not_met" in html
    assert "/cycles/2026-27/analysis/establishments?tag=prevent&amp;status=trust" in html
    wrap = re.search(r'id="question-prevent_wrap".*?</tr>', html, re.S).group(0)
    assert [int(n) for n in re.findall(r'class="govuk-link"[^>]*>(\d+)<', wrap)] == [1, 2, 1, 0, 2, 0, 0]
    assert "Compared with 2025-26" in text
    # The board workbook and the CSVs are one click from the figures.
    assert 'href="/cycles/2026-27/workbook.xlsx"' in html and 'href="/cycles/2026-27/gaps.csv"' in html
    grouped = client.get("/cycles/2026-27/analysis?group=trust_name")
    assert "Oak Learning Trust" in _text(grouped) and "Not in a trust" in _text(grouped)


def test_figures_list_the_establishments_behind_them(client, make, sign_in, la):
    sign_in(make.lead())
    gaps = _text(client.get("/cycles/2026-27/analysis/establishments?question=prevent_wrap&class=partly"))
    assert "Beta Academy" in gaps and "Gamma Academy" in gaps and "Epsilon Infant" not in gaps
    assert "2 of 6 establishments in scope (33%)" in gaps
    trust = _text(client.get("/cycles/2026-27/analysis/establishments?tag=prevent&status=trust"))
    assert "Beta Academy" in trust and "Gamma Academy" in trust and "Alpha Primary" not in trust
    skipped = _text(client.get("/cycles/2026-27/analysis/establishments?tag=online&status=skipped"))
    assert "Beta Academy" in skipped and "Epsilon Infant" in skipped and "Delta Primary" not in skipped
    missing = _text(client.get("/cycles/2026-27/analysis/establishments?completion=not_submitted"))
    assert "Delta Primary" in missing and "Eta Academy" in missing and "Foxglove" not in missing
    assert "Alpha Primary" in _text(client.get("/cycles/2026-27/analysis/establishments?list=fully_met"))
    assert "Gamma Academy" in _text(client.get("/cycles/2026-27/analysis/establishments?list=cannot_confirm"))
    worse = _text(client.get("/cycles/2026-27/analysis/establishments?change=worse&question=prevent_sef"))
    assert "Gamma Academy" in worse and "Epsilon Infant" in worse and "Alpha Primary" not in worse
    assert client.get("/cycles/2026-27/analysis/establishments?question=nope&class=met").status_code == 404
    assert client.get("/cycles/2026-27/analysis/establishments").status_code == 404
    assert client.get("/cycles/1999-00/analysis").status_code == 404


def test_a_trust_lead_sees_only_their_trusts_academies(client, make, sign_in, la):
    sign_in(make.trust_lead(la["T1"]))
    page = client.get("/cycles/2026-27/analysis")
    assert page.status_code == 200
    assert "2 of 2 establishments (100%) completed the audit" in _text(page)
    assert "workbook.xlsx" not in page.get_data(as_text=True)  # the whole LA's workbook is not theirs
    listed = _text(client.get("/cycles/2026-27/analysis/establishments?completion=in_scope"))
    assert "Beta Academy" in listed and "Alpha Primary" not in listed and "Eta Academy" not in listed
    assert client.get(f"/cycles/2026-27/analysis?trust={la['T2'].id}").status_code == 404
    assert client.get(f"/cycles/2026-27/analysis/establishments?completion=in_scope&trust={la['T2'].id}").status_code == 404


def test_a_dsl_cannot_read_the_cycle_analysis(client, make, sign_in, la):
    sign_in(make.dsl(la["A"]))
    assert client.get("/cycles/2026-27/analysis").status_code == 403
    assert client.get("/cycles/2026-27/analysis/establishments?list=fully_met").status_code == 403


def test_a_dsl_sees_their_results_beside_the_la_and_last_year(client, make, sign_in, la):
    response = la["responses"]["C"]
    sign_in(make.dsl(la["C"]))
    page = client.get(f"/audits/{response.id}/results")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    row = _text_of(html, "result-prevent_sef")
    assert "Cannot confirm" in row and "33%" in row and "Met" in row  # theirs, LA met 2 of 6, last year met
    date_row = _text_of(html, "result-policy_review_date")
    assert "Not met" in date_row and "50%" in date_row
    wrap = _text_of(html, "result-prevent_wrap")
    assert "Partly met" in wrap and "answered by your trust" in wrap
    # Another school's answers never appear: only rates and this school's own classes.
    for other in ("Alpha Primary", "Beta Academy", "Epsilon Infant", urn("A"), urn("E")):
        assert other not in html
    # Another school's results are not theirs to see.
    assert client.get(f"/audits/{la['responses']['A'].id}/results").status_code == 404


def test_no_one_signed_out_reads_results(client, la):
    assert client.get("/cycles/2026-27/analysis").status_code == 302
    assert client.get(f"/audits/{la['responses']['A'].id}/results").status_code in (302, 401)


def _text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}".*?</tr>', html, re.S)
    assert match, element_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


def test_the_navigation_leads_to_the_latest_cycles_analysis(client, make, sign_in, la):
    sign_in(make.board())
    assert 'href="/analysis"' in client.get("/cycles").get_data(as_text=True)
    assert client.get("/analysis").headers["Location"].endswith("/cycles/2026-27/analysis")


def test_the_la_rates_on_a_results_page_follow_a_newly_submitted_return(app, client, make, sign_in, la):
    from surveyapp.audits.models import Answer, ResponseStatus
    from surveyapp.extensions import db
    from surveyapp.timeutil import utcnow

    sign_in(make.dsl(la["C"]))
    path = f"/audits/{la['responses']['C'].id}/results"
    assert "50%" in _text_of(client.get(path).get_data(as_text=True), "result-policy_current")  # 3 of 6 met
    cache = app.extensions["surveyapp.la_rates"]
    computed = cache.computed
    client.get(path)
    assert cache.computed == computed  # nothing changed: the cached rates are used
    # Delta finishes its audit (answering yes) and submits it, as another worker might record it.
    delta = la["responses"]["D"]
    db.session.query(Answer).filter_by(response_id=delta.id, question_key="policy_current").update({"value": "yes"})
    delta.status, delta.submitted_at, delta.updated_at = ResponseStatus.SUBMITTED, utcnow(), utcnow()
    db.session.commit()
    assert "67%" in _text_of(client.get(path).get_data(as_text=True), "result-policy_current")  # now 4 of 6
    assert cache.computed == computed + 1  # this cycle's rates again, last year's still cached
