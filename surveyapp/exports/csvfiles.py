"""CSV exports of a cycle's raw responses and gap list, streamed row by row (no Flask)."""
from __future__ import annotations

import csv

from surveyapp.exports import data
from surveyapp.exports.safe import safe_row

RESPONSES_HEADER = ["URN", "Establishment", "Phase", "Type", "District", "Trust", "Return", "Section", "Question key",
                    "Question", "Answer", "Answer as displayed", "From trust", "Class"]
GAPS_HEADER = ["URN", "Establishment", "Phase", "Trust", "Section", "Question key", "Question", "Answer", "Class",
               "From trust", "Planned action", "Owner", "Target date"]


def write_responses_csv(session, cycle, out) -> int:
    """One row per establishment and question (unanswered included) to the text file ``out``; returns rows."""
    writer = csv.writer(out)
    writer.writerow(RESPONSES_HEADER)
    questions = data.questions_of(cycle)
    count = 0
    for row in data.effective_rows(session, cycle):
        e = row.establishment
        for q in questions:
            value, _plan, from_trust = row.answers.get(q.key, ("", None, False))
            kind = q.classify(value)
            writer.writerow(safe_row((e.urn, e.name, e.phase, e.type_name, e.district, e.trust, e.completion, q.section,
                                      q.key, q.text, value, q.display(value) if value else "",
                                      "Yes" if from_trust else "No", data.CLASS_LABELS[kind])))
            count += 1
    return count


def write_gaps_csv(session, cycle, out) -> int:
    """One row per establishment and gap (not met, partly met or cannot confirm); returns rows."""
    writer = csv.writer(out)
    writer.writerow(GAPS_HEADER)
    questions = data.questions_of(cycle)
    count = 0
    for row in data.effective_rows(session, cycle):
        e = row.establishment
        for q in questions:
            got = row.answers.get(q.key)
            if got is None:
                continue
            value, plan, from_trust = got
            kind = q.classify(value)
            if kind not in ("not_met", "partly", "cannot_confirm"):
                continue
            plan = plan or {}
            writer.writerow(safe_row((e.urn, e.name, e.phase, e.trust, q.section, q.key, q.text, q.display(value),
                                      data.CLASS_LABELS[kind], "Yes" if from_trust else "No", plan.get("action") or "",
                                      plan.get("owner") or "", plan.get("target_date") or "")))
            count += 1
    return count
