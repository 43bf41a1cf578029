"""Developer tool for the gettext catalogs: extract, update, check.

    python -m bot.catalogs update   # new msgids into locales/<lang>/LC_MESSAGES/<module>.po
    python -m bot.catalogs check    # list Danish msgids without a translation
    python -m bot.catalogs translate da.json   # fill Danish from a {msgid: msgstr} file

One catalog file per source module ("handlers-input.po" for handlers/input.py),
so a flow and its texts sit side by side. Msgids are English; Danish is the
catalog people read first and must be complete (tests/test_catalogs.py).
"""

from __future__ import annotations

import fcntl
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "core", "handlers", "reports", "rules", "services", "storage", "web")
KEYWORDS = {"_": None, "__": None, "gettext": None, "lazy_gettext": None,
            "ngettext": (1, 2), "_n": (1, 2)}
LANGS = ("da", "en")


def catalog_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    return "-".join(rel.parts)


def extract() -> dict[str, list[tuple[str | tuple[str, str], str, int]]]:
    """msgids per catalog name, with where they occur."""
    found: dict[str, list[tuple[str | tuple[str, str], str, int]]] = {}
    for pkg in SOURCES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            msgs = []
            for lineno, message, _comments, _context in extract_from_file(
                "python", str(path), keywords=KEYWORDS
            ):
                msgs.append((message, str(path.relative_to(ROOT)), lineno))
            if msgs:
                found[catalog_name(path)] = msgs
    return found


def _po_path(lang: str, name: str) -> Path:
    return ROOT / "locales" / lang / "LC_MESSAGES" / f"{name}.po"


def _read(path: Path, lang: str) -> Catalog:
    if path.exists():
        with path.open("rb") as fh:
            return read_po(fh, locale=lang)
    return Catalog(locale=lang, project="Samspil", domain="samspil")


@contextmanager
def _locked() -> Iterator[None]:
    """One writer of the catalogs at a time (several developers' tools may run at once)."""
    with (ROOT / "locales" / ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def update() -> None:
    with _locked():
        _update()


def _update() -> None:
    for name, msgs in extract().items():
        for lang in LANGS:
            path = _po_path(lang, name)
            old = _read(path, lang)
            new = Catalog(locale=lang, project="Samspil", domain="samspil")
            for message, file, line in msgs:
                msgid = message if isinstance(message, str) else message
                prev = old.get(msgid) if not isinstance(msgid, tuple) else old.get(msgid[0])
                string = prev.string if prev is not None else ("" if isinstance(msgid, str) else ("", ""))
                existing = new.get(msgid if isinstance(msgid, str) else msgid[0])
                if existing is None:
                    new.add(msgid, string, locations=[(file, line)])
                else:
                    existing.locations.append((file, line))
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                write_po(fh, new, width=100, omit_header=False, sort_output=False)


def untranslated(lang: str = "da") -> Iterator[tuple[str, str]]:
    """(catalog, msgid) for every extracted message without a translation in `lang`."""
    for name, msgs in extract().items():
        cat = _read(_po_path(lang, name), lang)
        for message, _file, _line in msgs:
            key = message if isinstance(message, str) else message[0]
            entry = cat.get(key)
            ok = entry is not None and entry.string and not entry.fuzzy
            if ok and isinstance(entry.string, tuple):
                ok = all(entry.string)
            if not ok:
                yield name, key


def translate(mapping: dict[str, str], lang: str = "da") -> int:
    """Fill translations from {msgid: msgstr} in every catalog of `lang` that has the msgid."""
    with _locked():
        return _translate(mapping, lang)


def _translate(mapping: dict[str, str], lang: str) -> int:
    done = 0
    for path in sorted((ROOT / "locales" / lang / "LC_MESSAGES").glob("*.po")):
        cat = _read(path, lang)
        changed = False
        for msgid, msgstr in mapping.items():
            entry = cat.get(msgid)
            if entry is not None and entry.string != msgstr:
                entry.string = msgstr
                entry.flags.discard("fuzzy")
                changed = True
                done += 1
        if changed:
            with path.open("wb") as fh:
                write_po(fh, cat, width=100, sort_output=False)
    return done


def main() -> None:
    cmd = sys.argv[1] if len(sys.argv) > 1 else "check"
    if cmd == "update":
        update()
    if cmd == "translate":  # python -m bot.catalogs translate mapping.json (msgid -> Danish)
        import json

        print(translate(json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))), "entries translated")
    missing = list(untranslated("da"))
    for name, msgid in missing:
        print(f"{name}: {msgid!r}")
    print(f"{len(missing)} Danish translations missing")
    raise SystemExit(1 if (missing and cmd == "check") else 0)


if __name__ == "__main__":
    main()
