"""Middlewares: one database transaction per update, with the sender's Person and their
conversation state read in it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from core.notices import Notices
from storage.fsm import current_session
from storage.queries import first_delivery, person_by_telegram_id

log = logging.getLogger("samspil.updates")

# What a middleware calls to go on: the next middleware, or the handler (aiogram's BaseMiddleware).
Next = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DbSessionMiddleware(BaseMiddleware):
    """Opens the update's transaction; everything the update changes commits together.

    The FSM storage writes through the same session (see storage/fsm.py), so the
    next step of a conversation and the answer that led to it cannot drift apart.
    The update's id is recorded in the same transaction: an update delivered again
    (a crash before it was confirmed, a webhook retry) has its effect once.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], notices: Notices, clock: Clock,
                 turns: asyncio.Semaphore | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.notices = notices
        self.clock = clock
        self.turns = turns  # SQLite: updates take turns before the pool (storage/db.py update_turns)

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        if self.turns is None:
            return await self._in_session(handler, event, data)
        async with self.turns:
            return await self._in_session(handler, event, data)

    async def _in_session(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.sessionmaker() as session:
            async with session.begin():
                result = await self._handle(session, handler, event, data)
            # Committed: notices written by this update can go out now.
            if session.info.pop("outbox_due_now", False):
                self.notices.wake()
            return result

    async def _handle(self, session: AsyncSession, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update) and not await first_delivery(session, event.update_id, self.clock.now()):
            log.info("update already handled update_id=%s", event.update_id)
            return None
        token = current_session.set(session)
        # For answers Telegram did not take: they go into this update's outbox (bot/telegram.py).
        session.info["notices"] = self.notices
        try:
            user = data.get("event_from_user")
            data["session"] = session
            person = await person_by_telegram_id(session, user.id) if user else None
            data["person"] = person
            # A plain copy for the i18n middleware: the error path runs after rollback.
            data["person_locale"] = person.locale if person else None
            state = data.get("state")
            if state is not None:
                # Read here, through this transaction (SessionFSMMiddleware leaves it to us).
                data["raw_state"] = await state.get_state()
            return await handler(event, data)
        finally:
            current_session.reset(token)


class SessionFSMMiddleware(FSMContextMiddleware):
    """aiogram's FSM middleware without its read of the conversation state.

    It still resolves the person's conversation and holds the event isolation's lock (with
    Redis: one process per person at a time) around everything below it, the update's
    transaction and its commit included. The state is
    read by DbSessionMiddleware, inside the update's transaction: with the SQL storage that is
    a read in the same transaction (aiogram's own middleware runs before the session is open,
    so on SQLite it cost a transaction of its own), and the row read stays in the session for
    the writes that follow.
    """

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        context = self.resolve_event_context(data["bot"], data)
        data["fsm_storage"] = self.storage
        if context is None:
            return await handler(event, data)
        async with self.events_isolation.lock(key=context.key):
            data["state"] = context
            data["raw_state"] = None  # set by DbSessionMiddleware, below
            return await handler(event, data)


def install_session_fsm(dp: Dispatcher) -> SessionFSMMiddleware:
    """Put a SessionFSMMiddleware in the place of the dispatcher's FSM middleware."""
    old = dp.fsm
    new = SessionFSMMiddleware(storage=old.storage, events_isolation=old.events_isolation,
                               strategy=old.strategy)
    middlewares = dp.update.outer_middleware._middlewares
    middlewares[middlewares.index(old)] = new
    dp.fsm = new
    return new
