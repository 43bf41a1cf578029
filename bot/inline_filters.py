"""aiogram's plain (not async) filters, run on the loop instead of in a worker thread.

aiogram runs a filter or handler that is a plain function with `asyncio.to_thread`, in case it
blocks. Samspil's are magic filters (`F.text`, `F.action == ...`) and state checks: a few
attribute reads each, never blocking. About ten of them are looked at per update, and each
trip through the thread pool cost more than the check itself: a future, a worker woken, the
loop woken back, the GIL handed over twice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject


def run_inline(router: Router) -> int:
    """Make every plain filter and handler under `router` run on the loop. Returns how many
    were changed (none the second time)."""
    changed = 0
    for callable_object in _callables(router):
        if not callable_object.awaitable:
            callable_object.callback = _awaitable(callable_object.callback)
            callable_object.awaitable = True
            changed += 1
    return changed


def _callables(router: Router) -> Iterator[CallableObject]:
    for each in router.chain_tail:
        for observer in each.observers.values():
            yield from observer._handler.filters or []  # the observer's own .filter()s
            for handler in observer.handlers:
                yield handler
                yield from handler.filters or []


def _awaitable(callback: Callable[..., Any]) -> Callable[..., Any]:
    # The keyword arguments aiogram passes were chosen from the original signature
    # (CallableObject.params, kept), so the wrapper passes on whatever it is given.
    @functools.wraps(callback)
    async def call(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return call
