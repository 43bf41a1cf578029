"""Dialogmøde (`/moede`): scheduling, answers, reminders, running and closing the meeting.

The coordinator schedules a meeting (time typed the Danish way, then place or
video link, then a summary to confirm); every joined participant gets a notice
with *Jeg kommer* / *Jeg kan ikke*. Each answer reaches the coordinator as a
notice with the running count, and `/moede` shows who is coming. Before the
meeting, those who have not shared input or scaled are reminded; those coming
are reminded the day before. On the day the coordinator starts the meeting
(agenda, who has given what), sets the joint target on the ruler and closes it,
which ends the round and starts the next. Closing records the minutes in a few taps
(`CloseFlow`): who was there (prefilled from the answers, one tap moves a person on),
a short summary (optional), the next meeting (or not yet) and the case number; then
everyone gets the referat through the outbox. Handlers here parse, authorize (`needs`:
handlers/seats.py), call one use case (services/meetings.py) and render (meeting_views.py).
"""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.config import Settings
from core.i18n import fmt_date
from core.notices import Notices
from handlers import meeting_views as views
from handlers.answers import NOT_COMMAND, read_answer
from handlers.choose import PickDialogCb, pick_dialog, seat_for
from handlers.home_views import with_next_step
from handlers.meeting_views import MeetingAction, MeetingCb, RsvpCb
from handlers.seats import alert, answer_now, needs
from rules.access import Action, decide
from rules.dates import DateParseError, parse_meeting_time
from rules.dialog_config import DialogConfig
from services import meetings
from services.meetings import Call, Outcome, Rsvp
from storage import meetings as mt
from storage import queries as q
from storage.models import Dialog, Meeting, Participant, Person

router = Router(name="meetings")

PLACE_LIMIT = 300
WHEN_LIMIT = 100

MANAGE = needs(Action.MANAGE)  # every button of the coordinator's


class MeetingFlow(StatesGroup):
    # data: dialog_id, meeting_id (0: a new meeting), version (when moving), starts_at, place, editing
    when = State()
    place = State()
    confirm = State()


# ---- /moede ----------------------------------------------------------------------------------


@router.message(Command("moede"))
async def meeting_command(message: Message, session: AsyncSession, person: Person | None,
                          state: FSMContext, clock: Clock, settings: Settings,
                          dialog_config: DialogConfig) -> None:
    participant = await pick_dialog(message, session, person, "moede", Action.READ_SHARED)
    if participant is not None:
        await state.clear()
        await show_meeting(message, session, participant, state, clock, settings, dialog_config)


@router.callback_query(PickDialogCb.filter(F.flow == "moede"), flags=needs(Action.READ_SHARED))
async def meeting_picked(query: CallbackQuery, seat: Participant, session: AsyncSession, state: FSMContext,
                         clock: Clock, settings: Settings, dialog_config: DialogConfig) -> None:
    await state.clear()
    await show_meeting(query.message, session, seat, state, clock, settings, dialog_config)


async def show_meeting(message: Message, session: AsyncSession, p: Participant, state: FSMContext,
                       clock: Clock, settings: Settings, config: DialogConfig) -> None:
    dialog = p.dialog
    meeting = await mt.live_meeting(session, dialog.id)
    if not decide(q.seat(p), dialog.state, Action.MANAGE):
        rsvp_keyboard = views.rsvp_keyboard(meeting) if meeting and meeting.status == mt.SCHEDULED else None
        await message.answer(await views.participant_view(session, p, meeting), reply_markup=rsvp_keyboard,
                             protect_content=True)
        return
    if meeting is None:
        await _ask_when(message, state, dialog, None)
        return
    if meeting.status == mt.OPEN:
        text, keyboard = await views.agenda_card(session, dialog, meeting, config)
    else:
        text, keyboard = await views.coordinator_card(session, dialog, meeting, clock.now(), settings)
    await message.answer(text, reply_markup=keyboard, protect_content=True)


# ---- scheduling and moving: time, place, confirm ----------------------------------------------


async def _ask_when(message: Message, state: FSMContext, dialog: Dialog, meeting: Meeting | None,
                    editing: bool = False) -> None:
    if not editing:
        await state.clear()
        await state.update_data(dialog_id=dialog.id, meeting_id=meeting.id if meeting else 0,
                                version=meeting.version if meeting else 0,
                                place=meeting.place if meeting else None)
    await state.set_state(MeetingFlow.when)
    await message.answer(views.when_question(dialog, meeting, editing))


