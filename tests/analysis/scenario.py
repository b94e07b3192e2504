"""One small local authority with known answers, as plain frames (for the pure layer) or as real rows.

Current cycle 2026-27 (judged at 1 September 2026) and last year's 2025-26 (1 September 2025).

=====  ======  ==============  =========  ======================================================
code   URN     name            trust      this year
=====  ======  ==============  =========  ======================================================
A      200001  Alpha Primary   -          own return, everything met            -> fully met
B      200002  Beta Academy    Oak (T1)   nothing of its own, covered by Oak   -> WRAP partly
C      200003  Gamma Academy   Oak (T1)   own return (accepted), Prevent WRAP and % from Oak;
                                          review date too old, SEF cannot confirm, online "no"
D      200004  Delta Primary   -          in progress (answers not counted)     -> not submitted
E      200005  Epsilon Infant  -          own return with gaps, online section skipped
G      200007  Eta Academy     Elm (T2)   Elm's response covers it but is still in progress
F      200006  Foxglove Closed -          closed before the cycle opened       -> not in scope
=====  ======  ==============  =========  ======================================================
"""

from __future__ import annotations

import copy
from datetime import date

import pandas as pd

from surveyapp.analysis.figures import CycleData
from tests.factories import SMALL_TEMPLATE

TEMPLATE = copy.deepcopy(SMALL_TEMPLATE)
TEMPLATE["key"] = "mini-online"
TEMPLATE["sections"].append(
    {
        "key": "online",
        "title": "Online safety",
        "questions": [
            {
                "key": "online_filtering",
                "text": "Are filtering and monitoring checked termly?",
                "type": "yes_no",
                "required": False,
                "tags": ["online"],
                "gap": {"when": ["no"]},
            }
        ],
    }
)

CURRENT = {"slug": "2026-27", "opens_on": date(2026, 9, 1), "due_on": date(2027, 3, 31)}
PREVIOUS = {"slug": "2025-26", "opens_on": date(2025, 9, 1), "due_on": date(2026, 3, 31)}

ALL_MET = {
    "policy_current": "yes",
    "policy_review_date": "2026-06-01",
    "policy_notes": "All fine",
    "prevent_wrap": "yes",
    "prevent_trained_pct": "95",
    "prevent_sef": "yes",
    "online_filtering": "yes",
}

#: code: urn, name, phase, type, district, trust code, open?
ESTABLISHMENTS = {
    "A": ("200001", "Alpha Primary", "Primary", "Community school", "Northtown", None, True),
    "B": ("200002", "Beta Academy", "Secondary", "Academy converter", "Southtown", "T1", True),
    "C": ("200003", "Gamma Academy", "Primary", "Academy converter", "Northtown", "T1", True),
    "D": ("200004", "Delta Primary", "Primary", "Community school", "Easttown", None, True),
    "E": ("200005", "Epsilon Infant", "Primary", "Voluntary aided school", "Northtown", None, True),
    "F": ("200006", "Foxglove Closed", "Primary", "Community school", "Northtown", None, False),
    "G": ("200007", "Eta Academy", "Primary", "Academy sponsor led", "Westtown", "T2", True),
}
TRUSTS = {"T1": ("Oak Learning Trust", "9001"), "T2": ("Elm Trust", "9002")}

#: this year: respondent code -> (status, answers)
CURRENT_RESPONSES = {
    "A": ("submitted", ALL_MET),
    "B": ("not_started", {}),
    "C": (
        "accepted",
        {
            "policy_current": "yes",
            "policy_review_date": "2025-01-01",
            "prevent_sef": "unsure",
            "online_filtering": "no",
        },
    ),
    "D": ("in_progress", {"policy_current": "no", "prevent_wrap": "no"}),
    "E": (
        "submitted",
        {
            "policy_current": "no",
            "policy_review_date": "2026-02-01",
            "prevent_wrap": "no",
            "prevent_trained_pct": "90",
            "prevent_sef": "no",
        },
    ),
    "G": ("not_started", {}),
    "T1": (
        "submitted",
        {
            "policy_current": "yes",
            "policy_review_date": "2026-01-01",
            "prevent_wrap": "partly",
            "prevent_trained_pct": "95",
            "prevent_sef": "yes",
        },
    ),
    "T2": ("in_progress", {"policy_current": "yes", "prevent_wrap": "yes"}),
}
#: last year (only A, C and E were open, in Oak for C)
PREVIOUS_RESPONSES = {
    "A": (
        "accepted",
        {
            "policy_current": "no",
            "policy_review_date": "2025-06-01",
            "prevent_wrap": "yes",
            "prevent_trained_pct": "95",
            "prevent_sef": "yes",
        },
    ),
    "C": (
        "accepted",
        {
            "policy_current": "yes",
            "policy_review_date": "2025-01-01",
            "prevent_wrap": "yes",
            "prevent_trained_pct": "95",
            "prevent_sef": "yes",
        },
    ),
    "E": (
        "submitted",
        {
            "policy_current": "no",
            "policy_review_date": "2025-06-01",
            "prevent_wrap": "partly",
            "prevent_trained_pct": "95",
            "prevent_sef": "yes",
        },
    ),
    "T1": ("not_started", {}),
}
PREVIOUS_CODES = ("A", "C", "E")


def urn(code: str) -> str:
    return ESTABLISHMENTS[code][0]


def urns(*codes: str) -> list[str]:
    return [urn(code) for code in codes]


# --- plain frames ------------------------------------------------------------------------


