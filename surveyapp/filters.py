"""Jinja filters for dates and statuses as GOV.UK pages write them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Flask

from surveyapp.timeutil import as_utc


def govuk_date(value: date | datetime | str | None) -> str:
    """'31 March 2027', the GOV.UK style."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return f"{value.day} {value:%B %Y}"


def govuk_datetime(value: datetime | None) -> str:
    """'31 March 2027 at 2:05pm' (UTC)."""
    if not value:
        return ""
    value = as_utc(value)
    hour = value.hour % 12 or 12
    return f"{govuk_date(value)} at {hour}:{value:%M}{'am' if value.hour < 12 else 'pm'}"


def answer_text(value: str | None, question) -> str:
    """An answer as the person chose it ("Cannot confirm", "31 March 2026", "85%")."""
    from surveyapp.audits.questions import display

    return display(question.type, value, question.options)


def first_input_id(question) -> str:
    """The id of a question's first input on its section page (a date's day box), for links to it."""
    from surveyapp.audits.answer_types import answer_type

    return answer_type(question.type).first_input_id(question.key)


def form_errors(form) -> dict:
    """The error summary for a WTForms form, linking date fields to their first box (the day),
    since the date group itself cannot take focus."""
    from govuk_frontend_wtf.main import wtforms_errors
    from govuk_frontend_wtf.wtforms_widgets import GovDateInput

    params = wtforms_errors(form)
    date_ids = {f"#{field.id}" for field in form if isinstance(field.widget, GovDateInput)}
    for error in params["errorList"]:
        if error.get("href") in date_ids:
            error["href"] += "-day"
    return params


def govuk_duration(value: timedelta) -> str:
    """A length of time as a page says it: "2 hours", "90 minutes", "1 minute", "30 seconds"."""
    seconds = int(value.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return "0 seconds"


def register(app: Flask) -> None:
    app.add_template_global(form_errors)
    app.add_template_filter(govuk_date)
    app.add_template_filter(govuk_datetime)
    app.add_template_filter(answer_text)
    app.add_template_filter(first_input_id)
    app.add_template_filter(govuk_duration)
