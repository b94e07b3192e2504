"""The demo county's names: its districts, places, establishments and people, drawn from one seeded generator.

Plain word lists and ``Names``, which draws from them in a fixed order, so the same seed always
names the county the same way. No database and no Flask.
"""

from __future__ import annotations

import random

#: district -> relative number of schools (Wexley is the county town)
DISTRICTS = {
    "Wexley": 22,
    "Northmoor": 14,
    "Ashcombe": 16,
    "Hollinford": 12,
    "Brackendale": 10,
    "Castlemere": 15,
    "Eastmarsh": 11,
}

PLACE_STARTS = [
    "Ash",
    "Bar",
    "Birch",
    "Brad",
    "Bram",
    "Brook",
    "Chal",
    "Church",
    "Clay",
    "Cold",
    "Cran",
    "Dun",
    "Elm",
    "Fair",
    "Fox",
    "Hals",
    "Hart",
    "Hay",
    "Hazel",
    "Heath",
    "Hol",
    "Kel",
    "Kings",
    "Lang",
    "Lark",
    "Lea",
    "Mar",
    "Mill",
    "Moor",
    "Nether",
    "New",
    "Oak",
    "Pen",
    "Red",
    "Rye",
    "Sand",
    "Shel",
    "Stan",
    "Stock",
    "Stone",
    "Sut",
    "Thorn",
    "Tid",
    "Wal",
    "Whit",
    "Wil",
    "Win",
    "Wood",
]
PLACE_ENDS = [
    "bury",
    "by",
    "combe",
    "dale",
    "den",
    "field",
    "ford",
    "gate",
    "ham",
    "hill",
    "holme",
    "hurst",
    "ley",
    "mere",
    "stead",
    "stoke",
    "thorpe",
    "ton",
    "well",
    "wick",
    "worth",
]
PLACE_PREFIXES = ["Great", "Little", "Upper", "Lower", "North", "South", "East", "West", "Long", "Market"]
TOWN_PARTS = ["Park", "Green", "Vale", "Heath", "Fields", "Hill", "Road", "Common", "Meadows", "Bridge"]
FEATURES = [
    "Meadowbank",
    "Brookside",
    "Oakfield",
    "Riverside",
    "Hillside",
    "Woodlands",
    "Greenfields",
    "Parkfield",
    "Highfield",
    "Westfield",
    "Beechwood",
    "Fairfield",
    "Springfield",
    "Broadmead",
    "Orchard",
    "Willowbrook",
    "Hazelwood",
    "Larkrise",
    "Kingfisher",
    "Heronsgate",
    "Castle View",
    "Moorlands",
    "Rowan Tree",
    "Elm Tree",
    "Foxhill",
    "Bluebell",
    "Sunnyside",
    "Millfield",
]
SAINTS = [
    "Mary",
    "Peter",
    "Paul",
    "John",
    "Andrew",
    "Michael",
    "Bartholomew",
    "Chad",
    "Nicholas",
    "Margaret",
    "Matthew",
    "Mark",
    "Luke",
    "Anne",
    "Thomas",
    "George",
    "Edmund",
    "Oswald",
    "Cuthbert",
    "Aidan",
    "Hilda",
    "Bede",
    "Augustine",
    "Catherine",
    "Wilfrid",
    "Giles",
    "Lawrence",
    "Leonard",
    "James",
    "Helen",
    "Alban",
    "Barnabas",
]
CATHOLIC_SAINTS = [
    "Joseph",
    "Mary",
    "Patrick",
    "Teresa",
    "Bernadette",
    "Francis",
    "Thomas More",
    "Anthony",
    "Gregory",
    "Vincent",
    "Edward",
    "Benedict",
    "Clare",
    "Columba",
    "Dominic",
    "John Fisher",
]
BISHOPS = ["Hale", "Fraser", "Lawson", "Holmes", "Chavasse", "Barrington", "Wakeling"]
CHURCH_NAMES = ["Holy Trinity", "All Saints", "Christ Church", "St Peter and St Paul", "Emmanuel"]
CATHOLIC_NAMES = [
    "Our Lady of Lourdes",
    "Sacred Heart",
    "Holy Family",
    "English Martyrs",
    "Our Lady and St Joseph",
    "Holy Cross",
    "Our Lady of Walsingham",
]
FIRST_NAMES = [
    "Sarah",
    "Emma",
    "Claire",
    "Rachel",
    "Helen",
    "Joanne",
    "Lisa",
    "Nicola",
    "Katie",
    "Laura",
    "Rebecca",
    "Hannah",
    "Amy",
    "Charlotte",
    "Gemma",
    "Louise",
    "Victoria",
    "Zoe",
    "Fiona",
    "Alison",
    "Priya",
    "Aisha",
    "Fatima",
    "Nadia",
    "Sana",
    "Mei",
    "Agnieszka",
    "Siobhan",
    "Bethan",
    "Ruth",
    "Mark",
    "David",
    "Paul",
    "James",
    "Richard",
    "Andrew",
    "Simon",
    "Daniel",
    "Matthew",
    "Chris",
    "Tom",
    "Ben",
    "Imran",
    "Tariq",
    "Raj",
    "Kwame",
    "Tunde",
    "Liam",
    "Gareth",
    "Owen",
    "Neil",
    "Stephen",
    "Peter",
    "Michael",
    "Jonathan",
    "Adam",
    "Ian",
    "Martin",
    "Catherine",
    "Julie",
]
SURNAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Khan",
    "Ahmed",
    "Hussain",
    "Begum",
    "Ali",
    "Harris",
    "Lewis",
    "Martin",
    "Cooper",
    "Hughes",
    "Edwards",
    "Turner",
    "Hill",
    "Moore",
    "Ward",
    "Morris",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "Scott",
    "Young",
    "Mitchell",
    "Kaur",
    "Singh",
    "Nowak",
    "Okafor",
    "Mensah",
    "O'Brien",
    "O’Neill",
    "Murphy",
    "Kelly",
    "Chen",
    "Shah",
    "Parker",
    "Bennett",
    "Fletcher",
    "Lawson",
    "Price",
    "Barker",
    "Holmes",
    "Marsh",
    "Chapman",
    "Gill",
    "Whitfield",
    "Osei",
    "Rahman",
    "Fraser",
]


