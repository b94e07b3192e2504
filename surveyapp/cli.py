"""The `surveyapp` command: everything an administrator scripts.

The command names and options are a contract other tools call; keep them.
Each command validates in full, then writes in one transaction.
"""

from __future__ import annotations

import json
import sys
from datetime import date

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from surveyapp.extensions import db
from surveyapp.transaction import commits


def _create_app():
    from surveyapp import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def main() -> None:
    """Safeguarding self-audits for local authorities, schools and trusts."""


def cycle_called(slug: str):
    """The cycle with this short name, or the command stops with a message saying there is none."""
    from surveyapp.audits.services import cycle_by_slug

    cycle = cycle_by_slug(slug)
    if cycle is None:
        raise click.ClickException(f'There is no cycle called "{slug}"')
    return cycle


def fail(message: str) -> None:
    """Roll back, print the reason and exit non-zero."""
    db.session.rollback()
    click.echo(message, err=True)
    sys.exit(1)


# --- users -----------------------------------------------------------------------------

users = AppGroup("users", help="Accounts: leads, board viewers, contacts.")


@users.command("create-lead")
@click.argument("email")
@click.option("--name", default="", help="The lead's full name.")
@commits
def create_lead(email: str, name: str) -> None:
    """Create an LA lead account and print a single-use link to set its password."""
    from surveyapp.activity.services import record
    from surveyapp.auth.invitations import invitation_link
    from surveyapp.auth.models import Role
    from surveyapp.auth.services import AccountError, create_user

    try:
        user = create_user(email, Role.LEAD, name)
    except AccountError as exc:
        fail(str(exc))
    link = invitation_link(user)
    record("user.created", None, email=user.email, role=user.role.value, via="cli")
    click.echo(f"Created lead {user.email}. Set the password within {current_app.config['INVITATION_HOURS']} hours at:")
    click.echo(link)


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["lead", "board", "dsl", "trust_lead"]), required=True)
@click.option("--name", default="")
@commits
def create_any(email: str, role: str, name: str) -> None:
    """Create an account of any role and print its single-use set-password link."""
    from surveyapp.activity.services import record
    from surveyapp.auth.invitations import invitation_link
    from surveyapp.auth.models import Role
    from surveyapp.auth.services import AccountError, create_user

    try:
        user = create_user(email, Role(role), name)
    except AccountError as exc:
        fail(str(exc))
    link = invitation_link(user)
    record("user.created", None, email=user.email, role=role, via="cli")
    click.echo(link)


@commits
def _set_enabled(email: str, enabled: bool) -> None:
    from surveyapp.auth.services import AccountError, find_user, set_enabled

    user = find_user(email)
    if user is None:
        fail(f"There is no account for {email}")
    try:
        changed = set_enabled(user, enabled, None)
    except AccountError as exc:
        fail(str(exc))
    state = "enabled" if enabled else "disabled"
    click.echo(f"{user.email} is {state}." if changed else f"{user.email} was already {state}; nothing changed.")


@users.command("disable")
@click.argument("email")
def disable_user_command(email: str) -> None:
    """Disable an account: every session ends at its next request; past answers keep the person's name."""
    _set_enabled(email, False)


@users.command("enable")
@click.argument("email")
def enable_user_command(email: str) -> None:
    """Re-enable a disabled account."""
    _set_enabled(email, True)


# --- templates -------------------------------------------------------------------------

templates = AppGroup("templates", help="Audit templates (versioned question sets).")


@templates.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--new-version", is_flag=True, help="If this version is published or in use, store the file as the next version."
)
@commits
def load_template_command(path: str, new_version: bool) -> None:
    """Load a template definition from a JSON (or YAML) FILE.

    Only a version that is neither published nor in use is replaced; any other is frozen.
    """
    from surveyapp.activity.services import record
    from surveyapp.audits.definitions import (
        DefinitionError,
        TemplateFrozen,
        TemplatePublished,
        load_template,
        read_definition_file,
    )

    try:
        template, outcome = load_template(read_definition_file(path), new_version=new_version)
    except DefinitionError as exc:
        fail(f"{path} is not a valid template:\n" + "\n".join(f"  {p}" for p in exc.problems))
    except TemplatePublished as exc:
        fail(
            f"{exc} Nothing was changed. To store the file as the next version, run:\n"
            f"  surveyapp templates load {path} --new-version"
        )
    except TemplateFrozen as exc:
        fail(str(exc))
    record("template.loaded", None, key=template.key, version=template.version, outcome=outcome)
    click.echo(f"{template.key} version {template.version}: {outcome} ({len(template.questions)} questions)")


