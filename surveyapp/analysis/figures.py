"""Completion, coverage, gaps and year on year: pandas in, pandas out.

Everything here works on whole frames (merge, groupby, vectorised comparisons), never a Python
loop per establishment, so a national cycle (24,000 establishments x 60 questions) takes seconds.
No Flask and no database: ``loading.py`` builds a ``CycleData``, tests build one by hand.

Vocabulary
----------
* in scope: an establishment with a place in the cycle.
* submitted: its own response is returned to the LA (submitted or accepted), or a trust response
  that covers it is; ``how`` says which ("own" wins over "trust").
* effective answer: its own returned answer, else its covering trust's returned answer
  (``source`` = "own" or "trust"); responses still being worked on count for nothing.
* class of an answer: met, partly, not_met, cannot_confirm or unanswered (see ``classify``), or
  not_applicable (the answer "Not applicable") or skipped (not asked: the question's condition is
  false). These last two are neither met, nor a gap, nor unanswered, and the rates of the other
  classes leave them out of their denominator.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from surveyapp.audits.answer_types import answer_type

RETURNED = ("submitted", "accepted")
CLASSES = ("met", "partly", "not_met", "cannot_confirm", "unanswered", "not_applicable", "skipped")
GAP_CLASSES = ("not_met", "partly")
#: answers that are not asked of an establishment, or do not apply to it: out of every rate's denominator
NOT_COUNTED = ("not_applicable", "skipped")
NOT_APPLICABLE = "not_applicable"
CLASS_LABELS = {"met": "Met", "partly": "Partly met", "not_met": "Not met", "cannot_confirm": "Cannot confirm",
                "unanswered": "Not answered", "not_applicable": "Not applicable", "skipped": "Not needed"}
#: how good each answered class is, for "better" or "worse" year on year
CLASS_RANK = {"not_met": 0, "cannot_confirm": 1, "partly": 2, "met": 3}
GROUPS = {"phase": "Phase", "type_name": "Type", "district": "District", "trust_name": "Trust"}
NO_TRUST = "Not in a trust"


@dataclass
class CycleData:
    """One cycle as plain frames (see ``surveyapp.analysis.loading`` for the columns)."""

    slug: str
    name: str
    #: the date gap rules are judged at (the cycle's opening date)
    reference: date
    #: establishment_id, urn, name, phase, type_name, district, trust_id, trust_name, response_id, status
    establishments: pd.DataFrame
    #: question_key, text, section_key, section_title, type, required, tags, gap, options, section_position, position
    questions: pd.DataFrame
    #: establishment_id, question_key, value, status (of the establishment's own response)
    answers: pd.DataFrame
    #: trust_id, trust_response_id, question_key, value, status
    trust_answers: pd.DataFrame
    #: establishment_id, trust_response_id, trust_id, status (of the trust response)
    coverage: pd.DataFrame

    def restricted_to_trusts(self, trust_ids: set[int]) -> CycleData:
        """The same cycle seen by a trust lead: only the academies of these trusts."""
        establishments = self.establishments[self.establishments["trust_id"].isin(list(trust_ids))]
        ids = establishments["establishment_id"]
        return CycleData(self.slug, self.name, self.reference, establishments.reset_index(drop=True), self.questions,
                         self.answers[self.answers["establishment_id"].isin(ids)], self.trust_answers,
                         self.coverage[self.coverage["establishment_id"].isin(ids)])


@dataclass
class Analysis:
    """Every figure of one cycle; each frame is ready for a page, a workbook or JSON.

    The summaries below (completion, coverage, ...) are computed once per analysis and shared by
    whoever asks next (the page, the JSON, the workbook): treat the frames they return as read-only."""

    data: CycleData
    #: one row per establishment in scope: register columns, submitted, how, counts of each class, category flags
    establishments: pd.DataFrame
    #: one row per question: counts and rates of each class
    questions: pd.DataFrame
    #: per tag and per section: one row per (tag | section, establishment) with its coverage status
    tag_status: pd.DataFrame
    section_status: pd.DataFrame
    #: (establishments x questions) arrays in the frames' orders: effective value, source code
    #: (0 none, 1 own, 2 trust) and class code (index into CLASSES)
    values: np.ndarray
    source: np.ndarray
    classes: np.ndarray
    previous: Analysis | None = None
    extras: dict = field(default_factory=dict)
    _grid: pd.DataFrame | None = field(default=None, repr=False)
    _summaries: dict = field(default_factory=dict, repr=False)

    @property
    def in_scope(self) -> int:
        return len(self.establishments)

    @property
    def grid(self) -> pd.DataFrame:
        """One row per establishment in scope and question: value, source ("own", "trust", ""), class.

        Built on first use (1.4 million rows at national scale): the workbook and the JSON never need it."""
        if self._grid is None:
            self._grid = _long(self.data, self.values, self.source, self.classes)
        return self._grid

    def once(self, name: str, compute):
        """``compute()`` the first time a summary called ``name`` is asked for, then the same frame again."""
        if name not in self._summaries:
            self._summaries[name] = compute()
        return self._summaries[name]

    def rate(self, count: int) -> float:
        return count / self.in_scope if self.in_scope else 0.0


# --- effective answers and classes -------------------------------------------------------------


def _matrices(data: CycleData) -> tuple[np.ndarray, np.ndarray]:
    """Effective values and their source as (establishments x questions) arrays, in the frames' orders.

    Source codes: 0 no answer, 1 own return, 2 covering trust's return. Filled by fancy indexing:
    trust answers first, then own answers over them, so an academy's own answer always wins."""
    rows = pd.Index(data.establishments["establishment_id"])
    columns = pd.Index(data.questions["question_key"])
    values = np.full((len(rows), len(columns)), "", dtype=object)
    source = np.zeros((len(rows), len(columns)), dtype=np.int8)

    cover = data.coverage[data.coverage["status"].isin(RETURNED)][["establishment_id", "trust_response_id"]]
    cover = cover.drop_duplicates("establishment_id")
    trust = data.trust_answers[data.trust_answers["status"].isin(RETURNED)]
    trust = cover.merge(trust[["trust_response_id", "question_key", "value"]], on="trust_response_id")
    own = data.answers[data.answers["status"].isin(RETURNED)]
    for frame, code in ((trust, 2), (own, 1)):
        given = frame["value"].fillna("").astype(object).to_numpy()
        i = rows.get_indexer(frame["establishment_id"])
        j = columns.get_indexer(frame["question_key"])
        keep = (i >= 0) & (j >= 0) & (given != "")
        values[i[keep], j[keep]] = given[keep]
        source[i[keep], j[keep]] = code
    return values, source


