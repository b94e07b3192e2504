"""The GIAS establishments import and the contacts import: plan (read, check, diff) then apply.

``plan_*`` reads the file and compares it with the register without writing
anything, so the same plan serves a dry run, the web preview and the import.
The file is read a row at a time and only the rows that change something are
kept, so a national extract is never held whole. A plan turns into compact
bytes (``dump_plan``) and back, so the web import reads its file once, at the
upload, and confirms the plan it showed; ``register_version`` and
``contacts_version`` fingerprint what a plan was made against, so a plan the
register has since moved away from is noticed and made again.
``apply_*`` writes the plan with bulk statements (a national GIAS extract is
50,000 rows: existing rows are loaded once into dicts, never one SELECT per
row) and only flushes: the caller commits once.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, BinaryIO

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, insert, select, update

from surveyapp import mail
from surveyapp.activity.services import record
from surveyapp.auth.invitations import send_invitation
from surveyapp.auth.models import Role, User
from surveyapp.csvfiles import Column, CsvRow, CsvTable, ImportFailed, ImportProblem, open_csv, read_csv
from surveyapp.establishments.models import ContactRole, Establishment, EstablishmentContact, Trust, TrustContact
from surveyapp.extensions import db
from surveyapp.timeutil import NotADate, parse_date, utcnow

#: how many rows of each kind of change a preview lists
SAMPLE_SIZE = 20

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{0,19}$")
_WHOLE_NUMBER = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+$")


def clean_identifier(value: str) -> str | None:
    """A URN or trust UID as stored (digits, or letters, digits and hyphens, up to 20), or None if not valid."""
    value = value.strip()
    return value if _IDENTIFIER.match(value) else None


IDENTIFIER_RULE = "must be digits, or letters, digits and hyphens, up to 20 characters"


def _insert_many(model, rows: list[dict[str, Any]]) -> None:
    """Insert rows with one executemany. ``render_nulls`` keeps None as NULL: without it the ORM
    leaves out None values and splits the batch wherever the None columns change (one statement
    per few rows: 33,000 statements for a national file instead of one)."""
    if rows:
        db.session.execute(insert(model).execution_options(render_nulls=True), rows)


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- establishments --------------------------------------------------------------------

ESTABLISHMENT_COLUMNS = [
    Column("urn", "URN", required=True),
    Column(
        "name", "EstablishmentName", ("Name", "School name", "Establishment"), required=True, text=True, max_length=255
    ),
    Column(
        "type_name",
        "TypeOfEstablishment (name)",
        ("TypeOfEstablishment", "Type", "Establishment type"),
        text=True,
        max_length=120,
    ),
    Column("phase", "PhaseOfEducation (name)", ("PhaseOfEducation", "Phase"), text=True, max_length=60),
    Column("status_name", "EstablishmentStatus (name)", ("EstablishmentStatus", "Status"), text=True, max_length=60),
    Column("la_code", "LA (code)", ("LA code", "Local authority code"), max_length=10),
    Column(
        "la_name", "LA (name)", ("LA", "LA name", "Local authority", "Local authority name"), text=True, max_length=120
    ),
    Column("trust_uid", "Trusts (code)", ("Trust UID", "Trust code", "Trusts UID", "Group UID"), max_length=20),
    Column("trust_name", "Trusts (name)", ("Trust name", "Trust"), text=True, max_length=255),
    Column(
        "district", "DistrictAdministrative (name)", ("DistrictAdministrative", "District"), text=True, max_length=120
    ),
    Column("number_of_pupils", "NumberOfPupils", ("Pupils", "Number of pupils", "Number on roll")),
    Column("opened_on", "OpenDate", ("Opened", "Opened on", "Open date")),
    Column("closed_on", "CloseDate", ("Closed", "Closed on", "Close date")),
]

#: the register fields each column sets, and how a preview names them
FIELD_LABELS = {
    "name": "Name",
    "type_name": "Type",
    "phase": "Phase",
    "status_name": "Status",
    "is_open": "Open",
    "la_code": "LA code",
    "la_name": "LA",
    "district": "District",
    "number_of_pupils": "Pupils",
    "opened_on": "Opened",
    "closed_on": "Closed",
    "trust_id": "Trust",
}
_TEXT_FIELDS = ("name", "type_name", "phase", "status_name", "la_code", "la_name", "district")


def is_open_status(status: str) -> bool:
    """Blank (settings outside GIAS) or "Open..." ("Open, but proposed to close") is open; "Closed",
    "Proposed to open" and the rest are not."""
    return status == "" or status.lower().startswith("open")


@dataclass(slots=True)
class EstablishmentRecord:
    """One valid row of the file: the fields its columns give (absent columns are left out)."""

    line: int
    urn: str
    fields: dict[str, Any]
    #: the trust UID, "" for no trust, None when the file has no trust column
    trust_uid: str | None
    trust_name: str = ""

    @property
    def name(self) -> str:
        return self.fields["name"]


@dataclass(slots=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass(slots=True)
class EstablishmentChange:
    record: EstablishmentRecord
    establishment_id: int
    changes: list[FieldChange]


@dataclass
class EstablishmentsPlan:
    """What importing a file would do, computed without writing."""

    encoding: str
    #: the file's establishments (its valid rows); only those that change something are kept
    rows: int = 0
    new: list[EstablishmentRecord] = field(default_factory=list)
    updated: list[EstablishmentChange] = field(default_factory=list)
    unchanged: int = 0
    #: open establishments the file marks closed: they leave the scope of new cycles
    closed: list[EstablishmentChange] = field(default_factory=list)
    new_trusts: dict[str, str] = field(default_factory=dict)
    #: uid -> (old name, new name)
    renamed_trusts: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: uid -> trust id of every trust in the register when the plan was made
    trust_ids_before: dict[str, int] = field(default_factory=dict, repr=False)
    #: values that look like spreadsheet formulas (stored as given; exports neutralise them)
    formula_like: list[ImportProblem] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "new": len(self.new),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "closed": len(self.closed),
            "new_trusts": len(self.new_trusts),
            "renamed_trusts": len(self.renamed_trusts),
        }

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.updated or self.new_trusts or self.renamed_trusts)

    def summary(self) -> str:
        c = self.counts
        return (
            f"{c['new']} new, {c['updated']} updated, {c['unchanged']} unchanged, {c['closed']} closed; "
            f"trusts: {c['new_trusts']} new, {c['renamed_trusts']} renamed"
        )


def plan_establishments(data: bytes | BinaryIO) -> EstablishmentsPlan:
    """Read a GIAS establishment extract (or a file of the same shape) and compare it with the register.

    The file is read a row at a time; a row that changes nothing is counted and let go.

    :param data: the file's bytes, or a seekable binary file
    :raises ImportFailed: every problem with the file; nothing is planned
    """
    table = open_csv(_binary(data), ESTABLISHMENT_COLUMNS)
    trusts = {
        uid: (trust_id, name) for trust_id, uid, name in db.session.execute(select(Trust.id, Trust.uid, Trust.name))
    }
    plan = EstablishmentsPlan(
        encoding=table.encoding, trust_ids_before={uid: trust_id for uid, (trust_id, _name) in trusts.items()}
    )
    trusts_in_file = _TrustsInFile(table, trusts)
    uid_of = {trust_id: uid for uid, (trust_id, _name) in trusts.items()}
    columns = [getattr(Establishment, name) for name in ("id", "urn", *FIELD_LABELS)]
    existing = {row.urn: row for row in db.session.execute(select(*columns))}
    #: trust changes, named once the file has given every new trust's name: (change, old uid, new uid)
    trust_changes: list[tuple[FieldChange, str, str]] = []
    for record_ in _establishment_records(table):
        plan.rows += 1
        trusts_in_file.add(record_)
        current = existing.get(record_.urn)
        if current is None:
            plan.new.append(record_)
            continue
        changes = []
        for name, value in record_.fields.items():
            if getattr(current, name) != value:
                changes.append(FieldChange(FIELD_LABELS[name], _shown(getattr(current, name)), _shown(value)))
        if record_.trust_uid is not None:
            old_uid = uid_of.get(current.trust_id, "")
            if old_uid != record_.trust_uid:
                changes.append(change := FieldChange("Trust", "", ""))
                trust_changes.append((change, old_uid, record_.trust_uid))
        if not changes:
            plan.unchanged += 1
            continue
        change = EstablishmentChange(record_, current.id, changes)
        plan.updated.append(change)
        if current.is_open and record_.fields.get("is_open") is False:
            plan.closed.append(change)
    plan.new_trusts, plan.renamed_trusts = trusts_in_file.planned()
    table.raise_if_problems()
    plan.formula_like = table.formula_like
    trust_names = {uid: name for uid, (_id, name) in trusts.items()} | plan.new_trusts
    for change, old_uid, new_uid in trust_changes:
        change.old, change.new = _trust_shown(old_uid, trust_names), _trust_shown(new_uid, trust_names)
    return plan


def _binary(data: bytes | BinaryIO) -> BinaryIO:
    """A file to read: bytes are wrapped (``BytesIO`` shares them, it does not copy)."""
    return io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data


def _establishment_records(table: CsvTable) -> Iterator[EstablishmentRecord]:
    first_line: dict[str, int] = {}
    for row in table.rows:
        urn = clean_identifier(row.get("urn"))
        if not row.get("urn"):
            table.problem(row.line, "urn", "is blank: every establishment needs its URN")
        elif urn is None:
            table.problem(row.line, "urn", f'"{row.get("urn")}" {IDENTIFIER_RULE}')
        elif urn in first_line:
            table.problem(
                row.line, "urn", f"URN {urn} is also on line {first_line[urn]}: each establishment must appear once"
            )
            urn = None
        else:
            first_line[urn] = row.line
        fields: dict[str, Any] = {}
        if not row.get("name"):
            table.problem(row.line, "name", "is blank: every establishment needs a name")
        for name in _TEXT_FIELDS:
            if table.has(name):
                fields[name] = row.get(name)
        if table.has("status_name"):
            fields["is_open"] = is_open_status(fields["status_name"])
        if table.has("number_of_pupils"):
            fields["number_of_pupils"] = _whole_number(table, row.line, row.get("number_of_pupils"))
        for name in ("opened_on", "closed_on"):
            if table.has(name):
                fields[name] = _date(table, row.line, name, row.get(name))
        trust_uid = None
        if table.has("trust_uid"):
            trust_uid = row.get("trust_uid")
            if trust_uid and clean_identifier(trust_uid) is None:
                table.problem(row.line, "trust_uid", f'"{trust_uid}" {IDENTIFIER_RULE}')
        if urn is not None and row.get("name"):
            yield EstablishmentRecord(row.line, urn, fields, trust_uid, row.get("trust_name"))


def _whole_number(table: CsvTable, line: int, text: str) -> int | None:
    if text == "":
        return None
    if not _WHOLE_NUMBER.match(text):
        table.problem(line, "number_of_pupils", f'"{text}" must be a whole number, like 420, or blank')
        return None
    return int(text.replace(",", ""))


def _date(table: CsvTable, line: int, name: str, text: str) -> date | None:
    if text == "":
        return None
    try:
        return parse_date(text)
    except NotADate as exc:
        table.problem(line, name, f'"{text}" {exc} (dd-mm-yyyy, like 01-09-2012, or yyyy-mm-dd)')
        return None


class _TrustsInFile:
    """The trusts a file names, gathered row by row: new trusts and renamed trusts. A name without a
    UID, one UID given two names, or a new UID never given a name is a problem."""

    def __init__(self, table: CsvTable, trusts: dict[str, tuple[int, str]]):
        self.table, self.trusts = table, trusts
        #: uid -> (name, the line that first gave it)
        self.names: dict[str, tuple[str, int]] = {}
        #: uid -> the lines of a trust not in the register, in the order they first appear
        self.unknown: dict[str, list[int]] = {}

    def add(self, record_: EstablishmentRecord) -> None:
        table, names = self.table, self.names
        uid, name = record_.trust_uid or "", record_.trust_name
        if uid and uid not in self.trusts:
            self.unknown.setdefault(uid, []).append(record_.line)
        if not uid:
            if name and table.has("trust_uid"):
                table.problem(
                    record_.line, "trust_uid", f'is blank but the trust name is "{name}": give the trust’s UID too'
                )
            return
        if not name:
            return
        if uid in names and names[uid][0] != name:
            table.problem(
                record_.line, "trust_name", f'trust {uid} is called "{names[uid][0]}" on line {names[uid][1]}'
            )
            return
        names.setdefault(uid, (name, record_.line))

    def planned(self) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
        """(new trusts: uid -> name, renamed trusts: uid -> (old name, new name)), once every row is added."""
        new_trusts: dict[str, str] = {}
        for uid, lines in self.unknown.items():
            if uid in self.names:
                new_trusts[uid] = self.names[uid][0]
            else:
                for line in lines:
                    self.table.problem(line, "trust_name", f"trust {uid} is new: give its name")
        renamed = {
            uid: (self.trusts[uid][1], name)
            for uid, (name, _line) in self.names.items()
            if uid in self.trusts and self.trusts[uid][1] != name
        }
        return new_trusts, renamed


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    return str(value)


def _trust_shown(uid: str, names: dict[str, str]) -> str:
    return f"{names.get(uid, '')} ({uid})" if uid else "(none)"


#: how many establishments are written per statement (and between two reports of an import's progress)
WRITE_BATCH = 1000
#: a new establishment's fields where the file has no column for them
_NEW_DEFAULTS: dict[str, Any] = {
    "type_name": "",
    "phase": "",
    "status_name": "",
    "is_open": True,
    "la_code": "",
    "la_name": "",
    "district": "",
    "number_of_pupils": None,
    "opened_on": None,
    "closed_on": None,
    "trust_id": None,
}


def apply_establishments(
    plan: EstablishmentsPlan,
    actor=None,
    filename: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write a plan to the register (flush only) and record it in the activity log; return its counts.

    Establishments absent from the file are left alone.

    :param progress: called with (establishments written, establishments to write) after each WRITE_BATCH
    """
    now = utcnow()
    if plan.new_trusts:
        _insert_many(Trust, [{"uid": uid, "name": name, "updated_at": now} for uid, name in plan.new_trusts.items()])
    if plan.renamed_trusts:
        ids = plan.trust_ids_before
        db.session.execute(
            update(Trust),
            [{"id": ids[uid], "name": new, "updated_at": now} for uid, (_old, new) in plan.renamed_trusts.items()],
        )
    trust_ids = (
        dict(db.session.execute(select(Trust.uid, Trust.id)).all()) if plan.new_trusts else plan.trust_ids_before
    )

    def values(record_: EstablishmentRecord) -> dict[str, Any]:
        result = dict(record_.fields)
        if record_.trust_uid is not None:
            result["trust_id"] = trust_ids[record_.trust_uid] if record_.trust_uid else None
        result["updated_at"] = now
        return result

    total, done = len(plan.new) + len(plan.updated), 0
    for batch in _chunks(plan.new, WRITE_BATCH):
        _insert_many(Establishment, [{**_NEW_DEFAULTS, "urn": r.urn, **values(r)} for r in batch])
        done += len(batch)
        if progress:
            progress(done, total)
    for changes in _chunks(plan.updated, WRITE_BATCH):
        db.session.execute(update(Establishment), [{"id": c.establishment_id, **values(c.record)} for c in changes])
        done += len(changes)
        if progress:
            progress(done, total)
    # Bulk statements bypass the identity map: make loaded rows read the new values.
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, (Establishment, Trust)):
            db.session.expire(instance)
    counts = plan.counts
    record("establishments.imported", actor.id if actor else None, file=filename, encoding=plan.encoding, **counts)
    db.session.flush()
    return counts


