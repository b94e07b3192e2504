"""Writes the demo county that scenarios.py plans: establishments, trusts, people, templates, cycles, responses.

``DemoBuilder`` plans the register in plain objects, then writes it with bulk inserts (the bulky rows
would take minutes one by one). Everything random comes from its one seeded generator, in a fixed order,
so every build is the same. Like every service it flushes and never commits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import selectinload

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits.answer_types import DemoContext, answer_type
from surveyapp.audits.definitions import load_built_in_templates
from surveyapp.audits.models import (
    Answer,
    Assignment,
    AuditTemplate,
    Cycle,
    Response,
    ResponseStatus,
    SectionProgress,
    SectionState,
    StatusEvent,
    TemplateQuestion,
    TemplateSection,
    TrustCoverage,
)
from surveyapp.audits.questions import NOT_APPLICABLE, is_gap, skipped_keys
from surveyapp.audits.services import AnswerInput, open_cycle, reference_for, section_is_complete
from surveyapp.auth.models import Role, User
from surveyapp.auth.services import hash_password
from surveyapp.demo.names import Names
from surveyapp.demo.scenarios import (
    COUNTY,
    DEMO_DOMAIN,
    DEMO_NOW,
    DEMO_PASSWORD,
    LA_CODE,
    LONDON,
    MAINTAINED,
    NO_DSL_COUNT,
    TEMPLATE_KEY,
    THIS_YEAR,
    TRUST_LEVEL,
    TRUSTS,
    ResponsePlan,
)
from surveyapp.establishments.models import ContactRole, Establishment, EstablishmentContact, Trust, TrustContact
from surveyapp.extensions import db

#: the planned action for a gap, by question key, else by section
_ACTIONS = {
    "policies_cp_review_date": "Review the child protection policy against the current KCSIE and take it to governors.",
    "training_dsl_date": "Book DSL refresher training on the LA's next course.",
    "training_staff_percentage": "Chase the remaining staff to complete safeguarding training before half term.",
    "recruitment_scr_check_date": "Safeguarding governor to check the single central record this term.",
    "recruitment_scr_complete": "Business manager to complete the missing single central record entries.",
    "online_filtering_review_date": "Carry out the annual filtering and monitoring review with the IT provider.",
    "prevent_dsl_training_date": "Book Prevent refresher training for the DSL.",
    "prevent_staff_percentage": "Run a Prevent awareness session for the staff who have not completed it.",
    "prevent_wrap": "DSL to complete the Home Office Prevent awareness course.",
    "leadership_governor_reports": "Put a safeguarding report on every full governing board agenda.",
}
_SECTION_ACTIONS = {
    "leadership": (
        "Agree protected DSL time with the headteacher and write it into the job description.",
        "Headteacher",
    ),
    "policies": ("Update the policy, take it to the next governing board meeting and publish it.", "DSL"),
    "training": ("Book the outstanding training and add it to the training log.", "DSL"),
    "recruitment": ("Complete the missing checks and re-audit the single central record.", "School business manager"),
    "procedures": ("Update the procedure and brief all staff at the next INSET day.", "DSL"),
    "online_safety": ("Ask the IT provider to test filtering and monitoring and review the report.", "Computing lead"),
    "prevent": ("Update the Prevent risk assessment and brief staff at the next staff meeting.", "DSL"),
    "curriculum": ("Map the gaps in the RSHE scheme of work and plan lessons for next term.", "PSHE lead"),
    "sign_off": ("Present the audit and action plan to the full governing board.", "Chair of governors"),
}
_COMMENTS = [
    "New DSL in post since September; deputy DSL trained this year.",
    "Filtering provider changed in the summer term; review booked.",
    "Action plan shared with the safeguarding governor.",
    "Staff training completed on the September INSET day.",
    "Two new deputy DSLs appointed to cover the split site.",
    "Governors discussed the audit at the spring term meeting.",
    "Most actions carried over from last year are now complete.",
]
_RESUBMITTED_COMMENT = "Please check the date of the last single central record check in section 4."
_RETURN_COMMENT = (
    "Thank you. Please add an action for the single central record gaps in section 4, and check the date "
    "of your last filtering and monitoring review in section 6: it is earlier than the one you gave last year."
)


@dataclass(eq=False)
class PlannedTrust:
    name: str
    uid: str
    district: str | None
    church: str | None
    ceo: str = ""
    chair: str = ""
    strength: float = 0.8
    id: int = 0


@dataclass(eq=False)  # compared and hashed by identity: plans are keyed by establishment
class PlannedEstablishment:
    """An establishment as planned, before and after it is written."""

    urn: str
    name: str
    type_name: str
    phase: str
    district: str
    pupils: int
    trust: PlannedTrust | None = None
    is_open: bool = True
    status_name: str = "Open"
    opened_on: date | None = None
    closed_on: date | None = None
    #: 0-1: how few gaps its answers show
    strength: float = 0.7
    #: 0-1: how early it gets its audit in
    keenness: float = 0.5
    headteacher: str = ""
    chair: str = ""
    id: int = 0
    #: the user who completes its audit (None: no DSL on record)
    dsl_id: int | None = None
    #: last year's DSL, who has since left (their account is disabled)
    former_dsl_id: int | None = None


#: who answers a response: an establishment, or a trust for its academies
Respondent = PlannedEstablishment | PlannedTrust


class DemoBuilder:
    """Plans the register in plain objects, then writes it, its people, the templates, the cycles and the
    responses that scenarios.py plans for each year."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.trusts: list[PlannedTrust] = []
        self.establishments: list[PlannedEstablishment] = []  # in URN order once planned
        self.shared_dsl: tuple[PlannedEstablishment, ...] = ()  # two small schools that share a DSL
        self.no_dsl: list[PlannedEstablishment] = []
        self.lead_id = 0
        self.trust_lead_ids: dict[str, int] = {}  # by trust name
        self.emails: dict[int, str] = {}  # by user id
        self.last_seen: dict[int, datetime] = {}  # user id -> their latest save, submission or decision
        self.sections: list[tuple[TemplateSection, list[TemplateQuestion]]] = []
        self.last_year_plans: dict[object, ResponsePlan] = {}
        self.names = Names(rng)

    # --- the register -------------------------------------------------------------------

    def plan_register(self) -> None:
        rng = self.rng
        uids = rng.sample(range(2100, 17999), len(TRUSTS))
        academy_urns = iter(rng.sample(range(136000, 150999), 200))
        maintained_urns = iter(rng.sample(range(110000, 126999), 300))
        for (name, district, church, primary, secondary, special, all_through), uid in zip(TRUSTS, uids, strict=True):
            trust = PlannedTrust(
                name,
                str(uid),
                district,
                church,
                ceo=self.names.person(),
                chair=self.names.person(),
                strength=rng.uniform(0.7, 0.95),
            )
            self.trusts.append(trust)
            for phase, count in (
                ("Primary", primary),
                ("Secondary", secondary),
                ("Special", special),
                ("All-through", all_through),
            ):
                for _ in range(count):
                    self.establishments.append(self._academy(next(academy_urns), trust, phase))
        for phase, count in MAINTAINED.items():
            made = 0
            while made < count:
                if phase == "Primary" and count - made >= 2 and rng.random() < 0.05:
                    made += self._infant_and_junior(maintained_urns)
                    continue
                self.establishments.append(self._maintained(next(maintained_urns), phase))
                made += 1
        self._add_closed(maintained_urns)
        for school in self.establishments:
            school.strength = min(0.98, rng.betavariate(5, 2))
            school.keenness = rng.random()
            school.headteacher, school.chair = self.names.person(), self.names.person()
        for school in rng.sample([s for s in self.establishments if s.is_open and s.trust is None], 2):
            school.status_name = "Open, but proposed to close"
        # Sorted by URN, like GIAS: everything after this iterates in a fixed order.
        self.establishments.sort(key=lambda s: s.urn)

    def _pupils(self, phase: str, name: str) -> int:
        rng = self.rng
        if phase == "Primary":
            if "Infant" in name:
                return rng.randint(90, 270)
            if "Junior" in name:
                return rng.randint(120, 360)
            return rng.randint(28, 118) if rng.random() < 0.2 else rng.randint(180, 630)
        low, high = {
            "Secondary": (550, 1750),
            "Special": (60, 260),
            "Nursery": (45, 130),
            "All-through": (1100, 2100),
        }.get(phase, (15, 80))
        return rng.randint(low, high)

    def _academy(self, urn: int, trust: PlannedTrust, phase: str) -> PlannedEstablishment:
        rng = self.rng
        church = trust.church if phase in ("Primary", "Secondary") else None
        if church is None and phase == "Primary" and rng.random() < 0.06:
            church = "CofE"  # a voluntary controlled school that converted into a non-church trust
        if phase == "Special":
            type_name = "Academy special converter"
        else:
            roll = rng.random()
            type_name = "Academy converter" if roll < 0.72 else "Academy sponsor led" if roll < 0.92 else "Free schools"
            if type_name == "Free schools":
                church = None
        district = self.names.district(trust.district)
        name = self.names.establishment(phase, district, church, academy=True)
        start = date(2013 if type_name == "Free schools" else 2011, 9, 1)
        opened = _first_of_month(start + timedelta(days=rng.randint(0, (date(2025, 4, 1) - start).days)))
        return PlannedEstablishment(
            str(urn), name, type_name, phase, district, self._pupils(phase, name), trust=trust, opened_on=opened
        )

    def _maintained(self, urn: int, phase: str) -> PlannedEstablishment:
        rng = self.rng
        church = None
        if phase in ("Primary", "Secondary"):
            roll = rng.random()
            if roll < 0.6:
                type_name = "Community school"
            elif roll < 0.77:
                type_name, church = "Voluntary controlled school", "CofE"
            elif roll < 0.94:
                type_name, church = "Voluntary aided school", rng.choice(["CofE", "Catholic"])
            else:
                type_name = "Foundation school"
        else:
            type_name = {
                "Special": "Community special school",
                "Nursery": "Local authority nursery school",
                "All-through": "Foundation school",
                "Not applicable": "Pupil referral unit",
            }[phase]
        district = self.names.district()
        name = self.names.establishment(phase, district, church, academy=False)
        return PlannedEstablishment(str(urn), name, type_name, phase, district, self._pupils(phase, name))

    def _infant_and_junior(self, urns) -> int:
        district = self.names.district()
        place = self.names.place(district)
        for kind in ("Infant", "Junior"):
            name = self.names.unique(f"{place} {kind} School", place)
            self.establishments.append(
                PlannedEstablishment(
                    str(next(urns)), name, "Community school", "Primary", district, self._pupils("Primary", name)
                )
            )
        return 2

    def _add_closed(self, urns) -> None:
        """Five closed establishments: two that became academies (GIAS gives the academy a new URN),
        an infant and a junior school that merged into a primary, and a small village school."""
        converted = [
            s
            for s in self.establishments
            if s.type_name == "Academy converter" and s.phase == "Primary" and s.opened_on >= date(2022, 1, 1)
        ][:2]
        for academy in converted:
            type_name = "Voluntary controlled school" if "Church of England" in academy.name else "Community school"
            self.establishments.append(
                self._closed(
                    next(urns),
                    academy.name,
                    type_name,
                    academy.district,
                    academy.opened_on - timedelta(days=1),
                    allow_same_name=True,
                )
            )
        merged = next(
            s
            for s in self.establishments
            if s.type_name == "Community school"
            and s.phase == "Primary"
            and s.name.endswith(" Primary School")
            and "Community" not in s.name
            and "," not in s.name
        )
        merged.opened_on = date(2024, 9, 1)
        place = merged.name.removesuffix(" Primary School")
        for kind in ("Infant", "Junior"):
            self.establishments.append(
                self._closed(
                    next(urns), f"{place} {kind} School", "Community school", merged.district, date(2024, 8, 31)
                )
            )
        district = self.names.district()
        village = self.names.closed_village()
        self.establishments.append(
            self._closed(
                next(urns),
                f"{village} Church of England Primary School",
                "Voluntary controlled school",
                district,
                date(2025, 7, 31),
            )
        )

    def _closed(
        self, urn: int, name: str, type_name: str, district: str, closed_on: date, allow_same_name: bool = False
    ) -> PlannedEstablishment:
        if not allow_same_name:
            name = self.names.unique(name, district)
        return PlannedEstablishment(
            str(urn),
            name,
            type_name,
            "Primary",
            district,
            self.rng.randint(60, 200),
            is_open=False,
            status_name="Closed",
            closed_on=closed_on,
        )

    def insert_register(self) -> None:
        ids = _insert_returning_ids(Trust, [{"uid": t.uid, "name": t.name} for t in self.trusts])
        for trust, trust_id in zip(self.trusts, ids, strict=True):
            trust.id = trust_id
        rows = [
            {
                "urn": s.urn,
                "name": s.name,
                "type_name": s.type_name,
                "phase": s.phase,
                "status_name": s.status_name,
                "is_open": s.is_open,
                "la_code": LA_CODE,
                "la_name": COUNTY,
                "district": s.district,
                "number_of_pupils": s.pupils,
                "opened_on": s.opened_on,
                "closed_on": s.closed_on,
                "trust_id": s.trust.id if s.trust else None,
            }
            for s in self.establishments
        ]
        for school, school_id in zip(self.establishments, _insert_returning_ids(Establishment, rows), strict=True):
            school.id = school_id

    # --- people -------------------------------------------------------------------------

    def insert_people(self) -> dict[str, str]:
        """Add the accounts and contacts; return the LA-wide sign-ins."""
        rng = self.rng
        password_hash = hash_password(DEMO_PASSWORD)  # once: argon2 is slow on purpose
        joined = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
        users: list[dict] = []
        links: list[tuple[str, str, Respondent, ContactRole | None]] = []  # email, attribute, target, role

        def add(email: str, name: str, role: Role, enabled: bool = True) -> str:
            users.append(
                {
                    "email": email,
                    "name": name,
                    "role": role,
                    "password_hash": password_hash,
                    "is_enabled": enabled,
                    "created_at": joined + timedelta(days=rng.randint(0, 400)),
                }
            )
            return email

        lead = add(f"lead@{DEMO_DOMAIN}", "Joanne Whitfield", Role.LEAD)
        board = add(f"board@{DEMO_DOMAIN}", "Peter Hale", Role.BOARD)
        open_schools = [s for s in self.establishments if s.is_open]
        self.shared_dsl = self._sharing_a_dsl(open_schools)
        # Not among the academies whose trust answers for them: their own response stays untouched.
        chosen = [
            s for s in open_schools if s not in self.shared_dsl and (s.trust is None or s.trust.name not in TRUST_LEVEL)
        ]
        self.no_dsl = rng.sample(chosen, NO_DSL_COUNT)
        for school in open_schools:
            if school is self.shared_dsl[1]:
                continue  # its DSL is the first school's, added with it
            if school in self.no_dsl:
                # The DSL left over the summer: their account is disabled and their link removed.
                links.append(
                    (
                        add(f"former.dsl.{school.urn}@{DEMO_DOMAIN}", self.names.person(), Role.DSL, enabled=False),
                        "former_dsl_id",
                        school,
                        None,
                    )
                )
                continue
            # In many primary schools the headteacher is the DSL.
            name = school.headteacher if school.phase == "Primary" and rng.random() < 0.45 else self.names.person()
            email = add(f"dsl.{school.urn}@{DEMO_DOMAIN}", name, Role.DSL)
            links.append((email, "dsl_id", school, ContactRole.DSL))
            if school is self.shared_dsl[0]:
                links.append((email, "dsl_id", self.shared_dsl[1], ContactRole.DSL))
            if school.pupils > 900 or (school.pupils > 400 and rng.random() < 0.08):
                links.append(
                    (
                        add(f"deputy.{school.urn}@{DEMO_DOMAIN}", self.names.person(), Role.DSL),
                        "",
                        school,
                        ContactRole.DEPUTY_DSL,
                    )
                )
        for trust in self.trusts:
            links.append(
                (add(f"trust.{trust.uid}@{DEMO_DOMAIN}", self.names.person(), Role.TRUST_LEAD), "", trust, None)
            )

        user_ids = dict(zip([u["email"] for u in users], _insert_returning_ids(User, users), strict=True))
        self.lead_id = user_ids[lead]
        school_contacts, trust_contacts = [], []
        for email, attribute, target, role in links:
            if isinstance(target, PlannedTrust):
                trust_contacts.append({"trust_id": target.id, "user_id": user_ids[email]})
                self.trust_lead_ids[target.name] = user_ids[email]
                continue
            if attribute:
                setattr(target, attribute, user_ids[email])
            if role is not None:
                school_contacts.append({"establishment_id": target.id, "user_id": user_ids[email], "role": role})
        db.session.execute(insert(EstablishmentContact), school_contacts)
        db.session.execute(insert(TrustContact), trust_contacts)
        self.emails = {user_id: email for email, user_id in user_ids.items()}
        return {"lead": lead, "board": board}

    def _sharing_a_dsl(
        self, open_schools: list[PlannedEstablishment]
    ) -> tuple[PlannedEstablishment, PlannedEstablishment]:
        """Two small village schools in one district that share a DSL."""
        small = [
            s
            for s in open_schools
            if s.trust is None
            and s.phase == "Primary"
            and s.pupils < 100
            and "Infant" not in s.name
            and "Junior" not in s.name
        ]
        for school in small:
            partner = next((s for s in small if s is not school and s.district == school.district), None)
            if partner is not None:
                return school, partner

    # --- templates and cycles -----------------------------------------------------------

    def load_templates(self) -> AuditTemplate:
        templates = [template for template, _outcome in load_built_in_templates()]
        for template in templates:
            template.created_at = datetime(2025, 6, 30, 10, 0, tzinfo=UTC)
        template = next(t for t in templates if t.key == TEMPLATE_KEY)
        # Load the questions once, in order, rather than per response.
        self.sections = [(section, list(section.questions)) for section in template.sections]
        return template

    def open(self, template: AuditTemplate, spec: dict, created: date) -> Cycle:
        lead = db.session.get(User, self.lead_id)
        cycle = open_cycle(template=template, actor=lead, **spec)
        cycle.created_at = self.at(created)
        # Date the "cycle.opened" record before it is written: the log is append-only, so it cannot be changed after.
        for entry in db.session.new:
            if isinstance(entry, ActivityRecord) and entry.action == "cycle.opened":
                entry.at = cycle.created_at
        db.session.flush()
        return cycle

    # --- responses ----------------------------------------------------------------------

    def fill(self, cycle: Cycle, plans: dict[object, ResponsePlan]) -> None:
        """Write each response's answers, section progress, status history and activity, as planned."""
        responses = db.session.scalars(
            select(Response)
            .join(Response.assignment)
            .where(Assignment.cycle_id == cycle.id)
            # reference_for reads the establishment or trust of every response: load them up front.
            .options(
                selectinload(Response.assignment).selectinload(Assignment.establishment),
                selectinload(Response.assignment).selectinload(Assignment.trust),
            )
        ).all()
        by_school = {r.assignment.establishment_id: r for r in responses if r.assignment.establishment_id}
        by_trust = {r.assignment.trust_id: r for r in responses if r.assignment.trust_id}
        # Trusts that leave their academies to answer for themselves cover none of them.
        answering = [by_trust[t.id].id for t in self.trusts if t.name not in TRUST_LEVEL]
        db.session.execute(delete(TrustCoverage).where(TrustCoverage.response_id.in_(answering)))

        rows: dict[type, list[dict]] = {Answer: [], SectionProgress: [], StatusEvent: [], ActivityRecord: []}
        respondents = [s for s in self.establishments if s.is_open] + self.trusts
        for respondent in respondents:
            plan = plans.get(respondent) or ResponsePlan(ResponseStatus.NOT_STARTED)
            if plan.status is ResponseStatus.NOT_STARTED:
                continue
            if isinstance(respondent, PlannedTrust):
                response = by_trust[respondent.id]
                user_id = self.trust_lead_ids[respondent.name]
            else:
                response = by_school[respondent.id]
                user_id = respondent.dsl_id or respondent.former_dsl_id
            self._fill_response(cycle, response, respondent, plan, user_id, rows)
        for model, model_rows in rows.items():
            if model_rows:
                db.session.execute(insert(model), model_rows)

    def _fill_response(
        self,
        cycle: Cycle,
        response: Response,
        respondent: Respondent,
        plan: ResponsePlan,
        user_id: int | None,
        rows: dict[type, list[dict]],
    ) -> None:
        is_trust = isinstance(respondent, PlannedTrust)
        where = {
            "trust_id": respondent.id if is_trust else None,
            "establishment_id": None if is_trust else respondent.id,
        }
        saves = self._write_sections(cycle, response, respondent, plan, user_id, rows, where)
        response.status = plan.status
        response.started_at = plan.started
        response.updated_at = saves[-1] if saves else plan.started
        if user_id is not None and saves:
            self.last_seen[user_id] = max(saves[-1], self.last_seen.get(user_id, saves[-1]))
        self._write_history(cycle, response, plan, user_id, rows, where)
        if plan.submitted is not None:
            response.submitted_at = plan.resubmitted or plan.submitted
            response.updated_at = max(response.submitted_at, plan.decided or response.submitted_at)
            response.submitted_by_id = user_id
            response.reference = reference_for(response)
            response.headteacher_name = respondent.ceo if is_trust else respondent.headteacher
            response.chair_name = respondent.chair
            response.declaration_date = (plan.submitted - timedelta(days=self.rng.choice([0, 0, 0, 1, 2, 5, 9]))).date()

    def _write_sections(
        self,
        cycle: Cycle,
        response: Response,
        respondent: Respondent,
        plan: ResponsePlan,
        user_id: int | None,
        rows: dict[type, list[dict]],
        where: dict,
    ) -> list[datetime]:
        """Answer the first ``plan.sections`` sections; return when each was saved."""
        rng = self.rng
        is_trust = isinstance(respondent, PlannedTrust)
        cycle_end = min(DEMO_NOW, datetime.combine(cycle.due_on, time(17, 0), LONDON).astimezone(UTC))
        last_change = plan.resubmitted or plan.submitted or cycle_end
        saves = sorted(_between(rng, plan.started, last_change - timedelta(minutes=20)) for _ in range(plan.sections))
        strength = respondent.strength + (0.04 if cycle.slug == THIS_YEAR["slug"] else 0)
        pupils = sum(s.pupils for s in self.establishments if s.trust is respondent) if is_trust else respondent.pupils
        given: dict[str, str] = {}  # every answer so far, for questions that depend on an earlier one
        skipped: set[str] = set()
        # ``saves`` has one time per section answered, fewer than the template's sections while the audit is part
        # done: zip stops there, so the later sections stay unanswered.
        for index, ((section, questions), saved) in enumerate(zip(self.sections, saves, strict=False)):
            answers = {}
            for q in questions:
                # A question not asked (its condition is false) gets no answer, as the section page clears it.
                if skipped_keys([q], given) or (q.condition and q.condition["question"] in skipped):
                    skipped.add(q.key)
                    answers[q.key] = AnswerInput("")
                else:
                    answers[q.key] = self._answer(q, section, strength, cycle.opens_on, saved.date(), pupils, is_trust)
                given[q.key] = answers[q.key].value
            if plan.status is ResponseStatus.IN_PROGRESS and index == len(saves) - 1 and rng.random() < 0.4:
                for key in rng.sample(list(answers), rng.randint(1, min(3, len(answers)))):
                    del answers[key]  # the section they are part-way through
            complete = section_is_complete(questions, answers, cycle.opens_on, skipped)
            response.sections_completed = (response.sections_completed or 0) + complete
            version = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
            rows[SectionProgress].append(
                {
                    "response_id": response.id,
                    "section_key": section.key,
                    "version": version,
                    "state": SectionState.COMPLETED if complete else SectionState.IN_PROGRESS,
                    "updated_at": saved,
                    "updated_by_id": user_id,
                }
            )
            rows[Answer].extend(
                {
                    "response_id": response.id,
                    "question_key": key,
                    "value": given.value,
                    "follow_up": given.follow_up,
                    "updated_at": saved,
                    "updated_by_id": user_id,
                }
                for key, given in answers.items()
                if given.value
            )
            rows[ActivityRecord].append(
                {
                    "at": saved,
                    "actor_id": user_id,
                    "action": "answers.saved",
                    "cycle_id": cycle.id,
                    "detail": {"response": response.id, "section": section.key, "version": version},
                    **where,
                }
            )
        return saves

    def _write_history(
        self,
        cycle: Cycle,
        response: Response,
        plan: ResponsePlan,
        user_id: int | None,
        rows: dict[type, list[dict]],
        where: dict,
    ) -> None:
        """The response's status events, and activity records for the moves the lead sees."""

        def event(old: ResponseStatus, new: ResponseStatus, at: datetime, by: int | None, comment: str = "") -> None:
            if by is not None:
                self.last_seen[by] = max(at, self.last_seen.get(by, at))
            rows[StatusEvent].append(
                {
                    "response_id": response.id,
                    "from_status": old,
                    "to_status": new,
                    "at": at,
                    "by_user_id": by,
                    "comment": comment,
                }
            )
            if new is not ResponseStatus.IN_PROGRESS:
                detail = {"response": response.id}
                detail.update(
                    {"reference": reference_for(response)} if new is ResponseStatus.SUBMITTED else {"comment": comment}
                )
                rows[ActivityRecord].append(
                    {
                        "at": at,
                        "actor_id": by,
                        "action": f"response.{new.value}",
                        "cycle_id": cycle.id,
                        "detail": detail,
                        **where,
                    }
                )

        event(ResponseStatus.NOT_STARTED, ResponseStatus.IN_PROGRESS, plan.started, user_id)
        if plan.submitted is None:
            return
        event(ResponseStatus.IN_PROGRESS, ResponseStatus.SUBMITTED, plan.submitted, user_id)
        if plan.status is ResponseStatus.ACCEPTED:
            event(ResponseStatus.SUBMITTED, ResponseStatus.ACCEPTED, plan.decided, self.lead_id)
        elif plan.decided is not None:  # returned for amendment (and, last year, sent back in)
            comment = _RETURN_COMMENT if plan.resubmitted is None else _RESUBMITTED_COMMENT
            event(ResponseStatus.SUBMITTED, ResponseStatus.RETURNED, plan.decided, self.lead_id, comment)
            response.return_comment = comment
            if plan.resubmitted is not None:
                event(ResponseStatus.RETURNED, ResponseStatus.SUBMITTED, plan.resubmitted, user_id)

    def _answer(
        self,
        question: TemplateQuestion,
        section: TemplateSection,
        strength: float,
        opens_on: date,
        saved_on: date,
        pupils: int,
        is_trust: bool,
    ) -> AnswerInput:
        """A plausible answer: mostly "yes", more gaps the weaker the respondent, dates in the last year or two."""
        rng = self.rng
        kind = question.type
        if not question.required and rng.random() < answer_type(kind).demo_blank:
            return AnswerInput("")
        if question.not_applicable and rng.random() < 0.12:
            return AnswerInput(NOT_APPLICABLE)
        value = answer_type(kind).demo_value(
            rng, question, strength, DemoContext(opens_on, saved_on, pupils, _COMMENTS)
        )
        follow_up = None
        if question.follow_up and is_gap(kind, question.gap, value, opens_on):
            action, owner = _SECTION_ACTIONS.get(section.key, ("Agree an action with the headteacher.", "DSL"))
            if is_trust:
                owner = "Trust safeguarding lead"
            follow_up = {
                "action": _ACTIONS.get(question.key, action),
                "owner": owner,
                "target_date": (saved_on + timedelta(days=rng.randint(30, 160))).isoformat(),
            }
        return AnswerInput(value, follow_up)

    # --- time ---------------------------------------------------------------------------

    def day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, (last - first).days))

    def before(self, moment: datetime, fewest_days: int, most_days: int, not_before: date) -> datetime:
        """A working moment some days earlier, but not before the cycle opened."""
        day = max((moment - timedelta(days=self.rng.randint(fewest_days, most_days))).date(), not_before)
        return min(self.at(day), moment - timedelta(hours=2))

    def after(self, moment: datetime, fewest_days: int, most_days: int) -> datetime:
        """A working moment some days later (never before ``moment``, even when moved off a weekend)."""
        later = self.at((moment + timedelta(days=self.rng.randint(fewest_days, most_days))).date())
        return max(later, moment + timedelta(hours=2))

    def at(self, day: date) -> datetime:
        """A moment in the working day (UK time, moved off weekends), in UTC."""
        if day.weekday() >= 5:
            day -= timedelta(days=day.weekday() - 4)
        moment = datetime.combine(day, time(self.rng.randint(8, 17), self.rng.randint(0, 59)), LONDON)
        return moment.astimezone(UTC)


def _between(rng: random.Random, first: datetime, last: datetime) -> datetime:
    if last <= first:
        return first + timedelta(minutes=rng.randint(5, 60))
    return first + (last - first) * rng.random()


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _insert_returning_ids(model, rows: list[dict]) -> list[int]:
    """Bulk insert; return the new ids in the order of the rows."""
    return list(db.session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows))
