"""SQLite: updates take turns before the connection pool (storage/db.py `update_turns`), so the
notice scheduler's bookkeeping, such as the "sent" mark right after Telegram took a notice,
waits for the update holding the connection and not for every update queued behind it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.middlewares import DbSessionMiddleware
from core.clock import FakeClock
from storage.db import make_engine, make_sessionmaker, update_turns, upgrade


class _Wakes:
    def wake(self) -> None:
        pass


async def _order_of_turns(tmp_path: Path, *, with_turns: bool) -> list[str]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    try:
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        turns = update_turns(engine) if with_turns else None
        middleware = DbSessionMiddleware(sessions, _Wakes(), FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)), turns)  # type: ignore[arg-type]
        order: list[str] = []
        release = asyncio.Event()
        holding = asyncio.Event()

        async def handler(event: str, data: dict[str, Any]) -> None:
            await data["session"].execute(text("SELECT 1"))  # the update has the connection
            if event == "update 1":
                holding.set()
                await release.wait()  # an answer to Telegram on its way, say
            order.append(event)

        async def update(n: int) -> None:
            await middleware(handler, f"update {n}", {"event_from_user": None})  # type: ignore[arg-type]

        async def mark_sent() -> None:
            async with sessions() as session, session.begin():
                await session.execute(text("SELECT 1"))
                order.append("sent mark")

        tasks = [asyncio.create_task(update(1))]
        await holding.wait()
        tasks += [asyncio.create_task(update(n)) for n in range(2, 7)]
        for _ in range(20):  # let them all get as far as they can: queued for their turn or the pool
            await asyncio.sleep(0)
        tasks.append(asyncio.create_task(mark_sent()))
        for _ in range(20):
            await asyncio.sleep(0)
        release.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        return order
    finally:
        await engine.dispose()


async def test_the_schedulers_mark_waits_for_one_update_not_for_all_that_queue(tmp_path: Path) -> None:
    order = await _order_of_turns(tmp_path, with_turns=True)
    assert order[:2] == ["update 1", "sent mark"], order
    assert order[2:] == [f"update {n}" for n in range(2, 7)]  # the updates keep their order


async def test_without_turns_it_waits_behind_every_queued_update(tmp_path: Path) -> None:
    """What it was before (and what the test above would see without the turns)."""
    order = await _order_of_turns(tmp_path, with_turns=False)
    assert order[-1] == "sent mark", order


def test_postgresql_has_no_turns() -> None:
    engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert update_turns(engine) is None


@pytest.mark.parametrize("connections", [1, 3])
def test_as_many_turns_as_connections(tmp_path: Path, connections: int) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", sqlite_connections=connections)
    turns = update_turns(engine)
    assert turns is not None and turns._value == connections
