"""The lead's accept and return of one response, posted at the same moment: exactly one wins.

The review sent eight simultaneous lead POSTs (four accept, four return) and all eight
succeeded: "accepted" four times, "returned" four times, four emails. Each thread here has
its own signed-in client (and so its own database session); a barrier releases them together.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from surveyapp.audits.models import Assignment, Response, ResponseStatus, StatusEvent
from surveyapp.extensions import db
from tests.conftest import outbox_messages
from tests.factories import Factory
from tests.faults.support import signed_in

ROUNDS = 3


def test_simultaneous_accepts_and_returns_have_exactly_one_winner(app, make):
    lead = make.lead()
    school = make.establishment(name="Hill Primary")
    make.dsl(school, email="dsl@hill.example.org")
    cycle = make.cycle()
    response_id = db.session.scalar(
        select(Response.id).join(Assignment).where(Assignment.establishment_id == school.id)
    )
    db.session.commit()
    clients = [signed_in(app, lead, Factory.PASSWORD) for _ in range(8)]
    base = f"/cycles/{cycle.slug}/responses/{response_id}"

    for round_number in range(ROUNDS):
        db.session.rollback()
        db.session.get(Response, response_id).status = ResponseStatus.SUBMITTED
        db.session.commit()
        events_before = db.session.scalar(select(func.count()).select_from(StatusEvent))
        mails_before = len(outbox_messages(app))
        barrier = threading.Barrier(len(clients))
        replies: dict[int, object] = {}
        failures: list[BaseException] = []

        def press(index: int, barrier: threading.Barrier, replies: dict, failures: list) -> None:
            client = clients[index]
            try:
                barrier.wait(timeout=30)
                if index % 2:
                    replies[index] = client.post(f"{base}/accept", data={"seen": "submitted"})
                else:
                    replies[index] = client.post(
                        f"{base}/return", data={"seen": "submitted", "comment": f"Fix it ({index})"}
                    )
            except BaseException as exc:  # noqa: BLE001 - reported in the main thread
                failures.append(exc)
                barrier.abort()

        threads = [threading.Thread(target=press, args=(i, barrier, replies, failures)) for i in range(len(clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not failures, failures
        assert all(reply.status_code == 302 for reply in replies.values())

        db.session.rollback()
        events = db.session.scalars(
            select(StatusEvent)
            .where(StatusEvent.response_id == response_id)
            .order_by(StatusEvent.id)
            .offset(events_before)
        ).all()
        assert len(events) == 1, (round_number, [e.to_status for e in events])
        final = db.session.get(Response, response_id).status
        assert final is events[0].to_status
        assert len(outbox_messages(app)) - mails_before == (1 if final is ResponseStatus.RETURNED else 0)

        # Every loser is told why, on the next page they see.
        told = 0
        for client in clients:
            page = client.get(f"{base}").get_data(as_text=True)
            if "someone else changed this audit at the same moment" in page:
                told += 1
        assert told == len(clients) - 1, round_number


def test_an_accept_from_a_page_that_showed_an_older_status_changes_nothing(client, make, sign_in):
    lead = make.lead()
    school = make.establishment()
    make.dsl(school)
    cycle = make.cycle()
    response = db.session.scalar(select(Response).join(Assignment).where(Assignment.establishment_id == school.id))
    response.status = ResponseStatus.ACCEPTED  # accepted by someone else after this lead's page loaded
    db.session.commit()
    sign_in(lead)
    reply = client.post(
        f"/cycles/{cycle.slug}/responses/{response.id}/return",
        data={"seen": "submitted", "comment": "Add the date"},
        follow_redirects=True,
    )
    assert "someone else changed this audit" in reply.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Response, response.id).status is ResponseStatus.ACCEPTED