def register_version() -> str:
    """A fingerprint of what an establishments plan is made against: every establishment's fields and
    every trust. Two equal fingerprints mean a plan made at one still holds at the other."""
    return _fingerprint(
        select(*[getattr(Establishment, name) for name in ("id", "urn", *FIELD_LABELS)]).order_by(Establishment.id),
        select(Trust.id, Trust.uid, Trust.name).order_by(Trust.id),
    )


_DATE_FIELDS = ("opened_on", "closed_on")


def _establishments_plan_json(plan: EstablishmentsPlan) -> dict:
    # Every record of one file has the same fields (its columns): name them once, give values in that order.
    sample = plan.new[:1] or [change.record for change in plan.updated[:1]]
    names = list(sample[0].fields) if sample else []

    def record_json(r: EstablishmentRecord) -> list:
        values = [r.fields[name] for name in names]
        values = [v.isoformat() if isinstance(v, date) else v for v in values]
        return [r.line, r.urn, values, r.trust_uid, r.trust_name]

    closed = {id(change) for change in plan.closed}
    return {
        "encoding": plan.encoding,
        "rows": plan.rows,
        "unchanged": plan.unchanged,
        "fields": names,
        "new": [record_json(r) for r in plan.new],
        "updated": [
            [*record_json(c.record), c.establishment_id, [[f.label, f.old, f.new] for f in c.changes], id(c) in closed]
            for c in plan.updated
        ],
        "new_trusts": plan.new_trusts,
        "renamed_trusts": plan.renamed_trusts,
        "trust_ids_before": plan.trust_ids_before,
        "formula_like": [[p.line, p.column, p.reason] for p in plan.formula_like],
    }


