"""What a job's work looks like, and the registry of each kind's work.

Each area writes the work of its own kinds (chasing/jobs.py sends reminders; exports/jobs.py,
reports/jobs.py and activity_log/jobs.py write files; establishments/jobs.py applies confirmed imports) and
registers it with ``@does(kind)``; create_app imports them, so a worker has them too. The jobs area itself
imports none of them. The same functions run in a worker and, without a queue, in the request.

Each takes the job, a ``progress(done, total, message)`` callable and a ``checkpoint()`` that makes the work
so far durable, and returns an Outcome. Each can run again after a lost run: reminders already sent are not
sent again, a file is simply written again, and an import that landed is not applied twice.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from surveyapp.jobs.models import Job, JobKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Outcome:
    summary: str
    file_name: str = ""
    file_type: str = ""
    #: the file written, open and ready to read from its start (a temporary file: the runner keeps it, then closes it)
    file: IO[bytes] | None = None


class WorkError(RuntimeError):
    """The work cannot be done; the message is shown on the job's page."""


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'s' if count != 1 else ''}"


def written_file(write) -> IO[bytes]:
    """Write to a temporary file (xlsxwriter and WeasyPrint want one) and hand it back, open: the runner keeps
    it in the database piece by piece, so the file is never held whole in memory."""
    handle = tempfile.TemporaryFile()
    try:
        write(handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle


#: the work of each kind of job, filled by ``does`` as the areas' job modules are imported
WORK: dict[JobKind, Callable[[Job, Any, Callable[[], None]], Outcome]] = {}


def does(kind: JobKind):
    """Register a function as the work of one kind of job."""

    def register(work: Callable[[Job, Any, Callable[[], None]], Outcome]):
        WORK[kind] = work
        return work

    return register
