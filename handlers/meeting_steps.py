"""What the two routers of a dialog meeting (handlers/meetings.py: scheduling and running it;
handlers/meeting_close.py: closing it) share: reading the coordinator's typed step with their
seat checked again, and the checks a button's tap goes through (the meeting it names, the
conversation's step)."""

from __future__ import annotations

from datetime import datetime

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.config import Settings
from handlers.answers import read_answer
from handlers.choose import seat_for
from handlers.meeting_views import MeetingCb, date_error, stale_meeting
from handlers.seats import alert, needs
from rules.access import Action
from rules.dates import DateParseError, parse_meeting_time
from services import meetings
from storage.models import Dialog, Meeting, Participant, Person

PLACE_LIMIT = 300
WHEN_LIMIT = 100

MANAGE = needs(Action.MANAGE)  # every button of the coordinator's


async def read_typed(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                     limit: int) -> tuple[Participant, str] | None:
    """The coordinator's seat for the dialog the conversation is about, and the text they typed
    at a step; None when the seat is refused (the conversation ends with the rules' refusal) or
    the text cannot be taken (they are told why)."""
    data = await state.get_data()
    p, decision = await seat_for(session, person, int(data.get("dialog_id", 0)), Action.MANAGE)
    if not decision:
        await state.clear()
        await message.answer(texts.refusal(decision.refusal, p.dialog if p else None))
        return None
    text = await read_answer(message, limit)
    return None if text is None else (p, text)


async def read_when(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                    clock: Clock, settings: Settings) -> tuple[Participant, datetime] | None:
    """`read_typed` of a meeting time; None also when the time cannot be read (they are told why)."""
    if (read := await read_typed(message, session, person, state, WHEN_LIMIT)) is None:
        return None
    p, text = read
    try:
        return p, parse_meeting_time(text, now=clock.now(), tz=settings.tz)
    except DateParseError as exc:
        await message.answer(date_error(exc.code))
        return None


async def at_step(query: CallbackQuery, callback_answer: CallbackAnswer, state: FSMContext, steps: tuple[State, ...],
                  **about: int) -> bool:
    """Whether the conversation stands at one of `steps` about `about` (its dialog_id or meeting_id):
    then the tapped message's buttons go; otherwise the button is stale (an alert says so)."""
    data = await state.get_data()
    if await state.get_state() not in {s.state for s in steps} \
            or any(int(data.get(key, 0)) != value for key, value in about.items()):
        alert(callback_answer, texts.stale_button())
        return False
    await query.message.edit_reply_markup(reply_markup=None)
    return True


async def named_meeting(callback_answer: CallbackAnswer, session: AsyncSession, callback_data: MeetingCb,
                        dialog: Dialog, status: str | None = None) -> Meeting | None:
    """The meeting the button names, in `status` if given; otherwise the tapper is told why."""
    meeting = await meetings.meeting_of(session, dialog, callback_data.meeting_id)
    if meeting is None:
        alert(callback_answer, texts.stale_button())
        return None
    if status is not None and meeting.status != status:
        alert(callback_answer, stale_meeting(meeting))
        return None
    return meeting


async def taken_meeting(query: CallbackQuery, callback_answer: CallbackAnswer, session: AsyncSession,
                        callback_data: MeetingCb, dialog: Dialog, status: str) -> Meeting | None:
    """`named_meeting`; when it is there, the tapped message's buttons go."""
    meeting = await named_meeting(callback_answer, session, callback_data, dialog, status)
    if meeting is not None:
        await query.message.edit_reply_markup(reply_markup=None)
    return meeting
