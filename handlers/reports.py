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
(`queue_document`): decided in the update's transaction with the data as it is then
(stored encrypted), made into a PDF by the scheduler in a worker thread, so a long
report holds up neither the event loop nor the next update, and sent like every
notice (retried on 429 and 5xx, exactly once). The letter and an approved referral
are the direct answer to the tap. Every button names things by id only; the sender's
seat is looked up on the server each time.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot, F, Router, html
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import fmt_date, fmt_short
from bot.notices import Attachment, Notices, RenderContext, Rendered, renderer
from handlers import texts
from handlers.choose import (
    Id,
    PickDialogCb,
    drop_notice_buttons,
    is_id,
    pick_dialog,
    seat_for,
)
from handlers.seats import needs
from reports import gather
from reports import referrals as rf
from reports.common import localized, render
from reports.letter import letter_data, letter_filename, render_letter
from reports.overview import overview_data, overview_filename, render_overview
from reports.referat import referat_data, referat_filename, render_referat
from reports.referral_doc import (
    receiver_name,
    receiver_short,
    referral_data,
    referral_filename,
    render_referral,
)
from rules.access import ACTIVE, Action, decide
from rules.dialog_config import DialogConfig
from rules.roles import STAFF_COORDINATOR
from storage import audit, documents
from storage import meetings as mt
from storage import queries as q
from storage.models import Dialog, Document, Invitation, Participant, Person, Referral

router = Router(name="reports")
log = logging.getLogger("samspil.reports")

# The invitation letter and the produced referral are made to leave Telegram (e-Boks,
# paper, secure mail to PPR), so the coordinator must be able to save them: they go to
# the coordinator's own chat without protect_content. Everything else is protected.
PASS_ON_PROTECT = False

# Audit actions of this module (storage/audit.py: ids only, never content).
REFERRAL_ASKED = "referral.requested"
REFERRAL_DRAFT = "referral.draft_read"
REFERRAL_APPROVED = "referral.approved"
REFERRAL_REFUSED = "referral.refused"
REFERRAL_PRODUCED = "referral.produced"
REFERRAL_FETCHED = "referral.fetched"
LETTER_MADE = "letter.made"


class OverviewPdfCb(CallbackData, prefix="ovpdf"):
    dialog_id: Id
    round_no: Id
    area: str = ""


class RefCb(CallbackData, prefix="ref"):
    action: str  # to | ask | cancel | get
    dialog_id: Id
    value: str = ""  # the receiver (to, ask) or the referral id (get)


class RefAnswerCb(CallbackData, prefix="refa"):
    referral_id: Id
    answer: str  # yes | no | view


class LetterCb(CallbackData, prefix="brev"):
    action: str  # who | make | cancel
    dialog_id: Id
    participant_id: Id = 0
    lang: str = ""


def _locale() -> str:
    return I18n.get_current().current_locale


def _child(dialog: Dialog) -> str:
    return html.quote(dialog.child_name)


# ---- documents sent through the outbox ------------------------------------------------------------

# How a stored document's data becomes a PDF (looked up when it is made, by the scheduler).
MAKERS: dict[str, Callable[[Any], bytes]] = {
    "overview": lambda data: render_overview(data),
    "referat": lambda data: render_referat(data),
    "referral": lambda data: render_referral(data),
}


async def queue_document(session: AsyncSession, notices: Notices, to: Person, *, kind: str, data: Any,
                         dialog_id: int, filename: Callable[[], str], caption: str, now: datetime,
                         protect: bool = True) -> None:
    """A document someone asked for: decided now, in this update's transaction, with the data as
    it is now (stored encrypted); the scheduler makes the PDF (a worker thread, so the bot goes on
    answering meanwhile) and sends it after the commit, like every notice. Nothing is sent if the
    update rolls back."""
    locale = _locale()
    with localized(locale):
        name = filename()
    doc = await documents.add(session, dialog_id=dialog_id, kind=kind, locale=locale, filename=name,
                              caption=caption, source=pickle.dumps(data), protect=protect, now=now)
    await notices.add(session, to=to, kind=documents.KIND, key=f"doc:{doc.id}:{to.id}",
                      payload=documents.payload_of(doc.id), dialog_id=dialog_id)


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


