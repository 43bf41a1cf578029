"""Latency the way people meet it: people arrive at a fixed rate, whatever the bot's speed.

    python bench/openloop.py                          # SQLite: 1,000 people, 20 steps/s
    python bench/openloop.py --people 300 --rate 20
    python bench/openloop.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        --redis redis://127.0.0.1:6379/15             # SQLite, then PostgreSQL with Redis
    python bench/openloop.py --search                 # the highest rate with p99 under 500 ms

bench/throughput.py lets everyone in at once and measures how fast the bot works through
them (a closed loop: nobody takes a step before their last one was answered, so a slow bot
slows the arrivals down and hides its queue). Here people arrive one after the other at a
fixed rate, each goes through the walk of bench/_load.py (the link, consent for the parents,
three boxes of input, sharing, a score) with a short pause to read and type before each
step, and new people keep arriving whatever the bot's speed. The arrival rate is set so that
`--rate` steps per second arrive in all (about 14.4 steps per person). Reported: p50, p95 and
p99 of the time from a person's step to the bot's answer, for Samspil (SQLite; PostgreSQL +
Redis with --postgres) and for the minimal echo bot at the same rate on the same emulator
(bench/_echo_bot.py), each in a process of its own, in one run.

`--search` runs short rounds at rising rates (people arriving for about `--search-seconds`
each, a fresh database each) and reports the highest rate at which p99 stays under
`--p99-limit` (500 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import (  # noqa: E402
    COORDINATOR,
    STEP_TIMEOUT,
    BotProcess,
    Figures,
    check_stored,
    data_key,
    echo_plan,
    echo_process,
    fresh_store,
    opened,
    polling_started,
    samspil_env,
    samspil_plan,
    samspil_process,
    seed,
)
from bench.throughput import _people_only  # noqa: E402
from emulator import BotAPIEmulator, Phone  # noqa: E402

Plan = list[tuple[str, str, str]]


@dataclass
class Load:
    rate: float  # steps per second arriving, in all
    think: float  # mean seconds a person takes before each step
    seed: int = 15


def _boxes(name: str) -> tuple[str, str, str]:
    return (f"{name} bekymring del 1", f"{name} bekymring del 2", f"{name} ressource")


def _steps(plan: Plan) -> int:
    return sum(1 for kind, _a, _e in plan if kind != "wait")


async def _walk(phone: Phone, plan: Plan, figures: Figures, think: float, rng: random.Random) -> None:
    for kind, arg, expect in plan:
        if kind == "wait":
            await phone.wait_for(opened, after=0, timeout=STEP_TIMEOUT)
            continue
        await asyncio.sleep(think * rng.uniform(0.5, 1.5))  # reading, typing
        mark = phone.mark()
        started = time.perf_counter()
        if kind == "send":
            await phone.send(arg)
        else:
            await phone.tap(arg)
        await phone.wait_for(expect or (lambda _m: True), after=mark, timeout=STEP_TIMEOUT)
        figures.latencies.append(time.perf_counter() - started)
        figures.steps += 1


async def run_open(emu: BotAPIEmulator, plans: dict[int, Plan], load: Load, figures: Figures,
                   bots: list[BotProcess]) -> Figures:
    """People arrive every `interval` seconds (fixed), in the order of `plans`, and walk."""
    from bench._load import _machine_ticks, _watch

    emu.phone(COORDINATOR, "Camilla").open_chat()
    per_person = sum(_steps(p) for p in plans.values()) / len(plans)
    interval = per_person / load.rate
    rng = random.Random(load.seed)
    cpu, own, machine = sum(b.cpu_seconds() for b in bots), time.process_time(), _machine_ticks()
    watch = asyncio.create_task(_watch(bots))
    walks: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    try:
        for i, (uid, plan) in enumerate(plans.items()):
            delay = started + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if watch.done():
                watch.result()
            phone = emu.phone(uid, f"P{uid}")
            walks.append(asyncio.create_task(_walk(phone, plan, figures, load.think,
                                                   random.Random(rng.random()))))
        everyone = asyncio.gather(*walks)
        await asyncio.wait([everyone, watch], return_when=asyncio.FIRST_COMPLETED)
        if watch.done():
            watch.result()
        await everyone
    except BaseException as exc:
        for task in walks:
            task.cancel()
        await asyncio.gather(*walks, return_exceptions=True)
        raise RuntimeError(f"the run failed; the bot's log ends:\n{bots[0].tail()}") from exc
    finally:
        watch.cancel()
    figures.seconds = time.perf_counter() - started
    figures.bot_cpu = sum(b.cpu_seconds() for b in bots) - cpu
    figures.emu_cpu = time.process_time() - own
    (total0, idle0), (total1, idle1) = machine, _machine_ticks()
    figures.busy = 1 - (idle1 - idle0) / max(1, total1 - total0)
    return figures


def line(f: Figures, offered: float) -> str:
    return (f"{f.label:<28} {f.steps:>6} steps, offered {offered:5.1f}/s, got {f.rate:5.1f}/s  "
            f"p50 {f.pct(50) * 1000:6.0f} ms  p95 {f.pct(95) * 1000:6.0f} ms  p99 {f.pct(99) * 1000:6.0f} ms  "
            f"CPU/step {f.bot_cpu / max(1, f.steps) * 1000:5.1f} ms; machine {f.busy:4.0%} busy")


async def echo_open(tmp: Path, people: int, load: Load) -> Figures:
    model = {p.user_id: echo_plan(samspil_plan(p, _boxes(p.name))) for p in _people_only(people)}
    async with BotAPIEmulator() as emu:
        bot = echo_process(emu, tmp / "echo.log")
        bot.start()
        try:
            await polling_started(emu, [bot])
            return await run_open(emu, model, load, Figures("echo bot"), [bot])
        finally:
            await bot.stop()


async def samspil_open(tmp: Path, people: int, load: Load, postgres: str | None, redis: str | None
                       ) -> tuple[Figures, str]:
    key = data_key()
    async with fresh_store(tmp, postgres, redis) as store, BotAPIEmulator() as emu:
        cast = await seed(store, people)
        # Families arrive member after member (their order in `seed`).
        plans = {p.user_id: samspil_plan(p, _boxes(p.name)) for p in cast}
        bot = samspil_process(samspil_env(emu, store, key), tmp / "samspil.log")
        bot.start()
        try:
            await polling_started(emu, [bot])
            figures = await run_open(emu, plans, load, Figures(f"Samspil, {store.label}"), [bot])
            await emu.wait_idle(timeout=60, settle=0.2)
        finally:
            await bot.stop()
        return figures, await check_stored(store, len(cast))


async def search(tmp: Path, args: argparse.Namespace, postgres: str | None, redis: str | None) -> None:
    """Rising rates until p99 goes over the limit; the highest rate under it."""
    best = None
    rate = args.rate
    while rate <= args.search_max:
        people = max(10, int(rate * args.search_seconds / 14.4) // 5 * 5)
        load = Load(rate, args.think)
        figures, stored = await samspil_open(tmp, people, load, postgres, redis)
        print(line(figures, rate) + f"  ({people} people)", flush=True)
        if "EXPECTED" in stored:
            print(f"{'':<28} {stored}")
        if figures.pct(99) >= args.p99_limit / 1000:
            break
        best = rate
        rate = round(rate * args.search_step, 1)
    label = "SQLite" if postgres is None else "PostgreSQL + Redis"
    print(f"highest rate with p99 < {args.p99_limit:.0f} ms, {label}: "
          + (f"{best:.1f} steps/s" if best else f"below {args.rate:.1f} steps/s"), flush=True)


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--people", type=int, default=1000, help="people arriving, in families of 5 (default 1000)")
    p.add_argument("--rate", type=float, default=20.0, help="steps per second arriving in all (default 20)")
    p.add_argument("--think", type=float, default=1.0,
                   help="mean seconds a person takes before each step (0.5x-1.5x; default 1)")
    p.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL (postgresql+asyncpg://...)")
    p.add_argument("--redis", metavar="URL", help="with --postgres: Redis for the per-person locks, as in production (redis://...)")
    p.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    p.add_argument("--no-echo", action="store_true", help="leave out the echo bot")
    p.add_argument("--search", action="store_true", help="find the highest rate with p99 under --p99-limit")
    p.add_argument("--p99-limit", type=float, default=500.0, help="ms (default 500)")
    p.add_argument("--search-seconds", type=float, default=30.0, help="seconds of arrivals per round (default 30)")
    p.add_argument("--search-step", type=float, default=1.5, help="factor between rounds (default 1.5)")
    p.add_argument("--search-max", type=float, default=400.0, help="highest rate tried (default 400)")
    args = p.parse_args()
    people = max(5, args.people // 5 * 5)
    databases = ([] if args.no_sqlite else [None]) + ([args.postgres] if args.postgres else [])
    if not databases:
        p.error("nothing to run: --no-sqlite without --postgres")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.search:
            for url in databases:
                await search(tmp, args, url, args.redis if url else None)
            return
        load = Load(args.rate, args.think)
        print(f"{people} people arriving at a fixed rate, {args.rate:g} steps/s in all; "
              f"a pause of {args.think:g} s (0.5x-1.5x) before each step", flush=True)
        if not args.no_echo:
            print(line(await echo_open(tmp, people, load), args.rate), flush=True)
        for url in databases:
            figures, stored = await samspil_open(tmp, people, load, url, args.redis if url else None)
            print(line(figures, args.rate), flush=True)
            print(f"{'':<28} {stored}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
