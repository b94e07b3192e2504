"""Sending email: real SMTP when configured, otherwise an outbox folder (the demo).

Nothing is ever dropped: without SMTP_HOST every message is written to the
outbox as an .eml file that the lead can read in the browser.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait as futures_wait
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path


class MailError(Exception):
    """The message could not be handed to the mail server."""


@dataclass(frozen=True)
class MailSettings:
    host: str | None
    port: int
    username: str | None
    password: str | None
    security: str
    sender: str
    outbox: str
    timeout: int = 20

    @classmethod
    def from_config(cls, config) -> MailSettings:
        return cls(
            host=config["SMTP_HOST"],
            port=config["SMTP_PORT"],
            username=config["SMTP_USERNAME"],
            password=config["SMTP_PASSWORD"],
            security=config["SMTP_SECURITY"],
            sender=config["MAIL_FROM"],
            outbox=config["MAIL_OUTBOX"],
            timeout=config["SMTP_TIMEOUT"],
        )


def build_message(settings: MailSettings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="surveyapp")
    message.set_content(body)
    return message


def send(settings: MailSettings, to: str, subject: str, body: str) -> str:
    """Send one plain-text message; return its Message-ID. Raises MailError on failure."""
    try:
        message = build_message(settings, to, subject, body)
    except ValueError as exc:  # e.g. a line break in the subject: refused by the email package
        raise MailError(f"The message to {to} could not be built: {exc}") from exc
    if not settings.host:
        _write_to_outbox(settings.outbox, message)
        return message["Message-ID"]
    try:
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"Could not send to {to}: {exc}") from exc
    return message["Message-ID"]


def _write_to_outbox(outbox: str, message: EmailMessage) -> Path:
    folder = Path(outbox)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.eml"
    path.write_bytes(bytes(message))
    return path


_sender: ThreadPoolExecutor | None = None
_pending: set[Future] = set()
_pending_lock = threading.Lock()


def hand_off(job: Callable[[], object]) -> Future:
    """Run ``job`` (a send, or nothing) on the background sender; the request does not wait for it.

    Used where how long a page takes must not depend on whether an email goes out
    (forgot-password: otherwise timing tells which addresses have accounts). Failures are logged.
    """
    global _sender
    with _pending_lock:
        if _sender is None:
            _sender = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail")
        future = _sender.submit(_logged, job)
        _pending.add(future)
    future.add_done_callback(_forget)
    return future


def _logged(job: Callable[[], object]) -> object:
    try:
        return job()
    except MailError:
        logging.getLogger("surveyapp.mail").exception("an email handed off could not be sent")
        return None


def _forget(future: Future) -> None:
    with _pending_lock:
        _pending.discard(future)


def wait_for_sending(timeout: float = 30) -> None:
    """Wait until every handed-off email has been sent (used by the CLI at exit, and tests)."""
    with _pending_lock:
        pending = list(_pending)
    futures_wait(pending, timeout=timeout)