_CODE = {name: code for code, name in enumerate(CLASSES)}


def _column_classes(values: np.ndarray, kind: str, rule, reference: date) -> np.ndarray:
    """Class codes (indexes into CLASSES) of one question's answers, as ``surveyapp.audits.questions.is_gap``
    judges a gap: "partly" is partly, "unsure" (cannot confirm) is cannot_confirm, another gap is not_met,
    anything else answered is met, and an empty value is unanswered."""
    values = np.asarray(values, dtype=object)
    kind = answer_type(kind)
    gap = kind.gap_mask(values, rule, reference) if isinstance(rule, dict) and rule else np.zeros(len(values), dtype=bool)
    codes = np.where(gap, _CODE["not_met"], _CODE["met"]).astype(np.int8)
    for value, name in kind.classes.items():  # e.g. "partly" is partly, "unsure" is cannot_confirm
        codes[values == value] = _CODE[name]
    codes[values == NOT_APPLICABLE] = _CODE["not_applicable"]
    codes[values == ""] = _CODE["unanswered"]
    return codes


def _class_matrix(values: np.ndarray, questions: pd.DataFrame, reference: date) -> np.ndarray:
    classes = np.empty(values.shape, dtype=np.int8)
    # One vectorised pass per question (about 60), each over every establishment at once.
    for j, (kind, rule) in enumerate(zip(questions["type"], questions["gap"])):
        classes[:, j] = _column_classes(values[:, j], kind, rule, reference)
    classes[_skipped(values, questions)] = _CODE["skipped"]
    return classes


def _skipped(values: np.ndarray, questions: pd.DataFrame) -> np.ndarray:
    """Where a question was not asked because its condition is false, as ``surveyapp.audits.questions.skipped_keys``
    judges it: the earlier answer is not one listed, or the earlier question was itself skipped."""
    skipped = np.zeros(values.shape, dtype=bool)
    if "condition" not in questions:
        return skipped
    column = {key: j for j, key in enumerate(questions["question_key"])}
    for j, condition in enumerate(questions["condition"]):
        if isinstance(condition, dict) and condition.get("question") in column:
            earlier = column[condition["question"]]
            skipped[:, j] = skipped[:, earlier] | ~np.isin(values[:, earlier], [str(v) for v in condition["in"]])
    return skipped


