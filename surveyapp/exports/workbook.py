"""The board workbook: one xlsx for a cycle, written row by row in constant-memory mode (no Flask).

One pass over the cycle, a batch of establishments at a time: each batch's answers are read
(``surveyapp.analysis.loading.load_in_batches``), analysed (``surveyapp.analysis.figures.analyse_in_batches``,
the same figures as the analysis page and ``surveyapp analysis --format json``) and written at once to the
sheets with a row per establishment or per gap (Responses, Gaps), then let go. The figure sheets are
written from the whole analysis once the last batch is done. Rows go out with ``write_row``; formats that
apply to a whole column (percentages, dates) are column formats, so no cell needs Python formatting of its own.

Every user text is written with xlsxwriter's formula and URL detection off (safe_cells's
WORKBOOK_OPTIONS), so a school called "=HYPERLINK(...)" stays text.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import xlsxwriter

from surveyapp.actions.models import rag
from surveyapp.analysis import figures, formatting
from surveyapp.analysis.figures import BASE_CLASSES, CLASSES, GROUPS, Analysis, Cells
from surveyapp.analysis.loading import load_in_batches
from surveyapp.audits.questions import describe_gap_rule
from surveyapp.exports import data
from surveyapp.exports.tables import BoardTables, board_tables, follow_ups, group_label
from surveyapp.la_actions import export as la_actions
from surveyapp.safe_cells import WORKBOOK_OPTIONS, write_value
from surveyapp.timeutil import today, utcnow

#: establishments turned into rows at a time on the Responses sheet
ROWS_AT_A_TIME = 1_000
#: establishments turned into rows at a time on the Non-responders sheet (with their contacts' query)
NON_RESPONDERS_AT_A_TIME = 1_000
#: gaps turned into rows at a time on the Gaps sheet
GAPS_AT_A_TIME = 10_000
#: day 0 of Excel's 1900 date system (as counted for dates after February 1900)
EXCEL_EPOCH = date(1899, 12, 30)
SHEETS = ("Summary", "Completion", "Questions", "Gaps", "Non-responders", "Action plans", la_actions.SHEET, "Responses")
RESPONSES_FIXED = [
    "URN",
    "Establishment",
    "Phase",
    "Type",
    "District",
    "Trust",
    "Return",
    "Covered by trust",
    "Answers from trust",
]
GAPS_HEADER = [
    "URN",
    "Establishment",
    "Phase",
    "Trust",
    "Section",
    "Question",
    "Answer",
    "Class",
    "From trust",
    "Planned action",
    "Owner",
    "Target date",
    "Question key",
]
#: what each class's count and rate columns are called on the Questions sheet
QUESTION_CLASS_HEADERS = {
    "met": "Met",
    "partly": "Partly met",
    "not_met": "Not met",
    "cannot_confirm": "Cannot confirm",
    "unanswered": "Not answered",
    "not_applicable": "Not applicable",
    "skipped": "Not needed",
    "information": "For information",
}
#: the classes with a rate on the Questions sheet: those that make up what the rates are out of
RATED_CLASSES = BASE_CLASSES
#: what a question's rates are out of: the returns, less Not applicable and Not needed answers (the analysis's
#: "base"); named in every rate's header, so that a rate is never read as a share of the Returns column beside it
OUT_OF = "asked and applicable"
QUESTIONS_HEADER = (
    ["Question", "Section", "Tags", "Returns"]
    + [QUESTION_CLASS_HEADERS[name] for name in CLASSES]
    + [OUT_OF.capitalize()]
    + [f"{QUESTION_CLASS_HEADERS[name]} % of {OUT_OF}" for name in RATED_CLASSES]
    + ["From trusts", "A gap when", "Question key"]
)
COMPLETION_HEADER = [
    "Grouped by",
    "Group",
    "In scope",
    "Own return",
    "Covered by trust",
    "Complete",
    "Not submitted",
    "Completion rate",
]
ACTIONS_HEADER = [
    "URN",
    "Establishment",
    "Question",
    "Action",
    "Owner",
    "Target date",
    "Status",
    "RAG",
    "Overdue",
    "From trust",
    "Notes",
    "Last updated",
    "Question key",
]
NON_RESPONDERS_HEADER = [
    "URN",
    "Establishment",
    "Phase",
    "Type",
    "District",
    "Trust",
    "Return status",
    "DSL",
    "DSL email",
    "Other contacts",
]

#: the Summary's figure rows, by label: what a test (or a reader) can look each figure up by
SUMMARY_LABELS = {
    "in_scope": "Establishments in scope",
    "submitted": "Completed (own return or covered by their trust)",
    "submitted_own": "Returned their own audit",
    "covered_by_trust": "Covered by their trust's returned audit",
    "not_submitted": "Not completed",
    "fully_met": "Fully meeting every requirement",
    "cannot_confirm": "Cannot confirm at least one requirement",
    "with_gaps": "With at least one gap (not met or partly met)",
}


@dataclass
class SheetCells:
    """What was written to one sheet: rows (header included) and non-empty cells, split by type."""

    rows: int = 0
    strings: int = 0
    numbers: int = 0

    @property
    def cells(self) -> int:
        return self.strings + self.numbers


@dataclass
class WorkbookResult:
    """The workbook's headline counts, what it wrote, and how long each stage took (seconds)."""

    in_scope: int = 0
    complete: int = 0
    sheets: dict[str, SheetCells] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def cells(self) -> int:
        return sum(sheet.cells for sheet in self.sheets.values())


