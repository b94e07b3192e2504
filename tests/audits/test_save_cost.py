"""A section save costs a fixed handful of statements, whatever the size of the audit.

On deadline day hundreds of DSLs save at once; each reload of the template or the response
after the save is a round trip per table that every one of them pays.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from sqlalchemy import event, select

from surveyapp.audits.models import Assignment, Response
from surveyapp.extensions import db

TEMPLATE = json.loads(
    (Path(__file__).resolve().parents[2] / "surveyapp" / "audit_templates" / "s175-schools.json").read_text()
)


def _answers(section: dict) -> dict[str, str]:
    form: dict[str, str] = {}
    for question in section["questions"]:
        key, kind = question["key"], question["type"]
        if kind == "date":
            form.update({f"{key}-day": "1", f"{key}-month": "9", f"{key}-year": "2026"})
        elif kind == "choice":
            form[key] = question["options"][0]["value"]
        else:
            form[key] = {"number": "3", "percentage": "100", "text": "Noted"}.get(kind, "yes")
    return form


def _count_statements(app, action) -> tuple[object, list[str]]:
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    # Start from an empty session, as every real request does (the test's app context would otherwise
    # keep rows from the previous request, and what that request committed decides what is still loaded).
    db.session.remove()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        result = action()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return result, statements


def test_saving_a_section_reloads_nothing_after_the_save(app, client, make, sign_in):
    school = make.establishment()
    dsl = make.dsl(school)
    make.cycle(template=make.template(TEMPLATE))
    response_id = db.session.scalar(
        select(Response.id).join(Assignment).where(Assignment.establishment_id == school.id)
    )
    db.session.commit()
    sign_in(dsl)

    costs = []
    for version, section in ((0, TEMPLATE["sections"][0]), (0, TEMPLATE["sections"][-1]), (1, TEMPLATE["sections"][0])):
        form = {"version": str(version), **_answers(section)}
        reply, statements = _count_statements(
            app, partial(client.post, f"/audits/{response_id}/sections/{section['key']}", data=form)
        )
        assert reply.status_code == 302, reply.get_data(as_text=True)[:500]
        costs.append(len(statements))
        # The template (sections and questions) is read once for the page, not again after saving.
        assert sum("FROM template_questions" in s for s in statements) == 1, statements

    # The first save of the audit also creates the section's progress row and moves the audit to
    # "in progress"; later saves only write answers. Reloading the audit after every step cost 38.
    # Each counts the signed-in user's row too, read at the start of every real request.
    first, other_section, again = costs
    assert first <= 27, costs
    assert other_section <= 24 and again <= 21, costs