def classify(grid: pd.DataFrame, questions: pd.DataFrame, reference: date) -> pd.Series:
    """The class of each (question_key, value) row of a long frame under its question's gap rule."""
    codes = np.full(len(grid), _CODE["unanswered"], dtype=np.int8)
    keys = grid["question_key"].to_numpy()
    values = grid["value"].fillna("").astype(object).to_numpy()
    for key, kind, rule in zip(questions["question_key"], questions["type"], questions["gap"]):
        rows = keys == key
        codes[rows] = _column_classes(values[rows], kind, rule, reference)
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(CLASSES)), index=grid.index)


def effective_answers(data: CycleData) -> pd.DataFrame:
    """One row per establishment in scope and question: the effective value and where it came from."""
    values, source = _matrices(data)
    return _long(data, values, source)


def _long(data: CycleData, values: np.ndarray, source: np.ndarray, classes: np.ndarray | None = None) -> pd.DataFrame:
    n, m = values.shape
    grid = pd.DataFrame({
        "establishment_id": np.repeat(data.establishments["establishment_id"].to_numpy(), m),
        "question_key": pd.Categorical.from_codes(np.tile(np.arange(m), n), categories=list(data.questions["question_key"])),
        "value": values.ravel(),
        "source": pd.Categorical.from_codes(source.ravel(), categories=["", "own", "trust"]),
    })
    if classes is not None:
        grid["class"] = pd.Categorical.from_codes(classes.ravel(), categories=list(CLASSES))
    return grid


# --- the whole analysis ------------------------------------------------------------------------


def analyse(data: CycleData, previous: CycleData | None = None) -> Analysis:
    """Compute every figure of the cycle (and of the previous one, for year on year)."""
    values, source = _matrices(data)
    classes = _class_matrix(values, data.questions, data.reference)
    establishments = _completion_columns(data)
    required = data.questions["required"].fillna(True).astype(bool).to_numpy()
    for code, name in enumerate(CLASSES):
        establishments[name] = (classes == code).sum(axis=1)
    establishments["required_unanswered"] = ((classes == _CODE["unanswered"]) & required).sum(axis=1)
    establishments["answers_from_trust"] = (source == 2).sum(axis=1)
    establishments["gaps"] = establishments["not_met"] + establishments["partly"]
    establishments["with_gaps"] = establishments["submitted"] & (establishments["gaps"] > 0)
    establishments["any_cannot_confirm"] = establishments["submitted"] & (establishments["cannot_confirm"] > 0)
    establishments["fully_met"] = (establishments["submitted"] & (establishments["gaps"] == 0)
                                   & (establishments["cannot_confirm"] == 0) & (establishments["required_unanswered"] == 0))

    in_scope = len(establishments)
    questions = data.questions[["question_key", "text", "section_key", "section_title", "type", "required", "tags"]].copy()
    for code, name in enumerate(CLASSES):
        questions[name] = (classes == code).sum(axis=0)
    # Not applicable and not needed answers are out of the denominator of every other rate.
    questions["counted"] = in_scope - questions[list(NOT_COUNTED)].sum(axis=1)
    for name in CLASSES:
        denominator = pd.Series(in_scope, index=questions.index) if name in NOT_COUNTED else questions["counted"]
        questions[f"{name}_rate"] = (questions[name] / denominator.where(denominator > 0)).fillna(0.0)
    questions["from_trust"] = (source == 2).sum(axis=0)

    tag_columns: dict[str, list[int]] = {}
    for j, tags in enumerate(data.questions["tags"]):
        for tag in tags or []:
            tag_columns.setdefault(tag, []).append(j)
    section_columns: dict[str, list[int]] = {}
    for j, key in enumerate(data.questions["section_key"]):
        section_columns.setdefault(key, []).append(j)
    submitted = establishments["submitted"].to_numpy()
    analysis = Analysis(
        data=data, establishments=establishments, questions=questions.reset_index(drop=True),
        tag_status=_coverage_status(source, submitted, establishments, tag_columns, "tag"),
        section_status=_coverage_status(source, submitted, establishments, section_columns, "section_key"),
        values=values, source=source, classes=classes,
    )
    if previous is not None:
        analysis.previous = analyse(previous)
    return analysis


