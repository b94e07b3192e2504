"""The GIAS establishments import and the contacts import: plan (read, check, diff) then apply.

``plan_*`` reads the file and compares it with the register without writing
anything, so the same plan serves a dry run, the web preview and the import.
``apply_*`` writes the plan with bulk statements (a national GIAS extract is
50,000 rows: existing rows are loaded once into dicts, never one SELECT per
row) and only flushes: the caller commits once.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, insert, select, update

from surveyapp import mail
from surveyapp.activity.services import record
from surveyapp.audits.questions import InvalidAnswer, parse_date
from surveyapp.auth.invitations import send_invitation
from surveyapp.auth.models import Role, User
from surveyapp.csvfiles import Column, CsvTable, ImportFailed, ImportProblem, read_csv
from surveyapp.establishments.models import ContactRole, Establishment, EstablishmentContact, Trust, TrustContact
from surveyapp.extensions import db
from surveyapp.timeutil import utcnow

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
        yield items[start:start + size]


# --- establishments --------------------------------------------------------------------

ESTABLISHMENT_COLUMNS = [
    Column("urn", "URN", required=True),
    Column("name", "EstablishmentName", ("Name", "School name", "Establishment"), required=True, text=True, max_length=255),
    Column("type_name", "TypeOfEstablishment (name)", ("TypeOfEstablishment", "Type", "Establishment type"), text=True, max_length=120),
    Column("phase", "PhaseOfEducation (name)", ("PhaseOfEducation", "Phase"), text=True, max_length=60),
    Column("status_name", "EstablishmentStatus (name)", ("EstablishmentStatus", "Status"), text=True, max_length=60),
    Column("la_code", "LA (code)", ("LA code", "Local authority code"), max_length=10),
    Column("la_name", "LA (name)", ("LA", "LA name", "Local authority", "Local authority name"), text=True, max_length=120),
    Column("trust_uid", "Trusts (code)", ("Trust UID", "Trust code", "Trusts UID", "Group UID"), max_length=20),
    Column("trust_name", "Trusts (name)", ("Trust name", "Trust"), text=True, max_length=255),
    Column("district", "DistrictAdministrative (name)", ("DistrictAdministrative", "District"), text=True, max_length=120),
    Column("number_of_pupils", "NumberOfPupils", ("Pupils", "Number of pupils", "Number on roll")),
    Column("opened_on", "OpenDate", ("Opened", "Opened on", "Open date")),
    Column("closed_on", "CloseDate", ("Closed", "Closed on", "Close date")),
]

#: the register fields each column sets, and how a preview names them
FIELD_LABELS = {
    "name": "Name", "type_name": "Type", "phase": "Phase", "status_name": "Status", "is_open": "Open",
    "la_code": "LA code", "la_name": "LA", "district": "District", "number_of_pupils": "Pupils",
    "opened_on": "Opened", "closed_on": "Closed", "trust_id": "Trust",
}
_TEXT_FIELDS = ("name", "type_name", "phase", "status_name", "la_code", "la_name", "district")


def is_open_status(status: str) -> bool:
    """Blank (settings outside GIAS) or "Open..." ("Open, but proposed to close") is open; "Closed",
    "Proposed to open" and the rest are not."""
    return status == "" or status.lower().startswith("open")


@dataclass
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


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class EstablishmentChange:
    record: EstablishmentRecord
    establishment_id: int
    changes: list[FieldChange]


@dataclass
class EstablishmentsPlan:
    """What importing a file would do, computed without writing."""

    encoding: str
    records: list[EstablishmentRecord]
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
            "rows": len(self.records), "new": len(self.new), "updated": len(self.updated),
            "unchanged": self.unchanged, "closed": len(self.closed),
            "new_trusts": len(self.new_trusts), "renamed_trusts": len(self.renamed_trusts),
        }

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.updated or self.new_trusts or self.renamed_trusts)

    def summary(self) -> str:
        c = self.counts
        return (f"{c['new']} new, {c['updated']} updated, {c['unchanged']} unchanged, {c['closed']} closed; "
                f"trusts: {c['new_trusts']} new, {c['renamed_trusts']} renamed")


def plan_establishments(data: bytes) -> EstablishmentsPlan:
    """Read a GIAS establishment extract (or a file of the same shape) and compare it with the register.

    :param data: the file's bytes
    :raises ImportFailed: every problem with the file; nothing is planned
    """
    table = read_csv(data, ESTABLISHMENT_COLUMNS)
    records = _establishment_records(table)
    trusts = {uid: (trust_id, name) for trust_id, uid, name in db.session.execute(select(Trust.id, Trust.uid, Trust.name))}
    new_trusts, renamed = _plan_trusts(table, records, trusts)
    table.raise_if_problems()

    plan = EstablishmentsPlan(encoding=table.encoding, records=records, new_trusts=new_trusts, renamed_trusts=renamed,
                              trust_ids_before={uid: trust_id for uid, (trust_id, _name) in trusts.items()},
                              formula_like=table.formula_like)
    trust_names = {uid: name for uid, (_id, name) in trusts.items()} | new_trusts
    uid_of = {trust_id: uid for uid, (trust_id, _name) in trusts.items()}
    columns = [getattr(Establishment, name) for name in ("id", "urn", *FIELD_LABELS)]
    existing = {row.urn: row for row in db.session.execute(select(*columns))}
    for record_ in records:
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
                changes.append(FieldChange("Trust", _trust_shown(old_uid, trust_names), _trust_shown(record_.trust_uid, trust_names)))
        if not changes:
            plan.unchanged += 1
            continue
        change = EstablishmentChange(record_, current.id, changes)
        plan.updated.append(change)
        if current.is_open and record_.fields.get("is_open") is False:
            plan.closed.append(change)
    return plan


def _establishment_records(table: CsvTable) -> list[EstablishmentRecord]:
    records: list[EstablishmentRecord] = []
    first_line: dict[str, int] = {}
    for row in table.rows:
        urn = clean_identifier(row.get("urn"))
        if not row.get("urn"):
            table.problem(row.line, "urn", "is blank: every establishment needs its URN")
        elif urn is None:
            table.problem(row.line, "urn", f'"{row.get("urn")}" {IDENTIFIER_RULE}')
        elif urn in first_line:
            table.problem(row.line, "urn", f"URN {urn} is also on line {first_line[urn]}: each establishment must appear once")
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
            records.append(EstablishmentRecord(row.line, urn, fields, trust_uid, row.get("trust_name")))
    return records


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
    except InvalidAnswer as exc:
        table.problem(line, name, f'"{text}" {exc} (dd-mm-yyyy, like 01-09-2012, or yyyy-mm-dd)')
        return None


def _plan_trusts(table: CsvTable, records: list[EstablishmentRecord], trusts: dict[str, tuple[int, str]]):
    """New trusts and renamed trusts; a name without a UID, or one UID given two names, is a problem."""
    names: dict[str, tuple[str, int]] = {}
    for record_ in records:
        uid, name = record_.trust_uid or "", record_.trust_name
        if not uid:
            if name and table.has("trust_uid"):
                table.problem(record_.line, "trust_uid", f'is blank but the trust name is "{name}": give the trust’s UID too')
            continue
        if not name:
            continue
        if uid in names and names[uid][0] != name:
            table.problem(record_.line, "trust_name", f'trust {uid} is called "{names[uid][0]}" on line {names[uid][1]}')
            continue
        names.setdefault(uid, (name, record_.line))
    new_trusts: dict[str, str] = {}
    renamed: dict[str, tuple[str, str]] = {}
    for record_ in records:
        uid = record_.trust_uid
        if not uid or uid in trusts or uid in new_trusts:
            continue
        if uid not in names:
            table.problem(record_.line, "trust_name", f"trust {uid} is new: give its name")
            continue
        new_trusts[uid] = names[uid][0]
    for uid, (name, _line) in names.items():
        if uid in trusts and trusts[uid][1] != name:
            renamed[uid] = (trusts[uid][1], name)
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


def apply_establishments(plan: EstablishmentsPlan, actor=None, filename: str = "") -> dict[str, int]:
    """Write a plan to the register (flush only) and record it in the activity log; return its counts.

    Establishments absent from the file are left alone.
    """
    now = utcnow()
    if plan.new_trusts:
        _insert_many(Trust, [{"uid": uid, "name": name, "updated_at": now} for uid, name in plan.new_trusts.items()])
    if plan.renamed_trusts:
        ids = plan.trust_ids_before
        db.session.execute(update(Trust), [{"id": ids[uid], "name": new, "updated_at": now}
                                           for uid, (_old, new) in plan.renamed_trusts.items()])
    trust_ids = dict(db.session.execute(select(Trust.uid, Trust.id)).all()) if plan.new_trusts else plan.trust_ids_before

    def values(record_: EstablishmentRecord) -> dict[str, Any]:
        result = dict(record_.fields)
        if record_.trust_uid is not None:
            result["trust_id"] = trust_ids[record_.trust_uid] if record_.trust_uid else None
        result["updated_at"] = now
        return result

    if plan.new:
        defaults = {"type_name": "", "phase": "", "status_name": "", "is_open": True, "la_code": "", "la_name": "",
                    "district": "", "number_of_pupils": None, "opened_on": None, "closed_on": None, "trust_id": None}
        _insert_many(Establishment, [{**defaults, "urn": r.urn, **values(r)} for r in plan.new])
    if plan.updated:
        db.session.execute(update(Establishment), [{"id": c.establishment_id, **values(c.record)} for c in plan.updated])
    # Bulk statements bypass the identity map: make loaded rows read the new values.
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, (Establishment, Trust)):
            db.session.expire(instance)
    counts = plan.counts
    record("establishments.imported", actor, file=filename, encoding=plan.encoding, **counts)
    db.session.flush()
    return counts


# --- contacts --------------------------------------------------------------------------

CONTACT_COLUMNS = [
    Column("urn", "URN"),
    Column("trust_uid", "Trust UID", ("Trusts (code)", "Trust code", "Group UID")),
    Column("name", "Name", ("Full name", "Contact name"), required=True, text=True, max_length=200),
    Column("email", "Email", ("Email address", "E-mail"), required=True, text=True, max_length=254),
    Column("role", "Role", ("Contact role",)),
]

_ROLE_WORDS = {
    "dsl": ContactRole.DSL.value, "designatedsafeguardinglead": ContactRole.DSL.value,
    "deputydsl": ContactRole.DEPUTY_DSL.value, "deputy": ContactRole.DEPUTY_DSL.value,
    "ddsl": ContactRole.DEPUTY_DSL.value, "deputydesignatedsafeguardinglead": ContactRole.DEPUTY_DSL.value,
    "trustlead": "trust_lead", "trustsafeguardinglead": "trust_lead",
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
            "rows": len(self.records), "new_users": len(self.new_users), "updated_users": len(self.updated_users),
            "new_links": len(self.new_links), "changed_links": len(self.changed_links), "unchanged": self.unchanged,
            "removed_links": len(self.removed_links),
        }

    @property
    def has_changes(self) -> bool:
        return bool(self.new_users or self.updated_users or self.new_links or self.changed_links or self.removed_links)

    def summary(self) -> str:
        c = self.counts
        removed = f"{c['removed_links']} links removed; " if self.sync else ""
        return (f"{removed}{c['new_users']} people added, {c['updated_users']} updated; {c['new_links']} links added, "
                f"{c['changed_links']} roles changed, {c['unchanged']} rows unchanged")


@dataclass
class RemovedLink:
    """A person's link to an establishment or a trust that a synced file no longer has."""

    link_id: int
    email: str
    name: str
    #: "URN 100001 Oak Primary" or "Trust 5001 Acorn Trust"
    where: str
    trust: bool


