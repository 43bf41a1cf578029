"""The Danish catalog is complete and every translation keeps the message's shape."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from bot.catalogs import ROOT, extract, untranslated
from core.i18n import compile_catalogs

PLACEHOLDER = re.compile(r"\{\w*\}")
TAG = re.compile(r"</?(\w+)")


def _entries(lang: str):  # type: ignore[no-untyped-def]
    for path in sorted((ROOT / "locales" / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            for msg in read_po(fh, locale=lang):
                if msg.id:
                    yield path.name, msg


def test_every_text_has_a_danish_translation() -> None:
    missing = list(untranslated("da"))
    assert not missing, f"{len(missing)} texts without Danish: {missing[:5]} (python -m bot.catalogs update)"


def test_every_text_in_the_code_is_in_a_catalog() -> None:
    found = extract()
    assert found, "no texts extracted: is the extractor looking in the right place?"
    for name in found:
        assert (ROOT / "locales" / "da" / "LC_MESSAGES" / f"{name}.po").exists(), name


def test_danish_keeps_placeholders_and_tags() -> None:
    for name, msg in _entries("da"):
        msgid = msg.id if isinstance(msg.id, str) else msg.id[0]
        msgstr = msg.string if isinstance(msg.string, str) else msg.string[0]
        if not msgstr:
            continue
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), (name, msgid)
        assert sorted(TAG.findall(msgid)) == sorted(TAG.findall(msgstr)), (name, msgid)
        assert not msg.fuzzy, (name, msgid)


def test_catalogs_compile_without_a_manual_step(tmp_path: Path) -> None:
    out = compile_catalogs(out=tmp_path / "mo")
    for lang in ("da", "en"):
        assert (out / lang / "LC_MESSAGES" / "samspil.mo").stat().st_size > 0
