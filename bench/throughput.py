"""Conversation throughput: Samspil against a minimal aiogram echo bot on the same emulator.

    python bench/throughput.py                       # SQLite, 50 people
    python bench/throughput.py --people 100
    python bench/throughput.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        --redis redis://127.0.0.1:6379/15            # SQLite, then PostgreSQL with Redis
    python bench/throughput.py --postgres URL --no-sqlite

N people (families of five, two of them consent givers) each go through
consent, one input area with three boxes, sharing and a score at the same time
(bench/_load.py); each step is one text or tap and waiting for the bot's answer.
The echo baseline: the same N people play the same texts and taps (ten times
over, `--echo-repeat`, so that its run lasts about as long as Samspil's) against
a minimal aiogram 3 bot (bench/_echo_bot.py) that polls the emulator the way
Samspil did before #15 (each update handled before it is confirmed, one after the other);
`--echo-tasks` adds a baseline with aiogram's default of one task per update, `--echo-batch`
one that polls as Samspil does since #15 (bot/polling.py: each batch side by side, per
person in order, confirmed once all of it is handled).
Both bots are processes of their own (`samspil run`, long polling); the emulator
and the people run in this process. For each database the echo bot runs right
before Samspil, each on a fresh emulator (Samspil on a fresh database, schema and
Redis prefix), and the ratio of steps/s is printed (goal >= 0.5), with p50/p99
latency per step, the CPU time per step of the bot process and of this process,
and how busy the whole machine was. Start-up is not measured: the clock starts
when the bot polls. On a shared machine the wall-clock ratio moves with the other
work; the ratio of CPU time per step (echo / Samspil) moves much less.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import (  # noqa: E402
    FAMILY,
    Figures,
    Someone,
    check_stored,
    data_key,
    echo_plan,
    echo_process,
    fresh_store,
    polling_started,
    run_load,
    samspil_env,
    samspil_plan,
    samspil_process,
    seed,
)
from emulator import BotAPIEmulator  # noqa: E402


def plans_for(people: list[Someone]) -> dict[int, list[tuple[str, str, str]]]:
    return {p.user_id: samspil_plan(p, (f"{p.name} bekymring del 1", f"{p.name} bekymring del 2",
                                        f"{p.name} ressource")) for p in people}


async def echo_run(tmp: Path, plans: dict[int, list[tuple[str, str, str]]], *, tasks: bool,
                   repeat: int = 1, mode: str = "") -> Figures:
    label = "echo bot" + (" (task per update)" if tasks else " (batch, as Samspil)" if mode == "batch" else "")
    async with BotAPIEmulator() as emu:
        bot = echo_process(emu, tmp / "echo.log", tasks=tasks, mode=mode)
        bot.start()
        try:
            await polling_started(emu, [bot])
            echo = {uid: echo_plan(plan) * repeat for uid, plan in plans.items()}
            return await run_load(emu, echo, Figures(label), [bot])
        finally:
            await bot.stop()


async def samspil_run(tmp: Path, people: int, postgres: str | None, redis: str | None,
                      profile: Path | None = None) -> tuple[Figures, str]:
    key = data_key()
    async with fresh_store(tmp, postgres, redis) as store, BotAPIEmulator() as emu:
        cast = await seed(store, people)
        bot = samspil_process(samspil_env(emu, store, key), tmp / "samspil.log", profile=profile)
        bot.start()
        try:
            await polling_started(emu, [bot])
            figures = await run_load(emu, plans_for(cast), Figures(f"Samspil, {store.label}"), [bot])
            await emu.wait_idle(timeout=60, settle=0.2)  # the last notices
        finally:
            await bot.stop()
        return figures, await check_stored(store, len(cast))


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--people", type=int, default=50, help="simulated people, in families of 5 (default 50)")
    p.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL (postgresql+asyncpg://...)")
    p.add_argument("--redis", metavar="URL", help="with --postgres: Redis for the per-person locks, as in production (redis://...)")
    p.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    p.add_argument("--echo-tasks", action="store_true", help="also an echo bot with a task per update")
    p.add_argument("--echo-batch", action="store_true",
                   help="also an echo bot that polls as Samspil does (bot/polling.py: a batch side by side)")
    p.add_argument("--echo-repeat", type=int, default=10,
                   help="the echo people go through their steps this often (default 10), so that the echo "
                        "run lasts about as long as Samspil's and a busy moment weighs alike on both")
    p.add_argument("--profile", metavar="FILE", type=Path,
                   help="run Samspil under cProfile and write the stats here (slower; for finding hot spots)")
    args = p.parse_args()
    people = max(5, args.people // 5 * 5)
    databases = ([] if args.no_sqlite else [None]) + ([args.postgres] if args.postgres else [])
    if not databases:
        p.error("nothing to run: --no-sqlite without --postgres")
    print(f"{people} people at once, families of 5; each step: one text or tap and the bot's answer")
    results = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        # The echo bot needs no database: the same people and steps, minus the invitations.
        model = plans_for(_people_only(people))
        for url in databases:
            echo = await echo_run(tmp, model, tasks=False, repeat=args.echo_repeat)
            print(echo.line(), flush=True)
            if args.echo_tasks:
                print((await echo_run(tmp, model, tasks=True, repeat=args.echo_repeat)).line(), flush=True)
            batch = None
            if args.echo_batch:
                batch = await echo_run(tmp, model, tasks=False, repeat=args.echo_repeat, mode="batch")
                print(batch.line(), flush=True)
            samspil, stored = await samspil_run(tmp, people, url, args.redis if url else None,
                                                  args.profile and args.profile.with_suffix(f".{len(results)}.prof"))
            print(samspil.line(), flush=True)
            print(f"{'':<28} {stored}")
            results.append((samspil, echo, batch))
    for samspil, echo, batch in results:
        cpu = (echo.bot_cpu / echo.steps) / (samspil.bot_cpu / samspil.steps)
        print(f"ratio {samspil.label} / echo: {samspil.rate / echo.rate:.2f} steps/s (goal >= 0.5); "
              f"CPU time per step, echo / Samspil: {cpu:.2f} (the ratio when both bots are CPU-bound)")
        if batch is not None:
            print(f"ratio {samspil.label} / echo polling as Samspil does: {samspil.rate / batch.rate:.2f} steps/s")


def _people_only(people: int) -> list[Someone]:
    """The same people as `seed` makes, without a database (their links are never read)."""
    return [Someone(1000 + f * 10 + i, f"P{1000 + f * 10 + i}", role == "parent_custody", "x" * 22)
            for f in range(people // len(FAMILY)) for i, (role, _rel) in enumerate(FAMILY)]


if __name__ == "__main__":
    asyncio.run(main())
