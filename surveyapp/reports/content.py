"""The committee report's content: headings, plain-English sentences and tables, from the analysis layer (no Flask).

Every number comes from ``surveyapp.analysis.figures`` (the same figures as the pages, the board workbook and
`surveyapp analysis --format json`), from the reminder history and from the action plans. The content is
built once and written as HTML (for the PDF too) and as Word by ``surveyapp.reports.writers``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from surveyapp.analysis import figures
from surveyapp.analysis.formatting import comparison_words, pct, tag_label
from surveyapp.analysis.loading import load_with_previous
from surveyapp.exports import data
from surveyapp.timeutil import today


@dataclass
class Table:
    """A table of figures; ``chart`` names the column drawn as bars in the HTML and PDF (the table stays beside it)."""

    caption: str
    header: list[str]
    rows: list[list]
    chart: tuple[int, int] | None = None  # (label column, rate column) when the table is also drawn


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Report:
    title: str
    council: str
    cycle_slug: str
    as_at: date
    sections: list[Section]


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _is(count: int, one: str = "is", many: str = "are") -> str:
    return f"{count} {one if count == 1 else many}"


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def build_report(session, cycle, council: str, on: date | None = None) -> Report:
    """Everything the committee report says about ``cycle``.

    :param council: the council's name as the report prints it (the COUNCIL_NAME setting)
    :param on: the day the report is written (overdue actions, like-for-like year on year); default today
    """
    on = on or today()
    current, previous = load_with_previous(cycle, session, on=on)
    analysis = figures.analyse(current, previous)
    sections = [
        _purpose(cycle, council, on),
        _scope(cycle, analysis),
        _completion(cycle, analysis),
        _compliance(analysis),
        _most_not_met(analysis),
        _year_on_year(analysis),
        _non_responders(session, cycle, analysis),
        _action_plans(session, cycle, on),
        _la_actions(session, on),
    ]
    return Report(
        title=f"{cycle.name}: report to committee", council=council, cycle_slug=cycle.slug, as_at=on, sections=sections
    )


def _purpose(cycle, council: str, on: date) -> Section:
    return Section(
        "Purpose",
        [
            f"This report tells the committee how schools and settings answered {council}'s safeguarding self-audit "
            f"({cycle.name}), where they meet the statutory requirements (including the Prevent duty), "
            "where they do not, and what is being done about it.",
            f"The figures are as they stood on {_day(on)}.",
        ],
    )


def _scope(cycle, analysis) -> Section:
    scope = cycle.scope or {}
    kinds = ", ".join(scope.get("types") or []) or "every open school and setting"
    questions = analysis.data.questions
    return Section(
        "Scope and method",
        [
            f"The audit was sent to {_n(analysis.in_scope, 'establishment', 'establishments')} ({kinds.lower()}). "
            f"It opened on {_day(cycle.opens_on)} and was due on {_day(cycle.due_on)}.",
            f"Each establishment's designated safeguarding lead answered {_n(len(questions), 'question', 'questions')} "
            f"in {_n(questions['section_key'].nunique(), 'section', 'sections')} online, and the head teacher or "
            "chair of governors signed it off. A multi-academy trust could answer some questions once for all of its "
            "academies; an academy's own answer counts first.",
            "Completion figures are out of every establishment in scope. Figures about requirements are out of the "
            "establishments that returned the audit, on their own or through their trust, so a school that has not "
            'returned does not count as failing a requirement. A question answered "not applicable" is left out of '
            "that question's figures.",
        ],
    )


def _completion(cycle, analysis) -> Section:
    totals = figures.completion(analysis)
    by_trust = totals["covered_by_trust"]
    paragraphs = [
        f"In the {cycle.slug} audit, {totals['submitted']} establishments out of {totals['in_scope']} "
        f"completed the audit, a completion rate of {pct(totals['completion_rate'])}.",
        (
            f"{_n(by_trust, 'academy was', 'academies were')} covered by their trust's return."
            if by_trust
            else "No academy was covered by its trust's return alone."
        ),
    ]
    tags = figures.coverage(analysis, "tag")
    for row in tags.to_dict("records"):
        paragraphs.append(
            f"{row['answered']} establishments responded to the {tag_label(row['tag'])} questions "
            f"(a completion rate of {pct(row['answered_rate'])}), "
            f"{row['covered_by_trust']} of them through their trust."
        )
    phases = figures.completion_by(analysis, "phase")
    table = Table(
        "Completion by phase",
        ["Phase", "In scope", "Completed", "Through their trust", "Completion rate"],
        [
            [str(r.group), int(r.in_scope), int(r.submitted), int(r.by_trust), pct(r.completion_rate)]
            for r in phases.itertuples()
        ],
        chart=(0, 4),
    )
    return Section("Completion", paragraphs, [table])


def _compliance(analysis) -> Section:
    returned = analysis.returned
    lists = figures.establishment_lists(analysis)
    counts = {name: len(urns) for name, urns in lists.items()}
    rate = analysis.compliance_rate
    paragraphs = [
        f"Of the {returned} establishments that returned the audit, {counts['fully_met']} "
        f"({pct(rate(counts['fully_met']))}) had met all of the requirements. {counts['cannot_confirm']} "
        f"({pct(rate(counts['cannot_confirm']))}) {'was' if counts['cannot_confirm'] == 1 else 'were'} not able to "
        f"confirm at least one requirement, and {counts['with_gaps']} ({pct(rate(counts['with_gaps']))}) had at least "
        "one requirement not met or only partly met.",
    ]
    headline = Table(
        "Headline figures",
        ["Headline figure", "Establishments", "Out of", "Rate"],
        [
            [
                "Completed the audit",
                figures.completion(analysis)["submitted"],
                analysis.in_scope,
                pct(figures.completion(analysis)["completion_rate"]),
            ],
            ["Met all of the requirements", counts["fully_met"], returned, pct(rate(counts["fully_met"]))],
            [
                "Not able to confirm at least one",
                counts["cannot_confirm"],
                returned,
                pct(rate(counts["cannot_confirm"])),
            ],
            ["At least one requirement not met", counts["with_gaps"], returned, pct(rate(counts["with_gaps"]))],
        ],
    )
    tables = [headline]
    judged = figures.compliance_by(analysis, "tag")
    if not judged.empty:
        rows = []
        for row in judged.to_dict("records"):
            label = tag_label(row["tag"])
            rows.append(
                [
                    label,
                    row["answered"],
                    row["fully_met"],
                    pct(row["fully_met_rate"]),
                    row["cannot_confirm"],
                    pct(row["cannot_confirm_rate"]),
                    row["with_gaps"],
                    pct(row["with_gaps_rate"]),
                ]
            )
            paragraphs.append(
                f"Of the {row['answered']} establishments that answered the {label} questions, around "
                f"{pct(row['fully_met_rate'])} had actioned all of the requirements. {pct(row['cannot_confirm_rate'])} "
                f"were not able to confirm that they have all the expected elements in place, and "
                f"{pct(row['with_gaps_rate'])} had at least one requirement not met or only partly met."
            )
        tables.append(
            Table(
                "Requirements by topic",
                [
                    "Topic",
                    "Answered",
                    "Met all",
                    "Met all rate",
                    "Not able to confirm",
                    "Not able to confirm rate",
                    "With gaps",
                    "With gaps rate",
                ],
                rows,
                chart=(0, 3),
            )
        )
    return Section("How many meet the requirements", paragraphs, tables)


def _most_not_met(analysis) -> Section:
    worst = figures.most_not_met(analysis, 10)
    if worst.empty:
        return Section(
            "The requirements most often not met", ["No establishment that returned said a requirement was not met."]
        )
    top = worst.iloc[0]
    paragraphs = [
        f"The requirement most often not met was \u201c{top['text']}\u201d: {int(top['not_met'])} of the "
        f"{int(top['base'])} returns it applied to ({pct(top['not_met_rate'])}) said it was not met.",
    ]
    table = Table(
        "Requirements most often not met",
        ["Question (most often not met)", "Not met", "Out of", "Rate"],
        [
            [row["text"], int(row["not_met"]), int(row["base"]), pct(row["not_met_rate"])]
            for row in worst.to_dict("records")
        ],
        chart=(0, 3),
    )
    return Section("The requirements most often not met", paragraphs, [table])


def _year_on_year(analysis) -> Section:
    basis = figures.comparison(analysis)
    if basis is None:
        return Section(
            "Compared with last year", ["There is no earlier audit with the same questions to compare with."]
        )
    changes = figures.year_on_year_questions(analysis)
    paragraphs = [
        f"This year is compared with {basis['previous_cycle']}: {comparison_words(basis)}. Each year's rate is out of "
        f"that year's returns; the last column follows the {basis['returned_both']} establishments that returned in "
        "both years.",
    ]
    if not changes.empty:
        moved = changes.reindex(changes["met_rate_change"].abs().sort_values(ascending=False).index).iloc[0]
        direction = "rose" if moved["met_rate_change"] > 0 else "fell" if moved["met_rate_change"] < 0 else "stayed"
        paragraphs.append(
            f"The largest change was in \u201c{moved['text']}\u201d: the share meeting it {direction} from "
            f"{pct(moved['met_rate_previous'])} to {pct(moved['met_rate'])}."
        )
    rows = [
        [
            row["text"],
            pct(row["met_rate_previous"]),
            pct(row["met_rate"]),
            f"{round(100 * row['met_rate_change']):+d}",
            f"{pct(row['met_rate_both_previous'])} to {pct(row['met_rate_both'])} (of {int(row['both_years'])})",
        ]
        for row in changes.to_dict("records")
    ]
    table = Table(
        "Met, last year and this year",
        [
            "Question (year on year)",
            f"Met {basis['previous_cycle']}",
            f"Met {analysis.data.slug}",
            "Change (points)",
            "Returned both years",
        ],
        rows,
    )
    return Section("Compared with last year", paragraphs, [table])


def _non_responders(session, cycle, analysis) -> Section:
    frame = analysis.establishments
    missing = frame[~frame["submitted"]]
    history = data.reminder_history(session, cycle) or {}
    rows, sent, none = [], 0, 0
    for e in missing.to_dict("records"):
        count, last = history.get(e["establishment_id"], (0, None))
        sent += count
        none += count == 0
        rows.append(
            [
                e["name"],
                e["urn"],
                str(e["status"]).replace("_", " ").capitalize(),
                int(count),
                _day(last.date()) if last is not None else "None sent",
            ]
        )
    if not rows:
        return Section(
            "Establishments that have not returned", ["Every establishment in scope has returned the audit."]
        )
    paragraphs = [
        f"{_n(len(rows), 'establishment has', 'establishments have')} not returned the audit. Between them they "
        f"were sent {_n(sent, 'reminder', 'reminders')}; {none} of them had not been sent one.",
    ]
    table = Table(
        "Establishments that have not returned",
        ["Establishment (not returned)", "URN", "Audit", "Reminders sent", "Last reminder"],
        rows,
    )
    return Section("Establishments that have not returned", paragraphs, [table])


def action_plan_counts(session, cycle, on: date) -> dict[str, int]:
    """Actions in the establishments' plans for the cycle: total, open, overdue, completed."""
    counts = {"total": 0, "open": 0, "overdue": 0, "completed": 0}
    for item, _urn, _name in data.action_rows(session, cycle):
        counts["total"] += 1
        if item.status.is_open:
            counts["open"] += 1
            counts["overdue"] += item.target_date is not None and item.target_date < on
        else:
            counts["completed"] += 1
    return counts


