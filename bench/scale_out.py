"""Scale-out: the same conversations against 1 and then 3 webhook processes on PostgreSQL + Redis.

    python bench/scale_out.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        --redis redis://127.0.0.1:6379/15                       # 100 people, 1 then 3 processes
    python bench/scale_out.py --postgres URL --redis URL --people 50 --processes 1 2 3

The load of bench/throughput.py (N people in families of five through consent,
three boxes of input, sharing and a score, all at once; bench/_load.py), but
the bot runs as `samspil run --webhook` processes behind the emulator's
round-robin webhook delivery (a stand-in for the load balancer, as in
tests/test_scale_out.py), sharing one PostgreSQL schema and Redis. Each process
count gets a fresh schema, Redis prefix and emulator; the clock starts once every
process serves. Prints steps/s, p50/p99 latency per step and the CPU time of the
bot processes per step for each count, and the ratio of steps/s to one process.

The ratio is bounded by the cores the processes can use: on a machine with C cores
shared by the bots, the emulator and the people (this process), and PostgreSQL,
three processes cannot do three times the work of one unless one process leaves
cores idle. The script prints the core count beside the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import (  # noqa: E402
    BotProcess,
    Figures,
    check_stored,
    data_key,
    fresh_store,
    run_load,
    samspil_env,
    samspil_plan,
    samspil_process,
    seed,
)
from emulator import BotAPIEmulator  # noqa: E402


async def scale_run(tmp: Path, people: int, processes: int, postgres: str, redis: str) -> tuple[Figures, str]:
    key = data_key()
    async with fresh_store(tmp, postgres, redis) as store, BotAPIEmulator() as emu:
        cast = await seed(store, people)
        env = samspil_env(emu, store, key, webhook=True)
        bots: list[BotProcess] = [samspil_process(env, tmp / f"{store.schema}_{i}.log", webhook=True)
                                  for i in range(processes)]
        try:
            for b in bots:
                b.start()
            ports = [await b.webhook_port() for b in bots]
            emu.set_webhook_targets([f"http://127.0.0.1:{port}/telegram" for port in ports])
            plans = {p.user_id: samspil_plan(p, (f"{p.name} a", f"{p.name} b", f"{p.name} c")) for p in cast}
            label = f"{processes} webhook process{'es' if processes > 1 else ''}"
            figures = await run_load(emu, plans, Figures(label), bots)
            await emu.wait_idle(timeout=60, settle=0.2)  # the last notices
        finally:
            for b in bots:
                await b.stop()
        return figures, await check_stored(store, len(cast))


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--postgres", metavar="URL", required=True, help="postgresql+asyncpg://...")
    p.add_argument("--redis", metavar="URL", required=True, help="redis://... (the per-person locks)")
    p.add_argument("--people", type=int, default=100, help="simulated people, in families of 5 (default 100)")
    p.add_argument("--processes", type=int, nargs="+", default=[1, 3], help="process counts (default: 1 3)")
    args = p.parse_args()
    people = max(5, args.people // 5 * 5)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{people} people at once, families of 5, PostgreSQL + Redis, webhook; {cores} CPU cores "
          "shared by the bots, the emulator, the people and the databases")
    results: dict[int, Figures] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.processes:
            figures, stored = await scale_run(Path(tmp), people, n, args.postgres, args.redis)
            results[n] = figures
            print(figures.line(), flush=True)
            print(f"{'':<28} {stored}")
    base = results[args.processes[0]]
    for n, figures in results.items():
        if figures is not base:
            print(f"ratio {n} / {args.processes[0]} processes: {figures.rate / base.rate:.2f} steps/s "
                  f"(ideal {n / args.processes[0]:.0f}; bounded by {cores} cores), "
                  f"bot CPU per step {figures.bot_cpu / figures.steps * 1000:.1f} vs "
                  f"{base.bot_cpu / base.steps * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
