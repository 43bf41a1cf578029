"""Dialog input (`/input`): an area, three boxes in turn, a private draft, then sharing.

Every answer is written to the author's draft the moment it arrives, and the
step (which box) lives in the persistent FSM, so closing Telegram, a restart or
a crash brings the person back to the same box with what they wrote.
"""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.i18n import fmt_date
from bot.notices import Notices, RenderContext, Rendered, renderer
from handlers import texts
from handlers.answers import NOT_COMMAND
from handlers.choose import Id, PickDialogCb, pick_dialog, seat_for
from handlers.overview import OverviewCb
from handlers.seats import needs
from rules.access import ACTIVE, Action
from rules.cpr import contains_cpr
from rules.dialog_config import DialogConfig
from rules.text import clean_text, is_blank, split_message
from storage import inputs
from storage.inputs import BOXES
from storage.models import InputEntry, Participant, Person

router = Router(name="input")

BOX_LIMIT = 10_000  # characters per box, all messages together


class InputFlow(StatesGroup):
    # data: dialog_id, entry_id, box, append (False right after "edit": replace first)
    writing = State()


class InputCb(CallbackData, prefix="in"):
    action: str  # area|purpose|next|review|edit|home|delete|delete_yes|share|share_yes
    dialog_id: Id
    entry_id: Id = 0
    value: str = ""  # an area key or a box name


def box_question(box: str) -> str:
    return {
        "worries": _("What are you worried about?"),
        "works": _("What works well? (resources)"),
        "next_steps": _("What would you like to happen? (suggested goals)"),
    }[box]


def box_help(box: str) -> str:
    return {
        "worries": _("Write in your own words how you experience it."),
        "works": _("It can be small things – what goes well in everyday life."),
        "next_steps": _("What would make a difference? What should we aim for together?"),
    }[box]


def _locale() -> str:
    return I18n.get_current().current_locale


# ---- entry: /input and the dialog pick -----------------------------------------------------


@router.message(Command("input"))
async def input_command(message: Message, session: AsyncSession, person: Person | None,
                        state: FSMContext, dialog_config: DialogConfig) -> None:
    participant = await pick_dialog(message, session, person, "input", Action.WRITE_INPUT)
    if participant is not None:
        await state.clear()
        await _send_home(message, session, participant, dialog_config)


@router.callback_query(PickDialogCb.filter(F.flow == "input"), flags=needs(Action.WRITE_INPUT))
async def input_picked(query: CallbackQuery, callback_data: PickDialogCb, seat: Participant, session: AsyncSession,
                       person: Person | None, state: FSMContext, dialog_config: DialogConfig) -> None:
    participant = seat
    await query.answer()
    await state.clear()
    await _send_home(query.message, session, participant, dialog_config)


async def _send_home(message: Message, session: AsyncSession, p: Participant, config: DialogConfig) -> None:
    """The person's input in this round, and the areas to write in."""
    round_no = p.dialog.round_no
    entries = await inputs.own_entries(session, p, round_no)
    drafts = {e.area for e in entries if e.shared_at is None and not inputs.is_empty(e)}
    shared = {e.area for e in entries if e.shared_at is not None}
    lines = [_("<b>Your input</b> – the dialog about {child}, round {round}").format(
        child=html.quote(p.dialog.child_name), round=round_no)]
    if drafts:
        lines.append(_("✏️ Drafts only you can see: {areas}").format(
            areas=", ".join(config.area(a).label(_locale()) for a in sorted(drafts, key=_order(config)))))
    if shared:
        lines.append(_("✅ Shared: {areas}").format(
            areas=", ".join(config.area(a).label(_locale()) for a in sorted(shared, key=_order(config)))))
    lines.append(_("Choose an input area to write about:"))
    rows: list[list[InlineKeyboardButton]] = []
    for area in config.areas:
        mark = "✏️ " if area.key in drafts else ("✅ " if area.key in shared else "")
        rows.append([InlineKeyboardButton(
            text=mark + area.label(_locale()),
            callback_data=InputCb(action="area", dialog_id=p.dialog_id, value=area.key).pack())])
    rows.append([InlineKeyboardButton(text=_("Show purpose"), callback_data=InputCb(
        action="purpose", dialog_id=p.dialog_id).pack())])
    if drafts:
        rows.append([InlineKeyboardButton(text=_("Share input with the participants"), callback_data=InputCb(
            action="share", dialog_id=p.dialog_id).pack())])
    await message.answer("\n\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
                         protect_content=True)


