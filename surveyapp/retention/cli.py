"""`surveyapp data` commands."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import AppGroup

data = AppGroup("data", help="Personal data: retention.")


@data.command("retention")
@click.option(
    "--older-than-years",
    "years",
    type=click.IntRange(min=1),
    required=True,
    help="Pseudonymise personal data of cycles closed more than this many years ago.",
)
@click.option("--dry-run", is_flag=True, help="Count what would change, without changing anything.")
@click.option(
    "--owner-url",
    default=None,
    help="Database URL of the tables' owner (default RETENTION_DATABASE_URL, else the app's own): "
    "only the owner may rewrite the append-only activity log.",
)
def retention_command(years: int, dry_run: bool, owner_url: str | None) -> None:
    """Pseudonymise names, emails and sign-in addresses older than the retention period; keep every answer."""
    from sqlalchemy import create_engine, insert
    from sqlalchemy.exc import DBAPIError

    from surveyapp.activity.models import ActivityRecord
    from surveyapp.extensions import db
    from surveyapp.retention.services import pseudonymise
    from surveyapp.timeutil import utcnow

    url = owner_url or os.environ.get("RETENTION_DATABASE_URL") or current_app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.rollback()  # the app's own session holds no transaction while the owner's runs
    engine = create_engine(url)
    now = utcnow()
    try:
        with engine.begin() as connection:
            report = pseudonymise(
                connection, secret=current_app.config["SECRET_KEY"], older_than_years=years, now=now, dry_run=dry_run
            )
            if not dry_run:
                connection.execute(
                    insert(ActivityRecord).values(
                        at=now,
                        action="data.retention_applied",
                        detail={"older_than_years": years, "cycles": report.cycles, **report.counts},
                    )
                )
    except DBAPIError as exc:
        raise click.ClickException(
            "Nothing was changed: the database refused the change. Run this as the owner of the tables "
            f"(--owner-url or RETENTION_DATABASE_URL). The database said: {exc.orig}"
        ) from None
    finally:
        engine.dispose()
    verb = "Would pseudonymise" if dry_run else "Pseudonymised"
    cycles = ", ".join(report.cycles) or "none"
    click.echo(f"{verb} personal data older than {report.cutoff:%-d %B %Y} (cycles closed before then: {cycles}):")
    for line in report.lines():
        click.echo(line)
    if dry_run:
        click.echo("Dry run: nothing was changed.")
