"""The lead's register of establishments and trusts, and the web imports."""
from __future__ import annotations

from flask import Blueprint, render_template

from surveyapp.auth.permissions import lead_required

bp = Blueprint("establishments", __name__, url_prefix="/establishments")


@bp.get("/")
@lead_required
def list_establishments():
    """List the register."""
    return render_template("establishments/list.html")