def _action_plans(session, cycle, on: date) -> Section:
    counts = action_plan_counts(session, cycle, on)
    if not counts["total"]:
        return Section("Establishments' action plans", ["No establishment has an action plan for this audit yet."])
    paragraphs = [
        f"Establishments planned {_n(counts['total'], 'action', 'actions')} to close their gaps. "
        f"{_is(counts['completed'], 'has', 'have')} been completed and {_is(counts['open'])} open, of which "
        f"{_is(counts['overdue'])} past the target date.",
    ]
    table = Table(
        "Establishments' actions",
        ["Actions (establishments)", "Number"],
        [
            ["Planned", counts["total"]],
            ["Open", counts["open"]],
            ["Overdue", counts["overdue"]],
            ["Completed", counts["completed"]],
        ],
    )
    return Section("Establishments' action plans", paragraphs, [table])


def _la_actions(session, on: date) -> Section:
    from surveyapp.la_actions import services as la_actions

    plan = la_actions.summary(session, on)
    heading = "The local authority's own actions"
    if not plan.total:
        return Section(heading, ["The local authority's Prevent and safeguarding action plan has no actions yet."])
    paragraphs = [
        f"The local authority's own Prevent and safeguarding action plan has {_n(plan.total, 'action', 'actions')}: "
        f"{plan.complete} completed and {plan.open} open, of which {_is(plan.overdue)} past the target date. "
        f"{_is(plan.by_rag.get('red', 0))} rated red, {plan.by_rag.get('amber', 0)} amber and "
        f"{plan.by_rag.get('green', 0)} green.",
    ]
    by_area = Table(
        "The local authority's actions by area",
        ["Area", "Actions", "Open", "Overdue", "Completed"],
        [[row.area, row.total, row.open, row.overdue, row.complete] for row in plan.by_area],
    )
    actions = Table(
        "The local authority's actions",
        ["Reference", "Area", "Action", "Target date", "Lead", "RAG", "Status"],
        [
            [
                a.reference,
                a.area,
                a.action,
                _day(a.target_date) if a.target_date else "",
                a.lead,
                a.rag.label,
                a.status.label,
            ]
            for a in la_actions.list_actions(session)
        ],
    )
    tables = [by_area, actions]
    overdue = la_actions.overdue_actions(session, on)
    if overdue:
        tables.append(
            Table(
                "Overdue actions",
                ["Reference (overdue)", "Action", "Target date", "Lead"],
                [[a.reference, a.action, _day(a.target_date), a.lead] for a in overdue],
            )
        )
    return Section(heading, paragraphs, tables)
