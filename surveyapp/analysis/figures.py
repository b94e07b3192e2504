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
  false), or information (any answer, or none, to a question with no gap rule: the date of a meeting,
  a comment; it records a fact and is no requirement). These last three are neither met, nor a gap,
  nor unanswered.
* requirement: a question with a gap rule. Only requirements are met or not: a question without a rule
  has a ``base`` of 0 and no compliance rate (pages and sheets show a dash, not "0%" or "100% met").

Two denominators, and every rate says which one it is over:

* completion (submitted, answered a tag's questions) is over the establishments **in scope**;
* compliance (met, partly, not met, cannot confirm, not answered) is over the establishments that
  **returned**, on their own or through their trust, less those that answered the question "not applicable"
  or were not asked it (``base`` per question). An establishment that has not returned counts in no
  compliance rate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from surveyapp.audits.answer_types import answer_type

RETURNED = ("submitted", "accepted")
# New classes go at the end: the codes of the others (their index here) are kept in int8 matrices.
CLASSES = ("met", "partly", "not_met", "cannot_confirm", "unanswered", "not_applicable", "skipped", "information")
#: the classes that make up a question's compliance denominator (every class of a return but the two not counted)
BASE_CLASSES = CLASSES[:5]
GAP_CLASSES = ("not_met", "partly")
#: answers that are not asked of an establishment, do not apply to it, or answer no requirement: out of every
#: compliance rate's denominator
NOT_COUNTED = ("not_applicable", "skipped", "information")
NOT_APPLICABLE = "not_applicable"
CLASS_LABELS = {
    "met": "Met",
    "partly": "Partly met",
    "not_met": "Not met",
    "cannot_confirm": "Cannot confirm",
    "unanswered": "Not answered",
    "not_applicable": "Not applicable",
    "skipped": "Not needed",
    "information": "For information",
}
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
    #: the cycle's due date, when known (year on year compares returns at the same distance from it)
    due_on: date | None = None
    #: set when the returns are counted as they stood at the end of this day (see ``returns_by``)
    as_at: date | None = None

    def restricted_to_trusts(self, trust_ids: set[int]) -> CycleData:
        """The same cycle seen by a trust lead: only the academies of these trusts."""
        establishments = self.establishments[self.establishments["trust_id"].isin(list(trust_ids))]
        ids = establishments["establishment_id"]
        return CycleData(
            self.slug,
            self.name,
            self.reference,
            establishments.reset_index(drop=True),
            self.questions,
            self.answers[self.answers["establishment_id"].isin(ids)],
            self.trust_answers,
            self.coverage[self.coverage["establishment_id"].isin(ids)],
            self.due_on,
            self.as_at,
        )

    def returns_by(self, day: date) -> CycleData:
        """The same cycle with only the returns submitted by the end of ``day`` counted as returned.

        Needs ``submitted_at`` on ``establishments`` (own response) and ``coverage`` (trust response); a
        return without a submission time (an import, say) counts as returned whenever it was."""

        def late(frame: pd.DataFrame) -> pd.Series:
            if "submitted_at" not in frame.columns or frame.empty:
                return pd.Series(False, index=frame.index)
            when = pd.to_datetime(frame["submitted_at"], utc=True, errors="coerce")
            limit = pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1)
            return frame["status"].isin(RETURNED) & when.notna() & (when >= limit)

        establishments = self.establishments.copy()
        establishments.loc[late(establishments), "status"] = "in_progress"
        late_ids = set(establishments.loc[establishments["status"] == "in_progress", "establishment_id"])
        answers = self.answers.copy()
        answers.loc[answers["establishment_id"].isin(late_ids) & answers["status"].isin(RETURNED), "status"] = (
            "in_progress"
        )
        coverage = self.coverage.copy()
        late_trust = set(coverage.loc[late(coverage), "trust_response_id"])
        coverage.loc[coverage["trust_response_id"].isin(late_trust), "status"] = "in_progress"
        trust_answers = self.trust_answers.copy()
        trust_answers.loc[trust_answers["trust_response_id"].isin(late_trust), "status"] = "in_progress"
        return CycleData(
            self.slug,
            self.name,
            self.reference,
            establishments,
            self.questions,
            answers,
            trust_answers,
            coverage,
            self.due_on,
            day,
        )


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
    #: (0 none, 1 own, 2 trust) and class code (index into CLASSES). ``values`` is None for an analysis
    #: made in batches (``analyse_in_batches``): each batch's values were let go once it was done.
    values: np.ndarray | None
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
    def returned(self) -> int:
        """Establishments that returned, on their own or through their trust: the compliance denominator."""
        return int(self.establishments["submitted"].sum())

    @property
    def grid(self) -> pd.DataFrame:
        """One row per establishment in scope and question: value, source ("own", "trust", ""), class.

        Built on first use (1.4 million rows at national scale): the workbook and the JSON never need it."""
        if self._grid is None:
            self._grid = _long(self.data, effective_values(self), self.source, self.classes)
        return self._grid

    def once(self, name: str, compute):
        """``compute()`` the first time a summary called ``name`` is asked for, then the same frame again."""
        if name not in self._summaries:
            self._summaries[name] = compute()
        return self._summaries[name]

    def rate(self, count: int) -> float:
        """``count`` as a share of the establishments in scope (completion)."""
        return count / self.in_scope if self.in_scope else 0.0

    def compliance_rate(self, count: int) -> float:
        """``count`` as a share of the establishments that returned (compliance)."""
        return count / self.returned if self.returned else 0.0


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
    trust = cover.merge(trust[["trust_response_id", "question_key", "value", "status"]], on="trust_response_id")
    # The own answers (a million rows at national scale) are never copied as a frame, and are placed a
    # block of rows at a time, so their positions and masks stay small.
    for frame, code in ((trust, 2), (data.answers, 1)):
        for start in range(0, len(frame), BLOCK):
            block = frame.iloc[start : start + BLOCK]
            given = block["value"].to_numpy(dtype=object)
            i = rows.get_indexer(block["establishment_id"])
            j = columns.get_indexer(block["question_key"])
            keep = block["status"].isin(RETURNED).to_numpy() & (i >= 0) & (j >= 0) & pd.notna(given) & (given != "")
            i, j = i[keep], j[keep]
            values[i, j] = given[keep]
            source[i, j] = code
    return values, source


