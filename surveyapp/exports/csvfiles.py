"""CSV exports of a cycle's raw responses and gap list, from the analysis's frames (no Flask).

The classes and the trust cover are the analysis layer's (the same as the workbook and the
analysis page); every cell goes through safe_cells, so text that could start a formula is
written behind an apostrophe.
"""

from __future__ import annotations

import csv

from surveyapp.analysis import figures
from surveyapp.analysis.figures import CLASSES, Cells
from surveyapp.analysis.loading import establishment_ids, load_cycle, load_in_batches
from surveyapp.exports.tables import (
    CLASS_LABELS,
    board_tables,
    completion_words,
    follow_ups,
    shown_answers,
)
from surveyapp.safe_cells import safe_cell, safe_row

RESPONSES_HEADER = [
    "URN",
    "Establishment",
    "Phase",
    "Type",
    "District",
    "Trust",
    "Return",
    "Section",
    "Question key",
    "Question",
    "Answer",
    "Answer as displayed",
    "From trust",
    "Class",
]
GAPS_HEADER = [
    "URN",
    "Establishment",
    "Phase",
    "Trust",
    "Section",
    "Question key",
    "Question",
    "Answer",
    "Class",
    "From trust",
    "Planned action",
    "Owner",
    "Target date",
]


#: establishments read, analysed and written at a time by the responses CSV: its memory stays flat
#: whatever the cycle's size (a national cycle is 1.4 million rows)
CHUNK = 2_000


def write_responses_csv(session, cycle, out) -> int:
    """One row per establishment and question (unanswered included) to the text file ``out``; returns rows.

    The establishments are taken ``CHUNK`` at a time, in the analysis's order: each chunk's answers
    (and its covering trusts' answers) are read and analysed on their own. An answer's class, source
    and display depend only on its establishment's answers, its trust's and the template, so the rows
    are the same as from one analysis of the whole cycle."""
    writer = csv.writer(out)
    writer.writerow(RESPONSES_HEADER)
    labels = [CLASS_LABELS[name] for name in CLASSES]
    from_trust = ("No", "No", "Yes")  # by source code: none, own, trust
    texts: dict = {}  # each distinct answer text made safe once

    def safe(value):
        if value not in texts:
            texts[value] = safe_cell(value)
        return texts[value]

    ids = establishment_ids(cycle, session)
    count = 0
    for start in range(0, len(ids), CHUNK):
        analysis = figures.analyse(load_cycle(cycle, session, only=ids[start : start + CHUNK]))
        questions = [
            tuple(safe_row(question))
            for question in analysis.data.questions[["section_title", "question_key", "text"]].itertuples(index=False)
        ]
        shown, returned = shown_answers(analysis), completion_words(analysis.establishments)
        establishments = analysis.establishments[["urn", "name", "phase", "type_name", "district", "trust_name"]]
        for i, e in enumerate(establishments.itertuples(index=False)):
            fixed = (*safe_row(e), safe_cell(returned[i]))
            values, words = analysis.values[i].tolist(), shown[i].tolist()
            source, classes = analysis.source[i].tolist(), analysis.classes[i].tolist()
            writer.writerows(
                (*fixed, *question, safe(values[j]), safe(words[j]), from_trust[source[j]], labels[classes[j]])
                for j, question in enumerate(questions)
            )
            count += len(questions)
        if len(texts) > 100_000:  # mostly free text: remembering it would cost more than it saves
            texts.clear()
    return count


def write_gaps_csv(session, cycle, out) -> int:
    """One row per establishment and answer not met, partly met or cannot confirm; returns rows.

    Written a batch of establishments at a time as the analysis reads them (``figures.analyse_in_batches``),
    each batch with the follow-up plans of its own and its trusts' returns, read with their answers."""
    writer = csv.writer(out)
    writer.writerow(GAPS_HEADER)
    count = 0

    def write_batch(cells: Cells) -> None:
        nonlocal count
        gaps = board_tables(cells, follow_ups(cells)).gaps
        for g in gaps.to_dict("records"):
            writer.writerow(
                safe_row(
                    (
                        g["urn"],
                        g["name"],
                        g["phase"],
                        g["trust_name"],
                        g["section_title"],
                        g["question_key"],
                        g["text"],
                        g["shown"],
                        g["class_label"],
                        "Yes" if g["from_trust"] else "No",
                        g["action"],
                        g["owner"],
                        g["target_date"],
                    )
                )
            )
        count += len(gaps)

    figures.analyse_in_batches(*load_in_batches(cycle, session, plans=True), write_batch)
    return count
