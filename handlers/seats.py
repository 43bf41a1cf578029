"""Who is tapping, and may they: the seat check of every button, declared on the handler.

A callback handler says what the tap needs with a flag, and this middleware resolves the
tapper's seat in the dialog the button names (looked up on the server: button data only
names things) before the handler runs:

    @router.callback_query(OverviewCb.filter(), flags=needs(Action.READ_SHARED))
    async def overview_button(query, callback_data, seat: Participant, ...): ...

The dialog is found from the callback data: its `dialog_id`, or the dialog of the object
it names (a participant, a meeting, a task, a referral, an input entry). When the rules
refuse (rules.access.decide), the person is told why as an alert on the button and the
handler never runs; otherwise the seat is injected as `seat`.

Handlers about no dialog (choosing the language, `/ny`, erasing one's own data) say so
with `flags=NO_DIALOG`; tests/test_seats.py fails for a callback handler with neither.

Answering the tap: aiogram's CallbackAnswerMiddleware runs inside this one (bot/app.py) and
answers once, after the handler, with what the handler set on its `callback_answer`
(`alert(callback_answer, text)`, or `.text` for a toast). A refused seat is answered here,
and the handler (and that middleware) never runs. Before slow work (a PDF rendered or
uploaded) a handler answers at once with `answer_now`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.texts import stale_button
from handlers.choose import seat_for_tap
from rules.access import Action
from storage.models import Goal, InputEntry, Meeting, Participant, Referral, Task

SEAT = "seat"
NO_DIALOG: dict[str, Any] = {SEAT: "no dialog"}


def alert(callback_answer: CallbackAnswer, text: str) -> None:
    """Answer the tap with `text` as an alert (CallbackAnswerMiddleware sends it after the handler)."""
    callback_answer.text = text
    callback_answer.show_alert = True


async def answer_now(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """Answer the tap at once rather than after the handler: before slow work (a PDF rendered or
    uploaded), so the button stops spinning."""
    callback_answer.disable()
    await query.answer()


ONE_SEAT = "one_seat"


def needs(action: Action, *, one_seat: bool = False) -> dict[str, Any]:
    """The flags of a callback handler whose tap needs `action` in the dialog the button names.

    `one_seat`: the handler reads the tapper's seat and its dialog, never the dialog's other
    participants, so they are not loaded (storage/queries.py `participant_in`)."""
    return {SEAT: action, ONE_SEAT: True} if one_seat else {SEAT: action}


async def _dialog_of(session: AsyncSession, callback_data: Any) -> int | None:
    """The dialog a button names, directly or through the object it names; None: it names none."""
    if getattr(callback_data, "dialog_id", 0):
        return callback_data.dialog_id
    lookups = (
        ("participant_id", select(Participant.dialog_id).where(Participant.id == getattr(callback_data, "participant_id", 0))),
        ("meeting_id", select(Meeting.dialog_id).where(Meeting.id == getattr(callback_data, "meeting_id", 0))),
        ("task_id", select(Goal.dialog_id).join(Task, Task.goal_id == Goal.id)
         .where(Task.id == getattr(callback_data, "task_id", 0))),
        ("referral_id", select(Referral.dialog_id).where(Referral.id == getattr(callback_data, "referral_id", 0))),
        ("entry_id", select(InputEntry.dialog_id).where(InputEntry.id == getattr(callback_data, "entry_id", 0))),
    )
    for field, query in lookups:
        if getattr(callback_data, field, 0):
            return await session.scalar(query)
    return None


class SeatMiddleware(BaseMiddleware):
    """Inner middleware of `callback_query`: resolves and checks the seat a handler's flag asks for."""

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        action = get_flag(data, SEAT)
        if not isinstance(action, Action) or not isinstance(event, CallbackQuery):
            return await handler(event, data)
        session: AsyncSession = data["session"]
        dialog_id = await _dialog_of(session, data.get("callback_data"))
        if dialog_id is None:
            await event.answer(stale_button(), show_alert=True)
            return None
        seat = await seat_for_tap(event, session, data.get("person"), dialog_id, action,
                                  with_seats=not get_flag(data, ONE_SEAT, default=False))
        if seat is None:
            return None
        data["seat"] = seat
        return await handler(event, data)
