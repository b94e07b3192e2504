"""A job's page (progress, then the result or its download), and the lead's list of recent jobs.

A job is seen by the one who started it and by whoever follows every job (surveyapp/policy.py); anyone
else is told it does not exist (404).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, stream_with_context, url_for

from surveyapp import stored_files
from surveyapp.jobs import runner, services
from surveyapp.policy import Capability as C, requires

bp = Blueprint("jobs", __name__)


@bp.get("/jobs/<int:job_id>")
@requires(C.USE_SERVICE, load="job")
def show_job(job):
    """Show how far a job has got and, once it has finished, what it did and its download."""
    lost_after = runner.lost_after()
    return render_template(
        "jobs/show.html",
        job=job,
        can_run_again=services.can_run_again(job, lost_after=lost_after),
        stalled=services.is_stalled(job, lost_after=lost_after),
        stalled_since=services.last_heard(job),
        state_label=services.state_label(job, lost_after=lost_after),
        keep_days=services.KEEP_FILES_FOR.days,
    )


@bp.get("/jobs/<int:job_id>/progress.json")
@requires(C.USE_SERVICE, load="job")
def show_job_progress(job):
    """The job's progress, for the page to update itself while the job runs."""
    lost_after = runner.lost_after()
    return jsonify(
        state=job.state.value,
        state_label=services.state_label(job, lost_after=lost_after),
        done=job.done,
        total=job.total,
        message=job.message,
        finished=job.is_finished,
        # the page reloads once when it does, to say so and offer to start it again
        stalled=services.is_stalled(job, lost_after=lost_after),
    )


@bp.get("/jobs/<int:job_id>/download")
@requires(C.USE_SERVICE, load="job")
def download_job_file(job):
    """Download the file the job wrote (written by the exports' formula-safe writers), streamed piece by piece."""
    if not job.has_file:
        abort(404)
    response = Response(stream_with_context(stored_files.pieces(job.file_id)), mimetype=job.file_type)
    response.headers.set("Content-Disposition", "attachment", filename=job.file_name)
    response.content_length = stored_files.size_of(job.file_id)
    # Exports hold personal data: no shared cache keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/jobs/<int:job_id>/run-again")
@requires(C.USE_SERVICE, load="job")
def run_job_again(job):
    """Start a failed or stalled job again: what it already did (reminders sent) is not done twice."""
    try:
        services.requeue(job, lost_after=runner.lost_after())
    except services.JobError as exc:
        flash(str(exc), "info")
        return redirect(url_for("jobs.show_job", job_id=job.id))
    runner.dispatch(job)
    return redirect(url_for("jobs.show_job", job_id=job.id))


@bp.get("/jobs")
@requires(C.FOLLOW_EVERY_JOB)
def list_jobs():
    """List the newest jobs: reminder sends and downloads, who started them and how they went."""
    jobs = services.recent_jobs()
    lost_after = runner.lost_after()
    labels = {job.id: services.state_label(job, lost_after=lost_after) for job in jobs}
    return render_template("jobs/list.html", jobs=jobs, labels=labels)