def questions_frame(definition: dict | None = None) -> pd.DataFrame:
    """The analysis layer's questions frame, built from a template definition (this scenario's by default)."""
    rows = []
    for s_pos, section in enumerate((definition or TEMPLATE)["sections"], 1):
        for q_pos, q in enumerate(section["questions"], 1):
            rows.append(
                {
                    "question_key": q["key"],
                    "text": q["text"],
                    "section_key": section["key"],
                    "section_title": section["title"],
                    "type": q["type"],
                    "required": q.get("required", True),
                    "tags": q.get("tags", []),
                    "gap": q.get("gap"),
                    "options": q.get("options", []),
                    "section_position": s_pos,
                    "position": q_pos,
                    "condition": q.get("condition"),
                }
            )
    return pd.DataFrame(rows)


def cycle_data(which: str = "current") -> CycleData:
    info, responses = (CURRENT, CURRENT_RESPONSES) if which == "current" else (PREVIOUS, PREVIOUS_RESPONSES)
    codes = [c for c, e in ESTABLISHMENTS.items() if e[6]] if which == "current" else list(PREVIOUS_CODES)
    ids = {code: n for n, code in enumerate(ESTABLISHMENTS, 1)}
    trust_ids = {"T1": 1, "T2": 2}
    establishments = pd.DataFrame(
        [
            {
                "establishment_id": ids[c],
                "urn": ESTABLISHMENTS[c][0],
                "name": ESTABLISHMENTS[c][1],
                "phase": ESTABLISHMENTS[c][2],
                "type_name": ESTABLISHMENTS[c][3],
                "district": ESTABLISHMENTS[c][4],
                "trust_id": trust_ids.get(ESTABLISHMENTS[c][5]),
                "trust_name": TRUSTS[ESTABLISHMENTS[c][5]][0] if ESTABLISHMENTS[c][5] else None,
                "response_id": 100 + ids[c],
                "status": responses[c][0],
            }
            for c in sorted(codes, key=lambda c: ESTABLISHMENTS[c][1])
        ]
    )
    establishments["trust_id"] = establishments["trust_id"].astype("Int64")
    answers = pd.DataFrame(
        [
            {"establishment_id": ids[c], "question_key": k, "value": v, "status": responses[c][0]}
            for c in codes
            for k, v in responses[c][1].items()
        ],
        columns=["establishment_id", "question_key", "value", "status"],
    )
    trusts = [t for t in TRUSTS if t in responses]
    trust_answers = pd.DataFrame(
        [
            {
                "trust_id": trust_ids[t],
                "trust_response_id": 900 + trust_ids[t],
                "question_key": k,
                "value": v,
                "status": responses[t][0],
            }
            for t in trusts
            for k, v in responses[t][1].items()
        ],
        columns=["trust_id", "trust_response_id", "question_key", "value", "status"],
    )
    coverage = pd.DataFrame(
        [
            {
                "establishment_id": ids[c],
                "trust_response_id": 900 + trust_ids[ESTABLISHMENTS[c][5]],
                "trust_id": trust_ids[ESTABLISHMENTS[c][5]],
                "status": responses[ESTABLISHMENTS[c][5]][0],
            }
            for c in codes
            if ESTABLISHMENTS[c][5]
        ],
        columns=["establishment_id", "trust_response_id", "trust_id", "status"],
    )
    return CycleData(
        slug=info["slug"],
        name=f"Safeguarding audit {info['slug']}",
        reference=info["opens_on"],
        establishments=establishments,
        questions=questions_frame(),
        answers=answers,
        trust_answers=trust_answers,
        coverage=coverage,
    )


# --- real rows ----------------------------------------------------------------------------


def build_database(make) -> dict:
    """Create the register, both cycles and every answer; return the objects by code."""
    from sqlalchemy import select

    from surveyapp.audits.models import Answer, Assignment, Response, ResponseStatus
    from surveyapp.extensions import db

    template = make.template(TEMPLATE)
    made: dict = {}
    for code, (name, uid) in TRUSTS.items():
        made[code] = make.trust(name=name, uid=uid)

    def add(code):
        u, name, phase, type_name, district, trust, is_open = ESTABLISHMENTS[code]
        made[code] = make.establishment(
            name=name,
            urn=u,
            phase=phase,
            type_name=type_name,
            district=district,
            trust=made[trust] if trust else None,
            is_open=is_open,
        )

    def fill(cycle, responses):
        rows = db.session.execute(
            select(Assignment, Response).join(Response).where(Assignment.cycle_id == cycle.id)
        ).all()
        by_code = {}
        for assignment, response in rows:
            for code, obj in made.items():
                if code not in ESTABLISHMENTS and code not in TRUSTS:
                    continue
                is_trust = code in TRUSTS
                if (is_trust and assignment.trust_id == obj.id) or (
                    not is_trust and assignment.establishment_id == obj.id
                ):
                    by_code[code] = response
        for code, (status, answers) in responses.items():
            response = by_code[code]
            response.status = ResponseStatus(status)
            for key, value in answers.items():
                db.session.add(Answer(response_id=response.id, question_key=key, value=value))
        db.session.flush()
        return by_code

    for code in PREVIOUS_CODES:
        add(code)
    previous = make.cycle(
        slug=PREVIOUS["slug"], template=template, due_on=PREVIOUS["due_on"], opens_on=PREVIOUS["opens_on"]
    )
    made["previous_responses"] = fill(previous, PREVIOUS_RESPONSES)
    for code in ("B", "D", "F", "G"):
        add(code)
    current = make.cycle(
        slug=CURRENT["slug"], template=template, due_on=CURRENT["due_on"], opens_on=CURRENT["opens_on"]
    )
    made["responses"] = fill(current, CURRENT_RESPONSES)
    made["cycle"], made["previous"] = current, previous
    db.session.commit()
    return made
