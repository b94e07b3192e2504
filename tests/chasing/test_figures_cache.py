"""The tracker's figures are kept between views, and never shown once anything they count has changed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import select, text

from surveyapp.audits.models import ResponseStatus
from surveyapp.audits.register_changes import reconcile_running_cycles
from surveyapp.chasing import tracker
from surveyapp.chasing.figures_cache import figures_cache
from surveyapp.chasing.models import FiguresVersion
from surveyapp.extensions import db
from tests.chasing.helpers import response_of, set_status

TRACKER = "/cycles/2026-27/tracker"


def _headline(client) -> tuple[int, int]:
    """The tracker's "N of M establishments" complete."""
    html = client.get(TRACKER).get_data(as_text=True)
    found = re.search(r"(\d+) of (\d+) establishments", html)
    assert found, "no headline on the tracker"
    return int(found[1]), int(found[2])


def _breakdown(cycle, dimension: str) -> dict[str, int]:
    return {row["label"]: row["counts"].in_scope for row in tracker.breakdown(cycle, dimension)}


def _as_computed_now(cycle) -> bool:
    """The figures a view is served are the ones a fresh pass over the cycle gives."""
    served = tracker.figures(cycle, list(tracker.DIMENSIONS), by_day=True)
    fresh = tracker._figures(cycle, list(tracker.DIMENSIONS), None, by_day=True)
    return served == fresh


def _elsewhere(sql: str, **values) -> None:
    """A change committed on another connection: another worker, an import, or SQL typed at a console."""
    with db.engine.begin() as connection:
        connection.execute(text(sql), values)


def test_the_figures_are_kept_between_views_until_something_they_count_changes(client, sign_in, make, county):
    sign_in(county["lead"])
    cycle, cache = county["cycle"], figures_cache()
    assert _headline(client) == (3, 6)
    computed = cache.computed
    assert _headline(client) == (3, 6)
    assert cache.computed == computed, "a second view with nothing changed computed the figures again"
    assert cache.served > 0

    # A change the figures do not count (a name, a save that leaves the status) keeps them; the list shows it.
    _elsewhere("UPDATE establishments SET name = 'Ash Primary School' WHERE id = :id", id=county["ash"].id)
    birch = response_of(cycle, county["birch"]).id
    _elsewhere("UPDATE responses SET updated_at = :at WHERE id = :id", at=datetime(2026, 11, 20, tzinfo=UTC), id=birch)
    assert _headline(client) == (3, 6) and cache.computed == computed
    assert "Ash Primary School" in client.get(TRACKER).get_data(as_text=True)

    # A status changed through the app: Birch returns its audit.
    set_status(cycle, ResponseStatus.SUBMITTED, establishment=county["birch"])
    db.session.commit()
    assert _headline(client) == (4, 6)
    assert cache.computed > computed

    # The trust's return stops covering Elm (its own return is in progress).
    _elsewhere("DELETE FROM trust_coverage WHERE establishment_id = :id", id=county["elm"].id)
    assert _headline(client) == (3, 6)

    # Fir Nursery becomes a primary school in the register.
    assert _breakdown(cycle, "phase")["Nursery"] == 1
    _elsewhere("UPDATE establishments SET phase = 'Primary' WHERE id = :id", id=county["fir"].id)
    assert "Nursery" not in _breakdown(cycle, "phase")

    # The trust is renamed.
    _elsewhere("UPDATE trusts SET name = 'Acorn Learning Trust' WHERE id = :id", id=county["trust"].id)
    assert "Acorn Learning Trust" in _breakdown(cycle, "trust")

    # Cedar closes during the cycle: it leaves the counts.
    cedar = county["cedar"].id
    _elsewhere("UPDATE assignments SET left_on = :on WHERE establishment_id = :id", on=date(2026, 10, 1), id=cedar)
    assert _headline(client) == (3, 5)

    # A school that opened mid-year joins the running cycle when the register is reconciled.
    make.establishment(name="New Primary", urn="200099")
    reconcile_running_cycles(actor=county["lead"])
    db.session.commit()
    assert _headline(client) == (3, 6)
    assert _as_computed_now(cycle)


def test_a_view_inside_a_change_sees_the_change_and_a_rollback_leaves_the_kept_figures(county):
    cycle = county["cycle"]
    assert tracker.figures(cycle, ["phase"]).breakdowns["phase"][0]["counts"].complete == 2  # Primary: Ash, Oak
    set_status(cycle, ResponseStatus.SUBMITTED, establishment=county["cedar"])  # a Primary, flushed, not committed
    assert tracker.figures(cycle, ["phase"]).breakdowns["phase"][0]["counts"].complete == 3
    db.session.rollback()
    assert tracker.figures(cycle, ["phase"]).breakdowns["phase"][0]["counts"].complete == 2
    assert _as_computed_now(cycle)


def test_what_a_caller_does_to_its_figures_is_not_served_to_the_next(county):
    cycle = county["cycle"]
    mine = tracker.figures(cycle, ["phase"])
    mine.breakdowns["phase"][0]["counts"].by_status["submitted"] += 100
    mine.breakdowns["phase"].clear()
    assert tracker.figures(cycle, ["phase"]).breakdowns["phase"][0]["counts"].complete == 2


def _token() -> str:
    with db.engine.connect() as connection:
        return connection.scalar(select(FiguresVersion.token))


def test_the_token_moves_with_the_commit_of_a_change_and_for_no_one_before_it(county):
    cycle = county["cycle"]
    before = _token()
    birch = response_of(cycle, county["birch"]).id
    cedar = response_of(cycle, county["cedar"]).id
    db.session.commit()
    with db.engine.connect() as writer:
        writer.begin()
        writer.execute(text("UPDATE responses SET status = 'submitted' WHERE id = :id"), {"id": birch})
        assert _token() == before, "another connection saw the token move before the change was committed"
        if db.engine.dialect.name == "postgresql":
            # The trigger runs at the commit: until then the writer holds no lock on the token, so another
            # writer's change (here Cedar's) commits without waiting for this one to finish.
            with db.engine.connect() as other:
                other.execute(text("SET lock_timeout = '2s'"))
                other.execute(text("UPDATE responses SET status = 'submitted' WHERE id = :id"), {"id": cedar})
                other.commit()
            moved = _token()
            assert moved != before
            before = moved
        writer.commit()
    assert _token() != before
