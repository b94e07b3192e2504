"""`surveyapp responses` commands."""
from __future__ import annotations

import click
from flask.cli import AppGroup

responses = AppGroup("responses", help="Responses: import earlier years' returns.")