async def _flow_seat(message: Message, session: AsyncSession, person: Person | None, state: FSMContext
                     ) -> Participant | None:
    """The coordinator's seat for the dialog the conversation is about; else the conversation
    ends with the rules' refusal, and None."""
    data = await state.get_data()
    p, decision = await seat_for(session, person, int(data.get("dialog_id", 0)), Action.MANAGE)
    if not decision:
        await state.clear()
        await message.answer(texts.refusal(decision.refusal, p.dialog if p else None))
        return None
    return p


async def _read_typed(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                      limit: int) -> tuple[Participant, str] | None:
    """The coordinator's seat and the text they typed at a step; None when the seat is refused or
    the text cannot be taken (they are told why)."""
    p = await _flow_seat(message, session, person, state)
    if p is None:
        return None
    text = await read_answer(message, limit)
    return None if text is None else (p, text)


async def _read_closing(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                        limit: int) -> tuple[Participant, str, Meeting] | None:
    """`_read_typed` at a step of closing the meeting, with the meeting being closed (None: gone)."""
    read = await _read_typed(message, session, person, state, limit)
    if read is None:
        return None
    meeting = await meetings.meeting_of(session, read[0].dialog, int((await state.get_data()).get("meeting_id", 0)))
    return None if meeting is None else (*read, meeting)


async def _read_when(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                     clock: Clock, settings: Settings) -> tuple[Participant, datetime] | None:
    """The coordinator's seat and the meeting time they typed; None when the seat is refused or
    the time cannot be read (they are told why)."""
    read = await _read_typed(message, session, person, state, WHEN_LIMIT)
    if read is None:
        return None
    p, text = read
    try:
        return p, parse_meeting_time(text, now=clock.now(), tz=settings.tz)
    except DateParseError as exc:
        await message.answer(views.date_error(exc.code))
        return None


@router.message(MeetingFlow.when, NOT_COMMAND)
async def got_when(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                   clock: Clock, settings: Settings) -> None:
    read = await _read_when(message, session, person, state, clock, settings)
    if read is None:
        return
    p, starts = read
    await state.update_data(starts_at=starts.isoformat())
    data = await state.get_data()
    if data.get("editing"):
        await _show_summary(message, state, p.dialog)
        return
    await _ask_place(message, state, p.dialog, moving=bool(data.get("meeting_id")))


async def _ask_place(message: Message, state: FSMContext, dialog: Dialog, moving: bool) -> None:
    await state.set_state(MeetingFlow.place)
    text, keyboard = views.place_question(dialog, moving)
    await message.answer(text, reply_markup=keyboard)


@router.message(MeetingFlow.place, NOT_COMMAND)
async def got_place(message: Message, session: AsyncSession, person: Person | None,
                    state: FSMContext) -> None:
    read = await _read_typed(message, session, person, state, PLACE_LIMIT)
    if read is None:
        return
    p, place = read
    await state.update_data(place=place)
    await _show_summary(message, state, p.dialog)


async def _show_summary(message: Message, state: FSMContext, dialog: Dialog) -> None:
    await state.set_state(MeetingFlow.confirm)
    await state.update_data(editing=False)
    data = await state.get_data()
    text, keyboard = views.summary_card(dialog, datetime.fromisoformat(data["starts_at"]), data["place"],
                                        moving=bool(data.get("meeting_id")))
    await message.answer(text, reply_markup=keyboard, protect_content=True)


@router.message(MeetingFlow.confirm, NOT_COMMAND)
async def confirm_typed(message: Message) -> None:
    await message.answer(_("Please choose with one of the buttons above."))


# ---- the summary's buttons ----------------------------------------------------------------------


