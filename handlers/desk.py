"""The coordinator's desk: `/dialoger` ("what needs me") and handing a dialog over.

`/dialoger` shows the coordinator's dialogs ordered by what needs them now (rules/desk.py),
one line and one button per dialog, with filters (all, needs action, closed) and pages. A
tap opens the dialog's card: who is in it, what needs the coordinator, and buttons into the
flows (meeting, plan, minutes, overview, invite, letter, hand over, close, mark as seen).
Handing over: the card's "Hand over" lists the registered coordinators; a note; a confirmation
(services/handover.py). Only the dialog's coordinator gets its card (`needs(Action.DESK)`).
What is shown is in handlers/desk_views.py.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.config import Settings
from core.notices import Notices
from handlers import desk_views as views
from handlers import (
    handover_views,  # noqa: F401 (its notice renderer registers on import)
)
from handlers.answers import NOT_COMMAND, read_answer
from handlers.choose import seat_for
from handlers.coordinator_views import not_coordinator
from handlers.desk_views import DeskAction, DeskCb
from handlers.seats import NO_DIALOG, alert, needs
from rules import desk as rules
from rules.access import Action
from rules.dialog_config import DialogConfig
from rules.roles import STAFF_COORDINATOR
from services import desk, handover
from storage.models import Participant, Person

router = Router(name="desk")

__all__ = ["DeskCb", "router"]


class HandoverFlow(StatesGroup):
    note = State()  # data: dialog_id, person_id, then note


def thresholds(config: DialogConfig) -> dict[str, int]:
    """Per age group, the lowest number of the ruler's highest field: a safeguarding alert."""
    return {age: ruler.fields[-1].low for age, ruler in config.rulers.items()}


async def _desk(session: AsyncSession, person: Person, clock: Clock, settings: Settings, config: DialogConfig,
                dialog_id: int | None = None) -> desk.Desk:
    now = clock.now()
    return await desk.gather(session, person.id, now=now, today=now.astimezone(settings.tz).date(),
                             thresholds=thresholds(config), consent_wait_days=settings.consent_wait_days,
                             dialog_id=dialog_id)


def _render(found: desk.Desk, which: rules.Filter | None, page: int) -> tuple[str, InlineKeyboardMarkup]:
    which = which or rules.default_filter(found.items)
    shown = rules.shown(found.items, which)
    needing = len(rules.shown(found.items, rules.Filter.ACTION))
    return views.desk_list(found.items, rules.page(shown, page), which, found.dialogs, needing)