def _order(config: DialogConfig):  # type: ignore[no-untyped-def]
    keys = [a.key for a in config.areas]
    return lambda k: keys.index(k) if k in keys else len(keys)


# ---- buttons ---------------------------------------------------------------------------------


@router.callback_query(InputCb.filter(), flags=needs(Action.WRITE_INPUT))
async def input_button(query: CallbackQuery, callback_data: InputCb, seat: Participant, session: AsyncSession,
                       person: Person | None, state: FSMContext, clock: Clock,
                       dialog_config: DialogConfig, notices: Notices) -> None:
    participant = seat
    action, msg = callback_data.action, query.message
    round_no = participant.dialog.round_no

    if action == "purpose":
        await query.answer()
        await msg.answer(_("<b>The purpose of the dialog</b> ({date})\n\n{purpose}").format(
            date=fmt_date(participant.dialog.purpose_updated_at),
            purpose=html.quote(participant.dialog.purpose)), protect_content=True)
        return
    if action == "home":
        await query.answer()
        await state.clear()
        await _send_home(msg, session, participant, dialog_config)
        return
    if action == "area":
        try:
            dialog_config.area(callback_data.value)
        except KeyError:
            await query.answer(texts.stale_button(), show_alert=True)
            return
        await query.answer()
        entry = await inputs.draft_for_area(session, participant, round_no, callback_data.value)
        if entry is not None and not inputs.is_empty(entry):
            await state.clear()
            await _send_review(msg, entry, dialog_config)
            return
        entry = entry or await inputs.start_draft(session, participant, round_no, callback_data.value, clock.now())
        await _ask_box(msg, state, entry, "worries", dialog_config, append=True)
        return
    if action in ("share", "share_yes"):
        await _share(query, session, participant, state, clock, dialog_config, notices,
                     confirmed=action == "share_yes")
        return

    # The rest act on one draft: it must be this person's, still a draft, of this round.
    entry = await inputs.own_entry(session, participant, callback_data.entry_id)
    if entry is None or entry.shared_at is not None or entry.round_no != round_no:
        # Only the author learns that it was shared; a deleted, old or foreign one is just stale.
        await query.answer(_("That input has already been shared and can no longer be changed. "
                             "You can write new input in the same area.")
                           if entry is not None and entry.shared_at is not None else texts.stale_button(),
                           show_alert=True)
        return
    if action == "next":
        current = await state.get_data()
        if await state.get_state() != InputFlow.writing.state or current.get("entry_id") != entry.id \
                or current.get("box") != callback_data.value:
            await query.answer(texts.stale_button(), show_alert=True)
            return
        await query.answer()
        index = BOXES.index(callback_data.value)
        if index + 1 < len(BOXES):
            await _ask_box(msg, state, entry, BOXES[index + 1], dialog_config, append=True)
        else:
            await state.clear()
            await _send_review(msg, entry, dialog_config)
        return
    if action == "review":
        await query.answer()
        await state.clear()
        await _send_review(msg, entry, dialog_config)
        return
    if action == "edit" and callback_data.value in BOXES:
        await query.answer()
        await _ask_box(msg, state, entry, callback_data.value, dialog_config, append=False)
        return
    if action == "delete":
        await query.answer()
        await msg.answer(_("Delete your draft in {area}? What you wrote there will be gone.").format(
            area=dialog_config.area(entry.area).label(_locale())),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[
                InlineKeyboardButton(text=_("Yes, delete"), callback_data=InputCb(
                    action="delete_yes", dialog_id=entry.dialog_id, entry_id=entry.id).pack()),
                InlineKeyboardButton(text=_("No, keep it"), callback_data=InputCb(
                    action="review", dialog_id=entry.dialog_id, entry_id=entry.id).pack()),
            ]]))
        return
    if action == "delete_yes":
        await query.answer()
        await inputs.delete_draft(session, entry)
        await state.clear()
        await msg.edit_text(_("The draft is deleted."))
        await _send_home(msg, session, participant, dialog_config)
        return
    await query.answer(texts.stale_button(), show_alert=True)


