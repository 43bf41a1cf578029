"""Fixtures: the local Bot API emulator, a controlled clock, and the real bot polling it."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import App, build_app, run_polling
from bot.playbook import Cast
from core.clock import FakeClock
from core.config import Settings
from emulator import BotAPIEmulator
from storage import crypto

# Property tests draw the same examples on every run: a test that fails sometimes is a
# failing test, so randomness belongs in the search for examples, not in CI.
hypothesis_settings.register_profile("samspil", derandomize=True, database=None, deadline=None)
hypothesis_settings.load_profile("samspil")

# Monday 23 November 2026, 10:00 in Copenhagen: the fake clock of every test in which no real
# process or real clock takes part. Where one does (a `samspil` command in a subprocess, a
# `samspil run` process), the test's clock follows the real one: see `follow_real_time`.
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def next_workday_morning(now: datetime | None = None) -> datetime:
    """The next weekday at 09:00 in Copenhagen after `now` (the real clock's now).

    A bot on this fake time is never behind a real process started by the test: whatever
    that process writes "due now" is due for the bot too, even at the end of quiet hours
    (which end at 08:00), on any date, in summer and in winter time.
    """
    local = (now or datetime.now(UTC)).astimezone(COPENHAGEN)
    day = local.date() if local.hour < 9 else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(9, 0), COPENHAGEN).astimezone(UTC)


def follow_real_time(clock: FakeClock) -> FakeClock:
    """Set a test's clock from the real one, for tests in which a real process takes part."""
    clock.set(next_workday_morning())
    return clock

# The data key every test runs with (storage/crypto.py): in the environment, so Settings built
# anywhere in the tests, and the processes they start (tests/helpers.cli_env), find it.
TEST_DATA_KEY = "c2Ftc3BpbC10ZXN0LWtleS0zMi1ieXRlcy1sb25nISE="
os.environ["DATA_KEY"] = TEST_DATA_KEY


@pytest.fixture(autouse=True)
def _data_key_in_this_process() -> None:
    """Tests that open the database directly read and write personal text too."""
    if crypto.configured() is None:
        crypto.configure(TEST_DATA_KEY)
os.environ.pop("DATA_KEY_FILE", None)
os.environ.pop("DATA_KEYS_OLD", None)


@pytest.fixture
async def emu() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator() as emulator:
        yield emulator


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


POSTGRES_URL = os.environ.get("SAMSPIL_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("SAMSPIL_TEST_REDIS_URL")


@pytest.fixture
async def redis_space() -> AsyncIterator[tuple[Any, str]]:
    """A Redis client and a key prefix of the test's own, its keys deleted after (skipped,
    saying why, when SAMSPIL_TEST_REDIS_URL is not set)."""
    if not REDIS_URL:
        pytest.skip("needs Redis: set SAMSPIL_TEST_REDIS_URL to run it")
    from redis.asyncio import Redis

    prefix = f"t_{uuid.uuid4().hex[:12]}"
    client = Redis.from_url(REDIS_URL)
    try:
        yield client, prefix
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@dataclass
class Database:
    kind: str  # "sqlite" | "postgres"
    url: str
    schema: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "samspil"


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """Every test that uses the bot runs on SQLite, and on PostgreSQL with Redis for the
    conversation state when SAMSPIL_TEST_POSTGRES_URL (and SAMSPIL_TEST_REDIS_URL) are set."""
    if request.param == "sqlite":
        yield Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'samspil.db'}")
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL variant: set SAMSPIL_TEST_POSTGRES_URL to run it")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        # A prefix of its own: tests running at the same time never share conversation state.
        yield Database("postgres", POSTGRES_URL, schema, REDIS_URL, redis_prefix=schema)
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await admin.dispose()


@pytest.fixture
def db_path(database: Database, tmp_path: Path) -> Path:
    """The SQLite file itself, for tests that look at the bytes on disk."""
    if database.kind != "sqlite":
        pytest.skip("looks at the SQLite file itself")
    return tmp_path / "samspil.db"


@pytest.fixture
def settings(emu: BotAPIEmulator, database: Database) -> Settings:
    return Settings(
        _env_file=None,
        bot_token=emu.token,
        bot_api_url=emu.base_url,
        database_url=database.url,
        database_schema=database.schema,
        redis_url=database.redis_url,
        redis_prefix=database.redis_prefix,
        municipality_name="Faxe Kommune",
        data_key=TEST_DATA_KEY,
        # Pacing per chat is tested on its own (tests/test_delivery.py); flows need no waits.
        send_chat_interval=0,
        # A coordinator's routine notices at once, as the flows expect them; the digest (the
        # default) is tested on its own (tests/test_digest_flow.py).
        coordinator_notices="at_once",
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


@pytest.fixture
async def web_port(samspil: App) -> AsyncIterator[int]:
    """The Mini App served beside the bot under test, on a free port."""
    from web.server import start_web

    runner, port = await start_web(samspil, "127.0.0.1", 0)
    try:
        yield port
    finally:
        await runner.cleanup()
