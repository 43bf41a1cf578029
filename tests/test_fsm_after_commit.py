"""With Redis, a conversation step is written after the update's commit, never before it
(storage/fsm.py AfterCommitStorage): a crash or a failed commit leaves Redis and the
database at the same step."""

from __future__ import annotations

import os
import uuid

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from storage.fsm import AfterCommitStorage, current_session, flush_after_commit, key_builder

REDIS_URL = os.environ.get("SAMSPIL_TEST_REDIS_URL")
KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)


@pytest.fixture
async def storage():  # type: ignore[no-untyped-def]
    if not REDIS_URL:
        pytest.skip("Redis variant: set SAMSPIL_TEST_REDIS_URL to run it")
    from aiogram.fsm.storage.redis import RedisStorage

    redis = RedisStorage.from_url(REDIS_URL, key_builder=key_builder(f"t{uuid.uuid4().hex[:8]}"))
    yield AfterCommitStorage(redis)
    await redis.set_state(KEY, None)
    await redis.set_data(KEY, {})
    await redis.close()


@pytest.fixture
async def session(tmp_path):  # type: ignore[no-untyped-def]
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    async with async_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


async def test_a_step_waits_for_the_commit_and_is_read_back_meanwhile(storage, session) -> None:
    token = current_session.set(session)
    try:
        await storage.set_state(KEY, "Input:box")
        await storage.update_data(KEY, {"box": "works"})
        assert await storage.get_state(KEY) == "Input:box"  # the update sees its own step
        assert await storage.get_data(KEY) == {"box": "works"}
        assert await storage.inner.get_state(KEY) is None  # Redis does not, yet
    finally:
        current_session.reset(token)
    await flush_after_commit(session, storage)  # committed
    assert await storage.inner.get_state(KEY) == "Input:box"
    assert await storage.inner.get_data(KEY) == {"box": "works"}


async def test_an_update_that_never_commits_writes_nothing(storage, session) -> None:
    await storage.set_state(KEY, "Input:area")  # outside an update: straight through
    token = current_session.set(session)
    try:
        await storage.set_state(KEY, None)
        assert await storage.get_state(KEY) is None
    finally:
        current_session.reset(token)
    # Rolled back (or the process died): nothing is flushed.
    assert await storage.inner.get_state(KEY) == "Input:area"


async def _into_a_box(storage, session) -> None:  # type: ignore[no-untyped-def]
    """An update's new step (into a box), waiting in its session for the commit."""
    token = current_session.set(session)
    try:
        await storage.set_state(KEY, "Input:writing")
        await storage.set_data(KEY, {"dialog_id": 3, "box": "worries", "card": 8})
    finally:
        current_session.reset(token)


async def test_state_and_data_go_to_redis_together_or_not_at_all(storage, session) -> None:
    """A process that dies while writing the step leaves the last step whole: never the new state
    with the last step's data (a text typed into a box was then refused as "not part of that
    dialog", the data naming no dialog yet)."""
    await storage.set_state(KEY, None)
    await storage.set_data(KEY, {"card": 7})  # the last step: no state, the live card
    await _into_a_box(storage, session)

    class Died(Exception):
        pass

    def dies_after_the_state(data: object) -> str:  # the data's write is where the process dies
        raise Died

    dumps, storage.inner.json_dumps = storage.inner.json_dumps, dies_after_the_state
    with pytest.raises(Died):
        await flush_after_commit(session, storage)
    storage.inner.json_dumps = dumps
    assert await storage.inner.get_state(KEY) is None  # nothing of the new step was written
    assert await storage.inner.get_data(KEY) == {"card": 7}

    session.info.clear()
    await _into_a_box(storage, session)
    await flush_after_commit(session, storage)  # the update delivered again: now all of it
    assert await storage.inner.get_state(KEY) == "Input:writing"
    assert await storage.inner.get_data(KEY) == {"dialog_id": 3, "box": "worries", "card": 8}