def _completion_columns(data: CycleData) -> pd.DataFrame:
    frame = data.establishments.copy()
    cover = data.coverage[data.coverage["status"].isin(RETURNED)]
    own = frame["status"].isin(RETURNED)
    covered = frame["establishment_id"].isin(cover["establishment_id"])
    frame["submitted"] = own | covered
    frame["how"] = np.where(own, "own", np.where(covered, "trust", ""))
    frame["trust_name"] = frame["trust_name"].fillna(NO_TRUST)
    return frame.reset_index(drop=True)


def _coverage_status(source: np.ndarray, submitted: np.ndarray, establishments: pd.DataFrame,
                     columns: dict[str, list[int]], column: str) -> pd.DataFrame:
    """Per (tag or section, establishment): own, trust, skipped or not_submitted.

    An establishment answered a tag if it has an effective answer to at least one question with
    that tag; it answered through its trust if any of those answers came from the trust's return."""
    if not columns or establishments.empty:
        return pd.DataFrame(columns=[column, "establishment_id", "status"])
    frames = []
    for name, indexes in columns.items():  # one pass per tag or section, each over every establishment
        block = source[:, indexes]
        answered = (block > 0).any(axis=1)
        by_trust = (block == 2).any(axis=1)
        status = np.select([answered & by_trust, answered, submitted], ["trust", "own", "skipped"], default="not_submitted")
        frames.append(pd.DataFrame({column: name, "establishment_id": establishments["establishment_id"].to_numpy(),
                                    "status": status}))
    return pd.concat(frames, ignore_index=True)


# --- summaries for pages, JSON and text --------------------------------------------------------


def completion(analysis: Analysis) -> dict:
    """In scope, submitted (own, by trust), the rate and the URNs not submitted (computed once per analysis)."""
    return analysis.once("completion", lambda: _completion(analysis))


def _completion(analysis: Analysis) -> dict:
    frame = analysis.establishments
    submitted = int(frame["submitted"].sum())
    by_trust = int((frame["how"] == "trust").sum())
    return {
        "in_scope": analysis.in_scope, "submitted": submitted, "completion_rate": analysis.rate(submitted),
        "submitted_own": submitted - by_trust, "covered_by_trust": by_trust,
        "not_submitted": frame.loc[~frame["submitted"], "urn"].tolist(),
    }


def completion_by(analysis: Analysis, group: str) -> pd.DataFrame:
    """In scope, submitted (own, by trust), not submitted and the rate, per phase/type/district/trust."""
    return analysis.once(f"completion_by:{group}", lambda: _completion_by(analysis, group))


def _completion_by(analysis: Analysis, group: str) -> pd.DataFrame:
    frame = analysis.establishments.assign(own=lambda f: f["how"] == "own", by_trust=lambda f: f["how"] == "trust")
    table = frame.groupby(group, dropna=False).agg(
        in_scope=("establishment_id", "size"), submitted=("submitted", "sum"), own=("own", "sum"),
        by_trust=("by_trust", "sum"),
    ).reset_index().rename(columns={group: "group"})
    table["not_submitted"] = table["in_scope"] - table["submitted"]
    table["completion_rate"] = table["submitted"] / table["in_scope"]
    return table.sort_values("group").reset_index(drop=True)


def coverage(analysis: Analysis, kind: str = "tag") -> pd.DataFrame:
    """Per tag (or section): answered (own + trust), covered by trust, skipped, not submitted, with rates and URNs."""
    return analysis.once(f"coverage:{kind}", lambda: _coverage(analysis, kind))


