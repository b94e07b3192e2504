"""What the analysis pages show, as plain lists and dicts built from an ``Analysis`` (no Flask).

Each chart is a list of bars ``{label, rate, text, params}``: ``params`` are the query arguments of the
page listing the establishments behind the bar, so every figure links to who it counts.
"""

from __future__ import annotations

import pandas as pd

from surveyapp.analysis import figures
from surveyapp.analysis.figures import BASE_CLASSES, CLASS_LABELS, CLASSES, GROUPS, NOT_COUNTED, Analysis
from surveyapp.analysis.formatting import comparison_words, denominators, headline, pct, tag_label
from surveyapp.analysis.rates import LaRates


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _common(analysis: Analysis) -> dict:
    """What every analysis page states: the headline and both denominators, named."""
    return {
        "headline": headline(analysis),
        "rate_text": pct,
        "in_scope": analysis.in_scope,
        "returned": analysis.returned,
        "denominators": denominators(analysis),
        "has_previous": analysis.previous is not None,
    }


def overview_page(analysis: Analysis, group: str = "phase") -> dict:
    """The short overview: headline figures with their denominators, the questions most often not met, completion by
    group."""
    totals = figures.completion(analysis)
    lists = figures.establishment_lists(analysis)
    by_group = figures.completion_by(analysis, group)
    not_submitted = len(totals["not_submitted"])
    return {
        **_common(analysis),
        "totals": totals,
        "group": group,
        "groups": GROUPS,
        "completion_rows": [
            ("In scope", totals["in_scope"], {"completion": "in_scope"}),
            ("Completed the audit", totals["submitted"], {"completion": "submitted"}),
            ("… in their own return", totals["submitted_own"], {"completion": "own"}),
            ("… through their trust’s return", totals["covered_by_trust"], {"completion": "trust"}),
            ("Not completed", not_submitted, {"completion": "not_submitted"}),
        ],
        "compliance_rows": [
            ("Meet every requirement", len(lists["fully_met"]), {"list": "fully_met"}),
            ("Cannot confirm at least one requirement", len(lists["cannot_confirm"]), {"list": "cannot_confirm"}),
            ("Have at least one gap", len(lists["with_gaps"]), {"list": "with_gaps"}),
        ],
        "completion_chart": [
            {
                "label": str(row.group),
                "rate": float(row.completion_rate),
                "text": f"{row.submitted} of {row.in_scope} ({pct(row.completion_rate)})",
                "params": {"completion": "submitted", "group": group, "value": str(row.group)},
                "row": row._asdict(),
            }
            for row in by_group.itertuples()
        ],
        "most_not_met": figures.most_not_met(analysis, 5).to_dict("records"),
    }


def topics_page(analysis: Analysis, kind: str) -> dict:
    """Per tag (``kind="tag"``) or per section: who answered its questions, and how many meet them."""
    coverage = figures.coverage(analysis, kind)
    judged = figures.compliance_by(analysis, kind)
    column = "tag" if kind == "tag" else "section_key"
    rows = []
    if not coverage.empty:
        compliance = judged.set_index(column)
        for row in coverage.to_dict("records"):
            key = row[column]
            label = tag_label(key).capitalize() if kind == "tag" else row["title"]
            rows.append({"key": key, "label": label, "coverage": row, "compliance": compliance.loc[key].to_dict()})
    return {
        **_common(analysis),
        "kind": kind,
        "rows": rows,
        "chart": [
            {
                "label": _short(r["label"]),
                "rate": float(r["compliance"]["fully_met_rate"]),
                "text": f"{r['compliance']['fully_met']} of {r['compliance']['answered']} "
                f"({pct(r['compliance']['fully_met_rate'])})",
            }
            for r in rows
        ],
    }


def questions_page(analysis: Analysis) -> dict:
    """Every question: each class's count and rate over the returns, a chart of gap rates labelled with question
    texts."""
    questions = analysis.questions
    return {
        **_common(analysis),
        "classes": [(name, CLASS_LABELS[name]) for name in CLASSES],
        # Only the classes that make up "Out of" have a rate: one over the returns beside them would be misread.
        "rated": BASE_CLASSES,
        "gap_chart": [
            {
                "label": _short(row["text"]),
                "rate": float(row["not_met_rate"] + row["partly_rate"]),
                "text": (
                    f"{row['not_met'] + row['partly']} of {row['base']} "
                    f"({pct(row['not_met_rate'] + row['partly_rate'])})"
                ),
            }
            for row in questions.to_dict("records")
            # A question with no gap rule is never a gap: it is no requirement, and has no bar.
            if row["requirement"]
        ],
        "rows": questions.to_dict("records"),
    }


