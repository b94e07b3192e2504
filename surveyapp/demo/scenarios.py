"""What the demo holds: the county of Wexshire, and what each year's audit holds on the demo's "today".

Last year's audit is closed (about 97% returned, three trusts answering for their academies, the LA's
own action plan started from its findings); this year's is open, eleven weeks in. ``build`` tells the
story in order; ``DemoBuilder`` (builder.py) writes what it plans.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import update

from surveyapp.actions.services import generate_for_cycle
from surveyapp.audits.models import Cycle, CycleState, ResponseStatus
from surveyapp.auth.models import User
from surveyapp.extensions import db
from surveyapp.la_actions import services as la_services

if TYPE_CHECKING:
    from surveyapp.demo.builder import DemoBuilder

#: every demo account signs in with this password
DEMO_PASSWORD = "demo-password-2026"
DEMO_DOMAIN = "demo.surveyapp.test"
DEMO_URL = "http://127.0.0.1:5000"
SEED = 175  # Education Act 2002, section 175
#: the demo's "today", eleven weeks into this year's cycle; fixed so that every build is the same
DEMO_TODAY = date(2026, 11, 20)
COUNTY = "Wexshire"
LA_CODE = "999"  # not a real LA code
LONDON = ZoneInfo("Europe/London")
DEMO_NOW = datetime.combine(DEMO_TODAY, time(15, 0), LONDON).astimezone(UTC)

LAST_YEAR = {
    "slug": "2025-26",
    "name": "Safeguarding and Prevent audit 2025-26",
    "opens_on": date(2025, 9, 1),
    "due_on": date(2026, 3, 31),
}
THIS_YEAR = {
    "slug": "2026-27",
    "name": "Safeguarding and Prevent audit 2026-27",
    "opens_on": date(2026, 9, 1),
    "due_on": date(2027, 3, 31),
}
TEMPLATE_KEY = "s175-schools"

#: name, home district (None: county-wide), church, then how many primary, secondary, special
#: and all-through academies it runs: 161 academies, about 40% of the open establishments
TRUSTS = [
    ("Diocese of Castlemere Multi Academy Trust", None, "CofE", 22, 2, 0, 0),
    ("Wexley Learning Trust", "Wexley", None, 11, 5, 1, 1),
    ("Three Rivers Learning Trust", "Ashcombe", None, 9, 4, 1, 0),
    ("St Hilda Catholic Academy Trust", None, "Catholic", 9, 3, 0, 0),
    ("Northmoor Academy Trust", "Northmoor", None, 6, 4, 0, 1),
    ("Kingfisher Academy Trust", "Castlemere", None, 6, 3, 1, 0),
    ("Ashcombe Valley Learning Trust", "Ashcombe", None, 6, 3, 0, 0),
    ("Pathfinder Learning Trust", "Hollinford", None, 5, 2, 0, 1),
    ("Heron Academy Trust", "Eastmarsh", None, 8, 0, 0, 0),
    ("Brackendale Academy Trust", "Brackendale", None, 4, 3, 0, 0),
    ("Compass Learning Trust", "Wexley", None, 6, 0, 0, 0),
    ("Eastmarsh Coastal Learning Trust", "Eastmarsh", None, 3, 2, 1, 0),
    ("Horizon Academy Trust", "Northmoor", None, 2, 2, 0, 1),
    ("Oak Tree Learning Trust", "Castlemere", None, 5, 0, 0, 0),
    ("Hollinford Learning Trust", "Hollinford", None, 2, 2, 0, 0),
    ("Meridian Academy Trust", "Wexley", None, 0, 3, 1, 0),
    ("Endeavour Learning Trust", "Brackendale", None, 3, 0, 0, 0),
    ("Lighthouse Academy Trust", "Eastmarsh", None, 1, 2, 0, 0),
    ("Westwood Academy Trust", "Castlemere", None, 0, 2, 0, 0),
    ("Larkrise Learning Trust", "Northmoor", None, 2, 0, 0, 0),
]
#: trusts that answer at trust level for their academies (the Staffordshire pattern); the first
#: is answering this year's audit now, the other two have not started it yet
TRUST_LEVEL = ["Pathfinder Learning Trust", "Heron Academy Trust", "Oak Tree Learning Trust"]
#: open maintained establishments, by phase
MAINTAINED = {"Primary": 187, "Secondary": 18, "Special": 11, "Nursery": 10, "All-through": 2, "Not applicable": 6}
#: open establishments with no DSL on record: the lead has to chase them
NO_DSL_COUNT = 10

#: the LA's own plan: reference, area, action, target date, status, RAG, Prevent objectives, dated updates
LA_ACTIONS = [
    (
        "CS ALL 01",
        "Strategy",
        "Keep an action plan in line with the council's Prevent policy statement",
        date(2026, 3, 31),
        "complete",
        "green",
        (1, 2, 3),
        [(date(2026, 3, 20), "Plan agreed by the Prevent Strategy Group.")],
    ),
    (
        "CS ALL 02",
        "Governance and oversight",
        "Focus the Prevent Strategy Group on the audit's priorities",
        date(2026, 12, 31),
        "ongoing",
        "green",
        (1, 2, 3),
        [],
    ),
    (
        "L&S 09",
        "Training",
        "Brief headteachers and governors on the Prevent duty",
        date(2026, 10, 31),
        "in_progress",
        "red",
        (1, 2, 3),
        [
            (date(2026, 9, 30), "Sept update: governor briefing booked; heads' briefing not yet arranged."),
            (date(2026, 10, 31), "Oct update: 90-minute briefings rolled out to 40 schools."),
        ],
    ),
    (
        "PSS 50",
        "IT security",
        "Advise every school on filtering that blocks extremist material",
        date(2027, 6, 30),
        "not_started",
        "amber",
        (2, 3),
        [],
    ),
    (
        "CS ALL 52",
        "Elected members",
        "Report to elected members on Prevent every year",
        date(2026, 12, 15),
        "in_progress",
        "amber",
        (1, 2, 3),
        [],
    ),
]


@dataclass
class ResponsePlan:
    """What happened to one response in one cycle."""

    status: ResponseStatus
    sections: int = 0  # how many sections were saved, in template order
    started: datetime | None = None
    submitted: datetime | None = None
    decided: datetime | None = None  # accepted or returned
    resubmitted: datetime | None = None  # returned and sent back in (last year's history)


def build(demo: DemoBuilder) -> dict:
    """Plan and write the county, then both years' audits; return how to sign in to it."""
    demo.plan_register()
    demo.insert_register()
    sign_ins = demo.insert_people()
    template = demo.load_templates()
    last_year = demo.open(template, LAST_YEAR, created=date(2025, 7, 14))
    this_year = demo.open(template, THIS_YEAR, created=date(2026, 7, 13))
    demo.last_year_plans = plan_last_year(demo)
    demo.fill(last_year, demo.last_year_plans)
    plans = plan_this_year(demo)
    demo.fill(this_year, plans)
    # The returns above are written in bulk, not through services.submit, so nothing has made their
    # action plans yet: make them as submitting does (without this every action plan page said 0 actions).
    for cycle in (last_year, this_year):
        generate_for_cycle(cycle)
    add_la_actions(demo, last_year)
    last_year.state = CycleState.CLOSED
    db.session.execute(update(User), [{"id": user_id, "last_sign_in_at": at} for user_id, at in demo.last_seen.items()])
    sign_ins.update(pick_sign_ins(demo, plans))
    db.session.flush()
    return {
        "url": DEMO_URL,
        "password": DEMO_PASSWORD,
        "sign_ins": sign_ins,
        "establishments": len(demo.establishments),
        "trusts": len(demo.trusts),
    }