def overview_pdf_button(dialog_id: int, round_no: int, area: str = "") -> InlineKeyboardButton:
    """The "Hent PDF" button under an overview page (handlers/overview.py)."""
    return InlineKeyboardButton(text=_("📄 Get PDF"), callback_data=OverviewPdfCb(
        dialog_id=dialog_id, round_no=round_no, area=area).pack())


@router.callback_query(OverviewPdfCb.filter(), flags=needs(Action.READ_SHARED))
async def overview_pdf(query: CallbackQuery, callback_data: OverviewPdfCb, seat: Participant, session: AsyncSession,
                       person: Person | None, dialog_config: DialogConfig, settings: Settings, clock: Clock,
                       notices: Notices) -> None:
    participant = seat
    dialog = participant.dialog
    round_no, area = callback_data.round_no, callback_data.area
    if not 1 <= round_no <= dialog.round_no or (area and area not in {a.key for a in dialog_config.areas}):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    await query.answer(_("The PDF is on its way – it comes in a moment."))
    await audit.record(session, actor_id=participant.person_id, dialog_id=dialog.id, action=audit.OVERVIEW_PDF,
                       now=clock.now(), role=participant.role, round_no=round_no)
    data = await overview_data(session, dialog, round_no, dialog_config, settings, clock.now(), area)
    caption = _("📄 Overview of the shared input – the dialog about {child}, round {round}.").format(
        child=_child(dialog), round=round_no)
    await queue_document(session, notices, participant.person, kind="overview", data=data, dialog_id=dialog.id,
                         filename=lambda: overview_filename(data), caption=caption, now=clock.now())


# ---- /referat ----------------------------------------------------------------------------------------


@router.message(Command("referat"))
async def referat_command(message: Message, session: AsyncSession, person: Person | None,
                          dialog_config: DialogConfig, settings: Settings, clock: Clock, notices: Notices) -> None:
    participant = await pick_dialog(message, session, person, "referat", Action.MANAGE)
    if participant is not None:
        await _referat(message, session, participant, dialog_config, settings, clock, notices)


@router.callback_query(PickDialogCb.filter(F.flow == "referat"), flags=needs(Action.MANAGE))
async def referat_picked(query: CallbackQuery, callback_data: PickDialogCb, seat: Participant, session: AsyncSession,
                         person: Person | None, dialog_config: DialogConfig, settings: Settings, clock: Clock,
                         notices: Notices) -> None:
    participant = seat
    await query.answer()
    await _referat(query.message, session, participant, dialog_config, settings, clock, notices)


async def _referat(message: Message, session: AsyncSession, p: Participant, config: DialogConfig,
                   settings: Settings, clock: Clock, notices: Notices) -> None:
    dialog = p.dialog
    meeting = await gather.latest_closed_meeting(session, dialog.id)
    if meeting is not None:
        note = _("The minutes of the meeting on {date} (round {round}) are on their way.").format(
            date=fmt_date(meeting.starts_at), round=meeting.round_no)
    else:
        meeting = await mt.live_meeting(session, dialog.id)
        note = _("No meeting has been closed yet, so you get the minutes of round {round} so far, marked "
                 "preliminary. When you close the meeting, everyone gets the minutes.").format(
            round=dialog.round_no)
    await message.answer(note)
    await audit.record(session, actor_id=p.person_id, dialog_id=dialog.id, action=audit.REPORT_PDF,
                       now=clock.now(), role=p.role, round_no=meeting.round_no if meeting else dialog.round_no,
                       meeting_id=meeting.id if meeting else None)
    data = await referat_data(session, dialog, meeting, config, settings, clock.now())
    caption = _("📄 Minutes – the dialog about {child}, round {round}.").format(
        child=_child(dialog), round=data.round_no)
    await queue_document(session, notices, p.person, kind="referat", data=data, dialog_id=dialog.id,
                         filename=lambda: referat_filename(data),
                         caption=caption, now=clock.now())


