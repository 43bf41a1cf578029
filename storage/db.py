"""Engine, sessions and schema upgrades.

SQLite, as the bot uses it (one process, a file on local disk):

- **WAL** (`journal_mode=WAL`): a commit appends to the write-ahead log instead of rewriting
  pages in place; readers (another process: `samspil admin`, a backup) never wait for the
  writer.
- **`synchronous=NORMAL`**: in WAL mode the log is fsynced at checkpoints, not at every
  commit. What that can and cannot lose: a crash of the *process* (SIGKILL, the OOM killer,
  an exception) loses nothing that committed, because the commit is in the WAL file in the
  operating system's page cache and the next open replays it; the crash tests kill the bot
  this way. Only a crash of the *machine* (power loss, kernel panic) can lose the last
  commits before it, each as a whole: the database stays consistent, never half a commit.
  What such a lost commit did is then gone while the person may have seen the answer to it.
  In polling mode the updates of the batch being handled had not been confirmed, so Telegram
  delivers them again (their update ids went with the lost commits) and they are handled
  anew. An update confirmed before the power loss whose commit was lost is not delivered
  again: the person finds the bot a step behind the answer they saw and does that step again
  (a draft's last text, a tap); notices decided in it are not sent. `synchronous=FULL` (an
  fsync per commit) closes that window at the cost bench/sqlite_modes.py measures; where
  that matters more than the cost, run on PostgreSQL, whose commits are durable by default.
- **A busy timeout** (30 s): another process writing (an admin command) makes a writer here
  wait for the lock instead of failing at once.
- **One connection** for the whole process. SQLite has one writer at a time, and every
  transaction here starts with `BEGIN IMMEDIATE` (it takes the write lock at once, so two
  transactions that read and then write queue instead of one failing on commit). With
  several connections in one process, those waiting for the lock poll it in SQLite's busy
  handler (sleeping 1 to 100 ms between tries, in no order); with one, the updates and the
  notice scheduler queue for it in the pool, first come first served, and the next starts
  the moment the last one commits. Nothing may open a second session while its first holds
  the connection: it would wait for itself (with several connections it waited just the same,
  for the write lock its own first session held).
- **Statements on the event loop's thread** (storage/sqlite_inline.py), not on aiosqlite's
  thread: a statement here takes microseconds, less than the four trips to a thread and back
  aiosqlite makes for each. A lock held by another process is waited for by trying again
  after pauses the loop awaits (the busy timeout is their sum), not by SQLite's busy handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from storage import sqlite_inline

MIGRATIONS = Path(__file__).with_name("migrations")

# The database or Redis away for a moment (a refused connection, a restart, a full pool): an
# update that meets one is worth a redelivery, not an apology (handlers/common.py's error
# handler gives it back unhandled; bot/polling.py and the webhook then do not confirm it).
SERVICE_AWAY: tuple[type[BaseException], ...] = (
    OperationalError, InterfaceError, PoolTimeoutError, ConnectionError, TimeoutError,
    RedisConnectionError, RedisTimeoutError)


def make_engine(url: str, *, schema: str | None = None, sqlite_journal: str = "WAL",
                sqlite_synchronous: str = "NORMAL", sqlite_connections: int = 1,
                sqlite_busy_seconds: float = 30) -> AsyncEngine:
    """An engine for SQLite (a file, WAL, one connection) or PostgreSQL (optionally in `schema`).

    The `sqlite_*` arguments are for bench/sqlite_modes.py, which measures what each choice
    above changes; everything else uses the defaults."""
    if url.startswith("sqlite"):
        memory = ":memory:" in url or "mode=memory" in url or url.endswith("://")
        pool = {} if memory else {"poolclass": AsyncAdaptedQueuePool, "pool_size": sqlite_connections,
                                  "max_overflow": 0, "pool_timeout": 60}
        # A file: its statements run on the event loop's thread (storage/sqlite_inline.py), which
        # waits for another process's lock between tries, so the connection itself waits for none.
        inline = not memory and "?" not in url
        if inline:
            path = make_url(url).database or ""
            pool["async_creator"] = lambda: sqlite_inline.connect(path, sqlite_busy_seconds)
        busy_ms = 0 if inline else int(sqlite_busy_seconds * 1000)
        # hide_parameters: an error message never quotes what a person wrote.
        engine = create_async_engine(url, connect_args={"timeout": sqlite_busy_seconds}, hide_parameters=True,
                                     **pool)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # We issue BEGIN ourselves (below), not the driver.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA journal_mode={sqlite_journal}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            cur.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn):  # type: ignore[no-untyped-def]
            # Take the write lock at the start: two transactions that read and then
            # write (join and consent of one dialog) queue for it instead of one
            # failing when the other commits first.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    connect_args = {"server_settings": {"search_path": schema}} if schema else {}
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True,
                               connect_args=connect_args, hide_parameters=True)


def update_turns(engine: AsyncEngine) -> asyncio.Semaphore | None:
    """SQLite: the updates take turns here, as many at a time as there are connections, so
    that they do not all queue in the pool. Everything else that opens a session (the notice
    scheduler, the Mini App) then waits for the update holding the connection, not for every
    update queued behind it: the scheduler's "sent" mark, made right after Telegram took a
    notice, is the one moment a crash can repeat that notice (storage/outbox.py), and with 16
    updates queued in the pool it waited for all of them. None on PostgreSQL (a pool of many)."""
    if engine.dialect.name != "sqlite":
        return None
    size = getattr(engine.pool, "size", None)
    return asyncio.Semaphore(size() if callable(size) else 1)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _upgrade(conn: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


def _downgrade(conn: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.downgrade(cfg, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to `revision` (the app does this on start)."""
    await _migrate(engine, _upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the database back to `revision` (an operator undoing a release)."""
    await _migrate(engine, _downgrade, revision)


async def _migrate(engine: AsyncEngine, step: Callable[[Connection, str], None], revision: str) -> None:
    """Run a migration in one transaction.

    SQLite changes a table's shape by copying it to a new table and dropping the old one
    (Alembic's batch mode). With foreign keys on, that drop deletes every row that refers to
    the table by ON DELETE CASCADE (adding a column to `participant` would empty
    `input_entry`), so they are off while migrating, on again after, and checked before
    the commit.
    """
    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # outside a transaction, where SQLite honours it
            raw = await conn.get_raw_connection()
            await raw.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            async with conn.begin():
                await conn.run_sync(step, revision)
                if sqlite:
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"the migration left {len(broken)} rows pointing nowhere")
        finally:
            if sqlite:
                await raw.driver_connection.execute("PRAGMA foreign_keys=ON")
