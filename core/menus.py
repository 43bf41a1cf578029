"""The command menu (setMyCommands) per language and per role, and the bot's description.

Everyone gets the participant's commands in Danish (the default) and English
(Telegram shows them by the app's language). A coordinator's own chat gets the
coordinator's commands as well, in the language that person chose.

The description (shown in the empty chat before START) and the short description (on
the bot's profile) say what Samspil is and how one gets in; they are set at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    MenuButtonWebApp,
    WebAppInfo,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from core.i18n import LANGUAGES
from core.webapp import OVERVIEW, page_url
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
    ("hjaelp", __("What can I do here?")),
    ("sprog", __("Language / sprog")),
]

# Kept out of the everyday menu (family members find their way with the main menu's four
# entries, handlers/home.py); /hjaelp lists them, and a coordinator's menu has them.
DATA_COMMANDS = [
    ("mine_data", __("Get a copy of your data")),
    ("slet_mine_data", __("Erase your data")),
]

COORDINATOR_COMMANDS = [
    ("ny", __("Open a new dialog")),
    ("inviter", __("Invite a participant")),
    ("paa_vegne", __("Write for someone without Telegram")),
    ("dialoger", __("Your dialogs")),
    ("brev", __("Invitation letter with QR code (PDF)")),
    ("referat", __("Minutes of the latest meeting (PDF)")),
    ("indstilling", __("Referral to PPR or Sundhedstjenesten")),
    ("luk", __("Close a dialog")),
    ("notifikationer", __("How you get notices")),
    ("kontakt", __("Your phone and e-mail for the families")),
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


def description_texts(i18n: I18n, locale: str) -> tuple[str, str]:
    """The description (at most 512 characters) and short description (at most 120)."""
    description = i18n.gettext(
        "Samspil helps the family, the school and others around a child work together on the "
        "child's wellbeing. You write what worries you, what is going well and what should "
        "happen. You get in with a personal link from your coordinator in the municipality. "
        "Have you got a link? Then open it.", locale=locale)
    short = i18n.gettext(
        "Working together on a child's wellbeing. You get in with a link from your coordinator.",
        locale=locale)
    return description, short


async def set_descriptions(bot: Bot, i18n: I18n) -> None:
    """Set both texts for everyone (the default language, without a language code) and per language.

    They are a convenience: a failure (Telegram or the network down at start-up) is logged
    and the bot goes on; the next start sets them again.
    """
    targets = [(None, i18n.default_locale)] + [(lang, lang) for lang in LANGUAGES]
    for language_code, locale in targets:
        description, short = description_texts(i18n, locale)
        calls: list[tuple[str, Awaitable[bool]]] = [
            ("setMyDescription", bot.set_my_description(description, language_code=language_code)),
            ("setMyShortDescription", bot.set_my_short_description(short, language_code=language_code)),
        ]
        for method, call in calls:
            try:
                await call
            except (TelegramAPIError, OSError, TimeoutError) as exc:
                log.warning("%s failed language=%s error=%s", method, language_code or "default",
                            type(exc).__name__)


async def set_menu_button(bot: Bot, settings: Settings, i18n: I18n) -> None:
    """With the Mini App set up, the button beside the text field opens its Overblik, for
    everyone (commands still appear as one types "/")."""
    url = page_url(settings, OVERVIEW)
    if url is None:
        return
    with i18n.use_locale(i18n.default_locale):
        button = MenuButtonWebApp(text=str(__("Overview")), web_app=WebAppInfo(url=url))
    try:
        await bot.set_chat_menu_button(menu_button=button)
    except TelegramAPIError as exc:  # a convenience, like the commands
        log.warning("setChatMenuButton failed error=%s", type(exc).__name__)


async def set_commands_for(bot: Bot, person: Person, session: AsyncSession | None = None) -> None:
    """A coordinator's chat gets their commands in their language; others use the default."""
    if person.telegram_id is None or person.staff_role != STAFF_COORDINATOR:
        return
    i18n = I18n.get_current()
    with i18n.use_locale(person.locale or i18n.default_locale):
        commands = _commands(PARTICIPANT_COMMANDS + DATA_COMMANDS + COORDINATOR_COMMANDS)
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=person.telegram_id))
    except TelegramAPIError as exc:  # the menu is a convenience; never fail the update for it
        log.warning("setMyCommands failed person_id=%s error=%s", person.id, type(exc).__name__)
