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


def test_board_viewer_reads_a_short_overview_with_named_denominators(client, make, sign_in, la):
    sign_in(make.board())
    page = client.get("/cycles/2026-27/analysis")
    assert page.status_code == 200
    html, text = page.get_data(as_text=True), _text(page)
    assert (
        "4 of 6 establishments (67%) completed the audit; 4 (67%) answered the Prevent questions, "
        "2 of them through their trust."
    ) in text
    assert "Completion is counted of the 6 establishments in scope." in text
    assert "Whether requirements are met is counted of the 4 establishments that have returned" in text
    headline = re.search(r'id="headline-figures".*?</table>', html, re.S).group(0)
    assert "Completed the audit 4 establishments: completed the audit 6 in scope 67%" in _squash(headline)
    # Alpha meets every requirement: 1 of the 4 returns (25%), not 1 of the 6 in scope (17%).
    assert "Meet every requirement 1 establishments: meet every requirement 4 that have returned 25%" in _squash(
        headline
    )
    worst = _squash(re.search(r'id="most-not-met-table".*?</table>', html, re.S).group(0))
    assert "Is the child protection policy current? 1 not met: Is the child protection policy current? 4 25%" in worst
    # One chart (completion), no link inside it; its table carries the links.
    assert html.count("app-chart") == 1 and 'role="img"' in html
    for svg in re.findall(r"<svg.*?</svg>", html, re.S):
        assert "<a " not in svg
    assert "3 of 5 (60%)" in html  # Primary completion bar label
    assert "/cycles/2026-27/analysis/establishments?completion=submitted&amp;group=phase&amp;value=Primary" in html
    assert "/cycles/2026-27/analysis/establishments?question=policy_current&amp;class=not_met" in html
    # The pages of detail, the committee report, the board workbook and the CSVs are one click away.
    for path in ("/analysis/topics", "/analysis/sections", "/analysis/questions", "/analysis/year-on-year"):
        assert f'href="/cycles/2026-27{path}"' in html, path
    # The committee report and the board workbook are written by a job (a form starts it; its page has the file).
    report = html[html.index('action="/cycles/2026-27/committee-report"') :]
    assert 'name="kind" value="docx"' in report[: report.index("</form>")] and 'name="kind" value="pdf"' in report
    assert 'action="/cycles/2026-27/workbook"' in html and 'href="/cycles/2026-27/gaps.csv"' in html
    grouped = client.get("/cycles/2026-27/analysis?group=trust_name")
    assert "Oak Learning Trust" in _text(grouped) and "Not in a trust" in _text(grouped)


def test_topic_and_section_pages_give_fully_met_cannot_confirm_and_with_gaps(client, make, sign_in, la):
    sign_in(make.lead())
    page = client.get("/cycles/2026-27/analysis/topics")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    prevent = _squash(re.search(r'id="requirements-prevent".*?</tr>', html, re.S).group(0))
    assert prevent.startswith('id="requirements-prevent"> Prevent 4 1')
    assert "1 meet every requirement: Prevent (25%)" in prevent
    assert "1 cannot confirm at least one: Prevent (25%)" in prevent
    assert "3 at least one gap: Prevent (75%)" in prevent
    assert "/cycles/2026-27/analysis/establishments?tag=prevent&amp;list=with_gaps" in html
    assert "/cycles/2026-27/analysis/establishments?tag=prevent&amp;status=trust" in html
    for svg in re.findall(r"<svg.*?</svg>", html, re.S):
        assert "<a " not in svg
    listed = _text(client.get("/cycles/2026-27/analysis/establishments?tag=prevent&list=with_gaps"))
    assert "Beta Academy" in listed and "Epsilon Infant" in listed and "Alpha Primary" not in listed
    assert "3 of the 4 establishments that answered these questions (75%)" in listed
    sections = client.get("/cycles/2026-27/analysis/sections").get_data(as_text=True)
    policies = _squash(re.search(r'id="requirements-policies".*?</tr>', sections, re.S).group(0))
    assert "Policies 4 2 meet every requirement: Policies (50%)" in policies
    assert client.get("/cycles/2026-27/analysis/establishments?tag=nope&list=fully_met").status_code == 404


def test_the_questions_page_counts_each_class_over_the_returns(client, make, sign_in, la):
    sign_in(make.board())
    html = client.get("/cycles/2026-27/analysis/questions").get_data(as_text=True)
    wrap = re.search(r'id="question-prevent_wrap".*?</tr>', html, re.S).group(0)
    # met, partly, not met, cannot confirm, not answered, not applicable, not needed, for information
    assert [int(n) for n in re.findall(r'class="govuk-link"[^>]*>(\d+)<', wrap)] == [1, 2, 1, 0, 0, 0, 0, 0]
    assert "50%" in wrap  # partly met: 2 of the 4 returns
    # The notes have no gap rule: all four returns' answers are for information, with no rate of met or not met.
    notes = re.search(r'id="question-policy_notes".*?</tr>', html, re.S).group(0)
    assert "for information, not a requirement" in notes
    assert [int(n) for n in re.findall(r'class="govuk-link"[^>]*>(\d+)<', notes)] == [0, 0, 0, 0, 0, 0, 0, 4]
    assert "%" not in notes
    chart = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    # Labelled with question texts, never keys, and nothing to select inside the image.
    assert "Has the DSL completed WRAP?" in chart and "prevent_wrap" not in chart and "<a " not in chart
    assert "Anything else?" not in chart  # no bar for a question that is never a gap


