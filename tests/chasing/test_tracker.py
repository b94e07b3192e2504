"""The tracker's figures, breakdowns, list filters and who may see it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import event

from surveyapp.audits.models import ResponseStatus
from surveyapp.chasing import tracker
from surveyapp.extensions import db


def test_headline_counts_trust_cover_as_complete(county):
    counts = tracker.headline(county["cycle"])["counts"]
    assert counts.in_scope == 6
    assert counts.complete == 3  # Ash (own) + Oak and Elm (covered by Acorn Trust)
    assert (counts.own_returns, counts.covered_by_trust) == (1, 2)
    assert (counts.in_progress, counts.returned, counts.not_started) == (1, 1, 1)
    assert counts.percent_complete == 50


def test_breakdowns_by_phase_district_and_trust(county):
    by_phase = {row["label"]: row["counts"] for row in tracker.breakdown(county["cycle"], "phase")}
    assert by_phase["Primary"].in_scope == 3 and by_phase["Primary"].complete == 2
    assert by_phase["Secondary"].complete == 1 and by_phase["Secondary"].in_progress == 1
    assert by_phase["Nursery"].not_started == 1
    by_trust = {row["value"]: row for row in tracker.breakdown(county["cycle"], "trust")}
    assert by_trust["T100"]["label"] == "Acorn Trust" and by_trust["T100"]["counts"].complete == 2
    assert by_trust["none"]["counts"].in_scope == 3
    by_district = {row["label"]: row["counts"].in_scope for row in tracker.breakdown(county["cycle"], "district")}
    assert by_district == {"East": 2, "West": 2, "Northtown": 2}


def test_the_lead_sees_the_figures_and_the_list(client, sign_in, county):
    sign_in(county["lead"])
    page = client.get("/cycles/2026-27/tracker")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "50% complete" in html and "3 of 6 establishments" in html
    assert "6 establishments" in html
    assert "<svg" in html and '<title id="chart-title">' in html and 'id="progress-table"' in html
    assert "<script>" not in html
    assert "dsl@200004.example.org" in html and "No DSL contact" in html
    assert "1 of 2" in html  # Birch's sections


def _urns(html: str) -> list[str]:
    import re

    return re.findall(r'data-urn="(\d+)"', html)


def test_filters_search_sort_and_pagination_are_in_the_query_string(client, sign_in, county):
    sign_in(county["lead"])
    get = lambda query: _urns(client.get(f"/cycles/2026-27/tracker?{query}").get_data(as_text=True))  # noqa: E731
    assert get("status=in_progress") == ["200004"]
    assert get("status=complete") == ["200003", "200002", "200001"]
    assert get("status=covered_by_trust&phase=Secondary") == ["200002"]
    assert get("status=incomplete&phase=Secondary") == ["200004"]
    assert get("trust=T100") == ["200002", "200001"]
    assert get("trust=none&district=West") == ["200003"]
    assert get("no_contact=1") == ["200006"]
    assert get("q=cedar") == ["200005"]
    assert get("q=200003") == ["200003"]
    assert get("type=Academy+converter") == ["200002", "200001"]
    assert get("sort=activity&direction=desc")[0] == "200004"
    assert get("sort=name&direction=desc") == ["200001", "200006", "200002", "200005", "200004", "200003"]
    filters = tracker.TrackerFilters.from_args({"status": "in_progress", "page": "1"})
    page = tracker.establishment_list(county["cycle"], tracker.TrackerFilters(), per_page=4)
    assert page.total == 6 and page.pages == 2 and len(page.rows) == 4
    second = tracker.establishment_list(county["cycle"], tracker.TrackerFilters(page=2), per_page=4)
    assert [r.urn for r in second.rows] == ["200001", "200003"][::-1] or len(second.rows) == 2
    assert filters.to_args() == {"status": "in_progress"}


def test_breakdown_rows_link_to_the_filtered_list(client, sign_in, county):
    sign_in(county["lead"])
    html = client.get("/cycles/2026-27/tracker/by-trust").get_data(as_text=True)
    assert "/cycles/2026-27/tracker?trust=T100" in html
    assert client.get("/cycles/2026-27/tracker/by-colour").status_code == 404


def test_a_trust_lead_sees_only_their_academies_and_another_trust_is_404(client, sign_in, make, county):
    trust_lead = make.trust_lead(county["trust"])
    db.session.commit()
    sign_in(trust_lead)
    page = client.get("/trusts/T100/cycles/2026-27/tracker")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert sorted(_urns(html)) == ["200001", "200002"]
    assert "Birch Secondary" not in html and "Ash Primary" not in html
    assert "2 of 2 establishments" in html
    assert client.get("/trusts/T200/cycles/2026-27/tracker").status_code == 404
    assert client.get("/trusts/T999/cycles/2026-27/tracker").status_code == 404
    assert client.get("/cycles/2026-27/tracker").status_code == 403
    # the scope cannot be widened from the query string
    assert sorted(_urns(client.get("/trusts/T100/cycles/2026-27/tracker?trust=T200").get_data(as_text=True))) == [
        "200001",
        "200002",
    ]


def test_board_reads_the_tracker_but_cannot_send_or_export(client, sign_in, make, county):
    board = make.board()
    db.session.commit()
    sign_in(board)
    html = client.get("/cycles/2026-27/tracker").get_data(as_text=True)
    assert "50% complete" in html and "Preview reminders" not in html
    assert client.post("/cycles/2026-27/reminders/preview", data={"all": "1"}).status_code == 403
    assert client.post("/cycles/2026-27/reminders/send", data={"all": "1"}).status_code == 403
    assert client.get("/cycles/2026-27/non-responders.csv").status_code == 403
    assert client.get("/outbox").status_code == 403


def test_a_dsl_cannot_see_the_tracker(client, sign_in, make, county):
    dsl = make.dsl(county["ash"])
    db.session.commit()
    sign_in(dsl)
    assert client.get("/cycles/2026-27/tracker").status_code == 403
    assert client.get("/trusts/T100/cycles/2026-27/tracker").status_code == 404


def test_submissions_over_time_against_last_year(make, county):
    cycle = county["cycle"]
    progress = tracker.submissions_over_time(cycle, on=date(2026, 11, 20))
    by_day = {p.day: p.complete for p in progress.points}
    assert by_day[date(2026, 9, 30)] == 0
    assert by_day[date(2026, 10, 1)] == 1  # Ash
    assert by_day[date(2026, 10, 5)] == 3  # Acorn Trust covers Oak and Elm
    assert progress.points[-1].day == date(2026, 11, 20)
    assert progress.points[-1].days_before_due == (date(2027, 3, 31) - date(2026, 11, 20)).days
    assert progress.previous is None


def test_the_pages_one_pass_reads_the_same_days_as_the_chart_on_its_own(make, county):
    """The tracker page takes this cycle's line from the pass that makes its breakdowns: the days and the
    numbers must be those the chart counts by itself, for the LA and for one trust's academies."""
    cycle = county["cycle"]
    for trust_scope in (None, county["trust"].id):
        found = tracker.figures(cycle, ["phase"], trust_scope, by_day=True)
        in_scope, days = tracker.completions_by_day([cycle], trust_scope)[cycle.id]
        assert found.completed_by_day == days and days  # Ash on 1 October, the trust's two on 5 October
        counts = tracker.headline(cycle, trust_scope, found.breakdowns["phase"])["counts"]
        assert counts.in_scope == in_scope and sum(days.values()) == counts.complete
        alone = tracker.submissions_over_time(cycle, trust_scope, on=date(2026, 11, 20))
        shared = tracker.submissions_over_time(
            cycle, trust_scope, on=date(2026, 11, 20), in_scope=in_scope, completed_by_day=found.completed_by_day
        )
        assert shared == alone