#: answer rows placed in the matrices at a time
BLOCK = 100_000

_CODE = {name: code for code, name in enumerate(CLASSES)}


def is_requirement(rule) -> bool:
    """Whether a question with this gap rule is a requirement: one without a rule is for information."""
    return isinstance(rule, dict) and bool(rule)


def _column_classes(values: np.ndarray, kind: str, rule, reference: date) -> np.ndarray:
    """Class codes (indexes into CLASSES) of one question's answers, as ``surveyapp.audits.questions.is_gap``
    judges a gap: "partly" is partly, "unsure" (cannot confirm) is cannot_confirm, another gap is not_met,
    anything else answered is met, and an empty value is unanswered. Without a rule every answer but
    Not applicable is information."""
    values = np.asarray(values, dtype=object)
    if not is_requirement(rule):
        # No rule, no requirement: a "Partly" or a blank here is neither partly met nor a missing answer.
        codes = np.full(len(values), _CODE["information"], dtype=np.int8)
        codes[values == NOT_APPLICABLE] = _CODE["not_applicable"]
        return codes
    kind = answer_type(kind)
    codes = np.where(kind.gap_mask(values, rule, reference), _CODE["not_met"], _CODE["met"]).astype(np.int8)
    for value, name in kind.classes.items():  # e.g. "partly" is partly, "unsure" is cannot_confirm
        codes[values == value] = _CODE[name]
    codes[values == NOT_APPLICABLE] = _CODE["not_applicable"]
    codes[values == ""] = _CODE["unanswered"]
    return codes


def _class_matrix(values: np.ndarray, questions: pd.DataFrame, reference: date) -> np.ndarray:
    classes = np.empty(values.shape, dtype=np.int8)
    # One vectorised pass per question (about 60), each over every establishment at once.
    for j, (kind, rule) in enumerate(zip(questions["type"], questions["gap"], strict=True)):
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
    for key, kind, rule in zip(questions["question_key"], questions["type"], questions["gap"], strict=True):
        rows = keys == key
        codes[rows] = _column_classes(values[rows], kind, rule, reference)
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(CLASSES)), index=grid.index)


def effective_answers(data: CycleData) -> pd.DataFrame:
    """One row per establishment in scope and question: the effective value and where it came from."""
    values, source = _matrices(data)
    return _long(data, values, source)


def _long(data: CycleData, values: np.ndarray, source: np.ndarray, classes: np.ndarray | None = None) -> pd.DataFrame:
    n, m = values.shape
    grid = pd.DataFrame(
        {
            "establishment_id": np.repeat(data.establishments["establishment_id"].to_numpy(), m),
            "question_key": pd.Categorical.from_codes(
                np.tile(np.arange(m), n), categories=list(data.questions["question_key"])
            ),
            "value": values.ravel(),
            "source": pd.Categorical.from_codes(source.ravel(), categories=["", "own", "trust"]),
        }
    )
    if classes is not None:
        grid["class"] = pd.Categorical.from_codes(classes.ravel(), categories=list(CLASSES))
    return grid