def _establishments_plan_from(data: dict) -> EstablishmentsPlan:
    names = data["fields"]
    dates = [name in _DATE_FIELDS for name in names]

    def record_from(line, urn, values, trust_uid, trust_name) -> EstablishmentRecord:
        fields = {
            name: date.fromisoformat(value) if is_date and value is not None else value
            for name, value, is_date in zip(names, values, dates, strict=True)
        }
        return EstablishmentRecord(line, urn, fields, trust_uid, trust_name)

    plan = EstablishmentsPlan(
        encoding=data["encoding"],
        rows=data["rows"],
        unchanged=data["unchanged"],
        new=[record_from(*item) for item in data["new"]],
        new_trusts=data["new_trusts"],
        renamed_trusts={uid: (old, new) for uid, (old, new) in data["renamed_trusts"].items()},
        trust_ids_before=data["trust_ids_before"],
        formula_like=[ImportProblem(*item) for item in data["formula_like"]],
    )
    for *record_items, establishment_id, changes, closed in data["updated"]:
        change = EstablishmentChange(
            record_from(*record_items), establishment_id, [FieldChange(*item) for item in changes]
        )
        plan.updated.append(change)
        if closed:
            plan.closed.append(change)
    return plan


def load_establishments_plan(data: bytes) -> EstablishmentsPlan:
    """The establishments plan ``dump_plan`` made."""
    return _establishments_plan_from(_loaded(data))