def _coverage(analysis: Analysis, kind: str = "tag") -> pd.DataFrame:
    status = analysis.tag_status if kind == "tag" else analysis.section_status
    column = "tag" if kind == "tag" else "section_key"
    if status.empty:
        return pd.DataFrame(columns=[column])
    urns = analysis.establishments.set_index("establishment_id")["urn"]
    order = pd.Series(range(analysis.in_scope), index=analysis.establishments["establishment_id"])
    # Lists of URNs follow the establishments' order (by name), as every other list does.
    status = status.assign(urn=status["establishment_id"].map(urns), order=status["establishment_id"].map(order))
    status = status.sort_values([column, "order"])
    counts = pd.crosstab(status[column], status["status"]).reindex(
        columns=["own", "trust", "skipped", "not_submitted"], fill_value=0)
    table = counts.rename(columns={"own": "answered_own", "trust": "covered_by_trust"}).reset_index()
    table["answered"] = table["answered_own"] + table["covered_by_trust"]
    table["not_answered_count"] = table["skipped"] + table["not_submitted"]
    for name in ("answered", "answered_own", "covered_by_trust", "not_answered_count"):
        table[f"{name}_rate"] = table[name] / analysis.in_scope if analysis.in_scope else 0.0
    # Lists of URNs in one pass over plain lists (a groupby into lists builds a Series per group).
    listed = status[status["status"].isin(["skipped", "not_submitted"])]
    lists: dict[tuple, list] = {}
    for key, state, urn in zip(listed[column].tolist(), listed["status"].tolist(), listed["urn"].tolist()):
        lists.setdefault((key, state), []).append(urn)
    for name in ("skipped", "not_submitted"):
        table[f"{name}_urns"] = [lists.get((key, name), []) for key in table[column]]
    table["not_answered"] = [a + b for a, b in zip(table["not_submitted_urns"], table["skipped_urns"])]
    if kind == "section":
        titles = analysis.data.questions.drop_duplicates("section_key").set_index("section_key")
        table["title"] = table["section_key"].map(titles["section_title"])
        table["position"] = table["section_key"].map(titles["section_position"])
        table = table.sort_values("position")
    return table.reset_index(drop=True)


def question_rates_by(analysis: Analysis, group: str) -> pd.DataFrame:
    """Counts and rates of each class per question within each phase (or type): rates over that group's establishments."""
    rows = analysis.grid.merge(analysis.establishments[["establishment_id", group]], on="establishment_id")
    counts = rows.groupby([group, "question_key", "class"], observed=False).size().unstack("class", fill_value=0)
    counts = counts.reindex(columns=list(CLASSES), fill_value=0).reset_index()
    sizes = analysis.establishments.groupby(group).size()
    counts["in_group"] = counts[group].map(sizes)
    counts = counts[counts["in_group"].notna()]
    for name in CLASSES:
        counts[f"{name}_rate"] = counts[name] / counts["in_group"]
    return counts.rename(columns={group: "group"}).reset_index(drop=True)


def establishment_gaps(analysis: Analysis) -> pd.DataFrame:
    """One row per establishment and question that is not met or partly met (its list of gaps)."""
    gaps = analysis.grid[analysis.grid["class"].isin(GAP_CLASSES)]
    gaps = gaps.merge(analysis.establishments[["establishment_id", "urn", "name"]], on="establishment_id")
    gaps = gaps.merge(analysis.data.questions[["question_key", "text", "section_title", "section_position", "position"]],
                      on="question_key")
    return gaps.sort_values(["name", "urn", "section_position", "position"]).reset_index(drop=True)


def most_not_met(analysis: Analysis, limit: int = 10) -> pd.DataFrame:
    frame = analysis.questions.assign(order=range(len(analysis.questions)))
    frame = frame[frame["not_met"] > 0].sort_values(["not_met", "order"], ascending=[False, True])
    return frame.head(limit).reset_index(drop=True)


def establishment_lists(analysis: Analysis) -> dict[str, list[str]]:
    """URNs of the establishments fully meeting every requirement, that cannot confirm one, with gaps."""
    return analysis.once("establishment_lists", lambda: _establishment_lists(analysis))


def _establishment_lists(analysis: Analysis) -> dict[str, list[str]]:
    frame = analysis.establishments
    return {
        "fully_met": frame.loc[frame["fully_met"], "urn"].tolist(),
        "cannot_confirm": frame.loc[frame["any_cannot_confirm"], "urn"].tolist(),
        "with_gaps": frame.loc[frame["with_gaps"], "urn"].tolist(),
    }


# --- year on year ------------------------------------------------------------------------------


def year_on_year_questions(analysis: Analysis) -> pd.DataFrame:
    """For each question key in both cycles: each class's rate now, before, and the change."""
    return analysis.once("year_on_year_questions", lambda: _year_on_year_questions(analysis))


def _year_on_year_questions(analysis: Analysis) -> pd.DataFrame:
    if analysis.previous is None:
        return pd.DataFrame(columns=["question_key"])
    rate_columns = [f"{name}_rate" for name in CLASSES]
    now = analysis.questions[["question_key", "text", *rate_columns]]
    before = analysis.previous.questions[["question_key", *rate_columns]]
    frame = now.merge(before, on="question_key", suffixes=("", "_previous"))
    for column in rate_columns:
        frame[f"{column}_change"] = frame[column] - frame[f"{column}_previous"]
    return frame.reset_index(drop=True)


