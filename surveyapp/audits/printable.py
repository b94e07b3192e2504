"""A returned audit as a printable document (PDF), for the school's governors and the LA's file.

A view helper (it renders a template): the permission checks stay in the routes that call it.
"""

from __future__ import annotations

import io

from flask import abort, render_template, send_file
from sqlalchemy import select

from surveyapp.audits import services
from surveyapp.audits.models import Response, TrustCoverage
from surveyapp.establishments.models import Establishment
from surveyapp.extensions import db
from surveyapp.pdf import html_to_pdf
from surveyapp.timeutil import utcnow


def return_context(response: Response) -> dict:
    """What the printable return shows: the effective answers, the sign-off, what the trust answered."""
    trust_response = services.covering_trust_response(response)
    if trust_response is not None and not trust_response.status.is_returned_to_la:
        trust_response = None  # a trust's answers count only once its return is with the LA
    groups = services.effective_answers(response, trust_response)
    from_trust = [(group.section, [item for item in group.answers if item.from_trust]) for group in groups]
    covered = []
    if response.assignment.trust_id is not None:
        covered = db.session.scalars(
            select(Establishment)
            .join(TrustCoverage, TrustCoverage.establishment_id == Establishment.id)
            .where(TrustCoverage.response_id == response.id)
            .order_by(Establishment.name)
        ).all()
    return {
        "response": response,
        "groups": groups,
        "trust_response": trust_response,
        "trust_sections": [(section, items) for section, items in from_trust if items],
        "covered": covered,
        "printed_at": utcnow(),
    }


def return_pdf(response: Response):
    """The PDF download of a returned (submitted or accepted) response; 404 for one not yet returned."""
    if not response.status.is_returned_to_la:
        abort(404)
    pdf = html_to_pdf(render_template("audits/return_pdf.html", **return_context(response)))
    return send_file(
        io.BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{response.reference or 'audit-' + str(response.id)}.pdf",
    )