# --- the whole analysis ------------------------------------------------------------------------


@dataclass
class Cells:
    """A run of consecutive establishments of a cycle, one cell per establishment and question.

    The same arrays as an ``Analysis`` has for the whole cycle, for rows ``start`` to ``start + len(establishments)``
    of it: what the exports write about each establishment's answers, a batch at a time."""

    #: the batch's data: its establishments, their answers and trust cover; the cycle's questions and trust answers
    data: CycleData
    #: the batch's rows of the analysis's establishments frame (completion columns: submitted, how, ...)
    establishments: pd.DataFrame
    values: np.ndarray
    source: np.ndarray
    classes: np.ndarray
    #: the position of the batch's first establishment in the whole cycle's order
    start: int = 0


def effective_values(cells: Analysis | Cells) -> np.ndarray:
    """The effective values of an analysis or a batch of cells (see ``Analysis.values``)."""
    if cells.values is None:
        raise ValueError("this analysis was made in batches: its values were written batch by batch and let go")
    return cells.values


def cells(data: CycleData, establishments: pd.DataFrame | None = None, start: int = 0) -> Cells:
    """Every establishment's effective value, source and class per question, in ``data``'s orders.

    :param establishments: ``data``'s establishments with their completion columns (made here if not given)
    :param start: where these establishments start in the whole cycle (for an analysis in batches)"""
    values, source = _matrices(data)
    classes = _class_matrix(values, data.questions, data.reference)
    frame = _completion_columns(data) if establishments is None else establishments
    return Cells(data, frame, values, source, classes, start)


def analyse(data: CycleData, previous: CycleData | None = None) -> Analysis:
    """Compute every figure of the cycle (and of the previous one, for year on year)."""
    whole = cells(data)
    analysis = _analysis(data, whole.establishments, whole.values, whole.source, whole.classes)
    if previous is not None:
        analysis.previous = analyse(previous)
    return analysis


def analyse_in_batches(
    data: CycleData, batches: Iterable[CycleData], on_batch: Callable[[Cells], None] | None = None
) -> Analysis:
    """The same figures as ``analyse(data)``, with the establishments' answers read a batch at a time.

    :param data: the whole cycle (establishments, questions, trust cover and trust answers) without the
        establishments' own answers
    :param batches: ``data``'s establishments in consecutive runs, in its order, each with its own answers
        (and the trust cover of its establishments): see ``surveyapp.analysis.loading.load_in_batches``
    :param on_batch: called with each batch's cells before the next batch is read (e.g. to write their rows)

    Memory is bounded by a batch, not the cycle: a batch's answers, values and derived rows are let go once
    it is done. The whole cycle keeps only one byte per cell for the source and one for the class, from
    which every count and rate is then taken as ``analyse`` takes it. An answer's effective value, source
    and class depend only on its establishment's answers, its covering trust's and the template, so they
    are the same in any batch; the analysis has no ``values``."""
    establishments = _completion_columns(data)
    shape = (len(establishments), len(data.questions))
    source, classes = np.zeros(shape, dtype=np.int8), np.zeros(shape, dtype=np.int8)
    ids = establishments["establishment_id"].to_numpy()
    start = 0
    for batch in batches:
        stop = start + len(batch.establishments)
        if not np.array_equal(batch.establishments["establishment_id"].to_numpy(), ids[start:stop]):
            raise ValueError("batches must take the cycle's establishments in order")
        part = cells(batch, establishments.iloc[start:stop].reset_index(drop=True), start)
        source[start:stop], classes[start:stop] = part.source, part.classes
        if on_batch is not None:
            on_batch(part)
        start = stop
    if start != len(establishments):
        raise ValueError("batches must take every establishment of the cycle")
    return _analysis(data, establishments, None, source, classes)


