"""Closing a dialog meeting (`/moede`, "Close the meeting"): the minutes of record in a few taps.

Who was there (prefilled from the answers to the invitation, one tap moves a person on), a short
summary (optional), the next meeting (or not yet) and the case number; then a check of what the
minutes will say. Closing ends the round and starts the next, calls the next meeting if one was
given, and everyone gets the referat through the outbox. Handlers here parse, authorize
(`needs`: handlers/seats.py), call one use case (services/meetings.py) and render
(meeting_close_views.py); scheduling and running the meeting is handlers/meetings.py.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.config import Settings
from core.notices import Notices
from handlers import meeting_close_views as views
from handlers import meeting_steps as steps
from handlers.answers import NOT_COMMAND, use_the_buttons
from handlers.meeting_steps import MANAGE, PLACE_LIMIT
from handlers.meeting_views import MeetingAction, MeetingCb, stale_meeting
from handlers.seats import alert, answer_now
from rules.dialog_config import DialogConfig
from services import meetings
from services.meetings import Outcome
from storage import meetings as mt
from storage.models import Dialog, Meeting, Participant, Person

router = Router(name="meeting_close")


class CloseFlow(StatesGroup):
    # data: dialog_id, meeting_id, next_at (ISO, optional), next_place (optional),
    # checked (the check card was shown: changing who was there goes back to it)
    attendance = State()
    summary = State()
    next = State()
    when = State()
    place = State()
    case_ref = State()
    confirm = State()


async def _closing(state: FSMContext, meeting: Meeting) -> dict:
    """The close conversation's data, if it is about `meeting` (else nothing of another one)."""
    data = await state.get_data()
    if (await state.get_state() or "").startswith("CloseFlow:") and int(data.get("meeting_id", 0)) == meeting.id:
        return data
    return {}


async def _open_at(query: CallbackQuery, callback_answer: CallbackAnswer, session: AsyncSession,
                   state: FSMContext, callback_data: MeetingCb, dialog: Dialog, *at: State) -> Meeting | None:
    """The open meeting the button names, when the close conversation stands at one of the steps
    `at` for it (the tapped message's buttons then go); None after the tapper is told why not."""
    meeting = await steps.named_meeting(callback_answer, session, callback_data, dialog, mt.OPEN)
    if meeting is None or not await steps.at_step(query, callback_answer, state, at, meeting_id=meeting.id):
        return None
    return meeting


async def _read_closing(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                        limit: int) -> tuple[Participant, str, Meeting] | None:
    """`read_typed` at a step of closing the meeting, with the meeting being closed (None: gone)."""
    if (read := await steps.read_typed(message, session, person, state, limit)) is None:
        return None
    meeting = await meetings.meeting_of(session, read[0].dialog, int((await state.get_data()).get("meeting_id", 0)))
    return None if meeting is None else (*read, meeting)


async def _show_close_card(message: Message, session: AsyncSession, state: FSMContext, dialog: Dialog,
                           meeting: Meeting) -> None:
    await state.set_state(CloseFlow.confirm)
    await state.update_data(checked=True)
    data = await state.get_data()
    marks = await meetings.attendance_of(session, dialog, meeting)
    next_at = datetime.fromisoformat(data["next_at"]) if data.get("next_at") else None
    text, keyboard = views.close_card(dialog, meeting, marks, next_at, data.get("next_place"))
    await message.answer(text, reply_markup=keyboard, protect_content=True)


async def _ask_next(message: Message, state: FSMContext, dialog: Dialog, meeting: Meeting) -> None:
    await state.set_state(CloseFlow.next)
    text, keyboard = views.next_question(dialog, meeting)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.close), flags=MANAGE)
async def close_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                       session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    """Step 1: who was there, prefilled from the answers to the invitation."""
    meeting = await steps.named_meeting(callback_answer, session, callback_data, seat.dialog, mt.OPEN)
    if meeting is None:
        return
    data = await _closing(state, meeting)
    await state.clear()
    await state.update_data(dialog_id=seat.dialog.id, meeting_id=meeting.id, next_at=data.get("next_at"),
                            next_place=data.get("next_place"), checked=bool(data.get("checked")))
    await state.set_state(CloseFlow.attendance)
    marks = await meetings.attendance_of(session, seat.dialog, meeting)
    text, keyboard = views.attendance_card(seat.dialog, meeting, marks)
    await query.message.answer(text, reply_markup=keyboard, protect_content=True)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.attend), flags=MANAGE)
async def attend_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                        session: AsyncSession, callback_answer: CallbackAnswer) -> None:
    """One tap: that person moves on (present -> sent apologies -> absent); the card shows it."""
    meeting = await steps.named_meeting(callback_answer, session, callback_data, seat.dialog, mt.OPEN)
    if meeting is None:
        return
    if await meetings.toggle_attendance(session, seat.dialog, meeting, callback_data.value) is not Outcome.DONE:
        alert(callback_answer, texts.stale_button())
        return
    marks = await meetings.attendance_of(session, seat.dialog, meeting)
    text, keyboard = views.attendance_card(seat.dialog, meeting, marks)
    await query.message.edit_text(text, reply_markup=keyboard)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.attended), flags=MANAGE)
