"""Accessibility checks run on every page a browser test visits.

axe finds what it can (contrast, names, ARIA); the rest is asserted here, because
axe does not notice them: radio groups, checkbox groups and date inputs inside a
fieldset with a legend, a label on every visible field, error summary links that
lead to a real field and move focus to it, one h1, and "Error: " in the title
exactly when the page shows an error summary.

The page fixture tracks every page load; a load that was not followed by
`check_page` fails the test at teardown, so no page slips through unchecked.

axe-core is added to every document by the browser context (`AXE_SCRIPT` as an
init script) rather than evaluated again on each page: on this machine that saves
about 0.2 s a page. `Axe().run(page)` then only runs it; a page from a context
without the init script gets axe-core evaluated into it first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.base import AXE_SCRIPT  # the context adds it to every document (conftest)
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

FAILING_IMPACTS = {"serious", "critical"}

#: Axe().run(page) evaluates its script before running axe: here only a check that axe-core is there
_axe = Axe(axe_script="if (!window.axe) { throw new Error('axe-core was not added to this page') }")

#: axe findings below "serious", reported at the end of the run but not failing it
MINOR_FINDINGS: dict[tuple[str, str, str], set[str]] = {}


@dataclass
class Load:
    url: str
    checked: bool = False


@dataclass
class LoadLog:
    """Every document a page loaded, and whether it was checked."""

    loads: list[Load] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("load", lambda loaded: self.loads.append(Load(loaded.url)))
        page._load_log = self  # noqa: SLF001  (found again by check_page)

    def unchecked(self) -> list[str]:
        return [load.url for load in self.loads if not load.checked]


_STRUCTURE = r"""
() => {
  const problems = [];
  const text = (el) => (el ? el.textContent : '').replace(/\s+/g, ' ').trim();
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.getAttribute('name') ? `[name="${el.getAttribute('name')}"]` : '');
  const visible = (el) => el.checkVisibility();
  const legendOf = (fieldset) => fieldset ? [...fieldset.children].find((c) => c.tagName === 'LEGEND') : null;

  const inFieldsetWithLegend = (elements, what) => {
    const fieldsets = new Set(elements.map((el) => el.closest('fieldset')));
    if (fieldsets.size !== 1) {
      problems.push(`${what} ${name(elements[0])}: its options are not all in one fieldset`);
      return;
    }
    const fieldset = [...fieldsets][0];
    if (!fieldset) {
      problems.push(`${what} ${name(elements[0])}: not inside a fieldset`);
    } else if (!text(legendOf(fieldset))) {
      problems.push(`${what} ${name(elements[0])}: its fieldset has no legend, or an empty one`);
    }
  };

  const groups = (type) => {
    const byName = new Map();
    for (const input of document.querySelectorAll(`input[type="${type}"]`)) {
      const key = input.form ? input.name : input.name + '@noform';
      byName.set(key, [...(byName.get(key) || []), input]);
    }
    return [...byName.values()];
  };
  for (const radios of groups('radio')) inFieldsetWithLegend(radios, 'Radio group');
  for (const boxes of groups('checkbox')) if (boxes.length > 1) inFieldsetWithLegend(boxes, 'Checkbox group');
  for (const dateInput of document.querySelectorAll('.govuk-date-input')) {
    inFieldsetWithLegend([dateInput], 'Date input');
  }

  for (const el of document.querySelectorAll('input, textarea, select')) {
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type)) continue;
    if (!visible(el)) continue;
    const labels = [...(el.labels || [])].map(text).filter(Boolean);
    if (!labels.length) problems.push(`Field ${name(el)} has no label`);
  }

  const h1s = [...document.querySelectorAll('h1')].map(text);
  if (h1s.length !== 1) problems.push(`The page has ${h1s.length} h1 elements, not 1: ${JSON.stringify(h1s)}`);

  const summary = document.querySelector('.govuk-error-summary');
  const title = document.title;
  if (summary && !title.startsWith('Error:')) {
    problems.push(`The page shows an error summary but its title does not start with "Error:": "${title}"`);
  }
  if (!summary && title.startsWith('Error:')) {
    problems.push(`The title starts with "Error:" but the page shows no error summary: "${title}"`);
  }
  if (summary && document.activeElement !== summary) {
    const focused = document.activeElement ? name(document.activeElement) : 'nothing';
    problems.push(`The error summary did not receive focus when the page loaded (focus is on ${focused})`);
  }
  const links = summary ? [...summary.querySelectorAll('a')].map((a) => a.getAttribute('href') || '') : [];
  return {problems, links, title};
}
"""


def _describe_violation(violation: dict) -> str:
    lines = [f"  axe {violation['id']} ({violation['impact']}): {violation['help']} – {violation.get('helpUrl', '')}"]
    for node in violation["nodes"][:10]:
        summary = (node.get("failureSummary") or "").replace("\n", " ")
        lines.append(f"      at {node.get('target')}: {node.get('html', '')[:160]}  {summary[:240]}")
    if len(violation["nodes"]) > 10:
        lines.append(f"      … and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def _check_error_links(page: Page, links: list[str]) -> list[str]:
    """Each error summary link must lead to a field that exists; in-page links must move focus to it."""
    problems = []
    elsewhere: dict[str, list[str]] = {}
    for index, href in enumerate(links):
        path, _, target = href.partition("#")
        if not target:
            problems.append(f"Error summary link {href!r} does not point at a field")
            continue
        if path:
            # A link to another page (check your answers lists questions on section pages).
            elsewhere.setdefault(path, []).append(target)
            continue
        if not page.evaluate("(id) => !!document.getElementById(id)", target):
            problems.append(f"Error summary link {href!r}: no element with id {target!r} on the page")
            continue
        page.locator(".govuk-error-summary a").nth(index).click()
        active = page.evaluate("() => document.activeElement ? document.activeElement.id : ''")
        if active != target:
            problems.append(
                f"Error summary link {href!r}: after clicking it, focus is on #{active or '(nothing)'}, not #{target}"
            )
    for path, targets in elsewhere.items():
        other = page.context.new_page()
        try:
            other.goto(path)
            for target in targets:
                if not other.evaluate("(id) => !!document.getElementById(id)", target):
                    problems.append(f"Error summary link {path}#{target}: no element with id {target!r} on that page")
        finally:
            other.close()
    return problems


def _is_known_govuk_issue(violation: dict, node: dict) -> bool:
    """GOV.UK Frontend's conditional reveal puts aria-expanded on the radio that reveals content: invalid
    under ARIA 1.2, which axe calls critical, but kept by the design system on purpose because screen
    readers announce it (govuk-frontend issues #979 and #1280, "known issue"). Only that exact case."""
    summary = (node.get("failureSummary") or "").strip().splitlines()
    return (
        violation["id"] == "aria-allowed-attr"
        and node.get("html", "").startswith('<input class="govuk-radios__input"')
        and 'aria-controls="conditional-' in node.get("html", "")
        and [line.strip() for line in summary[1:]]
        in (
            ['ARIA attribute is not allowed: aria-expanded="false"'],
            ['ARIA attribute is not allowed: aria-expanded="true"'],
        )
    )


def _without_known_govuk_issue(violation: dict) -> dict:
    known = [node for node in violation["nodes"] if _is_known_govuk_issue(violation, node)]
    if not known:
        return violation
    left = [node for node in violation["nodes"] if node not in known]
    # Reported at the end of the run, below "serious"; any other node of the rule still fails.
    return {**violation, "nodes": left} if left else {**violation, "impact": "known GOV.UK Frontend issue"}


def check_page(page: Page) -> None:
    """Run axe and the structural checks on the page now shown; fail the test on any problem."""
    page.wait_for_load_state("load")
    log: LoadLog | None = getattr(page, "_load_log", None)
    if log is not None and log.loads:
        log.loads[-1].checked = True

    if not page.evaluate("() => !!window.axe"):
        page.evaluate(AXE_SCRIPT)
    results = _axe.run(page).response
    results["violations"] = [_without_known_govuk_issue(v) for v in results["violations"]]
    failing = [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]
    for violation in results["violations"]:
        if violation["impact"] not in FAILING_IMPACTS:
            key = (violation["id"], violation["impact"] or "", violation["help"])
            MINOR_FINDINGS.setdefault(key, set()).add(urlsplit(page.url).path)

    structure = page.evaluate(_STRUCTURE)
    problems = list(structure["problems"])
    problems += _check_error_links(page, structure["links"])

    if failing or problems:
        report = [f"Accessibility problems on {page.url} ({structure['title']!r}):"]
        report += [_describe_violation(v) for v in failing]
        report += [f"  {problem}" for problem in problems]
        pytest.fail("\n".join(report), pytrace=False)
