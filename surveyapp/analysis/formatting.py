"""The analysis's figures as words and as JSON: the headline, `surveyapp analysis` text and JSON (no Flask).

Every number here is read from ``surveyapp.analysis.figures``; this module only words it. Each rate names its
denominator: completion is of the establishments in scope, compliance of those that returned.
"""

from __future__ import annotations

import pandas as pd

from surveyapp.analysis import figures
from surveyapp.analysis.figures import CLASSES, GROUPS, Analysis


def pct(rate: float) -> str:
    return f"{round(rate * 100)}%"


def tag_label(tag: str) -> str:
    """A tag as the pages and documents name it ("prevent" -> "Prevent")."""
    return "Prevent" if tag == "prevent" else tag.replace("_", " ")


def headline(analysis: Analysis, tag: str | None = None) -> str:
    """The sentence a board reads first, e.g. '399 of 411 establishments (97%) completed the audit;
    345 (84%) answered the Prevent questions, 30 of them through their trust'."""
    figures_ = figures.completion(analysis)
    sentence = (
        f"{figures_['submitted']} of {figures_['in_scope']} establishments ({pct(figures_['completion_rate'])}) "
        "completed the audit"
    )
    tags = figures.coverage(analysis, "tag")
    if tag is None and not tags.empty:
        tag = "prevent" if "prevent" in set(tags["tag"]) else tags["tag"].iloc[0]
    if tag is not None and not tags.empty and tag in set(tags["tag"]):
        row = tags[tags["tag"] == tag].iloc[0]
        sentence += (
            f"; {row['answered']} ({pct(row['answered_rate'])}) answered the {tag_label(tag)} questions, "
            f"{row['covered_by_trust']} of them through their trust"
        )
    return sentence


def denominators(analysis: Analysis) -> dict[str, str]:
    """The two denominators in words, for a page or a document to state."""
    return {
        "completion": f"of the {analysis.in_scope} establishments in scope",
        "compliance": f"of the {analysis.returned} establishments that have returned",
    }


def _rate(value: float) -> float:
    return round(float(value), 4)


def _changes_by_urn(changes: pd.DataFrame) -> dict[str, dict[str, list[str]]]:
    # One pass over plain lists: a pandas groupby into lists makes a Series per URN (seconds at national scale).
    result: dict[str, dict[str, list[str]]] = {}
    for urn, change, key in zip(
        changes["urn"].tolist(), changes["change"].tolist(), changes["question_key"].tolist(), strict=True
    ):
        result.setdefault(urn, {"better": [], "worse": []})[change].append(key)
    return result


def _compliance_entry(row: dict) -> dict:
    return {
        "judged": int(row["answered"]),
        **{name: row[f"{name}_urns"] for name in ("fully_met", "cannot_confirm", "with_gaps")},
        **{f"{name}_count": int(row[name]) for name in ("fully_met", "cannot_confirm", "with_gaps")},
        **{f"{name}_rate": _rate(row[f"{name}_rate"]) for name in ("fully_met", "cannot_confirm", "with_gaps")},
    }


def to_json(analysis: Analysis) -> dict:
    """The figures other tools read (`surveyapp analysis --format json`).

    ``completion_rate`` and each tag's ``answered_rate`` are of the establishments in scope; every other rate is of
    those that returned (``returned``), per question less its "not applicable" answers (``base``); a tag's or
    section's ``fully_met_rate`` etc. are of the establishments that answered its questions (``judged``)."""
    totals = figures.completion(analysis)
    lists = figures.establishment_lists(analysis)
    result = {
        "cycle": analysis.data.slug,
        "in_scope": totals["in_scope"],
        "submitted": totals["submitted"],
        "returned": analysis.returned,
        "submitted_own": totals["submitted_own"],
        "covered_by_trust": totals["covered_by_trust"],
        "completion_rate": _rate(totals["completion_rate"]),
        "not_submitted": totals["not_submitted"],
        "denominators": {"completion": "in_scope", "compliance": "returned"},
        "headline": headline(analysis),
        "completion_by": {
            group: {
                str(row.group): {
                    "in_scope": int(row.in_scope),
                    "submitted": int(row.submitted),
                    "by_trust": int(row.by_trust),
                    "completion_rate": _rate(row.completion_rate),
                }
                for row in figures.completion_by(analysis, group).itertuples()
            }
            for group in GROUPS
        },
        "tags": {},
        "sections": {},
        "questions": {},
        "establishments": {
            **lists,
            **{f"{name}_count": len(urns) for name, urns in lists.items()},
            **{f"{name}_rate": _rate(analysis.compliance_rate(len(urns))) for name, urns in lists.items()},
        },
        "most_not_met": figures.most_not_met(analysis)["question_key"].tolist(),
    }
    for kind, key in (("tag", "tags"), ("section", "sections")):
        name_column = "tag" if kind == "tag" else "section_key"
        judged = {row[name_column]: row for row in figures.compliance_by(analysis, kind).to_dict("records")}
        for row in figures.coverage(analysis, kind).to_dict("records"):
            result[key][row[name_column]] = {
                "answered": int(row["answered"]),
                "answered_rate": _rate(row["answered_rate"]),
                "answered_own": int(row["answered_own"]),
                "covered_by_trust": int(row["covered_by_trust"]),
                "covered_by_trust_rate": _rate(row["covered_by_trust_rate"]),
                "not_answered": row["not_answered"],
                "not_submitted": row["not_submitted_urns"],
                "skipped": row["skipped_urns"],
                **_compliance_entry(judged[row[name_column]]),
            }
    for row in analysis.questions.to_dict("records"):
        entry = {name: int(row[name]) for name in CLASSES}
        entry.update({f"{name}_rate": _rate(row[f"{name}_rate"]) for name in CLASSES})
        entry.update({"returned": int(row["returned"]), "base": int(row["base"]), "from_trust": int(row["from_trust"])})
        entry["requirement"] = bool(row["requirement"])
        result["questions"][row["question_key"]] = entry
    if analysis.previous is not None:
        changes = figures.year_on_year_establishments(analysis)
        result["year_on_year"] = {
            **figures.comparison(analysis),
            "questions": {
                row["question_key"]: {
                    **{f"{name}_rate_change": _rate(row[f"{name}_rate_change"]) for name in CLASSES},
                    "met_rate_previous": _rate(row["met_rate_previous"]),
                    "met_rate": _rate(row["met_rate"]),
                    "both_years": int(row["both_years"]),
                    "met_rate_both_previous": _rate(row["met_rate_both_previous"]),
                    "met_rate_both": _rate(row["met_rate_both"]),
                }
                for row in figures.year_on_year_questions(analysis).to_dict("records")
            },
            "establishments": _changes_by_urn(changes),
        }
    else:
        result["year_on_year"] = None
    return result


