"""Bot API calls that may fail harmlessly.

A callback query can be answered once; a message edited to what it already shows
is "not modified". Both happen in real life (a double tap, an update delivered
again after a crash) and must not turn a good update into an error.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType

HARMLESS = {
    AnswerCallbackQuery: ("query is too old", "query ID is invalid"),
    EditMessageReplyMarkup: ("message is not modified",),
    EditMessageText: ("message is not modified",),
}


class HarmlessFailures(BaseRequestMiddleware):
    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Any:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            if any(text in exc.message for text in HARMLESS.get(type(method), ())):
                return True
            raise
