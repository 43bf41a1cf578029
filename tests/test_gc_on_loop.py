"""bot/gc_on_loop.py: the cyclic garbage collector runs as a task on the loop, not at any
allocation (the workaround for the segfault on PostgreSQL, README "Performance")."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from bot.gc_on_loop import freeze_start_up, run_collecting_on_the_loop


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


async def _cycle_is_collected_by_the_task() -> str:
    assert not gc.isenabled()  # no collection at an arbitrary allocation
    node = _Node()
    gone = weakref.ref(node)
    del node
    _young = [[] for _ in range(gc.get_threshold()[0] * 2)]  # past the first threshold
    for _ in range(500):  # a few of the task's turns
        if gone() is None:
            return "collected"
        await asyncio.sleep(0.01)
    return "not collected"


async def test_garbage_in_a_cycle_is_collected_by_the_task_on_the_loop() -> None:
    assert gc.isenabled()
    assert await run_collecting_on_the_loop(_cycle_is_collected_by_the_task(), interval=0.01) == "collected"
    assert gc.isenabled()  # as it was


async def test_a_failure_inside_leaves_collection_as_it_was() -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await run_collecting_on_the_loop(fails(), interval=0.01)
    assert gc.isenabled()
    assert not [t for t in asyncio.all_tasks() if "collect_when_due" in repr(t) and not t.done()]


async def _freezes_and_still_collects() -> tuple[int, str]:
    kept = [object() for _ in range(100)]  # start-up's objects, alive for good
    frozen = freeze_start_up()
    outcome = await _cycle_is_collected_by_the_task()  # garbage made after start-up still goes
    del kept
    return frozen, outcome


async def test_start_up_is_frozen_out_of_collections_and_later_garbage_still_goes() -> None:
    frozen, outcome = await run_collecting_on_the_loop(_freezes_and_still_collects(), interval=0.01)
    assert frozen > 100 and outcome == "collected"
    assert gc.get_freeze_count() == 0  # unfrozen again when the bot stops
