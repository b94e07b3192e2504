"""A small county whose tracker figures are known, and a real SMTP server on loopback."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from surveyapp.audits.models import ResponseStatus
from surveyapp.extensions import db
from tests.chasing.helpers import set_status
from tests.loopback import mail_settings, mailbox as mailbox, smtp_port as smtp_port

# The access table's world, for test_access.py: imported here (the redundant alias marks it as meant) so pytest
# offers the fixture to this folder, where tests name it as an argument.
from tests.security.conftest import world as world


@pytest.fixture
def county(make):
    """A small known cycle: 6 establishments, a trust answering for two academies.

    - Oak Academy, Elm Academy: in Acorn Trust, whose submitted return covers both (Elm also in progress itself)
    - Ash Primary: submitted its own return
    - Birch Secondary: in progress, 1 of 2 sections
    - Cedar Primary: returned for amendment
    - Fir Nursery: not started, no DSL contact
    """
    trust = make.trust(name="Acorn Trust", uid="T100")
    other = make.trust(name="Beech Trust", uid="T200")
    oak = make.establishment(
        name="Oak Academy", urn="200001", trust=trust, type_name="Academy converter", district="East"
    )
    elm = make.establishment(
        name="Elm Academy", urn="200002", trust=trust, phase="Secondary", type_name="Academy converter", district="East"
    )
    ash = make.establishment(name="Ash Primary", urn="200003", district="West")
    birch = make.establishment(name="Birch Secondary", urn="200004", phase="Secondary", district="West", trust=other)
    cedar = make.establishment(name="Cedar Primary", urn="200005")
    fir = make.establishment(name="Fir Nursery", urn="200006", phase="Nursery")
    for school in (oak, elm, ash, birch, cedar):
        make.dsl(school, email=f"dsl@{school.urn}.example.org", name=f"DSL of {school.name}")
    lead = make.lead()
    cycle = make.cycle(opens_on=date(2026, 9, 1), due_on=date(2027, 3, 31))
    set_status(cycle, ResponseStatus.SUBMITTED, trust=trust, submitted_at=datetime(2026, 10, 5, tzinfo=UTC))
    set_status(cycle, ResponseStatus.IN_PROGRESS, establishment=elm, done=("policies",))
    set_status(
        cycle,
        ResponseStatus.SUBMITTED,
        establishment=ash,
        done=("policies", "prevent"),
        submitted_at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    set_status(
        cycle,
        ResponseStatus.IN_PROGRESS,
        establishment=birch,
        done=("prevent",),
        updated_at=datetime(2026, 11, 15, tzinfo=UTC),
    )
    set_status(cycle, ResponseStatus.RETURNED, establishment=cedar)
    db.session.commit()
    return {
        "cycle": cycle,
        "trust": trust,
        "other": other,
        "lead": lead,
        "oak": oak,
        "elm": elm,
        "ash": ash,
        "birch": birch,
        "cedar": cedar,
        "fir": fir,
    }


@pytest.fixture
def app_config(smtp_port):
    """Every app in this folder sends through the loopback server, retrying without waiting."""
    return mail_settings(smtp_port)
