"""The import graph between the areas of surveyapp, read from the source (nothing is imported)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "surveyapp"


def areas(root: Path = PACKAGE) -> set[str]:
    """The area packages: surveyapp's sub-packages (audits, chasing, ...)."""
    return {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()}


def all_imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, at the top or inside a function, with its line ("from m import n" gives
    both m and m.n, since n may be a module)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every surveyapp module a file imports, with its line."""
    return [(line, name) for line, name in all_imports(path) if name.split(".")[0] == "surveyapp"]


def area_graph(root: Path = PACKAGE) -> dict[str, dict[str, list[str]]]:
    """area -> {area it imports -> ["file:line module", ...]}."""
    known = areas(root)
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if len(parts) < 2 or parts[0] not in known:
            continue
        for line, module in imported_modules(path):
            names = module.split(".")
            if len(names) > 1 and names[1] in known and names[1] != parts[0]:
                graph[parts[0]][names[1]].append(f"{path.relative_to(root.parent)}:{line} {module}")
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """The strongly connected groups of more than one area (Tarjan), each sorted: areas that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(set(graph) | {t for targets in graph.values() for t in targets}):
        if node not in index:
            visit(node)
    return sorted(groups)
