"""The LA's own action plan as an xlsx sheet: on its own, or as a sheet of the board workbook (no Flask).

Every user text goes through ``safe_cells.write_value`` with formula and URL detection off, so an
action that begins with "=" stays text.
"""

from __future__ import annotations

from datetime import date

import xlsxwriter

from surveyapp.la_actions import services
from surveyapp.la_actions.models import LaAction
from surveyapp.safe_cells import WORKBOOK_OPTIONS, write_value

SHEET = "The LA's actions"
HEADER = [
    "Reference",
    "Area",
    "Action",
    "Milestones",
    "Measures",
    "Target date",
    "Lead",
    "Support",
    "Outcomes",
    "RAG",
    "Status",
    "Overdue",
    "Prevent objectives",
    "Audit finding",
    "Establishments then",
    "Establishments in the next cycle",
    "Progress updates",
    "Last updated",
]
WIDTHS = [12, 22, 50, 40, 40, 12, 24, 24, 40, 8, 12, 9, 10, 50, 12, 12, 60, 12]
DATES = (5, 17)


def _updates_text(action: LaAction) -> str:
    """Every progress update, newest first, one a line: "31 Oct 2026: ..."."""
    return "\n".join(f"{u.written_on.day} {u.written_on:%b %Y}: {u.text}" for u in action.updates)


def action_rows(session, actions: list[LaAction], on: date, analyses: dict | None = None):
    """One list of cell values per action, in HEADER's order; findings computed once per cycle.

    :param analyses: cycle id -> analysis the caller already has (the board workbook's own cycle)"""
    cache: dict = dict(analyses or {})
    for action in actions:
        finding = services.finding_for(session, action, cache)
        if finding is not None:
            about = finding.baseline.sentence
            then = finding.baseline.gaps
            later = finding.next.gaps if finding.next is not None else None
            if finding.next is not None:
                about += f"; {finding.next.cycle.name}: {later}"
        else:
            about, then, later = "", None, None
        yield [
            action.reference,
            action.area,
            action.action,
            action.milestones,
            action.measures,
            action.target_date,
            action.lead,
            action.support,
            action.outcomes,
            action.rag.label,
            action.status.label,
            "Yes" if action.is_overdue(on) else "No",
            action.objectives_text,
            about,
            then,
            later,
            _updates_text(action),
            action.updated_at,
        ]


def write_la_actions_sheet(
    session,
    sheet,
    header_format,
    date_format,
    wrap_format,
    on: date,
    actions: list[LaAction] | None = None,
    analyses: dict | None = None,
) -> int:
    """Write the plan to ``sheet`` row by row (constant-memory safe); returns the number of actions.

    :param analyses: cycle id -> analysis the caller already has, for the actions' audit findings"""
    actions = services.list_actions(session) if actions is None else actions
    for column, width in enumerate(WIDTHS):
        sheet.set_column(column, column, width, date_format if column in DATES else None)
    sheet.write_row(0, 0, HEADER, header_format)
    sheet.freeze_panes(1, 0)
    row = 0
    for row, values in enumerate(action_rows(session, actions, on, analyses), start=1):
        for column, value in enumerate(values):
            fmt = date_format if column in DATES else (wrap_format if column in (2, 3, 4, 8, 16) else None)
            write_value(sheet, row, column, value, fmt)
    sheet.autofilter(0, 0, max(row, 1), len(HEADER) - 1)
    return row


def write_la_actions(session, target, on: date) -> int:
    """Write the LA's action plan as a one-sheet workbook to ``target`` (a path or a binary file object)."""
    book = xlsxwriter.Workbook(target, WORKBOOK_OPTIONS)
    header = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DEE0E2", "border": 1})
    dates = book.add_format({"num_format": "d mmm yyyy", "valign": "top"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    count = write_la_actions_sheet(session, book.add_worksheet(SHEET), header, dates, wrap, on)
    book.close()
    return count
