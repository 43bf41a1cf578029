"""Issue #2, storage and the command line: `samspil migrate`, the upgrade on start, SQLite
with WAL and foreign keys, and the admin command's errors (its links: test_flow_registration)."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.app import build_app
from bot.cli import main
from core.config import Settings
from emulator import BotAPIEmulator
from storage.db import alembic_config, make_engine, upgrade
from tests.helpers import cli_env, fresh_routers, samspil_cli  # noqa: F401

TABLES = {"person", "registration", "dialog", "participant", "invitation", "consent", "fsm_state"}


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head
    return head


def tables_and_version(db: Path) -> tuple[set[str], list[str]]:
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        versions = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
    return tables, versions


async def test_migrate_creates_a_fresh_database_at_head_and_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    url = f"sqlite+aiosqlite:///{db}"

    first = await samspil_cli("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert first.code == 0, first.stderr
    assert "Database is up to date." in first.stdout
    assert "Traceback" not in first.stderr
    tables, versions = tables_and_version(db)
    assert TABLES <= tables
    assert versions == [head_revision()]

    # Data written in between survives a second run, which changes nothing.
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO person (telegram_id, name, created_at) VALUES (42, 'Mette', '2026-11-23 09:00:00')")
    second = await samspil_cli("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert second.code == 0, second.stderr
    assert "Database is up to date." in second.stdout
    assert "Running upgrade" not in second.stderr  # nothing left to do
    assert tables_and_version(db) == (tables, versions)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT telegram_id FROM person").fetchall() == [(42,)]


async def test_the_app_upgrades_the_database_when_it_starts(tmp_path: Path) -> None:
    db = tmp_path / "start.db"
    assert not db.exists()
    settings = Settings(_env_file=None, bot_token="123456789:AAbbCCddEEff",
                        database_url=f"sqlite+aiosqlite:///{db}")
    app = await build_app(settings, start_scheduler=False)
    try:
        tables, versions = tables_and_version(db)
        assert TABLES <= tables
        assert versions == [head_revision()]
    finally:
        await app.close()


async def test_samspil_run_upgrades_the_database_and_answers(emu: BotAPIEmulator, tmp_path: Path) -> None:
    """The real `samspil run`: it upgrades a fresh database, sets the menu, answers, stops on SIGTERM."""
    db = tmp_path / "run.db"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=tmp_path,
        env=cli_env(BOT_TOKEN=emu.token, BOT_API_URL=emu.base_url, DATABASE_URL=f"sqlite+aiosqlite:///{db}"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await emu.wait_until(lambda: bool(emu.commands_for()), timeout=60)
        tables, versions = tables_and_version(db)
        assert TABLES <= tables and versions == [head_revision()]
        phone = emu.phone(5001, "Kim", language_code="da")
        await phone.send("/start")
        greeting = await phone.wait_for("Hej! Jeg er Samspil.", timeout=30)
        assert "personligt link fra din tovholder" in greeting.text
        # The reply goes out inside the update's transaction: let it commit before stopping.
        await emu.wait_idle()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()


async def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            assert (await conn.scalar(text("PRAGMA journal_mode"))).lower() == "wal"
            assert await conn.scalar(text("PRAGMA foreign_keys")) == 1
        # ... and the foreign keys are enforced: a seat in a dialog that does not exist fails.
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text(
                    "INSERT INTO participant (dialog_id, name, role, consent_giver, created_at) "
                    "VALUES (999, 'X', 'network', 0, :now)"), {"now": datetime.now(UTC)})
    finally:
        await engine.dispose()
    # WAL is a property of the file: its header says file format 2 (WAL) for write and read.
    header = (tmp_path / "p.db").read_bytes()[:20]
    assert header[18:20] == b"\x02\x02"


# The console entry in this process (`main`): a fresh interpreter spends seconds importing
# aiogram; tests/test_flow_registration.py runs `samspil admin` as a real process.

@pytest.mark.parametrize("args, line", [
    (["add-coordinator", "--name", ""], "Configuration error: --name: give a name of 1-80 characters"),
    (["add-coordinator", "--name", "x" * 81], "Configuration error: --name: give a name of 1-80 characters"),
    (["add-professional", "--name", "Hanne", "--title", "  "],
     "Configuration error: --title: give a title of 1-80 characters"),
    (["add-professional", "--name", "Hanne", "--title", "Klasselærer"],
     "Configuration error: BOT_USERNAME: not set, and the Bot API at http://127.0.0.1:9 could not be "
     "asked (TelegramNetworkError)"),
])
def test_admin_errors_are_one_line_and_exit_2(args: list[str], line: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOT_TOKEN", "123456789:AAbbCCddEEff")
    monkeypatch.setenv("BOT_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    monkeypatch.delenv("BOT_USERNAME", raising=False)
    with pytest.raises(SystemExit) as exc:
        main(["admin", *args])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert line in err.splitlines()
    assert not (tmp_path / "a.db").exists()