def test_the_year_on_year_page_compares_like_with_like(client, make, sign_in, la):
    sign_in(make.board())
    html = client.get("/cycles/2026-27/analysis/year-on-year").get_data(as_text=True)
    text = _squash(html)
    assert "Compared with 2025-26: last year's returns as they stood" in text
    assert "only the 3 that returned in both years are compared" in text
    row = _squash(re.search(r'id="yoy-policy_current".*?</tr>', html, re.S).group(0))
    assert "Is the child protection policy current? 33% 75% +42 33% to 67% (of 3)" in row
    chart = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "policy_current" not in chart and "<a " not in chart
    assert "Is the child protection policy current? (last year)" in chart
    # "Anything else?" has no gap rule: nobody meets it either year, so it is not compared.
    assert 'id="yoy-policy_notes"' not in html and "Anything else?" not in html


def _squash(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").strip()


def test_figures_list_the_establishments_behind_them(client, make, sign_in, la):
    sign_in(make.lead())
    gaps = _text(client.get("/cycles/2026-27/analysis/establishments?question=prevent_wrap&class=partly"))
    assert "Beta Academy" in gaps and "Gamma Academy" in gaps and "Epsilon Infant" not in gaps
    assert "2 of the 4 establishments that have returned (50%)" in gaps
    # A class's list holds the returns the question's count holds, never an establishment yet to return.
    unanswered = _text(client.get("/cycles/2026-27/analysis/establishments?question=online_filtering&class=unanswered"))
    assert "2 of the 4 establishments that have returned (50%)" in unanswered
    assert "Delta Primary" not in unanswered and "Eta Academy" not in unanswered
    notes = _text(client.get("/cycles/2026-27/analysis/establishments?question=policy_notes&class=information"))
    assert "4 of the 4 establishments that have returned (100%)" in notes and "Delta Primary" not in notes
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
    assert "/workbook" not in page.get_data(as_text=True)  # the whole LA's workbook is not theirs
    listed = _text(client.get("/cycles/2026-27/analysis/establishments?completion=in_scope"))
    assert "Beta Academy" in listed and "Alpha Primary" not in listed and "Eta Academy" not in listed
    assert client.get(f"/cycles/2026-27/analysis?trust={la['T2'].id}").status_code == 404
    assert (
        client.get(f"/cycles/2026-27/analysis/establishments?completion=in_scope&trust={la['T2'].id}").status_code
        == 404
    )


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
    # theirs, LA met 2 of the 4 that returned (not of the 6 in scope), last year met
    assert "Cannot confirm" in row and "50%" in row and "Met" in row
    date_row = _text_of(html, "result-policy_review_date")
    assert "Not met" in date_row and "75%" in date_row
    assert "of the 4 establishments that have returned" in re.sub(r"\s+", " ", html)
    wrap = _text_of(html, "result-prevent_wrap")
    assert "Partly met" in wrap and "answered by your trust" in wrap
    # "Anything else?" has no gap rule: recorded for information, never "Met", and no LA rate to compare.
    notes = _text_of(html, "result-policy_notes")
    assert "For information" in notes and "Met" not in notes and "%" not in notes and "not a requirement" in notes
    # So the Policies section counts its two requirements, not its three questions.
    policies = re.sub(r"\s+", " ", re.search(r'id="section-policies".*?</p>', html, re.S).group(0))
    assert re.search(r"You meet \d of 2 \(", policies), policies
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
    assert "75%" in _text_of(client.get(path).get_data(as_text=True), "result-policy_current")  # 3 of 4 returns met
    cache = app.extensions["surveyapp.la_rates"]
    computed = cache.computed
    client.get(path)
    assert cache.computed == computed  # nothing changed: the cached rates are used
    # Delta finishes its audit (answering yes) and submits it, as another worker might record it.
    delta = la["responses"]["D"]
    db.session.query(Answer).filter_by(response_id=delta.id, question_key="policy_current").update({"value": "yes"})
    delta.status, delta.submitted_at, delta.updated_at = ResponseStatus.SUBMITTED, utcnow(), utcnow()
    db.session.commit()
    assert "80%" in _text_of(client.get(path).get_data(as_text=True), "result-policy_current")  # now 4 of 5 returns
    assert cache.computed == computed + 1  # this cycle's rates again, last year's still cached
