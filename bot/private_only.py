"""Samspil works in private chats only.

Someone may add the bot to a group (a family's group chat, a staff group), a
supergroup or a channel, and type there. The bot then says once, in that chat and
without any name, that it works only in a private chat with it, with a button that
opens one, and leaves. Nothing of a dialog is read, written or shown there:

- this middleware runs on the dispatcher's update observer before aiogram's FSM
  middleware (which reads the conversation step and, with Redis, takes a lock) and
  before the database session (bot/middlewares.py), and never passes such an update
  on, so no handler, no conversation state and no database row sees it;
- a button tapped on a bot message in a group gets the same short words as an alert;
- updates of inline mode (which Samspil does not use) are dropped the same way.

Private chats, including a person blocking or unblocking the bot (`my_chat_member`
in a private chat), go on to the handlers as before.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.dispatcher.middlewares.error import ErrorsMiddleware
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    ChatMemberRestricted,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    TelegramObject,
    Update,
    User,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.middlewares import Next
from core.i18n import locale_for

log = logging.getLogger("samspil.private_only")

# Update types Samspil does not use: dropped before anything reads them.
IGNORED_TYPES = frozenset({"inline_query", "chosen_inline_result"})
# How many chats this process remembers having left (so it says its words once).
REMEMBER_LEFT = 4096


def only_private_text() -> str:
    """The short words for an alert (a tapped button): at most 200 characters."""
    return _("Samspil only works in a private chat with me.")


def leaving_text() -> str:
    return _("Samspil only works in a private chat with me. Tap the button to open it. "
             "I am leaving this chat now.")


def open_button() -> str:
    return _("Open Samspil")


class PrivateOnlyMiddleware(BaseMiddleware):
    """Outer middleware of `dp.update`: updates from any chat but a private one stop here."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n
        self._left: OrderedDict[int, None] = OrderedDict()

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        kind = event.event_type
        query = event.callback_query
        if kind in IGNORED_TYPES or (query is not None and query.message is None):
            # Inline mode, and buttons on inline messages: Samspil makes neither.
            log.debug("update ignored update_id=%s type=%s", event.update_id, kind)
            return None
        context = UserContextMiddleware.resolve_event_context(event)
        chat = context.chat
        if chat is None or chat.type == ChatType.PRIVATE:
            return await handler(event, data)
        try:
            await self._refuse(data["bot"], event, chat.id, context.user)
        except Exception as exc:  # never a reply of the error handler in the group
            log.error("leaving a chat failed update_id=%s chat_id=%s error=%s",
                      event.update_id, chat.id, type(exc).__name__)
        return None

    async def _refuse(self, bot: Bot, event: Update, chat_id: int, user: User | None) -> None:
        log.info("update from a non-private chat update_id=%s type=%s chat_id=%s",
                 event.update_id, event.event_type, chat_id)
        locale = locale_for(user, None, self.i18n.default_locale)
        member = event.my_chat_member
        if member is not None:
            if not _bot_is_in(member):  # removed, or its own leaving: nothing to say
                return
            self._left.pop(chat_id, None)  # added (again): say it (again)
        if event.callback_query is not None:
            await self._alert(bot, event.callback_query.id, locale)
        if chat_id in self._left:
            return  # said so and left already; this update was queued before that
        await self._say_and_leave(bot, chat_id, locale)

    async def _alert(self, bot: Bot, query_id: str, locale: str) -> None:
        with self.i18n.context(), self.i18n.use_locale(locale):
            text = only_private_text()
        try:
            await bot.answer_callback_query(query_id, text=text, show_alert=True)
        except TelegramAPIError as exc:
            log.info("answering a button in a group failed error=%s", type(exc).__name__)

    async def _say_and_leave(self, bot: Bot, chat_id: int, locale: str) -> None:
        with self.i18n.context(), self.i18n.use_locale(locale):
            text, button = leaving_text(), open_button()
        markup = None
        try:
            me = await bot.me()  # aiogram keeps it after the first call
            if me.username:
                markup = InlineKeyboardMarkup(inline_keyboard=[
                    [InlineKeyboardButton(text=button, url=f"https://t.me/{me.username}")]])
        except TelegramAPIError as exc:
            log.info("getMe failed error=%s", type(exc).__name__)
        try:
            await bot.send_message(chat_id, text, reply_markup=markup, parse_mode=None)
        except TelegramForbiddenError:
            log.info("not in the chat any more chat_id=%s", chat_id)
            self._remember(chat_id)
            return
        except TelegramAPIError as exc:  # no right to write there, or Telegram is away
            log.info("saying so in a chat failed chat_id=%s error=%s", chat_id, type(exc).__name__)
        try:
            await bot.leave_chat(chat_id)
        except (TelegramForbiddenError, TelegramBadRequest) as exc:  # gone already
            log.info("leaving a chat failed chat_id=%s error=%s", chat_id, type(exc).__name__)
        except TelegramAPIError as exc:  # Telegram is away: the next update tries again
            log.warning("leaving a chat failed chat_id=%s error=%s", chat_id, type(exc).__name__)
            return
        else:
            log.info("left a chat chat_id=%s", chat_id)
        self._remember(chat_id)

    def _remember(self, chat_id: int) -> None:
        self._left[chat_id] = None
        self._left.move_to_end(chat_id)
        while len(self._left) > REMEMBER_LEFT:
            self._left.popitem(last=False)


def _bot_is_in(member: ChatMemberUpdated) -> bool:
    new = member.new_chat_member
    if isinstance(new, ChatMemberRestricted):
        return new.is_member
    return new.status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR,
                          ChatMemberStatus.CREATOR)


def install(dp: Dispatcher, middleware: PrivateOnlyMiddleware) -> None:
    """Register `middleware` on `dp.update` right after aiogram's own error and user
    context middlewares: before the FSM middleware and whatever was registered since."""
    manager = dp.update.outer_middleware
    later = [m for m in manager if not isinstance(m, (ErrorsMiddleware, UserContextMiddleware))]
    for m in later:
        manager.unregister(m)
    manager.register(middleware)
    for m in later:
        manager.register(m)