# ---- /indstilling (referral) ------------------------------------------------------------------------


@router.message(Command("indstilling"))
async def referral_command(message: Message, session: AsyncSession, person: Person | None) -> None:
    participant = await pick_dialog(message, session, person, "indstilling", Action.MANAGE)
    if participant is not None:
        await _referral_start(message, session, participant.dialog)


@router.callback_query(PickDialogCb.filter(F.flow == "indstilling"), flags=needs(Action.MANAGE))
async def referral_picked(query: CallbackQuery, callback_data: PickDialogCb, seat: Participant, session: AsyncSession,
                          person: Person | None) -> None:
    participant = seat
    await query.answer()
    await _referral_start(query.message, session, participant.dialog)


def _names(people: list[Participant]) -> str:
    """'Mette, Lars og Hanne' (HTML-escaped)."""
    names = [html.quote(p.name) for p in people]
    if len(names) < 2:
        return "".join(names)
    return _("{names} and {last}").format(names=", ".join(names[:-1]), last=names[-1])


def _history_line(r: Referral) -> str:
    when = fmt_short(r.requested_at)
    to = receiver_short(r.receiver)
    if r.status == rf.PRODUCED:
        state = _("approved by everyone, produced {date}").format(date=fmt_short(r.produced_at))
    elif r.status == rf.REFUSED:
        state = _("refused by {names}").format(names=_names([a.participant for a in r.answers
                                                             if a.approves is False]))
    elif r.status == rf.CANCELLED:
        state = _("replaced by a newer request")
    else:
        state = _("waiting for {names}").format(names=_names([a.participant for a in r.answers
                                                              if a.approves is not True]))
    return f"• {when} · {html.quote(to)}: {state}"


async def _referral_start(message: Message, session: AsyncSession, dialog: Dialog) -> None:
    lines = [_("<b>Referral</b> – the dialog about {child}").format(child=_child(dialog))]
    earlier = await rf.history(session, dialog.id)
    if earlier:
        lines.append(_("Earlier referrals:") + "\n" + "\n".join(_history_line(r) for r in earlier[-5:]))
    lines.append(_(
        "A referral to PPR or Sundhedstjenesten is made from the dialog: the purpose, the participants, the "
        "latest input, the scores over time, the plan and what has been tried. The parents with custody (or "
        "the young person) approve it here before it is made.\n\nWho should receive it?"))
    rows = [[InlineKeyboardButton(text=receiver_name(r), callback_data=RefCb(
        action="to", dialog_id=dialog.id, value=r).pack())] for r in rf.RECEIVERS]
    rows += [[InlineKeyboardButton(text=_("📄 Get the referral to {receiver} ({date})").format(
        receiver=receiver_short(r.receiver), date=fmt_short(r.produced_at)), callback_data=RefCb(
        action="get", dialog_id=dialog.id, value=str(r.id)).pack())]
        for r in earlier[-3:] if r.status == rf.PRODUCED]
    await message.answer("\n\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
                         protect_content=True)


