"""A DSL's or trust lead's audits: task list, sections, check answers, sign-off and submit."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("audits", __name__, url_prefix="/audits")


@bp.get("/")
@login_required
def list_audits():
    """List the audits this user completes."""
    return render_template("audits/list.html")
