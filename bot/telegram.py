"""Bot API calls while an update is handled: failures that are harmless, and answers
that must not be lost.

`HarmlessFailures`: a callback query can be answered once; a message edited to what
it already shows is "not modified". Both happen in real life (a double tap, an update
delivered again after a crash) and must not turn a good update into an error.

`AnswerGuard`: Telegram can refuse the answer to what a person just did (429 Too Many
Requests, a 5xx, the network). Before, the exception rolled the whole update back: the
consent, the shared input, the meeting were gone, while the card's buttons might already
have been removed. Now, only while an update is handled (the outbox scheduler sends with
retry logic of its own, bot/scheduler.py):

- a 429 is waited out when it asks for no more than `ANSWER_RETRY_MAX_WAIT` seconds (in
  all, per update), then the call is made again; a 5xx or network error is tried again
  after `BACKOFF`;
- still failing, the person's action is kept (the update commits) and the answer goes
  through the outbox: `sendMessage` and `editMessageText` become a notice of kind
  "answer" for that person, its text and buttons stored encrypted (`OutboxMessage.body`),
  due at once (or when the 429 says), never held for quiet hours: the person is acting
  now. The handler gets a stand-in message with a negative id; editing or deleting it
  later in the same update changes or drops the queued answer. Everything else this
  update sends to the same chat queues behind it, so the order stays;
- `sendDocument` still failing: the person is told later, through the outbox, that the
  file did not go and to ask again (the file itself is not stored to be sent later);
- `answerCallbackQuery` and `editMessageReplyMarkup` (removing a card's buttons) still
  failing are left out: a button left on a card is refused as stale when tapped.

Logs name the method, ids and the error's type, never a text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    GetUpdates,
    SendDocument,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select

from core.notices import Notices, RenderContext, Rendered, renderer
from storage.fsm import current_session
from storage.models import OutboxMessage
from storage.outbox import CANCELLED, PENDING
from storage.queries import person_by_telegram_id

log = logging.getLogger("samspil.telegram")

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


# ---- answers that must not be lost ------------------------------------------------------------

# Seconds between tries after a 5xx or a network error: four tries within 1.7 s.
BACKOFF: tuple[float, ...] = (0.2, 0.5, 1.0)
ANSWER_KIND = "answer"
DOCUMENT_LOST_KIND = "document_lost"
# Where DbSessionMiddleware (bot/middlewares.py) puts the app's Notices for the update.
NOTICES_KEY = "notices"
_STATE_KEY = "answer_guard"

TRANSIENT = (TelegramServerError, TelegramNetworkError)
QUEUED = (SendMessage, EditMessageText)  # the answer itself: sent later
LEFT_OUT = (AnswerCallbackQuery, EditMessageReplyMarkup)  # harmless to lose


@dataclass
class _UpdateState:
    """What the guard knows about the update being handled (kept in its session's info)."""

    budget: float  # seconds of 429 waiting left for this update
    later: dict[int, datetime] = field(default_factory=dict)  # chat id -> its queued answers' due time
    standins: dict[int, str | None] = field(default_factory=dict)  # stand-in message id -> outbox key
    token: str = field(default_factory=lambda: uuid.uuid4().hex)  # names this update's outbox rows
    queued: int = 0  # answers queued so far


class AnswerGuard(BaseRequestMiddleware):
    """See the module's docstring. `sleep` and `backoff` are injectable (tests)."""

    def __init__(self, max_wait: float, *, backoff: Sequence[float] = BACKOFF,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.max_wait = max_wait
        self.backoff = tuple(backoff)
        self.sleep = sleep

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Any:
        session = current_session.get()
        if session is None or isinstance(method, GetUpdates):
            return await make_request(bot, method)  # not answering an update: as it was
        state = session.info.get(_STATE_KEY)
        if state is None:
            state = session.info[_STATE_KEY] = _UpdateState(self.max_wait)
        message_id = getattr(method, "message_id", None)
        if isinstance(message_id, int) and message_id < 0:
            return await self._on_standin(session, state, method, message_id)
        chat_id = _chat_id(method)
        if chat_id is not None and chat_id in state.later and isinstance(method, (*QUEUED, *LEFT_OUT, SendDocument)):
            # An answer to this chat waits in the outbox already: what follows goes behind it.
            queued = await self._give_up(bot, session, state, method, chat_id, None, state.later[chat_id])
            if queued is not None:
                return queued
        try:
            return await self._with_retries(make_request, bot, method, state)
        except TelegramRetryAfter as exc:
            return await self._give_up(bot, session, state, method, chat_id, exc,
                                       _now(session) + timedelta(seconds=exc.retry_after))
        except TRANSIENT as exc:
            return await self._give_up(bot, session, state, method, chat_id, exc, _now(session))

    async def _with_retries(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                            method: TelegramMethod[TelegramType], state: _UpdateState) -> Any:
        tries = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if exc.retry_after > state.budget:
                    raise
                state.budget -= exc.retry_after
                log.info("waiting out 429 method=%s seconds=%s", method.__api_method__, exc.retry_after)
                await self.sleep(exc.retry_after)
            except TRANSIENT as exc:
                if tries >= len(self.backoff):
                    raise
                log.info("trying again method=%s error=%s", method.__api_method__, type(exc).__name__)
                await self.sleep(self.backoff[tries])
                tries += 1

    async def _give_up(self, bot: Bot, session: Any, state: _UpdateState, method: TelegramMethod[Any],
                       chat_id: int | None, exc: Exception | None, due: datetime) -> Any:
        """Queue (or leave out) what Telegram did not take. `exc` None: it was not tried, because
        an answer to the chat waits already; returns None if it cannot be queued (then try it)."""
        error = type(exc).__name__ if exc else "queued_behind"
        if isinstance(method, LEFT_OUT):
            log.warning("left out method=%s chat_id=%s error=%s", method.__api_method__, chat_id, error)
            return True
        notices: Notices | None = session.info.get(NOTICES_KEY)
        queueable = notices is not None and chat_id is not None and isinstance(method, (*QUEUED, SendDocument))
        person = await person_by_telegram_id(session, chat_id) if queueable else None
        if notices is None or person is None:
            if exc is None:
                return None
            raise exc
        if isinstance(method, SendDocument):
            key = f"{DOCUMENT_LOST_KIND}:{state.token}:{person.id}"  # one "ask again", however many files
            await notices.add(session, to=person, kind=DOCUMENT_LOST_KIND, key=key, due_at=due)
        else:
            state.queued += 1
            key = f"{ANSWER_KIND}:{state.token}:{state.queued}"
            await notices.add(session, to=person, kind=ANSWER_KIND, key=key, due_at=due, body=_body(
                method.text, method.reply_markup,
                protect=getattr(method, "protect_content", None) is True or isinstance(method, EditMessageText)))
        state.later.setdefault(chat_id, due)  # type: ignore[arg-type]
        log.warning("answer sent later method=%s person_id=%s error=%s", method.__api_method__, person.id, error)
        if isinstance(method, EditMessageText):
            return True
        standin = -(len(state.standins) + 1)
        state.standins[standin] = key if isinstance(method, SendMessage) else None
        return Message(message_id=standin, date=_now(session),
                       chat=Chat(id=chat_id, type="private")).as_(bot)

    async def _on_standin(self, session: Any, state: _UpdateState, method: TelegramMethod[Any],
                          message_id: int) -> Any:
        """The handler edits or deletes a message that waits in the outbox: change that row."""
        key = state.standins.get(message_id)
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == key)) if key else None
        if row is None or row.status != PENDING or not row.body:
            return True
        body = json.loads(row.body)
        if isinstance(method, EditMessageText):
            row.body = _body(method.text, method.reply_markup, protect=body.get("protect", True))
        elif isinstance(method, EditMessageReplyMarkup):
            row.body = _body(body["text"], method.reply_markup, protect=body.get("protect", True))
        elif isinstance(method, DeleteMessage):
            row.status, row.body = CANCELLED, None
        await session.flush()
        return True