async def _edit(query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    try:
        await query.message.edit_text(text, reply_markup=keyboard)
    except TelegramBadRequest as exc:
        if "not modified" in str(exc):  # the same again (a double tap): it is shown already
            return
        # Too old to edit (or not a text): send it anew.
        await query.message.answer(text, reply_markup=keyboard, protect_content=True)


# ---- /dialoger -----------------------------------------------------------------------------


@router.message(Command("dialoger"))
async def list_dialogs(message: Message, person: Person | None, session: AsyncSession, state: FSMContext,
                       clock: Clock, settings: Settings, dialog_config: DialogConfig) -> None:
    if person is None or person.staff_role != STAFF_COORDINATOR:
        await message.answer(not_coordinator())
        return
    if await state.get_state() == HandoverFlow.note.state:
        await state.clear()  # a handover left half-way: the list starts afresh
    found = await _desk(session, person, clock, settings, dialog_config)
    if not found.dialogs:
        await message.answer(_("You have no dialogs yet. Open one with /ny."))
        return
    text, keyboard = _render(found, None, 0)
    await message.answer(text, reply_markup=keyboard, protect_content=True)


# The list names no dialog: it holds only the tapper's own dialogs, looked up on the server.
@router.callback_query(DeskCb.filter(F.action == DeskAction.LIST), flags=NO_DIALOG)
async def list_page(query: CallbackQuery, callback_data: DeskCb, person: Person | None, session: AsyncSession,
                    clock: Clock, settings: Settings, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    if person is None or person.staff_role != STAFF_COORDINATOR:
        alert(callback_answer, texts.refusal(None))
        return
    found = await _desk(session, person, clock, settings, dialog_config)
    text, keyboard = _render(found, callback_data.view, callback_data.page)
    await _edit(query, text, keyboard)


async def _show_card(query: CallbackQuery, seat: Participant, session: AsyncSession, clock: Clock,
                     settings: Settings, config: DialogConfig, which: rules.Filter, page: int) -> None:
    person = seat.person
    found = await _desk(session, person, clock, settings, config, dialog_id=seat.dialog_id)
    [item] = found.items
    text, keyboard = await views.card(session, item, found.dialogs[seat.dialog_id], which, page)
    await _edit(query, text, keyboard)


@router.callback_query(DeskCb.filter(F.action == DeskAction.OPEN), flags=needs(Action.DESK))
async def open_card(query: CallbackQuery, callback_data: DeskCb, seat: Participant, session: AsyncSession,
                    state: FSMContext, clock: Clock, settings: Settings, dialog_config: DialogConfig) -> None:
    if await state.get_state() == HandoverFlow.note.state:
        await state.clear()  # "Cancel" while choosing whom to hand over to
    await _show_card(query, seat, session, clock, settings, dialog_config, callback_data.view, callback_data.page)


@router.callback_query(DeskCb.filter(F.action == DeskAction.SEEN), flags=needs(Action.DESK))
async def mark_seen(query: CallbackQuery, callback_data: DeskCb, seat: Participant, session: AsyncSession,
                    clock: Clock, settings: Settings, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    await desk.mark_seen(session, seat.dialog, thresholds=thresholds(dialog_config), by_id=seat.person_id,
                         now=clock.now())
    callback_answer.text = _("Marked as seen.")
    await _show_card(query, seat, session, clock, settings, dialog_config, callback_data.view, callback_data.page)


# ---- handing over ------------------------------------------------------------------------------


@router.callback_query(DeskCb.filter(F.action == DeskAction.HAND), flags=needs(Action.HAND_OVER))
async def hand_choose(query: CallbackQuery, callback_data: DeskCb, seat: Participant, session: AsyncSession) -> None:
    people = handover.receivers(await handover.coordinators(session), seat.dialog)
    page = rules.page(people, callback_data.page)
    text, keyboard = views.choose_receiver(seat.dialog, people, page, page.items)
    await _edit(query, text, keyboard)


async def _receiver(session: AsyncSession, person_id: int) -> Person | None:
    person = await session.get(Person, person_id) if person_id else None
    return person if person is not None and person.staff_role == STAFF_COORDINATOR else None


@router.callback_query(DeskCb.filter(F.action == DeskAction.HAND_TO), flags=needs(Action.HAND_OVER))
async def hand_to(query: CallbackQuery, callback_data: DeskCb, seat: Participant, session: AsyncSession,
                  state: FSMContext, callback_answer: CallbackAnswer) -> None:
    to = await _receiver(session, callback_data.person_id)
    if to is None or to.id == seat.person_id:
        alert(callback_answer, texts.stale_button())
        return
    await state.clear()
    await state.set_state(HandoverFlow.note)
    await state.update_data(dialog_id=seat.dialog_id, person_id=to.id)
    text, keyboard = views.ask_note(seat.dialog, to)
    await _edit(query, text, keyboard)


@router.message(HandoverFlow.note, NOT_COMMAND)
async def hand_note(message: Message, session: AsyncSession, person: Person | None, state: FSMContext) -> None:
    data = await state.get_data()
    seat, decision = await seat_for(session, person, int(data.get("dialog_id", 0)), Action.HAND_OVER)
    to = await _receiver(session, int(data.get("person_id", 0)))
    if not decision or to is None:
        await state.clear()
        await message.answer(texts.refusal(decision.refusal, seat.dialog if seat else None) if not decision
                             else texts.stale_button())
        return
    note = await read_answer(message, handover.NOTE_LIMIT)
    if note is None:
        return
    await state.update_data(note=note)
    text, keyboard = views.confirm(seat.dialog, to, note)
    await message.answer(text, reply_markup=keyboard, protect_content=True)


@router.callback_query(DeskCb.filter(F.action == DeskAction.HAND_SKIP), flags=needs(Action.HAND_OVER))
async def hand_skip(query: CallbackQuery, callback_data: DeskCb, seat: Participant, session: AsyncSession,
                    state: FSMContext, callback_answer: CallbackAnswer) -> None:
    to = await _receiver(session, callback_data.person_id)
    data = await state.get_data()
    if to is None or await state.get_state() != HandoverFlow.note.state or data.get("dialog_id") != seat.dialog_id \
            or data.get("person_id") != to.id:
        alert(callback_answer, texts.stale_button())
        return
    await state.update_data(note=None)
    text, keyboard = views.confirm(seat.dialog, to, None)
    await _edit(query, text, keyboard)


@router.callback_query(DeskCb.filter(F.action == DeskAction.HAND_NO), flags=needs(Action.HAND_OVER))
async def hand_cancelled(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await _edit(query, _("Cancelled. The dialog was not handed over."), None)


@router.callback_query(DeskCb.filter(F.action == DeskAction.HAND_YES), flags=needs(Action.HAND_OVER))
async def hand_confirmed(query: CallbackQuery, callback_data: DeskCb, seat: Participant, session: AsyncSession,
                         state: FSMContext, clock: Clock, notices: Notices, callback_answer: CallbackAnswer) -> None:
    data = await state.get_data()
    to = await _receiver(session, callback_data.person_id)
    if to is None or await state.get_state() != HandoverFlow.note.state or data.get("dialog_id") != seat.dialog_id \
            or data.get("person_id") != to.id:
        alert(callback_answer, texts.stale_button())
        return
    result = await handover.hand_over(session, notices, seat.dialog_id, to, note=data.get("note"),
                                      by_id=seat.person_id, actor_role=seat.role, now=clock.now())
    await state.clear()
    if result.outcome is not handover.Handed.HANDED:
        await _edit(query, views.not_handed(result), None)
        return
    await _edit(query, views.handed(result), None)
