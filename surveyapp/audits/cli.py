"""`surveyapp responses` commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from surveyapp.csvfiles import ImportFailed
from surveyapp.extensions import db
from surveyapp.transaction import commits

responses = AppGroup("responses", help="Responses: import earlier years' returns.")


@responses.command("import")
@click.option("--cycle", "slug", required=True, help="The cycle the returns belong to, e.g. 2024-25.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change, without changing anything.")
@click.option(
    "--template",
    "template_key",
    default=None,
    help="With --due: create the cycle, closed, if it does not exist (an earlier year's audit).",
)
@click.option("--template-version", type=int, default=None, help="The template version it used (default the latest).")
@click.option("--due", default=None, help="The historic cycle's due date, YYYY-MM-DD.")
@click.option("--name", default="", help="The historic cycle's title (default the slug).")
@commits
def import_responses_command(
    slug: str,
    path: str,
    dry_run: bool,
    template_key: str | None,
    template_version: int | None,
    due: str | None,
    name: str,
) -> None:
    """Import earlier years' returns (CSV: URN or Trust UID, Submitted, one column per question key).

    Only the establishments and trusts in the file get a place in the cycle, so a school that was not in
    that year's audit never sees it as "Not started".
    """
    from surveyapp.audits.importer import apply_responses, plan_responses
    from surveyapp.audits.services import cycle_by_slug
    from surveyapp.cli import fail

    cycle = cycle_by_slug(slug)
    created = False
    if cycle is None:
        if not (template_key and due):
            fail(
                f'There is no cycle "{slug}". Open it first with: surveyapp cycles open, or give --template and '
                "--due to create it as a closed cycle of an earlier year holding only the returns in the file"
            )
        cycle = _historic_cycle(slug, name, template_key, template_version, due)
        created = True
    from surveyapp.progress import shown

    try:
        plan = plan_responses(cycle, Path(path))
    except ImportFailed as exc:
        count = len(exc.problems)
        fail(
            f"{path} was not imported ({count} problem{'s' if count != 1 else ''}); nothing was changed:\n"
            + "\n".join(f"  {problem}" for problem in exc.problems)
        )
    made = (
        f" (a new closed cycle of {plan.cycle.template.title}, version {plan.cycle.template.version})"
        if created
        else ""
    )
    if dry_run:
        plan.close()
        db.session.rollback()
        click.echo(f"Dry run of {path} into {slug}{made}: {plan.summary()}. Nothing was changed.")
        return
    with shown("Writing answers", unit="answers") as progress:
        apply_responses(plan, actor=None, filename=Path(path).name, progress=progress)
    click.echo(f"Imported {path} into {cycle.slug}{made}: {plan.summary()}.")


def _historic_cycle(slug: str, name: str, template_key: str, template_version: int | None, due: str):
    from datetime import date

    from sqlalchemy import select

    from surveyapp.audits.definitions import latest_template
    from surveyapp.audits.lifecycle import create_historic_cycle
    from surveyapp.audits.models import AuditTemplate
    from surveyapp.audits.services import CycleError
    from surveyapp.cli import fail

    if template_version is None:
        template = latest_template(template_key)
    else:
        template = db.session.scalar(
            select(AuditTemplate).where(AuditTemplate.key == template_key, AuditTemplate.version == template_version)
        )
    if template is None:
        fail(
            f'There is no template "{template_key}"'
            + (f" version {template_version}" if template_version else "")
            + ". Load it first with: surveyapp templates load FILE"
        )
    try:
        due_on = date.fromisoformat(due)
    except ValueError:
        fail("Dates must be written YYYY-MM-DD, e.g. 2024-03-31")
    try:
        return create_historic_cycle(slug=slug, name=name, template=template, due_on=due_on)
    except CycleError as exc:
        fail(str(exc))
