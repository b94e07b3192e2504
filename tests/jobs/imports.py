"""What the import job tests share: a register with a running cycle, and the lead's upload and preview."""

from __future__ import annotations

import io
from html import unescape

from sqlalchemy import func, select

from surveyapp.activity.models import ActivityRecord
from surveyapp.audits.models import Assignment
from surveyapp.establishments.models import Establishment, KeptUpload
from surveyapp.extensions import db
from surveyapp.jobs.models import Job


def register_with_a_cycle(make) -> dict:
    """St Mary's under its old name in the register, a 2026-27 cycle running, the lead who imports."""
    make.establishment(urn="100001", name="St Mary’s (old name)")
    db.session.commit()
    cycle = make.cycle()
    lead = make.lead(email="lead@council.example.org", name="Lee Lead")
    db.session.commit()
    return {"cycle": cycle, "lead": lead}


def upload_and_preview(client, data: bytes, kind: str = "establishments", filename: str = "edubasealldata.csv") -> str:
    """Upload a file and open its preview, as the lead does; the preview's address (the confirm form's too)."""
    uploaded = client.post(
        f"/establishments/import/{kind}",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, unescape(uploaded.get_data(as_text=True))[:2000]
    preview_url = uploaded.location
    assert "Confirm import" in client.get(preview_url).get_data(as_text=True)
    return preview_url


def job_of(location: str) -> Job:
    assert location.startswith("/jobs/"), location
    db.session.rollback()  # read what the job's run committed, not this session's snapshot
    return db.session.get(Job, int(location.rsplit("/", 1)[1]))


def page_text(response) -> str:
    return unescape(response.get_data(as_text=True))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def register_state() -> dict:
    """What an import changes, to tell one import from two."""
    db.session.rollback()
    return {
        "establishments": count(Establishment),
        "in the cycle": count(Assignment),
        "kept uploads": count(KeptUpload),
        "imports logged": db.session.scalar(
            select(func.count()).select_from(ActivityRecord).where(ActivityRecord.action == "establishments.imported")
        ),
        "St Mary’s": db.session.scalar(select(Establishment.name).where(Establishment.urn == "100001")),
    }
