"""Issue #11: the product's modules import each other in one direction only.

Function-level imports count too: a cycle held together by an import inside a function is
still a cycle. `storage.crypto` (keys and ciphers) knows nothing of the models; the column
types use it, the models use the types, and `storage.encrypted` reads the models.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage", "reports", "rules")


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
    """handlers/__init__.py imports no flow (importing `handlers.texts` must not import every
    flow); the tree is built in handlers/routers.py, which bot/app.py imports."""
    graph = import_graph()
    assert graph["handlers"] == set()
    assert "handlers.routers" in graph["bot.app"]
