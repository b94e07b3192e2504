"""A national-scale cycle for timed runs: 24,000 establishments in 2,500 trusts, one s175-schools cycle.

    python -m benchmarks.national postgresql+psycopg://postgres@127.0.0.1:5432/bench_workbook

Empties the database, creates the schema, loads the built-in s175-schools template, opens one cycle for
every establishment and fills three-quarters of the responses (half of those submitted, with follow-up
plans for their gaps) and a third of the trusts' responses, all with bulk inserts.
Reuse it from other benchmarks: ``build_national(url)`` returns the cycle's slug.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text, update

TEMPLATE = Path(__file__).resolve().parent.parent / "surveyapp" / "audit_templates" / "s175-schools.json"
PHASES = ["Primary", "Primary", "Primary", "Secondary", "Nursery", "All-through", "16 plus"]
TYPES = [
    "Community school",
    "Voluntary aided school",
    "Academy converter",
    "Academy sponsor led",
    "Free schools",
    "Foundation school",
]
SLUG = "national-2026-27"


def _value(rng: random.Random, question: dict) -> str:
    kind = question["type"]
    if kind == "yes_no_partly":
        return rng.choices(["yes", "partly", "no"], [80, 14, 6])[0]
    if kind == "yes_no":
        return rng.choices(["yes", "no"], [90, 10])[0]
    if kind == "yes_no_unsure":
        return rng.choices(["yes", "no", "unsure"], [85, 7, 8])[0]
    if kind == "date":
        return (date(2026, 9, 1) - timedelta(days=rng.randint(10, 700))).isoformat()
    if kind == "percentage":
        return str(rng.randint(55, 100))
    if kind == "number":
        return str(rng.randint(0, 12))
    if kind == "choice":
        return rng.choice(question["options"])["value"]
    return rng.choice(["", "Reviewed with governors", "=SUM(A1)", "+ training booked", "All fine"])


def build_national(url: str, establishments: int = 24000, trusts: int = 2500, seed: int = 1) -> str:
    """Fill the database at ``url`` (emptied first) with a national-scale cycle; return its slug."""
    from surveyapp import create_app
    from surveyapp.audits.definitions import load_template
    from surveyapp.audits.models import Answer, Assignment, Response, ResponseStatus
    from surveyapp.audits.questions import is_gap
    from surveyapp.audits.services import open_cycle
    from surveyapp.establishments.models import Establishment, Trust
    from surveyapp.extensions import db

    rng = random.Random(seed)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-" * 5, "ENV_NAME": "testing"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        definition = json.loads(TEMPLATE.read_text())
        template, _ = load_template(definition)
        questions = [q for s in definition["sections"] for q in s["questions"]]
        db.session.execute(insert(Trust), [{"uid": str(10000 + n), "name": f"Trust {n:04d}"} for n in range(trusts)])
        trust_ids = list(db.session.scalars(select(Trust.id)))
        rows = []
        for n in range(establishments):
            in_trust = rng.random() < 0.45
            rows.append(
                {
                    "urn": str(100000 + n),
                    "name": rng.choice(["St ", "", "Hill ", "Oak ", "=Bad "]) + f"School {n:05d}",
                    "phase": rng.choice(PHASES),
                    "type_name": rng.choice(TYPES[2:5] if in_trust else TYPES),
                    "district": f"District {rng.randint(1, 40)}",
                    "is_open": True,
                    "status_name": "Open",
                    "la_name": f"LA {rng.randint(1, 150)}",
                    "trust_id": rng.choice(trust_ids) if in_trust else None,
                }
            )
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Establishment), rows[start : start + 5000])
        cycle = open_cycle(
            slug=SLUG,
            name="National safeguarding audit 2026-27",
            template=template,
            due_on=date(2027, 3, 31),
            opens_on=date(2026, 9, 1),
        )
        db.session.flush()
        responses = db.session.execute(
            select(Response.id, Assignment.establishment_id).join(Assignment).where(Assignment.cycle_id == cycle.id)
        ).all()
        submitted, in_progress, answers = [], [], []
        for response_id, establishment_id in responses:
            roll = rng.random()
            is_trust = establishment_id is None
            if (is_trust and roll < 0.33) or (not is_trust and roll < 0.375):
                submitted.append(response_id)
                chosen = questions
            elif not is_trust and roll < 0.75:
                in_progress.append(response_id)
                chosen = questions[: rng.randint(5, len(questions))]
            else:
                continue
            for q in chosen:
                value = _value(rng, q)
                if not value:
                    continue
                plan = None
                if q.get("follow_up") and is_gap(q["type"], q.get("gap"), value, date(2026, 9, 1)):
                    plan = {
                        "action": rng.choice(["Book training", "Update the policy", "-Review"]),
                        "owner": rng.choice(["Head", "DSL", "@Governor"]),
                        "target_date": (date(2026, 10, 1) + timedelta(days=rng.randint(0, 200))).isoformat(),
                    }
                answers.append(
                    {"response_id": response_id, "question_key": q["key"], "value": value, "follow_up": plan}
                )
            if len(answers) > 20000:
                db.session.execute(insert(Answer), answers)
                answers = []
        if answers:
            db.session.execute(insert(Answer), answers)
        for ids, status in ((submitted, ResponseStatus.SUBMITTED), (in_progress, ResponseStatus.IN_PROGRESS)):
            for start in range(0, len(ids), 5000):
                db.session.execute(
                    update(Response).where(Response.id.in_(ids[start : start + 5000])).values(status=status)
                )
        db.session.commit()
        settle(db.engine)
        db.engine.dispose()
    return SLUG


def settle(engine) -> None:
    """What autovacuum would do after a bulk load, done now, before any clock starts.

    Statistics for the planner (ANALYZE); on PostgreSQL also VACUUM, which marks the new rows visible to
    all: left to autovacuum, it would vacuum the million answers beside a timed run, and the first run to
    read them would set their hint bits, so one run of a pair could take half as long again as the other.
    """
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE"))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m benchmarks.national DATABASE_URL [ESTABLISHMENTS] [TRUSTS]")
    started = time.perf_counter()
    args = [int(a) for a in sys.argv[2:4]]
    slug = build_national(sys.argv[1], *args)
    print(f"built {slug} in {time.perf_counter() - started:.1f} s")