@router.callback_query(RefCb.filter(), flags=needs(Action.MANAGE))
async def referral_button(query: CallbackQuery, callback_data: RefCb, seat: Participant, session: AsyncSession,
                          person: Person | None, clock: Clock, notices: Notices, settings: Settings,
                          bot: Bot) -> None:
    p = seat
    dialog = p.dialog
    action, value = callback_data.action, callback_data.value
    msg = query.message
    if action == "get":
        referral = await session.get(Referral, int(value)) if is_id(value) else None
        if referral is None or referral.dialog_id != dialog.id or referral.status != rf.PRODUCED \
                or referral.pdf is None:
            await query.answer(texts.stale_button(), show_alert=True)
            return
        await query.answer()
        await audit.record(session, actor_id=p.person_id, dialog_id=dialog.id, action=REFERRAL_FETCHED,
                           now=clock.now(), role=p.role, referral_id=referral.id)
        with localized(settings.default_locale):
            name = referral_filename(referral.receiver, dialog.child_name, draft=False)
        await msg.answer_document(BufferedInputFile(referral.pdf, filename=name), caption=_(
            "📄 The referral to {receiver} about {child}, approved by the parents with custody. Send it on "
            "securely (e.g. by secure e-mail); it is confidential.").format(
                receiver=html.quote(receiver_short(referral.receiver)), child=_child(dialog)),
            protect_content=PASS_ON_PROTECT)
        return
    if action == "cancel":
        await query.answer()
        await msg.edit_text(_("Cancelled. No referral was asked for."))
        return
    if value not in rf.RECEIVERS or action not in ("to", "ask"):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    givers = rf.approvers(dialog)
    missing = rf.not_reachable(dialog)
    if not givers or missing:
        await query.answer()
        text = _("There is nobody to give consent in this dialog.") if not givers else _(
            "{names} must approve a referral, but has not opened the invitation yet. A referral can be "
            "asked for when every parent with custody (or the young person) is in the dialog.").format(
                names=_names(missing))
        await msg.answer(text, protect_content=True)
        return
    if action == "to":
        await query.answer()
        await msg.edit_text(_(
            "<b>Referral to {receiver}</b> – the dialog about {child}\n\n"
            "It will contain the purpose, the participants, the latest shared input, the scores over time, "
            "Goals & Plan and what has been tried.\n\n"
            "Before it is made, {names} must approve it here in Samspil. They get a message where they can "
            "read the draft and answer Approve or Refuse. You are told when they have answered.").format(
                receiver=html.quote(receiver_name(value)), child=_child(dialog), names=_names(givers)),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[
                InlineKeyboardButton(text=_("📨 Ask for approval"), callback_data=RefCb(
                    action="ask", dialog_id=dialog.id, value=value).pack()),
                InlineKeyboardButton(text=_("Cancel"), callback_data=RefCb(
                    action="cancel", dialog_id=dialog.id).pack()),
            ]]))
        return
    # ask
    await query.answer()
    now = clock.now()
    referral = await rf.request(session, dialog, p, value, now)
    await audit.record(session, actor_id=p.person_id, dialog_id=dialog.id, action=REFERRAL_ASKED, now=now,
                       role=p.role, referral_id=referral.id)
    for giver in givers:
        await notices.add(session, to=giver, kind="referral_request", key=f"ref:{referral.id}:ask:{giver.id}",
                          payload={"referral_id": referral.id})
    await msg.edit_text(_(
        "📨 The referral to {receiver} about {child} has been sent for approval to {names}. "
        "You are told when they have answered.").format(
            receiver=html.quote(receiver_short(value)), child=_child(dialog), names=_names(givers)))


# ---- the consent givers' answer ---------------------------------------------------------------------


async def _answering_seat(query: CallbackQuery, session: AsyncSession, person: Person | None,
                          referral: Referral) -> Participant | None:
    """The sender's seat, if they are a consent giver asked to approve this referral, in an active dialog."""
    p, decision = await seat_for(session, person, referral.dialog_id, Action.CONSENT)
    if decision:
        decision = decide(q.seat(p), p.dialog.state, Action.READ_SHARED)
    if not decision:
        await query.answer(texts.refusal(decision.refusal, p.dialog if p else None), show_alert=True)
        return None
    if rf.answer_of(referral, p.id) is None:
        await query.answer(_("You have not been asked to approve this referral."), show_alert=True)
        return None
    return p


