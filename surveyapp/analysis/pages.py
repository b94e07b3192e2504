"""What the analysis pages show, as plain lists and dicts built from an ``Analysis`` (no Flask).

Each chart is a list of bars ``{label, rate, text, params}``: ``params`` are the query arguments of the
page listing the establishments behind the bar, so every figure links to who it counts.
"""
from __future__ import annotations

import pandas as pd

from surveyapp.analysis import figures
from surveyapp.analysis.figures import CLASS_LABELS, CLASSES, GROUPS, NOT_COUNTED, Analysis, pct
from surveyapp.analysis.rates import LaRates


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def cycle_page(analysis: Analysis, group: str = "phase") -> dict:
    """Everything the cycle analysis page shows."""
    totals = figures.completion(analysis)
    lists = figures.establishment_lists(analysis)
    by_group = figures.completion_by(analysis, group)
    questions = analysis.questions
    tags = figures.coverage(analysis, "tag")
    sections = figures.coverage(analysis, "section")
    page = {
        "headline": figures.headline(analysis),
        "totals": totals,
        "rate_text": pct,
        "group": group, "groups": GROUPS,
        "lists": {name: {"count": len(urns), "rate": analysis.rate(len(urns))} for name, urns in lists.items()},
        "completion_chart": [
            {"label": str(row.group), "rate": float(row.completion_rate),
             "text": f"{row.submitted} of {row.in_scope} ({pct(row.completion_rate)})",
             "params": {"completion": "submitted", "group": group, "value": str(row.group)},
             "row": row._asdict()}
            for row in by_group.itertuples()
        ],
        "gap_chart": [
            {"label": _short(f"{row['text']}"), "key": row["question_key"], "text_full": row["text"],
             "rate": float(row["not_met_rate"] + row["partly_rate"]),
             "text": f"{row['not_met'] + row['partly']} ({pct(row['not_met_rate'] + row['partly_rate'])})",
             "params": {"question": row["question_key"], "class": "not_met"}, "row": row}
            for row in questions.to_dict("records")
        ],
        "classes": [(name, CLASS_LABELS[name]) for name in CLASSES],
        "tags": tags.to_dict("records") if not tags.empty else [],
        "sections": sections.to_dict("records") if not sections.empty else [],
        "most_not_met": figures.most_not_met(analysis, 5).to_dict("records"),
        "previous": None,
    }
    if analysis.previous is not None:
        changes = figures.year_on_year_questions(analysis)
        moves = figures.year_on_year_establishments(analysis)
        counts = moves.groupby(["question_key", "change"]).size()
        page["previous"] = {
            "slug": analysis.previous.data.slug,
            "rows": [
                {**row, "better": int(counts.get((row["question_key"], "better"), 0)),
                 "worse": int(counts.get((row["question_key"], "worse"), 0))}
                for row in changes.to_dict("records")
            ],
            "better": int(moves.loc[moves["change"] == "better", "establishment_id"].nunique()),
            "worse": int(moves.loc[moves["change"] == "worse", "establishment_id"].nunique()),
        }
    return page


def respondent_page(own: Analysis, la: LaRates, previous_own: Analysis | None = None,
                    previous_la: LaRates | None = None) -> dict:
    """One establishment's class per question beside the LA's rates (never another school's answers).

    :param own: the analysis of this establishment alone (``load_cycle(cycle, only=[id])``)
    :param la: the LA's rates for the cycle (``surveyapp.analysis.rates``)
    :param previous_own: the same for last year's cycle, if there was one; ``previous_la`` its LA rates
    """
    own_grid = own.grid.set_index("question_key")
    previous = {}
    previous_rates = {}
    if previous_own is not None and previous_la is not None:
        previous = dict(zip(previous_own.grid["question_key"].astype(str), previous_own.grid["class"].astype(str)))
        previous_rates = dict(zip(previous_la.questions["question_key"], previous_la.questions["met_rate"]))
    questions = la.questions
    section_rows = []
    for section_key, block in questions.groupby("section_key", sort=False):
        keys = block["question_key"].tolist()
        mine = own_grid.loc[keys, "class"].astype(str) if len(own_grid) else pd.Series(dtype=str)
        # Not applicable and not needed answers are out of both shares.
        counted = int(block["counted"].sum()) if "counted" in block else len(keys) * la.in_scope
        la_met = block["met"].sum() / counted if counted else 0.0
        asked = len(keys) - int(mine.isin(NOT_COUNTED).sum())
        section_rows.append({
            "key": section_key, "title": block["section_title"].iloc[0],
            "own_met": int((mine == "met").sum()), "questions": asked, "la_met_rate": la_met,
            "rows": [
                {"key": row["question_key"], "text": row["text"],
                 "own": str(own_grid.loc[row["question_key"], "class"]) if len(own_grid) else "unanswered",
                 "source": own_grid.loc[row["question_key"], "source"] if len(own_grid) else "",
                 "la_met_rate": row["met_rate"], "previous": previous.get(row["question_key"]),
                 "la_previous_met_rate": previous_rates.get(row["question_key"])}
                for row in block.to_dict("records")
            ],
        })
    return {"sections": section_rows, "class_labels": CLASS_LABELS, "rate_text": pct,
            "previous_slug": previous_own.data.slug if previous_own is not None else None,
            "in_scope": la.in_scope}
