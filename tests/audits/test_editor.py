"""The template editor's operations: drafts, changes, stale edits, checking, publishing, comparing, exporting."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits import editor
from surveyapp.audits.definitions import BUILT_IN_FOLDER, load_template
from surveyapp.audits.models import AuditTemplate, TemplateDraft
from surveyapp.extensions import db
from tests.factories import SMALL_TEMPLATE


def _actions():
    return [r.action for r in db.session.scalars(select(ActivityRecord).order_by(ActivityRecord.id))]


def _draft_from_live(make):
    lead = make.lead()
    make.template()
    return lead, editor.start_draft("mini", "live", lead)


def test_a_draft_from_the_live_version_copies_it_as_the_next_version(make):
    lead, draft = _draft_from_live(make)
    assert draft.definition["version"] == 2
    assert [s["key"] for s in draft.definition["sections"]] == ["policies", "prevent"]
    assert draft.based_on.version == 1
    with pytest.raises(editor.EditorError, match="already a draft"):
        editor.start_draft("mini", "scratch", lead)
    assert "template.draft_started" in _actions()
    # Drafts are not versions: cycles and the CLI still see version 1 only.
    assert db.session.scalar(select(func.count()).select_from(AuditTemplate)) == 1


def test_a_draft_from_scratch_and_from_an_upload(make):
    lead = make.lead()
    scratch = editor.start_new_template("scratch", lead, key="early-help", title="Early help audit")
    assert scratch.definition == {"key": "early-help", "title": "Early help audit", "version": 1, "sections": []}
    with pytest.raises(editor.EditorError) as refused:
        editor.start_new_template("scratch", lead, key="Bad Key", title="x")
    assert "key" in refused.value.problems
    uploaded = editor.start_new_template("upload", lead, upload=json.dumps(SMALL_TEMPLATE).encode())
    assert uploaded.key == "mini" and uploaded.definition["sections"] == SMALL_TEMPLATE["sections"]
    bad = copy.deepcopy(SMALL_TEMPLATE)
    bad["key"] = "other"
    bad["sections"][0]["questions"][0]["type"] = "slider"
    with pytest.raises(editor.EditorError) as refused:
        editor.start_new_template("upload", lead, upload=json.dumps(bad))
    assert "sections[0].questions[0].type: must be one of" in refused.value.problems["upload"]
    assert editor.draft_for("other") is None


def test_sections_and_questions_are_added_edited_moved_and_removed(make):
    lead, draft = _draft_from_live(make)
    version = draft.lock_version
    key = editor.add_section(draft, version, lead, title="Filtering and monitoring")
    assert key == "filtering_monitoring"
    editor.move_section(draft, draft.lock_version, lead, key, -1)
    assert [s["key"] for s in draft.definition["sections"]] == ["policies", "filtering_monitoring", "prevent"]
    question_key = editor.add_question(
        draft,
        draft.lock_version,
        lead,
        key,
        {"text": "Do you check that filtering works?", "type": "yes_no", "gap": {"when": ["no"]}},
    )
    assert question_key == "check_filtering_works"
    editor.update_question(
        draft,
        draft.lock_version,
        lead,
        question_key,
        {
            "key": "filtering_checked",
            "text": "Do you check each term that filtering works?",
            "type": "yes_no_partly",
            "required": False,
            "gap": {"when": ["no", "partly"]},
        },
    )
    question = editor.find_question(draft.definition, "filtering_checked")[2]
    assert question["type"] == "yes_no_partly" and question["required"] is False
    editor.move_question(draft, draft.lock_version, lead, "policy_notes", +1)
    # Past the end of its section a question joins the next one, at the top.
    assert editor.find_section(draft.definition, "filtering_monitoring")[1]["questions"][0]["key"] == "policy_notes"
    editor.remove_question(draft, draft.lock_version, lead, "prevent_sef")
    assert editor.find_question(draft.definition, "prevent_sef") is None
    editor.remove_section(draft, draft.lock_version, lead, "prevent")
    assert [s["key"] for s in draft.definition["sections"]] == ["policies", "filtering_monitoring"]
    assert draft.lock_version == version + 7
    assert _actions().count("template.draft_question_changed") == 1
    assert {
        "template.draft_section_added",
        "template.draft_section_moved",
        "template.draft_question_added",
        "template.draft_question_moved",
        "template.draft_question_removed",
        "template.draft_section_removed",
    } <= set(_actions())


def test_a_question_that_could_not_be_published_is_refused_naming_the_field(make):
    lead, draft = _draft_from_live(make)
    with pytest.raises(editor.EditorError) as refused:
        editor.add_question(
            draft,
            draft.lock_version,
            lead,
            "policies",
            {"key": "policy_current", "text": "Again?", "type": "yes_no", "gap": {"older_than_months": 3}},
        )
    assert refused.value.problems["key"].startswith('The key "policy_current" is used by another question')
    assert refused.value.problems["gap"] == '"older_than_months" applies to date questions only'
    assert len(editor.find_section(draft.definition, "policies")[1]["questions"]) == 3
    assert draft.lock_version == 1


def test_a_change_made_from_an_older_page_is_refused(make):
    lead, draft = _draft_from_live(make)
    other = make.lead()
    opened_at = draft.lock_version
    editor.update_details(draft, opened_at, other, title="Mini audit 2027", description="")
    with pytest.raises(editor.StaleDraft) as stale:
        editor.update_details(draft, opened_at, lead, title="Mine", description="")
    assert stale.value.draft.definition["title"] == "Mini audit 2027"
    assert stale.value.draft.updated_by_id == other.id
    with pytest.raises(editor.StaleDraft):
        editor.remove_question(draft, opened_at, lead, "policy_notes")
    assert editor.find_question(draft.definition, "policy_notes") is not None


def test_problems_name_the_section_and_the_question_and_block_publishing(make):
    lead, draft = _draft_from_live(make)
    definition = copy.deepcopy(draft.definition)
    definition["sections"][1]["questions"][0]["gap"] = {"when": ["maybe"]}
    definition["sections"].append({"key": "empty", "title": "Nothing yet", "questions": []})
    draft.definition = definition
    db.session.flush()
    texts = [p.text for p in editor.problems_with(draft)]
    assert texts == [
        'Section “Prevent duty”, question “Has the DSL completed WRAP?”: gap: "when" lists "maybe", '
        "which is not an answer to a yes_no_partly question",
        "Section “Nothing yet”: add at least one question to this section",
    ]
    with pytest.raises(editor.NotPublishable):
        editor.publish(draft, draft.lock_version, lead)
    assert db.session.scalar(select(func.count()).select_from(AuditTemplate)) == 1


def test_publishing_stores_the_next_version_frozen_from_the_editor_and_removes_the_draft(make):
    lead, draft = _draft_from_live(make)
    editor.update_details(draft, draft.lock_version, lead, title="Mini audit 2027", description="For September")
    assert editor.live_version("mini").published is False  # loaded from a file: a replaceable draft until used
    template = editor.publish(draft, draft.lock_version, lead)
    assert (template.key, template.version, template.title) == ("mini", 2, "Mini audit 2027")
    assert template.published is True  # frozen: `templates load` stores a change as the next version
    assert editor.live_version("mini").id == template.id
    assert db.session.scalar(select(func.count()).select_from(TemplateDraft)) == 0
    assert _actions()[-1] == "template.published"


def test_the_comparison_says_what_changed_and_what_pre_fills():
    earlier = copy.deepcopy(SMALL_TEMPLATE)
    later = copy.deepcopy(SMALL_TEMPLATE)
    later["version"] = 2
    prevent = later["sections"][1]["questions"]
    prevent[0]["text"] = "Has the DSL completed the Home Office Prevent e-learning?"
    prevent[0]["key"] = "prevent_elearning"  # a new meaning: a new key, so no pre-fill
    prevent[1]["gap"] = {"below": 95}
    later["sections"][0]["questions"][0]["text"] = "Is the child protection policy up to date?"
    del later["sections"][0]["questions"][2]
    comparison = editor.compare(earlier, later)
    assert [c.key for c in comparison.added] == ["prevent_elearning"]
    assert [c.key for c in comparison.removed] == ["policy_notes", "prevent_wrap"]
    assert [(c.key, c.before) for c in comparison.reworded] == [
        ("policy_current", "Is the child protection policy current?")
    ]
    assert [(c.before, c.after) for c in comparison.gap_rules] == [
        ("a gap when the answer is below 90", "a gap when the answer is below 95")
    ]
    assert [c.key for c in comparison.prefilled] == [
        "policy_current",
        "policy_review_date",
        "prevent_trained_pct",
        "prevent_sef",
    ]


@pytest.mark.parametrize("name", ["s175-schools.json", "early-years.json"])
def test_built_in_templates_round_trip_exactly_through_export_and_load(app, name):
    original = (BUILT_IN_FOLDER / name).read_text(encoding="utf-8")
    template, _ = load_template(json.loads(original))
    exported = editor.export_text(template.definition)
    assert exported == original
    again, outcome = load_template(json.loads(exported))
    assert outcome == "unchanged" and again.id == template.id


def test_a_question_others_depend_on_is_not_removed_and_a_new_key_follows_into_conditions(make):
    lead, draft = _draft_from_live(make)
    editor.add_question(
        draft,
        draft.lock_version,
        lead,
        "prevent",
        {
            "key": "prevent_wrap_when",
            "text": "When was it completed?",
            "type": "date",
            "condition": {"question": "prevent_wrap", "in": ["yes", "partly"]},
        },
    )
    with pytest.raises(editor.EditorError, match="“When was it completed\\?” is asked only depending on the answer"):
        editor.remove_question(draft, draft.lock_version, lead, "prevent_wrap")
    editor.update_question(
        draft,
        draft.lock_version,
        lead,
        "prevent_wrap",
        {"key": "prevent_elearning", "text": "Has the DSL completed the Prevent e-learning?", "type": "yes_no_partly"},
    )
    dependant = editor.find_question(draft.definition, "prevent_wrap_when")[2]
    assert dependant["condition"] == {"question": "prevent_elearning", "in": ["yes", "partly"]}
    assert editor.condition_words(dependant, draft.definition) == (
        "only if “Has the DSL completed the Prevent e-learning?” is Yes or Partly"
    )
    # Moved above the question it rests on, the condition is a problem named at publishing.
    for _step in range(3):
        editor.move_question(draft, draft.lock_version, lead, "prevent_wrap_when", -1)
    assert [p.text for p in editor.problems_with(draft)] == [
        'Section “Prevent duty”, question “When was it completed?”: condition: "prevent_elearning" is not the key '
        "of an earlier question"
    ]
