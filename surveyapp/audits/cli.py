"""`surveyapp responses` commands."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from surveyapp.csvfiles import ImportFailed
from surveyapp.extensions import db

responses = AppGroup("responses", help="Responses: import earlier years' returns.")


@responses.command("import")
@click.option("--cycle", "slug", required=True, help="The cycle the returns belong to, e.g. 2024-25.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change, without changing anything.")
def import_responses_command(slug: str, path: str, dry_run: bool) -> None:
    """Import earlier years' returns (CSV: URN or Trust UID, Submitted, one column per question key)."""
    from surveyapp.audits.importer import apply_responses, plan_responses
    from surveyapp.audits.services import cycle_by_slug
    from surveyapp.cli import fail

    cycle = cycle_by_slug(slug)
    if cycle is None:
        fail(f'There is no cycle "{slug}". Open it first with: surveyapp cycles open')
    from surveyapp.progress import shown

    try:
        plan = plan_responses(cycle, Path(path))
    except ImportFailed as exc:
        count = len(exc.problems)
        fail(f"{path} was not imported ({count} problem{'s' if count != 1 else ''}); nothing was changed:\n"
             + "\n".join(f"  {problem}" for problem in exc.problems))
    if dry_run:
        plan.close()
        click.echo(f"Dry run of {path} into {cycle.slug}: {plan.summary()}. Nothing was changed.")
        return
    with shown("Writing answers", unit="answers") as progress:
        apply_responses(plan, actor=None, filename=Path(path).name, progress=progress)
    db.session.commit()
    click.echo(f"Imported {path} into {cycle.slug}: {plan.summary()}.")