def year_on_year_establishments(analysis: Analysis) -> pd.DataFrame:
    """Per establishment and common question answered in both cycles: before, after and better/worse (changes only)."""
    return analysis.once("year_on_year_establishments", lambda: _year_on_year_establishments(analysis))


def _year_on_year_establishments(analysis: Analysis) -> pd.DataFrame:
    columns = ["establishment_id", "urn", "name", "question_key", "before", "after", "change"]
    if analysis.previous is None:
        return pd.DataFrame(columns=columns)
    now, before = analysis.classes, analysis.previous.classes
    rows = pd.Index(analysis.previous.establishments["establishment_id"]).get_indexer(analysis.establishments["establishment_id"])
    keys = analysis.data.questions["question_key"]
    cols = pd.Index(analysis.previous.data.questions["question_key"]).get_indexer(keys)
    here_rows, here_cols = np.flatnonzero(rows >= 0), np.flatnonzero(cols >= 0)
    rank = np.array([CLASS_RANK.get(name, -1) for name in CLASSES])
    after_rank = rank[now[np.ix_(here_rows, here_cols)]]
    before_codes = before[np.ix_(rows[here_rows], cols[here_cols])]
    before_rank = rank[before_codes]
    i, j = np.nonzero((after_rank >= 0) & (before_rank >= 0) & (after_rank != before_rank))
    names = np.array(CLASSES, dtype=object)
    frame = analysis.establishments.iloc[here_rows[i]][["establishment_id", "urn", "name"]].reset_index(drop=True)
    frame["question_key"] = keys.to_numpy()[here_cols[j]]
    frame["before"] = names[before_codes[i, j]]
    frame["after"] = names[now[here_rows[i], here_cols[j]]]
    frame["change"] = np.where(after_rank[i, j] > before_rank[i, j], "better", "worse")
    return frame[columns].sort_values(["name", "urn", "question_key"]).reset_index(drop=True)


# --- the headline and the machine-readable summary ---------------------------------------------


def pct(rate: float) -> str:
    return f"{round(rate * 100)}%"


def headline(analysis: Analysis, tag: str | None = None) -> str:
    """The sentence a board reads first, e.g. '399 of 411 establishments (97%) completed the audit;
    345 (84%) answered the Prevent questions, 30 of them through their trust'."""
    figures = completion(analysis)
    sentence = (f"{figures['submitted']} of {figures['in_scope']} establishments ({pct(figures['completion_rate'])}) "
                "completed the audit")
    tags = coverage(analysis, "tag")
    if tag is None and not tags.empty:
        tag = "prevent" if "prevent" in set(tags["tag"]) else tags["tag"].iloc[0]
    if tag is not None and not tags.empty and tag in set(tags["tag"]):
        row = tags[tags["tag"] == tag].iloc[0]
        label = "Prevent" if tag == "prevent" else tag.replace("_", " ")
        sentence += (f"; {row['answered']} ({pct(row['answered_rate'])}) answered the {label} questions, "
                     f"{row['covered_by_trust']} of them through their trust")
    return sentence


def _rate(value: float) -> float:
    return round(float(value), 4)


def _changes_by_urn(changes: pd.DataFrame) -> dict[str, dict[str, list[str]]]:
    # One pass over plain lists: a pandas groupby into lists makes a Series per URN (seconds at national scale).
    result: dict[str, dict[str, list[str]]] = {}
    for urn, change, key in zip(changes["urn"].tolist(), changes["change"].tolist(), changes["question_key"].tolist()):
        result.setdefault(urn, {"better": [], "worse": []})[change].append(key)
    return result