class _Formats:
    def __init__(self, book):
        self.header = book.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DEE0E2", "border": 1}
        )
        self.title = book.add_format({"bold": True, "font_size": 16})
        self.subtitle = book.add_format({"bold": True, "font_size": 13})
        self.bold = book.add_format({"bold": True})
        self.pct = book.add_format({"num_format": "0.0%"})
        self.date = book.add_format({"num_format": "d mmm yyyy"})
        self.trust = book.add_format({"italic": True, "bg_color": "#E8F1F8"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.red = book.add_format({"bg_color": "#F4CCCC", "font_color": "#942514"})
        self.amber = book.add_format({"bg_color": "#FFF2CC", "font_color": "#594D00"})
        self.green = book.add_format({"bg_color": "#D9EAD3", "font_color": "#005A30"})


def _header(sheet, fmt, header: list[str], widths: list[int], formats: dict[int, object] | None = None) -> None:
    """Header row, column widths (and column formats), frozen first row."""
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width, (formats or {}).get(column))
    sheet.write_row(0, 0, header, fmt)
    sheet.freeze_panes(1, 0)


def _count(values) -> tuple[int, int]:
    """(strings, numbers) among the non-empty cells of one written row."""
    strings = numbers = 0
    for value in values:
        if isinstance(value, str):
            strings += value != ""
        elif value is not None:
            numbers += 1
    return strings, numbers


class _Clock:
    """Seconds spent in each stage (load, analysis, write), however the stages take turns."""

    def __init__(self):
        self.seconds = {"load": 0.0, "analysis": 0.0, "write": 0.0}

    @contextmanager
    def stage(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started

    def each(self, name: str, items: Iterable) -> Iterator:
        """``items``, with the time taken to make each counted in stage ``name``."""
        iterator = iter(items)
        while True:
            with self.stage(name):
                item = next(iterator, None)
            if item is None:
                return
            yield item


def write_workbook(session, cycle, target, on: date | None = None) -> WorkbookResult:
    """Write the board workbook for ``cycle`` to ``target`` (a path or a binary file object).

    :param session: a SQLAlchemy session (the app's, or a plain one in the benchmarks)
    :param on: the day overdue actions are judged at (default today)
    :returns: the headline counts, the cells written per sheet and the time each stage took
    """
    on = on or today()
    result = WorkbookResult()
    clock = _Clock()
    with clock.stage("load"):
        # ``surveyapp.analysis.loading.BATCH`` establishments at a time
        whole, batches = load_in_batches(cycle, session, plans=True)
    book = xlsxwriter.Workbook(target, WORKBOOK_OPTIONS)
    fmt = _Formats(book)
    sheets = {name: book.add_worksheet(name) for name in SHEETS}
    responses = _ResponsesSheet(sheets["Responses"], fmt, whole.questions, len(whole.establishments))
    gaps = _GapsSheet(sheets["Gaps"], fmt)

    def write_batch(cells: Cells) -> None:
        """One batch's rows on Responses and Gaps, with the follow-up plans of its returns and its trusts'."""
        with clock.stage("analysis"):
            tables = board_tables(cells, follow_ups(cells))
        with clock.stage("write"):
            responses.write(tables)
            gaps.write(tables.gaps)

    started = time.perf_counter()
    before = dict(clock.seconds)
    analysis = figures.analyse_in_batches(whole, clock.each("load", batches), write_batch)
    # What the batches' loads and writes did not take of the pass was the analysis's.
    spent = sum(clock.seconds.values()) - sum(before.values())
    clock.seconds["analysis"] += time.perf_counter() - started - spent

    with clock.stage("write"):
        responses.close(result)
        gaps.close(result)
        totals = figures.completion(analysis)
        result.in_scope, result.complete = totals["in_scope"], totals["submitted"]
        completion_rows = _write_completion(sheets["Completion"], fmt, analysis, result)
        _write_questions(sheets["Questions"], fmt, analysis, result)
        _write_non_responders(session, cycle, sheets["Non-responders"], fmt, analysis, result)
        actions = _write_actions(
            session,
            cycle,
            sheets["Action plans"],
            fmt,
            on,
            result,
            dict(zip(whole.questions["question_key"], whole.questions["text"], strict=True)),
        )
        # The LA's actions that started from this cycle's figures take them from this analysis.
        _write_la_actions(session, sheets[la_actions.SHEET], fmt, on, result, {cycle.id: analysis})
        _write_summary(book, sheets["Summary"], fmt, cycle, analysis, completion_rows, actions, result)
        book.close()
    result.sheets = {name: result.sheets[name] for name in SHEETS}  # in the workbook's order
    result.timings = dict(clock.seconds)
    return result


# --- the big sheets: one row per establishment, one row per gap, a batch at a time ----------------


class _ResponsesSheet:
    """Every establishment's effective answers, one row each, written as each batch is analysed."""

    def __init__(self, sheet, fmt, questions, establishments: int):
        self.sheet, self.trust, self.establishments = sheet, fmt.trust, establishments
        self.header = RESPONSES_FIXED + [
            f"{text} ({key})" for key, text in zip(questions["question_key"], questions["text"], strict=True)
        ]
        _header(sheet, fmt.header, self.header, [10, 36, 12, 22, 16, 30, 22, 12, 10] + [18] * len(questions))
        self.strings = len(self.header)
        self.numbers = 0

    def write(self, tables: BoardTables) -> None:
        cells = tables.analysis
        establishments = cells.establishments
        fixed = np.empty((len(establishments), len(RESPONSES_FIXED)), dtype=object)
        for column, name in enumerate(("urn", "name", "phase", "type_name", "district", "trust_name")):
            fixed[:, column] = establishments[name].fillna("").astype(str).to_numpy(dtype=object)
        fixed[:, 6] = tables.returned
        fixed[:, 7] = tables.covered
        # As the analysis counts them (its establishments' answers_from_trust): answers taken from the trust.
        fixed[:, 8] = (cells.source == 2).sum(axis=1)
        # The trust's answers are in their own format (italics on blue): a row with some is written in
        # runs, each trust answer on its own with that format, so no cell is written twice.
        trust_cells: dict[int, list[int]] = {}
        for i, j in zip(*np.nonzero(cells.source == 2), strict=True):  # by row, then column
            trust_cells.setdefault(int(i), []).append(int(j) + len(RESPONSES_FIXED))
        write_row, write_string, trust = self.sheet.write_row, self.sheet.write_string, self.trust
        first = (cells.start if isinstance(cells, Cells) else 0) + 1
        # Rows are made into lists a block at a time: the batch as lists (establishments x columns of
        # Python objects) would be the largest thing in memory while it is written.
        for start in range(0, len(fixed), ROWS_AT_A_TIME):
            block = np.concatenate(
                [fixed[start : start + ROWS_AT_A_TIME], tables.shown[start : start + ROWS_AT_A_TIME]], axis=1
            )
            for i, row in enumerate(block.tolist(), start=start):
                columns = trust_cells.get(i)
                if columns is None:
                    write_row(first + i, 0, row)
                    continue
                done = 0
                for column in columns:
                    if column > done:
                        write_row(first + i, done, row[done:column])
                    write_string(first + i, column, row[column], trust)
                    done = column + 1
                if done < len(row):
                    write_row(first + i, done, row[done:])
        self.strings += int((fixed[:, :8] != "").sum()) + int((tables.shown != "").sum())
        self.numbers += len(fixed)

    def close(self, result: WorkbookResult) -> None:
        self.sheet.autofilter(0, 0, max(self.establishments, 1), len(self.header) - 1)
        result.sheets["Responses"] = SheetCells(
            rows=self.establishments + 1, strings=self.strings, numbers=self.numbers
        )


class _GapsSheet:
    """One row per establishment and gap (or answer that cannot confirm), written as each batch is analysed."""

    def __init__(self, sheet, fmt):
        self.sheet = sheet
        _header(sheet, fmt.header, GAPS_HEADER, [10, 36, 12, 30, 24, 50, 16, 14, 10, 40, 20, 12, 20], {11: fmt.date})
        self.row = 0
        self.strings = len(GAPS_HEADER)
        self.numbers = 0

    def write(self, gaps) -> None:
        write_row = self.sheet.write_row
        # A block of gaps at a time is made into lists, not the whole batch (one row per gap).
        for start in range(0, len(gaps), GAPS_AT_A_TIME):
            block = gaps.iloc[start : start + GAPS_AT_A_TIME]
            # Dates as Excel day numbers under the column's date format: no per-cell date conversion.
            targets = [
                (value - EXCEL_EPOCH).days if isinstance(value, date) else value for value in block["target_date"]
            ]
            columns = [
                np.asarray(column, dtype=object)
                for column in (
                    block["urn"],
                    block["name"],
                    block["phase"].fillna(""),
                    block["trust_name"],
                    block["section_title"],
                    block["text"],
                    block["shown"],
                    block["class_label"],
                    np.where(block["from_trust"], "Yes", "No"),
                    block["action"],
                    block["owner"],
                    targets,
                    block["question_key"],
                )
            ]
            row = self.row
            for row, values in enumerate(zip(*[c.tolist() for c in columns], strict=True), start=self.row + 1):
                write_row(row, 0, values)
            self.row = row
            self.strings += sum(int((c != "").sum()) for c in columns[:11] + columns[12:])
        if len(gaps):
            self.numbers += int(gaps["target_date"].notna().sum())

    def close(self, result: WorkbookResult) -> None:
        self.sheet.autofilter(0, 0, max(self.row, 1), len(GAPS_HEADER) - 1)
        result.sheets["Gaps"] = SheetCells(rows=self.row + 1, strings=self.strings, numbers=self.numbers)


# --- the figure sheets -----------------------------------------------------------------------


def _write_completion(sheet, fmt, analysis: Analysis, result: WorkbookResult) -> list[tuple]:
    _header(sheet, fmt.header, COMPLETION_HEADER, [12, 36, 10, 10, 12, 10, 12, 12], {7: fmt.pct})
    rows: list[tuple] = []
    for group, label in GROUPS.items():
        for r in figures.completion_by(analysis, group).itertuples():
            rows.append(
                (
                    label,
                    group_label(r.group),
                    int(r.in_scope),
                    int(r.own),
                    int(r.by_trust),
                    int(r.submitted),
                    int(r.not_submitted),
                    float(r.completion_rate),
                )
            )
    for row, values in enumerate(rows, start=1):
        sheet.write_row(row, 0, values)
    last = max(len(rows), 1)
    sheet.autofilter(0, 0, last, len(COMPLETION_HEADER) - 1)
    _rag_scale(sheet, fmt, 1, 7, last, 7, red_at=0.8, amber_at=0.95, higher_is_worse=False)
    result.sheets["Completion"] = SheetCells(
        rows=len(rows) + 1, strings=len(COMPLETION_HEADER) + 2 * len(rows), numbers=6 * len(rows)
    )
    return rows


def _write_questions(sheet, fmt, analysis: Analysis, result: WorkbookResult) -> None:
    first_rate = 5 + len(CLASSES)
    _header(
        sheet,
        fmt.header,
        QUESTIONS_HEADER,
        [60, 22, 14, 8] + [9] * len(CLASSES) + [11] + [11] * len(RATED_CLASSES) + [9, 36, 22],
        {column: fmt.pct for column in range(first_rate, first_rate + len(RATED_CLASSES))},
    )
    questions = analysis.questions
    rules = analysis.data.questions.set_index("question_key")
    strings = numbers = 0
    for row, q in enumerate(questions.to_dict("records"), start=1):
        rule = rules.loc[q["question_key"]]
        values = (
            [q["text"], q["section_title"], ", ".join(q["tags"] or []), int(q["returned"])]
            + [int(q[name]) for name in CLASSES]
            # A question with no gap rule is no requirement: nothing to be out of, and no rate of met or not
            # met, rather than "0%".
            + [int(q["base"]) if q["requirement"] else None]
            + [float(q[f"{name}_rate"]) if q["requirement"] else None for name in RATED_CLASSES]
            + [
                int(q["from_trust"]),
                describe_gap_rule(rule["type"], rule["gap"], rule["options"])
                or "Never: recorded for information, not a requirement",
                q["question_key"],
            ]
        )
        sheet.write_row(row, 0, values)
        counted = _count(values)
        strings, numbers = strings + counted[0], numbers + counted[1]
    last = max(len(questions), 1)
    sheet.autofilter(0, 0, last, len(QUESTIONS_HEADER) - 1)
    # RAG on the not-met rate: a fifth or more of returns is red, a tenth amber.
    not_met = first_rate + RATED_CLASSES.index("not_met")
    _rag_scale(sheet, fmt, 1, not_met, last, not_met, red_at=0.2, amber_at=0.1, higher_is_worse=True)
    result.sheets["Questions"] = SheetCells(
        rows=len(questions) + 1, strings=len(QUESTIONS_HEADER) + strings, numbers=numbers
    )


def _rag_scale(sheet, fmt, first_row, first_col, last_row, last_col, *, red_at, amber_at, higher_is_worse):
    if higher_is_worse:
        rules = [(">=", red_at, fmt.red), (">=", amber_at, fmt.amber), ("<", amber_at, fmt.green)]
    else:
        rules = [("<", red_at, fmt.red), ("<", amber_at, fmt.amber), (">=", amber_at, fmt.green)]
    # A blank cell (a question with no rule has no rates) is left unshaded: Excel would compare it as 0.
    sheet.conditional_format(first_row, first_col, last_row, last_col, {"type": "blanks", "stop_if_true": True})
    for criteria, value, style in rules:
        sheet.conditional_format(
            first_row,
            first_col,
            last_row,
            last_col,
            {"type": "cell", "criteria": criteria, "value": value, "format": style, "stop_if_true": True},
        )


# --- the lead's working sheets: who to chase, what is planned ----------------------------------


def _write_non_responders(session, cycle, sheet, fmt, analysis: Analysis, result: WorkbookResult) -> None:
    frame = analysis.establishments
    # One selection: assigning columns to an empty selection (everyone has returned) would take the whole
    # frame's index, and list every establishment with nothing in it.
    columns = ["establishment_id", "urn", "name", "phase", "type_name", "district", "trust_name", "status"]
    missing = frame.loc[~frame["submitted"], columns]
    header, widths = list(NON_RESPONDERS_HEADER), [10, 36, 12, 22, 16, 30, 16, 24, 32, 40]
    reminders = data.reminders_recorded()
    if reminders:
        header += ["Reminders sent", "Last reminder"]
        widths += [10, 14]
    _header(sheet, fmt.header, header, widths, {11: fmt.date})
    strings = numbers = row = 0
    # A block of establishments at a time: their contacts and reminders read for them alone.
    for start in range(0, len(missing), NON_RESPONDERS_AT_A_TIME):
        block = missing.iloc[start : start + NON_RESPONDERS_AT_A_TIME]
        ids = [int(i) for i in block["establishment_id"]]
        contacts = data.dsl_contacts(session, ids)
        history = (data.reminder_history(session, cycle, ids) if reminders else None) or {}
        for e in block.itertuples(index=False):
            row += 1
            people = contacts.get(e.establishment_id, [])
            first = people[0] if people else ("", "", "")
            others = "; ".join(f"{name} <{email}> ({role})" for name, email, role in people[1:])
            values = [
                e.urn,
                e.name,
                e.phase or "",
                e.type_name or "",
                e.district or "",
                e.trust_name,
                str(e.status).replace("_", " ").capitalize(),
                first[0],
                first[1],
                others,
            ]
            if reminders:
                count, last = history.get(e.establishment_id, (0, None))
                values += [count, last.replace(tzinfo=None) if last is not None else None]
            sheet.write_row(row, 0, values)
            counted = _count(values)
            strings, numbers = strings + counted[0], numbers + counted[1]
    sheet.autofilter(0, 0, max(len(missing), 1), len(header) - 1)
    result.sheets["Non-responders"] = SheetCells(rows=len(missing) + 1, strings=len(header) + strings, numbers=numbers)


def _write_actions(session, cycle, sheet, fmt, on, result: WorkbookResult, texts: dict[str, str]) -> dict:
    _header(sheet, fmt.header, ACTIONS_HEADER, [10, 36, 50, 50, 22, 12, 12, 8, 9, 9, 40, 14, 22])
    counts = {"total": 0, "done": 0, "overdue": 0, "red": 0, "amber": 0, "green": 0}
    row = 0
    for item, urn, name in data.action_rows(session, cycle):
        row += 1
        colour = rag(item.status, item.target_date, on)
        overdue = item.status.is_open and item.target_date is not None and item.target_date < on
        counts["total"] += 1
        counts[colour] += 1
        counts["done"] += not item.status.is_open
        counts["overdue"] += overdue
        for column, value in enumerate(
            (urn, name, texts.get(item.question_key, item.question_key), item.action, item.owner)
        ):
            write_value(sheet, row, column, value)
        write_value(sheet, row, 5, item.target_date, fmt.date)
        write_value(sheet, row, 6, item.status.label)
        write_value(sheet, row, 7, colour.capitalize())
        write_value(sheet, row, 8, "Yes" if overdue else "No")
        write_value(sheet, row, 9, "Yes" if item.from_trust else "No")
        write_value(sheet, row, 10, item.notes)
        write_value(sheet, row, 11, item.updated_at, fmt.date)
        write_value(sheet, row, 12, item.question_key)
    last = max(row, 1)
    sheet.autofilter(0, 0, last, len(ACTIONS_HEADER) - 1)
    for word, style in (("Red", fmt.red), ("Amber", fmt.amber), ("Green", fmt.green)):
        sheet.conditional_format(
            1, 7, last, 7, {"type": "cell", "criteria": "==", "value": f'"{word}"', "format": style}
        )
    result.sheets["Action plans"] = SheetCells(rows=row + 1, strings=len(ACTIONS_HEADER) + 11 * row, numbers=2 * row)
    return counts


def _write_la_actions(session, sheet, fmt, on, result: WorkbookResult, analyses: dict) -> None:
    """The LA's own action plan (every action, whichever cycle it started from).

    :param analyses: cycle id -> analysis already made (the figures of other cycles are made as needed)"""
    count = la_actions.write_la_actions_sheet(session, sheet, fmt.header, fmt.date, fmt.wrap, on, analyses=analyses)
    result.sheets[la_actions.SHEET] = SheetCells(
        rows=count + 1, strings=len(la_actions.HEADER) + 12 * count, numbers=4 * count
    )


# --- the Summary: headline figures, how to read the workbook, charts ---------------------------


def _scope_text(cycle) -> str:
    scope = cycle.scope or {}
    parts = [
        ("Types: " + ", ".join(scope.get("types") or [])) if scope.get("types") else "",
        ("Phases: " + ", ".join(scope.get("phases") or [])) if scope.get("phases") else "",
    ]
    return "; ".join(part for part in parts if part) or "Every open establishment"


def _tag_label(tag: str) -> str:
    return "Prevent" if tag == "prevent" else tag.replace("_", " ")  # as the analysis page and its headline say


def _write_summary(book, sheet, fmt, cycle, analysis: Analysis, completion_rows, actions, result) -> None:
    sheet.set_column(0, 0, 58)
    sheet.set_column(1, 1, 16)
    sheet.set_column(2, 3, 12, fmt.pct)
    totals = figures.completion(analysis)
    lists = figures.establishment_lists(analysis)
    whole = analysis.in_scope
    rate = analysis.rate
    counts = {
        "in_scope": whole,
        "submitted": totals["submitted"],
        "submitted_own": totals["submitted_own"],
        "covered_by_trust": totals["covered_by_trust"],
        "not_submitted": len(totals["not_submitted"]),
        **{name: len(urns) for name, urns in lists.items()},
    }
    written = utcnow()
    rows: list[tuple] = [
        ("title", f"{cycle.name}: board summary"),
        ("wrap", formatting.headline(analysis) + "."),
        (
            "wrap",
            f"Completion is a share of the {whole:,} establishments in scope; requirements are a share of the "
            f"{analysis.returned:,} establishments that returned (own return or through their trust). Each "
            "column says which. 'How to read this workbook', below the figures, explains each term.",
        ),
        ("blank",),
        ("text", "Cycle", cycle.slug),
        ("text", "Template", f"{cycle.template.title} (version {cycle.template.version})"),
        ("date", "Opened", cycle.opens_on),
        ("date", "Due", cycle.due_on),
        ("text", "Scope", _scope_text(cycle)),
        ("text", "Figures as at", f"{_day(written)} {written:%H:%M} UTC"),
        ("blank",),
        ("head", "Completion", "Establishments", "% of in scope"),
        *[
            ("figure", SUMMARY_LABELS[key], counts[key], rate(counts[key]))
            for key in ("in_scope", "submitted", "submitted_own", "covered_by_trust", "not_submitted")
        ],
        ("blank",),
        ("head", "Requirements", "Establishments", "% of returns"),
        *[
            ("figure", SUMMARY_LABELS[key], counts[key], analysis.compliance_rate(counts[key]))
            for key in ("fully_met", "cannot_confirm", "with_gaps")
        ],
        ("blank",),
    ]
    tags = figures.coverage(analysis, "tag")
    judged = figures.compliance_by(analysis, "tag").set_index("tag") if not tags.empty else None
    for tag in tags.to_dict("records"):
        label = _tag_label(tag["tag"])
        j = judged.loc[tag["tag"]]
        rows += [
            ("head", f"Questions tagged {label}", "Establishments", "% of in scope"),
            ("figure", f"Answered the {label} questions", int(tag["answered"]), float(tag["answered_rate"])),
            (
                "figure",
                "  of which through their trust's return",
                int(tag["covered_by_trust"]),
                float(tag["covered_by_trust_rate"]),
            ),
            (
                "figure",
                f"Did not answer the {label} questions",
                int(tag["not_answered_count"]),
                float(tag["not_answered_count_rate"]),
            ),
            ("figure", "  of which submitted but skipped them", int(tag["skipped"]), rate(int(tag["skipped"]))),
            (
                "figure",
                "  of which have not completed the audit",
                int(tag["not_submitted"]),
                rate(int(tag["not_submitted"])),
            ),
            ("head", f"{label} requirements", "Establishments", "% of those answering"),
            ("figure", f"Met every {label} requirement", int(j["fully_met"]), float(j["fully_met_rate"])),
            (
                "figure",
                f"Cannot confirm at least one {label} requirement",
                int(j["cannot_confirm"]),
                float(j["cannot_confirm_rate"]),
            ),
            ("figure", f"At least one {label} gap", int(j["with_gaps"]), float(j["with_gaps_rate"])),
            ("blank",),
        ]
    rows += [
        ("head", "Action plans", "Actions", "% of actions"),
        ("figure", "Actions", actions["total"], 1.0 if actions["total"] else 0.0),
        ("figure", "Done", actions["done"], actions["done"] / actions["total"] if actions["total"] else 0.0),
        ("figure", "Overdue", actions["overdue"], actions["overdue"] / actions["total"] if actions["total"] else 0.0),
        ("blank",),
        ("subtitle", "How to read this workbook"),
        *[("note", text) for text in _notes(cycle, whole, written)],
        ("blank",),
    ]
    row = 0
    for entry in rows:
        kind = entry[0]
        if kind == "title":
            sheet.write_string(row, 0, entry[1], fmt.title)
        elif kind == "subtitle":
            sheet.write_string(row, 0, entry[1], fmt.subtitle)
        elif kind in ("wrap", "note"):
            write_value(sheet, row, 0, entry[1])
        elif kind == "text":
            write_value(sheet, row, 0, entry[1], fmt.bold)
            write_value(sheet, row, 1, entry[2])
        elif kind == "date":
            write_value(sheet, row, 0, entry[1], fmt.bold)
            write_value(sheet, row, 1, entry[2], fmt.date)
        elif kind == "head":
            sheet.write_row(row, 0, entry[1:], fmt.header)
        elif kind == "figure":
            sheet.write_row(row, 0, entry[1:])
        row += 1
    row = _summary_charts(book, sheet, fmt, analysis, completion_rows, row)
    result.sheets["Summary"] = SheetCells(rows=row, strings=2 * row, numbers=row)


def _day(value) -> str:
    return f"{value.day} {value:%B %Y}"


def _notes(cycle, in_scope: int, written) -> list[str]:
    return [
        f"Figures are for the {cycle.slug} cycle ({cycle.name}), opened {_day(cycle.opens_on)} and due "
        f"{_day(cycle.due_on)}, as they stood at {_day(written)} {written:%H:%M} UTC. Completion is a share of the "
        f"{in_scope:,} establishments in scope. Requirements and each question's answers are a share of the "
        "establishments that returned (own return or through their trust): one that has not returned is in no "
        "requirement's figure. A question answered 'Not applicable' leaves that question's share. A topic's "
        "requirements are a share of the establishments that answered its questions.",
        f"In scope: every establishment given a place in this cycle ({_scope_text(cycle).lower()}); establishments "
        "that had closed before the cycle opened are not counted.",
        "Completed: the establishment's own audit has been submitted to (or accepted by) the local authority, "
        "or it is covered by its trust's returned audit. Audits still being filled in count for nothing.",
        "Covered by trust: a multi-academy trust may answer some or all questions once for its academies. "
        "An academy's own answer always counts first; where it left a question unanswered, its trust's returned "
        "answer is used. 'Answers from trust' and 'From trust' columns say which answers came from the trust, and "
        "in Responses they are in italics on a blue background.",
        "Each answer is judged against its question's rule (see 'A gap when' on Questions): Met, Partly met, "
        "Not met, Cannot confirm, or Not answered. A gap is an answer that is Not met or Partly met.",
        "Not applicable (an answer some questions allow) and Not needed (a question asked only after a given answer "
        "to an earlier one, where that answer was not given) are neither met, nor a gap, nor unanswered. On "
        "Questions, the rates of the other answers leave them out: every rate is a share of the question's "
        "'Asked and applicable' column (the returns, less those answering Not applicable and those not asked it), "
        "not of its Returns column. The same goes for the Summary's questions most often not met.",
        "For information: a question with no rule for what meets it (the date of a meeting, a comment) is no "
        "requirement. Its answers, given or not, are neither met, nor a gap, nor unanswered; on Questions it has no "
        "rates, and it never stops an establishment fully meeting every requirement.",
        "Fully meeting every requirement: completed, no gaps, nothing it cannot confirm and every required question "
        "answered. An establishment can both have a gap and be unable to confirm another requirement, so it can be "
        "counted in both of those rows.",
        "Sheets: Completion (by phase, type, district and trust), Questions (each question's results), Gaps (one "
        "row per establishment and answer that is Not met, Partly met or Cannot confirm, with the planned action), "
        "Non-responders (who to chase, with their DSL and reminders), Action plans, Responses (every "
        "establishment's answers, one column per question).",
        "The same figures are on the cycle's analysis page and in `surveyapp analysis --cycle "
        f"{cycle.slug} --format json`.",
    ]


def _summary_charts(book, sheet, fmt, analysis: Analysis, completion_rows, row: int) -> int:
    """Tables for the two charts (completion by phase, questions most often not met), then the charts."""
    phase_rows = [r for r in completion_rows if r[0] == GROUPS["phase"]]
    sheet.write_row(row, 0, ["Completion by phase", "Completed", "% of in scope"], fmt.header)
    phase_first = row + 1
    for _label, group, _in_scope, _own, _trust, complete, _missing, completion_rate in phase_rows:
        row += 1
        sheet.write_row(row, 0, [group, complete, completion_rate])
    phase_last = row
    row += 2
    sheet.write_row(row, 0, ["Questions most often not met", "Not met", f"% of {OUT_OF}"], fmt.header)
    top_first = row + 1
    ranked = figures.most_not_met(analysis, 10)
    for q in ranked.to_dict("records"):
        row += 1
        sheet.write_row(row, 0, [q["text"], int(q["not_met"]), float(q["not_met_rate"])])
    top_last = row
    if phase_rows:
        chart = book.add_chart({"type": "column"})
        chart.add_series(
            {
                "name": "Completion rate",
                "categories": ["Summary", phase_first, 0, phase_last, 0],
                "values": ["Summary", phase_first, 2, phase_last, 2],
                "data_labels": {"value": True},
            }
        )
        chart.set_title({"name": "Completion by phase"})
        chart.set_y_axis({"num_format": "0%", "max": 1, "min": 0})
        chart.set_legend({"none": True})
        sheet.insert_chart(0, 4, chart, {"x_scale": 1.3, "y_scale": 1.1})
    if len(ranked):
        chart = book.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": f"Not met, % of {OUT_OF}",
                "categories": ["Summary", top_first, 0, top_last, 0],
                "values": ["Summary", top_first, 2, top_last, 2],
                "data_labels": {"value": True},
                "fill": {"color": "#D4351C"},
            }
        )
        chart.set_title({"name": "Questions most often not met"})
        chart.set_x_axis({"num_format": "0%", "min": 0})
        chart.set_y_axis({"reverse": True})
        chart.set_legend({"none": True})
        sheet.insert_chart(18, 4, chart, {"x_scale": 1.6, "y_scale": 1.4})
    return row + 1