def test_query_count_does_not_grow_with_establishments(client, sign_in, make, county):
    sign_in(county["lead"])

    def count_queries() -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/cycles/2026-27/tracker").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    from surveyapp.audits.models import Assignment, Response

    count_queries()  # the first request after signing in does some once-only work
    before = count_queries()
    cycle = county["cycle"]
    for number in range(30):
        school = make.establishment(name=f"Extra {number}")
        make.dsl(school)
        assignment = Assignment(cycle_id=cycle.id, establishment_id=school.id)
        db.session.add(assignment)
        db.session.flush()
        db.session.add(Response(assignment_id=assignment.id, status=ResponseStatus.IN_PROGRESS))
    db.session.commit()
    assert "36 establishments" in client.get("/cycles/2026-27/tracker").get_data(as_text=True)
    assert count_queries() == before < 30


def _row(page, urn):
    return next(row for row in page.rows if row.urn == urn)


def test_the_list_reads_details_for_its_rows_whether_by_id_or_for_the_whole_cycle(monkeypatch, make, county):
    from surveyapp.chasing.models import Reminder, ReminderKind, ReminderStatus
    from surveyapp.timeutil import utcnow

    cycle = county["cycle"]
    db.session.add(
        Reminder(
            cycle_id=cycle.id,
            establishment_id=county["birch"].id,
            recipient_email="dsl@200004.example.org",
            kind=ReminderKind.IN_PROGRESS,
            subject="s",
            body="b",
            created_at=utcnow(),
            sent_at=utcnow(),
            status=ReminderStatus.SENT,
            attempts=1,
            last_error="",
            idempotency_key="k1",
        )
    )
    db.session.commit()
    pages = [tracker.establishment_list(cycle, tracker.TrackerFilters())]
    monkeypatch.setattr(tracker, "_DETAILS_BY_ID", 2)  # an export: details for the whole cycle in one pass
    pages.append(tracker.establishment_list(cycle, tracker.TrackerFilters()))
    for page in pages:
        assert page.total == 6 and page.sections_total == 2
        birch = _row(page, "200004")
        assert (birch.status, birch.sections_done, birch.reminders_sent) == ("in_progress", 1, 1)
        assert (birch.dsl_name, birch.dsl_email) == ("DSL of Birch Secondary", "dsl@200004.example.org")
        assert _row(page, "200002").status == "covered_by_trust" and _row(page, "200003").sections_done == 2
        fir = _row(page, "200006")
        assert (fir.dsl_email, fir.reminders_sent, fir.last_reminder_at) == (None, 0, None)


