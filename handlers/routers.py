"""The router tree, built fresh for every dispatcher.

Each flow module declares its handlers with aiogram's decorators on a module-level
`router` (as in aiogram's examples/multi_file_bot). That router is a *blueprint*: it is
never included in a dispatcher itself. aiogram lets a router hang under one parent only,
and the app builds a dispatcher each time it starts (`samspil run` once; the tests, the
demo and a webhook process next to a polling one start many in one process), so
`all_routers()` makes new Router objects carrying the blueprints' handlers for each
dispatcher (`fresh_copy`). Nothing is ever detached or reused.

Order matters: the first router whose handler matches takes the update; the fallback
router is last.
"""

from __future__ import annotations

from aiogram import Dispatcher, Router
from aiogram.utils.callback_answer import CallbackAnswerMiddleware

from handlers import (
    common,
    contact,
    coordinator,
    desk,
    dialog_input,
    home,
    join,
    loose_text,
    media,
    meeting_close,
    meetings,
    minimal,
    notifications,
    on_behalf,
    overview,
    plan,
    plan_answers,
    privacy,
    reports,
    scaling,
)
from handlers.seats import SeatMiddleware
from services.plan import OverdueDigest
from storage.retention import RetentionJob

# The flows' blueprints, in the order they see an update. The main menu's entries come first:
# a menu tap in the middle of a step is never taken as that step's answer (handlers/home.py).
# Before them all: with CHAT_CONTENT=minimal the chat is only a launcher (handlers/minimal.py),
# and that router takes everything; in full mode it takes nothing.
BLUEPRINTS: tuple[Router, ...] = (
    minimal.router,
    home.router, join.router, coordinator.router, desk.router, on_behalf.router, dialog_input.router, scaling.router,
    overview.router, meetings.router, meeting_close.router, plan.router, plan_answers.router, reports.router,
    privacy.router, contact.router, notifications.router, common.router, loose_text.router, media.router,
    common.fallback,
)


def include_flows(dp: Dispatcher) -> None:
    """Everything the flows need in a dispatcher: each button's declared seat check
    (handlers/seats.py), then aiogram's CallbackAnswerMiddleware inside it (a refused seat
    is answered by the check and the handler never runs; every tap that reaches a handler is
    answered once, after it, with what the handler set on its `callback_answer`), then a
    fresh router tree."""
    dp.callback_query.middleware(SeatMiddleware())
    dp.callback_query.middleware(CallbackAnswerMiddleware())
    dp.include_routers(*all_routers())


def all_routers() -> list[Router]:
    """A fresh router tree for one dispatcher: new Router objects, in order, each with the
    handlers (filters, flags), middlewares, startup/shutdown callbacks and sub-routers of
    its blueprint. Call it once per dispatcher (`dp.include_routers(*all_routers())`)."""
    return [fresh_copy(blueprint) for blueprint in BLUEPRINTS]


def fresh_copy(blueprint: Router) -> Router:
    """A new, unattached Router doing what `blueprint` does.

    A registered handler (aiogram's HandlerObject: the callback, its prepared filters and
    flags) belongs to no router and is only read while an update is handled, so the copy
    shares those objects; its lists are its own, so the copy and the blueprint can hang
    under different parents.
    """
    router = Router(name=blueprint.name)
    for event, source in blueprint.observers.items():
        target = router.observers[event]
        target.handlers.extend(source.handlers)
        for middleware in source.outer_middleware:
            target.outer_middleware.register(middleware)
        for middleware in source.middleware:
            target.middleware.register(middleware)
        # Filters for every handler of the observer (`router.message.filter(...)`): aiogram
        # keeps them in a handler object of the observer's own.
        if source._handler.filters:
            target._handler.filters = list(source._handler.filters)
    for handler in blueprint.startup.handlers:
        router.startup.register(handler.callback)
    for handler in blueprint.shutdown.handlers:
        router.shutdown.register(handler.callback)
    for sub in blueprint.sub_routers:
        router.include_router(fresh_copy(sub))
    return router


def all_jobs() -> list:  # type: ignore[type-arg]
    """Periodic jobs the outbox scheduler runs each round (they write notices)."""
    # The retention job first: it works in transactions of its own, which on SQLite must
    # not wait behind the round's transaction once another job has written in it.
    return [RetentionJob(), OverdueDigest()]
