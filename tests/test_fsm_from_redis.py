"""Upgrading a bot that kept conversation steps in Redis (storage/fsm.py adopt_redis_state).

Up to this version, with REDIS_URL set a person's step and what they had typed mid-step lived
in Redis. They now live in the database's `fsm_state` also with Redis, so at the first start
a person in the middle of a step must find it, and what they typed, where they left it."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis
from sqlalchemy import select

from storage import crypto
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.fsm import SQLStorage, adopt_redis_state, forget_in_redis, key_builder
from storage.models import FsmRecord
from tests.conftest import START

REDIS_URL = os.environ.get("SAMSPIL_TEST_REDIS_URL")
MOTHER = StorageKey(bot_id=7, chat_id=501, user_id=501)
TEACHER = StorageKey(bot_id=7, chat_id=502, user_id=502)


@pytest.fixture
def redis(redis_space: tuple[Redis, str]) -> tuple[Redis, str]:  # tests/conftest.py
    return redis_space


@pytest.fixture
async def sessionmaker(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'samspil.db'}")
    await upgrade(engine)
    yield make_sessionmaker(engine)
    await engine.dispose()


def _earlier_version(client: Redis, prefix: str) -> RedisStorage:
    """The Redis storage as earlier versions configured it: data sealed with the data key."""
    return RedisStorage(client, key_builder=key_builder(prefix),
                        json_dumps=lambda d: crypto.encrypt(json.dumps(d, ensure_ascii=False)))


async def test_a_step_in_redis_is_found_in_the_database_with_what_was_typed(redis, sessionmaker) -> None:
    client, prefix = redis
    old = _earlier_version(client, prefix)
    await old.set_state(MOTHER, "MeetingForm:place")
    await old.set_data(MOTHER, {"dialog_id": 3, "place": "Skolen, lokale 4 – æøå"})
    await old.set_state(TEACHER, "Input:box")  # a step with no data
    await client.set(key_builder(prefix).build(MOTHER, "lock"), b"someone")  # a lock: not a step

    moved = await adopt_redis_state(client, prefix, sessionmaker, START)

    assert moved == 2
    storage = SQLStorage(sessionmaker, clock=lambda: START)
    assert await storage.get_state(MOTHER) == "MeetingForm:place"
    assert await storage.get_data(MOTHER) == {"dialog_id": 3, "place": "Skolen, lokale 4 – æøå"}
    assert await storage.get_state(TEACHER) == "Input:box"
    assert await storage.get_data(TEACHER) == {}
    remaining = sorted([k async for k in client.scan_iter(match=f"{prefix}:*")])
    assert remaining == [key_builder(prefix).build(MOTHER, "lock").encode()]  # steps gone, lock left
    async with sessionmaker() as s:  # what was typed is stored sealed, like every personal text
        raw = (await s.execute(select(FsmRecord.data).where(FsmRecord.key.like("%:501:501:%")))).scalar_one()
    assert raw is not None

    assert await adopt_redis_state(client, prefix, sessionmaker, START) == 0  # a second start: nothing


async def test_a_step_already_taken_further_in_the_database_is_kept(redis, sessionmaker) -> None:
    client, prefix = redis
    await _earlier_version(client, prefix).set_state(MOTHER, "MeetingForm:place")
    # Another process started first and already handled the mother's next update.
    await SQLStorage(sessionmaker, clock=lambda: START + timedelta(seconds=5)).set_state(MOTHER, "Plan:goal")

    await adopt_redis_state(client, prefix, sessionmaker, START)

    assert await SQLStorage(sessionmaker).get_state(MOTHER) == "Plan:goal"
    assert [k async for k in client.scan_iter(match=f"{prefix}:*")] == []


async def test_an_older_row_gives_way_to_the_step_in_redis(redis, sessionmaker) -> None:
    client, prefix = redis
    # From a time the bot ran without Redis, before it kept the steps there.
    await SQLStorage(sessionmaker, clock=lambda: START - timedelta(days=30)).set_state(MOTHER, "Consent:ask")
    await _earlier_version(client, prefix).set_state(MOTHER, "MeetingForm:place")

    await adopt_redis_state(client, prefix, sessionmaker, START)

    assert await SQLStorage(sessionmaker).get_state(MOTHER) == "MeetingForm:place"


async def test_an_erasure_before_the_first_start_deletes_the_step_kept_in_redis(redis) -> None:
    client, prefix = redis
    old = _earlier_version(client, prefix)
    await old.set_state(MOTHER, "MeetingForm:place")
    await old.set_data(MOTHER, {"place": "Skolen"})
    await old.set_state(TEACHER, "Input:box")
    lock = key_builder(prefix).build(MOTHER, "lock")
    await client.set(lock, b"a process at work")

    assert await forget_in_redis(REDIS_URL, prefix, MOTHER.user_id) == 2  # her state and data

    left = sorted([k async for k in client.scan_iter(match=f"{prefix}:*")])
    assert left == sorted([lock.encode(), key_builder(prefix).build(TEACHER, "state").encode()])
