"""How the code is laid out (README, "How the code is laid out"): who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = {"bot", "handlers", "rules", "storage", "reports", "locales"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_emulator_imports_nothing_from_the_product() -> None:
    """The emulator plays Telegram: it may know the Bot API, never Samspil."""
    files = sorted((ROOT / "emulator").glob("*.py"))
    assert files
    for path in files:
        assert not imported_packages(path) & PRODUCT, path.name
