"""A demo local authority: the fictional county of Wexshire, for newcomers and demonstrations.

``build_demo`` fills the database with about 400 establishments in 20 trusts, their
safeguarding contacts, last year's completed audit and this year's audit under way.
It is deterministic (one seeded generator and fixed dates, never the clock), so every
build shows the same LA, and fast: the bulky rows are written with bulk inserts.
Like every service it flushes and never commits; `surveyapp demo` commits.

names.py draws the county's names, scenarios.py says what it holds in each year, builder.py writes it.
"""

from __future__ import annotations

import random

import click
from sqlalchemy import select, text

from surveyapp.audits.models import Cycle
from surveyapp.demo import scenarios
from surveyapp.demo.builder import DemoBuilder
from surveyapp.demo.scenarios import DEMO_PASSWORD, SEED
from surveyapp.establishments.models import Establishment, Trust
from surveyapp.extensions import db

__all__ = ["DEMO_PASSWORD", "DemoDatabaseNotEmpty", "build_demo", "rebuild_database"]


class DemoDatabaseNotEmpty(click.ClickException):
    """The database already holds data, so the demo would mix with it.

    A ClickException so that `surveyapp demo` reports it as a one-line error.
    """


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
    return scenarios.build(DemoBuilder(random.Random(SEED)))


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
