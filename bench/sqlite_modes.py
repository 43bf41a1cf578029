"""What each SQLite setting of storage/db.py changes, measured on transactions shaped like an update.

    python bench/sqlite_modes.py                     # 2,000 updates, 16 at a time
    python bench/sqlite_modes.py --updates 5000 --concurrency 32 --answer-ms 2

Each "update" is one transaction as the bot makes it (BEGIN IMMEDIATE, the insert of its
update id, the sender's row, the conversation state read and written, one row written)
and, inside it, a pause standing for the answer sent to Telegram (`--answer-ms`). They run
`--concurrency` at a time in one process, through storage/db.py `make_engine` with one
setting changed at a time, each on a fresh file:

- journal: rollback journal (DELETE) against WAL;
- synchronous: FULL (an fsync per commit) against NORMAL;
- busy timeout: none (a writer that finds the lock taken fails at once) against 30 s;
- connections: five (SQLAlchemy's default pool; the waiting ones poll the lock in SQLite's
  busy handler) against one shared by everything, queued in the pool (the bot's setting).

Printed: updates per second, p50/p99 of an update's time from start to commit, and how
many failed. The rows of one run are the same for every setting; ratios are in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from storage import crypto  # noqa: E402
from storage.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from storage.models import FsmRecord, Person, ProcessedUpdate  # noqa: E402

SETTINGS = [
    # label, journal, synchronous, connections, busy seconds
    ("before: DELETE journal, FULL, 5 conn.", "DELETE", "FULL", 5, 30),
    ("WAL, FULL, 5 connections", "WAL", "FULL", 5, 30),
    ("WAL, NORMAL, 5 connections (old)", "WAL", "NORMAL", 5, 30),
    ("WAL, NORMAL, 5 conn., no busy timeout", "WAL", "NORMAL", 5, 0),
    ("WAL, NORMAL, 1 connection (now)", "WAL", "NORMAL", 1, 30),
    ("WAL, FULL, 1 connection", "WAL", "FULL", 1, 30),
]


async def run(path: Path, label: str, journal: str, synchronous: str, connections: int, busy: float,
              updates: int, concurrency: int, answer: float, people: int) -> str:
    engine = make_engine(f"sqlite+aiosqlite:///{path}", sqlite_journal=journal, sqlite_synchronous=synchronous,
                         sqlite_connections=connections, sqlite_busy_seconds=busy)
    await upgrade(engine)
    sessions = make_sessionmaker(engine)
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        await s.execute(insert(Person), [{"telegram_id": 10_000 + i, "created_at": now} for i in range(people)])
    latencies: list[float] = []
    failed = 0
    gate = asyncio.Semaphore(concurrency)

    async def update(n: int) -> None:
        nonlocal failed
        tid = 10_000 + n % people
        async with gate:
            started = time.perf_counter()
            try:
                async with sessions() as s, s.begin():
                    s.add(ProcessedUpdate(update_id=n, processed_at=now))
                    await s.flush()
                    await s.scalar(select(Person).where(Person.telegram_id == tid))
                    key = f"fsm:1:{tid}:{tid}:default"
                    record = await s.get(FsmRecord, key)
                    if record is None:
                        s.add(FsmRecord(key=key, state="step", data=None, updated_at=now))
                    else:
                        record.state, record.updated_at = f"step{n}", now
                    await asyncio.sleep(answer)  # the answer sent to Telegram, inside the transaction
            except Exception:  # noqa: BLE001 (counted: "database is locked" without a busy timeout)
                failed += 1
                return
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(update(n) for n in range(updates)))
    seconds = time.perf_counter() - started
    await engine.dispose()
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0] * 99
    return (f"{label:<40} {len(latencies) / seconds:7.0f} updates/s  p50 {q[49] * 1000:6.1f} ms  "
            f"p99 {q[98] * 1000:6.1f} ms  failed {failed}")


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--updates", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=16, help="updates at a time (UPDATE_CONCURRENCY)")
    p.add_argument("--answer-ms", type=float, default=2.0, help="the answer's round trip, inside the transaction")
    p.add_argument("--people", type=int, default=200)
    args = p.parse_args()
    crypto.configure(crypto.new_key())
    print(f"{args.updates} updates, {args.concurrency} at a time, an answer of {args.answer_ms:g} ms in each")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, journal, synchronous, connections, busy) in enumerate(SETTINGS):
            print(await run(Path(tmp) / f"m{i}.db", label, journal, synchronous, connections, busy,
                            args.updates, args.concurrency, args.answer_ms / 1000, args.people), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
