"""The local authority's rates per question for a DSL's results page, cached per cycle (no Flask).

Computing the whole LA's figures takes seconds at national scale, and on deadline day every DSL
who submits opens their results. The rates only change when a response's status changes, so
they are kept per process, keyed by a fingerprint of the cycle's responses read with one small
aggregate query (statuses, last submission and update, trust cover). Every gunicorn worker
checks the fingerprint on each request, so a return submitted through any worker is seen by all
of them on their next page; a worker recomputes at most once per change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select

from surveyapp.analysis import figures
from surveyapp.analysis.loading import load_cycle
from surveyapp.audits.models import Assignment, Cycle, Response, TrustCoverage
from surveyapp.extensions import db


@dataclass(frozen=True)
class LaRates:
    """One cycle's LA-wide figures per question (``figures.Analysis.questions``) and its establishments in scope."""

    in_scope: int
    questions: pd.DataFrame
    #: establishments that returned (the denominator of every rate in ``questions``)
    returned: int = 0


def cycle_version(cycle: Cycle, session=None) -> tuple:
    """A fingerprint that changes whenever a response of the cycle is submitted, returned, accepted,
    imported or gains trust cover: per status, how many responses, their latest update and submission."""
    session = session or db.session
    statuses = session.execute(
        select(Response.status, func.count(), func.max(Response.updated_at), func.max(Response.submitted_at))
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id)
        .group_by(Response.status)
        .order_by(Response.status)
    ).all()
    cover = session.scalar(
        select(func.count())
        .select_from(TrustCoverage)
        .join(Response, Response.id == TrustCoverage.response_id)
        .join(Assignment, Assignment.id == Response.assignment_id)
        .where(Assignment.cycle_id == cycle.id)
    )
    return tuple(tuple(str(value) for value in row) for row in statuses) + (("cover", cover),)


def compute_rates(cycle: Cycle, session=None) -> LaRates:
    """Analyse the whole cycle and keep only what a results page shows."""
    analysis = figures.analyse(load_cycle(cycle, session))
    return LaRates(in_scope=analysis.in_scope, questions=analysis.questions, returned=analysis.returned)


class RatesCache:
    """Per-process LA rates by cycle, valid while the cycle's fingerprint is unchanged."""

    def __init__(self):
        self._entries: dict[int, tuple[tuple, LaRates]] = {}
        self._lock = threading.Lock()
        #: how many times the rates were computed (for tests and logs)
        self.computed = 0

    def rates(self, cycle: Cycle, session=None) -> LaRates:
        version = cycle_version(cycle, session)
        entry = self._entries.get(cycle.id)
        if entry is not None and entry[0] == version:
            return entry[1]
        rates = compute_rates(cycle, session)
        with self._lock:
            self._entries[cycle.id] = (version, rates)
            self.computed += 1
        return rates