# --- contacts --------------------------------------------------------------------------

CONTACT_COLUMNS = [
    Column("urn", "URN"),
    Column("trust_uid", "Trust UID", ("Trusts (code)", "Trust code", "Group UID")),
    Column("name", "Name", ("Full name", "Contact name"), required=True, text=True, max_length=200),
    Column("email", "Email", ("Email address", "E-mail"), required=True, text=True, max_length=254),
    Column("role", "Role", ("Contact role",)),
]

_ROLE_WORDS = {
    "dsl": ContactRole.DSL.value,
    "designatedsafeguardinglead": ContactRole.DSL.value,
    "deputydsl": ContactRole.DEPUTY_DSL.value,
    "deputy": ContactRole.DEPUTY_DSL.value,
    "ddsl": ContactRole.DEPUTY_DSL.value,
    "deputydesignatedsafeguardinglead": ContactRole.DEPUTY_DSL.value,
    "trustlead": "trust_lead",
    "trustsafeguardinglead": "trust_lead",
}


@dataclass
class ContactRecord:
    line: int
    email: str
    name: str
    establishment_id: int | None
    trust_id: int | None
    role: ContactRole | None  # None for a trust lead
    where: str  # "URN 100001" or "trust 5001", for previews


@dataclass
class ContactsPlan:
    records: list[ContactRecord]
    #: email -> (name, role) of accounts to create
    new_users: dict[str, tuple[str, Role]] = field(default_factory=dict)
    #: email -> {"name": ..., "role": ...} changes to existing accounts
    updated_users: dict[str, dict[str, Any]] = field(default_factory=dict)
    new_links: list[ContactRecord] = field(default_factory=list)
    #: (record, link id, old role)
    changed_links: list[tuple[ContactRecord, int, ContactRole]] = field(default_factory=list)
    unchanged: int = 0
    #: emails in the file whose account has no password yet (new ones included)
    without_password: set[str] = field(default_factory=set)
    #: email -> id of the accounts that exist already
    user_ids: dict[str, int] = field(default_factory=dict, repr=False)
    #: values that look like spreadsheet formulas (stored as given; exports neutralise them)
    formula_like: list[ImportProblem] = field(default_factory=list)
    #: with sync: the links in the register that the file does not have, which the import removes
    removed_links: list[RemovedLink] = field(default_factory=list)
    sync: bool = False

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": len(self.records),
            "new_users": len(self.new_users),
            "updated_users": len(self.updated_users),
            "new_links": len(self.new_links),
            "changed_links": len(self.changed_links),
            "unchanged": self.unchanged,
            "removed_links": len(self.removed_links),
        }

    @property
    def has_changes(self) -> bool:
        return bool(self.new_users or self.updated_users or self.new_links or self.changed_links or self.removed_links)

    def summary(self) -> str:
        c = self.counts
        removed = f"{c['removed_links']} links removed; " if self.sync else ""
        return (
            f"{removed}{c['new_users']} people added, {c['updated_users']} updated; {c['new_links']} links added, "
            f"{c['changed_links']} roles changed, {c['unchanged']} rows unchanged"
        )


