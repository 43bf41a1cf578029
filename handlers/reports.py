"""PDF documents in the bot: the overview ("Hent PDF"), the referat, the referral, the invitation letter.

- **Hent PDF** (a button under /oversigt): the round's shared input as a PDF, to
  anyone who may read the overview (checked again here), protect_content.
- **/referat** (coordinator): the minutes of the dialog's latest closed meeting;
  with no meeting closed yet, the state of the current round, marked preliminary.
  When a meeting is closed, reports.referat.queue_referat sends it to everyone.
- **/indstilling** (coordinator): a referral to PPR or Sundhedstjenesten. Every
  consent giver is asked (Godkend / Afvis, and they can see the draft first);
  the document is produced only when all have approved, one refusal stops it,
  and the coordinator gets it to send on. Every request is kept as history.
- **/brev** (coordinator): a one-page invitation letter with the personal link
  as a QR code, for e-Boks or paper, for a participant who has not joined yet.
  The link is stored only as a hash, so the letter carries a *fresh* link and
  the one given earlier stops working (the coordinator is told so first).

Read-only documents (Hent PDF, /referat, the referral draft) go through the outbox
(services/documents.py `queue`): decided in the update's transaction with the data as it
is then (stored encrypted), made into a PDF by the scheduler in a worker thread (`MAKERS`,
the `document` renderer below), so a long report holds up neither the event loop nor the
next update, and sent like every notice (retried on 429 and 5xx, exactly once). The letter
and an approved referral are the direct answer to the tap. Handlers here parse, authorize
(`needs`: handlers/seats.py), call one use case (services/documents.py,
services/referral.py) and render (reports_views.py). Every button names things by id only;
the sender's seat is looked up on the server each time.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.config import Settings
from core.notices import Attachment, Notices, RenderContext, Rendered, renderer
from handlers import reports_views as views
from handlers.choose import PickDialogCb, drop_notice_buttons, is_id, pick_dialog
from handlers.reports_views import (  # noqa: F401 (the callback data, imported from here by tests)
    LetterAction,
    LetterCb,
    OverviewPdfCb,
    RefAction,
    RefAnswer,
    RefAnswerCb,
    RefCb,
)
from handlers.seats import alert, answer_now, needs
from reports import referrals as rf
from reports.common import localized, render
from reports.letter import letter_data, letter_filename, render_letter
from reports.overview import render_overview
from reports.referat import render_referat
from reports.referral_doc import referral_filename, render_referral
from rules.access import Action
from rules.dialog_config import DialogConfig
from rules.roles import STAFF_COORDINATOR
from services import documents as docs
from services import referral as referrals
from storage import documents
from storage.models import Document, Participant, Person

router = Router(name="reports")

# The invitation letter and the produced referral are made to leave Telegram (e-Boks,
# paper, secure mail to PPR), so the coordinator must be able to save them: they go to
# the coordinator's own chat without protect_content. Everything else is protected.
PASS_ON_PROTECT = False

MANAGE = needs(Action.MANAGE)
INVITE = needs(Action.INVITE)


def _locale() -> str:
    return I18n.get_current().current_locale


# ---- documents sent through the outbox ------------------------------------------------------------

# How a stored document's data becomes a PDF (looked up when it is made, by the scheduler).
MAKERS: dict[str, Callable[[Any], bytes]] = {
    "overview": lambda data: render_overview(data),
    "referat": lambda data: render_referat(data),
    "referral": lambda data: render_referral(data),
}


@renderer(documents.KIND)
async def _document(ctx: RenderContext, payload: dict[str, Any]) -> Rendered | None:
    """A stored document (storage/documents.py), its caption as it was decided."""
    doc = await ctx.session.get(Document, payload["document_id"])
    if doc is None or (doc.pdf is None and doc.source is None):
        return None
    make = None
    if doc.pdf is None:
        kind, source, locale = doc.kind, doc.source, doc.locale

        async def make() -> bytes:
            # The source was written by this program and is encrypted with authentication
            # (AES-GCM, storage/types.PersonalBytes): only a holder of the data key could forge it.
            return await render(MAKERS[kind], pickle.loads(source), locale)

    return Rendered(doc.caption, protect=doc.protect, attachment=Attachment(
        doc.id, doc.filename, doc.pdf, make,
        sorry=_("Sorry – the PDF could not be made just now. Please try again in a moment.")))


def _chat_id(query: CallbackQuery) -> int:
    return query.message.chat.id if query.message else query.from_user.id


# ---- Hent PDF (the overview) ---------------------------------------------------------------------------


@router.callback_query(OverviewPdfCb.filter(), flags=needs(Action.READ_SHARED))
async def overview_pdf(query: CallbackQuery, callback_data: OverviewPdfCb, seat: Participant, session: AsyncSession,
                       dialog_config: DialogConfig, settings: Settings, clock: Clock, notices: Notices, callback_answer: CallbackAnswer) -> None:
    if not await docs.overview(session, notices, seat, callback_data.round_no, callback_data.area,
                               config=dialog_config, settings=settings, now=clock.now(), locale=_locale(),
                               caption=views.overview_caption):
        alert(callback_answer, texts.stale_button())
        return
    callback_answer.text = _("The PDF is on its way – it comes in a moment.")


# ---- /referat ----------------------------------------------------------------------------------------


@router.message(Command("referat"))
async def referat_command(message: Message, session: AsyncSession, person: Person | None,
                          dialog_config: DialogConfig, settings: Settings, clock: Clock, notices: Notices) -> None:
    participant = await pick_dialog(message, session, person, "referat", Action.MANAGE)
    if participant is not None:
        await _referat(message, session, participant, dialog_config, settings, clock, notices)


@router.callback_query(PickDialogCb.filter(F.flow == "referat"), flags=MANAGE)
async def referat_picked(query: CallbackQuery, seat: Participant, session: AsyncSession,
                         dialog_config: DialogConfig, settings: Settings, clock: Clock, notices: Notices) -> None:
    await _referat(query.message, session, seat, dialog_config, settings, clock, notices)


async def _referat(message: Message, session: AsyncSession, p: Participant, config: DialogConfig,
                   settings: Settings, clock: Clock, notices: Notices) -> None:
    made = await docs.referat(session, notices, p, config=config, settings=settings, now=clock.now(),
                              locale=_locale(), caption=views.referat_caption)
    await message.answer(views.referat_note(made, p.dialog))


# ---- /indstilling (referral) ------------------------------------------------------------------------


@router.message(Command("indstilling"))
async def referral_command(message: Message, session: AsyncSession, person: Person | None) -> None:
    participant = await pick_dialog(message, session, person, "indstilling", Action.MANAGE)
    if participant is not None:
        await _referral_start(message, session, participant)


@router.callback_query(PickDialogCb.filter(F.flow == "indstilling"), flags=MANAGE)
async def referral_picked(query: CallbackQuery, seat: Participant, session: AsyncSession) -> None:
    await _referral_start(query.message, session, seat)


async def _referral_start(message: Message, session: AsyncSession, p: Participant) -> None:
    text, keyboard = views.referral_start(p.dialog, await referrals.history(session, p.dialog_id))
    await message.answer(text, reply_markup=keyboard, protect_content=True)


@router.callback_query(RefCb.filter(F.action == RefAction.get), flags=MANAGE)
async def referral_get(query: CallbackQuery, callback_data: RefCb, seat: Participant, session: AsyncSession,
                       clock: Clock, settings: Settings, callback_answer: CallbackAnswer) -> None:
    value = callback_data.value
    referral = await referrals.fetch(session, seat, int(value), clock.now()) if is_id(value) else None
    if referral is None:
        alert(callback_answer, texts.stale_button())
        return
    await answer_now(query, callback_answer)  # before the upload
    dialog = seat.dialog
    with localized(settings.default_locale):
        name = referral_filename(referral.receiver, dialog.child_name, draft=False)
    await query.message.answer_document(BufferedInputFile(referral.pdf, filename=name),
                                        caption=views.referral_pass_on(dialog, referral),
                                        protect_content=PASS_ON_PROTECT)


@router.callback_query(RefCb.filter(F.action == RefAction.cancel), flags=MANAGE)
async def referral_cancel(query: CallbackQuery) -> None:
    await query.message.edit_text(_("Cancelled. No referral was asked for."))


async def _referral_askable(query: CallbackQuery, callback_answer: CallbackAnswer, seat: Participant,
                            receiver: str) -> list[Participant] | None:
    """Who must approve a referral to `receiver`; None (and the person is told) when it cannot be asked."""
    if receiver not in rf.RECEIVERS:
        alert(callback_answer, texts.stale_button())
        return None
    givers, missing = referrals.approvers(seat.dialog)
    if not givers or missing:
        await query.message.answer(views.referral_cannot(givers, missing), protect_content=True)
        return None
    return givers


@router.callback_query(RefCb.filter(F.action == RefAction.to), flags=MANAGE)
async def referral_to(query: CallbackQuery, callback_data: RefCb, seat: Participant, callback_answer: CallbackAnswer) -> None:
    givers = await _referral_askable(query, callback_answer, seat, callback_data.value)
    if givers is not None:
        text, keyboard = views.referral_confirm(seat.dialog, callback_data.value, givers)
        await query.message.edit_text(text, reply_markup=keyboard)


@router.callback_query(RefCb.filter(F.action == RefAction.ask), flags=MANAGE)
async def referral_ask(query: CallbackQuery, callback_data: RefCb, seat: Participant, session: AsyncSession,
                       clock: Clock, notices: Notices, callback_answer: CallbackAnswer) -> None:
    givers = await _referral_askable(query, callback_answer, seat, callback_data.value)
    if givers is not None:
        referral = await referrals.ask(session, notices, seat, callback_data.value, clock.now())
        await query.message.edit_text(views.referral_asked(seat.dialog, referral, givers))


# ---- the consent givers' answer ---------------------------------------------------------------------


@router.callback_query(RefAnswerCb.filter(), flags=needs(Action.CONSENT))
async def referral_answer(query: CallbackQuery, callback_data: RefAnswerCb, seat: Participant,
                          session: AsyncSession, clock: Clock, notices: Notices, settings: Settings,
                          dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    approves = None if callback_data.answer == RefAnswer.view else callback_data.answer == RefAnswer.yes
    answered = await referrals.answer(
        session, notices, seat, callback_data.referral_id, approves, config=dialog_config, settings=settings,
        now=clock.now(), locale=_locale(), draft_caption=views.draft_caption,
        make_pdf=lambda data: render(render_referral, data, settings.default_locale))
    told = views.answer_alert(answered, seat.dialog)
    if told is not None:
        callback_answer.text, callback_answer.show_alert = told
        return
    if query.message:
        await drop_notice_buttons(query)  # a merged notice keeps the others' buttons
        await query.message.answer(views.answer_reply(answered.reply))


# ---- /brev (invitation letter) ---------------------------------------------------------------------------


@router.message(Command("brev"))
async def letter_command(message: Message, session: AsyncSession, person: Person | None) -> None:
    if person is None or person.staff_role != STAFF_COORDINATOR:
        await message.answer(views.not_a_coordinator())
        return
    participant = await pick_dialog(message, session, person, "brev", Action.INVITE)
    if participant is not None:
        await _letter_start(message, participant)


@router.callback_query(PickDialogCb.filter(F.flow == "brev"), flags=INVITE)
async def letter_picked(query: CallbackQuery, seat: Participant) -> None:
    await _letter_start(query.message, seat)


async def _letter_start(message: Message, p: Participant) -> None:
    text, keyboard = views.letter_start(p.dialog, docs.waiting(p.dialog))
    await message.answer(text, reply_markup=keyboard, protect_content=True)


@router.callback_query(LetterCb.filter(F.action == LetterAction.cancel), flags=INVITE)
async def letter_cancel(query: CallbackQuery) -> None:
    await query.message.edit_text(_("Cancelled. No letter was made, and the earlier link still works."))


def _gone() -> str:
    return _("That person has joined already, or is no longer invited.")


@router.callback_query(LetterCb.filter(F.action == LetterAction.who), flags=INVITE)
async def letter_who(query: CallbackQuery, callback_data: LetterCb, seat: Participant, session: AsyncSession,
                     clock: Clock, settings: Settings, callback_answer: CallbackAnswer) -> None:
    target = await docs.letter_target(session, seat.dialog, callback_data.participant_id)
    if target is None:
        alert(callback_answer, _gone())
        return
    text, keyboard = views.letter_who(seat.dialog, target, docs.link_expires(settings, clock.now()))
    await query.message.edit_text(text, reply_markup=keyboard)


@router.callback_query(LetterCb.filter(F.action == LetterAction.make), flags=INVITE)
async def letter_make(query: CallbackQuery, callback_data: LetterCb, seat: Participant, session: AsyncSession,
                      clock: Clock, settings: Settings, bot: Bot, callback_answer: CallbackAnswer) -> None:
    lang = callback_data.lang
    if lang not in ("da", "en"):
        if await docs.letter_target(session, seat.dialog, callback_data.participant_id) is None:
            alert(callback_answer, _gone())
        else:
            alert(callback_answer, texts.stale_button())
        return
    now = clock.now()
    made = await docs.letter(session, seat, callback_data.participant_id, settings=settings, now=now)
    if made is None:
        alert(callback_answer, _gone())
        return
    await answer_now(query, callback_answer)  # before the letter is rendered
    me = await bot.me()
    data = letter_data(seat.dialog, made.target, f"https://t.me/{me.username}?start={made.token}", made.expires_at,
                       settings, now)
    pdf = await render(render_letter, data, lang)
    with localized(lang):
        name = letter_filename(made.target.name)
    if query.message:
        await query.message.edit_reply_markup(reply_markup=None)
    await bot.send_document(_chat_id(query), BufferedInputFile(pdf, filename=name),
                            caption=views.letter_caption(made.target, made.expires_at),
                            protect_content=PASS_ON_PROTECT)
