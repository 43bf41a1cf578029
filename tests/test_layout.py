"""How the code is laid out (README, "How the code is laid out"): who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = {"bot", "core", "handlers", "rules", "storage", "reports", "locales", "services", "web"}


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


def test_use_cases_import_neither_aiogram_nor_handlers() -> None:
    """services/: plain use cases (README, "How the code is laid out")."""
    files = sorted((ROOT / "services").glob("*.py"))
    assert files
    for path in files:
        assert not imported_packages(path) & {"aiogram", "handlers"}, path.name


def test_nothing_below_the_handlers_imports_them() -> None:
    for package in ("rules", "storage", "services", "reports"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            assert not imported_packages(path) & {"handlers", "web"}, path.relative_to(ROOT)


def test_every_package_is_installed() -> None:
    """A package missing from pyproject's list works in a checkout and fails once installed."""
    import tomllib

    listed = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = {name.rstrip("*") for name in listed["tool"]["setuptools"]["packages"]["find"]["include"]}
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages <= include, packages - include
