"""Issue #11: the product's modules import each other in one direction only.

Function-level imports count too: a cycle held together by an import inside a function is
still a cycle. `storage.crypto` (keys and ciphers) knows nothing of the models; the column
types use it, the models use the types, and `storage.encrypted` reads the models.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "core", "handlers", "services", "web", "storage", "reports", "rules")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).glob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the product modules it imports, anywhere in it (the package of a submodule
    is imported too)."""
    modules = _modules()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for imported in names:
                if imported.split(".")[0] in PACKAGES and (target := owner(imported)):
                    targets.add(target)
                    if "." in target:
                        targets.add(target.split(".")[0])
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_itself_round_a_circle() -> None:
    assert cycles(import_graph()) == []


def test_crypto_types_models_import_one_way() -> None:
    graph = import_graph()
    assert graph["storage.crypto"] <= {"storage"}  # keys and ciphers: no models, no column types
    assert "storage.crypto" in graph["storage.types"] and "storage.models" not in graph["storage.types"]
    assert "storage.types" in graph["storage.models"] and "storage.encrypted" not in graph["storage.models"]
    assert {"storage.models", "storage.types", "storage.crypto"} <= graph["storage.encrypted"]


def test_the_handlers_package_builds_no_tree_of_itself() -> None:
    """handlers/__init__.py imports no flow (importing one flow module must not import every
    flow); the tree is built in handlers/routers.py, which bot/app.py imports."""
    graph = import_graph()
    assert graph["handlers"] == set()
    assert "handlers.routers" in graph["bot.app"]


def test_only_the_router_factory_of_handlers_is_imported_from_outside() -> None:
    """Entry points reach the flows through `handlers.routers` alone (the seat check and the
    tap answers are installed by it too); nothing else imports a handler module."""
    outside = {target for name, targets in import_graph().items() if not name.startswith("handlers")
               for target in targets if target.startswith("handlers.")}
    assert outside <= {"handlers.routers"}


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, targets in import_graph().items():
        graph.setdefault(name.split(".")[0], set()).update(t.split(".")[0] for t in targets)
    for package, targets in graph.items():
        targets.discard(package)
    return graph


def test_the_packages_import_in_one_direction() -> None:
    """Entry points (bot) -> chat and web (handlers, web) -> use cases (services) -> reports
    -> core -> rules and storage: no package reaches back up, so a package is read without
    the ones above it."""
    graph = package_graph()
    assert cycles(graph) == []
    above = {"bot": set(), "handlers": {"bot", "web"}, "web": {"bot", "handlers"},
             "services": {"bot", "handlers", "web"}}
    for package, upper in above.items():
        assert not graph.get(package, set()) & upper, (package, graph[package] & upper)
    for lower in ("reports", "core"):
        assert not graph.get(lower, set()) & {"bot", "handlers", "web", "services"}, (lower, graph[lower])
    assert "reports" not in graph["core"]
    for bottom in ("rules", "storage"):
        assert not graph.get(bottom, set()) & {"bot", "core", "handlers", "web", "services", "reports"}, bottom
