"""The analysis of a cycle turned into the rows the board workbook and the CSVs write (no Flask).

One source of figures: every count, rate and class in the exports comes from
``surveyapp.analysis.figures``, the same frames the analysis page and
``surveyapp analysis --format json`` use. This module only adds what a spreadsheet shows
and the analysis does not need: answers as they read on the page, and the follow-up plans.
Everything is whole-array work (numpy/pandas), never a Python loop per answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# CLASS_LABELS: what the exports call each class (the same words as the analysis page)
from surveyapp.analysis.figures import CLASS_LABELS, CLASSES, RETURNED, Analysis, Cells, effective_values
from surveyapp.analysis.loading import PLAN_FIELDS
from surveyapp.audits.questions import display

#: the classes listed on the Gaps sheet and in the gaps CSV: the analysis's gaps, and answers that
#: cannot confirm a requirement (they need an action too)
LISTED_CLASSES = ("not_met", "partly", "cannot_confirm")
NOT_RECORDED = "Not recorded"


@dataclass
class BoardTables:
    """An analysis (or a batch of its cells) plus the per-cell text the exports write, in the same row order."""

    analysis: Analysis | Cells
    #: (establishments x questions) answers as displayed ("" where there is none)
    shown: np.ndarray
    #: one row per establishment and listed class (not met, partly, cannot confirm), in sheet order
    gaps: pd.DataFrame
    #: per establishment: "Yes" when a returned trust response covers it
    covered: np.ndarray
    #: per establishment: how it completed, in words
    returned: np.ndarray


def _shown_column(values: np.ndarray, kind: str, options) -> np.ndarray:
    """One question's answers as they read on the page, converting each distinct value once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    words = []
    for value in uniques:
        try:
            words.append(display(kind, value, options) if value else "")
        except ValueError:  # a stored value the type no longer reads (e.g. a malformed date): show it as it is
            words.append(str(value))
    return np.asarray(words, dtype=object)[codes] if len(uniques) else np.full(len(values), "", dtype=object)


def shown_answers(analysis: Analysis | Cells) -> np.ndarray:
    """Every effective answer as displayed, in the analysis's (establishments x questions) order."""
    questions = analysis.data.questions
    values = effective_values(analysis)
    shown = np.empty(values.shape, dtype=object)
    for j, (kind, options) in enumerate(zip(questions["type"], questions["options"], strict=True)):
        shown[:, j] = _shown_column(values[:, j], kind, options or [])
    # A question not asked (its condition is false) reads "Not needed", whatever was left stored for it.
    shown[analysis.classes == CLASSES.index("skipped")] = CLASS_LABELS["skipped"]
    return shown


def completion_words(establishments: pd.DataFrame) -> np.ndarray:
    """How each establishment completed, in words: "Own return submitted", "Covered by trust", "Not submitted"."""
    own = ("Own return " + establishments["status"].astype(str)).to_numpy(dtype=object)
    how = establishments["how"].to_numpy()
    return np.where(how == "own", own, np.where(how == "trust", "Covered by trust", "Not submitted")).astype(object)


def _covered(analysis: Analysis | Cells) -> np.ndarray:
    coverage = analysis.data.coverage
    ids = coverage.loc[coverage["status"].isin(RETURNED), "establishment_id"]
    return np.where(analysis.establishments["establishment_id"].isin(ids), "Yes", "No").astype(object)


def _target_dates(texts: pd.Series) -> np.ndarray:
    """Target dates as dates where they read as ISO dates; anything else as the text the user typed; None if empty."""
    texts = texts.fillna("").astype(str)
    parsed = pd.to_datetime(texts, format="%Y-%m-%d", errors="coerce")
    result = np.where(parsed.notna(), parsed.dt.date.to_numpy(dtype=object), texts.to_numpy(dtype=object))
    result[texts.to_numpy() == ""] = None
    return result


