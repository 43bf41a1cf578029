"""Issue #11: the conversation-state storages keep the contract of aiogram's own storages.

The same tests run against every storage Samspil can be configured with:

- `SQLStorage` (storage/fsm.py) on SQLite and on PostgreSQL, each both in a transaction of
  its own (outside an update) and through the update's session (`current_session`, as
  bot/middlewares.py sets it while an update is handled). With Redis configured the state
  lives there too (`make_fsm`); Redis holds the locks only.

The contract: set/get/clear of state and of data, `update_data` merging, states given as
`State` objects or strings, unicode and nested data, and keys that differ in any one field
(bot, chat, user, thread, business connection, destiny) never seeing each other's state or
data. Then what only the SQL storage promises: a write through the update's session
commits or rolls back with it; without one, every write commits at once on its own. Last,
the Redis lock per conversation (`HeldLocks`): held as long as its holder works, left by a
dead holder for its time to live at most, never failing the update, never waiting for a
renewal on its way.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bot.app import make_fsm
from core.clock import FakeClock
from core.config import Settings
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.fsm import HeldLocks, SQLStorage, current_session, key_builder
from storage.models import FsmRecord
from tests.conftest import START, TEST_DATA_KEY

POSTGRES_URL = os.environ.get("SAMSPIL_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("SAMSPIL_TEST_REDIS_URL")


class Steps(StatesGroup):
    first = State()
    second = State()


KEY = StorageKey(bot_id=42, chat_id=1001, user_id=1001)

# Keys that differ from KEY in exactly one field.
NEIGHBOURS = {
    "bot_id": StorageKey(bot_id=43, chat_id=1001, user_id=1001),
    "chat_id": StorageKey(bot_id=42, chat_id=1002, user_id=1001),
    "user_id": StorageKey(bot_id=42, chat_id=1001, user_id=1002),
    "thread_id": StorageKey(bot_id=42, chat_id=1001, user_id=1001, thread_id=7),
    "business_connection_id": StorageKey(bot_id=42, chat_id=1001, user_id=1001,
                                         business_connection_id="biz-1"),
    "destiny": StorageKey(bot_id=42, chat_id=1001, user_id=1001, destiny="elsewhere"),
}

NESTED = {
    "child": "Åse-Marie Ærø Østergård",
    "note": "Hun siger: »det går godt« – 😊 ﷺ 中文",
    "nested": {"list": [1, 2.5, None, True, False, "å"], "deep": {"empty": [], "none": None}},
    "count": 0,
    "blank": "",
}


# ---- the storages ---------------------------------------------------------------------------------


@dataclass
class Backend:
    storage: BaseStorage
    sessionmaker: async_sessionmaker[AsyncSession] | None = None  # the SQL storages'
    in_update: bool = False  # writes go through an update's session


BACKENDS = ["sqlite", "sqlite-in-update", "postgres", "postgres-in-update"]


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    kind = request.param
    if kind.startswith("postgres"):
        if not POSTGRES_URL:
            pytest.skip("PostgreSQL storage: set SAMSPIL_TEST_POSTGRES_URL to run it")
        sql = _postgres()
    else:
        sql = _sqlite(tmp_path)
    async for sessionmaker in sql:
        storage = SQLStorage(sessionmaker, clock=FakeClock(START).now)
        if not kind.endswith("-in-update"):
            yield Backend(storage, sessionmaker)
            continue
        # As while an update is handled (bot/middlewares.py): one session, one transaction,
        # published in `current_session`; committed when the handler is done.
        async with sessionmaker() as session, session.begin():
            token = current_session.set(session)
            try:
                yield Backend(storage, sessionmaker, in_update=True)
            finally:
                current_session.reset(token)


async def _sqlite(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'fsm.db'}")
    try:
        await upgrade(engine)
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def _postgres() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    assert POSTGRES_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(POSTGRES_URL, schema=schema)
    try:
        await upgrade(engine)
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await admin.dispose()


# ---- the contract -----------------------------------------------------------------------------------


async def test_state_is_set_read_and_cleared(backend: Backend) -> None:
    storage = backend.storage
    assert await storage.get_state(KEY) is None
    await storage.set_state(KEY, Steps.first)  # a State object: stored as its name
    assert await storage.get_state(KEY) == "Steps:first"
    await storage.set_state(KEY, "Steps:second")  # a string: stored as given
    assert await storage.get_state(KEY) == Steps.second.state
    await storage.set_state(KEY, "any:string – også æøå")
    assert await storage.get_state(KEY) == "any:string – også æøå"
    await storage.set_state(KEY, None)
    assert await storage.get_state(KEY) is None
    await storage.set_state(KEY)  # the default is None too
    assert await storage.get_state(KEY) is None


async def test_data_round_trips_unicode_and_nested_values_and_is_cleared(backend: Backend) -> None:
    storage = backend.storage
    assert await storage.get_data(KEY) == {}
    await storage.set_data(KEY, NESTED)
    got = await storage.get_data(KEY)
    assert got == NESTED
    got["nested"]["list"].append("changed by the caller")  # the caller's copy, not the stored data
    got["child"] = "other"
    assert await storage.get_data(KEY) == NESTED
    await storage.set_data(KEY, {"only": "this"})  # replaces, does not merge
    assert await storage.get_data(KEY) == {"only": "this"}
    assert await storage.get_value(KEY, "only") == "this"
    assert await storage.get_value(KEY, "missing", "default") == "default"
    await storage.set_data(KEY, {})
    assert await storage.get_data(KEY) == {}


async def test_update_data_merges(backend: Backend) -> None:
    storage = backend.storage
    assert await storage.update_data(KEY, {"a": 1}) == {"a": 1}
    assert await storage.update_data(KEY, {}) == {"a": 1}
    merged = await storage.update_data(KEY, {"b": {"c": ["ø", 2]}, "d": "ü"})
    assert merged == {"a": 1, "b": {"c": ["ø", 2]}, "d": "ü"}
    merged["a"] = 99  # the returned dict is a copy
    assert await storage.update_data(KEY, {"a": 2}) == {"a": 2, "b": {"c": ["ø", 2]}, "d": "ü"}
    assert await storage.get_data(KEY) == {"a": 2, "b": {"c": ["ø", 2]}, "d": "ü"}


async def test_state_and_data_are_independent(backend: Backend) -> None:
    storage = backend.storage
    await storage.set_state(KEY, Steps.first)
    await storage.set_data(KEY, {"x": 1})
    await storage.set_state(KEY, None)
    assert await storage.get_data(KEY) == {"x": 1}  # clearing the state keeps the data
    await storage.set_state(KEY, Steps.second)
    await storage.set_data(KEY, {})
    assert await storage.get_state(KEY) == "Steps:second"  # clearing the data keeps the state
    await storage.update_data(KEY, {"y": 2})
    assert await storage.get_state(KEY) == "Steps:second"


@pytest.mark.parametrize("field", list(NEIGHBOURS))
async def test_keys_that_differ_in_one_field_never_meet(backend: Backend, field: str) -> None:
    storage, other = backend.storage, NEIGHBOURS[field]
    await storage.set_state(KEY, Steps.first)
    await storage.set_data(KEY, {"who": "key"})
    # Nothing of KEY's shows under the neighbour...
    assert await storage.get_state(other) is None
    assert await storage.get_data(other) == {}
    # ...and the neighbour's own writes leave KEY's alone.
    await storage.set_state(other, Steps.second)
    await storage.set_data(other, {"who": field})
    await storage.update_data(other, {"more": True})
    assert (await storage.get_state(KEY), await storage.get_data(KEY)) == ("Steps:first", {"who": "key"})
    assert (await storage.get_state(other), await storage.get_data(other)) == (
        "Steps:second", {"who": field, "more": True})
    # Clearing one clears only that one.
    await storage.set_state(KEY, None)
    await storage.set_data(KEY, {})
    assert (await storage.get_state(other), await storage.get_data(other)) == (
        "Steps:second", {"who": field, "more": True})


async def test_every_key_keeps_its_own_state_and_data_side_by_side(backend: Backend) -> None:
    storage = backend.storage
    keys = {"key": KEY, **NEIGHBOURS}
    for i, (name, key) in enumerate(keys.items()):
        await storage.set_state(key, f"Steps:{name}")
        await storage.set_data(key, {"name": name, "i": i})
    for i, (name, key) in enumerate(keys.items()):
        assert await storage.get_state(key) == f"Steps:{name}"
        assert await storage.get_data(key) == {"name": name, "i": i}


# ---- what the SQL storage promises besides: one transaction with the update ---------------------------


@dataclass
class SQL:
    storage: SQLStorage
    sessionmaker: async_sessionmaker[AsyncSession]
    own_sessions: list[int]  # how many sessions the storage opened itself


@pytest.fixture(params=["sqlite", "postgres"])
async def sql(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SQL]:
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("PostgreSQL storage: set SAMSPIL_TEST_POSTGRES_URL to run it")
    async for sessionmaker in (_postgres() if request.param == "postgres" else _sqlite(tmp_path)):
        opened: list[int] = []
        yield SQL(SQLStorage(_counting(sessionmaker, opened), clock=FakeClock(START).now),  # type: ignore[arg-type]
                  sessionmaker, opened)


def _counting(sessionmaker: async_sessionmaker[AsyncSession], opened: list[int]) -> Callable[[], AsyncSession]:
    """The sessionmaker, noting each session the storage opens of its own."""
    def open_session() -> AsyncSession:
        opened.append(1)
        return sessionmaker()

    return open_session


async def stored(sessionmaker: async_sessionmaker[AsyncSession], storage: SQLStorage,
                 key: StorageKey) -> FsmRecord | None:
    """The row as another connection sees it (committed only)."""
    async with sessionmaker() as s:
        return await s.get(FsmRecord, storage._key(key))


async def in_update(sessionmaker: async_sessionmaker[AsyncSession],
                    body: Callable[[AsyncSession], Any], *, commit: bool) -> None:
    """Run `body` as a handler would: the update's session published in `current_session`."""
    async with sessionmaker() as session:
        await session.begin()
        token = current_session.set(session)
        try:
            await body(session)
        finally:
            current_session.reset(token)
        if commit:
            await session.commit()
        else:
            await session.rollback()