def year_on_year_page(analysis: Analysis) -> dict:
    """This year against last, like with like: each question's met rate both years and who got better or worse."""
    basis = figures.comparison(analysis)
    page = {
        **_common(analysis),
        "basis": basis,
        "basis_words": comparison_words(basis) if basis else "",
        "rows": [],
        "chart": [],
    }
    if basis is None:
        return page
    changes = figures.year_on_year_questions(analysis)
    moves = figures.year_on_year_establishments(analysis)
    counts = moves.groupby(["question_key", "change"]).size()
    page["rows"] = [
        {
            **row,
            "better": int(counts.get((row["question_key"], "better"), 0)),
            "worse": int(counts.get((row["question_key"], "worse"), 0)),
        }
        for row in changes.to_dict("records")
    ]
    page["better"] = int(moves.loc[moves["change"] == "better", "establishment_id"].nunique())
    page["worse"] = int(moves.loc[moves["change"] == "worse", "establishment_id"].nunique())
    for row in page["rows"]:
        page["chart"].append(
            {
                "label": _short(row["text"]) + " (last year)",
                "rate": float(row["met_rate_previous"]),
                "text": pct(row["met_rate_previous"]),
                "pattern": "hatch",
            }
        )
        page["chart"].append(
            {
                "label": _short(row["text"]) + " (this year)",
                "rate": float(row["met_rate"]),
                "text": pct(row["met_rate"]),
            }
        )
    return page


def respondent_page(
    own: Analysis, la: LaRates, previous_own: Analysis | None = None, previous_la: LaRates | None = None
) -> dict:
    """One establishment's class per question beside the LA's rates (never another school's answers).

    :param own: the analysis of this establishment alone (``load_cycle(cycle, only=[id])``)
    :param la: the LA's rates for the cycle (``surveyapp.analysis.rates``)
    :param previous_own: the same for last year's cycle, if there was one; ``previous_la`` its LA rates
    """
    own_grid = own.grid.set_index("question_key")
    previous = {}
    previous_rates = {}
    if previous_own is not None and previous_la is not None:
        previous = dict(
            zip(previous_own.grid["question_key"].astype(str), previous_own.grid["class"].astype(str), strict=True)
        )
        # Last year's rate only where the question was a requirement then: otherwise nobody met it.
        before = previous_la.questions[previous_la.questions["requirement"]]
        previous_rates = dict(zip(before["question_key"], before["met_rate"], strict=True))
    questions = la.questions
    section_rows = []
    for section_key, block in questions.groupby("section_key", sort=False):
        keys = block["question_key"].tolist()
        mine = own_grid.loc[keys, "class"].astype(str) if len(own_grid) else pd.Series(dtype=str)
        # Not applicable and not needed answers are out of both shares.
        base = block["base"].sum()
        la_met = block["met"].sum() / base if base else 0.0
        asked = len(keys) - int(mine.isin(NOT_COUNTED).sum())
        section_rows.append(
            {
                "key": section_key,
                "title": block["section_title"].iloc[0],
                "own_met": int((mine == "met").sum()),
                "questions": asked,
                "la_met_rate": la_met,
                "requirements": int(block["requirement"].sum()),
                "rows": [
                    {
                        "key": row["question_key"],
                        "text": row["text"],
                        "own": str(own_grid.loc[row["question_key"], "class"]) if len(own_grid) else "unanswered",
                        "source": own_grid.loc[row["question_key"], "source"] if len(own_grid) else "",
                        "requirement": bool(row["requirement"]),
                        "la_met_rate": row["met_rate"],
                        "previous": previous.get(row["question_key"]),
                        "la_previous_met_rate": previous_rates.get(row["question_key"]),
                    }
                    for row in block.to_dict("records")
                ],
            }
        )
    return {
        "sections": section_rows,
        "class_labels": CLASS_LABELS,
        "rate_text": pct,
        "previous_slug": previous_own.data.slug if previous_own is not None else None,
        "in_scope": la.in_scope,
        "returned": la.returned,
    }