async def attended_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                          session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    """Step 2: the summary (or straight to the check, when coming back to change who was there)."""
    meeting = await steps.taken_meeting(query, callback_answer, session, callback_data, seat.dialog, mt.OPEN)
    if meeting is None:
        return
    data = await _closing(state, meeting)
    if not data:
        await state.clear()
        await state.update_data(dialog_id=seat.dialog.id, meeting_id=meeting.id)
    elif data.get("checked"):
        await _show_close_card(query.message, session, state, seat.dialog, meeting)
        return
    await state.set_state(CloseFlow.summary)
    text, keyboard = views.summary_question(seat.dialog, meeting)
    await query.message.answer(text, reply_markup=keyboard, protect_content=True)


@router.message(CloseFlow.summary, NOT_COMMAND)
async def got_summary(message: Message, session: AsyncSession, person: Person | None, state: FSMContext) -> None:
    if (read := await _read_closing(message, session, person, state, meetings.SUMMARY_LIMIT)) is None:
        return
    p, text, meeting = read
    if meetings.record_summary(meeting, text) is not Outcome.DONE:
        await state.clear()
        await message.answer(stale_meeting(meeting))
        return
    await message.answer(_("Thank you – the summary is in the minutes."))
    await _ask_next(message, state, p.dialog, meeting)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.no_summary), flags=MANAGE)
async def no_summary_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                            session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if meeting := await _open_at(query, callback_answer, session, state, callback_data, seat.dialog,
                                 CloseFlow.summary):
        await _ask_next(query.message, state, seat.dialog, meeting)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.plan_next), flags=MANAGE)
async def plan_next_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                           session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if await _open_at(query, callback_answer, session, state, callback_data, seat.dialog,
                      CloseFlow.next, CloseFlow.confirm):
        await state.set_state(CloseFlow.when)
        await query.message.answer(views.next_when_question(seat.dialog))


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.no_next), flags=MANAGE)
async def no_next_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                         session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if meeting := await _open_at(query, callback_answer, session, state, callback_data, seat.dialog, CloseFlow.next):
        await state.update_data(next_at=None, next_place=None)
        await _show_close_card(query.message, session, state, seat.dialog, meeting)


@router.message(CloseFlow.when, NOT_COMMAND)
async def got_next_when(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                        clock: Clock, settings: Settings) -> None:
    if (read := await steps.read_when(message, session, person, state, clock, settings)) is None:
        return
    p, starts = read
    meeting = await meetings.meeting_of(session, p.dialog, int((await state.get_data()).get("meeting_id", 0)))
    if meeting is None:
        await state.clear()
        await message.answer(texts.stale_button())
        return
    await state.update_data(next_at=starts.isoformat())
    await state.set_state(CloseFlow.place)
    text, keyboard = views.next_place_question(p.dialog, meeting)
    await message.answer(text, reply_markup=keyboard)


@router.message(CloseFlow.place, NOT_COMMAND)
async def got_next_place(message: Message, session: AsyncSession, person: Person | None, state: FSMContext) -> None:
    if (read := await _read_closing(message, session, person, state, PLACE_LIMIT)) is None:
        return
    p, place, meeting = read
    await state.update_data(next_place=place)
    await _show_close_card(message, session, state, p.dialog, meeting)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.next_same_place), flags=MANAGE)
async def next_same_place_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                                 session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if meeting := await _open_at(query, callback_answer, session, state, callback_data, seat.dialog, CloseFlow.place):
        await state.update_data(next_place=meeting.place)
        await _show_close_card(query.message, session, state, seat.dialog, meeting)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.case_ref), flags=MANAGE)
async def case_ref_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                          session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if await _open_at(query, callback_answer, session, state, callback_data, seat.dialog, CloseFlow.confirm):
        await state.set_state(CloseFlow.case_ref)
        await query.message.answer(views.case_ref_question(seat.dialog))


@router.message(CloseFlow.case_ref, NOT_COMMAND)
async def got_case_ref(message: Message, session: AsyncSession, person: Person | None, state: FSMContext) -> None:
    if (read := await _read_closing(message, session, person, state, meetings.CASE_REF_LIMIT)) is None:
        return
    p, text, meeting = read
    problem = meetings.set_case_ref(p.dialog, None if text.strip() in ("-", "–") else text)
    if problem is not None:
        await message.answer(views.case_ref_problem(problem))
        return
    await _show_close_card(message, session, state, p.dialog, meeting)


@router.message(CloseFlow.next, NOT_COMMAND)
@router.message(CloseFlow.confirm, NOT_COMMAND)
async def close_typed(message: Message) -> None:
    await message.answer(use_the_buttons())


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.close_yes), flags=MANAGE)
async def close_yes_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                           session: AsyncSession, state: FSMContext, clock: Clock, settings: Settings,
                           notices: Notices, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    """Close with what was recorded (who was there: as recorded, else from the answers); the
    next meeting is called if one was given; everyone gets the minutes through the outbox."""
    meeting = await steps.taken_meeting(query, callback_answer, session, callback_data, seat.dialog, mt.OPEN)
    if meeting is None:
        return
    await answer_now(query, callback_answer)  # before the report is rendered (slow)
    data = await _closing(state, meeting)
    now = clock.now()
    next_at = datetime.fromisoformat(data["next_at"]) if data.get("next_at") else None
    if next_at is not None and next_at <= now:
        next_at = None  # the time passed while the card waited: the coordinator plans it with /moede
    closed = await meetings.close_meeting(session, notices, dialog_config, settings, seat.dialog, meeting, now,
                                          next_at=next_at, next_place=data.get("next_place"))
    if data:
        await state.clear()
    await query.message.answer(views.closed_text(closed))
