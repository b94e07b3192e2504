"""A GIAS re-import during an open cycle: one school opens, one closes, one academy changes trust."""

from __future__ import annotations

import io
from datetime import date
from html import unescape

import pytest
from sqlalchemy import func, select

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits.models import Assignment, Response, ResponseStatus, TrustCoverage
from surveyapp.audits.services import cycle_by_slug, status_counts
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db
from tests.establishments.gias_files import gias_row, to_csv


@pytest.fixture
def register(make):
    """Before: Ash (open), Birch (open, to close), Oak Academy in trust 5001; a 2026-27 cycle open for all."""
    north = make.trust(name="Northern Trust", uid="5001")
    make.trust(name="Southern Trust", uid="5002")
    make.establishment(urn="100001", name="Ash Primary")
    make.establishment(urn="100002", name="Birch Primary")
    make.establishment(urn="100003", name="Oak Academy", trust=north)
    make.establishment(urn="100004", name="Pine Academy", trust=make.trust(name="Southern Trust 2", uid="5003"))
    db.session.commit()
    cycle = make.cycle()
    db.session.commit()
    return cycle


def _reimport() -> bytes:
    """After: Ash unchanged; Birch closed on 31 December 2026; Oak moved to trust 5002; Cedar opened."""
    return to_csv(
        [
            gias_row("100001", "Ash Primary"),
            gias_row("100002", "Birch Primary", status="Closed", closed="31-12-2026"),
            gias_row(
                "100003", "Oak Academy", type_name="Academy converter", trust_uid="5002", trust_name="Southern Trust"
            ),
            gias_row(
                "100004", "Pine Academy", type_name="Academy converter", trust_uid="5003", trust_name="Southern Trust 2"
            ),
            gias_row("100005", "Cedar Primary", opened="01-01-2027"),
        ]
    )


def _assignment(cycle, urn: str) -> Assignment:
    return db.session.scalar(
        select(Assignment)
        .join(Establishment, Establishment.id == Assignment.establishment_id)
        .where(Assignment.cycle_id == cycle.id, Establishment.urn == urn)
    )


def _coverers(cycle, urn: str) -> list[str]:
    return db.session.scalars(
        select(Trust.uid)
        .join(Assignment, Assignment.trust_id == Trust.id)
        .join(Response, Response.assignment_id == Assignment.id)
        .join(TrustCoverage, TrustCoverage.response_id == Response.id)
        .join(Establishment, Establishment.id == TrustCoverage.establishment_id)
        .where(Assignment.cycle_id == cycle.id, Establishment.urn == urn)
    ).all()


def _check_after(cycle) -> None:
    db.session.expire_all()
    cedar = _assignment(cycle, "100005")
    assert cedar is not None and cedar.response.status is ResponseStatus.NOT_STARTED
    birch = _assignment(cycle, "100002")
    assert birch.left_on == date(2026, 12, 31) and birch.response is not None  # its work is kept
    assert _coverers(cycle, "100003") == ["5002"]
    # Birch closed on 31 December: while the cycle runs after that, it is out of the denominator.
    counts = status_counts(cycle_by_slug(cycle.slug))
    assert counts["in_scope"] == 4  # Ash, Oak, Pine, Cedar
    actions = {r.action for r in db.session.scalars(select(ActivityRecord))}
    assert {"cycle.establishment_joined", "cycle.establishment_left", "cycle.trust_cover_moved"} <= actions


def test_the_web_reimport_previews_then_applies_the_changes_to_running_cycles(
    client, make, sign_in, register, app, tmp_path, monkeypatch
):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    monkeypatch.setattr("surveyapp.timeutil.today", lambda: date(2027, 2, 1))
    lead = make.lead()
    db.session.commit()
    sign_in(lead)
    uploaded = client.post(
        "/establishments/import/establishments",
        data={"file": (io.BytesIO(_reimport()), "edubasealldata.csv")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    preview = unescape(client.get(uploaded.headers["Location"]).get_data(as_text=True))
    assert "What this changes in running audit cycles" in preview
    assert "1 establishment joins the cycle" in preview and "Cedar Primary (100005)" in preview
    assert "Birch Primary (100002, from 31 December 2026)" in preview
    assert "Oak Academy (100003) from Northern Trust to Southern Trust" in preview
    # The preview changed nothing.
    db.session.expire_all()
    assert _assignment(register, "100005") is None and _assignment(register, "100002").left_on is None
    assert _coverers(register, "100003") == ["5001"]

    confirmed = client.post(uploaded.headers["Location"])
    assert confirmed.status_code == 302
    _check_after(register)
    tracker = unescape(client.get(f"/cycles/{register.slug}/").get_data(as_text=True))
    assert "Cedar Primary" in tracker


def test_the_cli_reimport_dry_run_then_applies(runner, register, tmp_path, monkeypatch):
    monkeypatch.setattr("surveyapp.timeutil.today", lambda: date(2027, 2, 1))
    path = tmp_path / "gias.csv"
    path.write_bytes(_reimport())
    dry = runner.invoke(args=["establishments", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "joins: 100005 Cedar Primary" in dry.output and "(would)" in dry.output
    assert "leaves the counts from 2026-12-31 (closed): 100002 Birch Primary" in dry.output
    assert "moves from Northern Trust to Southern Trust: 100003 Oak Academy" in dry.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Establishment)) == 4
    done = runner.invoke(args=["establishments", "import", str(path)])
    assert done.exit_code == 0, done.output
    _check_after(register)


def test_a_closed_cycle_is_left_as_it_was(runner, register, tmp_path):
    from surveyapp.audits.models import CycleState

    register.state = CycleState.CLOSED
    db.session.commit()
    path = tmp_path / "gias.csv"
    path.write_bytes(_reimport())
    assert runner.invoke(args=["establishments", "import", str(path)]).exit_code == 0
    db.session.expire_all()
    assert _assignment(register, "100005") is None
    assert _assignment(register, "100002").left_on is None
    assert _coverers(register, "100003") == ["5001"]
