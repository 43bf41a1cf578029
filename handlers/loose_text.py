"""Nothing typed is thrown away: text a person sends outside any step.

A parent who writes "Emma sover dårligt igen" straight into the chat means something
by it. Instead of "I'm not sure what you mean", the bot keeps the text (in the
conversation state, encrypted like all of it) and asks what to do with it: keep it
as input (a draft in an area and box of the person's choosing, theirs alone until
they share it), send it to the coordinator, or delete it. More text typed while the
question is open is added to what was kept.
"""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.labels import child_in_chat
from core.notices import Notices, RenderContext, Rendered, renderer
from handlers.choose import Id, dialog_buttons
from handlers.desk_views import open_button
from handlers.home_views import with_next_step
from handlers.seats import NO_DIALOG, alert, needs
from rules.access import CLOSED, Action, decide
from rules.cpr import contains_cpr
from rules.dialog_config import Area, DialogConfig
from rules.roles import COORDINATOR
from services import contact
from storage import inputs
from storage import queries as q
from storage.inputs import BOXES
from storage.models import Participant, Person

router = Router(name="loose_text")

BOX_LIMIT = 10_000  # as a box written in /input (handlers/dialog_input.py)
MESSAGE_LIMIT = contact.MESSAGE_LIMIT  # a message to the coordinator fits one Telegram message with its header


class LooseText(StatesGroup):
    kept = State()  # the text is kept; the question "what shall I do with it?" is open


class LooseCb(CallbackData, prefix="loose"):
    action: str  # input | coord | drop | dialog | area | box
    dialog_id: Id = 0
    area: str = ""
    box: str = ""


def _locale() -> str:
    return I18n.get_current().current_locale


async def _usable_seats(session: AsyncSession, person: Person | None) -> list[Participant]:
    seats = await q.seats_of(session, person) if person is not None else []
    return [s for s in seats if s.joined_at and decide(q.seat(s), s.dialog.state, Action.WRITE_INPUT)]


def _question(seats: list[Participant]) -> tuple[str, InlineKeyboardMarkup]:
    rows = [[InlineKeyboardButton(text=_("📝 Keep it as my input"), callback_data=LooseCb(action="input").pack())]]
    if any(s.role != COORDINATOR for s in seats):
        rows.append([InlineKeyboardButton(text=_("✉️ Send it to the coordinator"),
                                          callback_data=LooseCb(action="coord").pack())])
    rows.append([InlineKeyboardButton(text=_("🗑 No, delete it"), callback_data=LooseCb(action="drop").pack())])
    return _("I have kept what you wrote. What shall I do with it?"), InlineKeyboardMarkup(inline_keyboard=rows)


@router.message(StateFilter(None, LooseText.kept), F.text, ~F.text.startswith("/"))
async def loose_text(message: Message, session: AsyncSession, person: Person | None, state: FSMContext) -> None:
    seats = await _usable_seats(session, person)
    if not seats:
        raise SkipHandler  # not in an open dialog: the fallback answers
    text = message.text.strip()
    if contains_cpr(text):
        await message.answer(texts.cpr_refused())
        return
    kept = (await state.get_data()).get("loose", "") if await state.get_state() == LooseText.kept.state else ""
    joined = f"{kept}\n\n{text}" if kept else text
    if len(joined) > BOX_LIMIT:
        await message.answer(texts.too_long(BOX_LIMIT))
        return
    await state.set_state(LooseText.kept)
    await state.set_data({"loose": joined})
    question, keyboard = _question(seats)
    await message.answer(question, reply_markup=keyboard)


async def _kept(callback_answer: CallbackAnswer, state: FSMContext) -> str | None:
    """The kept text, or None (already used: an old question's button) after saying so."""
    if await state.get_state() != LooseText.kept.state or not (await state.get_data()).get("loose"):
        alert(callback_answer, texts.stale_button())
        return None
    return (await state.get_data())["loose"]


async def _edit(query: CallbackQuery, text: str, rows: list[list[InlineKeyboardButton]] | None = None) -> None:
    """The question turns into the next question (or the answer): one message, no old buttons."""
    await query.message.edit_text(text, reply_markup=InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)


@router.callback_query(LooseCb.filter(F.action.in_({"input", "coord"})), flags=NO_DIALOG)  # offers the seats
async def choose_dialog(query: CallbackQuery, callback_data: LooseCb, session: AsyncSession,
                        person: Person | None, state: FSMContext, dialog_config: DialogConfig,
                        notices: Notices, clock: Clock, callback_answer: CallbackAnswer) -> None:
    if await _kept(callback_answer, state) is None:
        return
    seats = await _usable_seats(session, person)
    if callback_data.action == "coord":
        seats = [s for s in seats if s.role != COORDINATOR]
    if not seats:
        alert(callback_answer, texts.refusal(None))
        return
    if len(seats) == 1:
        picked = LooseCb(action="dialog", dialog_id=seats[0].dialog_id, area=callback_data.action)
        await dialog_picked(query, picked, seats[0], session, state, dialog_config, notices, callback_answer)
        return
    rows = [[InlineKeyboardButton(text=label, callback_data=LooseCb(
        action="dialog", dialog_id=s.dialog_id, area=callback_data.action).pack())]
        for s, label in zip(seats, dialog_buttons(seats), strict=True)]
    await _edit(query, _("Which dialog is it about?"), rows)