def _analysis(
    data: CycleData, establishments: pd.DataFrame, values: np.ndarray | None, source: np.ndarray, classes: np.ndarray
) -> Analysis:
    """Every count and rate from the cells' sources and classes.

    :param establishments: the completion columns (``_completion_columns``): the counts are added to this frame"""
    required = data.questions["required"].fillna(True).astype(bool).to_numpy()
    for code, name in enumerate(CLASSES):
        establishments[name] = (classes == code).sum(axis=1)
    establishments["required_unanswered"] = ((classes == _CODE["unanswered"]) & required).sum(axis=1)
    establishments["answers_from_trust"] = (source == 2).sum(axis=1)
    establishments["gaps"] = establishments["not_met"] + establishments["partly"]
    establishments["with_gaps"] = establishments["submitted"] & (establishments["gaps"] > 0)
    establishments["any_cannot_confirm"] = establishments["submitted"] & (establishments["cannot_confirm"] > 0)
    establishments["fully_met"] = (
        establishments["submitted"]
        & (establishments["gaps"] == 0)
        & (establishments["cannot_confirm"] == 0)
        & (establishments["required_unanswered"] == 0)
    )

    questions = data.questions[
        ["question_key", "text", "section_key", "section_title", "type", "required", "tags"]
    ].copy()
    # Compliance counts only returns: an establishment that has not returned is in no class of any question.
    returned = classes[establishments["submitted"].to_numpy()]
    for code, name in enumerate(CLASSES):
        questions[name] = (returned == code).sum(axis=0)
    questions["in_scope"] = len(establishments)
    questions["returned"] = len(returned)
    # Not applicable and not needed answers are out of the denominator of every other rate.
    questions["base"] = questions["returned"] - questions[list(NOT_COUNTED)].sum(axis=1)
    for name in CLASSES:
        over = questions["returned"] if name in NOT_COUNTED else questions["base"]
        questions[f"{name}_rate"] = (questions[name] / over.where(over > 0)).fillna(0.0)
    questions["from_trust"] = ((source == 2) & establishments["submitted"].to_numpy()[:, None]).sum(axis=0)
    questions["requirement"] = [is_requirement(rule) for rule in data.questions["gap"]]

    tag_columns, section_columns = columns_by(data, "tag"), columns_by(data, "section")
    submitted = establishments["submitted"].to_numpy()
    return Analysis(
        data=data,
        establishments=establishments,
        questions=questions.reset_index(drop=True),
        tag_status=_coverage_status(source, submitted, establishments, tag_columns, "tag"),
        section_status=_coverage_status(source, submitted, establishments, section_columns, "section_key"),
        values=values,
        source=source,
        classes=classes,
    )


def columns_by(data: CycleData, kind: str) -> dict[str, list[int]]:
    """The question columns (indexes into the questions frame) of each tag or each section, in page order."""
    columns: dict[str, list[int]] = {}
    if kind == "tag":
        for j, tags in enumerate(data.questions["tags"]):
            for tag in tags or []:
                columns.setdefault(tag, []).append(j)
    else:
        for j, key in enumerate(data.questions["section_key"]):
            columns.setdefault(key, []).append(j)
    return columns


def _completion_columns(data: CycleData) -> pd.DataFrame:
    frame = data.establishments.copy()
    cover = data.coverage[data.coverage["status"].isin(RETURNED)]
    own = frame["status"].isin(RETURNED)
    covered = frame["establishment_id"].isin(cover["establishment_id"])
    frame["submitted"] = own | covered
    frame["how"] = np.where(own, "own", np.where(covered, "trust", ""))
    frame["trust_name"] = frame["trust_name"].fillna(NO_TRUST)
    return frame.reset_index(drop=True)


#: a tag's or section's coverage status, by code
STATUS_WORDS = np.array(["trust", "own", "skipped", "not_submitted"], dtype=object)


def _coverage_status(
    source: np.ndarray, submitted: np.ndarray, establishments: pd.DataFrame, columns: dict[str, list[int]], column: str
) -> pd.DataFrame:
    """Per (tag or section, establishment): own, trust, skipped or not_submitted.

    An establishment answered a tag if it has an effective answer to at least one question with
    that tag; it answered through its trust if any of those answers came from the trust's return."""
    if not columns or establishments.empty:
        return pd.DataFrame(columns=[column, "establishment_id", "status"])
    n = len(establishments)
    # Filled in place, one block of rows per tag or section: a frame per tag, then concatenated, held
    # every row twice at once.
    codes = np.empty(len(columns) * n, dtype=np.intp)
    for k, indexes in enumerate(columns.values()):  # one pass per tag or section, each over every establishment
        block = source[:, indexes]
        answered = (block > 0).any(axis=1)
        by_trust = (block == 2).any(axis=1)
        codes[k * n : (k + 1) * n] = np.select([answered & by_trust, answered, submitted], [0, 1, 2], default=3)
    return pd.DataFrame(
        {
            column: np.repeat(np.array(list(columns), dtype=object), n),
            "establishment_id": np.tile(establishments["establishment_id"].to_numpy(), len(columns)),
            # The four words as shared objects: a numpy text array would become a new string per row.
            "status": STATUS_WORDS[codes],
        }
    )