async def test_sql_storage_writes_through_the_update_session_and_commits_with_it(sql: SQL) -> None:
    storage = sql.storage

    async def handler(session: AsyncSession) -> None:
        await storage.set_state(KEY, Steps.first)
        await storage.update_data(KEY, {"draft": "Første udkast – æøå"})
        # Read back inside the update: the session's own, not yet committed, writes.
        assert await storage.get_state(KEY) == "Steps:first"
        assert await storage.get_data(KEY) == {"draft": "Første udkast – æøå"}
        assert await session.get(FsmRecord, storage._key(KEY)) is not None

    await in_update(sql.sessionmaker, handler, commit=True)
    assert sql.own_sessions == []  # every read and write went through the update's session
    row = await stored(sql.sessionmaker, storage, KEY)
    assert row is not None and row.state == "Steps:first"
    assert await storage.get_data(KEY) == {"draft": "Første udkast – æøå"}


async def test_sql_storage_writes_roll_back_with_the_update(sql: SQL) -> None:
    storage = sql.storage
    await storage.set_state(KEY, Steps.first)
    await storage.set_data(KEY, {"kept": 1})

    async def failing_handler(session: AsyncSession) -> None:
        await storage.set_state(KEY, Steps.second)
        await storage.set_data(KEY, {"lost": 2})
        await storage.set_state(NEIGHBOURS["chat_id"], Steps.second)  # a new row, too

    opened = len(sql.own_sessions)
    await in_update(sql.sessionmaker, failing_handler, commit=False)
    assert len(sql.own_sessions) == opened
    # The update failed: its step and data went with it, the earlier ones stand.
    assert await storage.get_state(KEY) == "Steps:first"
    assert await storage.get_data(KEY) == {"kept": 1}
    assert await stored(sql.sessionmaker, storage, NEIGHBOURS["chat_id"]) is None


