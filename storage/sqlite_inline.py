"""SQLite run on the event loop's own thread, under SQLAlchemy's aiosqlite dialect.

aiosqlite runs every call (open a cursor, execute, fetch, close, commit) on a thread of its
own and hands each result back through the event loop: four trips per statement, each a
queue, a thread wake-up, a write to the loop's wake-up pipe and a loop turn. Profiling the
bot under bench/throughput.py showed those hand-offs as the largest single cost on the
bot's main thread (about a seventh of it). The statements themselves take microseconds
here (one process, a local file, WAL with synchronous=NORMAL, so no fsync at commit), less
than the trip, so this connection runs them directly.

The one thing that can take long is waiting for the write lock while another process (an
admin command, a backup) holds it. The connection therefore has no busy timeout of its
own: a statement that finds the database locked is tried again after a pause, as SQLite's
busy handler would, but awaiting the pause, so the loop never stops for another process.

It implements the part of aiosqlite's Connection and Cursor that SQLAlchemy's adapter uses
(sqlalchemy/dialects/sqlite/aiosqlite.py and sqlalchemy/connectors/asyncio.py); the URL
stays `sqlite+aiosqlite://`, and the engine gets it through `async_creator`
(storage/db.py make_engine).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

# An extended code that says "busy" but cannot be cured by waiting: a read transaction whose
# snapshot is stale (never here: every transaction starts with BEGIN IMMEDIATE).
_BUSY_SNAPSHOT = 517


def _pauses() -> Iterator[float]:
    """Seconds between tries for a lock: SQLite's own busy handler's, then 100 ms for ever."""
    yield from (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05)
    while True:
        yield 0.1


def _locked(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return "database is locked" in str(exc)
    return code & 0xFF == sqlite3.SQLITE_BUSY and code != _BUSY_SNAPSHOT


class _RunNow:
    """Stands in for aiosqlite's request queue, which SQLAlchemy's isolation_level setter
    uses directly: the function is run at once and its future resolved."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:  # handed to whoever awaits the future
            future.set_exception(exc)


class InlineCursor:
    def __init__(self, owner: InlineConnection) -> None:
        self._owner = owner
        self._cursor = owner._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        await self._owner.run(self._cursor.execute, sql, () if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        # A list, not a generator: it may have to be run again, after a pause for the lock.
        await self._owner.run(self._cursor.executemany, sql, list(parameters))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    """A sqlite3 connection with aiosqlite's asynchronous surface, run without a thread."""

    _tx = _RunNow()

    def __init__(self, conn: sqlite3.Connection, busy_seconds: float) -> None:
        self._conn = conn
        self._open = True
        self.busy_seconds = busy_seconds

    @property
    def _connection(self) -> sqlite3.Connection | None:
        """What SQLAlchemy's adapter checks before a commit or rollback (None once closed)."""
        return self._conn if self._open else None

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)` now; while another connection holds the lock, again after a pause (the
        pauses SQLite's own busy handler makes, 1 ms growing to 100 ms), up to the busy timeout.
        The loop goes on meanwhile, and nothing runs on the connection while it waits, so a
        cancelled wait leaves it as it was. A statement refused as busy did nothing, so it is safe
        to run again (BEGIN IMMEDIATE, a write outside a transaction, or a COMMIT, which SQLite
        keeps open when it answers busy)."""
        deadline = None
        for pause in _pauses():
            try:
                return call(*args)
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
                now = asyncio.get_running_loop().time()
                deadline = deadline if deadline is not None else now + self.busy_seconds
                if now >= deadline:
                    raise
                await asyncio.sleep(min(pause, deadline - now))
        raise AssertionError("unreachable: the pauses never end")

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        await self.run(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._open:
            self._open = False
            self._conn.close()


async def connect(path: str, busy_seconds: float) -> InlineConnection:
    """Open `path` (a file; its folder must exist). Opening touches the disk: on a thread."""
    conn = await asyncio.to_thread(sqlite3.connect, path, timeout=0, isolation_level=None,
                                   check_same_thread=False)
    return InlineConnection(conn, busy_seconds)
