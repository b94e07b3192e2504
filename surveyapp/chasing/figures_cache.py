"""The tracker's figures, kept in each worker until the database says they have changed.

Every tracker page shows figures over the whole cycle: the headline, the breakdowns by phase, type,
district and trust, and the completions by day for this cycle and last year's. Nationally that is a
pass over tens of thousands of establishments on every view, most of the page's time. The figures only
change when a response's status, a trust's cover, an assignment or an establishment's phase, type,
district or trust does; the database moves a token when any of that changes
(``surveyapp.chasing.models.FiguresVersion``, kept by triggers). Figures are kept here under the token
they were computed with and are computed again once it has moved: a view after no change reads one row.

The token is read before the figures, so figures that a commit in between made newer than their token
are kept under the older token and simply not found again: a kept figure is never older than its token.
A transaction that has written something itself is not served from here and keeps nothing (in
PostgreSQL the token moves only at its commit, and it may still roll back).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app
from sqlalchemy import func, select

from surveyapp.chasing.models import FiguresVersion
from surveyapp.extensions import db

T = TypeVar("T")

#: figures kept per worker at most (one entry is one cycle's figures for the LA or for one trust)
KEPT = 256


class FiguresCache:
    """The figures computed under the current token, least recently used first out."""

    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self.token: str | None = None
        self.entries: OrderedDict[Hashable, object] = OrderedDict()
        self.lock = threading.Lock()
        #: how many figures were computed, and how many served as kept (tests and benchmarks read them)
        self.computed = 0
        self.served = 0

    def get(self, token: str, key: Hashable) -> object | None:
        with self.lock:
            if token != self.token:
                return None
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
                self.served += 1
            return found

    def put(self, token: str, key: Hashable, value: object) -> None:
        with self.lock:
            if token != self.token:
                # Figures under any other token can never be asked for again: the token only moves on.
                self.entries.clear()
                self.token = token
            self.entries[key] = value
            while len(self.entries) > self.kept:
                self.entries.popitem(last=False)


def figures_cache() -> FiguresCache:
    """This app's cache (each test's app has its own)."""
    return current_app.extensions.setdefault("surveyapp.figures_cache", FiguresCache())


def current_token() -> str | None:
    """The figures' token, or None when figures must not be kept: this transaction has written (PostgreSQL),
    or the database has no token row."""
    if db.session.get_bind().dialect.name == "postgresql":
        row = db.session.execute(
            select(FiguresVersion.token, func.pg_current_xact_id_if_assigned().is_(None)).where(FiguresVersion.id == 1)
        ).first()
        return row[0] if row is not None and row[1] else None
    # SQLite moves the token at once, inside the writing transaction: its own reads see it moved already.
    return db.session.scalar(select(FiguresVersion.token).where(FiguresVersion.id == 1))


def kept(key: Hashable, compute: Callable[[], T], copy: Callable[[T], T]) -> T:
    """The figures for ``key``: as kept under the current token, else computed now and kept.

    :param copy: makes the caller's own copy of the figures, so nothing it does to them changes what the next
        view is served (written for each kind of figures: ``copy.deepcopy`` of a national cycle's breakdowns
        takes 60 ms, more than half a tracker page)
    """
    cache = figures_cache()
    token = current_token()
    if token is None:
        return compute()
    found = cache.get(token, key)
    if found is None:
        found = compute()
        cache.computed += 1
        cache.put(token, key, found)
    return copy(found)  # type: ignore[arg-type]