@dataclass
class RemovedLink:
    """A person's link to an establishment or a trust that a synced file no longer has."""

    link_id: int
    email: str
    name: str
    #: "URN 100001 Oak Primary" or "Trust 5001 Acorn Trust"
    where: str
    trust: bool


def plan_contacts(data: bytes | BinaryIO, sync: bool = False) -> ContactsPlan:
    """Read a contacts file (URN or Trust UID, Name, Email, Role) and compare it with the accounts.

    :param sync: make the links match the file: every link in the register the file does not have is removed

    :raises ImportFailed: every problem with the file; nothing is planned
    """
    table = read_csv(data, CONTACT_COLUMNS)
    if not table.has("urn") and not table.has("trust_uid"):
        raise ImportFailed([*table.problems, _no_where_column()])
    establishment_ids = dict(db.session.execute(select(Establishment.urn, Establishment.id)).all())
    trust_ids = dict(db.session.execute(select(Trust.uid, Trust.id)).all())
    records = _contact_records(table, establishment_ids, trust_ids)
    table.raise_if_problems()

    plan = ContactsPlan(records=records, formula_like=table.formula_like, sync=sync)
    emails = sorted({r.email for r in records})
    users: dict[str, User] = {}
    for chunk in _chunks(emails):
        users.update({u.email: u for u in db.session.scalars(select(User).where(User.email.in_(chunk)))})
    plan.user_ids = {email: user.id for email, user in users.items()}
    existing_ids = list(plan.user_ids.values())
    school_links: dict[tuple[int, int], tuple[int, ContactRole]] = {}
    trust_links: set[tuple[int, int]] = set()
    for chunk in _chunks(existing_ids):
        for link_id, user_id, establishment_id, role in db.session.execute(
            select(
                EstablishmentContact.id,
                EstablishmentContact.user_id,
                EstablishmentContact.establishment_id,
                EstablishmentContact.role,
            ).where(EstablishmentContact.user_id.in_(chunk))
        ):
            school_links[(user_id, establishment_id)] = (link_id, role)
        trust_links.update(
            db.session.execute(
                select(TrustContact.user_id, TrustContact.trust_id).where(TrustContact.user_id.in_(chunk))
            ).all()
        )

    leads_trust = {r.email for r in records if r.trust_id is not None}
    names = {}
    for r in records:
        if r.name:
            names.setdefault(r.email, r.name)
    for email in emails:
        user = users.get(email)
        wanted_role = Role.TRUST_LEAD if email in leads_trust else Role.DSL
        if user is None:
            plan.new_users[email] = (names.get(email, ""), wanted_role)
            plan.without_password.add(email)
            continue
        change: dict[str, Any] = {}
        if email in names and names[email] != user.name:
            change["name"] = names[email]
        # Leads and board viewers keep their role; a DSL who leads a trust becomes a trust lead
        # (who may still answer for their own school); nobody is demoted by an import.
        if user.role is Role.DSL and wanted_role is Role.TRUST_LEAD:
            change["role"] = Role.TRUST_LEAD
        if change:
            plan.updated_users[email] = change
        if not user.password_hash:
            plan.without_password.add(email)

    seen: set[tuple[str, int | None, int | None]] = set()
    for r in records:
        key = (r.email, r.establishment_id, r.trust_id)
        if key in seen:
            plan.unchanged += 1  # the same link twice, with the same role
            continue
        seen.add(key)
        user_id = plan.user_ids.get(r.email)
        if r.trust_id is not None:
            if user_id is not None and (user_id, r.trust_id) in trust_links:
                plan.unchanged += 1
            else:
                plan.new_links.append(r)
            continue
        existing = school_links.get((user_id, r.establishment_id)) if user_id is not None else None
        if existing is None:
            plan.new_links.append(r)
        elif existing[1] != r.role:
            plan.changed_links.append((r, existing[0], existing[1]))
        else:
            plan.unchanged += 1
    if sync:
        plan.removed_links = _links_not_in(records)
    return plan


