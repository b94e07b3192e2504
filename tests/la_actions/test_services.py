"""The LA's action plan services: listing in plan order, summaries, stale edits, findings from the analysis."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits.models import Assignment
from surveyapp.extensions import db
from surveyapp.la_actions import services
from surveyapp.la_actions.models import LaActionStatus
from tests.exports import cycle_data
from tests.exports.cycle_data import _answer


def _add(user, reference, area="Training", **values):
    fields = {"action": f"Do {reference}", "status": "in_progress", "rag": "amber"}
    fields.update(values)
    return services.create_action(db.session, user, reference=reference, area=area, **fields)


def test_the_plan_lists_in_the_councils_area_order_and_counts_what_is_overdue(make):
    lead = make.lead()
    _add(lead, "TR 02", target_date=date(2026, 10, 1))
    _add(lead, "TR 01", target_date=date(2026, 10, 1), status="complete", rag="green")
    _add(
        lead,
        "ST 01",
        area="Strategy",
        target_date=date(2027, 3, 1),
        objective_1=True,
        objective_2=True,
        objective_3=True,
    )
    _add(lead, "CH 01", area="Children missing education", target_date=date(2026, 11, 1), rag="red")
    db.session.commit()

    assert [a.reference for a in services.list_actions(db.session)] == ["ST 01", "TR 01", "TR 02", "CH 01"]
    assert [a.reference for a in services.overdue_actions(db.session, date(2026, 11, 30))] == ["TR 02", "CH 01"]
    assert services.list_actions(db.session)[0].objectives_text == "1, 2 & 3"

    plan = services.summary(db.session, date(2026, 11, 30))
    assert (plan.total, plan.open, plan.overdue, plan.complete) == (4, 3, 2, 1)
    assert [(a.area, a.total, a.overdue, a.complete) for a in plan.by_area] == [
        ("Strategy", 1, 0, 0),
        ("Training", 2, 1, 1),
        ("Children missing education", 1, 1, 0),
    ]
    assert services.summary_by_rag(db.session) == {"red": 1, "amber": 2, "green": 1}
    assert services.summary_by_status(db.session) == {"not_started": 0, "in_progress": 3, "ongoing": 0, "complete": 1}
    assert services.areas(db.session)[-1] == "Children missing education"


def test_a_stale_edit_is_refused_and_every_change_is_in_the_activity_log(make):
    lead, other = make.lead(), make.lead()
    action = _add(lead, "TR 01")
    db.session.commit()
    services.update_action(db.session, action, expected_version=1, user=other, rag="red", status="in_progress")
    db.session.commit()
    with pytest.raises(services.StaleLaAction) as refused:
        services.update_action(db.session, action, expected_version=1, user=lead, rag="green", status="complete")
    db.session.rollback()
    assert (refused.value.current.rag.value, refused.value.current.version) == ("red", 2)
    with pytest.raises(services.DuplicateReference):
        _add(lead, "TR 01")
    db.session.rollback()
    services.add_update(db.session, action, lead, written_on=date(2026, 10, 31), text="Oct update: 85% trained")
    db.session.commit()
    log = db.session.scalars(select(ActivityRecord).order_by(ActivityRecord.id)).all()
    assert [(r.action, r.actor_id) for r in log] == [
        ("la_action.created", lead.id),
        ("la_action.updated", other.id),
        ("la_action.progress_added", lead.id),
    ]
    assert log[1].detail["changed"] == ["rag"]
    assert db.session.get(type(action), action.id).status is LaActionStatus.IN_PROGRESS


def test_an_action_from_a_finding_lists_who_is_behind_it_and_measures_it_in_the_next_cycle(make):
    built = cycle_data.build(make)
    lead = make.lead()
    first = services.question_gaps(db.session, built["cycle"], "policy_review_date")
    assert (first.gaps, first.in_scope) == (1, 5)
    assert first.establishments["urn"].tolist() == ["200003"]
    assert first.sentence.startswith("1 establishment did not fully meet “When was the policy last reviewed?”")
    findings = services.findings_for_cycle(db.session, built["cycle"])
    assert {f.question_key for f in findings} == {
        "policy_current",
        "policy_review_date",
        "prevent_wrap",
        "prevent_trained_pct",
        "prevent_sef",
    }

    action = _add(
        lead,
        "PP 01",
        area="Policy and practice",
        finding_cycle=built["cycle"],
        finding_question_key="policy_review_date",
    )
    db.session.commit()
    finding = services.finding_for(db.session, action)
    assert finding.baseline.gaps == 1 and finding.next is None

    later = make.cycle(
        slug="2027-28", template=built["cycle"].template, due_on=date(2028, 3, 31), opens_on=date(2027, 9, 1)
    )
    responses = {
        a.establishment_id: a.response
        for a in db.session.scalars(select(Assignment).where(Assignment.cycle_id == later.id))
    }
    _answer(responses[built["good"].id], policy_review_date="2025-01-01")
    _answer(responses[built["quiet"].id], policy_review_date="2024-01-01")
    _answer(responses[built["formula"].id], policy_review_date="2027-06-01")
    db.session.commit()
    finding = services.finding_for(db.session, action)
    assert finding.baseline.gaps == 1
    assert (finding.next.cycle.slug, finding.next.gaps) == ("2027-28", 2)
    assert sorted(finding.next.establishments["urn"]) == ["200004", "200005"]
