"""`surveyapp report`: write a cycle's committee report as Word, PDF or HTML."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("report")
@click.option("--cycle", "slug", required=True, help="The cycle's short name, e.g. 2026-27.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="The file to write: its ending (.docx, .pdf or .html) chooses the format.",
)
@with_appcontext
def report_command(slug: str, out: str) -> None:
    """Write a cycle's committee report (purpose, completion, requirements, year on year, chasing, actions)."""
    from surveyapp.audits.services import cycle_by_slug
    from surveyapp.extensions import db
    from surveyapp.reports.content import build_report
    from surveyapp.reports.writers import FORMATS, write_report

    kind = Path(out).suffix.lower().lstrip(".")
    if kind not in FORMATS:
        click.echo(f'Cannot write "{out}": the file must end in .docx, .pdf or .html.', err=True)
        sys.exit(2)
    cycle = cycle_by_slug(slug)
    if cycle is None:
        click.echo(f'There is no cycle called "{slug}".', err=True)
        sys.exit(1)
    report = build_report(db.session, cycle, current_app.config["COUNCIL_NAME"])
    write_report(report, kind, out)
    click.echo(f"Wrote the committee report for {cycle.slug} to {out}")