def to_text(analysis: Analysis) -> str:
    """A readable summary for the terminal."""
    totals = figures.completion(analysis)
    returned = analysis.returned
    lines = [f"Cycle {analysis.data.slug}: {analysis.data.name}", headline(analysis) + ".", ""]
    if totals["not_submitted"]:
        shown = totals["not_submitted"][:20]
        more = len(totals["not_submitted"]) - len(shown)
        lines.append(
            f"Not submitted ({len(totals['not_submitted'])}): "
            + ", ".join(shown)
            + (f" and {more} more (--format json lists them all)" if more else "")
        )
    lists = figures.establishment_lists(analysis)
    lines.append(f"Of the {returned} establishments that have returned:")
    for name, words in (
        ("fully_met", "fully meet every requirement"),
        ("cannot_confirm", "cannot confirm at least one"),
        ("with_gaps", "have at least one gap"),
    ):
        count = len(lists[name])
        lines.append(f"  {count} ({pct(analysis.compliance_rate(count))}) {words}")
    tags = figures.coverage(analysis, "tag")
    if not tags.empty:
        judged = figures.compliance_by(analysis, "tag").set_index("tag")
        lines += ["", f"Questions by tag (answered: of the {analysis.in_scope} in scope; met: of those that answered):"]
        for row in tags.to_dict("records"):
            j = judged.loc[row["tag"]]
            lines.append(
                f"  {row['tag']}: {row['answered']} answered ({pct(row['answered_rate'])}), "
                f"{row['covered_by_trust']} through their trust, {row['not_answered_count']} not answered; "
                f"{j['fully_met']} ({pct(j['fully_met_rate'])}) fully met, {j['cannot_confirm']} "
                f"({pct(j['cannot_confirm_rate'])}) cannot confirm one, {j['with_gaps']} "
                f"({pct(j['with_gaps_rate'])}) with gaps"
            )
    worst = figures.most_not_met(analysis, 5)
    if not worst.empty:
        lines += ["", f"Questions most often not met (of the {returned} returns):"]
        for row in worst.to_dict("records"):
            lines.append(f"  {row['question_key']}: {row['not_met']} ({pct(row['not_met_rate'])}) {row['text']}")
    basis = figures.comparison(analysis)
    if basis is not None:
        changes = figures.year_on_year_questions(analysis)
        changes = changes.reindex(changes["met_rate_change"].abs().sort_values(ascending=False).index).head(10)
        lines += ["", f"Largest changes in the rate met since {basis['previous_cycle']} ({comparison_words(basis)}):"]
        for row in changes.to_dict("records"):
            lines.append(f"  {row['question_key']}: met {pct(row['met_rate_previous'])} -> {pct(row['met_rate'])}")
    return "\n".join(lines) + "\n"


def comparison_words(basis: dict) -> str:
    """How last year is compared, in words: 'last year's returns 30 days before its due date' or 'whole cycles'."""
    if basis["basis"] == "same_point":
        days = basis["days_before_due"]
        when = (
            f"{days} days before its due date"
            if days > 0
            else "on its due date"
            if days == 0
            else f"{-days} days after its due date"
        )
        return f"last year's returns as they stood {when}, as this year's stand now"
    return "whole cycle against whole cycle"
