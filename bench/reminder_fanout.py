"""Reminder fan-out: N due reminders to N people through the emulator, with 429s.

    python bench/reminder_fanout.py                 # 10,000 reminders (about 7 minutes at 25/s)
    python bench/reminder_fanout.py --n 1000        # quicker
    python bench/reminder_fanout.py --index-only    # only the due-row lookup, 10k vs 1M rows

Prints the achieved send rate as a ratio of the configured cap (goal >= 0.95),
lost (goal 0) and duplicated (goal 0) reminders, and the time to find due rows
with 10,000 vs 1,000,000 rows in the outbox (goal: about the same). Ratios, not
absolute times: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from bot.app import build_app
from core.config import Settings
from core.notices import RenderContext, Rendered, renderer
from emulator import BotAPIEmulator
from storage import crypto, outbox
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import OutboxMessage, Person


@renderer("bench_reminder")
async def _reminder(ctx: RenderContext, payload: dict) -> Rendered | None:
    return Rendered(f"Husk at give dit input og din skalering inden mødet (#{payload['n']}).")


async def fanout(n: int, cap: float, every_429: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with BotAPIEmulator() as emu:
            settings = Settings(
                _env_file=None, bot_token=emu.token, bot_api_url=emu.base_url,
                database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
                send_rate=cap, send_chat_interval=1.0, quiet_hours_start="00:00", quiet_hours_end="00:00",
                outbox_batch=500, send_concurrency=64, data_key=crypto.new_key(),
            )
            app = await build_app(settings, start_scheduler=False)
            now = datetime.now(UTC)
            async with app.sessionmaker() as s, s.begin():
                await s.execute(insert(Person), [
                    {"telegram_id": 100_000 + i, "name": f"P{i}", "locale": "da", "created_at": now}
                    for i in range(n)])
                ids = list(await s.scalars(select(Person.id).order_by(Person.id)))
                await s.execute(insert(OutboxMessage), [
                    {"key": f"bench:{i}", "person_id": pid, "kind": "bench_reminder", "payload": f'{{"n": {i}}}',
                     "due_at": now, "status": "pending", "attempts": 0, "created_at": now}
                    for i, pid in enumerate(ids)])
            for i in range(n):
                emu.phone(100_000 + i, f"P{i}").open_chat()
            # Telegram-like pushback: every `every_429`-th message is answered with a 429.
            injected = 0
            for k in range(every_429, n, every_429):
                emu.inject_fault(429, chat_id=100_000 + k, method="sendMessage", retry_after=1)
                injected += 1

            started = time.monotonic()
            loop = asyncio.create_task(app.scheduler.run(poll_interval=0.2))
            await emu.wait_until(lambda: len({r.chat_id for r in emu.sent}) >= n, timeout=n / cap * 3 + 60)
            elapsed = time.monotonic() - started
            app.scheduler.stop()
            await loop
            per_chat = Counter(r.chat_id for r in emu.sent)
            lost = n - len(per_chat)
            duplicates = sum(c - 1 for c in per_chat.values())
            async with app.sessionmaker() as s:
                statuses = await outbox.count_by_status(s)
            await app.close()
    rate = n / elapsed
    print(f"reminders: {n}, cap {cap:g}/s, 429s injected: {injected}")
    print(f"elapsed {elapsed:.1f}s, achieved {rate:.2f}/s, ratio to cap {rate / cap:.3f} (goal >= 0.95)")
    print(f"lost {lost} (goal 0), duplicates {duplicates} (goal 0), outbox {statuses}")


async def due_lookup(small: int = 10_000, large: int = 1_000_000, due: int = 100, runs: int = 30) -> None:
    """Time the claim query's lookup with `small` and `large` rows, `due` of them due."""
    results = {}
    for total in (small, large):
        with tempfile.TemporaryDirectory() as tmp:
            crypto.configure(crypto.new_key())
            engine = make_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'rows.db'}")
            await upgrade(engine)
            now = datetime.now(UTC)
            async with make_sessionmaker(engine)() as s, s.begin():
                await s.execute(insert(Person), [{"telegram_id": 1, "name": "P", "created_at": now}])
                chunk = 50_000
                for start in range(0, total, chunk):
                    rows = []
                    for i in range(start, min(total, start + chunk)):
                        if i < due:
                            status, at = "pending", now - timedelta(minutes=1)
                        elif i % 3:
                            status, at = "sent", now - timedelta(days=1 + i % 300)
                        else:
                            status, at = "pending", now + timedelta(days=1 + i % 300)
                        rows.append({"key": f"k{i}", "person_id": 1, "kind": "bench_reminder",
                                     "payload": "{}", "due_at": at, "status": status, "attempts": 0,
                                     "created_at": now})
                    await s.execute(insert(OutboxMessage), rows)
            sm = make_sessionmaker(engine)
            timings = []
            query = outbox.due_query(now, 200)
            for _ in range(runs):
                async with sm() as s:
                    t = time.perf_counter()
                    found = list(await s.scalars(query))
                    timings.append(time.perf_counter() - t)
                assert len(found) == due
            results[total] = statistics.median(timings)
            await engine.dispose()
    ratio = results[large] / results[small]
    print(f"find {due} due rows: {small:,} rows {results[small] * 1000:.2f} ms, "
          f"{large:,} rows {results[large] * 1000:.2f} ms, ratio {ratio:.2f} (goal: about 1)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--cap", type=float, default=25.0)
    p.add_argument("--every-429", type=int, default=250)
    p.add_argument("--index-only", action="store_true")
    p.add_argument("--large", type=int, default=1_000_000)
    args = p.parse_args()
    if not args.index_only:
        asyncio.run(fanout(args.n, args.cap, args.every_429))
    asyncio.run(due_lookup(large=args.large))


if __name__ == "__main__":
    main()
