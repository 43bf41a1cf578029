"""Dialog input (`/input`): an area, three boxes in turn, a private draft, then sharing.

Every answer is written to the author's draft the moment it arrives, and the
step (which box) lives in the persistent FSM, so closing Telegram, a restart or
a crash brings the person back to the same box with what they wrote.

One card carries live buttons at a time: the area list, a box's prompt or the draft.
Showing the next one removes the buttons of the one before (the FSM keeps its message id
as "card"). A typed answer is acknowledged by editing the prompt in place, as long as the
prompt is still near the bottom of the chat (EDIT_NEAR); otherwise, or when Telegram will
not edit it (too old, deleted), a fresh prompt is sent and the buttons move there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.notices import Notices
from handlers import dialog_input_views as views
from handlers.answers import NOT_COMMAND
from handlers.choose import PickDialogCb, pick_dialog, seat_for
from handlers.dialog_input_views import InputAction, InputCb
from handlers.home_views import next_step_markup
from handlers.seats import alert, needs
from rules.access import Action
from rules.dialog_config import DialogConfig
from services import input as input_service
from services.input import Written
from storage import inputs
from storage.inputs import BOXES
from storage.models import InputEntry, Participant, Person

__all__ = ["InputCb", "InputFlow", "input_command", "router"]

router = Router(name="input")
DraftHandler = Callable[..., Awaitable[None]]

# A prompt is edited in place while at most this much has been written below it (so it is
# still on the screen); further up, the acknowledgement comes as a fresh prompt at the bottom.
EDIT_NEAR_CHARS = 600
EDIT_NEAR_MESSAGES = 3


class InputFlow(StatesGroup):
    # data: dialog_id, entry_id, box, append (False right after "edit": replace first),
    # card (the prompt's message id), below (characters and messages written under it)
    writing = State()


# ---- cards: one with live buttons at a time ---------------------------------------------------


async def _retire(bot: Bot, chat_id: int, *message_ids: int | None) -> None:
    """Take the buttons off earlier cards; one already without them, or gone, is fine."""
    for message_id in dict.fromkeys(m for m in message_ids if m and m > 0):
        try:
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)
        except TelegramBadRequest:
            pass


async def _card(message: Message, state: FSMContext, chunks: list[str] | str,
                markup: InlineKeyboardMarkup | None, *, retire: int | None = None) -> int:
    """Send a card (the buttons under its last chunk) and make it the live one."""
    previous = (await state.get_data()).get("card")
    await _retire(message.bot, message.chat.id, previous, retire)
    chunks = [chunks] if isinstance(chunks, str) else chunks
    for chunk in chunks[:-1]:
        await message.answer(chunk, protect_content=True)
    sent = await message.answer(chunks[-1], reply_markup=markup, protect_content=True)
    return sent.message_id


async def _rest(state: FSMContext, card: int) -> None:
    """Out of the writing step, remembering the live card."""
    await state.set_state(None)
    await state.set_data({"card": card})


# ---- entry: /input and the dialog pick -----------------------------------------------------


@router.message(Command("input"))
async def input_command(message: Message, session: AsyncSession, person: Person | None,
                        state: FSMContext, dialog_config: DialogConfig) -> None:
    participant = await pick_dialog(message, session, person, "input", Action.WRITE_INPUT)
    if participant is not None:
        await _send_home(message, state, session, participant, dialog_config)


@router.callback_query(PickDialogCb.filter(F.flow == "input"), flags=needs(Action.WRITE_INPUT))
async def input_picked(query: CallbackQuery, seat: Participant, session: AsyncSession, state: FSMContext,
                       dialog_config: DialogConfig) -> None:
    await _send_home(query.message, state, session, seat, dialog_config)


async def _send_home(message: Message, state: FSMContext, session: AsyncSession, p: Participant,
                     config: DialogConfig, *, retire: int | None = None) -> None:
    text, markup = views.home(p, await inputs.own_entries(session, p, p.dialog.round_no), config)
    await _rest(state, await _card(message, state, text, markup, retire=retire))


# ---- buttons: one handler per action ---------------------------------------------------------


def _on(action: InputAction, *, one_seat: bool = False):  # type: ignore[no-untyped-def]
    return router.callback_query(InputCb.filter(F.action == action), flags=needs(Action.WRITE_INPUT, one_seat=one_seat))


@_on(InputAction.purpose)
async def show_purpose(query: CallbackQuery, seat: Participant) -> None:
    await query.message.answer(views.purpose(seat.dialog), protect_content=True)


@_on(InputAction.home)
async def go_home(query: CallbackQuery, seat: Participant, session: AsyncSession, state: FSMContext,
                  dialog_config: DialogConfig) -> None:
    await _send_home(query.message, state, session, seat, dialog_config, retire=query.message.message_id)


@_on(InputAction.area, one_seat=True)  # the person's own draft: their seat alone
async def open_area(query: CallbackQuery, callback_data: InputCb, seat: Participant, session: AsyncSession,
                    state: FSMContext, clock: Clock, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    try:
        dialog_config.area(callback_data.value)
    except KeyError:
        alert(callback_answer, texts.stale_button())
        return
    entry = await input_service.open_area(session, seat, callback_data.value, clock.now())
    if not inputs.is_empty(entry):
        await _send_review(query.message, state, entry, dialog_config)
    else:
        await _ask_box(query.message, state, entry, BOXES[0], dialog_config, append=True)


@_on(InputAction.share)
async def ask_share_all(query: CallbackQuery, seat: Participant, session: AsyncSession, state: FSMContext,
                        dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    drafts = await input_service.drafts_with_text(session, seat)
    if not drafts:
        alert(callback_answer, views.nothing_to_share())
        return
    text, markup = views.ask_share_all(seat.dialog_id, drafts, dialog_config)
    await _rest(state, await _card(query.message, state, text, markup, retire=query.message.message_id))


@_on(InputAction.share_yes)
async def share_all(query: CallbackQuery, seat: Participant, session: AsyncSession, state: FSMContext,
                    clock: Clock, dialog_config: DialogConfig, notices: Notices, callback_answer: CallbackAnswer) -> None:
    await _share(query, callback_answer, seat, session, state, clock, dialog_config, notices, entry_id=None)


def _on_draft(action: InputAction, *, one_seat: bool = False) -> Callable[[DraftHandler], DraftHandler]:
    """Register the handler of a button on one of the person's drafts. It is called as aiogram calls
    handlers (with what it names), the draft as `entry`, when the draft is this person's, still a
    draft, of this round; otherwise the person gets an alert."""

    def register(fn: DraftHandler) -> DraftHandler:
        handler = CallableObject(fn)

        @_on(action, one_seat=one_seat)
        async def on_draft(query: CallbackQuery, callback_data: InputCb, seat: Participant, session: AsyncSession,
                           callback_answer: CallbackAnswer, **data: Any) -> None:
            entry = await inputs.own_entry(session, seat, callback_data.entry_id)
            if entry is None or entry.shared_at is not None or entry.round_no != seat.dialog.round_no:
                # Only the author learns that it was shared; a deleted, old or foreign one is just stale.
                alert(callback_answer, views.already_shared() if entry is not None and entry.shared_at is not None
                      else texts.stale_button())
                return
            await handler.call(query, entry=entry, callback_data=callback_data, seat=seat, session=session,
                               callback_answer=callback_answer, **data)

        return fn

    return register


@_on_draft(InputAction.share_one)
async def share_one(query: CallbackQuery, callback_data: InputCb, seat: Participant, session: AsyncSession,
                    state: FSMContext, clock: Clock, dialog_config: DialogConfig, notices: Notices,
                    callback_answer: CallbackAnswer) -> None:
    await _share(query, callback_answer, seat, session, state, clock, dialog_config, notices, entry_id=callback_data.entry_id)


@_on_draft(InputAction.next, one_seat=True)  # the person's own draft: their seat alone
async def next_box(query: CallbackQuery, callback_data: InputCb, entry: InputEntry, state: FSMContext,
                   dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    current = await state.get_data()
    if await state.get_state() != InputFlow.writing.state or current.get("entry_id") != entry.id \
            or current.get("box") != callback_data.value or callback_data.value not in BOXES:
        alert(callback_answer, texts.stale_button())
        return
    index = BOXES.index(callback_data.value)
    if index + 1 < len(BOXES):
        await _ask_box(query.message, state, entry, BOXES[index + 1], dialog_config, append=True)
    else:
        await _send_review(query.message, state, entry, dialog_config)


@_on_draft(InputAction.review, one_seat=True)  # the person's own draft: their seat alone
async def show_review(query: CallbackQuery, entry: InputEntry, state: FSMContext, dialog_config: DialogConfig) -> None:
    await _send_review(query.message, state, entry, dialog_config)


@_on_draft(InputAction.edit, one_seat=True)  # the person's own draft: their seat alone
async def edit_box(query: CallbackQuery, callback_data: InputCb, entry: InputEntry, state: FSMContext,
                   dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    if callback_data.value not in BOXES:
        alert(callback_answer, texts.stale_button())
        return
    await _ask_box(query.message, state, entry, callback_data.value, dialog_config, append=False)


@_on_draft(InputAction.delete)
async def ask_delete(query: CallbackQuery, entry: InputEntry, state: FSMContext, dialog_config: DialogConfig) -> None:
    text, markup = views.ask_delete(entry, dialog_config)
    await _rest(state, await _card(query.message, state, text, markup, retire=query.message.message_id))


@_on_draft(InputAction.delete_yes)
async def delete(query: CallbackQuery, callback_data: InputCb, seat: Participant, session: AsyncSession,
                 state: FSMContext, dialog_config: DialogConfig) -> None:
    await input_service.delete_draft(session, seat, callback_data.entry_id)
    await query.message.edit_text(views.deleted())
    await _send_home(query.message, state, session, seat, dialog_config)


# ---- the three boxes -------------------------------------------------------------------------


async def _ask_box(message: Message, state: FSMContext, entry: InputEntry, box: str,
                   config: DialogConfig, *, append: bool) -> None:
    text, markup = views.prompt(entry, box, config, append=append)
    card = await _card(message, state, text, markup, retire=message.message_id)
    earlier = views.earlier_text(entry, box) if not append else []
    for chunk in earlier:
        await message.answer(chunk, protect_content=True)
    await state.set_state(InputFlow.writing)
    await state.set_data({"dialog_id": entry.dialog_id, "entry_id": entry.id, "box": box, "append": append,
                          "card": card, "below": [sum(len(c) for c in earlier), len(earlier)]})


@router.message(InputFlow.writing, F.text, NOT_COMMAND)
async def box_answer(message: Message, session: AsyncSession, person: Person | None,
                     state: FSMContext, clock: Clock, dialog_config: DialogConfig) -> None:
    data = await state.get_data()
    participant, decision = await seat_for(session, person, int(data.get("dialog_id", 0)), Action.WRITE_INPUT,
                                           with_seats=False)  # a text in a box: the writer's seat alone
    if not decision:
        await state.clear()
        await message.answer(texts.refusal(decision.refusal, participant.dialog if participant else None))
        return
    box, append = data.get("box", ""), bool(data.get("append", True))
    saved = await input_service.write(session, participant, int(data.get("entry_id", 0)), box, message.text,
                                      append=append, now=clock.now())
    if saved.outcome is Written.GONE:
        await state.clear()
        await message.answer(views.draft_gone())
        return
    if saved.outcome is not Written.SAVED:
        await message.answer({Written.EMPTY: texts.empty_answer, Written.CPR: texts.cpr_refused,
                              Written.NO_ROOM: views.no_room}[saved.outcome]())
        return
    text, markup = views.prompt(saved.entry, box, dialog_config, append=True, saved=message.text,
                                room_left=saved.room_left)
    card = data.get("card")
    chars, count = data.get("below") or [0, 0]
    chars, count = chars + len(message.text), count + 1
    if await _edit_prompt(message, card, text, markup, near=chars <= EDIT_NEAR_CHARS and count <= EDIT_NEAR_MESSAGES):
        await state.update_data(append=True, below=[chars, count])
        return
    card = await _card(message, state, text, markup)
    await state.update_data(append=True, card=card, below=[0, 0])


async def _edit_prompt(message: Message, card: int | None, text: str, markup: InlineKeyboardMarkup,
                       *, near: bool) -> bool:
    """The acknowledgement in place of the prompt; False: send a fresh one instead."""
    if not near or not card or card <= 0:
        return False
    try:
        await message.bot.edit_message_text(text, chat_id=message.chat.id, message_id=card, reply_markup=markup)
    except TelegramBadRequest:  # too old to edit, deleted, no longer text
        return False
    return True


# ---- the draft and sharing -------------------------------------------------------------------


async def _send_review(message: Message, state: FSMContext, entry: InputEntry, config: DialogConfig) -> None:
    chunks, markup = views.review(entry, config)
    await _rest(state, await _card(message, state, chunks, markup, retire=message.message_id))


async def _share(query: CallbackQuery, callback_answer: CallbackAnswer, seat: Participant, session: AsyncSession,
                 state: FSMContext, clock: Clock, config: DialogConfig, notices: Notices, *, entry_id: int | None) -> None:
    now = clock.now()
    result = await input_service.share(session, notices, seat, now, entry_id=entry_id)
    if not result.entries:
        alert(callback_answer, views.nothing_to_share())
        return
    text, rows = views.shared(seat, result.entries, result.remaining, config)
    line, step = await next_step_markup(session, seat, now)
    if line and not (result.remaining and _leads_to_input(step)):  # the drafts left are offered above
        text += "\n\n" + line
        rows += step.inline_keyboard if step else []
    card = await _card(query.message, state, text, InlineKeyboardMarkup(inline_keyboard=rows) if rows else None,
                       retire=query.message.message_id)
    await _rest(state, card)


def _leads_to_input(markup: InlineKeyboardMarkup | None) -> bool:
    prefix = PickDialogCb(flow="input", dialog_id=0).pack().rsplit(":", 1)[0] + ":"
    return markup is not None and any((b.callback_data or "").startswith(prefix)
                                      for row in markup.inline_keyboard for b in row)
