"""Fixtures: the local Bot API emulator, a controlled clock, and the real bot polling it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App, build_app, run_polling
from bot.clock import FakeClock
from bot.config import Settings
from bot.emulator import BotAPIEmulator
from bot.playbook import Cast

# Monday 23 November 2026, 10:00 in Copenhagen.
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
async def emu() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator() as emulator:
        yield emulator


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "samspil.db"


@pytest.fixture
def settings(emu: BotAPIEmulator, db_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        bot_token=emu.token,
        bot_api_url=emu.base_url,
        database_url=f"sqlite+aiosqlite:///{db_path}",
        municipality_name="Faxe Kommune",
        # Pacing per chat is tested on its own (tests/test_delivery.py); flows need no waits.
        send_chat_interval=0,
    )


async def start_bot(settings: Settings, clock: FakeClock) -> tuple[App, asyncio.Task[None]]:
    app = await build_app(settings, clock=clock)
    started = asyncio.Event()

    async def _started(**_: object) -> None:
        started.set()

    app.dp.startup.register(_started)
    task = asyncio.create_task(run_polling(app, handle_signals=False))
    await asyncio.wait_for(started.wait(), 10)
    return app, task


async def stop_bot(app: App, task: asyncio.Task[None]) -> None:
    await app.dp.stop_polling()
    await task
    await app.close()


@pytest.fixture
async def samspil(settings: Settings, clock: FakeClock) -> AsyncIterator[App]:
    app, task = await start_bot(settings, clock)
    try:
        yield app
    finally:
        await stop_bot(app, task)


@pytest.fixture
def cast(samspil: App, emu: BotAPIEmulator, settings: Settings, clock: FakeClock) -> Cast:
    return Cast(emu=emu, settings=settings, i18n=samspil.i18n, clock=clock, scheduler=samspil.scheduler)