def gap_rows(analysis: Analysis | Cells, shown: np.ndarray, follow_ups: pd.DataFrame | None) -> pd.DataFrame:
    """One row per establishment and question answered not met, partly met or cannot confirm.

    Ordered like the establishments (by name) and then the questions (page order). The planned
    action, owner and target date are the follow-up written beside the answer that counts (the
    establishment's own, or its trust's where the trust's answer is the effective one)."""
    codes = [CLASSES.index(name) for name in LISTED_CLASSES]
    i, j = np.nonzero(np.isin(analysis.classes, codes))
    establishments, questions = analysis.establishments, analysis.data.questions
    from_trust = analysis.source[i, j] == 2
    frame = pd.DataFrame(
        {
            "establishment_id": establishments["establishment_id"].to_numpy()[i],
            "urn": establishments["urn"].to_numpy()[i],
            "name": establishments["name"].to_numpy()[i],
            "phase": establishments["phase"].to_numpy()[i],
            "trust_name": establishments["trust_name"].to_numpy()[i],
            "section_title": questions["section_title"].to_numpy()[j],
            "question_key": questions["question_key"].to_numpy()[j],
            "text": questions["text"].to_numpy()[j],
            "value": effective_values(analysis)[i, j],
            "shown": shown[i, j],
            "class": np.asarray(CLASSES, dtype=object)[analysis.classes[i, j]],
            "from_trust": from_trust,
        }
    )
    frame["class_label"] = frame["class"].map(CLASS_LABELS)
    frame["action"], frame["owner"], frame["target_date"] = "", "", None
    if follow_ups is not None and not follow_ups.empty and len(frame):
        # The answer that counts is the establishment's own or, where it came from the trust, the trust's.
        cover = analysis.data.coverage
        cover = cover[cover["status"].isin(RETURNED)].drop_duplicates("establishment_id")
        trust_response = frame["establishment_id"].map(cover.set_index("establishment_id")["trust_response_id"])
        frame["response_id"] = np.where(
            from_trust,
            trust_response.fillna(-1).to_numpy(dtype=np.int64),
            establishments["response_id"].to_numpy(dtype=np.int64)[i],
        )
        plans = follow_ups.drop_duplicates(["response_id", "question_key"])
        plans = plans.astype({"response_id": np.int64, "question_key": object})
        found = (
            frame[["response_id", "question_key"]]
            .astype({"question_key": object})
            .merge(plans, on=["response_id", "question_key"], how="left")
        )
        frame["action"] = found["action"].fillna("").to_numpy(dtype=object)
        frame["owner"] = found["owner"].fillna("").to_numpy(dtype=object)
        frame["target_date"] = _target_dates(found["target_date"])
        frame = frame.drop(columns="response_id")
    return frame


def follow_ups(cells: Analysis | Cells) -> pd.DataFrame:
    """The follow-up plans beside the returned answers of ``cells``' establishments and of the trust returns
    covering them, keyed by response (the establishment's own or the trust's) and question.

    Taken from the answers themselves, read with their plans (``load_in_batches(..., plans=True)``)."""
    data = cells.data

    def planned(answers: pd.DataFrame) -> pd.DataFrame:
        """The returned answers with something in their plan (most have none: they are dropped first)."""
        written = np.zeros(len(answers), dtype=bool)
        for name in PLAN_FIELDS:
            written |= (answers[name] != "").to_numpy()
        return answers[written & answers["status"].isin(RETURNED).to_numpy()]

    own = planned(data.answers)
    own = own.assign(
        response_id=own["establishment_id"].map(data.establishments.set_index("establishment_id")["response_id"])
    )
    trusts = planned(data.trust_answers)
    trusts = trusts[trusts["trust_response_id"].isin(data.coverage["trust_response_id"])]
    columns = ["response_id", "question_key", *PLAN_FIELDS]
    return pd.concat(
        [
            own[columns].dropna(subset=["response_id"]),
            trusts.rename(columns={"trust_response_id": "response_id"})[columns],
        ],
        ignore_index=True,
    )


def board_tables(analysis: Analysis | Cells, follow_ups: pd.DataFrame | None = None) -> BoardTables:
    """The per-cell text of an analysis, or of one batch of its cells.

    :param follow_ups: the follow-up plans of (at least) its returns and its covering trusts' returns"""
    shown = shown_answers(analysis)
    return BoardTables(
        analysis=analysis,
        shown=shown,
        gaps=gap_rows(analysis, shown, follow_ups),
        covered=_covered(analysis),
        returned=completion_words(analysis.establishments),
    )


def group_label(value) -> str:
    """A group's name in a sheet: an empty register field reads "Not recorded"."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return NOT_RECORDED
    return str(value)
