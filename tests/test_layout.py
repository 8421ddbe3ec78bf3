"""The house's shape, checked on its import graph (grimp): apps depend in one direction and no
module imports itself back through others. docs/architecture.md draws the same layers.

Run by hand: ``.venv/bin/python -m pytest tests/test_layout.py -q``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "demo", "billing", "monitoring", "cases", "accounts", "common")
# Top to bottom: a package imports only packages below it (billing above monitoring above cases).
LAYERS = ("config", "demo", "billing", "monitoring", "cases", "accounts", "common")


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_no_import_cycle_anywhere(graph):
    # A package's __init__ is not an import of its children (grimp counts the parent package
    # as imported by its children only when the code imports it, which this tree never does).
    assert _cycles(graph) == []


def test_packages_depend_downwards_only(graph):
    illegal = graph.find_illegal_dependencies_for_layers(layers=LAYERS, containers=None)
    described = [
        f"{d.importer} -> {d.imported}: " + "; ".join(f"{r.heads} {r.middle} {r.tails}" for r in d.routes)
        for d in illegal
    ]
    assert described == []


def test_common_imports_no_app(graph):
    for app in ("accounts", "cases", "billing", "monitoring", "demo", "config"):
        assert graph.find_shortest_chain(importer="common", imported=app) is None, app


def _imports_inside_functions() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    for inner in ast.walk(node):
                        if isinstance(inner, ast.Import | ast.ImportFrom):
                            module = inner.module if isinstance(inner, ast.ImportFrom) else inner.names[0].name
                            if module and module.split(".")[0] in PACKAGES:
                                found.append(f"{path.relative_to(ROOT)}:{inner.lineno} {module}")
    return found


# Imports of project modules that stay inside functions, each for a reason Django imposes:
# AppConfig.ready() runs once the app registry is loaded (models, signal wiring and panel
# registration cannot be imported while settings load). Everything else is imported at the top
# of its module.
ALLOWED_INSIDE_FUNCTIONS = {
    "accounts/apps.py",
    "cases/apps.py",
    "billing/apps.py",
    "monitoring/apps.py",
}


def test_imports_inside_functions_only_where_django_requires():
    unexpected = [f for f in _imports_inside_functions() if f.split(":")[0] not in ALLOWED_INSIDE_FUNCTIONS]
    assert unexpected == []
