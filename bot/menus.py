"""The command menu (setMyCommands) per language and per role.

Everyone gets the participant's commands in Danish (the default) and English
(Telegram shows them by the app's language). A coordinator's own chat gets the
coordinator's commands as well, in the language that person chose.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from rules.roles import STAFF_COORDINATOR
from storage.models import Person

log = logging.getLogger("samspil.menus")

PARTICIPANT_COMMANDS = [
    ("start", __("Start and overview")),
    ("input", __("Write your input")),
    ("skala", __("Place the situation on the ruler")),
    ("vurdering", __("Everyone's scores")),
    ("oversigt", __("Everyone's shared input")),
    ("moede", __("The dialog meeting")),
    ("plan", __("Goals & Plan")),
    ("samtykke", __("Your consent")),
    ("mine_data", __("Get a copy of your data")),
    ("slet_mine_data", __("Erase your data")),
    ("hjaelp", __("What can I do here?")),
    ("sprog", __("Language / sprog")),
]

COORDINATOR_COMMANDS = [
    ("ny", __("Open a new dialog")),
    ("inviter", __("Invite a participant")),
    ("dialoger", __("Your dialogs")),
    ("brev", __("Invitation letter with QR code (PDF)")),
    ("referat", __("Minutes of the latest meeting (PDF)")),
    ("indstilling", __("Referral to PPR or Sundhedstjenesten")),
    ("luk", __("Close a dialog")),
]


def _commands(pairs: list[tuple[str, object]]) -> list[BotCommand]:
    return [BotCommand(command=c, description=str(d)) for c, d in pairs]


async def set_default_commands(bot: Bot, i18n: I18n) -> None:
    try:
        with i18n.use_locale("da"):
            await bot.set_my_commands(_commands(PARTICIPANT_COMMANDS), scope=BotCommandScopeDefault())
        with i18n.use_locale("en"):
            await bot.set_my_commands(_commands(PARTICIPANT_COMMANDS), scope=BotCommandScopeDefault(),
                                      language_code="en")
    except TelegramAPIError as exc:  # the menu is a convenience; polling retries the connection
        log.warning("setMyCommands failed error=%s", type(exc).__name__)


async def set_commands_for(bot: Bot, person: Person, session: AsyncSession | None = None) -> None:
    """A coordinator's chat gets their commands in their language; others use the default."""
    if person.telegram_id is None or person.staff_role != STAFF_COORDINATOR:
        return
    i18n = I18n.get_current()
    with i18n.use_locale(person.locale or i18n.default_locale):
        commands = _commands(PARTICIPANT_COMMANDS + COORDINATOR_COMMANDS)
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=person.telegram_id))
    except TelegramAPIError as exc:  # the menu is a convenience; never fail the update for it
        log.warning("setMyCommands failed person_id=%s error=%s", person.id, type(exc).__name__)
