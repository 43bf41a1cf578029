"""aiogram FSM storage on the project's own database, and the Redis lock per person.

aiogram ships memory and Redis storages only; a conversation must survive a
crash (SIGKILL), so state and data live in `fsm_state`, with Redis configured too:
Redis only keeps one person's updates to one process at a time (`HeldLocks`).

While an update is being handled, the session middleware publishes its session
in `current_session`; the storage then writes through it, so the new step and
the effect of the answer (a draft, a consent) commit in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseEventIsolation,
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import crypto
from storage.models import FsmRecord

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.lock import Lock

log = logging.getLogger("samspil.fsm")

current_session: ContextVar[AsyncSession | None] = ContextVar("samspil_session", default=None)


def key_builder(prefix: str = "fsm") -> DefaultKeyBuilder:
    """How a conversation's key is written, in the database and in Redis alike:
    ``prefix:bot:[business connection:]chat:[thread:]user:destiny[:part]``.

    Every field of aiogram's StorageKey that is set is part of it, so keys that differ in
    any one field never share state or data (tests/test_fsm_contract.py). The business
    connection and the thread are written only when set: Samspil's updates carry neither,
    so its keys read ``prefix:bot:chat:user:destiny``.
    """
    return DefaultKeyBuilder(prefix=prefix, with_bot_id=True, with_business_connection_id=True,
                             with_destiny=True)


class SQLStorage(BaseStorage):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._keys = key_builder()

    def _key(self, key: StorageKey) -> str:
        return self._keys.build(key)

    async def _write(self, key: StorageKey, **values: Any) -> None:
        session = current_session.get()
        if session is not None:
            # Flushed with the update's other writes (at the latest on commit): a new step and
            # its data are one UPDATE.
            await self._upsert(session, key, values, flush=False)
            return
        async with self._sessionmaker() as own, own.begin():
            await self._upsert(own, key, values)

    async def _upsert(self, session: AsyncSession, key: StorageKey, values: dict[str, Any], *,
                      flush: bool = True) -> None:
        k = self._key(key)
        record = await session.get(FsmRecord, k)
        if record is None:
            record = FsmRecord(key=k, state=None, data=None, updated_at=self._clock())
            session.add(record)
        _keep(session, record)
        for name, value in values.items():
            setattr(record, name, value)
        record.updated_at = self._clock()
        if flush:
            await session.flush()

    async def _read(self, key: StorageKey) -> FsmRecord | None:
        session = current_session.get()
        if session is not None:
            return _keep(session, await session.get(FsmRecord, self._key(key)))
        async with self._sessionmaker() as own:
            return await own.get(FsmRecord, self._key(key))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        record = await self._read(key)
        return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=json.dumps(dict(data), ensure_ascii=False) if data else None)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = await self._read(key)
        if record is None or not record.data:
            return {}
        return json.loads(record.data)

    async def close(self) -> None:
        pass


def _keep(session: AsyncSession, record: FsmRecord | None) -> FsmRecord | None:
    """Hold the update's conversation row for as long as its session lives.

    The session's identity map holds rows only weakly: without this, the row read for the
    state is gone by the time the data is read or the new step written, and each of those
    reads it again (3-4 SELECTs of one row per update). `session.get` then finds it in the
    identity map (and still sees a row deleted in this transaction as gone)."""
    if record is not None:
        kept = session.info.setdefault("fsm_rows", [])
        if not any(r is record for r in kept):
            kept.append(record)
    return record


class HeldLocks(BaseEventIsolation):
    """One person's updates one at a time, across processes: a Redis lock per conversation
    that lives only as long as its holder does (with Redis; without it one process polls and
    aiogram's SimpleEventIsolation is enough).

    The lock is taken with a time to live of `ttl` seconds and renewed every `ttl / 4`
    seconds for as long as the update is handled, however long that takes (a slow database,
    a 429 waited out). So a live holder never loses its lock half-way (aiogram's own Redis
    isolation lets it expire after a fixed time: a longer update then ran on without it,
    another process could take the person's next update meanwhile, and the release failed
    with LockNotOwnedError after the commit, which told the person that something went
    wrong although it had not), while a process that dies (SIGKILL, a lost machine) leaves
    the lock behind for at most `ttl` seconds: then the person's next update, delivered
    again, is handled by whoever polls. Waiting for a lock costs a Redis round trip every
    `poll` seconds.
    """

    def __init__(self, redis: Redis, keys: KeyBuilder, ttl: float, *, poll: float = 0.05,
                 close_redis: bool = False) -> None:
        self.redis, self.keys, self.ttl, self.poll = redis, keys, float(ttl), poll
        self._close_redis = close_redis  # the client is ours (bot/app.py make_fsm): closed with us
        self._keepers: set[asyncio.Task[None]] = set()  # asyncio holds tasks weakly

    @contextlib.asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        lock = self.redis.lock(self.keys.build(key, "lock"), timeout=self.ttl, sleep=self.poll,
                               thread_local=False)
        await lock.acquire()
        done = asyncio.Event()
        keeper = asyncio.create_task(self._keep(lock, done))
        self._keepers.add(keeper)
        keeper.add_done_callback(self._keepers.discard)
        try:
            yield
        finally:
            # The keeper is told, not cancelled and not waited for: redis-py can swallow a
            # cancellation that lands in the middle of a command, and the update would then
            # wait for a keeper that renews on for ever. A renewal still on its way when the
            # lock is released renews nothing: it extends the lock only while it holds this
            # holder's token.
            done.set()
            await self._release(lock)

    async def _keep(self, lock: Lock, done: asyncio.Event) -> None:
        from redis.exceptions import LockNotOwnedError, RedisError

        while not done.is_set():
            try:
                await asyncio.wait_for(done.wait(), self.ttl / 4)
                return
            except TimeoutError:
                pass
            try:
                await lock.reacquire()  # the time to live starts again
            except LockNotOwnedError:
                if not done.is_set():
                    # Not renewed for `ttl` seconds (the process stood still that long): another
                    # process may have the person now. Nothing to undo; say so.
                    log.warning("conversation lock lost while held ttl=%s", self.ttl)
                return
            except RedisError as exc:  # Redis away for a moment: try again at the next turn
                if not done.is_set():
                    log.warning("conversation lock not renewed error=%s", type(exc).__name__)

    @staticmethod
    async def _release(lock: Lock) -> None:
        from redis.exceptions import LockNotOwnedError, RedisError

        # The update itself is done (committed or rolled back); a failure here would only
        # turn its answer into an apology.
        try:
            await lock.release()
        except LockNotOwnedError:  # expired (see _keep)
            log.warning("conversation lock had expired at release")
        except RedisError as exc:  # it expires by itself within `ttl`
            log.warning("conversation lock not released error=%s", type(exc).__name__)

    async def close(self) -> None:
        if self._close_redis:
            await self.redis.aclose()


async def forget_in_redis(redis_url: str, prefix: str, telegram_id: int) -> int:
    """Delete a person's conversation step an earlier version kept in Redis (RedisStorage with
    `key_builder`: ``prefix:bot:chat:user:destiny:state|data`` in their private chat), for any
    bot id. A running process moves such steps into the database when it starts
    (`adopt_redis_state`); an erasure by `samspil admin erase-person` before that must not
    leave one behind. The person's lock is left to expire: deleting it could let a second
    process handle them at once. Returns how many keys were deleted.
    """
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        keys = [k for part in ("state", "data") async for k in
                redis.scan_iter(match=f"{prefix}:*:{telegram_id}:{telegram_id}:*:{part}", count=500)]
        return int(await redis.delete(*keys)) if keys else 0
    finally:
        await redis.aclose()


def sealed_loads(value: str | bytes) -> Any:
    """A conversation's data as the Redis storage of earlier versions wrote it: JSON,
    encrypted like every other personal text."""
    if isinstance(value, bytes):
        value = value.decode()
    return json.loads(crypto.decrypt(value) if crypto.is_encrypted(value) else value)


async def adopt_redis_state(redis: Redis, prefix: str, sessionmaker: async_sessionmaker[AsyncSession],
                            now: datetime) -> int:
    """Move conversation steps that earlier versions kept in Redis into `fsm_state`.

    Up to this version, with REDIS_URL set the state and data lived in Redis, written after
    the update's commit: a process killed between the two left the person a step behind.
    Now they are in the update's transaction there too. A person in the middle of a step at
    the upgrade keeps it (what they typed included): each Redis step is written to its row,
    unless the row was written after `now` (another process already handled the person),
    and deleted from Redis once committed. Returns how many conversations were moved.
    """
    steps: dict[str, dict[str, Any]] = {}
    for part in ("state", "data"):
        async for raw in redis.scan_iter(match=f"{prefix}:*:{part}", count=500):
            name = raw.decode() if isinstance(raw, bytes) else raw
            value = await redis.get(name)
            if value is None:
                continue
            base = name[len(prefix) + 1:-len(part) - 1]
            steps.setdefault(base, {"keys": []})["keys"].append(name)
            steps[base][part] = value.decode() if part == "state" else sealed_loads(value)
    if not steps:
        return 0
    keys = key_builder()
    async with sessionmaker() as session, session.begin():
        for base, step in steps.items():
            k = f"{keys.prefix}{keys.separator}{base}"
            record = await session.get(FsmRecord, k)
            if record is not None and record.updated_at > now:
                continue
            if record is None:
                record = FsmRecord(key=k, state=None, data=None, updated_at=now)
                session.add(record)
            record.state = step.get("state")
            data = step.get("data")
            record.data = json.dumps(data, ensure_ascii=False) if data else None
            record.updated_at = now
    await redis.delete(*[name for step in steps.values() for name in step["keys"]])
    log.info("conversation steps moved from Redis to the database count=%s", len(steps))
    return len(steps)
