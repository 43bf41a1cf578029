"""Help, language, cancel: what works everywhere."""

from __future__ import annotations

import logging
import traceback

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    ErrorEvent,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.i18n import locale_for
from core.menus import COORDINATOR_COMMANDS, DATA_COMMANDS, PARTICIPANT_COMMANDS, set_commands_for
from handlers.contact_views import help_lines
from handlers.home_views import has_menu, home_keyboard, menu_help
from handlers.seats import NO_DIALOG, alert
from rules.roles import STAFF_COORDINATOR
from storage import queries as q
from storage.db import SERVICE_AWAY
from storage.models import Person

log = logging.getLogger("samspil.errors")


router = Router(name="common")

LANGUAGE_NAMES = {"da": "Dansk", "en": "English"}


class LanguageCb(CallbackData, prefix="lang"):
    code: str


@router.message(Command("hjaelp", "help"))
async def help_(message: Message, person: Person | None, session: AsyncSession) -> None:
    seats = await q.seats_of(session, person) if person else []
    if person is None or (not seats and person.staff_role is None):
        await message.answer(_(
            "Samspil is where a family, the professionals around a child and the family's network "
            "work together on the child's wellbeing.\n\n"
            "You join with a personal invitation link from your coordinator in the municipality. "
            "Open the link, and I will guide you from there.\n\n"
            "/sprog – choose language"))
        return
    commands = list(PARTICIPANT_COMMANDS) + list(DATA_COMMANDS)
    if person.staff_role == STAFF_COORDINATOR:
        commands += COORDINATOR_COMMANDS
    lines = [_("<b>What you can do here</b>")]
    if has_menu(person):
        lines += [menu_help(), "", _("Or type a command:")]
    lines += [f"/{c} – {d}" for c, d in commands]
    lines.append(_("/annuller – stop what you are doing (what you wrote is kept)"))
    if contact := await help_lines(session, person):  # who the coordinator is, how to reach them
        lines.append("\n" + contact)
    await message.answer("\n".join(lines), reply_markup=home_keyboard())


@router.message(Command("sprog", "language"))
async def language(message: Message) -> None:
    await message.answer(_("Choose your language:"), reply_markup=InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=name, callback_data=LanguageCb(code=code).pack())
        for code, name in LANGUAGE_NAMES.items()]]))


@router.callback_query(LanguageCb.filter(), flags=NO_DIALOG)
async def language_chosen(
    query: CallbackQuery, callback_data: LanguageCb, session: AsyncSession, person: Person | None,
    clock: Clock, i18n: I18n, bot: Bot,
) -> None:
    if callback_data.code not in LANGUAGE_NAMES:
        return
    person = person or await q.get_or_create_person(session, query.from_user.id, clock.now())
    person.locale = callback_data.code
    i18n.current_locale = callback_data.code  # answer in the new language at once
    await session.flush()
    await set_commands_for(bot, person, session)
    if query.message:
        await query.message.edit_text(_("I will write to you in English from now on."))


@router.message(Command("annuller", "cancel"))
async def cancel(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(_("There is nothing to cancel."))
        return
    await state.clear()
    await message.answer(_("Stopped. What you wrote is kept. Tap the button to see what is next for you, "
                           "or type /hjaelp."), reply_markup=home_keyboard())


# ---- fallbacks: registered last ---------------------------------------------------------------

fallback = Router(name="fallback")


@fallback.message(F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    await message.answer(_("I don't know that command. Tap the button to see what is next for you, "
                           "or type /hjaelp."), reply_markup=home_keyboard())


@fallback.message(F.text)
async def unknown_text(message: Message) -> None:
    await message.answer(_("I'm not sure what you mean. Tap the button to see what is next for you, "
                           "or type /hjaelp."), reply_markup=home_keyboard())


@fallback.message()
async def unknown_media(message: Message) -> None:
    await message.answer(_("I can only read text messages. Tap the button to see what is next for you, "
                           "or type /hjaelp."), reply_markup=home_keyboard())


@fallback.errors()
async def unexpected_error(event: ErrorEvent, i18n: I18n) -> object:
    """Something broke while handling an update: its transaction was rolled back.

    When the database or Redis could not be reached, the update is given back
    unhandled: a webhook then answers 500 and Telegram delivers it again. Anything
    else is a fault of ours: the person is told plainly and can try again. The log
    holds the error type and where it happened, never its message (it may quote
    what the person wrote).
    """
    exc = event.exception
    where = "".join(traceback.format_tb(exc.__traceback__, limit=-3)).replace("\n", " | ")
    log.error("update failed update_id=%s error=%s at=%s", event.update.update_id, type(exc).__name__, where)
    if isinstance(exc, SERVICE_AWAY):
        return UNHANDLED
    target = event.update.message or (event.update.callback_query.message if event.update.callback_query else None)
    if target is None:
        return
    user = event.update.message.from_user if event.update.message else event.update.callback_query.from_user
    with i18n.use_locale(locale_for(user, None, i18n.default_locale)):
        await target.answer(_("Sorry, something went wrong on our side. Please try again in a moment."))
    return None


@fallback.callback_query(flags=NO_DIALOG)  # any button nothing else took: stale
async def stale_callback(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    alert(callback_answer, texts.stale_button())