def to_json(analysis: Analysis) -> dict:
    """The figures other tools read (`surveyapp analysis --format json`). Rates are fractions of establishments in scope."""
    figures = completion(analysis)
    lists = establishment_lists(analysis)
    result = {
        "cycle": analysis.data.slug,
        "in_scope": figures["in_scope"],
        "submitted": figures["submitted"],
        "submitted_own": figures["submitted_own"],
        "covered_by_trust": figures["covered_by_trust"],
        "completion_rate": _rate(figures["completion_rate"]),
        "not_submitted": figures["not_submitted"],
        "headline": headline(analysis),
        "completion_by": {
            group: {str(row.group): {"in_scope": int(row.in_scope), "submitted": int(row.submitted),
                                     "by_trust": int(row.by_trust), "completion_rate": _rate(row.completion_rate)}
                    for row in completion_by(analysis, group).itertuples()}
            for group in GROUPS
        },
        "tags": {}, "sections": {}, "questions": {},
        "establishments": {
            **lists,
            **{f"{name}_count": len(urns) for name, urns in lists.items()},
            **{f"{name}_rate": _rate(analysis.rate(len(urns))) for name, urns in lists.items()},
        },
        "most_not_met": most_not_met(analysis)["question_key"].tolist(),
    }
    for kind, key in (("tag", "tags"), ("section", "sections")):
        for row in coverage(analysis, kind).to_dict("records"):
            result[key][row["tag" if kind == "tag" else "section_key"]] = {
                "answered": int(row["answered"]), "answered_rate": _rate(row["answered_rate"]),
                "answered_own": int(row["answered_own"]), "covered_by_trust": int(row["covered_by_trust"]),
                "covered_by_trust_rate": _rate(row["covered_by_trust_rate"]),
                "not_answered": row["not_answered"], "not_submitted": row["not_submitted_urns"],
                "skipped": row["skipped_urns"],
            }
    for row in analysis.questions.to_dict("records"):
        entry = {name: int(row[name]) for name in CLASSES}
        entry.update({f"{name}_rate": _rate(row[f"{name}_rate"]) for name in CLASSES})
        entry["from_trust"] = int(row["from_trust"])
        result["questions"][row["question_key"]] = entry
    if analysis.previous is not None:
        changes = year_on_year_establishments(analysis)
        result["year_on_year"] = {
            "previous_cycle": analysis.previous.data.slug,
            "questions": {
                row["question_key"]: {f"{name}_rate_change": _rate(row[f"{name}_rate_change"]) for name in CLASSES}
                for row in year_on_year_questions(analysis).to_dict("records")
            },
            "establishments": _changes_by_urn(changes),
        }
    else:
        result["year_on_year"] = None
    return result


def to_text(analysis: Analysis) -> str:
    """A readable summary for the terminal."""
    figures = completion(analysis)
    lines = [f"Cycle {analysis.data.slug}: {analysis.data.name}", headline(analysis) + ".", ""]
    if figures["not_submitted"]:
        shown = figures["not_submitted"][:20]
        more = len(figures["not_submitted"]) - len(shown)
        lines.append(f"Not submitted ({len(figures['not_submitted'])}): " + ", ".join(shown)
                     + (f" and {more} more (--format json lists them all)" if more else ""))
    lists = establishment_lists(analysis)
    lines.append(f"Fully meeting every requirement: {len(lists['fully_met'])} ({pct(analysis.rate(len(lists['fully_met'])))})")
    lines.append(f"Cannot confirm at least one: {len(lists['cannot_confirm'])} ({pct(analysis.rate(len(lists['cannot_confirm'])))})")
    lines.append(f"With gaps: {len(lists['with_gaps'])} ({pct(analysis.rate(len(lists['with_gaps'])))})")
    tags = coverage(analysis, "tag")
    if not tags.empty:
        lines += ["", "Questions by tag:"]
        for row in tags.to_dict("records"):
            lines.append(f"  {row['tag']}: {row['answered']} answered ({pct(row['answered_rate'])}), "
                         f"{row['covered_by_trust']} through their trust, {row['not_answered_count']} not answered")
    worst = most_not_met(analysis, 5)
    if not worst.empty:
        lines += ["", "Questions most often not met:"]
        for row in worst.to_dict("records"):
            lines.append(f"  {row['question_key']}: {row['not_met']} ({pct(row['not_met_rate'])}) {row['text']}")
    if analysis.previous is not None:
        changes = year_on_year_questions(analysis)
        changes = changes.reindex(changes["met_rate_change"].abs().sort_values(ascending=False).index).head(10)
        lines += ["", f"Largest changes in the rate met since {analysis.previous.data.slug}:"]
        for row in changes.to_dict("records"):
            lines.append(f"  {row['question_key']}: met {pct(row['met_rate_previous'])} -> {pct(row['met_rate'])}")
    return "\n".join(lines) + "\n"


# --- who is behind a figure ----------------------------------------------------------------------