async def _in_step(query: CallbackQuery, callback_answer: CallbackAnswer, state: FSMContext, dialog: Dialog,
                   step: State) -> bool:
    """Whether the conversation stands at `step` about this dialog (then the tapped message's
    buttons go); otherwise the button is stale."""
    data = await state.get_data()
    if await state.get_state() != step.state or int(data.get("dialog_id", 0)) != dialog.id:
        alert(callback_answer, texts.stale_button())
        return False
    await query.message.edit_reply_markup(reply_markup=None)
    return True


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.abort), flags=MANAGE)
async def abort_tapped(query: CallbackQuery, seat: Participant, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if await _in_step(query, callback_answer, state, seat.dialog, MeetingFlow.confirm):
        await state.clear()
        await query.message.answer(_("Stopped. Nothing was changed."))


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.edit_when), flags=MANAGE)
async def edit_when_tapped(query: CallbackQuery, seat: Participant, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if await _in_step(query, callback_answer, state, seat.dialog, MeetingFlow.confirm):
        await state.update_data(editing=True)
        await _ask_when(query.message, state, seat.dialog, None, editing=True)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.edit_place), flags=MANAGE)
async def edit_place_tapped(query: CallbackQuery, seat: Participant, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if await _in_step(query, callback_answer, state, seat.dialog, MeetingFlow.confirm):
        await state.update_data(editing=True)
        await _ask_place(query.message, state, seat.dialog, moving=False)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.same_place), flags=MANAGE)
async def same_place_tapped(query: CallbackQuery, seat: Participant, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if await _in_step(query, callback_answer, state, seat.dialog, MeetingFlow.place):
        await _show_summary(query.message, state, seat.dialog)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.send), flags=MANAGE)
async def send_tapped(query: CallbackQuery, seat: Participant, session: AsyncSession, state: FSMContext,
                      clock: Clock, settings: Settings, notices: Notices, callback_answer: CallbackAnswer) -> None:
    """The confirmed summary: a new meeting, or the moved one, and everyone is told."""
    if not await _in_step(query, callback_answer, state, seat.dialog, MeetingFlow.confirm):
        return
    msg, dialog = query.message, seat.dialog
    data = await state.get_data()
    now = clock.now()
    starts = datetime.fromisoformat(data["starts_at"])
    meeting_id = int(data.get("meeting_id") or 0)
    if meeting_id:
        called = await meetings.move_meeting(session, notices, settings, dialog, meeting_id,
                                             int(data.get("version", 0)), starts, data["place"], now)
    else:
        called = await meetings.call_meeting(session, notices, settings, dialog, starts, data["place"], now)
    if called.outcome is Call.IN_THE_PAST:
        await state.update_data(editing=True)
        await msg.answer(views.date_error("in_the_past"))
        await _ask_when(msg, state, dialog, None, editing=True)
        return
    await state.clear()
    await msg.answer(views.called_text(called))


# ---- the buttons of a scheduled or open meeting ------------------------------------------------------


async def _meeting(callback_answer: CallbackAnswer, session: AsyncSession, callback_data: MeetingCb, dialog: Dialog,
                   status: str | None = None) -> Meeting | None:
    """The meeting the button names, in `status` if given; otherwise the tapper is told why."""
    meeting = await meetings.meeting_of(session, dialog, callback_data.meeting_id)
    if meeting is None:
        alert(callback_answer, texts.stale_button())
        return None
    if status is not None and meeting.status != status:
        alert(callback_answer, views.stale_meeting(meeting))
        return None
    return meeting


async def _meeting_taken(query: CallbackQuery, callback_answer: CallbackAnswer, session: AsyncSession,
                         callback_data: MeetingCb, dialog: Dialog, status: str) -> Meeting | None:
    """`_meeting`; when it is there, the tapped message's buttons go."""
    meeting = await _meeting(callback_answer, session, callback_data, dialog, status)
    if meeting is not None:
        await query.message.edit_reply_markup(reply_markup=None)
    return meeting


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.move), flags=MANAGE)
async def move_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant, session: AsyncSession,
                      state: FSMContext, callback_answer: CallbackAnswer) -> None:
    meeting = await _meeting(callback_answer, session, callback_data, seat.dialog, mt.SCHEDULED)
    if meeting is not None:
        await _ask_when(query.message, state, seat.dialog, meeting)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.cancel), flags=MANAGE)
async def cancel_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                        session: AsyncSession, callback_answer: CallbackAnswer) -> None:
    meeting = await _meeting(callback_answer, session, callback_data, seat.dialog, mt.SCHEDULED)
    if meeting is not None:
        text, keyboard = views.cancel_question(seat.dialog, meeting)
        await query.message.answer(text, reply_markup=keyboard)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.cancel_yes), flags=MANAGE)
