"""`surveyapp activity export`: a cycle's audit trail as CSV or xlsx."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.transaction import commits

activity = AppGroup("activity", help="The activity log (append-only audit trail).")


@activity.command("export")
@click.option("--cycle", "slug", required=True, help="The cycle's short name, e.g. 2026-27.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="FILE.csv or FILE.xlsx; the ending chooses the format.",
)
@commits
def export_command(slug: str, out: str) -> None:
    """Write everything recorded against a cycle (saves, returns, reminders...) to a CSV or xlsx file, oldest first."""
    from surveyapp.activity.services import ActivityFilters, record
    from surveyapp.activity_log import export
    from surveyapp.activity_log.query import activity_query
    from surveyapp.audits.models import Cycle

    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise click.UsageError("--out must end in .csv or .xlsx")
    cycle = db.session.scalar(select(Cycle).where(Cycle.slug == slug))
    if cycle is None:
        raise click.ClickException(f'There is no cycle called "{slug}"')
    query = activity_query(ActivityFilters(cycle=slug))
    partial = path.with_name(path.name + ".partial")  # never leave a half-written file under the final name
    if suffix == ".csv":
        with open(partial, "w", newline="", encoding="utf-8-sig") as handle:
            count = export.write_csv(db.session, query, handle)
    else:
        count = export.write_xlsx(db.session, query, str(partial))
    partial.replace(path)
    record("activity.exported", None, cycle_id=cycle.id if cycle else None, format=suffix[1:], records=count, via="cli")
    click.echo(f"Wrote {path}: {count} records for {cycle.slug}")
