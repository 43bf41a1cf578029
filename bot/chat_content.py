"""Every update is handled in its bot's CHAT_CONTENT (core/labels.py): with `minimal`, every chat
text composed while handling it names the child only as "barnet (nr. 7)".

An outer middleware of the update, so the mode holds for everything below it (the flows, the
answers sent later through the outbox, the error handler). The mode is the bot's own (a context
variable set for this update only): two bots with different modes can run in one process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from core.labels import chat_content


class ChatContentMiddleware(BaseMiddleware):
    def __init__(self, mode: str) -> None:
        self.mode = mode

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        with chat_content(self.mode):
            return await handler(event, data)
