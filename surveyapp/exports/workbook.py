"""The board workbook: one xlsx for a cycle, written row by row in constant-memory mode (no Flask).

The Responses and Gaps sheets are filled in one pass over the streamed answers, which also
counts the figures for Questions and Summary; the smaller sheets come from SQL aggregates.
Every user text goes through exports.safe, so it is written as a string, never a formula.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import xlsxwriter

from surveyapp.actions.models import rag
from surveyapp.exports import data
from surveyapp.exports.safe import WORKBOOK_OPTIONS, write_value
from surveyapp.timeutil import today, utcnow

SHEETS = ("Summary", "Completion", "Questions", "Gaps", "Non-responders", "Action plans", "Responses")
RESPONSES_FIXED = ["URN", "Establishment", "Phase", "Type", "District", "Trust", "Return", "Covered by trust",
                   "Answers from trust"]
GAPS_HEADER = ["URN", "Establishment", "Phase", "Trust", "Section", "Question key", "Question", "Answer", "Class",
               "From trust", "Planned action", "Owner", "Target date"]
QUESTIONS_HEADER = ["Section", "Question key", "Question", "Tags", "Met", "Partly met", "Not met", "Cannot confirm",
                    "Unanswered", "Met rate", "Partly rate", "Not met rate", "Cannot confirm rate", "Unanswered rate"]
COMPLETION_HEADER = ["Grouped by", "Group", "In scope", "Own return", "Covered by trust", "Complete", "Not submitted",
                     "Completion rate"]
ACTIONS_HEADER = ["URN", "Establishment", "Question key", "Action", "Owner", "Target date", "Status", "RAG", "Overdue",
                  "From trust", "Notes", "Last updated"]


@dataclass
class Figures:
    """What the streaming pass counts for the Questions and Summary sheets."""

    in_scope: int = 0
    own_returned: int = 0
    covered_by_trust: int = 0
    fully_met: int = 0
    cannot_confirm: int = 0
    with_gaps: int = 0
    no_return: int = 0
    questions: dict[str, dict[str, int]] = field(default_factory=dict)
    tags: dict[str, dict[str, int]] = field(default_factory=dict)
    cells: int = 0

    @property
    def complete(self) -> int:
        return self.own_returned + self.covered_by_trust


class _Formats:
    def __init__(self, book):
        self.header = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DEE0E2", "border": 1})
        self.title = book.add_format({"bold": True, "font_size": 16})
        self.bold = book.add_format({"bold": True})
        self.pct = book.add_format({"num_format": "0.0%"})
        self.date = book.add_format({"num_format": "d mmm yyyy"})
        self.trust = book.add_format({"italic": True, "bg_color": "#E8F1F8"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.red = book.add_format({"bg_color": "#F4CCCC", "font_color": "#942514"})
        self.amber = book.add_format({"bg_color": "#FFF2CC", "font_color": "#594D00"})
        self.green = book.add_format({"bg_color": "#D9EAD3", "font_color": "#005A30"})


def _header(sheet, fmt, header: list[str], widths: list[int] | None = None) -> None:
    for column, text in enumerate(header):
        sheet.write_string(0, column, text, fmt)
        if widths:
            sheet.set_column(column, column, widths[column])
    sheet.freeze_panes(1, 0)


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def write_workbook(session, cycle, target, on: date | None = None) -> Figures:
    """Write the board workbook for ``cycle`` to ``target`` (a path or a binary file object).

    :param session: a SQLAlchemy session (the answers are streamed from it)
    :param on: the day overdue is judged at (default today)
    :returns: the figures counted, with the number of cells written
    """
    on = on or today()
    book = xlsxwriter.Workbook(target, WORKBOOK_OPTIONS)
    fmt = _Formats(book)
    sheets = {name: book.add_worksheet(name) for name in SHEETS}
    questions = data.questions_of(cycle)
    establishments = data.establishments_of(session, cycle)
    figures = Figures(in_scope=len(establishments))
    figures.questions = {q.key: dict.fromkeys(data.CLASSES, 0) for q in questions}
    tag_keys: dict[str, list[str]] = {}
    for q in questions:
        for tag in q.tags:
            tag_keys.setdefault(tag, []).append(q.key)
    figures.tags = {tag: {"answered": 0, "covered_by_trust": 0, "not_answered": 0} for tag in sorted(tag_keys)}

    _stream_responses_and_gaps(session, cycle, sheets["Responses"], sheets["Gaps"], fmt, questions, establishments,
                               figures, tag_keys)
    _write_questions(sheets["Questions"], fmt, questions, figures)
    completion_rows = _write_completion(session, cycle, sheets["Completion"], fmt, figures)
    _write_non_responders(session, cycle, sheets["Non-responders"], fmt, establishments, figures)
    action_counts = _write_actions(session, cycle, sheets["Action plans"], fmt, on, figures)
    _write_summary(book, sheets["Summary"], fmt, cycle, figures, questions, completion_rows, action_counts)
    book.close()
    return figures


def _stream_responses_and_gaps(session, cycle, responses, gaps, fmt, questions, establishments, figures, tag_keys):
    header = RESPONSES_FIXED + [f"{q.key}: {q.text}" for q in questions]
    _header(responses, fmt.header, header, [10, 36, 12, 22, 16, 30, 22, 12, 10] + [18] * len(questions))
    responses.autofilter(0, 0, max(len(establishments), 1), len(header) - 1)
    _header(gaps, fmt.header, GAPS_HEADER, [10, 36, 12, 30, 24, 20, 50, 16, 14, 10, 40, 20, 12])
    write_string_r, write_string_g = responses.write_string, gaps.write_string
    counts = figures.questions
    gap_row = 0
    cells = len(header) + len(GAPS_HEADER)
    for row_number, row in enumerate(data.effective_rows(session, cycle, establishments), start=1):
        e = row.establishment
        answers = row.answers
        from_trust_count = 0
        for column, value in enumerate((e.urn, e.name, e.phase, e.type_name, e.district, e.trust, e.completion,
                                        "Yes" if e.covered_by else "No")):
            if value:
                write_string_r(row_number, column, value)
        if e.returned_own:
            figures.own_returned += 1
        elif e.covered_by:
            figures.covered_by_trust += 1
        worst = None
        column = len(RESPONSES_FIXED)
        for q in questions:
            got = answers.get(q.key)
            if got is None:
                counts[q.key]["unanswered"] += 1
                column += 1
                continue
            value, follow_up, from_trust = got
            kind = q.classify(value)
            counts[q.key][kind] += 1
            shown = q.display(value)
            if from_trust:
                from_trust_count += 1
                write_string_r(row_number, column, shown, fmt.trust)
            else:
                write_string_r(row_number, column, shown)
            cells += 1
            column += 1
            if kind in ("not_met", "partly", "cannot_confirm"):
                if kind == "cannot_confirm":
                    worst = worst or "cannot_confirm"
                else:
                    worst = "gaps"
                gap_row += 1
                plan = follow_up or {}
                target = plan.get("target_date") or ""
                for c, v in enumerate((e.urn, e.name, e.phase, e.trust, q.section, q.key, q.text, shown,
                                       data.CLASS_LABELS[kind], "Yes" if from_trust else "No",
                                       plan.get("action") or "", plan.get("owner") or "")):
                    if v:
                        write_string_g(gap_row, c, v)
                        cells += 1
                if target:
                    try:
                        gaps.write_datetime(gap_row, 12, datetime.fromisoformat(target), fmt.date)
                    except ValueError:
                        write_string_g(gap_row, 12, target)
                    cells += 1
        responses.write_number(row_number, 8, from_trust_count)
        cells += 9
        if not e.complete:
            figures.no_return += 1
        elif worst == "gaps":
            figures.with_gaps += 1
        elif worst == "cannot_confirm":
            figures.cannot_confirm += 1
        else:
            figures.fully_met += 1
        for tag, keys in tag_keys.items():
            got = [answers.get(k) for k in keys]
            if all(g is not None for g in got):
                figures.tags[tag]["answered"] += 1
                if any(g[2] for g in got):
                    figures.tags[tag]["covered_by_trust"] += 1
            else:
                figures.tags[tag]["not_answered"] += 1
    gaps.autofilter(0, 0, max(gap_row, 1), len(GAPS_HEADER) - 1)
    figures.cells += cells


def _write_questions(sheet, fmt, questions, figures):
    _header(sheet, fmt.header, QUESTIONS_HEADER, [24, 22, 60, 14, 8, 8, 8, 10, 10, 9, 9, 9, 10, 10])
    whole = figures.in_scope
    for row, q in enumerate(questions, start=1):
        c = figures.questions[q.key]
        for column, text in enumerate((q.section, q.key, q.text, ", ".join(q.tags))):
            write_value(sheet, row, column, text)
        for offset, kind in enumerate(data.CLASSES):
            sheet.write_number(row, 4 + offset, c[kind])
            sheet.write_number(row, 9 + offset, _rate(c[kind], whole), fmt.pct)
    last = max(len(questions), 1)
    sheet.autofilter(0, 0, last, len(QUESTIONS_HEADER) - 1)
    # RAG on the not-met rate: a fifth or more of establishments is red, a tenth amber.
    _rag_scale(sheet, fmt, 1, 11, last, 11, red_at=0.2, amber_at=0.1, higher_is_worse=True)
    figures.cells += len(QUESTIONS_HEADER) * (len(questions) + 1)


def _rag_scale(sheet, fmt, first_row, first_col, last_row, last_col, *, red_at, amber_at, higher_is_worse):
    if higher_is_worse:
        rules = [(">=", red_at, fmt.red), (">=", amber_at, fmt.amber), ("<", amber_at, fmt.green)]
    else:
        rules = [("<", red_at, fmt.red), ("<", amber_at, fmt.amber), (">=", amber_at, fmt.green)]
    for criteria, value, style in rules:
        sheet.conditional_format(first_row, first_col, last_row, last_col,
                                 {"type": "cell", "criteria": criteria, "value": value, "format": style,
                                  "stop_if_true": True})


def _write_completion(session, cycle, sheet, fmt, figures):
    _header(sheet, fmt.header, COMPLETION_HEADER, [12, 36, 10, 10, 12, 10, 12, 12])
    rows = data.completion_by_group(session, cycle)
    for row, (dimension, group, total, own, covered) in enumerate(rows, start=1):
        write_value(sheet, row, 0, dimension)
        write_value(sheet, row, 1, group)
        for column, number in enumerate((total, own, covered, own + covered, total - own - covered), start=2):
            sheet.write_number(row, column, number)
        sheet.write_number(row, 7, _rate(own + covered, total), fmt.pct)
    last = max(len(rows), 1)
    sheet.autofilter(0, 0, last, len(COMPLETION_HEADER) - 1)
    _rag_scale(sheet, fmt, 1, 7, last, 7, red_at=0.8, amber_at=0.95, higher_is_worse=False)
    figures.cells += len(COMPLETION_HEADER) * (len(rows) + 1)
    return rows


def _write_non_responders(session, cycle, sheet, fmt, establishments, figures):
    missing = [e for e in establishments if not e.complete]
    reminders = data.reminder_history(session, cycle)
    header = ["URN", "Establishment", "Phase", "Type", "District", "Trust", "Return status", "DSL", "DSL email",
              "Other contacts"]
    widths = [10, 36, 12, 22, 16, 30, 16, 24, 32, 40]
    if reminders is not None:
        header += ["Reminders sent", "Last reminder"]
        widths += [10, 14]
    _header(sheet, fmt.header, header, widths)
    contacts = data.dsl_contacts(session, [e.id for e in missing])
    for row, e in enumerate(missing, start=1):
        people = contacts.get(e.id, [])
        first = people[0] if people else ("", "", "")
        others = "; ".join(f"{name} <{email}> ({role})" for name, email, role in people[1:])
        for column, value in enumerate((e.urn, e.name, e.phase, e.type_name, e.district, e.trust,
                                        e.status.replace("_", " ").capitalize(), first[0], first[1], others)):
            write_value(sheet, row, column, value)
        if reminders is not None:
            count, last = reminders.get(e.id, (0, None))
            sheet.write_number(row, 10, count)
            if last is not None:
                sheet.write_datetime(row, 11, last.replace(tzinfo=None), fmt.date)
    sheet.autofilter(0, 0, max(len(missing), 1), len(header) - 1)
    figures.cells += len(header) * (len(missing) + 1)


def _write_actions(session, cycle, sheet, fmt, on, figures):
    _header(sheet, fmt.header, ACTIONS_HEADER, [10, 36, 22, 50, 22, 12, 12, 8, 9, 9, 40, 14])
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
        for column, value in enumerate((urn, name, item.question_key, item.action, item.owner)):
            write_value(sheet, row, column, value)
        write_value(sheet, row, 5, item.target_date, fmt.date)
        write_value(sheet, row, 6, item.status.label)
        write_value(sheet, row, 7, colour.capitalize())
        write_value(sheet, row, 8, "Yes" if overdue else "No")
        write_value(sheet, row, 9, "Yes" if item.from_trust else "No")
        write_value(sheet, row, 10, item.notes)
        write_value(sheet, row, 11, item.updated_at, fmt.date)
    last = max(row, 1)
    sheet.autofilter(0, 0, last, len(ACTIONS_HEADER) - 1)
    for word, style in (("Red", fmt.red), ("Amber", fmt.amber), ("Green", fmt.green)):
        sheet.conditional_format(1, 7, last, 7, {"type": "cell", "criteria": "==", "value": f'"{word}"', "format": style})
    figures.cells += len(ACTIONS_HEADER) * (row + 1)
    return counts


def _write_summary(book, sheet, fmt, cycle, figures, questions, completion_rows, actions):
    sheet.set_column(0, 0, 48)
    sheet.set_column(1, 2, 14)
    scope = cycle.scope or {}
    scope_text = "; ".join(part for part in (
        ("Types: " + ", ".join(scope.get("types") or [])) if scope.get("types") else "",
        ("Phases: " + ", ".join(scope.get("phases") or [])) if scope.get("phases") else "",
    ) if part) or "Every open establishment"
    whole = figures.in_scope
    rows: list[tuple] = [
        ("title", cycle.name),
        ("text", "Cycle", cycle.slug),
        ("text", "Template", f"{cycle.template.title} (version {cycle.template.version})"),
        ("date", "Opened", cycle.opens_on),
        ("date", "Due", cycle.due_on),
        ("text", "Scope", scope_text),
        ("text", "Workbook written", utcnow().strftime("%d %B %Y %H:%M UTC")),
        ("blank",),
        ("head", "Completion", "Establishments", "Rate"),
        ("figure", "Establishments in scope", whole, 1.0 if whole else 0.0),
        ("figure", "Complete (own return or covered by their trust)", figures.complete, _rate(figures.complete, whole)),
        ("figure", "Returned their own audit", figures.own_returned, _rate(figures.own_returned, whole)),
        ("figure", "Covered by their trust's returned audit", figures.covered_by_trust, _rate(figures.covered_by_trust, whole)),
        ("figure", "Not submitted", whole - figures.complete, _rate(whole - figures.complete, whole)),
        ("blank",),
        ("head", "Requirements (effective answers)", "Establishments", "Rate"),
        ("figure", "Fully meeting every requirement", figures.fully_met, _rate(figures.fully_met, whole)),
        ("figure", "Cannot confirm at least one (no other gap)", figures.cannot_confirm, _rate(figures.cannot_confirm, whole)),
        ("figure", "With at least one gap (not met or partly met)", figures.with_gaps, _rate(figures.with_gaps, whole)),
        ("figure", "No answers (not submitted, not covered)", figures.no_return, _rate(figures.no_return, whole)),
        ("blank",),
    ]
    for tag, numbers in figures.tags.items():
        rows.append(("head", f"Questions tagged {tag}", "Establishments", "Rate"))
        rows.append(("figure", f"Answered every {tag} question", numbers["answered"], _rate(numbers["answered"], whole)))
        rows.append(("figure", "  of which some answers are their trust's", numbers["covered_by_trust"],
                     _rate(numbers["covered_by_trust"], whole)))
        rows.append(("figure", f"Did not answer every {tag} question", numbers["not_answered"],
                     _rate(numbers["not_answered"], whole)))
        rows.append(("blank",))
    rows += [
        ("head", "Action plans", "Actions", "Rate"),
        ("figure", "Actions", actions["total"], 1.0 if actions["total"] else 0.0),
        ("figure", "Done", actions["done"], _rate(actions["done"], actions["total"])),
        ("figure", "Overdue", actions["overdue"], _rate(actions["overdue"], actions["total"])),
        ("blank",),
        ("text", "Note", "Answers in italics on a blue background in Responses came from the trust's return."),
        ("blank",),
    ]
    row = 0
    for entry in rows:
        kind = entry[0]
        if kind == "title":
            sheet.write_string(row, 0, entry[1], fmt.title)
        elif kind == "text":
            write_value(sheet, row, 0, entry[1], fmt.bold)
            write_value(sheet, row, 1, entry[2])
        elif kind == "date":
            write_value(sheet, row, 0, entry[1], fmt.bold)
            write_value(sheet, row, 1, entry[2], fmt.date)
        elif kind == "head":
            for column, text in enumerate(entry[1:]):
                sheet.write_string(row, column, text, fmt.header)
        elif kind == "figure":
            write_value(sheet, row, 0, entry[1])
            sheet.write_number(row, 1, entry[2])
            sheet.write_number(row, 2, entry[3], fmt.pct)
        row += 1
    # Chart data: completion by phase, and the ten questions most often not met (tables beside the charts).
    phase_rows = [r for r in completion_rows if r[0] == "Phase"]
    sheet.write_string(row, 0, "Completion by phase", fmt.header)
    sheet.write_string(row, 1, "Complete", fmt.header)
    sheet.write_string(row, 2, "Rate", fmt.header)
    phase_first = row + 1
    for _dimension, group, total, own, covered in phase_rows:
        row += 1
        write_value(sheet, row, 0, group)
        sheet.write_number(row, 1, own + covered)
        sheet.write_number(row, 2, _rate(own + covered, total), fmt.pct)
    phase_last = row
    row += 2
    sheet.write_string(row, 0, "Questions most often not met", fmt.header)
    sheet.write_string(row, 1, "Not met", fmt.header)
    sheet.write_string(row, 2, "Rate", fmt.header)
    top_first = row + 1
    ranked = sorted(questions, key=lambda q: (-figures.questions[q.key]["not_met"], q.key))[:10]
    for q in ranked:
        row += 1
        write_value(sheet, row, 0, f"{q.key}: {q.text}")
        sheet.write_number(row, 1, figures.questions[q.key]["not_met"])
        sheet.write_number(row, 2, _rate(figures.questions[q.key]["not_met"], whole), fmt.pct)
    top_last = row
    if phase_rows:
        chart = book.add_chart({"type": "column"})
        chart.add_series({"name": "Completion rate", "categories": ["Summary", phase_first, 0, phase_last, 0],
                          "values": ["Summary", phase_first, 2, phase_last, 2], "data_labels": {"value": True}})
        chart.set_title({"name": "Completion by phase"})
        chart.set_y_axis({"num_format": "0%", "max": 1, "min": 0})
        chart.set_legend({"none": True})
        sheet.insert_chart(0, 4, chart, {"x_scale": 1.3, "y_scale": 1.1})
    if ranked:
        chart = book.add_chart({"type": "bar"})
        chart.add_series({"name": "Not met rate", "categories": ["Summary", top_first, 0, top_last, 0],
                          "values": ["Summary", top_first, 2, top_last, 2], "data_labels": {"value": True},
                          "fill": {"color": "#D4351C"}})
        chart.set_title({"name": "Questions most often not met"})
        chart.set_x_axis({"num_format": "0%", "min": 0})
        chart.set_y_axis({"reverse": True})
        chart.set_legend({"none": True})
        sheet.insert_chart(18, 4, chart, {"x_scale": 1.6, "y_scale": 1.4})
    sheet.freeze_panes(1, 0)
    figures.cells += row * 3