# --- summaries for pages, JSON and text --------------------------------------------------------


def completion(analysis: Analysis) -> dict:
    """In scope, submitted (own, by trust), the rate and the URNs not submitted (computed once per analysis)."""
    return analysis.once("completion", lambda: _completion(analysis))


def _completion(analysis: Analysis) -> dict:
    frame = analysis.establishments
    submitted = int(frame["submitted"].sum())
    by_trust = int((frame["how"] == "trust").sum())
    return {
        "in_scope": analysis.in_scope,
        "submitted": submitted,
        "completion_rate": analysis.rate(submitted),
        "submitted_own": submitted - by_trust,
        "covered_by_trust": by_trust,
        "not_submitted": frame.loc[~frame["submitted"], "urn"].tolist(),
    }


def completion_by(analysis: Analysis, group: str) -> pd.DataFrame:
    """In scope, submitted (own, by trust), not submitted and the rate, per phase/type/district/trust."""
    return analysis.once(f"completion_by:{group}", lambda: _completion_by(analysis, group))


def _completion_by(analysis: Analysis, group: str) -> pd.DataFrame:
    frame = analysis.establishments.assign(own=lambda f: f["how"] == "own", by_trust=lambda f: f["how"] == "trust")
    table = (
        frame.groupby(group, dropna=False)
        .agg(
            in_scope=("establishment_id", "size"),
            submitted=("submitted", "sum"),
            own=("own", "sum"),
            by_trust=("by_trust", "sum"),
        )
        .reset_index()
        .rename(columns={group: "group"})
    )
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
        columns=["own", "trust", "skipped", "not_submitted"], fill_value=0
    )
    table = counts.rename(columns={"own": "answered_own", "trust": "covered_by_trust"}).reset_index()
    table["answered"] = table["answered_own"] + table["covered_by_trust"]
    table["not_answered_count"] = table["skipped"] + table["not_submitted"]
    for name in ("answered", "answered_own", "covered_by_trust", "not_answered_count"):
        table[f"{name}_rate"] = table[name] / analysis.in_scope if analysis.in_scope else 0.0
    # Lists of URNs in one pass over plain lists (a groupby into lists builds a Series per group).
    listed = status[status["status"].isin(["skipped", "not_submitted"])]
    lists: dict[tuple, list] = {}
    for key, state, urn in zip(listed[column].tolist(), listed["status"].tolist(), listed["urn"].tolist(), strict=True):
        lists.setdefault((key, state), []).append(urn)
    for name in ("skipped", "not_submitted"):
        table[f"{name}_urns"] = [lists.get((key, name), []) for key in table[column]]
    table["not_answered"] = [a + b for a, b in zip(table["not_submitted_urns"], table["skipped_urns"], strict=True)]
    if kind == "section":
        titles = analysis.data.questions.drop_duplicates("section_key").set_index("section_key")
        table["title"] = table["section_key"].map(titles["section_title"])
        table["position"] = table["section_key"].map(titles["section_position"])
        table = table.sort_values("position")
    return table.reset_index(drop=True)


def compliance_by(analysis: Analysis, kind: str = "tag") -> pd.DataFrame:
    """Per tag (or section), among the establishments that answered its questions (own or through their trust):
    how many fully meet them, cannot confirm at least one, have at least one gap, with rates and URNs.

    The denominator is ``answered``: an establishment that returned but answered none of the questions (or only
    "not applicable") is not judged on them, as "345 schools responded to the Prevent questions ... 85% had
    actioned all of the requirements" counts only the 345."""
    return analysis.once(f"compliance:{kind}", lambda: _compliance_by(analysis, kind))