def _links_not_in(records: list[ContactRecord]) -> list[RemovedLink]:
    """Every establishment and trust link in the register that the file's rows do not give."""
    in_file = {(r.email, r.establishment_id, r.trust_id) for r in records}
    removed = []
    for link_id, email, name, establishment_id, urn, where in db.session.execute(
        select(EstablishmentContact.id, User.email, User.name, Establishment.id, Establishment.urn, Establishment.name)
        .join(User, User.id == EstablishmentContact.user_id)
        .join(Establishment, Establishment.id == EstablishmentContact.establishment_id)
        .order_by(Establishment.urn, User.email)
    ):
        if (email, establishment_id, None) not in in_file:
            removed.append(RemovedLink(link_id, email, name, f"URN {urn} {where}", trust=False))
    for link_id, email, name, trust_id, uid, where in db.session.execute(
        select(TrustContact.id, User.email, User.name, Trust.id, Trust.uid, Trust.name)
        .join(User, User.id == TrustContact.user_id)
        .join(Trust, Trust.id == TrustContact.trust_id)
        .order_by(Trust.uid, User.email)
    ):
        if (email, None, trust_id) not in in_file:
            removed.append(RemovedLink(link_id, email, name, f"Trust {uid} {where}", trust=True))
    return removed


def _no_where_column() -> ImportProblem:
    return ImportProblem(
        1,
        None,
        'the file has no "URN" column (for DSLs and deputies) or "Trust UID" column '
        "(for trust safeguarding leads): the header row must name one of them",
    )


def whose_row(
    table: CsvTable,
    row: CsvRow,
    establishment_ids: dict[str, int],
    trust_ids: dict[str, int],
    *,
    both: str,
    blank: str,
) -> tuple[int | None, int | None] | None:
    """The establishment or the trust a row is about, found in the register by its URN or its Trust UID.

    None, with the problem noted on the row, when it gives both, neither (``both`` and ``blank`` say so in the
    words of the import) or one the register does not hold. The contacts import and the returns import share it.
    """
    line, urn, uid = row.line, row.get("urn"), row.get("trust_uid")
    if urn and uid:
        table.problem(line, "trust_uid", both)
        return None
    if urn:
        establishment_id = establishment_ids.get(urn)
        if establishment_id is None:
            table.problem(
                line, "urn", f"URN {urn} is not in the register: import the establishments first, or correct the URN"
            )
            return None
        return establishment_id, None
    if uid:
        trust_id = trust_ids.get(uid)
        if trust_id is None:
            table.problem(
                line,
                "trust_uid",
                f"trust {uid} is not in the register: import the establishments first, or correct the UID",
            )
            return None
        return None, trust_id
    table.problem(line, "urn" if table.has("urn") else "trust_uid", blank)
    return None


