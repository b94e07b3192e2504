"""Sign-in throttling keys on the real client: X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

from tests.conftest import make_app


def _attempts(client, n: int, forwarded_for: str, remote: str = "10.0.0.5"):
    return [
        client.post(
            "/sign-in",
            data={"email": f"nobody{i}@example.org", "password": "wrong password here"},
            environ_base={"REMOTE_ADDR": remote},
            headers={"X-Forwarded-For": forwarded_for},
        ).status_code
        for i in range(n)
    ]


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_limit(app, client):
    """A client cannot pick a fresh address per attempt by sending its own X-Forwarded-For."""
    codes = [
        client.post(
            "/sign-in",
            data={"email": f"n{i}@example.org", "password": "wrong password here"},
            environ_base={"REMOTE_ADDR": "198.51.100.20"},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        ).status_code
        for i in range(11)
    ]
    assert codes[:10] == [200] * 10 and codes[10] == 429


def test_behind_one_trusted_proxy_each_client_has_its_own_limit(app, tmp_path):  # app: its teardown empties the tables
    """The review's finding: behind the recommended proxy every user shared the proxy's one address."""
    app = make_app(TRUSTED_PROXY_COUNT=1, MAIL_OUTBOX=str(tmp_path / "outbox"))
    with app.app_context():
        client = app.test_client()
        assert _attempts(client, 10, "203.0.113.7") == [200] * 10
        assert _attempts(client, 1, "203.0.113.7") == [429]
        # Another person behind the same proxy is not throttled by the first one's attempts.
        assert _attempts(client, 1, "203.0.113.8") == [200]
        # A client that prepends a forged address is still known by the one the proxy saw.
        assert _attempts(client, 1, "192.0.2.1, 203.0.113.7") == [429]
        page = client.get(
            "/sign-in",
            environ_base={"REMOTE_ADDR": "10.0.0.5"},
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        )
        assert page.status_code == 200


def test_a_negative_proxy_count_is_refused(_schema):
    import pytest

    from surveyapp.config import ConfigError

    with pytest.raises(ConfigError):
        make_app(TRUSTED_PROXY_COUNT=-1)