@router.callback_query(LooseCb.filter(F.action == "dialog"), flags=needs(Action.WRITE_INPUT))
async def dialog_picked(query: CallbackQuery, callback_data: LooseCb, seat: Participant, session: AsyncSession,
                        state: FSMContext, dialog_config: DialogConfig, notices: Notices, callback_answer: CallbackAnswer) -> None:
    text = await _kept(callback_answer, state)
    if text is None:
        return
    p = seat
    if callback_data.area == "coord":
        await _send_to_coordinator(query, callback_answer, session, p, state, notices, text)
        return
    rows = [[InlineKeyboardButton(text=a.label(_locale()), callback_data=LooseCb(
        action="area", dialog_id=p.dialog_id, area=a.key).pack())] for a in dialog_config.areas]
    await _edit(query, _("Which area is it about?"), rows)


async def _kept_and_area(callback_answer: CallbackAnswer, callback_data: LooseCb, state: FSMContext,
                         config: DialogConfig) -> tuple[str, Area] | None:
    """The kept text and the area the button names; or None after the stale-button answer."""
    text = await _kept(callback_answer, state)
    if text is None:
        return None
    try:
        return text, config.area(callback_data.area)
    except KeyError:
        alert(callback_answer, texts.stale_button())
        return None


@router.callback_query(LooseCb.filter(F.action == "area"), flags=needs(Action.WRITE_INPUT))
async def area_picked(query: CallbackQuery, callback_data: LooseCb, seat: Participant, state: FSMContext,
                      dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    found = await _kept_and_area(callback_answer, callback_data, state, dialog_config)
    if found is None:
        return
    p, (_text, area) = seat, found
    rows = [[InlineKeyboardButton(text=texts.box_title(box), callback_data=LooseCb(
        action="box", dialog_id=p.dialog_id, area=area.key, box=box).pack())] for box in BOXES]
    await _edit(query, _("{area}: which box does it belong in?").format(area=html.quote(area.label(_locale()))), rows)


@router.callback_query(LooseCb.filter(F.action == "box"), flags=needs(Action.WRITE_INPUT))
async def box_picked(query: CallbackQuery, callback_data: LooseCb, seat: Participant, session: AsyncSession,
                     state: FSMContext, dialog_config: DialogConfig, clock: Clock, callback_answer: CallbackAnswer) -> None:
    found = await _kept_and_area(callback_answer, callback_data, state, dialog_config)
    if found is None:
        return
    p, (text, area) = seat, found
    if callback_data.box not in BOXES:
        alert(callback_answer, texts.stale_button())
        return
    now = clock.now()
    round_no = p.dialog.round_no
    entry = await inputs.draft_for_area(session, p, round_no, area.key) \
        or await inputs.start_draft(session, p, round_no, area.key, now)
    if len(inputs.box_text(entry, callback_data.box)) + len(text) + 2 > BOX_LIMIT:
        alert(callback_answer, texts.too_long(BOX_LIMIT))
        return
    inputs.write_box(entry, callback_data.box, text, append=True, now=now)
    await state.clear()
    saved, keyboard = await with_next_step(_(
        "✓ Saved in your draft: {area}, {box}. Only you can see it until you share it.").format(
            area=html.quote(area.label(_locale())), box=texts.box_title(callback_data.box)), session, p, now)
    await query.message.edit_text(saved, reply_markup=keyboard)


async def _send_to_coordinator(query: CallbackQuery, callback_answer: CallbackAnswer, session: AsyncSession,
                               p: Participant, state: FSMContext, notices: Notices, text: str) -> None:
    sent = await contact.send_to_coordinator(session, notices, p, text, key=query.id)
    if sent.outcome == contact.Sent.TOO_LONG:
        alert(callback_answer, texts.too_long(MESSAGE_LIMIT))
        return
    if sent.outcome != contact.Sent.SENT:
        alert(callback_answer, texts.refusal(sent.refusal, p.dialog if sent.refusal else None))
        return
    coordinator = sent.coordinator
    await state.clear()
    await _edit(query, _("✓ Sent to the coordinator, {name}. They will get back to you.").format(
        name=html.quote(coordinator.name or "") if coordinator else ""))


@router.callback_query(LooseCb.filter(F.action == "drop"), flags=NO_DIALOG)
async def drop(query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if await _kept(callback_answer, state) is None:
        return
    await state.clear()
    await _edit(query, _("Deleted. Nothing was kept."))


@renderer("family_message")
async def _family_message(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    # Also before consent and while paused: "I want to talk to the coordinator first" leads here.
    if p is None or not ctx.row.body or p.dialog.state == CLOSED:
        return None
    return Rendered(_("✉️ A message from {who} about {child}:").format(
        who=texts.who(p), child=child_in_chat(p.dialog)) + "\n\n" + html.quote(ctx.row.body),
        InlineKeyboardMarkup(inline_keyboard=[[open_button(p.dialog_id)]]))  # the dialog's card, on the desk
