"""bot/polling.py: a batch handled side by side, each person's updates in order, and confirmed
only as far as it is handled.

A real BatchDispatcher polls the emulator with a handler of its own: no database, so an
outer middleware plays storage/queries.py `first_delivery` (an update that had its effect
is a no-op when it comes again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message, TelegramObject, Update
from aiogram.utils.backoff import BackoffConfig
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from bot.polling import BatchDispatcher, chains
from emulator import BotAPIEmulator

QUICK = BackoffConfig(min_delay=0.05, max_delay=0.2, factor=1.5, jitter=0.0)


class Harness:
    """The dispatcher, what its handler did, and the failures it is told to have."""

    def __init__(self) -> None:
        self.dp = BatchDispatcher(concurrency=4)
        self.fail: dict[str, list[BaseException]] = {}  # text -> exceptions to raise, one per delivery
        self.handled: list[tuple[int, str]] = []  # (sender, text), in the order handled
        self.deliveries: dict[str, int] = {}
        done: set[int] = set()

        @self.dp.update.outer_middleware()
        async def once(handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
            assert isinstance(event, Update)
            if event.update_id in done:
                return None
            result = await handler(event, data)
            done.add(event.update_id)  # "committed"
            return result

        @self.dp.message()
        async def answer(message: Message) -> None:
            text = message.text or ""
            self.deliveries[text] = self.deliveries.get(text, 0) + 1
            if self.fail.get(text):
                raise self.fail[text].pop(0)
            self.handled.append((message.chat.id, text))
            await message.answer(f"ok {text}")


@pytest.fixture
def harness() -> Harness:
    return Harness()


async def poll(emu: BotAPIEmulator, h: Harness) -> asyncio.Task[None]:
    bot = Bot(emu.token, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url)))
    return asyncio.create_task(h.dp.start_polling(bot, handle_signals=False, polling_timeout=1,
                                                  backoff_config=QUICK))


async def test_an_update_that_meets_the_database_away_comes_again_and_keeps_its_place(
        emu: BotAPIEmulator, harness: Harness) -> None:
    down = OperationalError("INSERT INTO processed_update ...", {}, ConnectionRefusedError("database away"))
    harness.fail["a1"] = [down, RedisConnectionError("redis away")]  # twice: the backoff, then again
    anna, bo = emu.phone(101, "Anna"), emu.phone(102, "Bo")
    for phone, text in ((anna, "a1"), (anna, "a2"), (bo, "b1"), (bo, "b2")):
        await phone.send(text)  # one batch, waiting before polling starts
    task = await poll(emu, harness)
    try:
        await anna.wait_for("ok a2", after=0, timeout=20)
        await bo.wait_for("ok b2", after=0, timeout=20)
        await emu.wait_idle(timeout=10, settle=0.2)
    finally:
        await harness.dp.stop_polling()
        await task
    # Nothing lost, nothing twice; Anna's second message waited for her first, Bo was not held up.
    assert sorted(harness.handled) == [(101, "a1"), (101, "a2"), (102, "b1"), (102, "b2")]
    assert [t for who, t in harness.handled if who == 101] == ["a1", "a2"]
    assert harness.handled.index((102, "b2")) < harness.handled.index((101, "a1"))
    assert harness.deliveries == {"a1": 3, "a2": 1, "b1": 1, "b2": 1}
    assert [m.text for m in anna.bot_messages] == ["ok a1", "ok a2"]
    assert [m.text for m in bo.bot_messages] == ["ok b1", "ok b2"]


async def test_a_fault_of_ours_is_logged_and_the_batch_goes_on(
        emu: BotAPIEmulator, harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    harness.fail["x"] = [ValueError("a bug")]  # not a passing failure: it would fail again
    anna = emu.phone(101, "Anna")
    await anna.send("x")
    await anna.send("y")
    task = await poll(emu, harness)
    try:
        await anna.wait_for("ok y", after=0, timeout=20)
        await emu.wait_idle(timeout=10, settle=0.2)
    finally:
        await harness.dp.stop_polling()
        await task
    assert harness.handled == [(101, "y")] and harness.deliveries == {"x": 1, "y": 1}
    assert any("ValueError" in r.getMessage() for r in caplog.records)


def test_chains_keep_each_chats_order() -> None:
    def msg(update_id: int, chat: int) -> Update:
        return Update.model_validate({"update_id": update_id, "message": {
            "message_id": update_id, "date": 0, "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "x"}, "text": str(update_id)}})

    groups = chains([msg(1, 7), msg(2, 8), msg(3, 7), msg(4, 9), msg(5, 8)])
    assert [[u.update_id for u in g] for g in groups] == [[1, 3], [2, 5], [4]]
