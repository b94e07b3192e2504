"""`surveyapp contacts import`: DSLs, deputies and trust leads, their links, invitations and refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from surveyapp.activity.models import ActivityRecord
from surveyapp.auth.models import AccountToken, Role, User
from surveyapp.establishments.models import EstablishmentContact, TrustContact
from surveyapp.extensions import db
from tests.conftest import outbox_messages
from tests.establishments.gias_files import contacts_csv


@pytest.fixture
def register(make):
    trust = make.trust(name="Oak Learning Trust", uid="5001")
    schools = {
        "100001": make.establishment(urn="100001", name="St Mary’s Primary"),
        "100002": make.establishment(urn="100002", name="Oak Academy", trust=trust),
    }
    db.session.commit()
    return schools, trust


def run_import(runner, tmp_path, data: bytes, *options: str):
    path = tmp_path / "contacts.csv"
    path.write_bytes(data)
    result = runner.invoke(args=["contacts", "import", str(path), *options])
    db.session.expire_all()
    return result


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def links(email: str) -> dict[str, str]:
    account = user(email)
    school = {link.establishment.urn: link.role.value for link in account.establishment_links}
    trusts = {f"trust {link.trust.uid}": "trust_lead" for link in account.trust_links}
    return school | trusts


def row_counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (User, EstablishmentContact, TrustContact, ActivityRecord, AccountToken)
    )


GOOD = [
    {"URN": "100001", "Name": "Dee Lead", "Email": "Dee.Lead@StMarys.example.org", "Role": "dsl"},
    {"URN": "100001", "Name": "Dev Deputy", "Email": "dev@stmarys.example.org", "Role": "Deputy DSL"},
    {"URN": "100002", "Name": "Dee Lead", "Email": "dee.lead@stmarys.example.org", "Role": ""},
    {"Trust UID": "5001", "Name": "Tess Trust", "Email": "tess@oak.example.org", "Role": ""},
]


def test_contacts_are_created_and_linked(runner, tmp_path, register):
    result = run_import(runner, tmp_path, contacts_csv(GOOD))
    assert result.exit_code == 0, result.output
    assert "3 people added, 0 updated; 4 links added" in result.output
    dee = user("dee.lead@stmarys.example.org")
    assert dee.role is Role.DSL and dee.name == "Dee Lead" and dee.password_hash is None
    assert links("dee.lead@stmarys.example.org") == {"100001": "dsl", "100002": "dsl"}
    assert links("dev@stmarys.example.org") == {"100001": "deputy_dsl"}
    assert user("tess@oak.example.org").role is Role.TRUST_LEAD
    assert links("tess@oak.example.org") == {"trust 5001": "trust_lead"}
    entry = db.session.scalar(select(ActivityRecord).where(ActivityRecord.action == "contacts.imported"))
    assert entry.detail["new_users"] == 3 and entry.detail["new_links"] == 4
    assert outbox_messages(runner.app) == []  # no --invite, no email


def test_a_reimport_updates_roles_and_names_and_keeps_leads_roles(runner, tmp_path, register, make):
    lead = make.lead(email="lead@council.example.org", name="Lee Lead")
    db.session.commit()
    assert run_import(runner, tmp_path, contacts_csv(GOOD)).exit_code == 0
    again = [
        {"URN": "100001", "Name": "Dee Lead-Smith", "Email": "dee.lead@stmarys.example.org", "Role": "deputy_dsl"},
        {"URN": "100001", "Name": "Dev Deputy", "Email": "dev@stmarys.example.org", "Role": "deputy_dsl"},
        {"Trust UID": "5001", "Name": "Dev Deputy", "Email": "dev@stmarys.example.org", "Role": "trust_lead"},
        {"URN": "100002", "Name": "Lee Lead", "Email": "lead@council.example.org", "Role": "dsl"},
    ]
    result = run_import(runner, tmp_path, contacts_csv(again))
    assert result.exit_code == 0, result.output
    assert "0 people added, 2 updated; 2 links added, 1 roles changed, 1 rows unchanged" in result.output
    dee = user("dee.lead@stmarys.example.org")
    assert dee.name == "Dee Lead-Smith" and links(dee.email) == {"100001": "deputy_dsl", "100002": "dsl"}
    dev = user("dev@stmarys.example.org")
    assert dev.role is Role.TRUST_LEAD and links(dev.email) == {"100001": "deputy_dsl", "trust 5001": "trust_lead"}
    assert user(lead.email).role is Role.LEAD  # an existing lead keeps their role
    assert db.session.scalar(select(func.count()).select_from(User)) == 4


def test_invite_emails_everyone_without_a_password_after_the_import(runner, tmp_path, register, make):
    make.dsl(register[0]["100001"], email="dev@stmarys.example.org")  # has a password already
    db.session.commit()
    result = run_import(runner, tmp_path, contacts_csv(GOOD), "--invite")
    assert result.exit_code == 0, result.output
    assert "Invitations sent: 2." in result.output
    messages = outbox_messages(runner.app)
    assert sorted(m["To"] for m in messages) == ["dee.lead@stmarys.example.org", "tess@oak.example.org"]
    assert all("/set-password/" in m.get_payload() for m in messages)
    tokens = db.session.scalars(select(AccountToken)).all()
    assert len(tokens) == 2 and all(t.used_at is None for t in tokens)
    assert links("dev@stmarys.example.org") == {"100001": "deputy_dsl"}  # the link's role was updated


def test_a_mail_failure_is_reported_without_undoing_the_import(runner, tmp_path, register, monkeypatch):
    from surveyapp import mail

    def refuse(settings, to, subject, body):
        raise mail.MailError(f"Could not send to {to}: connection refused")

    monkeypatch.setattr(mail, "send", refuse)
    result = run_import(runner, tmp_path, contacts_csv(GOOD), "--invite")
    assert result.exit_code == 1
    assert "could not be sent" in result.output and "tess@oak.example.org: Could not send" in result.output
    assert user("tess@oak.example.org") is not None and len(links("dee.lead@stmarys.example.org")) == 2
    assert db.session.scalar(select(func.count()).select_from(AccountToken)) == 0


def test_a_dry_run_writes_nothing(runner, tmp_path, register):
    before = row_counts()
    result = run_import(runner, tmp_path, contacts_csv(GOOD), "--dry-run", "--invite")
    assert result.exit_code == 0, result.output
    assert "3 people added" in result.output and "3 people would be sent an invitation" in result.output
    assert row_counts() == before and outbox_messages(runner.app) == []


@pytest.mark.parametrize(
    "row, expected",
    [
        (
            {"URN": "999999", "Name": "A", "Email": "a@example.org"},
            "line 2, column URN: URN 999999 is not in the register",
        ),
        (
            {"Trust UID": "9999", "Name": "A", "Email": "a@example.org"},
            "line 2, column Trust UID: trust 9999 is not in the register",
        ),
        (
            {"URN": "100001", "Name": "A", "Email": "not-an-email"},
            'line 2, column Email: "not-an-email" is not a valid email address',
        ),
        (
            {"URN": "100001", "Name": "A", "Email": "a@example.org", "Role": "headteacher"},
            'line 2, column Role: "headteacher" must be dsl or deputy_dsl',
        ),
        (
            {"Trust UID": "5001", "Name": "A", "Email": "a@example.org", "Role": "dsl"},
            'line 2, column Role: "dsl" is not a trust role',
        ),
        (
            {"URN": "100001", "Trust UID": "5001", "Name": "A", "Email": "a@example.org"},
            "line 2, column Trust UID: give a URN (for a DSL or deputy) or a Trust UID (for a trust lead), not both",
        ),
        ({"Name": "A", "Email": "a@example.org"}, "line 2, column URN: is blank: give the establishment’s URN"),
    ],
)
def test_a_bad_row_is_refused_with_line_column_and_reason(runner, tmp_path, register, row, expected):
    rows = [{"URN": "100002", "Name": "Good Person", "Email": "good@example.org", "Role": "dsl"}]
    before = row_counts()
    result = run_import(runner, tmp_path, contacts_csv([row, *rows]))
    assert result.exit_code == 1
    assert expected in result.output, result.output
    assert row_counts() == before


def test_the_same_person_with_two_roles_at_one_school_is_refused(runner, tmp_path, register):
    rows = [
        {"URN": "100001", "Name": "Dee", "Email": "dee@example.org", "Role": "dsl"},
        {"URN": "100002", "Name": "Dee", "Email": "dee@example.org", "Role": "dsl"},
        {"URN": "100001", "Name": "Dee", "Email": "DEE@example.org", "Role": "deputy_dsl"},
    ]
    result = run_import(runner, tmp_path, contacts_csv(rows))
    assert result.exit_code == 1
    assert (
        "line 4, column Role: dee@example.org is listed for URN 100001 as deputy_dsl here and as dsl on line 2"
        in result.output
    )
    assert row_counts() == (0, 0, 0, 0, 0)


def test_a_file_without_urn_or_trust_uid_columns_is_refused(runner, tmp_path, register):
    result = run_import(
        runner, tmp_path, contacts_csv([{"Name": "A", "Email": "a@example.org"}], header=("Name", "Email"))
    )
    assert result.exit_code == 1
    assert 'the file has no "URN" column (for DSLs and deputies) or "Trust UID" column' in result.output


def test_sync_makes_the_links_match_the_file_and_the_dry_run_lists_removals_first(runner, tmp_path, register):
    assert run_import(runner, tmp_path, contacts_csv(GOOD)).exit_code == 0
    # Next year's file: Dev has left St Mary's, Dee no longer covers Oak, Tess's trust has a new lead.
    next_year = [GOOD[0], {"Trust UID": "5001", "Name": "Nia New", "Email": "nia@oak.example.org", "Role": ""}]
    plain = run_import(runner, tmp_path, contacts_csv(next_year), "--dry-run")
    assert "would remove" not in plain.output  # without --sync nothing is removed

    before = row_counts()
    dry = run_import(runner, tmp_path, contacts_csv(next_year), "--sync", "--dry-run")
    assert dry.exit_code == 0, dry.output
    lines = dry.output.splitlines()
    assert lines[0].startswith("Dry run of") and "3 links removed; 1 people added" in lines[0]
    assert lines[1:4] == [
        "  would remove: dev@stmarys.example.org from URN 100001 St Mary’s Primary",
        "  would remove: dee.lead@stmarys.example.org from URN 100002 Oak Academy",
        "  would remove: tess@oak.example.org from Trust 5001 Oak Learning Trust",
    ]
    assert row_counts() == before

    done = run_import(runner, tmp_path, contacts_csv(next_year), "--sync")
    assert done.exit_code == 0, done.output
    assert links("dee.lead@stmarys.example.org") == {"100001": "dsl"}
    assert links("dev@stmarys.example.org") == {} and links("tess@oak.example.org") == {}
    assert links("nia@oak.example.org") == {"trust 5001": "trust_lead"}
    assert user("dev@stmarys.example.org") is not None  # the account stays; only the link goes
    removed = db.session.scalars(select(ActivityRecord.detail).where(ActivityRecord.action == "contact.removed")).all()
    assert sorted(d["email"] for d in removed) == [
        "dee.lead@stmarys.example.org",
        "dev@stmarys.example.org",
        "tess@oak.example.org",
    ]


def test_the_web_import_offers_sync_and_lists_removals_before_confirming(client, make, sign_in, register):
    school = register[0]["100001"]
    make.dsl(school, email="gone@stmarys.example.org", name="Gus Gone")
    lead = make.lead()
    db.session.commit()
    sign_in(lead)
    import io

    uploaded = client.post(
        "/establishments/import/contacts",
        data={"file": (io.BytesIO(contacts_csv(GOOD[:1])), "contacts.csv")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:500]
    preview_url = uploaded.headers["Location"]
    plain = client.get(preview_url).get_data(as_text=True)
    assert "nobody is removed" in plain and "gone@stmarys.example.org" not in plain
    synced = client.get(preview_url + "?sync=1").get_data(as_text=True)
    assert "Links to remove" in synced and "gone@stmarys.example.org" in synced
    assert synced.index("Links to remove") < synced.index("New accounts")
    assert 'name="sync" value="1"' in synced
    assert client.post(preview_url, data={"sync": "1"}).status_code == 302
    assert links("gone@stmarys.example.org") == {}