def _compliance_by(analysis: Analysis, kind: str) -> pd.DataFrame:
    column = "tag" if kind == "tag" else "section_key"
    names = ["answered", "fully_met", "cannot_confirm", "with_gaps"]
    columns = columns_by(analysis.data, kind)
    if not columns or analysis.establishments.empty:
        return pd.DataFrame(columns=[column, *names])
    urns = analysis.establishments["urn"].to_numpy(dtype=object)
    submitted = analysis.establishments["submitted"].to_numpy()
    required = analysis.data.questions["required"].fillna(True).astype(bool).to_numpy()
    gap_codes = [_CODE[name] for name in GAP_CLASSES]
    rows = []
    for key, indexes in columns.items():  # one pass per tag or section, each over every establishment
        block = analysis.classes[:, indexes]
        judged = ~np.isin(block, [_CODE["unanswered"], _CODE["not_applicable"], _CODE["information"]])
        answered = submitted & judged.any(axis=1)
        gaps = answered & np.isin(block, gap_codes).any(axis=1)
        unsure = answered & (block == _CODE["cannot_confirm"]).any(axis=1)
        missing = answered & ((block == _CODE["unanswered"]) & required[indexes]).any(axis=1)
        fully = answered & ~gaps & ~unsure & ~missing
        row = {column: key}
        for name, mask in zip(names, (answered, fully, unsure, gaps), strict=True):
            row[name] = int(mask.sum())
            row[f"{name}_urns"] = urns[mask].tolist()
        for name in names[1:]:
            row[f"{name}_rate"] = row[name] / row["answered"] if row["answered"] else 0.0
        rows.append(row)
    table = pd.DataFrame(rows)
    if kind == "section":
        titles = analysis.data.questions.drop_duplicates("section_key").set_index("section_key")
        table["title"] = table["section_key"].map(titles["section_title"])
    else:
        table = table.sort_values("tag")
    return table.reset_index(drop=True)


def question_rates_by(analysis: Analysis, group: str) -> pd.DataFrame:
    """Counts and rates of each class per question within each phase (or type), over that group's returns
    (less its "not applicable" answers), as the LA-wide rates are."""
    chosen = analysis.establishments.loc[analysis.establishments["submitted"], ["establishment_id", group]]
    rows = analysis.grid.merge(chosen, on="establishment_id")
    counts = rows.groupby([group, "question_key", "class"], observed=False).size().unstack("class", fill_value=0)
    counts = counts.reindex(columns=list(CLASSES), fill_value=0).reset_index()
    sizes = chosen.groupby(group).size()
    counts["returned"] = counts[group].map(sizes)
    counts = counts[counts["returned"].notna()]
    counts["base"] = counts["returned"] - counts[list(NOT_COUNTED)].sum(axis=1)
    for name in CLASSES:
        over = counts["returned"] if name in NOT_COUNTED else counts["base"]
        counts[f"{name}_rate"] = (counts[name] / over.where(over > 0)).fillna(0.0)
    return counts.rename(columns={group: "group"}).reset_index(drop=True)


def establishment_gaps(analysis: Analysis) -> pd.DataFrame:
    """One row per establishment and question that is not met or partly met (its list of gaps)."""
    gaps = analysis.grid[analysis.grid["class"].isin(GAP_CLASSES)]
    gaps = gaps.merge(analysis.establishments[["establishment_id", "urn", "name"]], on="establishment_id")
    gaps = gaps.merge(
        analysis.data.questions[["question_key", "text", "section_title", "section_position", "position"]],
        on="question_key",
    )
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
    # A question with no gap rule is met by nobody in either year: it has no rate to compare.
    now = analysis.questions.loc[analysis.questions["requirement"], ["question_key", "text", "base", *rate_columns]]
    earlier = analysis.previous.questions
    before = earlier.loc[earlier["requirement"], ["question_key", "base", *rate_columns]]
    frame = now.merge(before, on="question_key", suffixes=("", "_previous"))
    for column in rate_columns:
        frame[f"{column}_change"] = frame[column] - frame[f"{column}_previous"]
    # The same establishments in both years: those that returned both times and answered the question
    # (anything but "not applicable") both times.
    rows, cols = _common(analysis)
    keys = frame["question_key"].tolist()
    position = {key: n for n, key in enumerate(analysis.data.questions["question_key"])}
    pick = [int(np.flatnonzero(cols[1] == position[key])[0]) for key in keys] if len(keys) else []
    now_codes = analysis.classes[np.ix_(rows[0], cols[1][pick])] if pick else np.empty((len(rows[0]), 0))
    before_codes = analysis.previous.classes[np.ix_(rows[1], cols[2][pick])] if pick else np.empty((len(rows[0]), 0))
    paired = (now_codes != _CODE["not_applicable"]) & (before_codes != _CODE["not_applicable"])
    frame["both_years"] = paired.sum(axis=0) if pick else 0
    both = frame["both_years"].where(frame["both_years"] > 0)
    frame["met_both"] = ((now_codes == _CODE["met"]) & paired).sum(axis=0) if pick else 0
    frame["met_both_previous"] = ((before_codes == _CODE["met"]) & paired).sum(axis=0) if pick else 0
    frame["met_rate_both"] = (frame["met_both"] / both).fillna(0.0)
    frame["met_rate_both_previous"] = (frame["met_both_previous"] / both).fillna(0.0)
    frame["met_rate_both_change"] = frame["met_rate_both"] - frame["met_rate_both_previous"]
    return frame.reset_index(drop=True)