def add_la_actions(demo: DemoBuilder, last_year: Cycle) -> None:
    """The LA's own Prevent action plan, in the shape of a council's: one action from last year's finding."""
    lead = db.session.get(User, demo.lead_id)
    # The seed plan's example: schools that have not reviewed their radicalisation risk assessment.
    finding = la_services.question_gaps(db.session, last_year, "prevent_risk_assessment")
    for reference, area, action, due, status, rag, objectives, updates in LA_ACTIONS:
        added = la_services.create_action(
            db.session,
            lead,
            reference=reference,
            area=area,
            action=action,
            target_date=due,
            status=status,
            rag=rag,
            lead="Education Safeguarding Lead",
            support="Prevent Co-ordinator",
            milestones="Reported to the Prevent Strategy Group every term",
            **{f"objective_{n}": n in objectives for n in (1, 2, 3)},
        )
        for day, text in updates:
            la_services.add_update(db.session, added, lead, written_on=day, text=text)
    if finding is not None and finding.gaps:
        la_services.create_action(
            db.session,
            lead,
            finding_cycle=last_year,
            finding_question_key=finding.question_key,
            reference="L&S 10",
            area="Policy and practice",
            status="in_progress",
            rag="amber",
            action=f"Work with the schools behind last year's finding: {finding.question_text}",
            measures="Fewer schools with this gap in the 2026-27 audit",
            target_date=date(2027, 3, 31),
            lead="Education Safeguarding Lead",
            objective_3=True,
        )


