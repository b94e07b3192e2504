"""Every route, every method, every role: who may reach what.

The table below must name every endpoint in the app's URL map: a new route
fails this test until someone decides who may use it. Objects of another
school or trust must answer 404 (their existence is not revealed); pages of
another role answer 403; anonymous visitors are sent to sign in (302).
"""

from __future__ import annotations

from sqlalchemy import select

from surveyapp.audits.models import ResponseStatus
from surveyapp.auth.models import User
from surveyapp.extensions import db

ROLES = ("anonymous", "dsl", "deputy", "trust_lead", "board", "lead", "disabled")

# Expectation presets: role -> status for GET (POST uses the same with "ok" meaning "not refused").
OK = "ok"
PUBLIC = {role: OK for role in ROLES}
SIGNED_IN = {**{role: OK for role in ROLES}, "anonymous": 302, "disabled": 302}
LEAD_ONLY = {"anonymous": 302, "disabled": 302, "dsl": 403, "deputy": 403, "trust_lead": 403, "board": 403, "lead": OK}
READERS = {**LEAD_ONLY, "board": OK}
OWN_SCHOOL = {"anonymous": 302, "disabled": 302, "dsl": OK, "deputy": OK, "trust_lead": 404, "board": 404, "lead": 404}
OTHER_SCHOOL = {**OWN_SCHOOL, "dsl": 404, "deputy": 404}
TRUST_ACADEMY = {**OWN_SCHOOL, "dsl": 404, "deputy": 404, "trust_lead": OK}
OWN_TRUST = {**TRUST_ACADEMY}
OTHER_TRUST = {**TRUST_ACADEMY, "trust_lead": 404}
NO_SUCH_JOB = {**{role: 404 for role in ROLES}, "anonymous": 302, "disabled": 302}
REGISTER_JOB = {**NO_SUCH_JOB, "lead": OK}
ANON_ONLY_OK = PUBLIC  # sign-in, password pages: anyone may open them


