"""CSV exports of a cycle's raw responses and gap list, from the analysis's frames (no Flask).

The classes and the trust cover are the analysis layer's (the same as the workbook and the
analysis page); every cell goes through exports.safe, so text that could start a formula is
written behind an apostrophe.
"""
from __future__ import annotations

import csv

import numpy as np

from surveyapp.analysis import figures
from surveyapp.analysis.figures import CLASSES
from surveyapp.analysis.loading import load_cycle, load_follow_ups
from surveyapp.exports.safe import safe_row
from surveyapp.exports.tables import CLASS_LABELS, board_tables, completion_words, shown_answers

RESPONSES_HEADER = ["URN", "Establishment", "Phase", "Type", "District", "Trust", "Return", "Section", "Question key",
                    "Question", "Answer", "Answer as displayed", "From trust", "Class"]
GAPS_HEADER = ["URN", "Establishment", "Phase", "Trust", "Section", "Question key", "Question", "Answer", "Class",
               "From trust", "Planned action", "Owner", "Target date"]


def write_responses_csv(session, cycle, out) -> int:
    """One row per establishment and question (unanswered included) to the text file ``out``; returns rows."""
    analysis = figures.analyse(load_cycle(cycle, session))
    shown, returned = shown_answers(analysis), completion_words(analysis.establishments)
    writer = csv.writer(out)
    writer.writerow(RESPONSES_HEADER)
    questions = analysis.data.questions[["section_title", "question_key", "text"]].to_numpy().tolist()
    labels = np.asarray([CLASS_LABELS[name] for name in CLASSES], dtype=object)
    count = 0
    for i, e in enumerate(analysis.establishments.to_dict("records")):
        fixed = (e["urn"], e["name"], e["phase"], e["type_name"], e["district"], e["trust_name"], returned[i])
        classes = labels[analysis.classes[i]]
        for j, (section, key, text) in enumerate(questions):
            writer.writerow(safe_row((*fixed, section, key, text, analysis.values[i, j], shown[i, j],
                                      "Yes" if analysis.source[i, j] == 2 else "No", classes[j])))
            count += 1
    return count


def write_gaps_csv(session, cycle, out) -> int:
    """One row per establishment and answer not met, partly met or cannot confirm; returns rows."""
    analysis = figures.analyse(load_cycle(cycle, session))
    gaps = board_tables(analysis, load_follow_ups(cycle, session)).gaps
    writer = csv.writer(out)
    writer.writerow(GAPS_HEADER)
    for g in gaps.to_dict("records"):
        writer.writerow(safe_row((g["urn"], g["name"], g["phase"], g["trust_name"], g["section_title"],
                                  g["question_key"], g["text"], g["shown"], g["class_label"],
                                  "Yes" if g["from_trust"] else "No", g["action"], g["owner"], g["target_date"])))
    return len(gaps)