def _contact_records(
    table: CsvTable, establishment_ids: dict[str, int], trust_ids: dict[str, int]
) -> list[ContactRecord]:
    records = []
    school_roles: dict[tuple[str, int], tuple[ContactRole, int]] = {}
    names: dict[str, tuple[str, int]] = {}
    for row in table.rows:
        line = row.line
        urn, uid = row.get("urn"), row.get("trust_uid")
        found = whose_row(
            table,
            row,
            establishment_ids,
            trust_ids,
            both="give a URN (for a DSL or deputy) or a Trust UID (for a trust lead), not both",
            blank="is blank: give the establishment’s URN (or a Trust UID for a trust safeguarding lead)",
        )
        ok = found is not None
        establishment_id, trust_id = found or (None, None)

        email = _email(table, line, row.get("email"))
        ok = ok and email is not None

        role_text = row.get("role")
        role: ContactRole | None = None
        word = _ROLE_WORDS.get(re.sub(r"[^a-z]", "", role_text.lower())) if role_text else None
        if role_text and word is None:
            table.problem(line, "role", f'"{role_text}" must be dsl or deputy_dsl (or trust_lead for a trust contact)')
            ok = False
        elif trust_id is not None or (uid and not urn):
            if word not in (None, "trust_lead"):
                table.problem(line, "role", f'"{role_text}" is not a trust role: leave it blank or write trust_lead')
                ok = False
        elif word == "trust_lead":
            table.problem(line, "role", "trust_lead needs a Trust UID, not a URN")
            ok = False
        else:
            role = ContactRole(word or ContactRole.DSL.value)

        name = row.get("name")
        if ok and name:
            if email in names and names[email][0] != name:
                table.problem(
                    line, "name", f'{email} is named "{names[email][0]}" on line {names[email][1]}: use one name'
                )
                ok = False
            names.setdefault(email, (name, line))
        if ok and establishment_id is not None:
            earlier = school_roles.get((email, establishment_id))
            if earlier is not None and earlier[0] != role:
                table.problem(
                    line,
                    "role",
                    f"{email} is listed for URN {urn} as {role.value} here and as "
                    f"{earlier[0].value} on line {earlier[1]}: give one role",
                )
                ok = False
            school_roles.setdefault((email, establishment_id), (role, line))
        if ok:
            records.append(
                ContactRecord(
                    line,
                    email,
                    name,
                    establishment_id,
                    trust_id,
                    role,
                    f"URN {urn}" if establishment_id is not None else f"trust {uid}",
                )
            )
    return records


def _email(table: CsvTable, line: int, text: str) -> str | None:
    if not text:
        table.problem(line, "email", "is blank: every contact needs an email address")
        return None
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        table.problem(line, "email", f'"{text}" is not a valid email address ({exc})')
        return None
    return result.normalized.lower()


@dataclass
class ContactsResult:
    counts: dict[str, int]
    #: enabled accounts in the file that have no password yet: who an invitation goes to
    to_invite: list[User]


def apply_contacts(plan: ContactsPlan, actor=None, filename: str = "") -> ContactsResult:
    """Create and update the accounts and links of a plan (flush only); record it in the activity log."""
    user_ids = dict(plan.user_ids)
    new_users = [User(email=email, name=name, role=role) for email, (name, role) in plan.new_users.items()]
    db.session.add_all(new_users)
    db.session.flush()
    user_ids.update({user.email: user.id for user in new_users})
    if plan.updated_users:
        db.session.execute(
            update(User), [{"id": user_ids[email], **change} for email, change in plan.updated_users.items()]
        )
    school_rows = [
        {"user_id": user_ids[r.email], "establishment_id": r.establishment_id, "role": r.role}
        for r in plan.new_links
        if r.establishment_id is not None
    ]
    trust_rows = [
        {"user_id": user_ids[r.email], "trust_id": r.trust_id} for r in plan.new_links if r.trust_id is not None
    ]
    _insert_many(EstablishmentContact, school_rows)
    _insert_many(TrustContact, trust_rows)
    if plan.changed_links:
        db.session.execute(
            update(EstablishmentContact), [{"id": link_id, "role": r.role} for r, link_id, _old in plan.changed_links]
        )
    for removed in plan.removed_links:
        model = TrustContact if removed.trust else EstablishmentContact
        db.session.execute(delete(model).where(model.id == removed.link_id))
        record(
            "contact.removed",
            actor.id if actor else None,
            email=removed.email,
            where=removed.where,
            via="contacts import --sync",
        )
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, (User, EstablishmentContact, TrustContact)):
            db.session.expire(instance)
    counts = plan.counts
    record("contacts.imported", actor.id if actor else None, file=filename, **counts)
    db.session.flush()
    invite_ids = [user_ids[email] for email in sorted(plan.without_password)]
    to_invite = []
    for chunk in _chunks(invite_ids):
        to_invite.extend(
            db.session.scalars(
                select(User).where(User.id.in_(chunk), User.password_hash.is_(None), User.is_enabled.is_(True))
            )
        )
    return ContactsResult(counts, sorted(to_invite, key=lambda u: u.email))


