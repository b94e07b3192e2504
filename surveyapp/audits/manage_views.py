"""The lead's side of audits: templates, cycles and reviewing returns."""
from __future__ import annotations

from flask import Blueprint, render_template

from surveyapp.auth.models import Role
from surveyapp.auth.permissions import roles_required

bp = Blueprint("manage", __name__)


@bp.get("/cycles")
@roles_required(Role.LEAD, Role.BOARD)
def list_cycles():
    """List the cycles."""
    return render_template("manage/cycles.html")
