"""The coordinator writes for a participant without Telegram (`/paa_vegne`, and the button under
such a participant in `/inviter`): their consent, their input per area, their number on the ruler.

The use cases are in services/on_behalf.py (who may: rules.access.decide_for); what is shown in
handlers/on_behalf_views.py. Every button names the seat acted for; the seat check (`needs(INVITE)`:
the dialog's coordinator, the dialog not closed) runs first, then the use case's own check.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.notices import Notices
from handlers import on_behalf_views as views
from handlers.answers import NOT_COMMAND, read_answer
from handlers.coordinator_views import not_coordinator
from handlers.join_views import card_of
from handlers.on_behalf_views import ForAction, ForCb
from handlers.seats import alert, needs
from rules import consent as consent_rules
from rules.access import CLOSED, Action, Refusal
from rules.dialog_config import DialogConfig
from rules.roles import STAFF_COORDINATOR
from rules.text import split_message
from services import on_behalf
from services.consent import fingerprint
from storage import queries as q
from storage.inputs import BOXES
from storage.models import InputEntry, Participant, Person

router = Router(name="on_behalf")

__all__ = ["ForCb", "router"]

BOX_LIMIT = 10_000  # as in /input


class ForFlow(StatesGroup):
    # data: participant_id, entry_id, box
    box = State()


def _locale() -> str:
    return I18n.get_current().current_locale


async def _drop_buttons(query: CallbackQuery) -> None:
    if query.message is not None:
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except TelegramBadRequest:  # already gone (a double tap, an old message) is fine
            pass


async def _send(message: Message, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    chunks = split_message(text)
    for chunk in chunks[:-1]:
        await message.answer(chunk, protect_content=True)
    await message.answer(chunks[-1], reply_markup=keyboard, protect_content=True)


# ---- /paa_vegne and the seat's menu ----------------------------------------------------------------------


@router.message(Command("paa_vegne"))
async def for_command(message: Message, person: Person | None, session: AsyncSession, state: FSMContext) -> None:
    if person is None or person.staff_role != STAFF_COORDINATOR:
        await message.answer(not_coordinator())
        return
    await state.clear()
    dialogs = [d for d in await q.coordinator_dialogs(session, person) if d.state != CLOSED]
    seats = [p for d in dialogs for p in on_behalf.offline_seats(d)]
    text, keyboard = views.seat_list(seats, len({p.dialog_id for p in seats}) > 1)
    await message.answer(text, reply_markup=keyboard)


async def show_menu(message: Message, session: AsyncSession, seat: Participant) -> None:
    status = await on_behalf.status(session, seat)
    text, keyboard = views.menu(seat, status.latest_consent, status.shared, status.drafts, status.number)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(ForCb.filter(F.action == ForAction.MENU), flags=needs(Action.INVITE))
async def menu(query: CallbackQuery, callback_data: ForCb, session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    seat = await session.get(Participant, callback_data.participant_id)
    if seat is None or seat.approval == consent_rules.REFUSED:
        alert(callback_answer, texts.stale_button())
        return
    if not seat.offline:
        alert(callback_answer, views.refused(on_behalf.For(seat.dialog, seat, Refusal.NOT_OFFLINE)))
        return
    await state.clear()
    await show_menu(query.message, session, seat)


# ---- consent ---------------------------------------------------------------------------------------------


@router.callback_query(ForCb.filter(F.action.in_({ForAction.CONSENT, ForAction.WITHDRAW})), flags=needs(Action.INVITE))
async def consent_card(query: CallbackQuery, callback_data: ForCb, session: AsyncSession, person: Person, callback_answer: CallbackAnswer) -> None:
    target = await on_behalf.check(session, person, callback_data.participant_id, Action.CONSENT)
    if not target.allowed:
        alert(callback_answer, views.refused(target))
        return
    seat, dialog = target.seat, target.dialog
    assert seat is not None and dialog is not None
    body, _listed = await card_of(session)(dialog, seat)
    given = await on_behalf.latest_answer(session, seat) == consent_rules.GIVEN
    if callback_data.action == ForAction.WITHDRAW:
        if not given:
            await query.message.answer(views.consent_line(seat, None))
            return
        text, keyboard = views.withdraw_question(seat, fingerprint(body))
        await query.message.answer(text, reply_markup=keyboard)
        return
    if given:
        await show_menu(query.message, session, seat)
        return
    await query.message.answer(views.consent_intro(seat))
    await _send(query.message, body, views.consent_keyboard(seat, fingerprint(body)))


@router.callback_query(ForCb.filter(F.action.in_({ForAction.GIVEN, ForAction.DECLINED, ForAction.WITHDRAWN})),
                       flags=needs(Action.INVITE))
async def consent_answer(query: CallbackQuery, callback_data: ForCb, session: AsyncSession, person: Person,
                         notices: Notices, clock: Clock, callback_answer: CallbackAnswer) -> None:
    answer = {ForAction.GIVEN: consent_rules.GIVEN, ForAction.DECLINED: consent_rules.DECLINED,
              ForAction.WITHDRAWN: consent_rules.WITHDRAWN}[callback_data.action]
    record = await on_behalf.consent(session, notices, person, callback_data.participant_id, answer,
                                     callback_data.value, shown=callback_data.shown, card=card_of(session),
                                     locale=_locale(), now=clock.now())
    seat = record.target.seat
    outcome = record.outcome
    if outcome is on_behalf.Recorded.REFUSED:
        alert(callback_answer, views.refused(record.target))
        return
    if outcome is on_behalf.Recorded.STALE or seat is None:
        alert(callback_answer, texts.stale_button())
        return
    if outcome in (on_behalf.Recorded.ALREADY_GIVEN, on_behalf.Recorded.NOT_GIVEN):
        await _drop_buttons(query)
        await show_menu(query.message, session, seat)
        return
    await _drop_buttons(query)
    if outcome is on_behalf.Recorded.CHANGED:
        # Someone was invited (or the purpose changed) since the text was shown: nothing counts.
        await query.message.answer(_("The text has changed since. Go through the new text with {name}:").format(
            name=seat.name))
        await _send(query.message, record.text, views.consent_keyboard(seat, fingerprint(record.text)))
        return
    await query.message.answer(views.consent_recorded(seat, record),
                               reply_markup=InlineKeyboardMarkup(inline_keyboard=[views.back_row(seat)]))


# ---- input --------------------------------------------------------------------------------------------------


@router.callback_query(ForCb.filter(F.action == ForAction.INPUT), flags=needs(Action.INVITE))
async def choose_area(query: CallbackQuery, callback_data: ForCb, session: AsyncSession, person: Person,
                      state: FSMContext, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    target = await on_behalf.check(session, person, callback_data.participant_id, Action.WRITE_INPUT)
    if not target.allowed:
        alert(callback_answer, views.refused(target))
        return
    assert target.seat is not None
    await state.clear()
    text, keyboard = views.area_picker(target.seat, dialog_config)
    await query.message.answer(text, reply_markup=keyboard)


@router.callback_query(ForCb.filter(F.action == ForAction.AREA), flags=needs(Action.INVITE))
async def area_chosen(query: CallbackQuery, callback_data: ForCb, session: AsyncSession, person: Person,
                      state: FSMContext, dialog_config: DialogConfig, clock: Clock, callback_answer: CallbackAnswer) -> None:
    if callback_data.value not in {a.key for a in dialog_config.areas}:
        alert(callback_answer, texts.stale_button())
        return
    found = await on_behalf.start_input(session, person, callback_data.participant_id, callback_data.value,
                                        clock.now())
    if found.entry is None:
        alert(callback_answer, views.refused(found.target))
        return
    await _drop_buttons(query)
    seat = found.target.seat
    assert seat is not None
    await _ask(query.message, state, seat, found.entry, BOXES[0], dialog_config)


async def _ask(message: Message, state: FSMContext, seat: Participant, entry: InputEntry, box: str,
               config: DialogConfig) -> None:
    await state.set_state(ForFlow.box)
    await state.set_data({"participant_id": seat.id, "entry_id": entry.id, "box": box})
    text, keyboard = views.ask_box(seat, entry, box, config)
    await message.answer(text, reply_markup=keyboard)


async def _next(message: Message, state: FSMContext, seat: Participant, entry: InputEntry, box: str,
                config: DialogConfig) -> None:
    """The box after `box`, or the draft to share when that was the last."""
    at = BOXES.index(box)
    if at + 1 < len(BOXES):
        await _ask(message, state, seat, entry, BOXES[at + 1], config)
        return
    await state.clear()
    text, keyboard = views.review(seat, entry, config)
    await _send(message, text, keyboard)


@router.message(ForFlow.box, NOT_COMMAND)
async def box_written(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                      dialog_config: DialogConfig, clock: Clock) -> None:
    data = await state.get_data()
    text = await read_answer(message, BOX_LIMIT)
    if text is None:
        return
    box = data.get("box")
    if box not in BOXES:
        await state.clear()
        await message.answer(texts.stale_button())
        return
    found = await on_behalf.write_box(session, person, int(data.get("participant_id", 0)),
                                      int(data.get("entry_id", 0)), box, text, clock.now())
    if found.entry is None:
        await state.clear()
        await message.answer(views.refused(found.target) if not found.target.allowed else texts.stale_button())
        return
    seat = found.target.seat
    assert seat is not None
    await _next(message, state, seat, found.entry, box, dialog_config)


@router.callback_query(ForFlow.box, ForCb.filter(F.action == ForAction.SKIP), flags=needs(Action.INVITE))
async def box_skipped(query: CallbackQuery, callback_data: ForCb, session: AsyncSession, person: Person,
                      state: FSMContext, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    data = await state.get_data()
    if (data.get("participant_id"), data.get("entry_id"), data.get("box")) != (
            callback_data.participant_id, callback_data.entry_id, callback_data.value):
        alert(callback_answer, texts.stale_button())
        return
    found = await on_behalf.draft(session, person, callback_data.participant_id, callback_data.entry_id)
    if found.entry is None:
        await state.clear()
        alert(callback_answer, views.refused(found.target) if not found.target.allowed else texts.stale_button())
        return
    await _drop_buttons(query)
    seat = found.target.seat
    assert seat is not None
    await _next(query.message, state, seat, found.entry, callback_data.value, dialog_config)


@router.callback_query(ForCb.filter(F.action == ForAction.SHARE), flags=needs(Action.INVITE))
async def share(query: CallbackQuery, callback_data: ForCb, session: AsyncSession, person: Person,
                state: FSMContext, notices: Notices, clock: Clock, callback_answer: CallbackAnswer) -> None:
    shared = await on_behalf.share_input(session, notices, person, callback_data.participant_id, clock.now())
    if not shared.target.allowed:
        alert(callback_answer, views.refused(shared.target))
        return
    seat = shared.target.seat
    assert seat is not None
    await state.clear()
    await _drop_buttons(query)
    await query.message.answer(views.shared_text(seat, len(shared.entries)),
                               reply_markup=InlineKeyboardMarkup(inline_keyboard=[views.back_row(seat)]))


@router.callback_query(ForCb.filter(F.action.in_({ForAction.DELETE, ForAction.DELETE_YES})), flags=needs(Action.INVITE))
async def delete(query: CallbackQuery, callback_data: ForCb, session: AsyncSession, person: Person,
                 state: FSMContext, clock: Clock, callback_answer: CallbackAnswer) -> None:
    if callback_data.action == ForAction.DELETE:
        found = await on_behalf.draft(session, person, callback_data.participant_id, callback_data.entry_id)
    else:
        found = await on_behalf.delete_input(session, person, callback_data.participant_id, callback_data.entry_id,
                                             clock.now())
    if found.entry is None:
        alert(callback_answer, views.refused(found.target) if not found.target.allowed else texts.stale_button())
        return
    seat = found.target.seat
    assert seat is not None
    await _drop_buttons(query)
    if callback_data.action == ForAction.DELETE:
        text, keyboard = views.delete_question(seat, found.entry)
        await query.message.answer(text, reply_markup=keyboard)
        return
    await state.clear()
    await query.message.answer(_("The draft is deleted."),
                               reply_markup=InlineKeyboardMarkup(inline_keyboard=[views.back_row(seat)]))


# ---- the ruler ------------------------------------------------------------------------------------------------


@router.callback_query(ForCb.filter(F.action == ForAction.SCORE), flags=needs(Action.INVITE))
async def ruler(query: CallbackQuery, callback_data: ForCb, session: AsyncSession, person: Person,
                dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    target = await on_behalf.check(session, person, callback_data.participant_id, Action.SCALE)
    if not target.allowed:
        alert(callback_answer, views.refused(target))
        return
    seat = target.seat
    assert seat is not None
    text, keyboard = views.ruler_card(seat, dialog_config.ruler(seat.dialog.age_group))
    await query.message.answer(text, reply_markup=keyboard)


@router.callback_query(ForCb.filter(F.action == ForAction.NUMBER), flags=needs(Action.INVITE))
async def number(query: CallbackQuery, callback_data: ForCb, session: AsyncSession, person: Person,
                 dialog_config: DialogConfig, clock: Clock, callback_answer: CallbackAnswer) -> None:
    value = int(callback_data.value) if callback_data.value.isdigit() and len(callback_data.value) <= 2 else 0
    result = await on_behalf.score(session, person, callback_data.participant_id, value, clock.now())
    if not result.target.allowed:
        alert(callback_answer, views.refused(result.target))
        return
    seat = result.target.seat
    if result.value is None or seat is None:
        alert(callback_answer, texts.stale_button())
        return
    await _drop_buttons(query)
    await query.message.answer(views.scored(seat, dialog_config.ruler(seat.dialog.age_group), result.value),
                               reply_markup=InlineKeyboardMarkup(inline_keyboard=[views.back_row(seat)]))
