"""`surveyapp establishments` and `surveyapp contacts` commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from surveyapp.csvfiles import ImportFailed
from surveyapp.extensions import db
from surveyapp.transaction import commit_now

establishments = AppGroup("establishments", help="The register of schools and settings (GIAS).")
contacts = AppGroup("contacts", help="DSLs, deputies and trust safeguarding leads.")


def _refuse(path: str, exc: ImportFailed) -> None:
    from surveyapp.cli import fail

    count = len(exc.problems)
    fail(
        f"{path} was not imported ({count} problem{'s' if count != 1 else ''}); nothing was changed:\n"
        + "\n".join(f"  {problem}" for problem in exc.problems)
    )


def _commit_or_fail() -> None:
    """The import's one commit, which a concurrent change of the register can refuse."""
    from surveyapp.cli import fail

    try:
        commit_now()
    except IntegrityError:
        fail("The register changed while the file was being imported; nothing was changed. Run the import again.")


def _flag_formula_like(flags) -> None:
    """Name the values a spreadsheet would read as formulas (imported as given; exports show them as text)."""
    if not flags:
        return
    click.echo(
        f"{len(flags)} value{'s' if len(flags) != 1 else ''} look like spreadsheet formulas; they are "
        "imported as given and every export shows them as text:"
    )
    for flag in flags[:20]:
        click.echo(f"  line {flag.line}, column {flag.column}: {flag.reason.split(' starts with')[0]}")


@establishments.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change, without changing anything.")
def import_establishments_command(path: str, dry_run: bool) -> None:
    """Import a GIAS establishment extract (CSV): add new establishments, update the rest by URN."""
    from surveyapp.establishments.importer import apply_establishments, plan_establishments
    from surveyapp.establishments.services import hold_register
    from surveyapp.establishments.signals import consequences_of_register_import, preview_register_import

    if not dry_run:
        hold_register()  # no web import writes between this plan and its import
    try:
        plan = plan_establishments(Path(path).read_bytes())
    except ImportFailed as exc:
        _refuse(path, exc)
    _flag_formula_like(plan.formula_like)
    if dry_run:
        in_cycles = preview_register_import(lambda: apply_establishments(plan, actor=None, filename=Path(path).name))
        click.echo(f"Dry run of {path}: {plan.summary()}. Nothing was changed.")
        for record in plan.new[:10]:
            click.echo(f"  new: {record.urn} {record.name}")
        for change in plan.updated[:10]:
            click.echo(
                f"  updated: {change.record.urn} {change.record.name}: "
                + "; ".join(f"{c.label} {c.old!r} -> {c.new!r}" for c in change.changes)
            )
        _echo_cycle_changes(in_cycles, "would")
        return
    apply_establishments(plan, actor=None, filename=Path(path).name)
    in_cycles = consequences_of_register_import(None)
    _commit_or_fail()
    click.echo(f"Imported {path}: {plan.summary()}.")
    _echo_cycle_changes(in_cycles, "did")


def _echo_cycle_changes(in_cycles, mood: str) -> None:
    """Say what the import does to running audit cycles: who joins, who leaves the counts, whose cover moves."""
    for change in in_cycles:
        click.echo(f"In {change.summary()}" if mood == "did" else f"In {change.summary()} (would)")
        for name, urn in change.joined[:10]:
            click.echo(f"  joins: {urn} {name}")
        for name, urn, day in change.left[:10]:
            click.echo(f"  leaves the counts from {day.isoformat()} (closed): {urn} {name}")
        for name, urn, old, new in change.moved[:10]:
            click.echo(f"  moves from {old or 'no trust'} to {new or 'no trust'}: {urn} {name}")


@contacts.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--invite", is_flag=True, help="Email an invitation to each contact who has not set a password yet.")
@click.option("--sync", is_flag=True, help="Make the links match the file: links missing from it are removed.")
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change, without changing anything.")
def import_contacts_command(path: str, invite: bool, dry_run: bool, sync: bool) -> None:
    """Import contacts (CSV: URN or Trust UID, Name, Email, Role) and link them to their establishments and trusts."""
    from surveyapp.establishments.importer import apply_contacts, plan_contacts, send_invitations
    from surveyapp.establishments.services import hold_register

    if not dry_run:
        hold_register()  # no web import writes between this plan and its import
    try:
        plan = plan_contacts(Path(path).read_bytes(), sync=sync)
    except ImportFailed as exc:
        _refuse(path, exc)
    _flag_formula_like(plan.formula_like)
    if dry_run:
        click.echo(f"Dry run of {path}: {plan.summary()}. Nothing was changed.")
        for removed in plan.removed_links:  # removals first: they are what a sync can lose
            click.echo(f"  would remove: {removed.email} from {removed.where}")
        if invite:
            click.echo(f"{len(plan.without_password)} people would be sent an invitation.")
        return
    result = apply_contacts(plan, actor=None, filename=Path(path).name)
    _commit_or_fail()
    click.echo(f"Imported {path}: {plan.summary()}.")
    if not invite:
        return
    report = send_invitations(result.to_invite, invited_by="your local authority", commit=db.session.commit)
    click.echo(f"Invitations sent: {len(report.sent)}.")
    if report.failed:
        click.echo(f"Invitations that could not be sent ({len(report.failed)}); the contacts were imported:", err=True)
        for email, reason in report.failed:
            click.echo(f"  {email}: {reason}", err=True)
        raise SystemExit(1)
