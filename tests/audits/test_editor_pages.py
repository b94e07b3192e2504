"""The template editor's pages, driven through the real forms as the lead."""

from __future__ import annotations

import io
import json

from sqlalchemy import select

from surveyapp.audits import editor
from surveyapp.audits.models import AuditTemplate
from surveyapp.extensions import db
from tests.factories import SMALL_TEMPLATE


def _start(client, make, sign_in):
    lead = make.lead()
    make.template()
    sign_in(lead)
    page = client.post("/templates/mini/draft/new", data={"source": "live"})
    assert page.status_code == 302 and page.headers["Location"].endswith("/templates/mini/draft")
    return lead, editor.draft_for("mini")


def _question(**changes):
    data = {
        "text": "Do you have a deputy DSL?",
        "type": "yes_no",
        "required": "yes",
        "gap_kind": "none",
        "condition_question": "",
    }
    data.update(changes)
    return data


def test_the_lead_starts_a_new_version_and_sees_it_on_the_templates_page(client, make, sign_in):
    _lead, draft = _start(client, make, sign_in)
    page = client.get("/templates").get_data(as_text=True)
    assert "Continue editing the draft" in page and "Download JSON" in page
    draft_page = client.get("/templates/mini/draft").get_data(as_text=True)
    assert "This draft becomes version 2" in draft_page and "Has the DSL completed WRAP?" in draft_page


def test_a_question_is_added_with_a_condition_not_applicable_guidance_and_a_gap_rule(client, make, sign_in):
    _lead, draft = _start(client, make, sign_in)
    added = client.post(
        "/templates/mini/draft/sections/policies/questions/new",
        data=_question(key="deputy_dsl", lock_version=draft.lock_version),
    )
    assert added.status_code == 302
    db.session.refresh(draft)
    data = _question(
        text="Is the deputy DSL trained?",
        type="yes_no_partly",
        not_applicable="y",
        gap_kind="when",
        gap_when=["no", "partly"],
        follow_up="y",
        follow_up_prompt="",
        condition_question="deputy_dsl",
        condition_answers="Yes",
        guidance="KCSIE 2025, paragraph 103 | https://www.gov.uk/government/publications/keeping-children-safe-in-education--2",
        tags="training, leadership",
        options="",
        lock_version=draft.lock_version,
    )
    second = client.post("/templates/mini/draft/sections/policies/questions/new", data=data)
    assert second.status_code == 302, second.get_data(as_text=True)[-6000:]
    db.session.refresh(draft)
    question = editor.find_question(draft.definition, "deputy_dsl_trained")[2]
    assert question == {
        "key": "deputy_dsl_trained",
        "text": "Is the deputy DSL trained?",
        "type": "yes_no_partly",
        "tags": ["training", "leadership"],
        "gap": {"when": ["no", "partly"]},
        "follow_up": {"prompt": "What action is planned, who will do it and by when?"},
        "not_applicable": True,
        "condition": {"question": "deputy_dsl", "in": ["yes"]},
        "guidance": [
            {
                "title": "KCSIE 2025, paragraph 103",
                "url": "https://www.gov.uk/government/publications/keeping-children-safe-in-education--2",
            }
        ],
    }
    edit_page = client.get("/templates/mini/draft/questions/deputy_dsl_trained").get_data(as_text=True)
    assert "KCSIE 2025, paragraph 103 | https://www.gov.uk" in edit_page
    assert 'value="Yes"' in edit_page  # the condition's answer, in words
    draft_page = client.get("/templates/mini/draft").get_data(as_text=True)
    assert "only if “Do you have a deputy DSL?” is Yes" in draft_page


def test_a_choice_question_takes_plain_options_and_refusals_name_the_field(client, make, sign_in):
    _lead, draft = _start(client, make, sign_in)
    refused = client.post(
        "/templates/mini/draft/sections/policies/questions/new",
        data=_question(
            text="Who provides your training?",
            type="date",
            gap_kind="below",
            gap_below="x",
            lock_version=draft.lock_version,
        ),
    )
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    assert "There is a problem" in page and "Enter the threshold as a number, like 90" in page
    refused = client.post(
        "/templates/mini/draft/sections/policies/questions/new",
        data=_question(
            text="Who provides your training?",
            type="date",
            gap_kind="below",
            gap_below="5",
            lock_version=draft.lock_version,
        ),
    )
    assert "&#34;below&#34; applies to number and percentage questions only" in refused.get_data(as_text=True)
    saved = client.post(
        "/templates/mini/draft/sections/policies/questions/new",
        data=_question(
            text="Who provides your training?",
            type="choice",
            options="LA\nTrust\nother | Someone else",
            gap_kind="when",
            gap_when=["other"],
            lock_version=draft.lock_version,
        ),
    )
    assert saved.status_code == 302
    db.session.refresh(draft)
    question = editor.find_question(draft.definition, "provides_training")[2]
    assert question["options"] == ["LA", "Trust", {"value": "other", "label": "Someone else"}]


