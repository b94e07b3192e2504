"""The home page (which sends each role to its own start), static pages and GOV.UK assets."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, send_from_directory, url_for
from flask_login import current_user

from surveyapp.policy import Capability as C, may, public

bp = Blueprint("main", __name__)


@bp.get("/")
@public
def home():
    """Send each user to where their work starts."""
    if not current_user.is_authenticated:
        return render_template("main/start.html")
    if may(current_user, C.READ_LA_FIGURES):
        return redirect(url_for("manage.list_cycles"))
    return redirect(url_for("audits.list_audits"))


@bp.get("/assets/<path:filename>")
@public
def govuk_assets(filename: str):
    """Serve GOV.UK Frontend's fonts and images where its CSS expects them."""
    return send_from_directory(current_app.static_folder + "/govuk/assets", filename, max_age=86400)


@bp.get("/council.css")
@public
def council_css():
    """Serve the council's colour as a style sheet (the Content-Security-Policy forbids inline styles)."""
    colour = current_app.config["COUNCIL_COLOUR"]  # checked as #rrggbb when the settings were read
    body = f":root {{ --app-council-colour: {colour}; }}\n"
    return Response(body, mimetype="text/css", headers={"Cache-Control": "public, max-age=3600"})


@bp.get("/accessibility")
@public
def accessibility():
    """Show the accessibility statement."""
    return render_template("main/accessibility.html")


@bp.get("/privacy")
@public
def privacy():
    """Show the privacy notice."""
    return render_template("main/privacy.html")


@bp.get("/healthz")
@public
def healthz():
    """Report that the app is up (for load balancers)."""
    return {"status": "ok"}