def test_sorting_by_sections_or_reminders_and_a_page_past_the_end(make, county):
    cycle = county["cycle"]
    by_sections = tracker.establishment_list(cycle, tracker.TrackerFilters(sort="sections", direction="desc"))
    assert [r.urn for r in by_sections.rows][:3] == ["200003", "200004", "200002"]  # 2, 1, 1 (then by name)
    by_reminders = tracker.establishment_list(cycle, tracker.TrackerFilters(sort="reminders"))
    assert len(by_reminders.rows) == 6
    by_status = tracker.establishment_list(cycle, tracker.TrackerFilters(sort="status"))
    # The least done first: not started, in progress, returned for amendment, covered by the trust, submitted.
    assert [r.status for r in by_status.rows] == [
        "not_started",
        "in_progress",
        "returned",
        "covered_by_trust",
        "covered_by_trust",
        "submitted",
    ]
    past = tracker.establishment_list(cycle, tracker.TrackerFilters(page=9, status="incomplete"), per_page=2)
    assert (past.rows, past.total, past.pages) == ([], 3, 2)


def test_sections_completed_are_this_cycles_only_in_the_sort_the_list_and_the_export(monkeypatch, make, county):
    from tests.chasing.helpers import set_status

    # Last year Fir and Cedar completed every section; this year Fir has not started and Cedar was returned.
    last_year = make.cycle(slug="2025-26", opens_on=date(2025, 9, 1), due_on=date(2026, 3, 31))
    for school in (county["fir"], county["cedar"], county["oak"]):
        set_status(last_year, ResponseStatus.ACCEPTED, establishment=school, done=("policies", "prevent"))
    db.session.commit()
    cycle = county["cycle"]
    by_sections = tracker.establishment_list(cycle, tracker.TrackerFilters(sort="sections", direction="desc"))
    # Ash 2, then Birch and Elm 1 each, then the rest with none this year, each group by name.
    assert [(r.name, r.sections_done) for r in by_sections.rows] == [
        ("Ash Primary", 2),
        ("Birch Secondary", 1),
        ("Elm Academy", 1),
        ("Cedar Primary", 0),
        ("Fir Nursery", 0),
        ("Oak Academy", 0),
    ]
    fewest_first = tracker.establishment_list(cycle, tracker.TrackerFilters(sort="sections"), per_page=3)
    assert [r.name for r in fewest_first.rows] == ["Cedar Primary", "Fir Nursery", "Oak Academy"]
    trusts_own = tracker.establishment_list(
        cycle, tracker.TrackerFilters(sort="sections", direction="desc"), county["trust"].id
    )
    assert [(r.name, r.sections_done) for r in trusts_own.rows] == [("Elm Academy", 1), ("Oak Academy", 0)]
    monkeypatch.setattr(tracker, "_DETAILS_BY_ID", 2)  # an export: details for the whole cycle in one pass
    whole_cycle = tracker.establishment_list(cycle, tracker.TrackerFilters(status="incomplete"))
    assert {r.name: r.sections_done for r in whole_cycle.rows} == {
        "Birch Secondary": 1,
        "Cedar Primary": 0,
        "Fir Nursery": 0,
    }
    last_years = tracker.establishment_list(last_year, tracker.TrackerFilters(sort="sections", direction="desc"))
    assert [(r.name, r.sections_done) for r in last_years.rows[:3]] == [
        ("Cedar Primary", 2),
        ("Fir Nursery", 2),
        ("Oak Academy", 2),
    ]