def test_a_save_from_an_older_page_is_refused_with_both_on_screen(client, make, sign_in):
    _lead, draft = _start(client, make, sign_in)
    opened_at = draft.lock_version
    other = make.lead(name="Sam Other")
    editor.update_question(
        draft,
        opened_at,
        other,
        "policy_notes",
        {"key": "policy_notes", "text": "Anything else to tell us?", "type": "text", "required": False},
    )
    db.session.commit()
    page = client.post(
        "/templates/mini/draft/questions/policy_notes",
        data=_question(
            text="Any other comments?", type="text", required="no", key="policy_notes", lock_version=opened_at
        ),
    )
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert "Sam Other changed this draft" in html
    assert "Any other comments?" in html and "Anything else to tell us?" in html
    db.session.refresh(draft)
    assert editor.find_question(draft.definition, "policy_notes")[2]["text"] == "Anything else to tell us?"
    moved = client.post(
        "/templates/mini/draft/sections/prevent/move",
        data={"direction": "up", "lock_version": opened_at},
        follow_redirects=True,
    )
    assert "was not made: Sam Other changed the draft" in moved.get_data(as_text=True)
    db.session.refresh(draft)
    assert [s["key"] for s in draft.definition["sections"]] == ["policies", "prevent"]


def test_preview_shows_the_task_list_and_sections_and_saves_nothing(client, make, sign_in):
    _lead, draft = _start(client, make, sign_in)
    before = json.dumps(draft.definition)
    task_list = client.get("/templates/mini/draft/preview").get_data(as_text=True)
    assert (
        "Preview" in task_list and "Prevent duty" in task_list and "/templates/mini/draft/preview/prevent" in task_list
    )
    section = client.get("/templates/mini/draft/preview/prevent").get_data(as_text=True)
    assert "Has the DSL completed WRAP?" in section and "Save and continue" in section
    posted = client.post("/templates/mini/draft/preview/prevent", data={"prevent_trained_pct": "120"})
    assert posted.status_code == 200 and "Enter a percentage between 0 and 100" in posted.get_data(as_text=True)
    db.session.refresh(draft)
    assert json.dumps(draft.definition) == before


def test_problems_are_listed_before_publishing_and_publishing_makes_the_version_live(client, make, sign_in):
    _lead, draft = _start(client, make, sign_in)
    client.post("/templates/mini/draft/sections/new", data={"title": "Filtering", "lock_version": draft.lock_version})
    page = client.get("/templates/mini/draft/publish").get_data(as_text=True)
    assert "The draft cannot be published yet" in page
    assert "Section “Filtering”: add at least one question to this section" in page
    db.session.refresh(draft)
    refused = client.post("/templates/mini/draft/publish", data={"lock_version": draft.lock_version})
    assert refused.status_code == 400
    client.post("/templates/mini/draft/sections/filtering/remove", data={"lock_version": draft.lock_version})
    db.session.refresh(draft)
    client.post(
        "/templates/mini/draft/questions/prevent_wrap",
        data=_question(
            text="Has the DSL completed the Home Office Prevent e-learning?",
            type="yes_no_partly",
            key="prevent_elearning",
            gap_kind="when",
            gap_when=["no", "partly"],
            tags="prevent",
            lock_version=draft.lock_version,
        ),
    )
    page = client.get("/templates/mini/draft/publish").get_data(as_text=True)
    assert "Questions added (1)" in page and "Questions removed (1)" in page and "Pre-filled from last year (5)" in page
    db.session.refresh(draft)
    published = client.post("/templates/mini/draft/publish", data={"lock_version": draft.lock_version})
    assert published.status_code == 302
    live = editor.live_version("mini")
    assert live.version == 2 and live.questions[3].key == "prevent_elearning"
    assert editor.draft_for("mini") is None
    versions = client.get("/templates").get_data(as_text=True)
    assert "Live, published (frozen)" in versions and "Earlier version<" in versions  # version 1 came from a file
    open_page = client.get("/cycles/new").get_data(as_text=True)
    assert "Mini safeguarding audit (version 2, live)" in open_page


def test_downloads_round_trip_with_the_load_command(client, make, sign_in, runner, tmp_path):
    _lead, draft = _start(client, make, sign_in)
    template = db.session.scalar(select(AuditTemplate).where(AuditTemplate.version == 1))
    download = client.get(f"/templates/{template.id}.json")
    assert download.headers["Content-Disposition"] == 'attachment; filename="mini-v1.json"'
    assert json.loads(download.data) == SMALL_TEMPLATE
    path = tmp_path / "mini.json"
    path.write_bytes(download.data)
    assert "unchanged" in runner.invoke(args=["templates", "load", str(path)]).output
    exported = tmp_path / "exported.json"
    result = runner.invoke(args=["templates", "export", "mini", "--version", "1", str(exported)])
    assert result.exit_code == 0, result.output
    assert exported.read_bytes() == download.data
    missing = runner.invoke(args=["templates", "export", "mini", "--version", "7", str(exported)])
    assert missing.exit_code == 1 and "no version 7" in missing.output
    draft_file = client.get("/templates/mini/draft.json")
    assert json.loads(draft_file.data)["version"] == 2


def test_a_new_template_from_an_uploaded_file(client, make, sign_in):
    sign_in(make.lead())
    data = dict(SMALL_TEMPLATE, key="early-help", title="Early help audit")
    page = client.post(
        "/templates/new",
        data={"source": "upload", "upload": (io.BytesIO(json.dumps(data).encode()), "eh.json")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 302
    assert editor.draft_for("early-help").definition["title"] == "Early help audit"
    bad = client.post(
        "/templates/new",
        data={"source": "upload", "upload": (io.BytesIO(b'{"key": '), "bad.json")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 200 and "not valid JSON" in bad.get_data(as_text=True)