async def test_sql_storage_outside_an_update_commits_each_write_at_once(sql: SQL) -> None:
    storage = sql.storage
    assert current_session.get() is None
    await storage.set_state(KEY, Steps.first)
    # Committed: another connection sees it at once.
    row = await stored(sql.sessionmaker, storage, KEY)
    assert row is not None and (row.state, row.data) == ("Steps:first", None)
    await storage.set_data(KEY, {"x": "ÿ"})
    row = await stored(sql.sessionmaker, storage, KEY)
    assert row is not None and row.state == "Steps:first" and row.data is not None
    assert await storage.get_data(KEY) == {"x": "ÿ"}
    # Each call opened (and closed) a session of its own: none stays open holding a lock,
    # so a writer elsewhere goes straight on.
    assert len(sql.own_sessions) == 3
    async with sql.sessionmaker() as s, s.begin():
        await s.execute(text("DELETE FROM fsm_state"))
    assert await storage.get_state(KEY) is None


# ---- with Redis: one person's updates one at a time, across processes (storage/fsm.py HeldLocks) -----


@pytest.fixture
def locks(redis_space: tuple[Redis, str]) -> tuple[Redis, str]:  # tests/conftest.py
    return redis_space


def test_with_redis_the_state_stays_in_the_database_and_redis_holds_the_locks() -> None:
    settings = Settings(_env_file=None, redis_url="redis://127.0.0.1:1/0", fsm_lock_seconds=7,
                        data_key=TEST_DATA_KEY)
    storage, isolation = make_fsm(settings, None, FakeClock(START))  # type: ignore[arg-type]
    # In the update's transaction: a step and its effect commit together or not at all.
    assert isinstance(storage, SQLStorage)
    assert isinstance(isolation, HeldLocks) and isolation.ttl == 7