def join_place(start: str, end: str) -> str:
    """Ash + ford = Ashford; Mill + ley = Milley, not Millley."""
    return start + (end[1:] if start[-1] == end[0] else end)


class Names:
    """Names for the demo, never giving two establishments the same one (unless told apart, as GIAS does)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._names: set[str] = set()
        self._places: dict[str, list[str]] = {}
        self._used_places: set[str] = set()

    def person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(SURNAMES)}"

    def district(self, home: str | None = None) -> str:
        """A district weighted by its size; mostly ``home``, if given (a trust's own district)."""
        if home and self.rng.random() < 0.8:
            return home
        return self.rng.choices(list(DISTRICTS), weights=list(DISTRICTS.values()))[0]

    def place(self, district: str) -> str:
        """A village or neighbourhood of the district, new ones favoured so names vary."""
        rng = self.rng
        known = self._places.setdefault(district, [])
        if known and rng.random() < 0.25:
            return rng.choice(known)
        while True:
            if rng.random() < 0.15:
                place = f"{district} {rng.choice(TOWN_PARTS)}"
            else:
                place = join_place(rng.choice(PLACE_STARTS), rng.choice(PLACE_ENDS))
                if rng.random() < 0.12:
                    place = f"{rng.choice(PLACE_PREFIXES)} {place}"
            if place not in self._used_places:
                self._used_places.add(place)
                known.append(place)
                return place

    def saint(self, catholic: bool = False) -> str:
        saint = self.rng.choice(CATHOLIC_SAINTS if catholic else SAINTS)
        # A few names carry the curly apostrophe that GIAS exports sometimes hold.
        apostrophe = "’" if self.rng.random() < 0.12 else "'"
        return f"St {saint}{apostrophe}" + ("" if saint.endswith("s") else "s")

    def unique(self, name: str, place: str) -> str:
        """The name, told apart by its place if another establishment has it (as GIAS does)."""
        if name in self._names and place not in name:
            name = f"{name}, {place}"
        number = 2
        while name in self._names:
            name = f"{name.rsplit(' (', 1)[0]} ({number})"
            number += 1
        self._names.add(name)
        return name

    def establishment(self, phase: str, district: str, church: str | None, academy: bool) -> str:
        """A new name if a few tries find one, else a common one told apart by its place."""
        for _attempt in range(6):
            name, place = self._options(phase, district, church, academy)
            if name not in self._names:
                break
        return self.unique(name, place)

    def _options(self, phase: str, district: str, church: str | None, academy: bool) -> tuple[str, str]:
        rng, place = self.rng, self.place(district)
        if phase == "Primary":
            if church == "CofE":
                options = [
                    f"{place} Church of England Primary School",
                    f"{self.saint()} Church of England Primary School",
                    f"{place} CofE Primary School",
                    f"{rng.choice(CHURCH_NAMES)} Church of England Primary School",
                ]
                if academy:
                    options.append(f"{place} Church of England Academy")
            elif church == "Catholic":
                options = [
                    f"{self.saint(catholic=True)} Catholic Primary School",
                    f"{rng.choice(CATHOLIC_NAMES)} Catholic Primary School",
                ]
                if academy:
                    options.append(f"{self.saint(catholic=True)} Catholic Primary Academy")
            elif academy:
                options = [
                    f"{place} Primary Academy",
                    f"{rng.choice(FEATURES)} Academy",
                    f"{place} Primary School",
                    f"The {place} Academy",
                    f"{rng.choice(FEATURES)} Primary School",
                ]
            else:
                options = [
                    f"{place} Primary School",
                    f"{place} Primary School",
                    f"{place} Community Primary School",
                    f"{rng.choice(FEATURES)} Primary School",
                    f"{place} Infant School",
                    f"{place} Junior School",
                    f"{place} Primary and Nursery School",
                ]
        elif phase == "Secondary":
            if church == "CofE":
                options = [
                    f"{self.saint()} Church of England High School",
                    f"Bishop {rng.choice(BISHOPS)} Church of England Academy",
                ]
            elif church == "Catholic":
                options = [
                    f"{self.saint(catholic=True)} Catholic High School",
                    f"{rng.choice(CATHOLIC_NAMES)} Catholic College",
                ]
            elif academy:
                options = [
                    f"{place} Academy",
                    f"{place} High School",
                    f"The {place} School",
                    f"{place} Community College",
                ]
            else:
                options = [f"{place} High School", f"{place} School", f"{place} Community College"]
        elif phase == "Special":
            options = [f"{rng.choice(FEATURES)} School", f"{place} Park School", f"The {rng.choice(FEATURES)} School"]
        elif phase == "Nursery":
            options = [f"{place} Nursery School", f"{rng.choice(FEATURES)} Nursery School"]
        elif phase == "All-through":
            options = [f"{place} All-through Academy" if academy else f"{place} School", f"{district} Park School"]
        else:  # pupil referral units
            options = [
                f"{district} Pupil Referral Unit",
                f"{district} Short Stay School",
                f"The {rng.choice(FEATURES)} Centre",
            ]
        return rng.choice(options), place

    def closed_village(self) -> str:
        """A small village whose school closed: "Little Ashford", say."""
        rng = self.rng
        return f"{rng.choice(PLACE_PREFIXES[:2])} {join_place(rng.choice(PLACE_STARTS), rng.choice(PLACE_ENDS))}"
