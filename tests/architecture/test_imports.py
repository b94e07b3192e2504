"""The areas' import graph: no circles, the activity log a leaf, services free of the web layer.

Read from the source with ``ast`` (nothing is imported), so a circle fails here even where Python's
lazy imports would let it run. The helpers are in tests/architecture/imports.py.
"""

from __future__ import annotations

from tests.architecture.imports import PACKAGE, all_imports, area_graph, cycles, imported_modules


def test_no_two_areas_import_each_other_even_through_others():
    graph = area_graph()
    found = cycles(graph)
    evidence = {
        tuple(group): [line for a in group for b in group if b in graph.get(a, {}) for line in graph[a][b][:2]]
        for group in found
    }
    assert found == [], f"Areas in a circle (each imports the next): {evidence}"


def test_the_activity_log_imports_no_other_area():
    # Every area writes to the log; if it imported one of them, the two could never be separated.
    assert dict(area_graph().get("activity", {})) == {}


def test_services_import_neither_flask_nor_jinja():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.stem != "services":
            continue
        for line, module in all_imports(path):
            if module.split(".")[0] in ("flask", "flask_login", "flask_wtf", "jinja2", "markupsafe"):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    assert offenders == []


def test_the_checks_catch_a_circle_and_a_flask_import(tmp_path):
    """A made-up tree with a circle (a -> b -> a) and a service importing Flask: both are found."""
    root = tmp_path / "surveyapp"
    for area, source in {
        "a": "from surveyapp.b import models\n",
        "b": "from surveyapp.a.services import x\n",
        "c": "from surveyapp.a import models\n",
    }.items():
        (root / area).mkdir(parents=True)
        (root / area / "__init__.py").write_text("")
        (root / area / "services.py").write_text(source + "from flask import request\n")
    assert cycles(area_graph(root)) == [["a", "b"]]
    assert [module for _line, module in imported_modules(root / "a" / "services.py")] == [
        "surveyapp.b",
        "surveyapp.b.models",
    ]
    assert "flask" in {m for _l, m in all_imports(root / "c" / "services.py")}
