"""aiogram FSM storage on the project's own database.

aiogram ships memory and Redis storages only; a conversation must survive a
crash (SIGKILL) on a single machine too, so state and data live in `fsm_state`.

While an update is being handled, the session middleware publishes its session
in `current_session`; the storage then writes through it, so the new step and
the effect of the answer (a draft, a consent) commit in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import crypto
from storage.models import FsmRecord

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
            await self._upsert(session, key, values)
            return
        async with self._sessionmaker() as own, own.begin():
            await self._upsert(own, key, values)

    async def _upsert(self, session: AsyncSession, key: StorageKey, values: dict[str, Any]) -> None:
        k = self._key(key)
        record = await session.get(FsmRecord, k)
        if record is None:
            record = FsmRecord(key=k, state=None, data=None, updated_at=self._clock())
            session.add(record)
        for name, value in values.items():
            setattr(record, name, value)
        record.updated_at = self._clock()
        await session.flush()

    async def _read(self, key: StorageKey) -> FsmRecord | None:
        session = current_session.get()
        if session is not None:
            return await session.get(FsmRecord, self._key(key))
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


async def forget_in_redis(redis_url: str, prefix: str, telegram_id: int) -> int:
    """Delete a person's conversation state kept in Redis (RedisStorage with `key_builder`:
    ``prefix:bot:chat:user:destiny:part`` in their private chat), for any bot id.

    The SQL storage's rows go with the person's other rows (storage/privacy.py); Redis
    is another store, so an erasure outside the bot (`samspil admin erase-person`)
    clears it here. Returns how many keys were deleted.
    """
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:*:{telegram_id}:{telegram_id}:*", count=500)]
        return int(await redis.delete(*keys)) if keys else 0
    finally:
        await redis.aclose()


def sealed_dumps(data: Any) -> str:
    """JSON of a conversation's data, encrypted like every other personal text: with
    Redis, what a person typed mid-step (a meeting place, a task) lives there too."""
    return crypto.encrypt(json.dumps(data, ensure_ascii=False))


def sealed_loads(value: str) -> Any:
    return json.loads(crypto.decrypt(value) if crypto.is_encrypted(value) else value)