async def cancel_yes_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                            session: AsyncSession, notices: Notices, callback_answer: CallbackAnswer) -> None:
    meeting = await _meeting_taken(query, callback_answer, session, callback_data, seat.dialog, mt.SCHEDULED)
    if meeting is None:
        return
    await meetings.cancel_meeting(session, notices, seat.dialog, meeting)
    await query.message.answer(_("The meeting is cancelled, and everyone has been told. "
                                 "Type /moede to schedule a new one."))


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.keep), flags=MANAGE)
async def keep_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                      session: AsyncSession, callback_answer: CallbackAnswer) -> None:
    if await _meeting(callback_answer, session, callback_data, seat.dialog) is not None:
        await query.message.edit_text(_("The meeting stays as planned."))


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.show), flags=MANAGE)
async def show_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant, session: AsyncSession,
                      state: FSMContext, clock: Clock, settings: Settings, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    if await _meeting(callback_answer, session, callback_data, seat.dialog) is not None:
        await show_meeting(query.message, session, seat, state, clock, settings, dialog_config)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.start), flags=MANAGE)
async def start_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant, session: AsyncSession,
                       clock: Clock, settings: Settings, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    meeting = await _meeting(callback_answer, session, callback_data, seat.dialog, mt.SCHEDULED)
    if meeting is None:
        return
    if await meetings.open_meeting(session, settings, seat.dialog, meeting, clock.now()) is Outcome.TOO_EARLY:
        alert(callback_answer, _("The meeting can be started on the day itself ({date}).").format(
            date=fmt_date(meeting.starts_at)))
        return
    await query.message.edit_reply_markup(reply_markup=None)
    text, keyboard = await views.agenda_card(session, seat.dialog, meeting, dialog_config)
    await query.message.answer(text, reply_markup=keyboard, protect_content=True)


# ---- during the meeting ---------------------------------------------------------------------


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.target_menu), flags=MANAGE)
async def target_menu_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                             session: AsyncSession, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    meeting = await _meeting(callback_answer, session, callback_data, seat.dialog, mt.OPEN)
    if meeting is not None:
        ruler = dialog_config.ruler(seat.dialog.age_group)
        text, keyboard = views.target_question(seat.dialog, meeting, ruler)
        await query.message.answer(text, reply_markup=keyboard)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.target), flags=MANAGE)
async def target_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant, session: AsyncSession,
                        clock: Clock, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    dialog = seat.dialog
    meeting = await _meeting(callback_answer, session, callback_data, dialog, mt.OPEN)
    if meeting is None:
        return
    value = callback_data.value
    if await meetings.set_target(session, dialog, meeting, value, clock.now()) is Outcome.OFF_THE_RULER:
        alert(callback_answer, texts.stale_button())
        return
    text, keyboard = views.target_set_card(dialog, meeting, dialog_config.ruler(dialog.age_group), value)
    await query.message.edit_text(text, reply_markup=keyboard)


# ---- closing: who was there, what was decided, the next meeting -> the minutes of record -------------


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


async def _close_step(query: CallbackQuery, callback_answer: CallbackAnswer, state: FSMContext, meeting: Meeting,
                      *steps: State) -> bool:
    """Whether the close conversation stands at one of `steps` for this meeting (the tapped
    message's buttons then go); otherwise the button is stale."""
    data = await state.get_data()
    if await state.get_state() not in {s.state for s in steps} or int(data.get("meeting_id", 0)) != meeting.id:
        alert(callback_answer, texts.stale_button())
        return False
    await query.message.edit_reply_markup(reply_markup=None)
    return True


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
    meeting = await _meeting(callback_answer, session, callback_data, seat.dialog, mt.OPEN)
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
    meeting = await _meeting(callback_answer, session, callback_data, seat.dialog, mt.OPEN)
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
    meeting = await _meeting_taken(query, callback_answer, session, callback_data, seat.dialog, mt.OPEN)
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
    read = await _read_closing(message, session, person, state, meetings.SUMMARY_LIMIT)
    if read is None:
        return
    p, text, meeting = read
    if meetings.record_summary(meeting, text) is not Outcome.DONE:
        await state.clear()
        await message.answer(views.stale_meeting(meeting))
        return
    await message.answer(_("Thank you – the summary is in the minutes."))
    await _ask_next(message, state, p.dialog, meeting)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.no_summary), flags=MANAGE)
