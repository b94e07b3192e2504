"""A county of establishments not yet started, each with a DSL; a real SMTP server on loopback; a queue of the
test's own on the real Redis (tests that use it say so with the ``queued`` fixture)."""

from __future__ import annotations

import pytest

from surveyapp.extensions import db
from tests.jobs.helpers import queue_name as queue_name
from tests.loopback import mail_settings, mailbox as mailbox, smtp_port as smtp_port

#: this establishment's name looks like a spreadsheet formula: every download must keep it as text
FORMULA_NAME = '=HYPERLINK("http://example.com/x","Click")'


@pytest.fixture
def mail_config(smtp_port):
    return mail_settings(smtp_port)


@pytest.fixture
def app_config(mail_config):
    """Without a queue: jobs run in the request that starts them."""
    return {**mail_config, "REDIS_URL": None}


@pytest.fixture
def shire(make):
    """Eight establishments in one cycle, none started, each with its own DSL; the lead, two board viewers."""
    schools = [make.establishment(name=FORMULA_NAME if n == 0 else f"School {n}", urn=f"70000{n}") for n in range(8)]
    dsls = [make.dsl(school, email=f"dsl@{school.urn}.example.org", name=f"DSL {school.urn}") for school in schools]
    lead = make.lead(email="lead@example.org")
    board = make.board(email="board@example.org")
    other_board = make.board(email="other.board@example.org")
    cycle = make.cycle()
    db.session.commit()
    return {
        "cycle": cycle,
        "schools": schools,
        "dsls": dsls,
        "lead": lead,
        "board": board,
        "other_board": other_board,
        "addresses": sorted(dsl.email for dsl in dsls),
    }
