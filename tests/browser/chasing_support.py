"""Chasing in a real browser: the app sends through a real SMTP server on loopback, with CSRF on.

Test modules take the fixtures by importing them (``from tests.browser.chasing_support import mailbox as
mailbox``, and likewise ``app_config`` and ``smtp_port``).
"""

from __future__ import annotations

import pytest

from tests.loopback import mail_settings, mailbox as mailbox, smtp_port as smtp_port


@pytest.fixture
def app_config(smtp_port):
    # CSRF stays on, as in every browser test; mail goes to a real SMTP server on loopback.
    return {"WTF_CSRF_ENABLED": True, **mail_settings(smtp_port)}
