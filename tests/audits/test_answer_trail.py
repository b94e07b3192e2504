"""The trail of changes: every saved answer records its value before and after, who changed it and when."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits.models import Assignment, Response
from surveyapp.extensions import db


def _response_of(establishment) -> Response:
    return db.session.scalar(select(Response).join(Assignment).where(Assignment.establishment_id == establishment.id))


def test_the_lead_finds_who_changed_an_answer_from_no_to_yes(client, make, sign_in):
    school = make.establishment(name="Ash Primary", urn="100001")
    first = make.dsl(school, name="Dee First", email="dee.first@example.org")
    second = make.dsl(school, deputy=True, name="Sam Second", email="sam.second@example.org")
    lead = make.lead()
    cycle = make.cycle()
    response = _response_of(school)
    other = client.application.test_client()

    sign_in(first)
    client.post(
        f"/audits/{response.id}/sections/prevent",
        data={"version": "0", "prevent_wrap": "no", "prevent_trained_pct": "95", "prevent_sef": "yes"},
    )
    sign_in(second, test_client=other)
    other.post(
        f"/audits/{response.id}/sections/prevent",
        data={"version": "1", "prevent_wrap": "yes", "prevent_trained_pct": "95", "prevent_sef": "yes"},
    )

    saves = db.session.scalars(
        select(ActivityRecord).where(ActivityRecord.action == "answers.saved").order_by(ActivityRecord.id)
    ).all()
    assert [r.actor_id for r in saves] == [first.id, second.id]
    assert {"question": "prevent_wrap", "before": "No", "after": "Yes"} in saves[1].detail["changes"]
    # An answer the save did not change is not in its trail.
    assert all(change["question"] != "prevent_trained_pct" for change in saves[1].detail["changes"])
    assert {"question": "prevent_wrap", "before": "", "after": "No"} in saves[0].detail["changes"]

    lead_client = client.application.test_client()
    sign_in(lead, test_client=lead_client)
    response_page = lead_client.get(f"/cycles/{cycle.slug}/responses/{response.id}").get_data(as_text=True)
    link = f"/activity?cycle={cycle.slug}&amp;urn=100001&amp;question=prevent_wrap"
    assert link in response_page
    page = lead_client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "sam.second@example.org" in page and "prevent_wrap: No → Yes" in page
    assert "2 entries" in page  # both saves that changed it, and nothing else
    # The same from the cycle's activity export.
    exported = lead_client.get(f"/activity.csv?cycle={cycle.slug}&question=prevent_wrap").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert [(r["Actor email"], "prevent_wrap: No → Yes" in r["Detail"]) for r in rows] == [
        ("dee.first@example.org", False),
        ("sam.second@example.org", True),
    ]

    # A planned action is part of the trail too.
    client.post(
        f"/audits/{response.id}/sections/policies",
        data={
            "version": "0",
            "policy_current": "no",
            "policy_review_date-day": "1",
            "policy_review_date-month": "6",
            "policy_review_date-year": "2026",
            "policy_current__action": "Rewrite the policy",
            "policy_current__owner": "Dee",
            "policy_current__target-day": "1",
            "policy_current__target-month": "2",
            "policy_current__target-year": "2027",
        },
    )
    exported = lead_client.get(f"/activity.csv?cycle={cycle.slug}&question=policy_current").get_data(as_text=True)
    (row,) = csv.DictReader(io.StringIO(exported.lstrip("\ufeff")))
    assert "policy_current: (blank) → No" in row["Detail"]
    assert "policy_current (action planned): (blank) → Rewrite the policy, Dee, 2027-02-01" in row["Detail"]


def test_the_question_filter_takes_the_key_literally(client, make, sign_in):
    school = make.establishment(urn="100001")
    dsl = make.dsl(school)
    lead = make.lead()
    make.cycle()
    response = _response_of(school)
    sign_in(dsl)
    client.post(f"/audits/{response.id}/sections/prevent", data={"version": "0", "prevent_wrap": "yes"})
    lead_client = client.application.test_client()
    sign_in(lead, test_client=lead_client)
    # "_" is a LIKE wildcard: "prevent_wra_" must not match "prevent_wrap".
    assert "0 entries" in lead_client.get("/activity?question=prevent_wra_").get_data(as_text=True)
    assert "1 entries" in lead_client.get("/activity?question=prevent_wrap").get_data(as_text=True)
