"""The cyclic garbage collector, run by a task on the event loop instead of automatically.

Automatic collection starts wherever an allocation crosses the threshold: inside
SQLAlchemy's greenlets while it builds objects from rows, in the middle of a driver's
callback, in a thread-pool worker. On PostgreSQL the bot process died now and then of heap
corruption (a segmentation fault, a block freed while still in use; README "Performance")
under many updates at once: in the PostgreSQL crash test, 6 runs of 27 with automatic
collection, none of 40 without it (20 with collection off, 20 with this module), none of 16
with a pool of one connection. The library at fault was not found; this is a workaround.

Here a collection runs only between the loop's callbacks, on the loop's thread, outside any
greenlet, as often as automatic collection would (Python's own thresholds, looked at every
`interval` seconds). Cyclic garbage waits up to that long.

What start-up built (about 330,000 objects: aiogram's and pydantic's models, SQLAlchemy's
mappers, the routers) lives as long as the process; once the bot is up it is frozen out of
every later collection (`freeze_start_up`): a full collection paused the loop 306 ms before
that (a step's answer waited that long), under 1 ms after (bench/gc_pause.py).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
INTERVAL = 0.2


async def collect_when_due(interval: float = INTERVAL) -> None:
    """For ever: the generations over their thresholds collected, the oldest one due first."""
    while True:
        await asyncio.sleep(interval)
        (t0, t1, t2), (c0, c1, c2) = gc.get_threshold(), gc.get_count()
        if c0 > t0:
            gc.collect(2 if c2 > t2 else 1 if c1 > t1 else 0)


def freeze_start_up() -> int:
    """Collect once, then keep everything alive now out of later collections (`gc.freeze`).
    Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


async def run_collecting_on_the_loop(main: Coroutine[Any, Any, T], interval: float = INTERVAL) -> T:
    """`main`, with automatic collection off and `collect_when_due` beside it; afterwards
    collection is as it was (and nothing frozen by `freeze_start_up` stays frozen)."""
    was_enabled = gc.isenabled()
    gc.disable()
    collector = asyncio.create_task(collect_when_due(interval))
    try:
        return await main
    finally:
        collector.cancel()
        gc.unfreeze()
        if was_enabled:
            gc.enable()
        await asyncio.wait([collector])  # ended, not only asked to end
