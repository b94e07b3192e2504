"""Mail over a real SMTP server on loopback, for the test folders that send (chasing, jobs, the browser).

Conftests and test modules take the fixtures by importing them (``from tests.loopback import mailbox as
mailbox, smtp_port as smtp_port``) and build their app settings with ``mail_settings``.
"""

from __future__ import annotations

import pytest

from tests.chasing.helpers import free_port, serving_mailbox


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def mailbox(smtp_port):
    with serving_mailbox(smtp_port) as handler:
        yield handler


def mail_settings(port: int) -> dict:
    """The app sends through the loopback server on ``port``, retrying without waiting."""
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_SECURITY": "none",
        "SMTP_TIMEOUT": 5,
        "REMINDER_BACKOFF_SECONDS": 0,
    }
