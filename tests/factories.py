"""Builders for real rows, so tests say what they need in a line."""

from __future__ import annotations

import itertools
from datetime import date

from surveyapp.audits.definitions import load_template
from surveyapp.audits.services import open_cycle
from surveyapp.auth.models import Role, User
from surveyapp.auth.services import hash_password
from surveyapp.establishments.models import ContactRole, Establishment, EstablishmentContact, Trust, TrustContact
from surveyapp.extensions import db

_counter = itertools.count(1)
_HASH_CACHE: dict[str, str] = {}

SMALL_TEMPLATE = {
    "key": "mini",
    "title": "Mini safeguarding audit",
    "version": 1,
    "sections": [
        {
            "key": "policies",
            "title": "Policies",
            "questions": [
                {
                    "key": "policy_current",
                    "text": "Is the child protection policy current?",
                    "type": "yes_no",
                    "gap": {"when": ["no"]},
                    "follow_up": {"prompt": "What will you do?"},
                },
                {
                    "key": "policy_review_date",
                    "text": "When was the policy last reviewed?",
                    "type": "date",
                    "gap": {"older_than_months": 12},
                },
                {"key": "policy_notes", "text": "Anything else?", "type": "text", "required": False},
            ],
        },
        {
            "key": "prevent",
            "title": "Prevent duty",
            "questions": [
                {
                    "key": "prevent_wrap",
                    "text": "Has the DSL completed WRAP?",
                    "type": "yes_no_partly",
                    "tags": ["prevent"],
                    "gap": {"when": ["no", "partly"]},
                },
                {
                    "key": "prevent_trained_pct",
                    "text": "What percentage of staff are Prevent trained?",
                    "type": "percentage",
                    "tags": ["prevent"],
                    "gap": {"below": 90},
                },
                {
                    "key": "prevent_sef",
                    "text": "Is Prevent in your self-evaluation?",
                    "type": "yes_no_unsure",
                    "tags": ["prevent"],
                    "gap": {"when": ["no", "unsure"]},
                },
            ],
        },
    ],
}


class Factory:
    PASSWORD = "correct horse battery staple"

    def n(self) -> int:
        return next(_counter)

    def trust(self, name: str | None = None, uid: str | None = None) -> Trust:
        number = self.n()
        trust = Trust(uid=uid or str(5000 + number), name=name or f"Trust {number}")
        db.session.add(trust)
        db.session.flush()
        return trust

    def establishment(
        self,
        name: str | None = None,
        urn: str | None = None,
        trust: Trust | None = None,
        phase: str = "Primary",
        type_name: str = "Community school",
        district: str = "Northtown",
        is_open: bool = True,
    ) -> Establishment:
        number = self.n()
        establishment = Establishment(
            urn=urn or str(100000 + number),
            name=name or f"School {number}",
            phase=phase,
            type_name=type_name,
            district=district,
            is_open=is_open,
            status_name="Open" if is_open else "Closed",
            trust_id=trust.id if trust else None,
        )
        db.session.add(establishment)
        db.session.flush()
        return establishment

    def user(self, role: Role, email: str | None = None, name: str = "", password: str | None = PASSWORD) -> User:
        number = self.n()
        if password and password not in _HASH_CACHE:
            _HASH_CACHE[password] = hash_password(password)
        user = User(
            email=email or f"user{number}@example.org",
            role=role,
            name=name or f"User {number}",
            password_hash=_HASH_CACHE.get(password) if password else None,
        )
        db.session.add(user)
        db.session.flush()
        return user

    def lead(self, **kwargs) -> User:
        return self.user(Role.LEAD, **kwargs)

    def board(self, **kwargs) -> User:
        return self.user(Role.BOARD, **kwargs)

    def dsl(self, *establishments: Establishment, deputy: bool = False, **kwargs) -> User:
        user = self.user(Role.DSL, **kwargs)
        for establishment in establishments:
            db.session.add(
                EstablishmentContact(
                    establishment_id=establishment.id,
                    user_id=user.id,
                    role=ContactRole.DEPUTY_DSL if deputy else ContactRole.DSL,
                )
            )
        db.session.flush()
        return user

    def trust_lead(self, trust: Trust, **kwargs) -> User:
        user = self.user(Role.TRUST_LEAD, **kwargs)
        db.session.add(TrustContact(trust_id=trust.id, user_id=user.id))
        db.session.flush()
        return user

    def template(self, definition: dict | None = None):
        template, _ = load_template(definition or SMALL_TEMPLATE)
        return template

    def cycle(
        self,
        slug: str = "2026-27",
        template=None,
        due_on: date = date(2027, 3, 31),
        opens_on: date = date(2026, 9, 1),
        **kwargs,
    ):
        template = template or self.template()
        cycle = open_cycle(
            slug=slug, name=f"Safeguarding audit {slug}", template=template, due_on=due_on, opens_on=opens_on, **kwargs
        )
        db.session.commit()
        return cycle
