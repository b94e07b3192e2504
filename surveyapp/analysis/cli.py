"""`surveyapp analysis`: a cycle's completion and gap figures for other tools (JSON) or people (text)."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext


@click.command("analysis")
@click.option("--cycle", "slug", required=True, help="The cycle's short name, e.g. 2026-27.")
@click.option("--format", "output", type=click.Choice(["json", "text"]), default="text", show_default=True)
@with_appcontext
def analysis_command(slug: str, output: str) -> None:
    """Print a cycle's completion, coverage, gaps and year on year figures."""
    from surveyapp.analysis import figures, formatting
    from surveyapp.analysis.loading import load_with_previous
    from surveyapp.audits.services import cycle_by_slug

    cycle = cycle_by_slug(slug)
    if cycle is None:
        click.echo(f'There is no cycle called "{slug}".', err=True)
        sys.exit(1)
    current, previous = load_with_previous(cycle)
    analysis = figures.analyse(current, previous)
    if output == "json":
        click.echo(json.dumps(formatting.to_json(analysis), indent=2, ensure_ascii=False))
    else:
        click.echo(formatting.to_text(analysis), nl=False)