def _cases(world):
    """(endpoint, method, url, expectations) for every route."""
    a, c, t, u = world["response_a"], world["response_c"], world["response_t"], world["response_u"]
    b = world["response_b"]
    cycle = world["cycle_slug"]
    cases = [
        ("main.home", "GET", "/", PUBLIC),
        ("main.accessibility", "GET", "/accessibility", PUBLIC),
        ("main.council_css", "GET", "/council.css", PUBLIC),
        ("main.privacy", "GET", "/privacy", PUBLIC),
        ("main.healthz", "GET", "/healthz", PUBLIC),
        ("main.govuk_assets", "GET", "/assets/images/favicon.ico", PUBLIC),
        ("static", "GET", "/static/app.css", PUBLIC),
        ("auth.sign_in", "GET", "/sign-in", PUBLIC),
        ("auth.forgot_password", "GET", "/forgot-password", PUBLIC),
        ("auth.set_password", "GET", "/set-password/not-a-real-token", {role: 404 for role in ROLES}),
        ("auth.list_users", "GET", "/users", LEAD_ONLY),
        ("auth.invite_user", "GET", "/users/invite", LEAD_ONLY),
        ("auth.disable_user", "POST", f"/users/{world['dsl_c_id']}/disable", LEAD_ONLY),
        ("auth.enable_user", "POST", f"/users/{world['dsl_c_id']}/enable", LEAD_ONLY),
        ("auth.resend_invitation", "POST", f"/users/{world['dsl_c_id']}/resend-invitation", LEAD_ONLY),
        ("audits.list_audits", "GET", "/audits/", SIGNED_IN),
        ("auth.enter_code", "GET", "/sign-in/code", {role: 302 for role in ROLES}),  # no password given yet
        ("auth.set_up_two_factor", "GET", "/account/two-factor", SIGNED_IN),
        ("auth.disable_two_factor", "POST", "/account/two-factor/disable", SIGNED_IN),
        ("auth.replace_two_factor", "POST", "/account/two-factor/replace", SIGNED_IN),
        ("auth.stay_signed_in", "POST", "/sign-in/stay", SIGNED_IN),
        ("auth.require_two_factor_for_everyone", "POST", "/users/two-factor-for-everyone", LEAD_ONLY),
    ]
    for endpoint, suffix, method in (
        ("audits.show_task_list", "/", "GET"),
        ("audits.edit_section", "/sections/policies", "GET"),
        ("audits.edit_section", "/sections/policies", "POST"),
        ("audits.check_answers", "/check", "GET"),
        ("audits.declaration", "/declaration", "GET"),
        ("audits.declaration", "/declaration", "POST"),
        ("audits.confirmation", "/confirmation", "GET"),
    ):
        cases.append((endpoint, method, f"/audits/{a}{suffix}", OWN_SCHOOL))
        cases.append((endpoint, method, f"/audits/{c}{suffix}", OTHER_SCHOOL))
        cases.append((endpoint, method, f"/audits/{b}{suffix}", TRUST_ACADEMY))
        cases.append((endpoint, method, f"/audits/{t}{suffix}", OWN_TRUST))
        cases.append((endpoint, method, f"/audits/{u}{suffix}", OTHER_TRUST))
    cases += [
        ("audits.download_return_pdf", "GET", f"/audits/{world['response_e']}/return.pdf", OWN_SCHOOL),
        ("audits.download_return_pdf", "GET", f"/audits/{a}/return.pdf", {**OWN_SCHOOL, "dsl": 404, "deputy": 404}),
        ("audits.download_return_pdf", "GET", f"/audits/{c}/return.pdf", OTHER_SCHOOL),
        ("manage.download_response_pdf", "GET", f"/cycles/{cycle}/responses/{c}/return.pdf", READERS),
        (
            "manage.download_response_pdf",
            "GET",
            f"/cycles/{cycle}/responses/{a}/return.pdf",
            {**READERS, "board": 404, "lead": 404},
        ),
        ("audits.choose_academies", "GET", f"/audits/{t}/academies", OWN_TRUST),
        ("audits.choose_academies", "POST", f"/audits/{u}/academies", OTHER_TRUST),
        ("manage.list_cycles", "GET", "/cycles", READERS),
        ("activity.list_activity", "GET", "/activity?action=response&urn=1", LEAD_ONLY),
        ("activity.list_activity", "GET", "/activity?cycle=no-such-cycle", {**LEAD_ONLY, "lead": 404}),
        # The audit trail names people, addresses and failed sign-ins: the lead's alone, not the board's.
        ("activity.download_activity", "GET", f"/activity.csv?cycle={cycle}", LEAD_ONLY),
        ("activity.download_activity", "GET", "/activity.xlsx?action=auth", LEAD_ONLY),
        ("manage.open_cycle", "GET", "/cycles/new", LEAD_ONLY),
        ("manage.show_cycle", "GET", f"/cycles/{cycle}/", READERS),
        ("manage.show_response", "GET", f"/cycles/{cycle}/responses/{a}", READERS),
        ("manage.accept_response", "POST", f"/cycles/{cycle}/responses/{c}/accept", LEAD_ONLY),
        ("manage.return_response", "POST", f"/cycles/{cycle}/responses/{c}/return", LEAD_ONLY),
        ("cycles.close_cycle", "GET", f"/cycles/{cycle}/close", LEAD_ONLY),
        ("cycles.reopen_cycle", "GET", f"/cycles/{cycle}/reopen", LEAD_ONLY),
        ("cycles.extend_cycle", "GET", f"/cycles/{cycle}/extend", LEAD_ONLY),
        ("cycles.close_cycle", "GET", "/cycles/no-such-cycle/close", {**LEAD_ONLY, "lead": 404}),
        # The world's cycle is open: launching or archiving it is refused with a message, changing nothing.
        ("cycles.launch_cycle", "POST", f"/cycles/{cycle}/launch", LEAD_ONLY),
        ("cycles.archive_cycle", "POST", f"/cycles/{cycle}/archive", LEAD_ONLY),
        ("manage.list_templates", "GET", "/templates", READERS),
        ("manage.show_template", "GET", f"/templates/{world['template_id']}", READERS),
        # The template editor: the lead's alone; board viewers read the published versions and download them.
        ("editor.export_template", "GET", f"/templates/{world['template_id']}.json", READERS),
        ("editor.new_template", "GET", "/templates/new", LEAD_ONLY),
        ("editor.new_template", "POST", "/templates/new", LEAD_ONLY),
        ("editor.start_draft", "GET", "/templates/mini/draft/new", LEAD_ONLY),  # a draft exists: sent to it
        ("editor.start_draft", "GET", "/templates/no-such-template/draft/new", {**LEAD_ONLY, "lead": 404}),
        ("editor.show_draft", "GET", "/templates/mini/draft", LEAD_ONLY),
        ("editor.show_draft", "GET", "/templates/no-such-template/draft", {**LEAD_ONLY, "lead": 404}),
        ("editor.edit_details", "GET", "/templates/mini/draft/details", LEAD_ONLY),
        ("editor.edit_details", "POST", "/templates/mini/draft/details", LEAD_ONLY),
        ("editor.add_section", "GET", "/templates/mini/draft/sections/new", LEAD_ONLY),
        ("editor.add_section", "POST", "/templates/mini/draft/sections/new", LEAD_ONLY),
        ("editor.edit_section", "GET", "/templates/mini/draft/sections/policies", LEAD_ONLY),
        ("editor.edit_section", "GET", "/templates/mini/draft/sections/nothing", {**LEAD_ONLY, "lead": 404}),
        ("editor.move_part", "POST", "/templates/mini/draft/sections/prevent/move", LEAD_ONLY),
        ("editor.remove_part", "POST", "/templates/mini/draft/sections/prevent/remove", LEAD_ONLY),
        ("editor.add_question", "GET", "/templates/mini/draft/sections/policies/questions/new", LEAD_ONLY),
        ("editor.add_question", "POST", "/templates/mini/draft/sections/policies/questions/new", LEAD_ONLY),
        ("editor.edit_question", "GET", "/templates/mini/draft/questions/policy_current", LEAD_ONLY),
        ("editor.edit_question", "POST", "/templates/mini/draft/questions/policy_current", LEAD_ONLY),
        ("editor.edit_question", "GET", "/templates/mini/draft/questions/nothing", {**LEAD_ONLY, "lead": 404}),
        ("editor.move_part", "POST", "/templates/mini/draft/questions/policy_notes/move", LEAD_ONLY),
        ("editor.remove_part", "POST", "/templates/mini/draft/questions/policy_notes/remove", LEAD_ONLY),
        ("editor.preview_draft", "GET", "/templates/mini/draft/preview", LEAD_ONLY),
        ("editor.preview_section", "GET", "/templates/mini/draft/preview/prevent", LEAD_ONLY),
        ("editor.preview_section", "POST", "/templates/mini/draft/preview/prevent", LEAD_ONLY),
        ("editor.export_draft", "GET", "/templates/mini/draft.json", LEAD_ONLY),
        ("editor.publish_draft", "GET", "/templates/mini/draft/publish", LEAD_ONLY),
        (
            "editor.publish_draft",
            "POST",
            "/templates/mini/draft/publish",
            LEAD_ONLY,
        ),  # no page version: refused as stale
        (
            "editor.discard_draft",
            "POST",
            "/templates/mini/draft/discard",
            LEAD_ONLY,
        ),  # no page version: refused as stale
        ("establishments.list_establishments", "GET", "/establishments/", LEAD_ONLY),
        ("establishments.show_establishment", "GET", f"/establishments/{world['urn_a']}", LEAD_ONLY),
        ("establishments.show_trust", "GET", f"/establishments/trusts/{world['trust_uid']}", LEAD_ONLY),
        # Someone who is not a contact there: the lead gets 404 (removing a real link is tested elsewhere)
        (
            "establishments.remove_establishment_contact",
            "POST",
            f"/establishments/{world['urn_a']}/contacts/{world['dsl_c_id']}/remove",
            {**LEAD_ONLY, "lead": 404},
        ),
        (
            "establishments.remove_trust_contact",
            "POST",
            f"/establishments/trusts/{world['trust_uid']}/contacts/{world['dsl_c_id']}/remove",
            {**LEAD_ONLY, "lead": 404},
        ),
        ("establishments.upload_import", "GET", "/establishments/import/establishments", LEAD_ONLY),
        ("establishments.upload_import", "GET", "/establishments/import/contacts", LEAD_ONLY),
        (
            "establishments.preview_import",
            "GET",
            "/establishments/import/establishments/" + "x" * 32,
            {**LEAD_ONLY, "lead": 404},
        ),
        (
            "establishments.preview_import",
            "GET",
            "/establishments/import/contacts/" + "x" * 32,
            {**LEAD_ONLY, "lead": 404},
        ),
        (
            "establishments.confirm_import",
            "POST",
            "/establishments/import/establishments/" + "x" * 32,
            {**LEAD_ONLY, "lead": 404},
        ),
        (
            "establishments.confirm_import",
            "POST",
            "/establishments/import/contacts/" + "x" * 32,
            {**LEAD_ONLY, "lead": 404},
        ),
        ("chasing.show_tracker", "GET", f"/cycles/{cycle}/tracker", READERS),
        ("chasing.show_breakdown", "GET", f"/cycles/{cycle}/tracker/by-trust", READERS),
        (
            "chasing.show_trust_tracker",
            "GET",
            f"/trusts/{world['trust_uid']}/cycles/{cycle}/tracker",
            {**OWN_TRUST, "board": OK, "lead": OK},
        ),
        (
            "chasing.show_trust_tracker",
            "GET",
            f"/trusts/{world['other_trust_uid']}/cycles/{cycle}/tracker",
            {**OTHER_TRUST, "board": OK, "lead": OK},
        ),
        ("chasing.preview_reminders", "POST", f"/cycles/{cycle}/reminders/preview", LEAD_ONLY),
        ("chasing.send_reminders", "POST", f"/cycles/{cycle}/reminders/send", LEAD_ONLY),
        ("chasing.show_chase_history", "GET", f"/cycles/{cycle}/establishments/{world['urn_a']}/reminders", READERS),
        ("chasing.export_non_responders", "GET", f"/cycles/{cycle}/non-responders.xlsx", LEAD_ONLY),
        ("chasing.edit_schedule", "GET", f"/cycles/{cycle}/reminders/schedule", LEAD_ONLY),
        ("chasing.list_outbox", "GET", "/outbox", LEAD_ONLY),
        ("chasing.show_trust_responses", "GET", f"/cycles/{cycle}/tracker/trusts", READERS),
        ("chasing.preview_trust_reminders", "POST", f"/cycles/{cycle}/trust-reminders/preview", LEAD_ONLY),
        ("chasing.send_trust_reminders", "POST", f"/cycles/{cycle}/trust-reminders/send", LEAD_ONLY),
        ("chasing.show_trust_chase_history", "GET", f"/cycles/{cycle}/trusts/{world['trust_uid']}/reminders", READERS),
        ("analysis.latest_analysis", "GET", "/analysis", {**READERS, "trust_lead": OK}),
        ("analysis.show_analysis", "GET", f"/cycles/{cycle}/analysis", {**READERS, "trust_lead": OK}),
        ("analysis.show_topics", "GET", f"/cycles/{cycle}/analysis/topics", {**READERS, "trust_lead": OK}),
        ("analysis.show_sections", "GET", f"/cycles/{cycle}/analysis/sections", {**READERS, "trust_lead": OK}),
        ("analysis.show_questions", "GET", f"/cycles/{cycle}/analysis/questions", {**READERS, "trust_lead": OK}),
        ("analysis.show_year_on_year", "GET", f"/cycles/{cycle}/analysis/year-on-year", {**READERS, "trust_lead": OK}),
        (
            "analysis.list_establishments",
            "GET",
            f"/cycles/{cycle}/analysis/establishments?list=fully_met",
            {**READERS, "trust_lead": OK},
        ),
        ("analysis.show_results", "GET", f"/audits/{a}/results", OWN_SCHOOL),
        ("analysis.show_results", "GET", f"/audits/{c}/results", OTHER_SCHOOL),
        ("analysis.show_results", "GET", f"/audits/{b}/results", TRUST_ACADEMY),
        ("analysis.show_results", "GET", f"/audits/{t}/results", {**OTHER_TRUST}),
        ("actions.edit_action_plan", "GET", f"/audits/{a}/action-plan", OWN_SCHOOL),
        ("actions.edit_action_plan", "POST", f"/audits/{c}/action-plan", OTHER_SCHOOL),
        ("actions.edit_action_plan", "GET", f"/audits/{b}/action-plan", TRUST_ACADEMY),
        ("actions.list_actions", "GET", f"/cycles/{cycle}/actions?overdue=1", READERS),
        ("exports.start_workbook", "POST", f"/cycles/{cycle}/workbook", READERS),
        ("reports.start_report", "POST", f"/cycles/{cycle}/committee-report", READERS),
        ("activity.start_activity_download", "POST", "/activity/download", LEAD_ONLY),
        # A job is seen by whoever started it and by the lead; a job that does not exist is 404 for everyone.
        ("jobs.list_jobs", "GET", "/jobs", LEAD_ONLY),
        ("jobs.show_job", "GET", "/jobs/999999", NO_SUCH_JOB),
        ("jobs.show_job_progress", "GET", "/jobs/999999/progress.json", NO_SUCH_JOB),
        ("jobs.download_job_file", "GET", "/jobs/999999/download", NO_SUCH_JOB),
        ("jobs.run_job_again", "POST", "/jobs/999999/run-again", NO_SUCH_JOB),
        # A register import's page is for those who manage the register (it names establishments and people).
        ("jobs.show_job", "GET", f"/jobs/{world['import_job_id']}", REGISTER_JOB),
        ("jobs.show_job_progress", "GET", f"/jobs/{world['import_job_id']}/progress.json", REGISTER_JOB),
        ("exports.download_responses_csv", "GET", f"/cycles/{cycle}/responses.csv", READERS),
        ("exports.download_gaps_csv", "GET", f"/cycles/{cycle}/gaps.csv", READERS),
        ("la_actions.list_la_actions", "GET", "/la-action-plan", READERS),
        ("la_actions.list_overdue_la_actions", "GET", "/la-action-plan/overdue", READERS),
        ("la_actions.export_la_actions", "GET", "/la-action-plan/export.xlsx", READERS),
        ("la_actions.choose_finding", "GET", f"/la-action-plan/findings?cycle={cycle}", LEAD_ONLY),
        (
            "la_actions.choose_finding",
            "GET",
            "/la-action-plan/findings?cycle=no-such-cycle",
            {**LEAD_ONLY, "lead": 404},
        ),
        ("la_actions.add_la_action", "GET", f"/la-action-plan/new?cycle={cycle}&question=policy_current", LEAD_ONLY),
        (
            "la_actions.add_la_action",
            "GET",
            f"/la-action-plan/new?cycle={cycle}&question=no_such_question",
            {**LEAD_ONLY, "lead": 404},
        ),
        ("la_actions.add_la_action", "POST", "/la-action-plan/new", LEAD_ONLY),
        ("la_actions.show_la_action", "GET", f"/la-action-plan/{world['la_action_id']}", READERS),
        ("la_actions.show_la_action", "GET", "/la-action-plan/999999", {**READERS, "board": 404, "lead": 404}),
        ("la_actions.edit_la_action", "GET", f"/la-action-plan/{world['la_action_id']}/edit", LEAD_ONLY),
        ("la_actions.edit_la_action", "POST", f"/la-action-plan/{world['la_action_id']}/edit", LEAD_ONLY),
        ("la_actions.add_la_action_update", "POST", f"/la-action-plan/{world['la_action_id']}/updates", LEAD_ONLY),
        # Last: signing out ends every session of the user.
        ("auth.sign_out", "POST", "/sign-out", PUBLIC),
    ]
    return cases