@templates.command("export")
@click.argument("key")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--version", "version", type=int, default=None, help="The version to export (default: the live one).")
def export_template_command(key: str, path: str, version: int | None) -> None:
    """Write a template version to a JSON FILE that `templates load` reads back unchanged."""
    from pathlib import Path

    from surveyapp.audits.editor import export_text, template_version

    template = template_version(key, version)
    if template is None:
        fail(
            (f'There is no version {version} of template "{key}"' if version else f'There is no template "{key}"')
            + ". See: surveyapp templates list"
        )
    Path(path).write_text(export_text(template.definition), encoding="utf-8")
    click.echo(f"Wrote {key} version {template.version} to {path} ({len(template.questions)} questions)")


@templates.command("list")
def list_templates() -> None:
    """List the templates and their versions."""
    from sqlalchemy import select

    from surveyapp.audits.models import AuditTemplate

    for template in db.session.scalars(select(AuditTemplate).order_by(AuditTemplate.key, AuditTemplate.version)):
        frozen = " (in use, frozen)" if template.is_frozen else " (published, frozen)" if template.published else ""
        click.echo(
            f"{template.key}\tv{template.version}\t{len(template.questions)} questions\t{template.title}{frozen}"
        )


# --- cycles ----------------------------------------------------------------------------

cycles = AppGroup("cycles", help="Yearly audit cycles.")


@cycles.command("open")
@click.option("--slug", required=True, help="Short unique name, e.g. 2026-27.")
@click.option("--name", default="", help="Title shown to schools.")
@click.option("--template", "template_key", required=True, help="Template key; its latest version is used.")
@click.option("--due", "due", required=True, help="Due date, YYYY-MM-DD.")
@click.option("--opens", "opens", default=None, help="Opening date, YYYY-MM-DD (default today).")
@click.option("--type", "types", multiple=True, help="Only establishments of this type (repeatable).")
@click.option("--phase", "phases", multiple=True, help="Only establishments of this phase (repeatable).")
@click.option("--draft", is_flag=True, help="Keep it as a draft, unseen by schools, until `cycles launch`.")
@commits
def open_cycle_command(slug, name, template_key, due, opens, types, phases, draft) -> None:
    """Open a cycle: one assignment per open establishment in scope."""
    from surveyapp.audits.definitions import latest_template
    from surveyapp.audits.services import CycleError, open_cycle

    template = latest_template(template_key)
    if template is None:
        fail(f'There is no template "{template_key}". Load it first with: surveyapp templates load FILE')
    try:
        due_on = date.fromisoformat(due)
        opens_on = date.fromisoformat(opens) if opens else None
    except ValueError:
        fail("Dates must be written YYYY-MM-DD, e.g. 2027-03-31")
    try:
        cycle = open_cycle(
            slug=slug,
            name=name,
            template=template,
            due_on=due_on,
            opens_on=opens_on,
            types=list(types),
            phases=list(phases),
            draft=draft,
        )
    except CycleError as exc:
        fail(str(exc))
    count = sum(1 for a in cycle.assignments if a.establishment_id)
    trusts = sum(1 for a in cycle.assignments if a.trust_id)
    made = "Drafted" if draft else "Opened"
    click.echo(f"{made} {cycle.slug}: {count} establishments and {trusts} trusts, due {cycle.due_on.isoformat()}")


def _cycle_or_fail(slug: str):
    from surveyapp.audits.services import cycle_by_slug

    cycle = cycle_by_slug(slug)
    if cycle is None:
        fail(
            f'There is no cycle "{slug}". '
            "See them with the lead's Cycles page, or open one with: surveyapp cycles open"
        )
    return cycle


@commits
def _change_cycle(slug: str, change, done: str) -> None:
    from surveyapp.audits.lifecycle import LifecycleError

    cycle = _cycle_or_fail(slug)
    try:
        change(cycle)
    except LifecycleError as exc:
        fail(str(exc))
    click.echo(done.format(slug=cycle.slug, due=cycle.due_on.isoformat()))


@cycles.command("close")
@click.option("--slug", required=True, help="The cycle, e.g. 2025-26.")
@click.option("--reason", default="", help="Why, kept in the activity log.")
def close_cycle_command(slug: str, reason: str) -> None:
    """Close an open cycle: respondents can read their returns but no longer change them."""
    from surveyapp.audits import lifecycle

    _change_cycle(slug, lambda cycle: lifecycle.close(cycle, None, reason), "Closed {slug}.")