def contacts_version() -> str:
    """A fingerprint of what a contacts plan is made against: the establishments and trusts it names,
    the accounts (their names, roles and whether they have a password) and every link."""
    return _fingerprint(
        select(Establishment.id, Establishment.urn, Establishment.name).order_by(Establishment.id),
        select(Trust.id, Trust.uid, Trust.name).order_by(Trust.id),
        select(User.id, User.email, User.name, User.role, User.password_hash.is_(None)).order_by(User.id),
        select(
            EstablishmentContact.id,
            EstablishmentContact.user_id,
            EstablishmentContact.establishment_id,
            EstablishmentContact.role,
        ).order_by(EstablishmentContact.id),
        select(TrustContact.id, TrustContact.user_id, TrustContact.trust_id).order_by(TrustContact.id),
    )


def _contacts_plan_json(plan: ContactsPlan) -> dict:
    index = {id(r): n for n, r in enumerate(plan.records)}
    return {
        "records": [
            [r.line, r.email, r.name, r.establishment_id, r.trust_id, r.role.value if r.role else None, r.where]
            for r in plan.records
        ],
        "new_users": {email: [name, role.value] for email, (name, role) in plan.new_users.items()},
        "updated_users": {
            email: {key: value.value if key == "role" else value for key, value in change.items()}
            for email, change in plan.updated_users.items()
        },
        "new_links": [index[id(r)] for r in plan.new_links],
        "changed_links": [[index[id(r)], link_id, old.value] for r, link_id, old in plan.changed_links],
        "unchanged": plan.unchanged,
        "without_password": sorted(plan.without_password),
        "user_ids": plan.user_ids,
        "formula_like": [[p.line, p.column, p.reason] for p in plan.formula_like],
        "removed_links": [[r.link_id, r.email, r.name, r.where, r.trust] for r in plan.removed_links],
        "sync": plan.sync,
    }


def load_contacts_plan(data: bytes) -> ContactsPlan:
    """The contacts plan ``dump_plan`` made."""
    data_ = _loaded(data)
    records = [
        ContactRecord(line, email, name, establishment_id, trust_id, ContactRole(role) if role else None, where)
        for line, email, name, establishment_id, trust_id, role, where in data_["records"]
    ]
    return ContactsPlan(
        records=records,
        new_users={email: (name, Role(role)) for email, (name, role) in data_["new_users"].items()},
        updated_users={
            email: {key: Role(value) if key == "role" else value for key, value in change.items()}
            for email, change in data_["updated_users"].items()
        },
        new_links=[records[n] for n in data_["new_links"]],
        changed_links=[(records[n], link_id, ContactRole(old)) for n, link_id, old in data_["changed_links"]],
        unchanged=data_["unchanged"],
        without_password=set(data_["without_password"]),
        user_ids=data_["user_ids"],
        formula_like=[ImportProblem(*item) for item in data_["formula_like"]],
        removed_links=[RemovedLink(*item) for item in data_["removed_links"]],
        sync=data_["sync"],
    )


# --- keeping a plan ---------------------------------------------------------------------


def dump_plan(plan: EstablishmentsPlan | ContactsPlan) -> bytes:
    """A plan as compact bytes (compressed JSON) to keep beside its upload; ``load_*_plan`` reads it back."""
    data = _establishments_plan_json(plan) if isinstance(plan, EstablishmentsPlan) else _contacts_plan_json(plan)
    return zlib.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), 6)


def _loaded(data: bytes) -> dict:
    return json.loads(zlib.decompress(data))


def _fingerprint(*statements) -> str:
    """SHA-256 of the rows the statements select, read in batches (never the whole register at once)."""
    digest = hashlib.sha256()
    for statement in statements:
        for row in db.session.execute(statement.execution_options(yield_per=2000)):
            digest.update(repr(tuple(row)).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


@dataclass
class InvitationReport:
    sent: list[str] = field(default_factory=list)
    #: (email, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)


def send_invitations(
    users: list[User],
    *,
    invited_by: str,
    commit: Callable[[], None],
    actor=None,
    report: InvitationReport | None = None,
) -> InvitationReport:
    """Email each user a set-password link; a failure is reported, not raised.

    Call this after the import is committed. ``commit`` (the caller's) keeps each
    sent link's token as soon as its email has gone, so an interrupted run never
    leaves a sent link that does not work; the report already names the email when
    it is called, so the caller can keep that too.

    :param report: the report to add to (a run that carries on from an interrupted one)
    """
    report = report if report is not None else InvitationReport()
    for user in users:
        email = user.email
        try:
            send_invitation(user, invited_by=invited_by)
        except mail.MailError as exc:
            db.session.rollback()
            report.failed.append((email, str(exc)))
            continue
        record("user.invited", actor.id if actor else None, email=email, via="contacts import")
        report.sent.append(email)
        commit()
    return report