def plan_last_year(demo: DemoBuilder) -> dict[object, ResponsePlan]:
    """Last year: about 97% returned, mostly late in the window; three trusts answered for their academies."""
    rng = demo.rng
    opens, due = LAST_YEAR["opens_on"], LAST_YEAR["due_on"]
    plans: dict[object, ResponsePlan] = {}
    trust_level = [t for t in demo.trusts if t.name in TRUST_LEVEL]
    schools = [s for s in demo.establishments if s.is_open and s.trust not in trust_level]
    # Who never sent it in: three of the schools that have since lost their DSL, and nine reluctant others.
    missing = sorted(demo.no_dsl, key=lambda s: s.keenness)[:3]
    missing += sorted(
        (s for s in schools if s not in demo.no_dsl and s not in demo.shared_dsl), key=lambda s: s.keenness
    )[:9]
    for index, school in enumerate(missing):
        if index % 3 == 0:
            started = demo.at(demo.day_between(date(2026, 1, 5), date(2026, 3, 20)))
            plans[school] = ResponsePlan(ResponseStatus.IN_PROGRESS, sections=rng.randint(2, 7), started=started)
        else:
            plans[school] = ResponsePlan(ResponseStatus.NOT_STARTED)
    returning = sorted((s for s in schools if s not in plans), key=lambda s: -s.keenness)
    respondents: list[object] = returning + trust_level
    # Most returns come in towards the due date; the keenest schools send theirs first.
    fractions = sorted(rng.betavariate(2.4, 1.3) for _ in returning)
    fractions += [rng.uniform(0.55, 0.9) for _ in trust_level]
    for respondent, fraction in zip(respondents, fractions, strict=True):
        submitted = demo.at(opens + timedelta(days=round(fraction * ((due - opens).days - 2))))
        started = demo.before(submitted, 1, 45, opens)
        plan = ResponsePlan(ResponseStatus.SUBMITTED, sections=len(demo.sections), started=started, submitted=submitted)
        roll = rng.random()
        if roll < 0.012:
            plan.decided = demo.after(submitted, 3, 12)
            plan.resubmitted = demo.after(plan.decided, 2, 14)
        elif roll < 0.36:
            plan.status = ResponseStatus.ACCEPTED
            plan.decided = demo.after(submitted, 2, 40)
        plans[respondent] = plan
    return plans


