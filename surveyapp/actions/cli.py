"""`surveyapp actions generate`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from surveyapp.cli import cycle_called
from surveyapp.transaction import commits

actions = AppGroup("actions", help="Action plans.")


@actions.command("generate")
@click.option("--cycle", "slug", required=True)
@commits
def generate_command(slug: str) -> None:
    """Add the missing actions for every returned response in a cycle (safe to run again)."""
    from surveyapp.actions.services import generate_for_cycle

    cycle = cycle_called(slug)
    added = generate_for_cycle(cycle)
    click.echo(f"Added {added} actions to {cycle.slug}")


def register(app: Flask) -> None:
    app.cli.add_command(actions)