def _chat_id(method: TelegramMethod[Any]) -> int | None:
    chat_id = getattr(method, "chat_id", None)
    return chat_id if isinstance(chat_id, int) else None


def _now(session: Any) -> datetime:
    notices: Notices | None = session.info.get(NOTICES_KEY)
    return notices.clock.now() if notices is not None else datetime.now(UTC)


def _body(text: str, markup: Any, *, protect: bool) -> str:
    keyboard = markup.model_dump(mode="json", exclude_none=True) if isinstance(markup, InlineKeyboardMarkup) else None
    return json.dumps({"text": text, "keyboard": keyboard, "protect": protect}, ensure_ascii=False)


def answer_guard(bot: Bot) -> AnswerGuard | None:
    """The bot's guard (tests shorten its backoff)."""
    return next((m for m in bot.session.middleware if isinstance(m, AnswerGuard)), None)


@renderer(ANSWER_KIND)
async def _answer_later(ctx: RenderContext, payload: dict[str, Any]) -> Rendered | None:
    """The answer as it was to be sent, text and buttons (its buttons work: handlers
    check every tap against the current state)."""
    if not ctx.row.body:
        return None
    body = json.loads(ctx.row.body)
    keyboard = InlineKeyboardMarkup.model_validate(body["keyboard"]) if body.get("keyboard") else None
    return Rendered(body["text"], keyboard, protect=bool(body.get("protect", True)))


@renderer(DOCUMENT_LOST_KIND)
async def _document_lost(ctx: RenderContext, payload: dict[str, Any]) -> Rendered | None:
    return Rendered(_("Sorry, Telegram did not take the file just now, so it was not sent. "
                      "Please ask for it again."))
