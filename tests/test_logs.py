"""Logs carry ids, never names or what people wrote: checked on a whole demo run."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot import demo


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_a_full_demo_logs_no_names_or_texts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    handler = _Everything()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        assert await demo.run_demo(str(tmp_path)) == 0
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    printed = capsys.readouterr().out
    assert "Camilla Holm" in printed  # the demo did print the conversation...
    logged = "\n".join(handler.lines)
    assert len(handler.lines) > 50  # ...and the logs were captured at DEBUG
    secrets = ["Camilla", "Mette", "Jens", "Hanne", "Emma", "Klasselærer", "sommerferien",
               "mormor", "ondt i maven", "fodbold", "billedkunst"]
    leaked = [s for s in secrets if s.lower() in logged.lower()]
    assert not leaked, f"personal data in the logs: {leaked}"