def _common(analysis: Analysis) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Rows of the establishments that returned in both years (indexes now, indexes before) and the columns
    of the questions asked in both (positions in ``cols[1]`` now and ``cols[2]`` before; ``cols[0]`` unused)."""
    previous = analysis.previous
    before_index = pd.Index(previous.establishments["establishment_id"])
    found = before_index.get_indexer(analysis.establishments["establishment_id"])
    returned_now = analysis.establishments["submitted"].to_numpy()
    returned_before = np.zeros(len(found), dtype=bool)
    returned_before[found >= 0] = previous.establishments["submitted"].to_numpy()[found[found >= 0]]
    here = np.flatnonzero((found >= 0) & returned_now & returned_before)
    keys = analysis.data.questions["question_key"]
    cols = pd.Index(previous.data.questions["question_key"]).get_indexer(keys)
    here_cols = np.flatnonzero(cols >= 0)
    return (here, found[here]), (cols, here_cols, cols[here_cols])


def comparison(analysis: Analysis) -> dict | None:
    """How this year is compared with last: at the same point before the due date, or whole cycle against whole cycle.

    :returns: ``{"previous_cycle", "basis": "same_point" | "whole_cycle", "previous_as_at", "days_before_due",
        "returned_both"}``, or None without a previous cycle"""
    previous = analysis.previous
    if previous is None:
        return None
    rows, _cols = _common(analysis)
    as_at = previous.data.as_at
    days = (previous.data.due_on - as_at).days if as_at is not None and previous.data.due_on is not None else None
    return {
        "previous_cycle": previous.data.slug,
        "basis": "same_point" if as_at is not None else "whole_cycle",
        "previous_as_at": as_at.isoformat() if as_at is not None else None,
        "days_before_due": days,
        "returned_both": int(len(rows[0])),
    }


def year_on_year_establishments(analysis: Analysis) -> pd.DataFrame:
    """Per establishment and common question answered in both cycles: before, after and better/worse (changes only)."""
    return analysis.once("year_on_year_establishments", lambda: _year_on_year_establishments(analysis))


def _year_on_year_establishments(analysis: Analysis) -> pd.DataFrame:
    columns = ["establishment_id", "urn", "name", "question_key", "before", "after", "change"]
    if analysis.previous is None:
        return pd.DataFrame(columns=columns)
    now, before = analysis.classes, analysis.previous.classes
    (here_rows, before_rows), (_cols, here_cols, before_cols) = _common(analysis)
    keys = analysis.data.questions["question_key"]
    rank = np.array([CLASS_RANK.get(name, -1) for name in CLASSES])
    after_codes = now[np.ix_(here_rows, here_cols)]
    before_codes = before[np.ix_(before_rows, before_cols)]
    after_rank, before_rank = rank[after_codes], rank[before_codes]
    i, j = np.nonzero((after_rank >= 0) & (before_rank >= 0) & (after_rank != before_rank))
    names = np.array(CLASSES, dtype=object)
    frame = analysis.establishments.iloc[here_rows[i]][["establishment_id", "urn", "name"]].reset_index(drop=True)
    frame["question_key"] = keys.to_numpy()[here_cols[j]]
    frame["before"] = names[before_codes[i, j]]
    frame["after"] = names[after_codes[i, j]]
    frame["change"] = np.where(after_rank[i, j] > before_rank[i, j], "better", "worse")
    return frame[columns].sort_values(["name", "urn", "question_key"]).reset_index(drop=True)


# --- who is behind a figure ----------------------------------------------------------------------


def denominator_of(analysis: Analysis, filters) -> tuple[int, str]:
    """What the figure these filters name is out of: (count, words), e.g. (4, "establishments that have returned").

    Completion figures are out of the establishments in scope; an answer class or a list of establishments out of
    those that returned (a question less its "not applicable" answers); a topic's list out of those that answered it."""
    for kind, column in (("tag", "tag"), ("section", "section_key")):
        if kind in filters and "list" in filters:
            judged = compliance_by(analysis, kind)
            row = judged[judged[column] == filters[kind]]
            return (int(row["answered"].iloc[0]) if len(row) else 0), "establishments that answered these questions"
    if "change" in filters and analysis.previous is not None:
        return comparison(analysis)["returned_both"], "establishments that returned in both years"
    if "question" in filters and "change" not in filters:
        row = analysis.questions[analysis.questions["question_key"] == filters["question"]]
        if filters.get("class") in NOT_COUNTED:
            return analysis.returned, "establishments that have returned"
        base = int(row["base"].iloc[0]) if len(row) else analysis.returned
        return (
            base,
            "establishments that have returned and answered it (not “not applicable”)"
            if base != analysis.returned
            else "establishments that have returned",
        )
    if "list" in filters:
        return analysis.returned, "establishments that have returned"
    return analysis.in_scope, "establishments in scope"


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
        return f"Establishments whose answers got {change} since last year on {about}", frame[
            frame["establishment_id"].isin(moves["establishment_id"])
        ]
    if "question" in filters:
        key, name = filters["question"], filters.get("class", "")
        if key not in questions.index or name not in CLASSES:
            raise UnknownFilter(key)
        grid = analysis.grid
        ids = grid.loc[(grid["question_key"] == key) & (grid["class"] == name), "establishment_id"]
        # As the question's counts: only returns have a class (an establishment yet to return has no answer).
        chosen = frame[frame["establishment_id"].isin(ids) & frame["submitted"]]
        return (f"{CLASS_LABELS[name]}: “{questions.loc[key, 'text']}”", chosen)
    for kind, column in (("tag", "tag"), ("section", "section_key")):
        if kind in filters and "list" in filters:
            judged = compliance_by(analysis, kind)
            chosen = judged[judged[column] == filters[kind]] if not judged.empty else judged
            words = {
                "fully_met": "meet every requirement",
                "cannot_confirm": "cannot confirm at least one requirement",
                "with_gaps": "have at least one gap",
            }.get(filters["list"])
            if chosen.empty or words is None:
                raise UnknownFilter(filters[kind])
            row = chosen.iloc[0]
            title = row["tag"] if kind == "tag" else row["title"]
            label = "Prevent" if title == "prevent" else title
            return (
                f"Establishments that answered the {label} questions and {words} among them",
                frame[frame["urn"].isin(row[f"{filters['list']}_urns"])],
            )
    for kind, column, status_frame in (
        ("tag", "tag", analysis.tag_status),
        ("section", "section_key", analysis.section_status),
    ):
        if kind in filters:
            value, status = filters[kind], filters.get("status", "answered")
            wanted = {
                "own": ["own"],
                "trust": ["trust"],
                "answered": ["own", "trust"],
                "skipped": ["skipped"],
                "not_submitted": ["not_submitted"],
                "not_answered": ["skipped", "not_submitted"],
            }.get(status)
            rows = status_frame[status_frame[column] == value] if not status_frame.empty else status_frame
            if wanted is None or rows.empty:
                raise UnknownFilter(value)
            ids = rows.loc[rows["status"].isin(wanted), "establishment_id"]
            words = {
                "own": "answered in their own return",
                "trust": "answered through their trust",
                "answered": "answered",
                "skipped": "submitted but skipped",
                "not_submitted": "did not submit and so did not answer",
                "not_answered": "did not answer",
            }[status]
            title = (
                value if kind == "tag" else questions.loc[questions["section_key"] == value, "section_title"].iloc[0]
            )
            label = "Prevent" if title == "prevent" else title
            return f"Establishments that {words} the {label} questions", frame[frame["establishment_id"].isin(ids)]
    if "completion" in filters:
        state = filters["completion"]
        masks = {
            "submitted": frame["submitted"],
            "not_submitted": ~frame["submitted"],
            "trust": frame["how"] == "trust",
            "own": frame["how"] == "own",
            "in_scope": frame["submitted"] | True,
        }
        if state not in masks:
            raise UnknownFilter(state)
        chosen = frame[masks[state]]
        words = {
            "submitted": "completed the audit",
            "not_submitted": "have not completed the audit",
            "trust": "completed the audit through their trust",
            "own": "completed the audit in their own return",
            "in_scope": "are in scope",
        }[state]
        group = filters.get("group")
        if group:
            if group not in GROUPS:
                raise UnknownFilter(group)
            chosen = chosen[chosen[group].astype(str) == filters.get("value", "")]
            words += f" ({GROUPS[group].lower()}: {filters.get('value', '')})"
        return f"Establishments that {words}", chosen
    if "list" in filters:
        flags = {
            "fully_met": ("fully_met", "meet every requirement"),
            "cannot_confirm": ("any_cannot_confirm", "cannot confirm at least one requirement"),
            "with_gaps": ("with_gaps", "have at least one gap"),
        }
        if filters["list"] not in flags:
            raise UnknownFilter(filters["list"])
        column, words = flags[filters["list"]]
        return f"Establishments that {words}", frame[frame[column]]
    raise UnknownFilter("no figure named")