def test_a_late_page_read_from_the_end_is_the_same_page(make, county):
    # Knowing the total, a page in the second half is read in the reverse order from the end: every sort,
    # both directions (with establishments without a trust or any activity, sorted last), every page.
    cycle = county["cycle"]
    for sort in sorted(tracker.SORTS):
        for direction in ("asc", "desc"):
            pages = []
            for number in (1, 2, 3, 4, 5):
                filters = tracker.TrackerFilters(sort=sort, direction=direction, page=number)
                read = tracker.establishment_list(cycle, filters, per_page=2)
                from_end = tracker.establishment_list(cycle, filters, per_page=2, total=6)
                assert [vars(row) for row in from_end.rows] == [vars(row) for row in read.rows], (sort, direction)
                assert (from_end.total, from_end.pages) == (read.total, read.pages) == (6, 3)
                pages.append([row.urn for row in read.rows])
            assert sorted(urn for page in pages for urn in page) == [f"20000{n}" for n in range(1, 7)]
            assert pages[3:] == [[], []]


def test_with_many_trusts_the_trust_filter_asks_for_the_uid(monkeypatch, client, sign_in, county):
    from surveyapp.chasing import forms as chasing_forms

    sign_in(county["lead"])
    html = client.get("/cycles/2026-27/tracker").get_data(as_text=True)
    assert '<select class="govuk-select" id="trust" name="trust">' in html
    monkeypatch.setattr(chasing_forms, "TRUST_CHOICES_LIMIT", 1)
    html = client.get("/cycles/2026-27/tracker?trust=T100").get_data(as_text=True)
    assert '<select class="govuk-select" id="trust"' not in html
    assert 'name="trust" type="text" value="T100"' in html and "Trust’s group UID" in html
    assert sorted(_urns(html)) == ["200001", "200002"]


def test_submissions_over_time_against_the_previous_cycle(make, county):
    from surveyapp.audits.models import ResponseStatus
    from tests.chasing.helpers import set_status

    last_year = make.cycle(slug="2025-26", opens_on=date(2025, 9, 1), due_on=date(2026, 3, 31))
    set_status(
        last_year,
        ResponseStatus.ACCEPTED,
        establishment=county["ash"],
        submitted_at=datetime(2025, 10, 1, 9, tzinfo=UTC),
    )
    set_status(
        last_year,
        ResponseStatus.SUBMITTED,
        establishment=county["birch"],
        submitted_at=datetime(2025, 12, 1, 9, tzinfo=UTC),
    )
    db.session.commit()
    progress = tracker.submissions_over_time(county["cycle"], on=date(2026, 11, 20))
    assert progress.previous.slug == "2025-26"
    assert (progress.in_scope, progress.previous_in_scope) == (6, 6)
    by_day = {p.day: p.previous_complete for p in progress.points}
    assert by_day[date(2026, 9, 30)] == 0 and by_day[date(2026, 10, 1)] == 1  # same days before due as 1 October 2025
    assert by_day[date(2026, 11, 20)] == 1
    trust_only = tracker.submissions_over_time(county["cycle"], county["trust"].id, on=date(2026, 11, 20))
    assert (trust_only.in_scope, trust_only.previous_in_scope, trust_only.points[-1].complete) == (2, 2, 2)