# ---- the three boxes -------------------------------------------------------------------------


def _box_keyboard(entry: InputEntry, box: str, has_text: bool) -> InlineKeyboardMarkup:
    last = BOXES.index(box) == len(BOXES) - 1
    forward = (_("Done – see the draft") if last else _("Next ➡️")) if has_text else \
        (_("Skip – see the draft") if last else _("Skip ➡️"))
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=forward, callback_data=InputCb(
            action="next", dialog_id=entry.dialog_id, entry_id=entry.id, value=box).pack())],
        [InlineKeyboardButton(text=_("See the draft"), callback_data=InputCb(
            action="review", dialog_id=entry.dialog_id, entry_id=entry.id).pack())],
    ])


async def _ask_box(message: Message, state: FSMContext, entry: InputEntry, box: str,
                   config: DialogConfig, *, append: bool) -> None:
    await state.set_state(InputFlow.writing)
    await state.set_data({"dialog_id": entry.dialog_id, "entry_id": entry.id, "box": box, "append": append})
    step = BOXES.index(box) + 1
    text = _("<b>{area}</b> · step {step} of 3\n\n<b>{title}</b>\n{question}\n<i>{help}</i>").format(
        area=html.quote(config.area(entry.area).label(_locale())), step=step, title=texts.box_title(box),
        question=box_question(box), help=box_help(box))
    current = inputs.box_text(entry, box)
    if current and not append:
        text += "\n\n" + _("What you wrote before is below. Your next message replaces it.")
    elif current:
        text += "\n\n" + _("You have already written something here; what you send now is added.")
    text += "\n\n" + _("You can send several messages. Everything is saved as a draft only you can see.")
    await message.answer(text, reply_markup=_box_keyboard(entry, box, bool(current)), protect_content=True)
    if current and not append:
        for chunk in split_message(html.quote(current)):
            await message.answer(chunk, protect_content=True)


@router.message(InputFlow.writing, NOT_COMMAND)
async def box_answer(message: Message, session: AsyncSession, person: Person | None,
                     state: FSMContext, clock: Clock) -> None:
    data = await state.get_data()
    participant, decision = await seat_for(session, person, int(data.get("dialog_id", 0)), Action.WRITE_INPUT)
    if not decision:
        await state.clear()
        await message.answer(texts.refusal(decision.refusal, participant.dialog if participant else None))
        return
    entry = await inputs.own_draft(session, participant, int(data.get("entry_id", 0)))
    if entry is None:
        await state.clear()
        await message.answer(_("That draft no longer exists. Type /input to start again."))
        return
    if message.text is None:
        await message.answer(texts.text_expected())
        return
    text = clean_text(message.text)
    if is_blank(text):
        await message.answer(texts.empty_answer())
        return
    if contains_cpr(text):
        await message.answer(texts.cpr_refused())
        return
    box, append = data["box"], bool(data.get("append", True))
    before = inputs.box_text(entry, box) if append else ""
    if len(before) + len(text) + 2 > BOX_LIMIT:
        await message.answer(_(
            "There is no room for that in this box (at most {limit} characters in all). "
            "Nothing was added. Shorten it, or go on to the next box.").format(limit=f"{BOX_LIMIT:,}".replace(",", ".")))
        return
    inputs.write_box(entry, box, text, append=append, now=clock.now())
    if not append:
        await state.update_data(append=True)
    await message.answer(
        _("✓ Saved in your draft ({count} characters in this box). Write more, or go on.").format(
            count=len(inputs.box_text(entry, box))),
        reply_markup=_box_keyboard(entry, box, True))


