"""bot/inline_filters.py: aiogram's plain filters run on the loop, not in worker threads, and
decide exactly as before."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import F, Router

from bot.app import App
from bot.inline_filters import run_inline
from bot.playbook import Cast
from tests.helpers_dialog import fresh_routers, open_family  # noqa: F401 (fresh_routers: an autouse fixture)
from tests.test_sql_budget import _walk


async def test_no_filter_of_the_bot_goes_to_a_worker_thread(cast: Cast, samspil: App,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_inline(samspil.dp) == 0  # build_app left nothing plain to change
    trips: list[Any] = []
    real = asyncio.to_thread

    async def counted(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        trips.append(func)
        return await real(func, *args, **kwargs)

    fam = await open_family(cast, samspil)
    monkeypatch.setattr(asyncio, "to_thread", counted)
    # The benchmarks' walk (commands, taps on callback buttons, texts in boxes, share, score),
    # each step answered as it expects: the same handlers decided as before.
    for _step, kind, arg, expect in _walk():
        if kind == "send":
            await cast.say(fam.mom, arg, expect=expect)
        else:
            await cast.tap_text(fam.mom, arg, expect=expect)
    assert trips == []


async def test_a_plain_filter_decides_as_before_and_is_changed_once() -> None:
    router = Router()
    seen: list[str] = []

    @router.message(F.text == "ja")
    async def yes(_message: Any) -> None:
        seen.append("yes")

    def long_text(message: Any) -> bool:  # a plain function filter with a keyword of its own
        return len(message.text) > 3

    @router.message(long_text)
    async def long(_message: Any) -> None:
        seen.append("long")

    assert run_inline(router) == 2 and run_inline(router) == 0

    class Msg:
        def __init__(self, text: str) -> None:
            self.text = text

    for text, expected in (("ja", "yes"), ("nej tak", "long"), ("nej", None)):
        handled = [h for h in router.message.handlers if (await h.check(Msg(text)))[0]]
        assert [h.callback.__name__ for h in handled][:1] == ([expected] if expected else [])