def plan_this_year(demo: DemoBuilder) -> dict[object, ResponsePlan]:
    """This year, eleven weeks in: about 20% returned, 45% under way and the rest not started."""
    rng = demo.rng
    opens = THIS_YEAR["opens_on"]
    trust_level = [t for t in demo.trusts if t.name in TRUST_LEVEL]
    answering_trust = trust_level[0]
    plans: dict[object, ResponsePlan] = {
        answering_trust: ResponsePlan(ResponseStatus.IN_PROGRESS, sections=5, started=demo.at(date(2026, 10, 5)))
    }
    open_schools = [s for s in demo.establishments if s.is_open]
    # The shared DSL is part-way through one school's audit and has not started the other's.
    plans[demo.shared_dsl[0]] = ResponsePlan(
        ResponseStatus.IN_PROGRESS, sections=3, started=demo.at(date(2026, 10, 12))
    )
    schools = [
        s for s in open_schools if s.trust not in trust_level and s not in demo.no_dsl and s not in demo.shared_dsl
    ]
    # Keen last year, keen this year, give or take.
    schools.sort(key=lambda s: -(s.keenness + rng.gauss(0, 0.15)))
    submitting = round(0.20 * len(open_schools))
    under_way = round(0.45 * len(open_schools)) - 1  # the shared DSL's first school is under way too
    days_open = (DEMO_TODAY - opens).days
    for index, school in enumerate(schools[:submitting]):
        submitted = demo.at(opens + timedelta(days=7 + round(days_open * 0.85 * index / submitting)))
        started = demo.before(submitted, 1, 20, opens)
        plan = ResponsePlan(ResponseStatus.SUBMITTED, sections=len(demo.sections), started=started, submitted=submitted)
        if rng.random() < 0.15 and submitted.date() < DEMO_TODAY - timedelta(days=10):
            plan.status = ResponseStatus.ACCEPTED
            plan.decided = demo.after(submitted, 2, 9)
        plans[school] = plan
    returned = schools[submitting]
    plans[returned] = ResponsePlan(
        ResponseStatus.RETURNED,
        sections=len(demo.sections),
        started=demo.at(date(2026, 9, 28)),
        submitted=demo.at(date(2026, 10, 14)),
        decided=demo.at(date(2026, 10, 22)),
    )
    for index, school in enumerate(schools[submitting + 1 : submitting + 1 + under_way]):
        # The further up the list, the further through the audit.
        sections = max(1, min(8, 8 - index * 8 // under_way + rng.randint(-1, 1)))
        started = demo.at(demo.day_between(opens + timedelta(days=1), DEMO_TODAY - timedelta(days=5)))
        plans[school] = ResponsePlan(ResponseStatus.IN_PROGRESS, sections=sections, started=started)
    for school in open_schools:
        plans.setdefault(school, ResponsePlan(ResponseStatus.NOT_STARTED))
    for trust in demo.trusts:
        plans.setdefault(trust, ResponsePlan(ResponseStatus.NOT_STARTED))
    return plans


def pick_sign_ins(demo: DemoBuilder, plans: dict[object, ResponsePlan]) -> dict[str, str]:
    """The respondents worth signing in as: a DSL part-way through, the DSL of two schools and
    the trust lead answering for their academies."""
    single = {s.dsl_id for s in demo.establishments if s not in demo.shared_dsl}
    dsl = next(
        s
        for s in demo.establishments
        if s.trust is None
        and s.phase == "Primary"
        and s.dsl_id is not None
        and s.dsl_id in single
        and plans[s].status is ResponseStatus.IN_PROGRESS
        and 3 <= plans[s].sections <= 6
        and s in demo.last_year_plans
        and demo.last_year_plans[s].submitted is not None
    )
    return {
        "dsl": demo.emails[dsl.dsl_id],
        "dsl_two_schools": demo.emails[demo.shared_dsl[0].dsl_id],
        "trust_lead": demo.emails[demo.trust_lead_ids[TRUST_LEVEL[0]]],
    }