# ---- review and share ------------------------------------------------------------------------


def render_entry(entry: InputEntry) -> str:
    parts = []
    for box in BOXES:
        body = inputs.box_text(entry, box)
        parts.append(f"<b>{texts.box_title(box)}</b>\n" + (html.quote(body) if body else _("<i>(empty)</i>")))
    return "\n\n".join(parts)


async def _send_review(message: Message, entry: InputEntry, config: DialogConfig) -> None:
    head = _("<b>{area}</b> – your draft (only you can see it)").format(
        area=html.quote(config.area(entry.area).label(_locale())))

    def b(text: str, action: str, value: str = "") -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=InputCb(
            action=action, dialog_id=entry.dialog_id, entry_id=entry.id, value=value).pack())

    keyboard = InlineKeyboardMarkup(inline_keyboard=[
        [b(_("Edit: {box}").format(box=texts.box_title(box)), "edit", box)] for box in BOXES] + [
        [b(_("Another input area"), "home")],
        [b(_("Delete the draft"), "delete")],
        [b(_("Share input with the participants"), "share")],
    ])
    chunks = split_message(f"{head}\n\n{render_entry(entry)}")
    for chunk in chunks[:-1]:
        await message.answer(chunk, protect_content=True)
    await message.answer(chunks[-1], reply_markup=keyboard, protect_content=True)


async def _share(query: CallbackQuery, session: AsyncSession, participant: Participant, state: FSMContext,
                 clock: Clock, config: DialogConfig, notices: Notices, *, confirmed: bool) -> None:
    dialog = participant.dialog
    drafts = [e for e in await inputs.drafts_of(session, participant, dialog.round_no) if not inputs.is_empty(e)]
    if not drafts:
        await query.answer(_("You have no drafts with text to share."), show_alert=True)
        return
    await query.answer()
    areas = ", ".join(config.area(e.area).label(_locale()) for e in drafts)
    if not confirmed:
        await query.message.answer(_(
            "You are about to share your input in: {areas}.\n\n"
            "Then the other participants can read it, with your name and the date. "
            "Shared input cannot be changed, but you can always add new input.").format(areas=html.quote(areas)),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[
                InlineKeyboardButton(text=_("Yes, share now"), callback_data=InputCb(
                    action="share_yes", dialog_id=dialog.id).pack()),
                InlineKeyboardButton(text=_("Not yet"), callback_data=InputCb(
                    action="home", dialog_id=dialog.id).pack()),
            ]]))
        return
    now = clock.now()
    shared = await inputs.share_drafts(session, participant, dialog.round_no, now)
    await state.clear()
    await query.message.edit_reply_markup(reply_markup=None)
    await query.message.answer(_("Your input is shared with the other participants ({areas}).").format(
        areas=html.quote(", ".join(config.area(e.area).label(_locale()) for e in shared))))
    last = max(e.id for e in shared)
    for other in dialog.participants:
        if other.id != participant.id and other.joined_at is not None:
            await notices.add(session, to=other, kind="input_shared", key=f"shared:{last}:{other.id}",
                              payload={"participant_id": participant.id, "round_no": dialog.round_no})


@renderer("input_shared")
async def _input_shared(ctx: RenderContext, payload: dict) -> Rendered | None:
    author = await ctx.session.get(Participant, payload["participant_id"])
    if author is None or author.dialog.state != ACTIVE:
        return None
    dialog = author.dialog
    return Rendered(
        _("{who} has shared their input in the dialog about {child}.").format(
            who=texts.who(author), child=html.quote(dialog.child_name)),
        InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
            text=_("Read it"), callback_data=OverviewCb(dialog_id=dialog.id, round_no=payload["round_no"],
                                                 action="read").pack())]]))