def _clients(app, world):
    clients = {"anonymous": app.test_client()}
    for role, user in world["users"].items():
        client = app.test_client()
        signed_in = client.post("/sign-in", data={"email": user.email, "password": "correct horse battery staple"})
        assert signed_in.status_code == 302, role
        clients[role] = client
    db.session.get(User, world["users"]["disabled"].id).is_enabled = False
    db.session.commit()
    return clients


def test_every_route_is_in_the_access_table(app, world):
    listed = {endpoint for endpoint, *_ in _cases(world)}
    routed = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(routed - listed)
    assert not missing, f"Decide who may use these routes and add them to the table: {missing}"


def undeclared_routes(app) -> list[str]:
    """Endpoints whose view declares no capability (``@requires``) and is not marked ``@public``."""
    return sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"  # Flask's own: the public style sheets, scripts and images
        and not hasattr(app.view_functions[rule.endpoint], "capability")
    )


def test_every_route_declares_its_capability(app):
    assert undeclared_routes(app) == []


def test_a_route_without_a_capability_is_caught():
    from surveyapp import create_app
    from surveyapp.policy import Capability, public, requires

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 40, "ENV_NAME": "testing"})
    app.add_url_rule("/forgotten", "forgotten", lambda: "nobody decided who may see this")
    app.add_url_rule("/declared", "declared", requires(Capability.MANAGE_USERS)(lambda: "the lead's"))
    app.add_url_rule("/open", "open", public(lambda: "anyone's"))
    assert undeclared_routes(app) == ["forgotten"]


