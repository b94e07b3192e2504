"""Analysis pages: a cycle's figures for the lead, board viewers and trust leads; a DSL's own results."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from surveyapp.analysis import figures, formatting, pages
from surveyapp.analysis.loading import load_cycle, load_with_previous, previous_cycle
from surveyapp.analysis.rates import RatesCache
from surveyapp.audits.services import cycle_by_slug
from surveyapp.establishments.models import Trust
from surveyapp.extensions import db
from surveyapp.numbers import whole_number
from surveyapp.policy import Capability as C, may, requires, trust_ids_in_scope

bp = Blueprint("analysis", __name__)


def _trust_scope() -> Trust | None:
    """The trust the figures are limited to: chosen by ?trust=<id>; a trust lead only ever sees a trust they lead."""
    raw = request.args.get("trust")
    chosen = whole_number(raw)
    if raw not in (None, "") and chosen is None:
        abort(404)  # not a number any trust could have
    led = trust_ids_in_scope(current_user)
    if led is None:  # every trust
        return (db.session.get(Trust, chosen) or abort(404)) if chosen is not None else None
    if chosen is None and led:
        chosen = min(led)
    if chosen not in led:
        abort(404)
    return db.session.get(Trust, chosen)


def _analysis(slug: str):
    cycle = cycle_by_slug(slug) or abort(404)
    trust = _trust_scope()
    current, previous = load_with_previous(cycle)
    if trust is not None:
        current = current.restricted_to_trusts({trust.id})
        previous = previous.restricted_to_trusts({trust.id}) if previous is not None else None
    return cycle, trust, figures.analyse(current, previous)


def _page(template: str, cycle, trust, **context):
    """Render an analysis page; whether the reader sees the whole LA decides the downloads and the way back."""
    return render_template(
        template, cycle=cycle, trust=trust, may_read_whole_cycle=may(current_user, C.READ_LA_FIGURES), **context
    )


@bp.get("/analysis")
@requires(C.READ_TRUST_FIGURES)
def latest_analysis():
    """Go to the analysis of the latest cycle (the navigation's "Analysis")."""
    from sqlalchemy import select

    from surveyapp.audits.models import Cycle

    cycle = db.session.scalar(select(Cycle).order_by(Cycle.due_on.desc(), Cycle.id.desc()).limit(1)) or abort(404)
    return redirect(url_for("analysis.show_analysis", slug=cycle.slug))


@bp.get("/cycles/<slug>/analysis")
@requires(C.READ_TRUST_FIGURES)
def show_analysis(slug: str):
    """Show a cycle's overview: headline figures, the questions most often not met, completion by group."""
    cycle, trust, analysis = _analysis(slug)
    group = request.args.get("group", "phase")
    if group not in figures.GROUPS:
        abort(404)
    return _page("analysis/cycle.html", cycle, trust, **pages.overview_page(analysis, group))


@bp.get("/cycles/<slug>/analysis/topics")
@requires(C.READ_TRUST_FIGURES)
def show_topics(slug: str):
    """Show, per topic (tag), who answered its questions and how many meet them."""
    cycle, trust, analysis = _analysis(slug)
    return _page("analysis/topics.html", cycle, trust, **pages.topics_page(analysis, "tag"))


@bp.get("/cycles/<slug>/analysis/sections")
@requires(C.READ_TRUST_FIGURES)
def show_sections(slug: str):
    """Show, per section, who answered its questions and how many meet them."""
    cycle, trust, analysis = _analysis(slug)
    return _page("analysis/topics.html", cycle, trust, **pages.topics_page(analysis, "section"))


@bp.get("/cycles/<slug>/analysis/questions")
@requires(C.READ_TRUST_FIGURES)
def show_questions(slug: str):
    """Show every question's answers by class, over the returns."""
    cycle, trust, analysis = _analysis(slug)
    return _page("analysis/questions.html", cycle, trust, **pages.questions_page(analysis))


@bp.get("/cycles/<slug>/analysis/year-on-year")
@requires(C.READ_TRUST_FIGURES)
def show_year_on_year(slug: str):
    """Show this year against last, like with like."""
    cycle, trust, analysis = _analysis(slug)
    return _page("analysis/year_on_year.html", cycle, trust, **pages.year_on_year_page(analysis))


@bp.get("/cycles/<slug>/analysis/establishments")
@requires(C.READ_TRUST_FIGURES)
def list_establishments(slug: str):
    """List the establishments counted in one figure of the analysis."""
    cycle, trust, analysis = _analysis(slug)
    try:
        title, rows = figures.establishments_behind(analysis, request.args.to_dict())
    except figures.UnknownFilter:
        abort(404)
    return render_template(
        "analysis/establishments.html",
        cycle=cycle,
        trust=trust,
        title=title,
        rows=rows.to_dict("records"),
        out_of=figures.denominator_of(analysis, request.args),
        rate_text=formatting.pct,
        may_open_responses=may(current_user, C.READ_LA_FIGURES),
    )


@bp.get("/audits/<int:response_id>/results")
@requires(C.ANSWER_FOR_ESTABLISHMENT, load="response")
def show_results(response):
    """Show an establishment's own results beside the local authority's rates and last year's."""
    assignment = response.assignment
    if assignment.establishment_id is None:
        abort(404)
    cycle, only = assignment.cycle, [assignment.establishment_id]
    # Only this establishment's answers are read; the LA's rates come from the per-process cache.
    rates = _rates_cache()
    own = figures.analyse(load_cycle(cycle, only=only))
    earlier = previous_cycle(cycle)
    previous_own = figures.analyse(load_cycle(earlier, only=only)) if earlier is not None else None
    return render_template(
        "analysis/results.html",
        response=response,
        establishment=assignment.establishment,
        cycle=cycle,
        **pages.respondent_page(
            own, rates.rates(cycle), previous_own, rates.rates(earlier) if earlier is not None else None
        ),
    )


def _rates_cache() -> RatesCache:
    """This app's cache of LA rates (one per process; each checks the database's fingerprint)."""
    return current_app.extensions.setdefault("surveyapp.la_rates", RatesCache())
