"""Which dialog a command is about.

A person in several dialogs (a parent with two children, a teacher in ten) picks
one first; with one active dialog, no question is asked. Only active dialogs in
which the person holds a joined seat are offered, and the pick is checked again
on the server when the button comes back.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.i18n import fmt_date
from core.labels import child_in_chat, child_on_button
from rules.access import ACTIVE, Action, Decision, decide
from storage import queries as q
from storage.models import Dialog, Participant, Person

# A number in callback data may be made up by whoever taps. One that no table can hold (ids are
# 32-bit) names nothing: the button does not match and the fallback answers that it is stale,
# where the database would refuse the query and the person would get an error.
Id = Annotated[int, Field(ge=0, lt=2**31)]


def is_id(text: str) -> bool:
    """Whether callback text (a string field) is a number that can name a row."""
    return text.isdigit() and int(text) < 2**31


class PickDialogCb(CallbackData, prefix="pick"):
    flow: str  # input | skala | vurdering | oversigt
    dialog_id: Id


async def seat_for(session: AsyncSession, person: Person | None, dialog_id: int, action: Action, *,
                   with_seats: bool = True) -> tuple[Participant | None, Decision]:
    """The sender's seat in `dialog_id` and whether `action` is allowed there (`with_seats`:
    storage/queries.py `participant_in`)."""
    participant = await q.participant_in(session, person, dialog_id, with_seats=with_seats)
    dialog = participant.dialog if participant else None
    return participant, decide(q.seat(participant), dialog.state if dialog else "", action)


async def seat_for_tap(query: CallbackQuery, session: AsyncSession, person: Person | None, dialog_id: int,
                       action: Action, *, with_seats: bool = True) -> Participant | None:
    """The tapper's seat when `action` is allowed in `dialog_id`; otherwise the rules' refusal
    as an alert on the button (nothing else happens) and None."""
    participant, decision = await seat_for(session, person, dialog_id, action, with_seats=with_seats)
    if not decision:
        await query.answer(texts.refusal(decision.refusal, participant.dialog if participant else None),
                           show_alert=True)
        return None
    return participant


async def dialog_if_allowed(session: AsyncSession, person: Person | None, dialog_id: int, action: Action
                            ) -> tuple[Dialog | None, str | None]:
    """The dialog a conversation is about, and None, when the sender may do `action` there (checked
    on the server, every time); otherwise None and the refusal to show: the rules' reason, naming
    the dialog (its child) only to someone who holds a seat in it."""
    dialog = await q.get_dialog(session, dialog_id) if dialog_id else None
    seat = await q.participant_in(session, person, dialog.id) if dialog else None
    decision = decide(q.seat(seat), dialog.state if dialog else "", action)
    if decision:
        return dialog, None
    return None, texts.refusal(decision.refusal, dialog if seat else None)


async def pick_dialog(message: Message, session: AsyncSession, person: Person | None, flow: str,
                      action: Action) -> Participant | None:
    """The seat to act in, or None after asking (several dialogs) or refusing (none)."""
    seats = [s for s in (await q.seats_of(session, person) if person else []) if s.joined_at]
    usable = [s for s in seats if decide(q.seat(s), s.dialog.state, action)]
    if len(usable) == 1:
        return usable[0]
    if not usable:
        if not seats:
            await message.answer(_(
                "You are not part of a dialog yet. You join with the personal link "
                "your coordinator sends you."))
        else:
            s = seats[-1]
            await message.answer(texts.refusal(decide(q.seat(s), s.dialog.state, action).refusal, s.dialog))
        return None
    labels = dialog_buttons(usable)
    await message.answer(_("Which dialog is it about?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=label, callback_data=PickDialogCb(flow=flow, dialog_id=s.dialog_id).pack())]
        for s, label in zip(usable, labels, strict=True)]))
    return None


def dialog_buttons(seats: list[Participant]) -> list[str]:
    """One button text per seat (not HTML). The child's first name usually tells the dialogs
    apart; a teacher with two children of the same name also sees when each dialog began."""
    names = Counter(child_on_button(s.dialog) for s in seats)
    labels = []
    for s in seats:
        label = _("The dialog about {child}").format(child=child_on_button(s.dialog))
        if names[child_on_button(s.dialog)] > 1:
            label = _("{label}, started {date}").format(label=label, date=fmt_date(s.dialog.created_at, "medium"))
        labels.append(label)
    taken = Counter(labels)  # same name, same day: the dialog's number is the last resort
    return [f"{label} (#{s.dialog_id})" if taken[label] > 1 or s.dialog.state != ACTIVE else label
            for s, label in zip(seats, labels, strict=True)]


def dialog_title(participant: Participant) -> str:
    return child_in_chat(participant.dialog)


def _notice_mark(data: str | None) -> tuple[str, tuple[str, ...]] | None:
    """A button's notice: its callback prefix and the ids it names ("ap:yes:17" -> ("ap", ("17",)))."""
    if not data:
        return None
    prefix, *fields = data.split(":")
    return prefix, tuple(f for f in fields if f.isdigit())


async def drop_notice_buttons(query: CallbackQuery) -> None:
    """Remove the buttons of the notice that was tapped, and only those.

    Notices due together reach a person as one message (bot/scheduler.py `merge`): a
    newcomer to approve beside a meeting invitation. Removing the whole keyboard would
    take the other notices' buttons with it, so only the buttons that name the same
    things as the tapped one (same kind, same ids: "Approve" and "Refuse" of one
    newcomer) go.
    """
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    mark = _notice_mark(query.data)
    rows = [[b for b in row if _notice_mark(b.callback_data) != mark or b.callback_data is None]
            for row in message.reply_markup.inline_keyboard]
    rows = [row for row in rows if row]
    if rows == message.reply_markup.inline_keyboard:
        return
    try:
        await message.edit_reply_markup(reply_markup=InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)
    except TelegramBadRequest:  # already changed by a double tap: nothing to remove
        pass