@router.callback_query(RefAnswerCb.filter(), flags=needs(Action.CONSENT))
async def referral_answer(query: CallbackQuery, callback_data: RefAnswerCb, seat: Participant, session: AsyncSession,
                          person: Person | None, clock: Clock, notices: Notices, settings: Settings,
                          dialog_config: DialogConfig, bot: Bot) -> None:
    referral = await session.get(Referral, callback_data.referral_id)
    if referral is None or callback_data.answer not in ("yes", "no", "view"):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    p = await _answering_seat(query, session, person, referral)
    if p is None:
        return
    dialog = p.dialog
    if referral.status != rf.PENDING:
        await query.answer(_referral_over(referral), show_alert=True)
        return
    now = clock.now()
    if callback_data.answer == "view":
        await query.answer(_("The draft is on its way – it comes in a moment."))
        await audit.record(session, actor_id=p.person_id, dialog_id=dialog.id, action=REFERRAL_DRAFT, now=now,
                           role=p.role, referral_id=referral.id)
        data = await referral_data(session, dialog, referral, dialog_config, settings, now, draft=True)
        caption = _("📄 Draft of the referral to {receiver} about {child} – not approved yet.").format(
            receiver=html.quote(receiver_short(referral.receiver)), child=_child(dialog))
        await queue_document(session, notices, p.person, kind="referral", data=data, dialog_id=dialog.id,
                             filename=lambda: referral_filename(data.receiver, data.dialog.child_name, draft=True),
                             caption=caption, now=now)
        return
    approves = callback_data.answer == "yes"
    row = rf.answer_of(referral, p.id)
    assert row is not None
    if row.approves is approves:
        await query.answer(_("Your answer is already recorded."))
        return
    await query.answer()
    outcome = rf.record(referral, row, approves, now)
    await audit.record(session, actor_id=p.person_id, dialog_id=dialog.id, now=now, role=p.role,
                       action=REFERRAL_APPROVED if approves else REFERRAL_REFUSED, referral_id=referral.id)
    coordinator = await session.get(Person, dialog.coordinator_id)
    if outcome == rf.REFUSED:
        await notices.add(session, to=coordinator, kind="referral_refused", key=f"ref:{referral.id}:refused",
                          payload={"referral_id": referral.id, "participant_id": p.id}, dialog_id=dialog.id)
        reply = _("You have refused the referral. It will not be made, and the coordinator is told.")
    elif outcome == rf.PRODUCED:
        data = await referral_data(session, dialog, referral, dialog_config, settings, now, draft=False)
        pdf = await render(render_referral, data, settings.default_locale)
        rf.produced(referral, pdf, now)
        await audit.record(session, actor_id=None, dialog_id=dialog.id, action=REFERRAL_PRODUCED, now=now,
                           referral_id=referral.id)
        await notices.add(session, to=coordinator, kind="referral_ready", key=f"ref:{referral.id}:ready",
                          payload={"referral_id": referral.id}, dialog_id=dialog.id)
        reply = _("Thank you – you have approved the referral. Everyone has now approved it, and the "
                  "coordinator sends it on.")
    else:
        await notices.add(session, to=coordinator, kind="referral_progress",
                          key=f"ref:{referral.id}:yes:{p.id}",
                          payload={"referral_id": referral.id, "participant_id": p.id}, dialog_id=dialog.id)
        reply = _("Thank you – you have approved the referral. It is made when every parent with custody "
                  "has approved it.")
    if query.message:
        await drop_notice_buttons(query)  # a merged notice keeps the others' buttons
        await query.message.answer(reply)


def _referral_over(referral: Referral) -> str:
    if referral.status == rf.PRODUCED:
        return _("This referral has already been approved by everyone.")
    if referral.status == rf.REFUSED:
        return _("This referral has been refused, so it will not be made.")
    return _("This request has been replaced by a newer one. Please answer the newest message.")


# ---- notices of the referral, composed when they are sent ---------------------------------------------


async def _live_referral(ctx: RenderContext, payload: dict[str, Any]) -> tuple[Referral, Dialog] | None:
    referral = await ctx.session.get(Referral, payload["referral_id"])
    if referral is None:
        return None
    dialog = await ctx.session.get(Dialog, referral.dialog_id)
    if dialog is None or dialog.state != ACTIVE:
        return None
    return referral, dialog


def _coordinator_name(dialog: Dialog) -> str:
    seat = next((p for p in dialog.participants if p.role == "coordinator"), None)
    return html.quote(seat.name) if seat else _("The coordinator")


