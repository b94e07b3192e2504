"""A demo local authority: the fictional county of Wexshire, for newcomers and demonstrations.

``build_demo`` fills the database with about 400 establishments in 20 trusts, their
safeguarding contacts, last year's completed audit and this year's audit under way.
It is deterministic (one seeded generator and fixed dates, never the clock), so every
build shows the same LA, and fast: the bulky rows are written with bulk inserts.
Like every service it flushes and never commits; `surveyapp demo` commits.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import selectinload

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits.definitions import load_built_in_templates
from surveyapp.audits.models import (
    Answer,
    Assignment,
    AuditTemplate,
    Cycle,
    CycleState,
    Response,
    ResponseStatus,
    SectionProgress,
    SectionState,
    StatusEvent,
    TemplateQuestion,
    TemplateSection,
    TrustCoverage,
)
from surveyapp.audits.answer_types import DemoContext, answer_type
from surveyapp.audits.questions import NOT_APPLICABLE, is_gap, skipped_keys
from surveyapp.audits.services import AnswerInput, open_cycle, reference_for, section_is_complete
from surveyapp.auth.models import Role, User
from surveyapp.auth.services import hash_password
from surveyapp.establishments.models import ContactRole, Establishment, EstablishmentContact, Trust, TrustContact
from surveyapp.extensions import db

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

LAST_YEAR = {"slug": "2025-26", "name": "Safeguarding and Prevent audit 2025-26",
             "opens_on": date(2025, 9, 1), "due_on": date(2026, 3, 31)}
THIS_YEAR = {"slug": "2026-27", "name": "Safeguarding and Prevent audit 2026-27",
             "opens_on": date(2026, 9, 1), "due_on": date(2027, 3, 31)}
TEMPLATE_KEY = "s175-schools"

#: district -> relative number of schools (Wexley is the county town)
DISTRICTS = {"Wexley": 22, "Northmoor": 14, "Ashcombe": 16, "Hollinford": 12,
             "Brackendale": 10, "Castlemere": 15, "Eastmarsh": 11}

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

_PLACE_STARTS = ["Ash", "Bar", "Birch", "Brad", "Bram", "Brook", "Chal", "Church", "Clay", "Cold", "Cran", "Dun",
                 "Elm", "Fair", "Fox", "Hals", "Hart", "Hay", "Hazel", "Heath", "Hol", "Kel", "Kings", "Lang",
                 "Lark", "Lea", "Mar", "Mill", "Moor", "Nether", "New", "Oak", "Pen", "Red", "Rye", "Sand",
                 "Shel", "Stan", "Stock", "Stone", "Sut", "Thorn", "Tid", "Wal", "Whit", "Wil", "Win", "Wood"]
_PLACE_ENDS = ["bury", "by", "combe", "dale", "den", "field", "ford", "gate", "ham", "hill", "holme", "hurst",
               "ley", "mere", "stead", "stoke", "thorpe", "ton", "well", "wick", "worth"]
_PLACE_PREFIXES = ["Great", "Little", "Upper", "Lower", "North", "South", "East", "West", "Long", "Market"]
_TOWN_PARTS = ["Park", "Green", "Vale", "Heath", "Fields", "Hill", "Road", "Common", "Meadows", "Bridge"]
_FEATURES = ["Meadowbank", "Brookside", "Oakfield", "Riverside", "Hillside", "Woodlands", "Greenfields",
             "Parkfield", "Highfield", "Westfield", "Beechwood", "Fairfield", "Springfield", "Broadmead",
             "Orchard", "Willowbrook", "Hazelwood", "Larkrise", "Kingfisher", "Heronsgate", "Castle View",
             "Moorlands", "Rowan Tree", "Elm Tree", "Foxhill", "Bluebell", "Sunnyside", "Millfield"]
_SAINTS = ["Mary", "Peter", "Paul", "John", "Andrew", "Michael", "Bartholomew", "Chad", "Nicholas", "Margaret",
           "Matthew", "Mark", "Luke", "Anne", "Thomas", "George", "Edmund", "Oswald", "Cuthbert", "Aidan",
           "Hilda", "Bede", "Augustine", "Catherine", "Wilfrid", "Giles", "Lawrence", "Leonard", "James",
           "Helen", "Alban", "Barnabas"]
_CATHOLIC_SAINTS = ["Joseph", "Mary", "Patrick", "Teresa", "Bernadette", "Francis", "Thomas More", "Anthony",
                    "Gregory", "Vincent", "Edward", "Benedict", "Clare", "Columba", "Dominic", "John Fisher"]
_BISHOPS = ["Hale", "Fraser", "Lawson", "Holmes", "Chavasse", "Barrington", "Wakeling"]
_CHURCH_NAMES = ["Holy Trinity", "All Saints", "Christ Church", "St Peter and St Paul", "Emmanuel"]
_CATHOLIC_NAMES = ["Our Lady of Lourdes", "Sacred Heart", "Holy Family", "English Martyrs", "Our Lady and St Joseph",
                   "Holy Cross", "Our Lady of Walsingham"]
_FIRST_NAMES = ["Sarah", "Emma", "Claire", "Rachel", "Helen", "Joanne", "Lisa", "Nicola", "Katie", "Laura",
                "Rebecca", "Hannah", "Amy", "Charlotte", "Gemma", "Louise", "Victoria", "Zoe", "Fiona", "Alison",
                "Priya", "Aisha", "Fatima", "Nadia", "Sana", "Mei", "Agnieszka", "Siobhan", "Bethan", "Ruth",
                "Mark", "David", "Paul", "James", "Richard", "Andrew", "Simon", "Daniel", "Matthew", "Chris",
                "Tom", "Ben", "Imran", "Tariq", "Raj", "Kwame", "Tunde", "Liam", "Gareth", "Owen", "Neil",
                "Stephen", "Peter", "Michael", "Jonathan", "Adam", "Ian", "Martin", "Catherine", "Julie"]
_SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
             "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
             "Clarke", "Khan", "Ahmed", "Hussain", "Begum", "Ali", "Harris", "Lewis", "Martin", "Cooper",
             "Hughes", "Edwards", "Turner", "Hill", "Moore", "Ward", "Morris", "King", "Baker", "Harrison",
             "Morgan", "Allen", "Scott", "Young", "Mitchell", "Kaur", "Singh", "Nowak", "Okafor", "Mensah",
             "O'Brien", "O’Neill", "Murphy", "Kelly", "Chen", "Shah", "Parker", "Bennett", "Fletcher", "Lawson",
             "Price", "Barker", "Holmes", "Marsh", "Chapman", "Gill", "Whitfield", "Osei", "Rahman", "Fraser"]

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
    "leadership": ("Agree protected DSL time with the headteacher and write it into the job description.", "Headteacher"),
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


class DemoDatabaseNotEmpty(click.ClickException):
    """The database already holds data, so the demo would mix with it.

    A ClickException so that `surveyapp demo` reports it as a one-line error.
    """


@dataclass(eq=False)
class _Trust:
    name: str
    uid: str
    district: str | None
    church: str | None
    ceo: str = ""
    chair: str = ""
    strength: float = 0.8
    id: int = 0


@dataclass(eq=False)  # compared and hashed by identity: plans are keyed by establishment
class _Establishment:
    """An establishment as planned, before and after it is written."""

    urn: str
    name: str
    type_name: str
    phase: str
    district: str
    pupils: int
    trust: _Trust | None = None
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


@dataclass
class _Plan:
    """What happened to one response in one cycle."""

    status: ResponseStatus
    sections: int = 0  # how many sections were saved, in template order
    started: datetime | None = None
    submitted: datetime | None = None
    decided: datetime | None = None  # accepted or returned
    resubmitted: datetime | None = None  # returned and sent back in (last year's history)


def build_demo(reset: bool = False) -> dict:
    """Fill the database with the demo local authority and return how to sign in to it.

    :param reset: rebuild the database from nothing first; without it a database that holds data is refused
    :raises DemoDatabaseNotEmpty: the database holds data and ``reset`` is not set
    """
    if reset:
        rebuild_database()
    elif _holds_data():
        raise DemoDatabaseNotEmpty(
            "The database already holds establishments, trusts or cycles. "
            "Run `surveyapp demo --reset` to empty it and build the demo (this deletes everything in it)."
        )
    return _DemoBuilder(random.Random(SEED)).build()


def rebuild_database() -> None:
    """Drop every table and build the schema again with the migrations, as `surveyapp db upgrade` does.

    The demo cannot empty the tables row by row: the activity log is append-only and its
    triggers refuse deletes. Dropping a table is not a delete (no trigger fires), and the
    migrations create the triggers again, so the rebuilt database is one `db upgrade` would make.
    This commits (DDL), unlike other services: it is only for `surveyapp demo --reset`.
    """
    from flask_migrate import upgrade

    db.session.remove()  # end the session's transaction: SQLite cannot drop tables under an open read
    with db.engine.begin() as connection:
        db.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade()


def _holds_data() -> bool:
    return any(db.session.scalar(select(model.id).limit(1)) is not None for model in (Establishment, Trust, Cycle))


class _DemoBuilder:
    """Plans the LA in plain objects, then writes it: the register, people, templates, two cycles."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.trusts: list[_Trust] = []
        self.establishments: list[_Establishment] = []  # in URN order once planned
        self.shared_dsl: tuple[_Establishment, ...] = ()  # two small schools that share a DSL
        self.no_dsl: list[_Establishment] = []
        self.lead_id = 0
        self.trust_lead_ids: dict[str, int] = {}  # by trust name
        self.emails: dict[int, str] = {}  # by user id
        self.last_seen: dict[int, datetime] = {}  # user id -> their latest save, submission or decision
        self.sections: list[tuple[TemplateSection, list[TemplateQuestion]]] = []
        self.last_year_plans: dict[object, _Plan] = {}
        self._names: set[str] = set()
        self._places: dict[str, list[str]] = {}
        self._used_places: set[str] = set()

    def build(self) -> dict:
        self._plan_register()
        self._insert_register()
        sign_ins = self._insert_people()
        template = self._load_templates()
        last_year = self._open(template, LAST_YEAR, created=date(2025, 7, 14))
        this_year = self._open(template, THIS_YEAR, created=date(2026, 7, 13))
        self.last_year_plans = self._plan_last_year()
        self._fill(last_year, self.last_year_plans)
        plans = self._plan_this_year()
        self._fill(this_year, plans)
        last_year.state = CycleState.CLOSED
        db.session.execute(update(User), [{"id": user_id, "last_sign_in_at": at} for user_id, at in self.last_seen.items()])
        sign_ins.update(self._pick_sign_ins(plans))
        db.session.flush()
        return {"url": DEMO_URL, "password": DEMO_PASSWORD, "sign_ins": sign_ins,
                "establishments": len(self.establishments), "trusts": len(self.trusts)}

    # --- the register -------------------------------------------------------------------

    def _plan_register(self) -> None:
        rng = self.rng
        uids = rng.sample(range(2100, 17999), len(TRUSTS))
        academy_urns = iter(rng.sample(range(136000, 150999), 200))
        maintained_urns = iter(rng.sample(range(110000, 126999), 300))
        for (name, district, church, primary, secondary, special, all_through), uid in zip(TRUSTS, uids):
            trust = _Trust(name, str(uid), district, church, ceo=self._person(), chair=self._person(),
                           strength=rng.uniform(0.7, 0.95))
            self.trusts.append(trust)
            for phase, count in (("Primary", primary), ("Secondary", secondary), ("Special", special),
                                 ("All-through", all_through)):
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
            school.headteacher, school.chair = self._person(), self._person()
        for school in rng.sample([s for s in self.establishments if s.is_open and s.trust is None], 2):
            school.status_name = "Open, but proposed to close"
        # Sorted by URN, like GIAS: everything after this iterates in a fixed order.
        self.establishments.sort(key=lambda s: s.urn)

    def _district(self, home: str | None = None) -> str:
        if home and self.rng.random() < 0.8:
            return home
        return self.rng.choices(list(DISTRICTS), weights=list(DISTRICTS.values()))[0]

    def _place(self, district: str) -> str:
        """A village or neighbourhood of the district, new ones favoured so names vary."""
        rng = self.rng
        known = self._places.setdefault(district, [])
        if known and rng.random() < 0.25:
            return rng.choice(known)
        while True:
            if rng.random() < 0.15:
                place = f"{district} {rng.choice(_TOWN_PARTS)}"
            else:
                place = _join(rng.choice(_PLACE_STARTS), rng.choice(_PLACE_ENDS))
                if rng.random() < 0.12:
                    place = f"{rng.choice(_PLACE_PREFIXES)} {place}"
            if place not in self._used_places:
                self._used_places.add(place)
                known.append(place)
                return place

    def _saint(self, catholic: bool = False) -> str:
        saint = self.rng.choice(_CATHOLIC_SAINTS if catholic else _SAINTS)
        # A few names carry the curly apostrophe that GIAS exports sometimes hold.
        apostrophe = "’" if self.rng.random() < 0.12 else "'"
        return f"St {saint}{apostrophe}" + ("" if saint.endswith("s") else "s")

    def _unique(self, name: str, place: str) -> str:
        """The name, told apart by its place if another establishment has it (as GIAS does)."""
        if name in self._names and place not in name:
            name = f"{name}, {place}"
        number = 2
        while name in self._names:
            name = f"{name.rsplit(' (', 1)[0]} ({number})"
            number += 1
        self._names.add(name)
        return name

    def _name(self, phase: str, district: str, church: str | None, academy: bool) -> str:
        """A new name if a few tries find one, else a common one told apart by its place."""
        for _attempt in range(6):
            name, place = self._name_options(phase, district, church, academy)
            if name not in self._names:
                break
        return self._unique(name, place)

    def _name_options(self, phase: str, district: str, church: str | None, academy: bool) -> tuple[str, str]:
        rng, place = self.rng, self._place(district)
        if phase == "Primary":
            if church == "CofE":
                options = [f"{place} Church of England Primary School", f"{self._saint()} Church of England Primary School",
                           f"{place} CofE Primary School", f"{rng.choice(_CHURCH_NAMES)} Church of England Primary School"]
                if academy:
                    options.append(f"{place} Church of England Academy")
            elif church == "Catholic":
                options = [f"{self._saint(catholic=True)} Catholic Primary School",
                           f"{rng.choice(_CATHOLIC_NAMES)} Catholic Primary School"]
                if academy:
                    options.append(f"{self._saint(catholic=True)} Catholic Primary Academy")
            elif academy:
                options = [f"{place} Primary Academy", f"{rng.choice(_FEATURES)} Academy", f"{place} Primary School",
                           f"The {place} Academy", f"{rng.choice(_FEATURES)} Primary School"]
            else:
                options = [f"{place} Primary School", f"{place} Primary School", f"{place} Community Primary School",
                           f"{rng.choice(_FEATURES)} Primary School", f"{place} Infant School", f"{place} Junior School",
                           f"{place} Primary and Nursery School"]
        elif phase == "Secondary":
            if church == "CofE":
                options = [f"{self._saint()} Church of England High School",
                           f"Bishop {rng.choice(_BISHOPS)} Church of England Academy"]
            elif church == "Catholic":
                options = [f"{self._saint(catholic=True)} Catholic High School",
                           f"{rng.choice(_CATHOLIC_NAMES)} Catholic College"]
            elif academy:
                options = [f"{place} Academy", f"{place} High School", f"The {place} School", f"{place} Community College"]
            else:
                options = [f"{place} High School", f"{place} School", f"{place} Community College"]
        elif phase == "Special":
            options = [f"{rng.choice(_FEATURES)} School", f"{place} Park School", f"The {rng.choice(_FEATURES)} School"]
        elif phase == "Nursery":
            options = [f"{place} Nursery School", f"{rng.choice(_FEATURES)} Nursery School"]
        elif phase == "All-through":
            options = [f"{place} All-through Academy" if academy else f"{place} School", f"{district} Park School"]
        else:  # pupil referral units
            options = [f"{district} Pupil Referral Unit", f"{district} Short Stay School",
                       f"The {rng.choice(_FEATURES)} Centre"]
        return rng.choice(options), place

    def _pupils(self, phase: str, name: str) -> int:
        rng = self.rng
        if phase == "Primary":
            if "Infant" in name:
                return rng.randint(90, 270)
            if "Junior" in name:
                return rng.randint(120, 360)
            return rng.randint(28, 118) if rng.random() < 0.2 else rng.randint(180, 630)
        low, high = {"Secondary": (550, 1750), "Special": (60, 260), "Nursery": (45, 130),
                     "All-through": (1100, 2100)}.get(phase, (15, 80))
        return rng.randint(low, high)

    def _academy(self, urn: int, trust: _Trust, phase: str) -> _Establishment:
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
        district = self._district(trust.district)
        name = self._name(phase, district, church, academy=True)
        start = date(2013 if type_name == "Free schools" else 2011, 9, 1)
        opened = _first_of_month(start + timedelta(days=rng.randint(0, (date(2025, 4, 1) - start).days)))
        return _Establishment(str(urn), name, type_name, phase, district, self._pupils(phase, name),
                              trust=trust, opened_on=opened)

    def _maintained(self, urn: int, phase: str) -> _Establishment:
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
            type_name = {"Special": "Community special school", "Nursery": "Local authority nursery school",
                         "All-through": "Foundation school", "Not applicable": "Pupil referral unit"}[phase]
        district = self._district()
        name = self._name(phase, district, church, academy=False)
        return _Establishment(str(urn), name, type_name, phase, district, self._pupils(phase, name))

    def _infant_and_junior(self, urns) -> int:
        district = self._district()
        place = self._place(district)
        for kind in ("Infant", "Junior"):
            name = self._unique(f"{place} {kind} School", place)
            self.establishments.append(_Establishment(str(next(urns)), name, "Community school", "Primary", district,
                                        self._pupils("Primary", name)))
        return 2

    def _add_closed(self, urns) -> None:
        """Five closed establishments: two that became academies (GIAS gives the academy a new URN),
        an infant and a junior school that merged into a primary, and a small village school."""
        rng = self.rng
        converted = [s for s in self.establishments if s.type_name == "Academy converter" and s.phase == "Primary"
                     and s.opened_on >= date(2022, 1, 1)][:2]
        for academy in converted:
            type_name = "Voluntary controlled school" if "Church of England" in academy.name else "Community school"
            self.establishments.append(self._closed(next(urns), academy.name, type_name, academy.district,
                                             academy.opened_on - timedelta(days=1), allow_same_name=True))
        merged = next(s for s in self.establishments if s.type_name == "Community school" and s.phase == "Primary"
                      and s.name.endswith(" Primary School") and "Community" not in s.name and "," not in s.name)
        merged.opened_on = date(2024, 9, 1)
        place = merged.name.removesuffix(" Primary School")
        for kind in ("Infant", "Junior"):
            self.establishments.append(self._closed(next(urns), f"{place} {kind} School", "Community school",
                                             merged.district, date(2024, 8, 31)))
        district = self._district()
        village = f"{rng.choice(_PLACE_PREFIXES[:2])} {_join(rng.choice(_PLACE_STARTS), rng.choice(_PLACE_ENDS))}"
        self.establishments.append(self._closed(next(urns), f"{village} Church of England Primary School",
                                         "Voluntary controlled school", district, date(2025, 7, 31)))

    def _closed(self, urn: int, name: str, type_name: str, district: str, closed_on: date,
                allow_same_name: bool = False) -> _Establishment:
        if not allow_same_name:
            name = self._unique(name, district)
        return _Establishment(str(urn), name, type_name, "Primary", district, self.rng.randint(60, 200),
                       is_open=False, status_name="Closed", closed_on=closed_on)

    def _insert_register(self) -> None:
        ids = _insert_returning_ids(Trust, [{"uid": t.uid, "name": t.name} for t in self.trusts])
        for trust, trust_id in zip(self.trusts, ids):
            trust.id = trust_id
        rows = [
            {"urn": s.urn, "name": s.name, "type_name": s.type_name, "phase": s.phase, "status_name": s.status_name,
             "is_open": s.is_open, "la_code": LA_CODE, "la_name": COUNTY, "district": s.district,
             "number_of_pupils": s.pupils, "opened_on": s.opened_on, "closed_on": s.closed_on,
             "trust_id": s.trust.id if s.trust else None}
            for s in self.establishments
        ]
        for school, school_id in zip(self.establishments, _insert_returning_ids(Establishment, rows)):
            school.id = school_id

    # --- people -------------------------------------------------------------------------

    def _person(self) -> str:
        return f"{self.rng.choice(_FIRST_NAMES)} {self.rng.choice(_SURNAMES)}"

    def _insert_people(self) -> dict[str, str]:
        """Add the accounts and contacts; return the LA-wide sign-ins."""
        rng = self.rng
        password_hash = hash_password(DEMO_PASSWORD)  # once: argon2 is slow on purpose
        joined = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
        users: list[dict] = []
        links: list[tuple[str, str, _Establishment | _Trust, ContactRole | None]] = []  # email, attribute, target, role

        def add(email: str, name: str, role: Role, enabled: bool = True) -> str:
            users.append({"email": email, "name": name, "role": role, "password_hash": password_hash,
                          "is_enabled": enabled, "created_at": joined + timedelta(days=rng.randint(0, 400))})
            return email

        lead = add(f"lead@{DEMO_DOMAIN}", "Joanne Whitfield", Role.LEAD)
        board = add(f"board@{DEMO_DOMAIN}", "Peter Hale", Role.BOARD)
        open_schools = [s for s in self.establishments if s.is_open]
        self.shared_dsl = self._sharing_a_dsl(open_schools)
        # Not among the academies whose trust answers for them: their own response stays untouched.
        chosen = [s for s in open_schools
                  if s not in self.shared_dsl and (s.trust is None or s.trust.name not in TRUST_LEVEL)]
        self.no_dsl = rng.sample(chosen, NO_DSL_COUNT)
        for school in open_schools:
            if school is self.shared_dsl[1]:
                continue  # its DSL is the first school's, added with it
            if school in self.no_dsl:
                # The DSL left over the summer: their account is disabled and their link removed.
                links.append((add(f"former.dsl.{school.urn}@{DEMO_DOMAIN}", self._person(), Role.DSL, enabled=False),
                              "former_dsl_id", school, None))
                continue
            # In many primary schools the headteacher is the DSL.
            name = school.headteacher if school.phase == "Primary" and rng.random() < 0.45 else self._person()
            email = add(f"dsl.{school.urn}@{DEMO_DOMAIN}", name, Role.DSL)
            links.append((email, "dsl_id", school, ContactRole.DSL))
            if school is self.shared_dsl[0]:
                links.append((email, "dsl_id", self.shared_dsl[1], ContactRole.DSL))
            if school.pupils > 900 or (school.pupils > 400 and rng.random() < 0.08):
                links.append((add(f"deputy.{school.urn}@{DEMO_DOMAIN}", self._person(), Role.DSL), "", school,
                              ContactRole.DEPUTY_DSL))
        for trust in self.trusts:
            links.append((add(f"trust.{trust.uid}@{DEMO_DOMAIN}", self._person(), Role.TRUST_LEAD), "", trust, None))

        user_ids = dict(zip([u["email"] for u in users], _insert_returning_ids(User, users)))
        self.lead_id = user_ids[lead]
        school_contacts, trust_contacts = [], []
        for email, attribute, target, role in links:
            if isinstance(target, _Trust):
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

    def _sharing_a_dsl(self, open_schools: list[_Establishment]) -> tuple[_Establishment, _Establishment]:
        """Two small village schools in one district that share a DSL."""
        small = [s for s in open_schools if s.trust is None and s.phase == "Primary" and s.pupils < 100
                 and "Infant" not in s.name and "Junior" not in s.name]
        for school in small:
            partner = next((s for s in small if s is not school and s.district == school.district), None)
            if partner is not None:
                return school, partner
        raise AssertionError("the demo register has no two small schools in one district")  # pragma: no cover

    # --- templates and cycles -----------------------------------------------------------

    def _load_templates(self) -> AuditTemplate:
        templates = [template for template, _outcome in load_built_in_templates()]
        for template in templates:
            template.created_at = datetime(2025, 6, 30, 10, 0, tzinfo=UTC)
        template = next(t for t in templates if t.key == TEMPLATE_KEY)
        # Load the questions once, in order, rather than per response.
        self.sections = [(section, list(section.questions)) for section in template.sections]
        return template

    def _open(self, template: AuditTemplate, spec: dict, created: date) -> Cycle:
        lead = db.session.get(User, self.lead_id)
        cycle = open_cycle(template=template, actor=lead, **spec)
        cycle.created_at = self._at(created)
        # Date the "cycle.opened" record before it is written: the log is append-only, so it cannot be changed after.
        for entry in db.session.new:
            if isinstance(entry, ActivityRecord) and entry.action == "cycle.opened":
                entry.at = cycle.created_at
        db.session.flush()
        return cycle

    def _plan_last_year(self) -> dict[object, _Plan]:
        """Last year: about 97% returned, mostly late in the window; three trusts answered for their academies."""
        rng = self.rng
        opens, due = LAST_YEAR["opens_on"], LAST_YEAR["due_on"]
        plans: dict[object, _Plan] = {}
        trust_level = [t for t in self.trusts if t.name in TRUST_LEVEL]
        schools = [s for s in self.establishments if s.is_open and s.trust not in trust_level]
        # Who never sent it in: three of the schools that have since lost their DSL, and nine reluctant others.
        missing = sorted(self.no_dsl, key=lambda s: s.keenness)[:3]
        missing += sorted((s for s in schools if s not in self.no_dsl and s not in self.shared_dsl),
                          key=lambda s: s.keenness)[:9]
        for index, school in enumerate(missing):
            if index % 3 == 0:
                started = self._at(self._day_between(date(2026, 1, 5), date(2026, 3, 20)))
                plans[school] = _Plan(ResponseStatus.IN_PROGRESS, sections=rng.randint(2, 7), started=started)
            else:
                plans[school] = _Plan(ResponseStatus.NOT_STARTED)
        returning = sorted((s for s in schools if s not in plans), key=lambda s: -s.keenness)
        respondents: list[object] = returning + trust_level
        # Most returns come in towards the due date; the keenest schools send theirs first.
        fractions = sorted(rng.betavariate(2.4, 1.3) for _ in returning)
        fractions += [rng.uniform(0.55, 0.9) for _ in trust_level]
        for respondent, fraction in zip(respondents, fractions):
            submitted = self._at(opens + timedelta(days=round(fraction * ((due - opens).days - 2))))
            started = self._before(submitted, 1, 45, opens)
            plan = _Plan(ResponseStatus.SUBMITTED, sections=len(self.sections), started=started, submitted=submitted)
            roll = rng.random()
            if roll < 0.012:
                plan.decided = self._after(submitted, 3, 12)
                plan.resubmitted = self._after(plan.decided, 2, 14)
            elif roll < 0.36:
                plan.status = ResponseStatus.ACCEPTED
                plan.decided = self._after(submitted, 2, 40)
            plans[respondent] = plan
        return plans

    def _plan_this_year(self) -> dict[object, _Plan]:
        """This year, eleven weeks in: about 20% returned, 45% under way and the rest not started."""
        rng = self.rng
        opens = THIS_YEAR["opens_on"]
        trust_level = [t for t in self.trusts if t.name in TRUST_LEVEL]
        answering_trust = trust_level[0]
        plans: dict[object, _Plan] = {
            answering_trust: _Plan(ResponseStatus.IN_PROGRESS, sections=5,
                                   started=self._at(date(2026, 10, 5)))
        }
        open_schools = [s for s in self.establishments if s.is_open]
        # The shared DSL is part-way through one school's audit and has not started the other's.
        plans[self.shared_dsl[0]] = _Plan(ResponseStatus.IN_PROGRESS, sections=3, started=self._at(date(2026, 10, 12)))
        schools = [s for s in open_schools if s.trust not in trust_level and s not in self.no_dsl
                   and s not in self.shared_dsl]
        # Keen last year, keen this year, give or take.
        schools.sort(key=lambda s: -(s.keenness + rng.gauss(0, 0.15)))
        submitting = round(0.20 * len(open_schools))
        under_way = round(0.45 * len(open_schools)) - 1  # the shared DSL's first school is under way too
        days_open = (DEMO_TODAY - opens).days
        for index, school in enumerate(schools[:submitting]):
            submitted = self._at(opens + timedelta(days=7 + round(days_open * 0.85 * index / submitting)))
            started = self._before(submitted, 1, 20, opens)
            plan = _Plan(ResponseStatus.SUBMITTED, sections=len(self.sections), started=started, submitted=submitted)
            if rng.random() < 0.15 and submitted.date() < DEMO_TODAY - timedelta(days=10):
                plan.status = ResponseStatus.ACCEPTED
                plan.decided = self._after(submitted, 2, 9)
            plans[school] = plan
        returned = schools[submitting]
        plans[returned] = _Plan(ResponseStatus.RETURNED, sections=len(self.sections),
                                started=self._at(date(2026, 9, 28)), submitted=self._at(date(2026, 10, 14)),
                                decided=self._at(date(2026, 10, 22)))
        for index, school in enumerate(schools[submitting + 1:submitting + 1 + under_way]):
            # The further up the list, the further through the audit.
            sections = max(1, min(8, 8 - index * 8 // under_way + rng.randint(-1, 1)))
            started = self._at(self._day_between(opens + timedelta(days=1), DEMO_TODAY - timedelta(days=5)))
            plans[school] = _Plan(ResponseStatus.IN_PROGRESS, sections=sections, started=started)
        for school in open_schools:
            plans.setdefault(school, _Plan(ResponseStatus.NOT_STARTED))
        for trust in self.trusts:
            plans.setdefault(trust, _Plan(ResponseStatus.NOT_STARTED))
        return plans

    def _pick_sign_ins(self, plans: dict[object, _Plan]) -> dict[str, str]:
        """The respondents worth signing in as: a DSL part-way through, the DSL of two schools and
        the trust lead answering for their academies."""
        single = {s.dsl_id for s in self.establishments if s not in self.shared_dsl}
        dsl = next(s for s in self.establishments
                   if s.trust is None and s.phase == "Primary" and s.dsl_id is not None and s.dsl_id in single
                   and plans[s].status is ResponseStatus.IN_PROGRESS and 3 <= plans[s].sections <= 6
                   and s in self.last_year_plans and self.last_year_plans[s].submitted is not None)
        return {
            "dsl": self.emails[dsl.dsl_id],
            "dsl_two_schools": self.emails[self.shared_dsl[0].dsl_id],
            "trust_lead": self.emails[self.trust_lead_ids[TRUST_LEVEL[0]]],
        }

    # --- responses ----------------------------------------------------------------------

    def _fill(self, cycle: Cycle, plans: dict[object, _Plan]) -> None:
        """Write each response's answers, section progress, status history and activity, as planned."""
        responses = db.session.scalars(
            select(Response).join(Response.assignment).where(Assignment.cycle_id == cycle.id)
            # reference_for reads the establishment or trust of every response: load them up front.
            .options(selectinload(Response.assignment).selectinload(Assignment.establishment),
                     selectinload(Response.assignment).selectinload(Assignment.trust))
        ).all()
        by_school = {r.assignment.establishment_id: r for r in responses if r.assignment.establishment_id}
        by_trust = {r.assignment.trust_id: r for r in responses if r.assignment.trust_id}
        # Trusts that leave their academies to answer for themselves cover none of them.
        answering = [by_trust[t.id].id for t in self.trusts if t.name not in TRUST_LEVEL]
        db.session.execute(delete(TrustCoverage).where(TrustCoverage.response_id.in_(answering)))

        rows: dict[type, list[dict]] = {Answer: [], SectionProgress: [], StatusEvent: [], ActivityRecord: []}
        respondents = [s for s in self.establishments if s.is_open] + self.trusts
        for respondent in respondents:
            plan = plans.get(respondent) or _Plan(ResponseStatus.NOT_STARTED)
            if plan.status is ResponseStatus.NOT_STARTED:
                continue
            if isinstance(respondent, _Trust):
                response = by_trust[respondent.id]
                user_id = self.trust_lead_ids[respondent.name]
            else:
                response = by_school[respondent.id]
                user_id = respondent.dsl_id or respondent.former_dsl_id
            self._fill_response(cycle, response, respondent, plan, user_id, rows)
        for model, model_rows in rows.items():
            if model_rows:
                db.session.execute(insert(model), model_rows)

    def _fill_response(self, cycle: Cycle, response: Response, respondent: _Establishment | _Trust, plan: _Plan,
                       user_id: int | None, rows: dict[type, list[dict]]) -> None:
        is_trust = isinstance(respondent, _Trust)
        where = {"trust_id": respondent.id if is_trust else None, "establishment_id": None if is_trust else respondent.id}
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

    def _write_sections(self, cycle: Cycle, response: Response, respondent: _Establishment | _Trust, plan: _Plan,
                        user_id: int | None, rows: dict[type, list[dict]], where: dict) -> list[datetime]:
        """Answer the first ``plan.sections`` sections; return when each was saved."""
        rng = self.rng
        is_trust = isinstance(respondent, _Trust)
        cycle_end = min(DEMO_NOW, datetime.combine(cycle.due_on, time(17, 0), LONDON).astimezone(UTC))
        last_change = plan.resubmitted or plan.submitted or cycle_end
        saves = sorted(_between(rng, plan.started, last_change - timedelta(minutes=20)) for _ in range(plan.sections))
        strength = respondent.strength + (0.04 if cycle.slug == THIS_YEAR["slug"] else 0)
        pupils = sum(s.pupils for s in self.establishments if s.trust is respondent) if is_trust else respondent.pupils
        given: dict[str, str] = {}  # every answer so far, for questions that depend on an earlier one
        skipped: set[str] = set()
        for index, ((section, questions), saved) in enumerate(zip(self.sections, saves)):
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
            version = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
            rows[SectionProgress].append({
                "response_id": response.id, "section_key": section.key, "version": version,
                "state": SectionState.COMPLETED if complete else SectionState.IN_PROGRESS,
                "updated_at": saved, "updated_by_id": user_id,
            })
            rows[Answer].extend(
                {"response_id": response.id, "question_key": key, "value": given.value,
                 "follow_up": given.follow_up, "updated_at": saved, "updated_by_id": user_id}
                for key, given in answers.items() if given.value
            )
            rows[ActivityRecord].append({"at": saved, "actor_id": user_id, "action": "answers.saved", "cycle_id": cycle.id,
                                         "detail": {"response": response.id, "section": section.key, "version": version},
                                         **where})
        return saves

    def _write_history(self, cycle: Cycle, response: Response, plan: _Plan, user_id: int | None,
                       rows: dict[type, list[dict]], where: dict) -> None:
        """The response's status events, and activity records for the moves the lead sees."""

        def event(old: ResponseStatus, new: ResponseStatus, at: datetime, by: int | None, comment: str = "") -> None:
            if by is not None:
                self.last_seen[by] = max(at, self.last_seen.get(by, at))
            rows[StatusEvent].append({"response_id": response.id, "from_status": old, "to_status": new,
                                      "at": at, "by_user_id": by, "comment": comment})
            if new is not ResponseStatus.IN_PROGRESS:
                detail = {"response": response.id}
                detail.update({"reference": reference_for(response)} if new is ResponseStatus.SUBMITTED
                              else {"comment": comment})
                rows[ActivityRecord].append({"at": at, "actor_id": by, "action": f"response.{new.value}",
                                             "cycle_id": cycle.id, "detail": detail, **where})

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

    def _answer(self, question: TemplateQuestion, section: TemplateSection, strength: float, opens_on: date,
                saved_on: date, pupils: int, is_trust: bool) -> AnswerInput:
        """A plausible answer: mostly "yes", more gaps the weaker the respondent, dates in the last year or two."""
        rng = self.rng
        kind = question.type
        if not question.required and rng.random() < answer_type(kind).demo_blank:
            return AnswerInput("")
        if question.not_applicable and rng.random() < 0.12:
            return AnswerInput(NOT_APPLICABLE)
        value = answer_type(kind).demo_value(rng, question, strength, DemoContext(opens_on, saved_on, pupils, _COMMENTS))
        follow_up = None
        if question.follow_up and is_gap(kind, question.gap, value, opens_on):
            action, owner = _SECTION_ACTIONS.get(section.key, ("Agree an action with the headteacher.", "DSL"))
            if is_trust:
                owner = "Trust safeguarding lead"
            follow_up = {"action": _ACTIONS.get(question.key, action), "owner": owner,
                         "target_date": (saved_on + timedelta(days=rng.randint(30, 160))).isoformat()}
        return AnswerInput(value, follow_up)

    # --- time ---------------------------------------------------------------------------

    def _day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, (last - first).days))

    def _before(self, moment: datetime, fewest_days: int, most_days: int, not_before: date) -> datetime:
        """A working moment some days earlier, but not before the cycle opened."""
        day = max((moment - timedelta(days=self.rng.randint(fewest_days, most_days))).date(), not_before)
        return min(self._at(day), moment - timedelta(hours=2))

    def _after(self, moment: datetime, fewest_days: int, most_days: int) -> datetime:
        """A working moment some days later (never before ``moment``, even when moved off a weekend)."""
        later = self._at((moment + timedelta(days=self.rng.randint(fewest_days, most_days))).date())
        return max(later, moment + timedelta(hours=2))

    def _at(self, day: date) -> datetime:
        """A moment in the working day (UK time, moved off weekends), in UTC."""
        if day.weekday() >= 5:
            day -= timedelta(days=day.weekday() - 4)
        moment = datetime.combine(day, time(self.rng.randint(8, 17), self.rng.randint(0, 59)), LONDON)
        return moment.astimezone(UTC)


def _between(rng: random.Random, first: datetime, last: datetime) -> datetime:
    if last <= first:
        return first + timedelta(minutes=rng.randint(5, 60))
    return first + (last - first) * rng.random()


def _join(start: str, end: str) -> str:
    """Ash + ford = Ashford; Mill + ley = Milley, not Millley."""
    return start + (end[1:] if start[-1] == end[0] else end)


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _insert_returning_ids(model, rows: list[dict]) -> list[int]:
    """Bulk insert; return the new ids in the order of the rows."""
    return list(db.session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows))
