"""Every button's handler declares its seat check (handlers/seats.py): no callback handler is
reachable without it, unless it says it is about no dialog."""

from __future__ import annotations

from aiogram import Router
from aiogram.dispatcher.flags import get_flag

from handlers.routers import all_routers
from handlers.seats import NO_DIALOG, SEAT
from rules.access import Action


def _walk(router: Router):  # type: ignore[no-untyped-def]
    yield router
    for sub in router.sub_routers:
        yield from _walk(sub)


def callback_handlers() -> list[tuple[str, object]]:
    found = []
    for top in all_routers():
        for router in _walk(top):
            for handler in router.callback_query.handlers:
                found.append((f"{router.name}.{handler.callback.__name__}", get_flag(handler, SEAT)))
    return found


def test_every_callback_handler_declares_its_seat_check() -> None:
    handlers = callback_handlers()
    assert len(handlers) > 20
    undeclared = [name for name, flag in handlers if not (isinstance(flag, Action) or flag == NO_DIALOG[SEAT])]
    assert undeclared == [], f"callback handlers without a seat check: {undeclared}"
