"""Privacy: consent both ways (/samtykke), approving late participants, data rights
(/mine_data, /slet_mine_data) and closing a dialog (/luk).

- **Withdrawal** is a consent answer ("withdrawn") stored like the others, with the
  text the person confirmed. It pauses an active dialog at once (rules/consent.py);
  rules/access.py then refuses everyone's content actions, and the outbox scheduler
  sends nothing about the dialog but consent and membership notices
  (`rules.access.notice_goes_out`). Consenting again (the ordinary consent card,
  shown from /samtykke) resumes it, and everyone hears that it continues.
- **A participant added after the start** waits for the family: every consent giver
  approves (one refusal revokes the invitation). The link answers "waiting" until then.
- **Data rights**: a JSON file and a readable PDF of everything stored about the
  person; erasure keeps what the municipality must keep (KEEP_ON_ERASE) without the
  name, and makes the person a stranger to the bot.
- **Closing** keeps the data for the retention period; nobody sees the content after.

The use cases are in services/consent.py and services/privacy.py; what is shown, and the
notices, in handlers/privacy_views.py.
"""

from __future__ import annotations

import asyncio
import json

from aiogram import Bot, F, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.config import Settings
from core.i18n import fmt_datetime
from core.labels import child_in_chat, child_on_button
from core.notices import Notices
from handlers.answers import NOT_COMMAND, read_answer, use_the_buttons
from handlers.choose import PickDialogCb, dialog_if_allowed, drop_notice_buttons, pick_dialog
from handlers.join_views import DataInfoCb, card_of
from handlers.privacy_views import (
    ApproveAnswer,
    ApproveCb,
    CloseAction,
    CloseCb,
    ConsentViewAction,
    ConsentViewCb,
    EraseAction,
    EraseCb,
    button,
    coordinator_refusal,
    erase_text,
    locale,
    pdf_labels,
    privacy_text,
    retention_period,
    show_consent,
    withdraw_text,
)
from handlers.seats import NO_DIALOG, alert, needs
from reports import my_data
from rules.access import PAUSED, Action
from rules.dialog_config import DialogConfig
from rules.roles import STAFF_COORDINATOR
from services import consent, privacy
from storage import queries as q
from storage.models import Dialog, Participant, Person

router = Router(name="privacy")

__all__ = ["ApproveCb", "CloseCb", "ConsentViewCb", "EraseCb", "router"]

CLOSE_REASON_LIMIT = 500


class CloseFlow(StatesGroup):
    choose = State()
    reason = State()
    confirm = State()


async def _drop_buttons(query: CallbackQuery) -> None:
    if query.message:
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except TelegramBadRequest:
            pass


# ==== /samtykke: what you consented to, and withdrawing it =====================================


@router.message(Command("samtykke"))
async def consent_command(message: Message, session: AsyncSession, person: Person | None,
                          state: FSMContext) -> None:
    seat = await pick_dialog(message, session, person, "samtykke", Action.CONSENT)
    if seat is not None:
        await state.clear()
        await show_consent(message, session, seat)


@router.callback_query(PickDialogCb.filter(F.flow == "samtykke"), flags=needs(Action.CONSENT))
async def consent_picked(query: CallbackQuery, seat: Participant, session: AsyncSession) -> None:
    await show_consent(query.message, session, seat)


@router.callback_query(DataInfoCb.filter(), flags=needs(Action.VIEW_PURPOSE))
async def data_info(query: CallbackQuery, seat: Participant, session: AsyncSession, settings: Settings) -> None:
    """"Read more about your data": the fuller privacy text (the card's buttons stay)."""
    coordinator = await session.get(Person, seat.dialog.coordinator_id)
    await query.message.answer(privacy_text(settings, coordinator), protect_content=True)


