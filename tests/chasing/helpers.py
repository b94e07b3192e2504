"""Building a small cycle whose tracker figures are known, and a mailbox for a real SMTP server on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import select

from surveyapp.audits.models import Assignment, Response, ResponseStatus, SectionProgress, SectionState
from surveyapp.audits.services import recount_sections
from surveyapp.extensions import db


def response_of(cycle, establishment=None, trust=None) -> Response:
    column = Assignment.establishment_id if establishment is not None else Assignment.trust_id
    target = establishment if establishment is not None else trust
    return db.session.scalar(
        select(Response).join(Assignment).where(Assignment.cycle_id == cycle.id, column == target.id)
    )


def set_status(
    cycle,
    status: ResponseStatus,
    *,
    establishment=None,
    trust=None,
    done: tuple[str, ...] = (),
    submitted_at: datetime | None = None,
    updated_at: datetime | None = None,
) -> Response:
    """Put a response straight into a status, with some sections completed."""
    response = response_of(cycle, establishment, trust)
    response.status = status
    response.updated_at = updated_at or datetime(2026, 11, 1, 10, tzinfo=UTC)
    if status in (ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED):
        response.submitted_at = submitted_at or datetime(2026, 11, 2, 10, tzinfo=UTC)
    for key in done:
        db.session.add(SectionProgress(response_id=response.id, section_key=key, state=SectionState.COMPLETED))
    db.session.flush()
    recount_sections([response.id])
    return response


def free_port() -> int:
    """aiosmtpd's Controller cannot take port 0: ask the system for a free port first."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that records messages, and can refuse the first ``refuse`` of them with 451
    (or every one, permanently, with 550)."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse = 0
        self.permanent = False
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.permanent:
            return "550 mailbox unavailable"
        if self.refuse > 0:
            self.refuse -= 1
            return "451 try later"
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    @property
    def recipients(self) -> list[str]:
        return sorted(address for rcpts, _content in self.messages for address in rcpts)

    def parsed(self):
        import email
        from email import policy

        return [email.message_from_bytes(content, policy=policy.default) for _rcpts, content in self.messages]


@contextmanager
def serving_mailbox(port: int) -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1:port for the length of the block, recording what it receives."""
    from aiosmtpd.controller import Controller

    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()
