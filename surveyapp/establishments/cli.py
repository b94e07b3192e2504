"""`surveyapp establishments` and `surveyapp contacts` commands."""
from __future__ import annotations

import click
from flask.cli import AppGroup

establishments = AppGroup("establishments", help="The register of schools and settings (GIAS).")
contacts = AppGroup("contacts", help="DSLs, deputies and trust safeguarding leads.")