@renderer("referral_request")
async def _referral_request(ctx: RenderContext, payload: dict[str, Any]) -> Rendered | None:
    live = await _live_referral(ctx, payload)
    if live is None or live[0].status != rf.PENDING:
        return None
    referral, dialog = live

    def b(text: str, answer: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=RefAnswerCb(referral_id=referral.id,
                                                                         answer=answer).pack())

    return Rendered(_(
        "📝 <b>A referral to {receiver}</b> – the dialog about {child}\n\n"
        "{coordinator} (coordinator) would like to send a referral about {child} to {receiver_long}. "
        "It contains the purpose, the participants, the latest shared input, the scores over time, "
        "Goals & Plan and what has been tried.\n\n"
        "It is made only if every parent with custody approves it. You can read the draft first.").format(
            receiver=html.quote(receiver_short(referral.receiver)), child=_child(dialog),
            coordinator=_coordinator_name(dialog), receiver_long=html.quote(receiver_name(referral.receiver))),
        InlineKeyboardMarkup(inline_keyboard=[
            [b(_("📄 Read the draft"), "view")],
            [b(_("✅ Approve"), "yes"), b(_("❌ Refuse"), "no")],
        ]))


@renderer("referral_progress")
async def _referral_progress(ctx: RenderContext, payload: dict[str, Any]) -> Rendered | None:
    live = await _live_referral(ctx, payload)
    if live is None or live[0].status != rf.PENDING:
        return None
    referral, dialog = live
    who = next((a.participant for a in referral.answers if a.participant_id == payload["participant_id"]), None)
    if who is None:
        return None
    done = sum(1 for a in referral.answers if a.approves)
    return Rendered(_("✅ {who} has approved the referral to {receiver} about {child} ({done} of {total}).").format(
        who=texts.who(who), receiver=html.quote(receiver_short(referral.receiver)), child=_child(dialog),
        done=done, total=len(referral.answers)))


@renderer("referral_refused")
async def _referral_refused(ctx: RenderContext, payload: dict[str, Any]) -> Rendered | None:
    live = await _live_referral(ctx, payload)
    if live is None or live[0].status != rf.REFUSED:
        return None
    referral, dialog = live
    who = next((a.participant for a in referral.answers if a.participant_id == payload["participant_id"]), None)
    return Rendered(_(
        "❌ {who} has refused the referral to {receiver} about {child}. It will not be made. "
        "Talk with the family about it.").format(
            who=texts.who(who) if who else _("A parent with custody"),
            receiver=html.quote(receiver_short(referral.receiver)), child=_child(dialog)))


@renderer("referral_ready")
async def _referral_ready(ctx: RenderContext, payload: dict[str, Any]) -> Rendered | None:
    live = await _live_referral(ctx, payload)
    if live is None or live[0].status != rf.PRODUCED:
        return None
    referral, dialog = live
    return Rendered(_(
        "📄 Every parent with custody has approved the referral to {receiver} about {child}. "
        "It is ready for you to send on.").format(
            receiver=html.quote(receiver_short(referral.receiver)), child=_child(dialog)),
        InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
            text=_("📄 Get the referral"), callback_data=RefCb(
                action="get", dialog_id=dialog.id, value=str(referral.id)).pack())]]))


# ---- /brev (invitation letter) ---------------------------------------------------------------------------


@router.message(Command("brev"))
async def letter_command(message: Message, session: AsyncSession, person: Person | None) -> None:
    if person is None or person.staff_role != STAFF_COORDINATOR:
        await message.answer(_("That command is for coordinators (tovholdere). Type /hjaelp to see what you "
                               "can do."))
        return
    participant = await pick_dialog(message, session, person, "brev", Action.INVITE)
    if participant is not None:
        await _letter_start(message, participant.dialog)


@router.callback_query(PickDialogCb.filter(F.flow == "brev"), flags=needs(Action.INVITE))
async def letter_picked(query: CallbackQuery, callback_data: PickDialogCb, seat: Participant, session: AsyncSession,
                        person: Person | None) -> None:
    participant = seat
    await query.answer()
    await _letter_start(query.message, participant.dialog)


