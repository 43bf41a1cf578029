"""Dialogmøde (`/moede`): scheduling, moving and cancelling, the answers, running the meeting.

The coordinator schedules a meeting (time typed the Danish way, then place or
video link, then a summary to confirm); every joined participant gets a notice
with *Jeg kommer* / *Jeg kan ikke*. Each answer reaches the coordinator as a
notice with the running count, and `/moede` shows who is coming. Before the
meeting, those who have not shared input or scaled are reminded; those coming
are reminded the day before (handlers/meeting_notices.py). On the day the coordinator
starts the meeting (agenda, who has given what) and sets the joint target on the ruler;
closing it, with the minutes, is handlers/meeting_close.py. Handlers here parse, authorize
(`needs`: handlers/seats.py; what both meeting routers check: handlers/meeting_steps.py), call
one use case (services/meetings.py) and render (meeting_views.py).
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
from handlers import meeting_notices  # noqa: F401 (its notice renderers register on import)
from handlers import meeting_steps as steps
from handlers import meeting_views as views
from handlers.answers import NOT_COMMAND, use_the_buttons
from handlers.choose import PickDialogCb, pick_dialog
from handlers.home_views import with_next_step
from handlers.meeting_steps import MANAGE, PLACE_LIMIT
from handlers.meeting_views import MeetingAction, MeetingCb, RsvpCb
from handlers.seats import alert, needs
from rules.access import Action, decide
from rules.dialog_config import DialogConfig
from services import meetings
from services.meetings import Call, Outcome, Rsvp
from storage import meetings as mt
from storage import queries as q
from storage.models import Dialog, Meeting, Participant, Person

router = Router(name="meetings")


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


@router.message(MeetingFlow.when, NOT_COMMAND)
async def got_when(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                   clock: Clock, settings: Settings) -> None:
    if (read := await steps.read_when(message, session, person, state, clock, settings)) is None:
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
async def got_place(message: Message, session: AsyncSession, person: Person | None, state: FSMContext) -> None:
    if (read := await steps.read_typed(message, session, person, state, PLACE_LIMIT)) is None:
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
    await message.answer(use_the_buttons())


# ---- the summary's buttons ----------------------------------------------------------------------


async def _at(query: CallbackQuery, callback_answer: CallbackAnswer, state: FSMContext, dialog: Dialog,
              step: State) -> bool:
    """`at_step` of scheduling: the conversation stands at `step` about this dialog."""
    return await steps.at_step(query, callback_answer, state, (step,), dialog_id=dialog.id)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.abort), flags=MANAGE)
async def abort_tapped(query: CallbackQuery, seat: Participant, state: FSMContext,
                       callback_answer: CallbackAnswer) -> None:
    if await _at(query, callback_answer, state, seat.dialog, MeetingFlow.confirm):
        await state.clear()
        await query.message.answer(_("Stopped. Nothing was changed."))


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.edit_when), flags=MANAGE)
async def edit_when_tapped(query: CallbackQuery, seat: Participant, state: FSMContext,
                           callback_answer: CallbackAnswer) -> None:
    if await _at(query, callback_answer, state, seat.dialog, MeetingFlow.confirm):
        await state.update_data(editing=True)
        await _ask_when(query.message, state, seat.dialog, None, editing=True)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.edit_place), flags=MANAGE)
async def edit_place_tapped(query: CallbackQuery, seat: Participant, state: FSMContext,
                            callback_answer: CallbackAnswer) -> None:
    if await _at(query, callback_answer, state, seat.dialog, MeetingFlow.confirm):
        await state.update_data(editing=True)
        await _ask_place(query.message, state, seat.dialog, moving=False)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.same_place), flags=MANAGE)
async def same_place_tapped(query: CallbackQuery, seat: Participant, state: FSMContext,
                            callback_answer: CallbackAnswer) -> None:
    if await _at(query, callback_answer, state, seat.dialog, MeetingFlow.place):
        await _show_summary(query.message, state, seat.dialog)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.send), flags=MANAGE)
async def send_tapped(query: CallbackQuery, seat: Participant, session: AsyncSession, state: FSMContext,
                      clock: Clock, settings: Settings, notices: Notices, callback_answer: CallbackAnswer) -> None:
    """The confirmed summary: a new meeting, or the moved one, and everyone is told."""
    if not await _at(query, callback_answer, state, seat.dialog, MeetingFlow.confirm):
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


# ---- the buttons of a scheduled meeting ---------------------------------------------------------------


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.move), flags=MANAGE)
async def move_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant, session: AsyncSession,
                      state: FSMContext, callback_answer: CallbackAnswer) -> None:
    meeting = await steps.named_meeting(callback_answer, session, callback_data, seat.dialog, mt.SCHEDULED)
    if meeting is not None:
        await _ask_when(query.message, state, seat.dialog, meeting)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.cancel), flags=MANAGE)
async def cancel_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                        session: AsyncSession, callback_answer: CallbackAnswer) -> None:
    meeting = await steps.named_meeting(callback_answer, session, callback_data, seat.dialog, mt.SCHEDULED)
    if meeting is not None:
        text, keyboard = views.cancel_question(seat.dialog, meeting)
        await query.message.answer(text, reply_markup=keyboard)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.cancel_yes), flags=MANAGE)
async def cancel_yes_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                            session: AsyncSession, notices: Notices, callback_answer: CallbackAnswer) -> None:
    meeting = await steps.taken_meeting(query, callback_answer, session, callback_data, seat.dialog, mt.SCHEDULED)
    if meeting is None:
        return
    await meetings.cancel_meeting(session, notices, seat.dialog, meeting)
    await query.message.answer(_("The meeting is cancelled, and everyone has been told. "
                                 "Type /moede to schedule a new one."))


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.keep), flags=MANAGE)
async def keep_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant,
                      session: AsyncSession, callback_answer: CallbackAnswer) -> None:
    if await steps.named_meeting(callback_answer, session, callback_data, seat.dialog) is not None:
        await query.message.edit_text(_("The meeting stays as planned."))


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.show), flags=MANAGE)
async def show_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant, session: AsyncSession,
                      state: FSMContext, clock: Clock, settings: Settings, dialog_config: DialogConfig,
                      callback_answer: CallbackAnswer) -> None:
    if await steps.named_meeting(callback_answer, session, callback_data, seat.dialog) is not None:
        await show_meeting(query.message, session, seat, state, clock, settings, dialog_config)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.start), flags=MANAGE)
async def start_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant, session: AsyncSession,
                       clock: Clock, settings: Settings, dialog_config: DialogConfig,
                       callback_answer: CallbackAnswer) -> None:
    meeting = await steps.named_meeting(callback_answer, session, callback_data, seat.dialog, mt.SCHEDULED)
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
                             session: AsyncSession, dialog_config: DialogConfig,
                             callback_answer: CallbackAnswer) -> None:
    meeting = await steps.named_meeting(callback_answer, session, callback_data, seat.dialog, mt.OPEN)
    if meeting is not None:
        ruler = dialog_config.ruler(seat.dialog.age_group)
        text, keyboard = views.target_question(seat.dialog, meeting, ruler)
        await query.message.answer(text, reply_markup=keyboard)


@router.callback_query(MeetingCb.filter(F.action == MeetingAction.target), flags=MANAGE)
async def target_tapped(query: CallbackQuery, callback_data: MeetingCb, seat: Participant, session: AsyncSession,
                        clock: Clock, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    dialog = seat.dialog
    meeting = await steps.named_meeting(callback_answer, session, callback_data, dialog, mt.OPEN)
    if meeting is None:
        return
    value = callback_data.value
    if await meetings.set_target(session, dialog, meeting, value, clock.now()) is Outcome.OFF_THE_RULER:
        alert(callback_answer, texts.stale_button())
        return
    text, keyboard = views.target_set_card(dialog, meeting, dialog_config.ruler(dialog.age_group), value)
    await query.message.edit_text(text, reply_markup=keyboard)


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
