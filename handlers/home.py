"""The home card (`/start`, "Mit næste skridt") and the main menu's entries.

The main menu is a persistent reply keyboard: a tap sends the entry's label as a text. This
router sees an update before every flow (handlers/routers.py), so a menu tap in the middle of a
step is never taken as that step's answer: the step is left (what was typed is already saved:
each box answer is a draft the moment it arrives) and the entry is shown. Text kept by
handlers/loose_text.py ("what shall I do with it?") stays kept.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.config import Settings
from handlers import dialog_input, overview, scaling
from handlers.home_views import (
    HomeAction,
    HomeCb,
    MenuEntry,
    has_menu,
    home_card,
    homes_of,
    main_menu,
    menu_entry,
    menu_hint,
)
from handlers.join_views import send_consent_card
from handlers.loose_text import LooseText
from handlers.seats import NO_DIALOG, needs
from rules import consent as consent_rules
from rules.access import Action
from rules.dialog_config import DialogConfig
from rules.next_step import Step
from rules.roles import STAFF_COORDINATOR
from storage import home as hm
from storage.models import Participant, Person

router = Router(name="home")

__all__ = ["router", "show_home"]


# ---- the home card ---------------------------------------------------------------------------------


async def show_home(message: Message, session: AsyncSession, person: Person, clock: Clock, *,
                    menu: bool = True, settings: Settings | None = None) -> None:
    """Per dialog what is next for this person, each with its button; a consent question that
    waits for their answer is asked again (its card follows). `menu`: send the main menu too."""
    homes = await homes_of(session, person, clock.now())
    text, keyboard = home_card(person, homes, consent_buttons=False, settings=settings)
    coordinator = person.staff_role == STAFF_COORDINATOR
    if coordinator:
        if not homes:
            text += "\n\n" + _("You have no dialogs yet. Open one with /ny.")
        text += "\n\n" + _("Type /hjaelp to see what you can do.")
    elif not homes:
        text += "\n\n" + _("You are not in an open dialog right now.")
    if menu and has_menu(person):
        if keyboard is None:
            await message.answer(text, reply_markup=main_menu())
        else:
            await message.answer(menu_hint(), reply_markup=main_menu())
            await message.answer(text, reply_markup=keyboard)
    else:
        await message.answer(text, reply_markup=keyboard)
    for h in homes:
        if h.next.step == Step.CONSENT:
            await send_consent_card(message, session, h.seat.dialog, h.seat)


@router.callback_query(HomeCb.filter(F.action == HomeAction.home), flags=NO_DIALOG)  # the person's own home
async def home_tapped(query: CallbackQuery, session: AsyncSession, person: Person | None, state: FSMContext,
                      clock: Clock, settings: Settings) -> None:
    if person is None:
        await query.message.answer(not_in_a_dialog())
        return
    if await state.get_state() not in _KEEP:
        await state.clear()
    await show_home(query.message, session, person, clock, menu=False, settings=settings)


@router.callback_query(HomeCb.filter(F.action == HomeAction.consent), flags=needs(Action.CONSENT))
async def consent_again(query: CallbackQuery, seat: Participant, session: AsyncSession, callback_answer: CallbackAnswer) -> None:
    """"Læs og svar": the consent card, for a consent giver whose answer the dialog waits for."""
    answer = (await hm.latest_consents(session, [seat.id])).get(seat.id)
    if answer == consent_rules.GIVEN:
        callback_answer.text = _("Your consent is already recorded.")
        return
    await send_consent_card(query.message, session, seat.dialog, seat)


def not_in_a_dialog() -> str:
    return _("You join with a personal invitation link from your coordinator. "
             "If you have been given one, just open it.")


# ---- the main menu -----------------------------------------------------------------------------------

# Steps whose typed answers live only in the conversation state until a button decides: a menu
# tap leaves them as they are (the question's buttons still work afterwards).
_KEEP = (LooseText.kept.state,)
# Steps only a coordinator is in: their typed answers (a meeting's place, a goal) may be any
# text, so a coordinator's text there is never taken for a menu entry.
_MENU_STATES_OF_STAFF = (None, dialog_input.InputFlow.writing.state, LooseText.kept.state)


async def _menu_tap(message: Message, person: Person | None, state: FSMContext) -> dict[str, MenuEntry] | bool:
    """A filter: the text is a main-menu entry's label (in either language) -> {"entry": ...}."""
    entry = menu_entry(message.text)
    if entry is None:
        return False
    if not has_menu(person) and await state.get_state() not in _MENU_STATES_OF_STAFF:
        return False
    return {"entry": entry}


@router.message(F.text, _menu_tap)
async def menu_tapped(message: Message, entry: MenuEntry, session: AsyncSession, person: Person | None,
                      state: FSMContext, clock: Clock, dialog_config: DialogConfig, settings: Settings) -> None:
    current, kept = await state.get_state(), await state.get_data()
    if current not in _KEEP:
        await state.clear()  # leave the step: every box answer is already saved as a draft
    if entry == MenuEntry.next:
        if person is None:
            await message.answer(not_in_a_dialog())
        else:
            await show_home(message, session, person, clock, menu=False, settings=settings)
    elif entry == MenuEntry.input:
        await dialog_input.input_command(message, session, person, state, dialog_config)
    elif entry == MenuEntry.ruler:
        await scaling.scale_command(message, session, person, dialog_config)
    else:
        await overview.overview_command(message, session, person, dialog_config, clock)
    if current in _KEEP and await state.get_state() is None:  # a flow started afresh: keep the kept text
        await state.set_state(current)
        await state.set_data(kept)
