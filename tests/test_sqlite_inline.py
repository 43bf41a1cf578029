"""SQLite on the event loop's thread (storage/sqlite_inline.py): the same results and errors
as through aiosqlite, and a lock held by another process waited for without stopping the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Person
from storage.sqlite_inline import InlineConnection

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # any moment: nothing here depends on the date


def _person(telegram_id: int, name: str) -> Person:
    return Person(telegram_id=telegram_id, name=name, created_at=WHEN)


async def test_a_file_database_runs_inline_and_behaves_as_before(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'i.db'}")
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, InlineConnection)
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 0  # it waits between tries instead
        sessions = make_sessionmaker(engine)
        async with sessions() as session, session.begin():
            session.add_all([_person(1, "A"), _person(2, "B")])
        async with sessions() as session:
            assert sorted((await session.scalars(select(Person.telegram_id))).all()) == [1, 2]
            # Rows come in batches as they do through aiosqlite.
            result = await session.stream(select(Person.telegram_id).order_by(Person.telegram_id))
            assert [row async for row in result.scalars()] == [1, 2]
        # A constraint error is SQLAlchemy's, as before, and rolls the whole transaction back.
        with pytest.raises(IntegrityError):
            async with sessions() as session, session.begin():
                session.add(_person(3, "C"))
                await session.flush()
                session.add(_person(1, "again"))
        async with sessions() as session:
            assert (await session.scalar(select(Person).where(Person.telegram_id == 3))) is None
    finally:
        await engine.dispose()


async def test_a_lock_held_by_another_process_is_waited_for_off_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        other.execute("BEGIN IMMEDIATE")  # an admin command writing, say

        async def write() -> None:
            async with sessions() as session, session.begin():
                session.add(_person(7, "waited"))

        writer = asyncio.create_task(write())
        ticks = 0
        while ticks < 20:  # the loop goes on while the writer waits for the lock
            await asyncio.sleep(0.005)
            ticks += 1
        assert not writer.done()
        other.execute("COMMIT")
        await asyncio.wait_for(writer, 30)
        async with sessions() as session:
            assert await session.scalar(select(Person.name).where(Person.telegram_id == 7)) == "waited"
        async with engine.connect() as conn:  # and the connection is back to waiting for nothing
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 0
    finally:
        other.close()
        await engine.dispose()


async def test_a_lock_held_past_the_busy_timeout_is_an_error_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}", sqlite_busy_seconds=0.2)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="locked"):
            async with sessions() as session, session.begin():
                session.add(_person(8, "never"))
        other.execute("COMMIT")
        async with sessions() as session, session.begin():
            assert await session.scalar(select(Person).where(Person.telegram_id == 8)) is None
            await session.execute(text("SELECT 1"))
    finally:
        other.close()
        await engine.dispose()


async def test_a_wait_for_the_lock_that_is_cancelled_stops_and_leaves_the_connection_usable(tmp_path: Path) -> None:
    """Cancelled while it waits for the lock (a shutdown, say): the wait ends at once, and the
    connection, which nothing used meanwhile, is rolled back and serves the next session."""
    path = tmp_path / "c.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")  # a 30 s busy timeout
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        other.execute("BEGIN IMMEDIATE")

        async def write() -> None:
            async with sessions() as session, session.begin():
                session.add(_person(9, "cancelled"))

        writer = asyncio.create_task(write())
        for _ in range(20):
            await asyncio.sleep(0.005)
        assert not writer.done()
        writer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(writer, 10)  # not the 30 s of the busy timeout
        other.execute("COMMIT")
        async with sessions() as session, session.begin():
            assert await session.scalar(select(Person).where(Person.telegram_id == 9)) is None
            session.add(_person(10, "after"))
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 0
    finally:
        other.close()
        await engine.dispose()
