"""Loading audit templates: validation with named problems, versions frozen once published or used."""

from __future__ import annotations

import copy
import json
import re

from sqlalchemy import func, select

from surveyapp.audits.definitions import BUILT_IN_FOLDER, validate_definition
from surveyapp.audits.models import AuditTemplate, QuestionType
from surveyapp.extensions import db
from tests.factories import SMALL_TEMPLATE


def _write(tmp_path, data, name="t.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_built_in_templates_are_valid_and_cover_what_the_audit_needs():
    schools = json.loads((BUILT_IN_FOLDER / "s175-schools.json").read_text())
    early_years = json.loads((BUILT_IN_FOLDER / "early-years.json").read_text())
    assert validate_definition(schools) == [] and validate_definition(early_years) == []
    questions = [q for s in schools["sections"] for q in s["questions"]]
    assert (schools["version"], len(schools["sections"]), len(questions)) == (2, 9, 80)
    assert schools["title"] == "Section 175/157 safeguarding and Prevent audit for schools"
    assert [s["key"] for s in schools["sections"]] == [
        "leadership",
        "policies",
        "training",
        "recruitment",
        "procedures",
        "online_safety",
        "prevent",
        "curriculum",
        "sign_off",
    ]
    assert {q["type"] for q in questions} == {t.value for t in QuestionType}
    prevent = next(s for s in schools["sections"] if s["key"] == "prevent")
    assert all("prevent" in q.get("tags", []) for q in prevent["questions"])
    early_questions = [q for s in early_years["sections"] for q in s["questions"]]
    assert (early_years["version"], len(early_years["sections"]), len(early_questions)) == (2, 8, 35)


def _words(question):
    return f"{question['text']} {question.get('help', '')}"


def test_built_in_templates_follow_current_guidance():
    schools = json.loads((BUILT_IN_FOLDER / "s175-schools.json").read_text())
    early_years = json.loads((BUILT_IN_FOLDER / "early-years.json").read_text())
    everything = [q for template in (schools, early_years) for s in template["sections"] for q in s["questions"]]
    for question in everything:
        words = _words(question)
        # WRAP is no longer delivered nationally: the Home Office Prevent e-learning replaced it.
        assert "WRAP" not in words and "Workshop to Raise Awareness" not in words, question["key"]
        # The 2023 Prevent duty guidance speaks of susceptibility to radicalisation, not "signs".
        assert not re.search(r"\bsigns?\b[^.?]*radicalisation", words), question["key"]
        # Questions name the current edition, not a year that goes out of date every September.
        assert not re.search(r"(KCSIE|Keeping Children Safe in Education) 20\d\d", words, re.I), question["key"]
        # "Answer yes if not applicable" inflated "fully met": Not applicable is an answer now.
        assert not re.search(r"answer (yes|'yes') if", words, re.I), question["key"]
        # Every question cites the guidance it rests on, on GOV.UK.
        assert question.get("guidance"), question["key"]
        assert all(link["url"].startswith("https://www.gov.uk/") for link in question["guidance"]), question["key"]
    by_key = {q["key"]: q for s in schools["sections"] for q in s["questions"]}
    assert "prevent_wrap" not in by_key
    assert "Home Office Prevent e-learning" in by_key["prevent_dsl_elearning"]["text"]
    assert by_key["prevent_sef"]["text"].startswith("Good practice, not a statutory requirement")
    assert "good_practice" in by_key["prevent_sef"]["tags"]
    # Percentages: a threshold, not "anything below 100%" that flags every school with a new starter.
    assert [by_key[k]["gap"] for k in ("training_staff_percentage", "prevent_staff_percentage")] == [{"below": 90}] * 2
    # The single central record check: help and rule say the same (each term, 4 months).
    assert by_key["recruitment_scr_check_date"]["gap"] == {"older_than_months": 4}
    assert "once a term" in by_key["recruitment_scr_check_date"]["help"]
    # Every count has a rule, so no answer counts as met merely for being given.
    assert all(
        q.get("gap")
        for q in by_key.values()
        if q["type"] in ("number", "percentage", "date") and not q.get("condition")
    )
    assert "procedures_referrals_count" not in by_key
    # The governors' meeting may come after the return: its date is asked only once it has happened.
    assert by_key["sign_off_meeting_date"]["condition"] == {
        "question": "sign_off_governors_meeting",
        "in": ["discussed"],
    }
    assert by_key["training_deputy_dsl_trained"]["condition"] == {"question": "leadership_deputy_dsl", "in": ["yes"]}
    for key in (
        "procedures_fgm",
        "leadership_designated_teacher",
        "policies_behaviour",
        "policies_anti_bullying",
        "procedures_social_worker",
        "procedures_early_help",
        "online_filtering_decisions",
        "online_filtering_checks",
        "procedures_lettings_safeguarding",
        "recruitment_disqualification",
        "online_cyber_security",
        "online_generative_ai",
        "prevent_lettings",
        "procedures_ap_checks",
        "sign_off_action_plan",
    ):
        assert key in by_key, key
    assert all(
        by_key[k]["not_applicable"]
        for k in (
            "prevent_lettings",
            "procedures_ap_checks",
            "procedures_ap_whereabouts",
            "procedures_lettings_safeguarding",
            "sign_off_action_plan",
        )
    )
    early = {q["key"] for s in early_years["sections"] for q in s["questions"]}
    assert {
        "policies_whistleblowing",
        "policies_absence_follow_up",
        "policies_emergency_contacts",
        "eating_supervised",
        "eating_first_aider",
        "training_paediatric_first_aid",
        "policies_intimate_care",
    } <= early


def test_load_command_stores_a_version_and_is_idempotent(runner, tmp_path):
    path = _write(tmp_path, SMALL_TEMPLATE)
    first = runner.invoke(args=["templates", "load", path])
    assert first.exit_code == 0 and "created" in first.output
    second = runner.invoke(args=["templates", "load", path])
    assert second.exit_code == 0 and "unchanged" in second.output
    assert db.session.scalar(select(func.count()).select_from(AuditTemplate)) == 1


def test_invalid_definitions_name_every_problem_and_store_nothing(runner, tmp_path):
    bad = copy.deepcopy(SMALL_TEMPLATE)
    bad["sections"][0]["questions"][0]["gap"] = {"when": ["maybe"]}
    bad["sections"][1]["questions"][1]["type"] = "slider"
    bad["sections"][1]["questions"].append(dict(bad["sections"][1]["questions"][0]))
    result = runner.invoke(args=["templates", "load", _write(tmp_path, bad)])
    assert result.exit_code == 1
    assert (
        'sections[0].questions[0].gap: "when" lists "maybe", which is not an answer to a yes_no question'
        in result.output
    )
    assert "sections[1].questions[1].type: must be one of" in result.output
    assert 'sections[1].questions[3].key: "prevent_wrap" is used by another question' in result.output
    assert db.session.scalar(select(func.count()).select_from(AuditTemplate)) == 0
    broken = tmp_path / "broken.json"
    broken.write_text('{"key": "x",\n "title": }')
    result = runner.invoke(args=["templates", "load", str(broken)])
    assert result.exit_code == 1 and "line 2" in result.output


def test_a_version_in_use_is_frozen_and_edits_become_a_new_version(runner, tmp_path, make):
    make.establishment()
    make.cycle()  # uses SMALL_TEMPLATE version 1
    edited = copy.deepcopy(SMALL_TEMPLATE)
    edited["sections"][0]["questions"][0]["text"] = "Is the policy up to date?"
    path = _write(tmp_path, edited)
    refused = runner.invoke(args=["templates", "load", path])
    assert refused.exit_code == 1 and "cannot change" in refused.output
    stored = db.session.scalar(select(AuditTemplate).where(AuditTemplate.version == 1))
    assert stored.questions[0].text == "Is the child protection policy current?"
    accepted = runner.invoke(args=["templates", "load", path, "--new-version"])
    assert accepted.exit_code == 0 and "version 2: created" in accepted.output


def test_a_draft_version_loaded_from_a_file_is_replaced_until_it_is_published_or_used(runner, tmp_path):
    runner.invoke(args=["templates", "load", _write(tmp_path, SMALL_TEMPLATE)])
    edited = copy.deepcopy(SMALL_TEMPLATE)
    edited["title"] = "Mini audit, corrected"
    replaced = runner.invoke(args=["templates", "load", _write(tmp_path, edited)])
    assert replaced.exit_code == 0 and "version 1: replaced" in replaced.output
    assert db.session.scalar(select(AuditTemplate.published)) is False


def test_a_published_version_is_not_replaced_by_the_load_command_without_new_version(runner, tmp_path, make):
    from surveyapp.audits import editor

    lead = make.lead()
    make.template()
    draft = editor.start_draft("mini", "live", lead)
    published = editor.publish(draft, draft.lock_version, lead)  # version 2, used by no cycle yet
    db.session.commit()
    edited = copy.deepcopy(published.definition)
    edited["sections"][0]["questions"][0]["text"] = "Is the policy up to date?"
    path = _write(tmp_path, edited)

    refused = runner.invoke(args=["templates", "load", path])
    assert refused.exit_code == 1
    assert 'Version 2 of "mini" is published and cannot be replaced' in refused.output
    assert f"surveyapp templates load {path} --new-version" in refused.output
    db.session.expire_all()
    stored = db.session.scalar(select(AuditTemplate).where(AuditTemplate.version == 2))
    assert stored.id == published.id and stored.questions[0].text == "Is the child protection policy current?"

    unchanged = runner.invoke(args=["templates", "load", _write(tmp_path, published.definition, "same.json")])
    assert unchanged.exit_code == 0 and "version 2: unchanged" in unchanged.output
    accepted = runner.invoke(args=["templates", "load", path, "--new-version"])
    assert accepted.exit_code == 0 and "version 3: created" in accepted.output
    listed = runner.invoke(args=["templates", "list"]).output.splitlines()
    assert [line.endswith("(published, frozen)") for line in listed] == [False, True, False]


def test_cycles_open_command_creates_assignments_for_open_establishments_in_scope(runner, tmp_path, make):
    runner.invoke(args=["templates", "load", _write(tmp_path, SMALL_TEMPLATE)])
    make.establishment(phase="Primary")
    make.establishment(phase="Secondary")
    make.establishment(phase="Primary", is_open=False)
    db.session.commit()
    result = runner.invoke(
        args=[
            "cycles",
            "open",
            "--slug",
            "2026-27",
            "--name",
            "Audit 2026-27",
            "--template",
            "mini",
            "--due",
            "2027-03-31",
            "--phase",
            "primary",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "1 establishments" in result.output
    bad = runner.invoke(args=["cycles", "open", "--slug", "x", "--template", "nope", "--due", "2027-03-31"])
    assert bad.exit_code == 1 and 'There is no template "nope"' in bad.output