class UnknownFilter(ValueError):
    """The filter names no figure of this analysis."""


def establishments_behind(analysis: Analysis, filters: dict[str, str]) -> tuple[str, pd.DataFrame]:
    """The establishments counted in one figure, with a description of it.

    :param filters: one of ``question`` + ``class``; ``tag`` (or ``section``) + ``status`` (own, trust, answered,
        skipped, not_submitted, not_answered); ``completion`` (submitted, not_submitted, trust, own) with optional
        ``group`` + ``value``; ``list`` (fully_met, cannot_confirm, with_gaps); ``change`` (better, worse) with
        optional ``question``
    :raises UnknownFilter: the filters name nothing
    """
    frame = analysis.establishments
    questions = analysis.data.questions.set_index("question_key")
    if "change" in filters:
        change = filters["change"]
        if change not in ("better", "worse"):
            raise UnknownFilter(change)
        moves = year_on_year_establishments(analysis)
        moves = moves[moves["change"] == change]
        about = "every question"
        if filters.get("question"):
            if filters["question"] not in questions.index:
                raise UnknownFilter(filters["question"])
            moves = moves[moves["question_key"] == filters["question"]]
            about = f"“{questions.loc[filters['question'], 'text']}”"
        return f"Establishments whose answers got {change} since last year on {about}", frame[frame["establishment_id"].isin(moves["establishment_id"])]
    if "question" in filters:
        key, name = filters["question"], filters.get("class", "")
        if key not in questions.index or name not in CLASSES:
            raise UnknownFilter(key)
        grid = analysis.grid
        ids = grid.loc[(grid["question_key"] == key) & (grid["class"] == name), "establishment_id"]
        return (f"{CLASS_LABELS[name]}: “{questions.loc[key, 'text']}”",
                frame[frame["establishment_id"].isin(ids)])
    for kind, column, status_frame in (("tag", "tag", analysis.tag_status), ("section", "section_key", analysis.section_status)):
        if kind in filters:
            value, status = filters[kind], filters.get("status", "answered")
            wanted = {"own": ["own"], "trust": ["trust"], "answered": ["own", "trust"], "skipped": ["skipped"],
                      "not_submitted": ["not_submitted"], "not_answered": ["skipped", "not_submitted"]}.get(status)
            rows = status_frame[status_frame[column] == value] if not status_frame.empty else status_frame
            if wanted is None or rows.empty:
                raise UnknownFilter(value)
            ids = rows.loc[rows["status"].isin(wanted), "establishment_id"]
            words = {"own": "answered in their own return", "trust": "answered through their trust",
                     "answered": "answered", "skipped": "submitted but skipped", "not_submitted": "did not submit and so did not answer",
                     "not_answered": "did not answer"}[status]
            title = value if kind == "tag" else questions.loc[questions["section_key"] == value, "section_title"].iloc[0]
            label = "Prevent" if title == "prevent" else title
            return f"Establishments that {words} the {label} questions", frame[frame["establishment_id"].isin(ids)]
    if "completion" in filters:
        state = filters["completion"]
        masks = {"submitted": frame["submitted"], "not_submitted": ~frame["submitted"], "trust": frame["how"] == "trust",
                 "own": frame["how"] == "own", "in_scope": frame["submitted"] | True}
        if state not in masks:
            raise UnknownFilter(state)
        chosen = frame[masks[state]]
        words = {"submitted": "completed the audit", "not_submitted": "have not completed the audit",
                 "trust": "completed the audit through their trust", "own": "completed the audit in their own return",
                 "in_scope": "are in scope"}[state]
        group = filters.get("group")
        if group:
            if group not in GROUPS:
                raise UnknownFilter(group)
            chosen = chosen[chosen[group].astype(str) == filters.get("value", "")]
            words += f" ({GROUPS[group].lower()}: {filters.get('value', '')})"
        return f"Establishments that {words}", chosen
    if "list" in filters:
        flags = {"fully_met": ("fully_met", "meet every requirement"),
                 "cannot_confirm": ("any_cannot_confirm", "cannot confirm at least one requirement"),
                 "with_gaps": ("with_gaps", "have at least one gap")}
        if filters["list"] not in flags:
            raise UnknownFilter(filters["list"])
        column, words = flags[filters["list"]]
        return f"Establishments that {words}", frame[frame[column]]
    raise UnknownFilter("no figure named")