async def _nothing_to_withdraw(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    alert(callback_answer, _("Your consent is not given at the moment, so there is nothing to withdraw."))
    await _drop_buttons(query)


@router.callback_query(ConsentViewCb.filter(F.action == ConsentViewAction.KEEP), flags=needs(Action.CONSENT))
async def consent_kept(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _("Good – your consent stands.")
    await _drop_buttons(query)


@router.callback_query(ConsentViewCb.filter(F.action == ConsentViewAction.WITHDRAW), flags=needs(Action.CONSENT))
async def consent_withdraw_asked(query: CallbackQuery, seat: Participant, session: AsyncSession, callback_answer: CallbackAnswer) -> None:
    if not await consent.is_given(session, seat):
        await _nothing_to_withdraw(query, callback_answer)
        return
    dialog = seat.dialog
    await query.message.answer(withdraw_text(dialog), protect_content=True,
                               reply_markup=InlineKeyboardMarkup(inline_keyboard=[
                                   button(_("Yes, withdraw my consent"), ConsentViewCb(
                                       action=ConsentViewAction.WITHDRAW_YES, dialog_id=dialog.id)),
                                   button(_("No, keep my consent"), ConsentViewCb(
                                       action=ConsentViewAction.KEEP, dialog_id=dialog.id)),
                               ]))


@router.callback_query(ConsentViewCb.filter(F.action == ConsentViewAction.WITHDRAW_YES),
                       flags=needs(Action.CONSENT))
async def consent_withdrawn(query: CallbackQuery, seat: Participant, session: AsyncSession, person: Person,
                            clock: Clock, bot: Bot, notices: Notices, callback_answer: CallbackAnswer) -> None:
    now = clock.now()
    done = await consent.withdraw(session, notices, seat, card=card_of(session), text_shown=withdraw_text(seat.dialog),
                                  locale=locale(), now=now)
    if not done.withdrawn:
        await _nothing_to_withdraw(query, callback_answer)
        return
    await _drop_buttons(query)
    if done.state_after == PAUSED:
        reply = _("Your consent was withdrawn {when}. The dialog about {child} is paused, and the others "
                  "no longer have access. Your coordinator has been told.")
    else:
        reply = _("Your consent was withdrawn {when}. The dialog about {child} does not start without it. "
                  "Your coordinator has been told.")
    reply = reply.format(when=fmt_datetime(now), child=child_in_chat(done.dialog))
    await bot.send_message(person.telegram_id, reply + "\n\n" + _("If you change your mind, type /samtykke."))


# ==== a participant added after the start: the family approves ====================================


@router.callback_query(ApproveCb.filter(), flags=needs(Action.APPROVE))
async def approval_answer(
    query: CallbackQuery, callback_data: ApproveCb, session: AsyncSession, person: Person,
    clock: Clock, notices: Notices, settings: Settings, callback_answer: CallbackAnswer,
) -> None:
    now = clock.now()
    result = await consent.approve(session, notices, settings, person, callback_data.participant_id,
                                   callback_data.answer == ApproveAnswer.YES, now=now)
    outcome, newcomer, dialog = result.outcome, result.newcomer, result.dialog
    if outcome == consent.Approved.STALE:
        alert(callback_answer, texts.stale_button())
        return
    if outcome == consent.Approved.REFUSED:
        alert(callback_answer, texts.refusal(result.refusal, result.named))
        return
    if outcome in (consent.Approved.DECIDED, consent.Approved.ANSWERED):
        alert(callback_answer, _("That has already been decided.") if outcome == consent.Approved.DECIDED
                               else _("You have already answered."))
        await drop_notice_buttons(query)
        return
    await drop_notice_buttons(query)
    who, child = texts.who(newcomer), child_in_chat(dialog)
    if outcome == consent.Approved.APPROVED:
        reply = _("Thank you. {who} can now take part in the dialog about {child}.").format(who=who, child=child)
    elif outcome == consent.Approved.NOT_APPROVED:
        reply = _("You have said no to {who}. The invitation is withdrawn, and the coordinator is told.").format(
            who=who)
    else:
        reply = _("Thank you. {who} gets in when {names} has also approved.").format(
            who=who, names=", ".join(html.quote(a.name) for a in result.waiting))
    await query.message.answer(reply)


# ==== /mine_data ================================================================================


@router.message(Command("mine_data"))
async def my_data_command(message: Message, session: AsyncSession, person: Person | None, clock: Clock,
                          dialog_config: DialogConfig, settings: Settings) -> None:
    if person is None:
        await message.answer(_("Samspil has no data about you."))
        return
    now = clock.now()
    data = await privacy.export(session, person, now)
    stamp = now.astimezone(settings.tz).strftime("%Y-%m-%d")
    raw = json.dumps(data, ensure_ascii=False, indent=2).encode()
    pdf = await asyncio.to_thread(my_data.render_my_data, data, pdf_labels(dialog_config, now))
    await message.answer(_(
        "Here is everything Samspil stores about you and everything you have written: "
        "a file for computers (JSON) and a readable PDF.\n\n"
        "Keep them somewhere safe – they contain personal data."))
    await message.answer_document(BufferedInputFile(raw, filename=f"samspil-mine-data-{stamp}.json"),
                                  protect_content=True)
    await message.answer_document(BufferedInputFile(pdf, filename=f"samspil-mine-data-{stamp}.pdf"),
                                  protect_content=True)


# ==== /slet_mine_data ==============================================================================


@router.message(Command("slet_mine_data"))
async def erase_command(message: Message, session: AsyncSession, person: Person | None,
                        settings: Settings, state: FSMContext) -> None:
    if person is None:
        await message.answer(_("Samspil has no data about you."))
        return
    await state.clear()
    if not await privacy.may_erase(session, person):
        await message.answer(coordinator_refusal())
        return
    await message.answer(erase_text(settings.keep_on_erase_set), reply_markup=InlineKeyboardMarkup(inline_keyboard=[
        button(_("Yes, erase my data"), EraseCb(action=EraseAction.YES)),
        button(_("No, keep my data"), EraseCb(action=EraseAction.NO)),
    ]))


@router.callback_query(EraseCb.filter(F.action == EraseAction.NO), flags=NO_DIALOG)
async def erase_declined(query: CallbackQuery, person: Person | None, callback_answer: CallbackAnswer) -> None:
    if person is None:
        alert(callback_answer, texts.stale_button())
        return
    await _drop_buttons(query)
    await query.message.answer(_("Nothing was erased."))


@router.callback_query(EraseCb.filter(F.action == EraseAction.YES), flags=NO_DIALOG)
async def erase_confirmed(query: CallbackQuery, session: AsyncSession, person: Person | None, clock: Clock,
                          settings: Settings, notices: Notices, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if person is None:
        alert(callback_answer, texts.stale_button())
        return
    await _drop_buttons(query)
    if not await privacy.may_erase(session, person):
        alert(callback_answer, coordinator_refusal())
        return
    await state.clear()
    await privacy.erase(session, notices, person, now=clock.now(), keep=settings.keep_on_erase_set,
                        text_shown=erase_text(settings.keep_on_erase_set), locale=locale(), actor_id=person.id)
    await query.message.answer(_(
        "Your data has been erased. Samspil no longer knows you.\n\nThank you for taking part."))


# ==== /luk: closing a dialog ========================================================================


def _is_coordinator(person: Person | None) -> bool:
    return person is not None and person.staff_role == STAFF_COORDINATOR


@router.message(Command("luk"))
async def close_command(message: Message, session: AsyncSession, person: Person | None, state: FSMContext) -> None:
    if not _is_coordinator(person):
        await message.answer(_("That command is for coordinators (tovholdere). Type /hjaelp to see what you can do."))
        return
    await state.clear()
    dialogs = [d for d in await q.coordinator_dialogs(session, person)
               if (await dialog_if_allowed(session, person, d.id, Action.CLOSE))[0]]
    if not dialogs:
        # staff: the coordinator closes a dialog (/luk)
        await message.answer(_("You have no open dialogs to close."))
        return
    if len(dialogs) == 1:
        await _ask_reason(message, state, dialogs[0])
        return
    await state.set_state(CloseFlow.choose)
    # staff: the coordinator closes a dialog (/luk)
    await message.answer(_("Which dialog do you want to close?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=[
        button(f"{child_on_button(d)} (#{d.id})", CloseCb(action=CloseAction.DIALOG, dialog_id=d.id)) for d in dialogs]))


async def _ask_reason(message: Message, state: FSMContext, dialog: Dialog) -> None:
    await state.set_state(CloseFlow.reason)
    await state.set_data({"dialog_id": dialog.id})
    # staff: the coordinator closes a dialog (/luk)
    await message.answer(_(
        "<b>Close the dialog about {child}</b>\n\n"
        "Why is the dialog being closed? Write a short reason, e.g. \"The goals have been reached.\"\n"
        "The participants are told the reason.").format(child=child_in_chat(dialog)))


@router.message(CloseFlow.choose, NOT_COMMAND)
@router.message(CloseFlow.confirm, NOT_COMMAND)
async def close_choose_typed(message: Message) -> None:
    await message.answer(use_the_buttons())


@router.message(CloseFlow.reason, NOT_COMMAND)
async def close_reason(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                       settings: Settings) -> None:
    dialog, refused = await dialog_if_allowed(session, person, int((await state.get_data()).get("dialog_id", 0)),
                                              Action.CLOSE)
    if dialog is None:
        await state.clear()
        await message.answer(refused)
        return
    reason = await read_answer(message, CLOSE_REASON_LIMIT)
    if reason is None:
        return
    await state.set_state(CloseFlow.confirm)
    await state.update_data(reason=reason)
    # staff: the coordinator closes a dialog (/luk)
    await message.answer(_(
        "<b>Close the dialog about {child}?</b>\n\n<b>Reason:</b> {reason}\n\n"
        "Everyone in the dialog is told that it is closed, and why. Afterwards nobody can see its content "
        "in Samspil. The data is kept for {period}, as the law requires, and then deleted.").format(
            child=child_in_chat(dialog), reason=html.quote(reason), period=retention_period(settings)),
        protect_content=True,
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[
            button(_("Yes, close the dialog"), CloseCb(action=CloseAction.YES, dialog_id=dialog.id)),
            button(_("Cancel"), CloseCb(action=CloseAction.NO, dialog_id=dialog.id)),
        ]))


@router.callback_query(CloseCb.filter(F.action == CloseAction.DIALOG), flags=needs(Action.CLOSE))
async def close_dialog_chosen(query: CallbackQuery, seat: Participant, state: FSMContext) -> None:
    await _drop_buttons(query)
    await _ask_reason(query.message, state, seat.dialog)


@router.callback_query(CloseCb.filter(F.action == CloseAction.NO), flags=needs(Action.CLOSE))
async def close_cancelled(query: CallbackQuery, state: FSMContext) -> None:
    await _drop_buttons(query)
    await state.clear()
    # staff: the coordinator closes a dialog (/luk)
    await query.message.answer(_("Cancelled. The dialog is still open."))


@router.callback_query(CloseCb.filter(F.action == CloseAction.YES), flags=needs(Action.CLOSE))
async def close_confirmed(query: CallbackQuery, seat: Participant, session: AsyncSession, state: FSMContext,
                          clock: Clock, notices: Notices, callback_answer: CallbackAnswer) -> None:
    await _drop_buttons(query)
    data = await state.get_data()
    closed = None
    if await state.get_state() == CloseFlow.confirm.state and data.get("dialog_id") == seat.dialog_id \
            and data.get("reason"):
        closed = await privacy.close(session, notices, seat.dialog_id, data["reason"], clock.now())
    if closed is None:
        alert(callback_answer, texts.stale_button())
        return
    await state.clear()
    # staff: the coordinator closes a dialog (/luk)
    await query.message.answer(_(
        "The dialog about {child} is closed, and everyone in it has been told. "
        "You can still see it under /dialoger.").format(child=child_in_chat(closed)))
