"""The activity log download as a job (see surveyapp/jobs)."""

from __future__ import annotations

from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.jobs.models import Job, JobKind
from surveyapp.jobs.work import XLSX, Outcome, WorkError, does, plural, written_file


@does(JobKind.ACTIVITY_EXPORT)
def write_activity_log(job: Job, progress, checkpoint) -> Outcome:
    from surveyapp.activity.services import ActivityFilters
    from surveyapp.activity_log import export
    from surveyapp.activity_log.query import activity_query

    fmt = job.params.get("format", "csv")
    filters = ActivityFilters.from_mapping(job.params.get("filters") or {})
    query = activity_query(filters)
    if query is None or fmt not in ("csv", "xlsx"):
        raise WorkError(
            "The filters name a cycle that does not exist." if query is None else "That format is not offered."
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    progress(0, total, f"Writing {total:,} records")

    written = {"count": 0}

    def write(handle) -> None:
        written["count"] = export.write_and_record(query, filters, fmt, handle, job.started_by_id, job=job.id)

    file = written_file(write)
    progress(written["count"], written["count"], "Written")
    return Outcome(
        f"The activity log ({plural(written['count'], 'record')}) is ready to download.",
        export.download_name(filters, fmt),
        "text/csv" if fmt == "csv" else XLSX,
        file,
    )
