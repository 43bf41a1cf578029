"""Issue #11: the router tree is built fresh for every dispatcher (handlers/routers.py).

The flows' module-level routers are blueprints, never attached; `all_routers()` copies them,
so any number of dispatchers can live in one process at the same time, with nothing
detached or reused.
"""

from __future__ import annotations

from pathlib import Path

from aiogram import Dispatcher, F, Router
from aiogram.types import Message
from pydantic import SecretStr
from sqlalchemy import select

from bot.playbook import Cast
from core.clock import FakeClock
from core.config import Settings
from emulator import BotAPIEmulator
from handlers.routers import BLUEPRINTS, all_routers, fresh_copy
from storage.models import Dialog
from tests.conftest import start_bot, stop_bot
from tests.helpers import fresh_routers  # noqa: F401 (an autouse fixture: the blueprints stay free)


def _callbacks(router: Router) -> dict[str, list[object]]:
    return {event: [h.callback for h in observer.handlers]
            for event, observer in router.observers.items() if observer.handlers}


def test_each_call_builds_a_new_tree_with_the_blueprints_handlers() -> None:
    one, two = all_routers(), all_routers()
    assert [r.name for r in one] == [r.name for r in two] == [b.name for b in BLUEPRINTS]
    assert [r.name for r in one][-1] == "fallback"  # the fallback sees an update last
    for blueprint, a, b in zip(BLUEPRINTS, one, two, strict=True):
        assert a is not blueprint and b is not a
        assert a.parent_router is None and b.parent_router is None
        assert _callbacks(a) == _callbacks(b) == _callbacks(blueprint), blueprint.name
        for event, observer in blueprint.observers.items():
            # Same handlers (filters and flags included), lists of their own.
            assert a.observers[event].handlers == observer.handlers
            assert a.observers[event].handlers is not observer.handlers
        assert [h.callback for h in a.shutdown.handlers] == [h.callback for h in blueprint.shutdown.handlers]
        assert [h.callback for h in a.startup.handlers] == [h.callback for h in blueprint.startup.handlers]
    # Something of everything the flows register: commands, buttons, errors.
    everything = {event for r in one for event in _callbacks(r)}
    assert {"message", "callback_query", "error"} <= everything

    # Two dispatchers take a tree each; the blueprints stay free.
    first, second = Dispatcher(), Dispatcher()
    first.include_routers(*one)
    second.include_routers(*two)
    assert first.sub_routers == one and second.sub_routers == two
    assert all(b.parent_router is None for b in BLUEPRINTS)


def test_a_copy_keeps_middlewares_observer_filters_and_sub_routers() -> None:
    async def outer(handler, event, data):  # type: ignore[no-untyped-def]
        return await handler(event, data)

    async def inner(handler, event, data):  # type: ignore[no-untyped-def]
        return await handler(event, data)

    async def on_start() -> None: ...

    async def on_stop() -> None: ...

    async def on_text(message: Message) -> None: ...

    async def on_other(message: Message) -> None: ...

    blueprint, child = Router(name="blueprint"), Router(name="child")
    blueprint.message.outer_middleware(outer)
    blueprint.message.middleware(inner)
    blueprint.message.filter(F.chat.type == "private")
    blueprint.startup.register(on_start)
    blueprint.shutdown.register(on_stop)
    blueprint.message.register(on_text, F.text)
    child.message.register(on_other)
    blueprint.include_router(child)

    copy = fresh_copy(blueprint)
    assert copy.name == "blueprint" and copy.parent_router is None
    assert list(copy.message.outer_middleware) == [outer]
    assert list(copy.message.middleware) == [inner]
    assert copy.message._handler.filters == blueprint.message._handler.filters
    assert [h.callback for h in copy.startup.handlers] == [on_start]
    assert [h.callback for h in copy.shutdown.handlers] == [on_stop]
    assert [h.callback for h in copy.message.handlers] == [on_text]
    [copied_child] = copy.sub_routers
    assert copied_child is not child and copied_child.name == "child"
    assert copied_child.parent_router is copy and child.parent_router is blueprint
    assert [h.callback for h in copied_child.message.handlers] == [on_other]
    # What is registered on the copy later stays on the copy.
    copy.message.register(on_other)
    assert len(blueprint.message.handlers) == 1


async def test_two_bots_in_one_process_at_the_same_time(
    emu: BotAPIEmulator, settings: Settings, clock: FakeClock, tmp_path: Path,
) -> None:
    """Two dispatchers (two bots, two databases) poll side by side in one process; each runs
    its own conversation, step by step, interleaved with the other's."""
    async with BotAPIEmulator("222222:second-bot-token", bot_username="samspil_two_bot") as emu2:
        settings2 = settings.model_copy(update={
            "bot_token": SecretStr(emu2.token), "bot_api_url": emu2.base_url,
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'second.db'}",
            "database_schema": None, "redis_url": None})
        app1, task1 = await start_bot(settings, clock)
        try:
            app2, task2 = await start_bot(settings2, clock)
            try:
                assert not set(map(id, app1.dp.sub_routers)) & set(map(id, app2.dp.sub_routers))
                cast1 = Cast(emu=emu, settings=settings, i18n=app1.i18n, clock=clock, scheduler=app1.scheduler)
                cast2 = Cast(emu=emu2, settings=settings2, i18n=app2.i18n, clock=clock, scheduler=app2.scheduler)
                one, two = cast1.person("Camilla Tovholder"), cast2.person("Jonas Tovholder")
                await cast1.register(one)
                await cast2.register(two)

                # /ny, step by step, the two conversations interleaved.
                for cast, who in ((cast1, one), (cast2, two)):
                    reply = await cast.say(who, "/ny")
                    assert reply.text.startswith("Ny dialog (trin 1 af 3)"), reply.text
                await cast1.say(one, "Emma")
                await cast2.say(two, "Noah")
                await cast1.tap(one, "Child (0-14 years)")
                await cast2.tap(two, "Young person (15-30 years)")
                await cast1.say(one, "Vi vil styrke Emmas trivsel i skolen.")
                await cast2.say(two, "Vi vil støtte Noah i hverdagen.")
                await cast1.tap(one, "✅ Open the dialog")
                await cast2.tap(two, "✅ Open the dialog")

                for app, child, age in ((app1, "Emma", "barn"), (app2, "Noah", "ung")):
                    async with app.sessionmaker() as s:
                        [dialog] = list(await s.scalars(select(Dialog)))
                    assert (dialog.child_name, dialog.age_group) == (child, age)
                # Each bot answered only its own people.
                assert {r.chat_id for r in emu.sent if r.chat_id is not None} == {one.phone.user_id}
                assert {r.chat_id for r in emu2.sent if r.chat_id is not None} == {two.phone.user_id}
            finally:
                await stop_bot(app2, task2)
            # The first bot goes on answering after the second has stopped.
            reply = await cast1.say(one, "/hjaelp")
            assert reply.text
        finally:
            await stop_bot(app1, task1)
