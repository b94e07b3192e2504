"""The activity log as CSV or xlsx, one row per record, streamed from the database (no Flask).

Rows come from a server-side cursor in batches and go straight to the file, so memory
stays flat however long the log. Every text a user could have typed (names, emails, file
names, comments in the detail) goes through surveyapp.safe_cells, so nothing is read as
a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import xlsxwriter
from sqlalchemy import Select

from surveyapp.activity.models import ActivityRecord
from surveyapp.auth.models import Role
from surveyapp.safe_cells import WORKBOOK_OPTIONS, safe_row, write_text_row
from surveyapp.timeutil import as_utc

HEADER = [
    "Record",
    "At (UTC)",
    "Actor email",
    "Actor role",
    "URN",
    "Establishment",
    "Trust UID",
    "Trust",
    "Cycle",
    "Action",
    "Detail",
]
WIDTHS = [9, 21, 32, 28, 9, 36, 10, 30, 10, 24, 80]
#: rows read from the database at a time
BATCH = 2000
#: xlsx sheets hold 1,048,576 rows; a longer log continues on the next sheet
SHEET_ROWS = 1_048_575
NO_ACTOR = "System or signed-out visitor"


def iso_utc(value: datetime) -> str:
    """2026-11-20T15:00:00Z: ISO 8601 in UTC, to the second."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def flatten(detail: dict[str, Any] | None) -> str:
    """A record's detail as one readable line: "file: gias.csv; added: 3; updated: 1"."""
    parts = []
    for key, value in (detail or {}).items():
        if value is None or value == "" or value == [] or value == {}:
            continue
        parts.append(f"{str(key).replace('_', ' ')}: {_text(value)}")
    return "; ".join(parts)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, dict) and {"question", "before", "after"} <= value.keys():
        # One changed answer of a saved section: "policy_current: No → Yes".
        part = f" ({value['part']})" if value.get("part") else ""
        return (
            f"{value['question']}{part}: {_text(value['before']) or '(blank)'} → {_text(value['after']) or '(blank)'}"
        )
    if isinstance(value, dict):
        return ", ".join(f"{key} {_text(item)}" for key, item in value.items())
    return " ".join(str(value).split())  # line breaks and tabs in typed text become single spaces


def rows(session, query: Select) -> Iterator[list[Any]]:
    """Export rows for the records ``query`` (surveyapp.activity.services.activity_query) selects, oldest first."""
    ordered = query.order_by(ActivityRecord.id).execution_options(yield_per=BATCH)
    for record, email, role, urn, name, trust_uid, trust_name, slug in session.execute(ordered):
        yield [
            record.id,
            iso_utc(record.at),
            email or "",
            _role(role) if email else NO_ACTOR,
            urn or "",
            name or "",
            trust_uid or "",
            trust_name or "",
            slug or "",
            record.action,
            flatten(record.detail),
        ]
        session.expunge(record)  # keep the identity map from growing with the log


def _role(role: Role | str | None) -> str:
    return Role(role).label if role else ""


def write_csv(session, query: Select, out) -> int:
    """Write the records as CSV to the text file ``out``; return how many."""
    writer = csv.writer(out)
    writer.writerow(HEADER)
    count = 0
    for row in rows(session, query):
        writer.writerow(safe_row(row))
        count += 1
    return count


def write_xlsx(session, query: Select, out, title: str = "Activity") -> int:
    """Write the records as an xlsx workbook (constant memory) to ``out``, a path or binary file; return how many."""
    workbook = xlsxwriter.Workbook(out, WORKBOOK_OPTIONS)
    bold = workbook.add_format({"bold": True})
    sheet, line, sheets, count = None, SHEET_ROWS, 0, 0
    for row in rows(session, query):
        if line >= SHEET_ROWS:
            sheets += 1
            sheet = _new_sheet(workbook, title if sheets == 1 else f"{title} ({sheets})", bold)
            line = 0
        line += 1
        write_text_row(sheet, line, row)
        count += 1
    if sheet is None:
        _new_sheet(workbook, title, bold)
    workbook.close()
    return count


def _new_sheet(workbook, title: str, bold):
    sheet = workbook.add_worksheet(title[:31])
    for column, width in enumerate(WIDTHS):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)
    write_text_row(sheet, 0, HEADER, [bold] * len(HEADER))
    return sheet


def download_name(filters, fmt: str) -> str:
    """The file's name: the log, its cycle if the filters name one, and the format."""
    return "activity" + (f"-{filters.cycle}" if filters.cycle else "") + f".{fmt}"


def write_and_record(query: Select, filters, fmt: str, handle, actor_id: int | None, **detail: Any) -> int:
    """Write the selected records to a binary file as CSV or xlsx, and log that the log was read out.

    Reading the audit trail out of the app is itself recorded, whether from the page or by a job.
    :returns: the number of records written
    """
    from sqlalchemy import select

    from surveyapp.activity.services import record
    from surveyapp.audits.models import Cycle
    from surveyapp.extensions import db

    if fmt == "csv":
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
        count = write_csv(db.session, query, text)
        text.flush()
        text.detach()
    else:
        count = write_xlsx(db.session, query, handle)
    cycle = db.session.scalar(select(Cycle).where(Cycle.slug == filters.cycle)) if filters.cycle else None
    record(
        "activity.exported",
        actor_id,
        cycle_id=cycle.id if cycle else None,
        format=fmt,
        records=count,
        filters=filters.as_args(),
        **detail,
    )
    return count
