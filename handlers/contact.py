"""Reach the coordinator: the "📞 Contact the coordinator" button, a message to the coordinator,
and the coordinator's own contact details (/kontakt).

- **The button** (`contact_button(dialog_id)`, any flow may show it): who the coordinator is,
  their phone, e-mail and when they can be reached, and "Write a message to the coordinator".
  Only someone with a seat in that dialog gets it (`needs(Action.VIEW_PURPOSE)`: a consent giver
  before the family has said yes too, so "I want to talk to the coordinator first" can use it).
- **A message to the coordinator**: the next text the person sends reaches the coordinator as a
  notice (services/contact.py `send_to_coordinator`, the same path as text typed outside a step).
- **/kontakt**: a coordinator enters their phone, e-mail and hours, one step each, each can be
  skipped or removed; bad input is answered and changes nothing. Anyone else gets the card of
  their coordinator. A newly registered coordinator is offered the same steps.

What is shown is in handlers/contact_views.py.
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.notices import Notices
from handlers.answers import NOT_COMMAND, read_answer
from handlers.choose import PickDialogCb, pick_dialog, seat_for
from handlers.contact_views import (
    ContactAction,
    ContactCb,
    DetailsAction,
    DetailsCb,
    ask_email,
    ask_hours,
    ask_phone,
    bad_email,
    bad_phone,
    contact_button,
    contact_card,
    contact_lines,
    details_saved,
    details_summary,
    help_lines,
    is_coordinator_refusal,
    sent_reply,
    step_keyboard,
    talk_first_reply,
    write_prompt,
)
from handlers.seats import NO_DIALOG, alert, needs
from rules import contact as contact_rules
from rules.access import Action, Refusal
from rules.roles import COORDINATOR, STAFF_COORDINATOR
from services import contact
from storage.models import Participant, Person

router = Router(name="contact")

__all__ = ["ContactCb", "DetailsCb", "contact_button", "contact_lines", "help_lines", "router", "talk_first_reply"]


class WriteFlow(StatesGroup):
    message = State()  # the next text goes to the coordinator of the dialog in the data


class DetailsFlow(StatesGroup):
    phone = State()
    email = State()
    hours = State()


# ---- the button: who the coordinator is and how to reach them ---------------------------------


@router.callback_query(ContactCb.filter(F.action == ContactAction.SHOW), flags=needs(Action.VIEW_PURPOSE))
async def show_contact(query: CallbackQuery, seat: Participant, session: AsyncSession) -> None:
    text, keyboard = contact_card(await contact.coordinator_of(session, seat.dialog), seat.dialog_id)
    await query.message.answer(text, reply_markup=keyboard)


@router.callback_query(ContactCb.filter(F.action == ContactAction.WRITE), flags=needs(Action.VIEW_PURPOSE))
async def write_asked(query: CallbackQuery, seat: Participant, session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if seat.role == COORDINATOR:
        alert(callback_answer, is_coordinator_refusal())
        return
    await state.set_state(WriteFlow.message)
    await state.set_data({"dialog_id": seat.dialog_id})
    await query.message.answer(write_prompt(await contact.coordinator_of(session, seat.dialog)))


@router.message(WriteFlow.message, NOT_COMMAND)
async def write_message(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                        notices: Notices) -> None:
    text = await read_answer(message, contact.MESSAGE_LIMIT)
    if text is None:
        return
    # The seat is checked again now: the dialog may have closed since the button was tapped.
    seat, decision = await seat_for(session, person, (await state.get_data()).get("dialog_id", 0),
                                    Action.VIEW_PURPOSE)
    if not decision:
        await state.clear()
        await message.answer(texts.refusal(decision.refusal, seat.dialog if seat else None))
        return
    sent = await contact.send_to_coordinator(session, notices, seat, text, key=str(message.message_id))
    if sent.outcome != contact.Sent.SENT:
        await state.clear()
        await message.answer(texts.refusal(sent.refusal, seat.dialog if sent.refusal else None))
        return
    await state.clear()
    await message.answer(sent_reply(sent.coordinator))


# ---- /kontakt ----------------------------------------------------------------------------------


@router.message(Command("kontakt", "contact"))
async def contact_command(message: Message, session: AsyncSession, person: Person | None,
                          state: FSMContext) -> None:
    if person is not None and person.staff_role == STAFF_COORDINATOR:
        await state.clear()
        await _start_details(message, person, state)
        return
    seat = await pick_dialog(message, session, person, "kontakt", Action.VIEW_PURPOSE)
    if seat is not None:
        text, keyboard = contact_card(await contact.coordinator_of(session, seat.dialog), seat.dialog_id)
        await message.answer(text, reply_markup=keyboard)


@router.callback_query(PickDialogCb.filter(F.flow == "kontakt"), flags=needs(Action.VIEW_PURPOSE))
async def contact_picked(query: CallbackQuery, seat: Participant, session: AsyncSession) -> None:
    text, keyboard = contact_card(await contact.coordinator_of(session, seat.dialog), seat.dialog_id)
    await query.message.edit_text(text, reply_markup=keyboard)


# ---- the coordinator's contact details: phone, e-mail, hours ----------------------------------


async def _start_details(message: Message, person: Person, state: FSMContext) -> None:
    await state.set_state(DetailsFlow.phone)
    await message.answer(details_summary(person))
    await message.answer(ask_phone(person), reply_markup=step_keyboard("phone", person.contact_phone))


@router.callback_query(DetailsCb.filter(F.action == DetailsAction.START), flags=NO_DIALOG)  # one's own details
async def details_start(query: CallbackQuery, person: Person | None, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if person is None or person.staff_role != STAFF_COORDINATOR:
        alert(callback_answer, texts.refusal(Refusal.NOT_COORDINATOR))
        return
    await query.message.edit_reply_markup(reply_markup=None)
    await state.clear()
    await _start_details(query.message, person, state)


async def _next_step(message: Message, person: Person, state: FSMContext) -> None:
    """After the phone the e-mail, after the e-mail the hours, after the hours: done."""
    step = await state.get_state()
    if step == DetailsFlow.phone.state:
        await state.set_state(DetailsFlow.email)
        await message.answer(ask_email(person), reply_markup=step_keyboard("email", person.contact_email))
    elif step == DetailsFlow.email.state:
        await state.set_state(DetailsFlow.hours)
        await message.answer(ask_hours(person), reply_markup=step_keyboard("hours", person.contact_hours))
    else:
        await state.clear()
        await message.answer(details_saved(person))


async def _save_detail(message: Message, session: AsyncSession, person: Person, state: FSMContext, field: str,
                       value: str | None, bad: Callable[[], str]) -> None:
    """Keep a typed phone number or e-mail address (`value`: as the rules read it, None: unreadable)."""
    if value is None:
        await message.answer(bad(), reply_markup=step_keyboard(field, getattr(person, f"contact_{field}")))
        return
    await contact.set_details(session, person, **{field: value})
    await _next_step(message, person, state)


@router.message(DetailsFlow.phone, NOT_COMMAND)
async def details_phone(message: Message, session: AsyncSession, person: Person | None, state: FSMContext) -> None:
    if await _coordinator(message, person, state):
        await _save_detail(message, session, person, state, "phone", contact_rules.phone(message.text or ""),
                           bad_phone)


@router.message(DetailsFlow.email, NOT_COMMAND)
async def details_email(message: Message, session: AsyncSession, person: Person | None, state: FSMContext) -> None:
    if await _coordinator(message, person, state):
        await _save_detail(message, session, person, state, "email", contact_rules.email(message.text or ""),
                           bad_email)


@router.message(DetailsFlow.hours, NOT_COMMAND)
async def details_hours(message: Message, session: AsyncSession, person: Person | None, state: FSMContext) -> None:
    if not await _coordinator(message, person, state):
        return
    hours = await read_answer(message, contact_rules.HOURS_LIMIT)
    if hours is None:
        return
    await contact.set_details(session, person, hours=hours)
    await _next_step(message, person, state)


# The buttons name no dialog: they are about the tapper's own details, in the step they are at.
@router.callback_query(DetailsCb.filter(F.action.in_({DetailsAction.SKIP, DetailsAction.CLEAR})), flags=NO_DIALOG)
async def details_button(query: CallbackQuery, callback_data: DetailsCb, session: AsyncSession,
                         person: Person | None, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    step = await state.get_state()
    fields = {DetailsFlow.phone.state: "phone", DetailsFlow.email.state: "email", DetailsFlow.hours.state: "hours"}
    if fields.get(step) != callback_data.step or person is None or person.staff_role != STAFF_COORDINATOR:
        alert(callback_answer, texts.stale_button())
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if callback_data.action == DetailsAction.CLEAR:
        await contact.set_details(session, person, **{fields[step]: None})
    await _next_step(query.message, person, state)


async def _coordinator(message: Message, person: Person | None, state: FSMContext) -> bool:
    """Still a coordinator (the step may outlive a change of role): otherwise the steps end."""
    if person is not None and person.staff_role == STAFF_COORDINATOR:
        return True
    await state.clear()
    await message.answer(texts.refusal(Refusal.NOT_COORDINATOR))
    return False
