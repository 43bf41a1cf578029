"""Engine, sessions and schema upgrades.

SQLite runs with WAL (readers never wait for the writer), foreign keys on and a
busy timeout so that concurrent writers queue instead of failing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str, *, schema: str | None = None) -> AsyncEngine:
    """An engine for SQLite (one file, WAL) or PostgreSQL (optionally in `schema`)."""
    if url.startswith("sqlite"):
        # hide_parameters: an error message never quotes what a person wrote.
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # We issue BEGIN ourselves (below), not the driver.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn):  # type: ignore[no-untyped-def]
            # Take the write lock at the start: two transactions that read and then
            # write (join and consent of one dialog) queue behind the busy timeout
            # instead of one failing when the other commits first.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    connect_args = {"server_settings": {"search_path": schema}} if schema else {}
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True,
                               connect_args=connect_args, hide_parameters=True)


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


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to `revision` (the app does this on start)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)
