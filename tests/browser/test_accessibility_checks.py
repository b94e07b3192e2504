"""The accessibility checks themselves: each problem they look for is caught, so a page passing them means something."""

from __future__ import annotations

import pytest

from tests.browser.accessibility import check_page

pytestmark = pytest.mark.browser

GOOD_FORM = """
<main><h1>Page</h1>
<form>
  <fieldset><legend>Is it current?</legend>
    <input type="radio" id="q" name="q" value="yes"><label for="q">Yes</label>
    <input type="radio" id="q-2" name="q" value="no"><label for="q-2">No</label>
  </fieldset>
  <fieldset><legend>When?</legend><div class="govuk-date-input">
    <label for="d-day">Day</label><input id="d-day" name="d-day">
    <label for="d-month">Month</label><input id="d-month" name="d-month">
    <label for="d-year">Year</label><input id="d-year" name="d-year">
  </div></fieldset>
  <label for="t">Notes</label><textarea id="t" name="t"></textarea>
</form></main>
"""

BROKEN = {
    "radios outside a fieldset": (
        '<main><h1>Page</h1><input type="radio" id="r" name="r"><label for="r">Yes</label>'
        '<input type="radio" id="r2" name="r"><label for="r2">No</label></main>',
        'Radio group input#r[name="r"]: not inside a fieldset',
    ),
    "a date input with an empty legend": (
        '<main><h1>Page</h1><fieldset><legend> </legend><div class="govuk-date-input">'
        '<label for="d">Day</label><input id="d"></div></fieldset></main>',
        "Date input div: its fieldset has no legend",
    ),
    "a field without a label": (
        '<main><h1>Page</h1><label for="a">Name</label><input id="a"><input id="b" aria-label="x"></main>',
        "Field input#b has no label",
    ),
    "two h1s": ("<main><h1>One</h1><h1>Two</h1></main>", "The page has 2 h1 elements"),
    "an error summary without Error: in the title": (
        '<main><div class="govuk-error-summary" tabindex="-1"><ul><li><a href="#a">Enter a name</a></li></ul></div>'
        '<h1>Page</h1><label for="a">Name</label><input id="a"></main>',
        'its title does not start with "Error:"',
    ),
    "an error summary link to nothing": (
        '<main><div class="govuk-error-summary"><ul><li><a href="#missing">Enter a name</a></li></ul></div>'
        "<h1>Page</h1></main>",
        "no element with id 'missing' on the page",
    ),
    "an error summary link that does not move focus": (
        '<main><div class="govuk-error-summary"><ul><li><a href="#box">Enter a date</a></li></ul></div>'
        '<h1>Page</h1><div id="box"></div></main>',
        "after clicking it, focus is on #(nothing), not #box",
    ),
    "an unlabelled select (axe)": (
        '<main><h1>Page</h1><select id="s"><option>1</option></select></main>',
        "axe select-name (critical)",
    ),
}


def serve(page, html: str, title: str = "A page") -> None:
    page.route(
        "**/fixture",
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<!DOCTYPE html><html lang="en"><head><title>{title}</title></head><body>{html}</body></html>',
        ),
    )
    page.goto("/fixture")


def test_a_sound_page_passes_and_each_problem_is_caught(page):
    serve(page, GOOD_FORM)
    check_page(page)
    missed = []
    for problem, (html, message) in BROKEN.items():
        page.unroute("**/fixture")
        serve(page, html)
        with pytest.raises(pytest.fail.Exception) as failure:
            check_page(page)
        if message not in str(failure.value):
            missed.append(f"{problem}: expected {message!r} in\n{failure.value}")
    assert not missed, "\n\n".join(missed)