async def test_a_held_lock_outlives_its_time_to_live_while_its_holder_works(locks: tuple[Redis, str]) -> None:
    redis, prefix = locks
    held = HeldLocks(redis, key_builder(prefix), ttl=0.4)
    other = HeldLocks(redis, key_builder(prefix), ttl=0.4)
    order: list[str] = []

    async def second() -> None:
        async with other.lock(KEY):
            order.append("second in")

    async with held.lock(KEY):
        waiting = asyncio.create_task(second())
        # A slow update: three times the lock's time to live. Renewed meanwhile, the lock
        # keeps the other holder out (aiogram's own Redis lock had expired after 0.4 s).
        await asyncio.sleep(1.2)
        assert order == [] and not waiting.done()
        order.append("first out")
    await asyncio.wait_for(waiting, 5)
    assert order == ["first out", "second in"]
    assert [k async for k in redis.scan_iter(match=f"{prefix}:*")] == []  # released


async def test_a_lock_left_by_a_dead_holder_lasts_its_time_to_live_at_most(locks: tuple[Redis, str]) -> None:
    redis, prefix = locks
    held = HeldLocks(redis, key_builder(prefix), ttl=0.5)
    # What a process killed while handling the person's update leaves behind: the lock, no one
    # to renew or release it.
    await redis.set(key_builder(prefix).build(KEY, "lock"), b"killed-process", px=500)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(5):
        async with held.lock(KEY):
            waited = loop.time() - started
    assert 0.2 < waited < 0.5 + 0.5  # it waited for the expiry, and no longer than that (+ a poll or two)


async def test_a_lock_lost_while_held_does_not_fail_the_update(locks: tuple[Redis, str]) -> None:
    redis, prefix = locks
    held = HeldLocks(redis, key_builder(prefix), ttl=5)
    async with held.lock(KEY):
        # As if the process had stood still longer than the time to live: the lock is gone.
        await redis.delete(key_builder(prefix).build(KEY, "lock"))
    # Left without an exception: the update had committed; an error now would only have
    # turned its answer into an apology.
    async with asyncio.timeout(5), held.lock(KEY):  # and the key can be taken again
        pass


async def test_keys_that_differ_in_one_field_lock_independently(locks: tuple[Redis, str]) -> None:
    redis, prefix = locks
    held = HeldLocks(redis, key_builder(prefix), ttl=5)
    async with held.lock(KEY), asyncio.timeout(5):
        for neighbour in NEIGHBOURS.values():
            async with held.lock(neighbour):
                pass


class _StubbornLock:
    """A lock whose renewal swallows a cancellation, as redis-py can when one lands mid-command."""

    def __init__(self) -> None:
        self.renewals = 0
        self.renewing = asyncio.Event()
        self.released = False

    async def acquire(self) -> bool:
        return True

    async def reacquire(self) -> bool:
        self.renewals += 1
        self.renewing.set()
        try:
            await asyncio.sleep(0.3)
        except asyncio.CancelledError:
            pass
        return True

    async def release(self) -> None:
        self.released = True


class _StubbornRedis:
    def __init__(self) -> None:
        self.locks: list[_StubbornLock] = []

    def lock(self, name: str, **kwargs: Any) -> _StubbornLock:
        self.locks.append(_StubbornLock())
        return self.locks[-1]


async def test_leaving_a_held_lock_does_not_wait_for_a_renewal_on_its_way() -> None:
    redis = _StubbornRedis()
    held = HeldLocks(redis, key_builder("t"), ttl=0.04)  # type: ignore[arg-type]
    async with asyncio.timeout(2):  # (cancelling and awaiting the renewal hung here for ever)
        async with held.lock(KEY):
            await redis.locks[0].renewing.wait()  # a renewal is under way
        assert redis.locks[0].released
        await asyncio.gather(*held._keepers)  # the renewal on its way ends, and no other follows
    assert redis.locks[0].renewals == 1


async def test_many_short_holds_of_few_keys_all_end_one_holder_at_a_time(locks: tuple[Redis, str]) -> None:
    redis, prefix = locks
    held = HeldLocks(redis, key_builder(prefix), ttl=0.08, poll=0.01)  # renewed every 20 ms
    inside: dict[int, int] = {}
    most = 0

    async def hold(i: int) -> None:
        nonlocal most
        key = StorageKey(bot_id=42, chat_id=i % 5, user_id=i % 5)
        async with held.lock(key):
            inside[i % 5] = inside.get(i % 5, 0) + 1
            most = max(most, inside[i % 5])
            await asyncio.sleep((i % 4) * 0.015)
            inside[i % 5] -= 1

    async with asyncio.timeout(60):
        for _ in range(5):
            await asyncio.gather(*(hold(i) for i in range(30)))
    assert most == 1