def test_a_long_breakdown_is_paged(monkeypatch, client, sign_in, county):
    monkeypatch.setattr(tracker.GroupPage, "PER_PAGE", 2)
    sign_in(county["lead"])
    first = client.get("/cycles/2026-27/tracker/by-district").get_data(as_text=True)
    assert "3 groups, largest first: 1 to 2" in first and "Page 1 of 2" not in first
    assert 'href="/cycles/2026-27/tracker/by-district?page=2"' in first
    last = client.get("/cycles/2026-27/tracker/by-district?page=9").get_data(as_text=True)
    assert "3 groups, largest first: 3 to 3" in last
    assert client.get("/cycles/2026-27/tracker/by-district?page=x").status_code == 200


def test_the_figures_count_a_filtered_list_exactly_as_the_list_does(make, county):
    """The tracker takes the list's count from its headline or one breakdown where they hold it (and then reads
    a late page from the end): every status with each phase, district and trust (and none) must count what
    the list itself counts, and the pages read with that count must be the list's own pages."""
    cycle = county["cycle"]
    found = tracker.breakdowns(cycle, list(tracker.DIMENSIONS))
    counts = tracker.headline(cycle, None, found["phase"])["counts"]
    choices = {key: [str(g["value"]) for g in rows] + ["nowhere"] for key, rows in found.items()}
    checked = 0
    for status in ["", *tracker.STATUSES, *tracker.STATUS_GROUPS]:
        for key in ["", *tracker.DIMENSIONS]:
            for value in choices[key] if key else [""]:
                filters = tracker.TrackerFilters(status=status, **({key: value} if key else {}))
                known = tracker.known_count(filters, counts, found)
                assert known == tracker.establishment_list(cycle, filters).total, (status, key, value)
                for number in (1, 2, 3):
                    filters.page = number
                    read = tracker.establishment_list(cycle, filters, per_page=1)
                    with_known = tracker.establishment_list(cycle, filters, per_page=1, total=known)
                    assert [r.urn for r in with_known.rows] == [r.urn for r in read.rows], (status, key, value)
                checked += 1
    assert checked > 100
    # What the figures do not hold is counted by the list: a search, no DSL contact, two dimensions at once.
    for filters in (
        tracker.TrackerFilters(q="Ash"),
        tracker.TrackerFilters(no_contact=True),
        tracker.TrackerFilters(phase="Primary", district="East"),
    ):
        assert tracker.known_count(filters, counts, found) is None


def test_the_lists_page_links_keep_its_filters_and_come_back_to_the_list(client, sign_in, make, county):
    from surveyapp.audits.register_changes import reconcile_running_cycles

    for number in range(50):
        make.establishment(name=f"Primary {number:02}", urn=f"3000{number:02}")
    reconcile_running_cycles(actor=county["lead"])  # they join the running cycle, as schools opening mid-year do
    db.session.commit()
    sign_in(county["lead"])
    first = client.get("/cycles/2026-27/tracker?phase=Primary").get_data(as_text=True)
    assert "(page 1 of 2)" in first
    assert 'href="/cycles/2026-27/tracker?phase=Primary&amp;page=2#establishments"' in first  # page 2 and Next
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/cycles/2026-27/tracker?phase=Primary&page=2").get_data(as_text=True)
    assert 'href="/cycles/2026-27/tracker?phase=Primary#establishments"' in second  # back to page 1
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert len(_urns(second)) == 53 - 50  # 53 primaries: Ash, Cedar, Oak and the 50 new ones