@cycles.command("reopen")
@click.option("--slug", required=True, help="The cycle, e.g. 2025-26.")
@click.option("--reason", required=True, help="Why it is reopened, kept in the activity log.")
def reopen_cycle_command(slug: str, reason: str) -> None:
    """Reopen a closed or archived cycle."""
    from surveyapp.audits import lifecycle

    _change_cycle(slug, lambda cycle: lifecycle.reopen(cycle, None, reason), "Reopened {slug}, due {due}.")


@cycles.command("extend")
@click.option("--slug", required=True, help="The cycle, e.g. 2026-27.")
@click.option("--due", required=True, help="The new due date, YYYY-MM-DD.")
@click.option("--urn", default=None, help="Agree the extension with this establishment alone.")
def extend_cycle_command(slug: str, due: str, urn: str | None) -> None:
    """Move a cycle's due date, or (with --urn) agree an extension with one establishment."""
    from sqlalchemy import select

    from surveyapp.audits import lifecycle
    from surveyapp.establishments.models import Establishment

    try:
        due_on = date.fromisoformat(due)
    except ValueError:
        fail("Dates must be written YYYY-MM-DD, e.g. 2027-04-30")
    establishment = None
    if urn:
        establishment = db.session.scalar(select(Establishment).where(Establishment.urn == urn.strip()))
        if establishment is None:
            fail(f"There is no establishment with URN {urn} in the register")
    done = (
        f"{establishment.name} (URN {establishment.urn}) is due on {due_on.isoformat()} in {{slug}}."
        if establishment
        else "{slug} is now due on {due}."
    )
    _change_cycle(slug, lambda cycle: lifecycle.extend(cycle, due_on, None, establishment), done)


@cycles.command("launch")
@click.option("--slug", required=True, help="The draft cycle, e.g. 2026-27.")
def launch_cycle_command(slug: str) -> None:
    """Open a draft cycle to its establishments."""
    from surveyapp.audits import lifecycle

    _change_cycle(slug, lambda cycle: lifecycle.launch(cycle, None), "{slug} is open to its establishments.")


@cycles.command("archive")
@click.option("--slug", required=True, help="The closed cycle, e.g. 2023-24.")
def archive_cycle_command(slug: str) -> None:
    """Archive a closed cycle (it stays readable)."""
    from surveyapp.audits import lifecycle

    _change_cycle(slug, lambda cycle: lifecycle.archive(cycle, None), "Archived {slug}.")


def register(app: Flask) -> None:
    from surveyapp.audits.cli import responses
    from surveyapp.establishments.cli import contacts, establishments
    from surveyapp.retention.cli import data

    for group in (users, templates, cycles, establishments, contacts, responses, data):
        app.cli.add_command(group)
    app.cli.add_command(demo_command)
    _register_backup(app)
    from surveyapp.analysis.cli import analysis_command
    from surveyapp.chasing.cli import reminders

    app.cli.add_command(analysis_command)
    app.cli.add_command(reminders)
    from surveyapp.actions.cli import register as register_action_commands

    register_action_commands(app)  # actions generate
    from surveyapp.exports.cli import export_command

    app.cli.add_command(export_command)
    from surveyapp.activity_log.cli import activity

    app.cli.add_command(activity)
    from surveyapp.reports.cli import report_command

    app.cli.add_command(report_command)
    from surveyapp.jobs.cli import jobs, worker_command

    app.cli.add_command(worker_command)
    app.cli.add_command(jobs)


def _register_backup(app: Flask) -> None:
    """`surveyapp db backup DEST`, beside Flask-Migrate's db commands."""
    from flask_migrate.cli import db as db_group

    if "backup" in db_group.commands:
        return

    @db_group.command("backup")
    @click.argument("destination", type=click.Path(dir_okay=False))
    @with_appcontext
    def backup_command(destination: str) -> None:
        """Take a consistent backup of the live SQLite database into DESTINATION."""
        from surveyapp.backup import BackupError, backup_sqlite

        try:
            path = backup_sqlite(current_app.config["SQLALCHEMY_DATABASE_URI"], destination)
        except BackupError as exc:
            fail(str(exc))
        click.echo(f"Backed up to {path} ({path.stat().st_size:,} bytes)")


@click.command("demo")
@click.option("--reset", is_flag=True, help="Empty the database first.")
@with_appcontext
@commits
def demo_command(reset: bool) -> None:
    """Fill the database with a demo local authority (about 400 establishments in 20 trusts)."""
    from surveyapp.demo import build_demo

    sign_ins = build_demo(reset=reset)
    click.echo(json.dumps(sign_ins, indent=2))
