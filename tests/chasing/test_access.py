"""Who may reach the tracker and chasing routes, in the shape of tests/security/test_access_matrix.py.

The rows in ``CHASING_CASES`` are the ones to add to that table's ``_cases``.
"""

from __future__ import annotations

import pytest

from tests.security.test_access_matrix import LEAD_ONLY, OK, OWN_TRUST, READERS, ROLES, _clients


def chasing_cases(world):
    cycle = world["cycle_slug"]
    return [
        ("chasing.show_tracker", "GET", f"/cycles/{cycle}/tracker", READERS),
        ("chasing.show_breakdown", "GET", f"/cycles/{cycle}/tracker/by-trust", READERS),
        (
            "chasing.show_trust_tracker",
            "GET",
            f"/trusts/{world['trust_uid']}/cycles/{cycle}/tracker",
            {**OWN_TRUST, "board": OK, "lead": OK},
        ),
        ("chasing.preview_reminders", "POST", f"/cycles/{cycle}/reminders/preview", LEAD_ONLY),
        ("chasing.send_reminders", "POST", f"/cycles/{cycle}/reminders/send", LEAD_ONLY),
        ("chasing.show_chase_history", "GET", f"/cycles/{cycle}/establishments/{world['urn_a']}/reminders", READERS),
        ("chasing.export_non_responders", "GET", f"/cycles/{cycle}/non-responders.xlsx", LEAD_ONLY),
        ("chasing.edit_schedule", "GET", f"/cycles/{cycle}/reminders/schedule", LEAD_ONLY),
        ("chasing.list_outbox", "GET", "/outbox", LEAD_ONLY),
        ("chasing.show_trust_responses", "GET", f"/cycles/{cycle}/tracker/trusts", READERS),
        ("chasing.preview_trust_reminders", "POST", f"/cycles/{cycle}/trust-reminders/preview", LEAD_ONLY),
        ("chasing.send_trust_reminders", "POST", f"/cycles/{cycle}/trust-reminders/send", LEAD_ONLY),
        ("chasing.show_trust_chase_history", "GET", f"/cycles/{cycle}/trusts/{world['trust_uid']}/reminders", READERS),
    ]


@pytest.fixture
def app_config():
    return {"SMTP_HOST": None}


def test_every_chasing_route_is_covered(app, world):
    listed = {endpoint for endpoint, *_ in chasing_cases(world)}
    assert listed == {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("chasing.")}


def test_every_role_gets_exactly_its_access_to_chasing(app, world):
    clients = _clients(app, world)
    failures = []
    for _endpoint, method, url, expected in chasing_cases(world):
        for role in ROLES:
            response = clients[role].get(url) if method == "GET" else clients[role].post(url, data={})
            want, got = expected[role], response.status_code
            if want == OK:
                if got in (401, 403, 404, 405, 500) or (
                    got == 302 and "/sign-in" in response.headers.get("Location", "")
                ):
                    failures.append(f"{role} {method} {url}: expected access, got {got}")
            elif got != want:
                failures.append(f"{role} {method} {url}: expected {want}, got {got}")
    assert not failures, "\n".join(failures)