def test_every_role_gets_exactly_its_access(app, world):
    clients = _clients(app, world)
    failures = access_failures(clients, world, ROLES)
    assert not failures, "\n".join(failures)
    # Of everyone who tried, only the lead's accept took effect.
    from surveyapp.audits.models import StatusEvent

    events = db.session.scalars(select(StatusEvent).where(StatusEvent.response_id == world["response_c"])).all()
    assert [(e.to_status, e.by_user_id) for e in events] == [(ResponseStatus.ACCEPTED, world["users"]["lead"].id)]


#: endpoints whose own answer is the two-factor set-up page (replacing with nothing to replace goes there)
_LEADS_TO_TWO_FACTOR_SET_UP = ("auth.set_up_two_factor", "auth.replace_two_factor")


def access_failures(clients, world, roles, overrides=None) -> list[str]:
    """Try every case as each of ``roles`` (with its signed-in client); describe each answer the table does not expect.

    :param overrides: endpoint -> {role: expectation} where a test's settings change the table
    """
    failures = []
    for endpoint, method, url, expected in _cases(world):
        expected = {**expected, **(overrides or {}).get(endpoint, {})}
        for role in roles:
            client = clients[role]
            response = client.get(url) if method == "GET" else client.post(url, data={})
            want = expected[role]
            got = response.status_code
            if want == OK:
                location = response.headers.get("Location", "") if got == 302 else ""
                held_back = "/sign-in" in location or (
                    "/account/two-factor" in location and endpoint not in _LEADS_TO_TWO_FACTOR_SET_UP
                )
                if got in (401, 403, 404, 405, 500) or (held_back and endpoint != "auth.sign_out"):
                    failures.append(f"{role} {method} {url}: expected access, got {got}")
            elif got != want:
                failures.append(f"{role} {method} {url}: expected {want}, got {got}")
            if role == "anonymous" and want == 302:
                assert "/sign-in" in response.headers["Location"]
    return failures