async def no_summary_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                            session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    meeting = await _meeting(callback_answer, session, callback_data, seat.dialog, mt.OPEN)
    if meeting is not None and await _close_step(query, callback_answer, state, meeting, CloseFlow.summary):
        await _ask_next(query.message, state, seat.dialog, meeting)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.plan_next), flags=MANAGE)
async def plan_next_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                           session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    meeting = await _meeting(callback_answer, session, callback_data, seat.dialog, mt.OPEN)
    if meeting is not None and await _close_step(query, callback_answer, state, meeting, CloseFlow.next, CloseFlow.confirm):
        await state.set_state(CloseFlow.when)
        await query.message.answer(views.next_when_question(seat.dialog))


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.no_next), flags=MANAGE)
async def no_next_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                         session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    meeting = await _meeting(callback_answer, session, callback_data, seat.dialog, mt.OPEN)
    if meeting is not None and await _close_step(query, callback_answer, state, meeting, CloseFlow.next):
        await state.update_data(next_at=None, next_place=None)
        await _show_close_card(query.message, session, state, seat.dialog, meeting)


@router.message(CloseFlow.when, NOT_COMMAND)
async def got_next_when(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                        clock: Clock, settings: Settings) -> None:
    read = await _read_when(message, session, person, state, clock, settings)
    if read is None:
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
async def got_next_place(message: Message, session: AsyncSession, person: Person | None,
                         state: FSMContext) -> None:
    read = await _read_closing(message, session, person, state, PLACE_LIMIT)
    if read is None:
        return
    p, place, meeting = read
    await state.update_data(next_place=place)
    await _show_close_card(message, session, state, p.dialog, meeting)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.next_same_place), flags=MANAGE)
async def next_same_place_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                                 session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    meeting = await _meeting(callback_answer, session, callback_data, seat.dialog, mt.OPEN)
    if meeting is not None and await _close_step(query, callback_answer, state, meeting, CloseFlow.place):
        await state.update_data(next_place=meeting.place)
        await _show_close_card(query.message, session, state, seat.dialog, meeting)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.case_ref), flags=MANAGE)
async def case_ref_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                          session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    meeting = await _meeting(callback_answer, session, callback_data, seat.dialog, mt.OPEN)
    if meeting is not None and await _close_step(query, callback_answer, state, meeting, CloseFlow.confirm):
        await state.set_state(CloseFlow.case_ref)
        await query.message.answer(views.case_ref_question(seat.dialog))


@router.message(CloseFlow.case_ref, NOT_COMMAND)
async def got_case_ref(message: Message, session: AsyncSession, person: Person | None, state: FSMContext) -> None:
    read = await _read_closing(message, session, person, state, meetings.CASE_REF_LIMIT)
    if read is None:
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
    await message.answer(_("Please choose with one of the buttons above."))


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.close_yes), flags=MANAGE)
async def close_yes_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                           session: AsyncSession, state: FSMContext, clock: Clock, settings: Settings,
                           notices: Notices, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    """Close with what was recorded (who was there: as recorded, else from the answers); the
    next meeting is called if one was given; everyone gets the minutes through the outbox."""
    meeting = await _meeting_taken(query, callback_answer, session, callback_data, seat.dialog, mt.OPEN)
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


# ---- Jeg kommer / Jeg kan ikke -------------------------------------------------------------------


@router.callback_query(RsvpCb.filter(), flags=needs(Action.READ_SHARED))
async def rsvp(query: CallbackQuery, callback_data: RsvpCb, seat: Participant, session: AsyncSession,
               clock: Clock, settings: Settings, notices: Notices, callback_answer: CallbackAnswer) -> None:
    # The button names a meeting; the seat is the sender's own in its dialog (handlers/seats.py).
    answered = await meetings.answer_invitation(session, notices, settings, seat, callback_data.meeting_id,
                                                callback_data.version, callback_data.coming, clock.now())
    if answered.outcome is not Rsvp.RECORDED:
        callback_answer.text = views.rsvp_refusal(answered)
        # "already recorded": a toast
        callback_answer.show_alert = True if answered.outcome is not Rsvp.UNCHANGED else None
        return
    text, keyboard = await with_next_step(views.rsvp_thanks(bool(callback_data.coming)), session, seat, clock.now())
    await query.message.answer(text, reply_markup=keyboard)
