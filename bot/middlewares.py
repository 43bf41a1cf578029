"""Middlewares: one database transaction per update, and the sender's Person."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.notices import Notices
from storage.fsm import current_session, flush_after_commit
from storage.queries import first_delivery, person_by_telegram_id

log = logging.getLogger("samspil.updates")


class DbSessionMiddleware(BaseMiddleware):
    """Opens the update's transaction; everything the update changes commits together.

    The FSM storage writes through the same session (see storage/fsm.py), so the
    next step of a conversation and the answer that led to it cannot drift apart.
    The update's id is recorded in the same transaction: an update delivered again
    (a crash before it was confirmed, a webhook retry) has its effect once.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], notices: Notices, clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.notices = notices
        self.clock = clock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self.sessionmaker() as session:
            async with session.begin():
                result = await self._handle(session, handler, event, data)
            # Committed: a conversation step kept in Redis follows (storage/fsm.py) ...
            await flush_after_commit(session, data.get("fsm_storage"))
            # ... and notices written by this update can go out now.
            if session.info.pop("outbox_due_now", False):
                self.notices.wake()
            return result

    async def _handle(
        self, session: AsyncSession, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject, data: dict[str, Any],
    ) -> Any:
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
            return await handler(event, data)
        finally:
            current_session.reset(token)
