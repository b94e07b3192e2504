"""Two editors saving the same section at the same moment: exactly one wins, the other keeps their input.

Each round, the DSL and the deputy both hold the page at the same version and post together
(a barrier releases both threads at once, each with its own signed-in client and its own
database session). The database must move on by exactly one version with the winner's answers,
and the loser must see a 409 with their own words still in the form and the reason.
"""

from __future__ import annotations

import os
import threading

from tests.factories import Factory
from tests.faults.support import school_in_cycle, section_version, signed_in, stored_answers

ROUNDS = int(os.environ.get("RACE_ROUNDS", 100))


def _form(version: int, note: str) -> dict[str, str]:
    return {
        "version": str(version),
        "policy_current": "yes",
        "policy_review_date-day": "1",
        "policy_review_date-month": "6",
        "policy_review_date-year": "2026",
        "policy_notes": note,
    }


def test_two_editors_racing_on_one_section_one_wins_each_round(app, make):
    school = school_in_cycle(make)
    editors = {
        "dsl": signed_in(app, school.dsl, Factory.PASSWORD),
        "deputy": signed_in(app, school.deputy, Factory.PASSWORD),
    }
    url = f"/audits/{school.response_id}/sections/policies"
    barrier = threading.Barrier(2)
    for client in editors.values():  # both have the page open; each round's form carries the version it showed
        assert client.get(url).status_code == 200

    for round_number in range(ROUNDS):
        version = section_version(school.response_id, "policies")
        assert version == round_number  # advanced by exactly one per round
        notes = {who: f"{who} round {round_number} <b>&</b>" for who in editors}
        replies: dict[str, object] = {}
        failures: list[BaseException] = []

        def save(who: str, version: int, notes: dict, replies: dict, failures: list) -> None:
            try:
                barrier.wait(timeout=30)
                replies[who] = editors[who].post(url, data=_form(version, notes[who]))
            except BaseException as exc:  # noqa: BLE001 - reported in the main thread
                failures.append(exc)
                barrier.abort()

        threads = [threading.Thread(target=save, args=(who, version, notes, replies, failures)) for who in editors]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not failures, failures
        statuses = sorted(reply.status_code for reply in replies.values())
        assert statuses == [302, 409], (round_number, statuses)

        winner = next(who for who, reply in replies.items() if reply.status_code == 302)
        loser = next(who for who, reply in replies.items() if reply.status_code == 409)
        page = replies[loser].get_data(as_text=True)
        assert "Your changes have not been saved" in page
        assert "database is locked" not in page
        # Their own words are still in the form, escaped, ready to save again.
        assert f"{loser} round {round_number} &lt;b&gt;&amp;&lt;/b&gt;" in page
        assert f'name="version" value="{round_number + 1}"' in page  # saving again now would be up to date
        assert stored_answers(school.response_id)["policy_notes"] == notes[winner]

    assert section_version(school.response_id, "policies") == ROUNDS