def _waiting(dialog: Dialog) -> list[Participant]:
    """Invited, not joined yet (and not refused by the family)."""
    return [p for p in dialog.participants if p.joined_at is None and getattr(p, "approval", None) != "refused"]


async def _letter_start(message: Message, dialog: Dialog) -> None:
    waiting = _waiting(dialog)
    if not waiting:
        await message.answer(_("Everyone invited to the dialog about {child} has joined. Invite more people "
                               "with /inviter.").format(child=_child(dialog)), protect_content=True)
        return
    await message.answer(_(
        "<b>Invitation letter</b> – the dialog about {child}\n\n"
        "A one-page letter for e-Boks or paper, with the personal link as a QR code. Who is it for?").format(
            child=_child(dialog)),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
            text=f"{p.name} ({p.relation or texts.role_label(p.role)})",
            callback_data=LetterCb(action="who", dialog_id=dialog.id, participant_id=p.id).pack())]
            for p in waiting]), protect_content=True)


@router.callback_query(LetterCb.filter(), flags=needs(Action.INVITE))
async def letter_button(query: CallbackQuery, callback_data: LetterCb, seat: Participant, session: AsyncSession,
                        person: Person | None, clock: Clock, settings: Settings, bot: Bot) -> None:
    p = seat
    dialog = p.dialog
    msg = query.message
    if callback_data.action == "cancel":
        await query.answer()
        await msg.edit_text(_("Cancelled. No letter was made, and the earlier link still works."))
        return
    target = await session.get(Participant, callback_data.participant_id)
    if target is None or target.dialog_id != dialog.id or target not in _waiting(dialog):
        await query.answer(_("That person has joined already, or is no longer invited."), show_alert=True)
        return
    now = clock.now()
    expires = now + timedelta(days=settings.invite_ttl_days)
    if callback_data.action == "who":
        await query.answer()

        def b(text: str, action: str, lang: str = "") -> InlineKeyboardButton:
            return InlineKeyboardButton(text=text, callback_data=LetterCb(
                action=action, dialog_id=dialog.id, participant_id=target.id, lang=lang).pack())

        await msg.edit_text(_(
            "<b>Invitation letter for {who}</b>\n\n"
            "The letter carries a new personal link, valid until {date}. The link {name} got earlier stops "
            "working, so give {name} only the letter.").format(
                who=texts.who(target), date=fmt_date(expires), name=html.quote(target.name)),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[
                [b(_("📄 Letter in Danish"), "make", "da"), b(_("📄 Letter in English"), "make", "en")],
                [b(_("Cancel"), "cancel")],
            ]))
        return
    if callback_data.action != "make" or callback_data.lang not in ("da", "en"):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    await query.answer()
    token = await _fresh_invitation(session, target, now, settings)
    await audit.record(session, actor_id=p.person_id, dialog_id=dialog.id, action=LETTER_MADE, now=now,
                       role=p.role, participant_id=target.id)
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={token}"
    data = letter_data(dialog, target, link, expires, settings, now)
    pdf = await render(render_letter, data, callback_data.lang)
    with localized(callback_data.lang):
        name = letter_filename(target.name)
    if msg:
        await msg.edit_reply_markup(reply_markup=None)
    await bot.send_document(_chat_id(query), BufferedInputFile(pdf, filename=name), caption=_(
        "📄 Invitation letter for {who}. Print it or send it by e-Boks. The link in it works once, until "
        "{date}; the link given earlier no longer works.").format(who=texts.who(target), date=fmt_date(expires)),
        protect_content=PASS_ON_PROTECT)


async def _fresh_invitation(session: AsyncSession, target: Participant, now: datetime,
                            settings: Settings) -> str:
    """A new link for `target`; the unused links given earlier stop working now."""
    rows = await session.scalars(select(Invitation).where(Invitation.participant_id == target.id,
                                                          Invitation.used_at.is_(None)))
    for old in rows:
        if old.expires_at > now:
            old.expires_at = now
    return await q.new_invitation(session, target, now=now, ttl_days=settings.invite_ttl_days)