def plan_contacts(data: bytes, sync: bool = False) -> ContactsPlan:
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
            select(EstablishmentContact.id, EstablishmentContact.user_id, EstablishmentContact.establishment_id,
                   EstablishmentContact.role).where(EstablishmentContact.user_id.in_(chunk))
        ):
            school_links[(user_id, establishment_id)] = (link_id, role)
        trust_links.update(db.session.execute(
            select(TrustContact.user_id, TrustContact.trust_id).where(TrustContact.user_id.in_(chunk))).all())

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
        .join(User, User.id == TrustContact.user_id).join(Trust, Trust.id == TrustContact.trust_id)
        .order_by(Trust.uid, User.email)
    ):
        if (email, None, trust_id) not in in_file:
            removed.append(RemovedLink(link_id, email, name, f"Trust {uid} {where}", trust=True))
    return removed


def _no_where_column() -> ImportProblem:
    return ImportProblem(1, None, 'the file has no "URN" column (for DSLs and deputies) or "Trust UID" column '
                                  "(for trust safeguarding leads): the header row must name one of them")


def _contact_records(table: CsvTable, establishment_ids: dict[str, int], trust_ids: dict[str, int]) -> list[ContactRecord]:
    records = []
    school_roles: dict[tuple[str, int], tuple[ContactRole, int]] = {}
    names: dict[str, tuple[str, int]] = {}
    for row in table.rows:
        line = row.line
        urn, uid = row.get("urn"), row.get("trust_uid")
        establishment_id = trust_id = None
        ok = True
        if urn and uid:
            table.problem(line, "trust_uid", "give a URN (for a DSL or deputy) or a Trust UID (for a trust lead), not both")
            ok = False
        elif urn:
            establishment_id = establishment_ids.get(urn)
            if establishment_id is None:
                table.problem(line, "urn", f"URN {urn} is not in the register: import the establishments first, or correct the URN")
                ok = False
        elif uid:
            trust_id = trust_ids.get(uid)
            if trust_id is None:
                table.problem(line, "trust_uid", f"trust {uid} is not in the register: import the establishments first, or correct the UID")
                ok = False
        else:
            table.problem(line, "urn" if table.has("urn") else "trust_uid",
                          "is blank: give the establishment’s URN (or a Trust UID for a trust safeguarding lead)")
            ok = False

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
                table.problem(line, "name", f'{email} is named "{names[email][0]}" on line {names[email][1]}: use one name')
                ok = False
            names.setdefault(email, (name, line))
        if ok and establishment_id is not None:
            earlier = school_roles.get((email, establishment_id))
            if earlier is not None and earlier[0] != role:
                table.problem(line, "role", f"{email} is listed for URN {urn} as {role.value} here and as "
                                            f"{earlier[0].value} on line {earlier[1]}: give one role")
                ok = False
            school_roles.setdefault((email, establishment_id), (role, line))
        if ok:
            records.append(ContactRecord(line, email, name, establishment_id, trust_id, role,
                                         f"URN {urn}" if establishment_id is not None else f"trust {uid}"))
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
        db.session.execute(update(User), [{"id": user_ids[email], **change} for email, change in plan.updated_users.items()])
    school_rows = [{"user_id": user_ids[r.email], "establishment_id": r.establishment_id, "role": r.role}
                   for r in plan.new_links if r.establishment_id is not None]
    trust_rows = [{"user_id": user_ids[r.email], "trust_id": r.trust_id} for r in plan.new_links if r.trust_id is not None]
    _insert_many(EstablishmentContact, school_rows)
    _insert_many(TrustContact, trust_rows)
    if plan.changed_links:
        db.session.execute(update(EstablishmentContact), [{"id": link_id, "role": r.role} for r, link_id, _old in plan.changed_links])
    for removed in plan.removed_links:
        model = TrustContact if removed.trust else EstablishmentContact
        db.session.execute(delete(model).where(model.id == removed.link_id))
        record("contact.removed", actor, email=removed.email, where=removed.where, via="contacts import --sync")
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, (User, EstablishmentContact, TrustContact)):
            db.session.expire(instance)
    counts = plan.counts
    record("contacts.imported", actor, file=filename, **counts)
    db.session.flush()
    invite_ids = [user_ids[email] for email in sorted(plan.without_password)]
    to_invite = []
    for chunk in _chunks(invite_ids):
        to_invite.extend(db.session.scalars(
            select(User).where(User.id.in_(chunk), User.password_hash.is_(None), User.is_enabled.is_(True))))
    return ContactsResult(counts, sorted(to_invite, key=lambda u: u.email))


@dataclass
class InvitationReport:
    sent: list[str] = field(default_factory=list)
    #: (email, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)


def send_invitations(users: list[User], *, invited_by: str, commit: Callable[[], None], actor=None) -> InvitationReport:
    """Email each user a set-password link; a failure is reported, not raised.

    Call this after the import is committed. ``commit`` (the caller's) keeps each
    sent link's token as soon as its email has gone, so an interrupted run never
    leaves a sent link that does not work.
    """
    report = InvitationReport()
    for user in users:
        email = user.email
        try:
            send_invitation(user, invited_by=invited_by)
        except mail.MailError as exc:
            db.session.rollback()
            report.failed.append((email, str(exc)))
            continue
        record("user.invited", actor, email=email, via="contacts import")
        commit()
        report.sent.append(email)
    return report
