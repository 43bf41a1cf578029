"""What handlers/reports.py shows: the buttons, the cards and the notices of the referral.

The callback data of the PDF flows (the actions are enums; their values are packed into
buttons already sent, so never change one), the captions of the documents, the referral's
start, confirm and answer texts, the letter's cards, and the referral notices, composed when
they are sent (`@renderer`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core import texts
from core.i18n import fmt_date, fmt_short
from core.labels import child_in_chat
from core.notices import RenderContext, Rendered, renderer
from handlers.choose import Id
from reports import referrals as rf
from reports.referral_doc import receiver_name, receiver_short
from services import referral as referrals
from services.documents import Referat
from services.referral import Reply
from storage.models import Dialog, Participant, Referral


class OverviewPdfCb(CallbackData, prefix="ovpdf"):
    dialog_id: Id
    round_no: Id
    area: str = ""


class RefAction(StrEnum):
    to = "to"  # the receiver is chosen: confirm
    ask = "ask"  # ask the consent givers
    cancel = "cancel"
    get = "get"  # fetch a produced referral


class RefCb(CallbackData, prefix="ref"):
    action: RefAction
    dialog_id: Id
    value: str = ""  # the receiver (to, ask) or the referral id (get)


class RefAnswer(StrEnum):
    yes = "yes"
    no = "no"
    view = "view"  # read the draft first


class RefAnswerCb(CallbackData, prefix="refa"):
    referral_id: Id
    answer: RefAnswer


class LetterAction(StrEnum):
    who = "who"  # the person is chosen: the choice of language
    make = "make"
    cancel = "cancel"


class LetterCb(CallbackData, prefix="brev"):
    action: LetterAction
    dialog_id: Id
    participant_id: Id = 0
    lang: str = ""


def child(dialog: Dialog) -> str:
    return child_in_chat(dialog)


def _to(referral: Referral) -> str:
    return html.quote(receiver_short(referral.receiver))


# ---- Hent PDF and /referat ----------------------------------------------------------------------------


def overview_pdf_button(dialog_id: int, round_no: int, area: str = "") -> InlineKeyboardButton:
    """The "Hent PDF" button under an overview page (handlers/overview.py)."""
    return InlineKeyboardButton(text=_("📄 Get PDF"), callback_data=OverviewPdfCb(
        dialog_id=dialog_id, round_no=round_no, area=area).pack())


def overview_caption(dialog: Dialog, round_no: int) -> str:
    return _("📄 Overview of the shared input – the dialog about {child}, round {round}.").format(
        child=child(dialog), round=round_no)


def referat_caption(dialog: Dialog, round_no: int) -> str:
    return _("📄 Minutes – the dialog about {child}, round {round}.").format(child=child(dialog), round=round_no)


def referat_note(made: Referat, dialog: Dialog) -> str:
    """What the coordinator is told while their /referat is made."""
    if made.closed and made.meeting is not None:
        return _("The minutes of the meeting on {date} are on their way.").format(
            date=fmt_date(made.meeting.starts_at))
    return _("No meeting has been closed yet, so you get the minutes of round {round} so far, marked "
             "preliminary. When you close the meeting, everyone gets the minutes.").format(round=dialog.round_no)


# ---- /indstilling (referral) ------------------------------------------------------------------------


def names(people: list[Participant]) -> str:
    """'Mette, Lars og Hanne' (HTML-escaped)."""
    quoted = [html.quote(p.name) for p in people]
    if len(quoted) < 2:
        return "".join(quoted)
    return _("{names} and {last}").format(names=", ".join(quoted[:-1]), last=quoted[-1])


def _history_line(r: Referral) -> str:
    when = fmt_short(r.requested_at)
    to = receiver_short(r.receiver)
    if r.status == rf.PRODUCED:
        state = _("approved by everyone, produced {date}").format(date=fmt_short(r.produced_at))
    elif r.status == rf.REFUSED:
        state = _("refused by {names}").format(names=names([a.participant for a in r.answers
                                                            if a.approves is False]))
    elif r.status == rf.CANCELLED:
        state = _("replaced by a newer request")
    else:
        state = _("waiting for {names}").format(names=names([a.participant for a in r.answers
                                                             if a.approves is not True]))
    return f"• {when} · {html.quote(to)}: {state}"


def get_referral_button(text: str, dialog_id: int, referral: Referral) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=RefCb(
        action=RefAction.get, dialog_id=dialog_id, value=str(referral.id)).pack())


def referral_start(dialog: Dialog, earlier: list[Referral]) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("<b>Referral</b> – the dialog about {child}").format(child=child(dialog))]
    if earlier:
        lines.append(_("Earlier referrals:") + "\n" + "\n".join(_history_line(r) for r in earlier[-5:]))
    lines.append(_(
        "A referral to PPR or Sundhedstjenesten is made from the dialog: the purpose, the participants, the "
        "latest input, the scores over time, the plan and what has been tried. The parents with custody (or "
        "the young person) approve it here before it is made.\n\nWho should receive it?"))
    kb = InlineKeyboardBuilder()
    for r in rf.RECEIVERS:
        kb.row(InlineKeyboardButton(text=receiver_name(r), callback_data=RefCb(
            action=RefAction.to, dialog_id=dialog.id, value=r).pack()))
    for r in earlier[-3:]:
        if r.status == rf.PRODUCED:
            kb.row(get_referral_button(_("📄 Get the referral to {receiver} ({date})").format(
                receiver=receiver_short(r.receiver), date=fmt_short(r.produced_at)), dialog.id, r))
    return "\n\n".join(lines), kb.as_markup()


def referral_cannot(givers: list[Participant], missing: list[Participant]) -> str:
    if not givers:
        return _("There is nobody to give consent in this dialog.")
    return _("{names} must approve a referral, but has not opened the invitation yet. A referral can be "
             "asked for when every parent with custody (or the young person) is in the dialog.").format(
        names=names(missing))


def referral_confirm(dialog: Dialog, receiver: str, givers: list[Participant]) -> tuple[str, InlineKeyboardMarkup]:
    return _(
        "<b>Referral to {receiver}</b> – the dialog about {child}\n\n"
        "It will contain the purpose, the participants, the latest shared input, the scores over time, "
        "Goals & Plan and what has been tried.\n\n"
        "Before it is made, {names} must approve it here in Samspil. They get a message where they can "
        "read the draft and answer Approve or Refuse. You are told when they have answered.").format(
        receiver=html.quote(receiver_name(receiver)), child=child(dialog), names=names(givers)), \
        InlineKeyboardMarkup(inline_keyboard=[[
            InlineKeyboardButton(text=_("📨 Ask for approval"), callback_data=RefCb(
                action=RefAction.ask, dialog_id=dialog.id, value=receiver).pack()),
            InlineKeyboardButton(text=_("Cancel"), callback_data=RefCb(
                action=RefAction.cancel, dialog_id=dialog.id).pack()),
        ]])


def referral_asked(dialog: Dialog, referral: Referral, givers: list[Participant]) -> str:
    return _("📨 The referral to {receiver} about {child} has been sent for approval to {names}. "
             "You are told when they have answered.").format(receiver=_to(referral), child=child(dialog),
                                                              names=names(givers))


def referral_pass_on(dialog: Dialog, referral: Referral) -> str:
    return _("📄 The referral to {receiver} about {child}, approved by the parents with custody. Send it on "
             "securely (e.g. by secure e-mail); it is confidential.").format(receiver=_to(referral),
                                                                              child=child(dialog))


def draft_caption(referral: Referral, dialog: Dialog) -> str:
    return _("📄 Draft of the referral to {receiver} about {child} – not approved yet.").format(
        receiver=_to(referral), child=child(dialog))


def referral_over(referral: Referral) -> str:
    if referral.status == rf.PRODUCED:
        return _("This referral has already been approved by everyone.")
    if referral.status == rf.REFUSED:
        return _("This referral has been refused, so it will not be made.")
    return _("This request has been replaced by a newer one. Please answer the newest message.")


def answer_alert(answered: referrals.Answered, dialog: Dialog) -> tuple[str, bool] | None:
    """The answer on the button (text, as an alert) when the tap ends there; None: a reply follows."""
    match answered.reply:
        case Reply.stale:
            return texts.stale_button(), True
        case Reply.refused_seat:
            return texts.refusal(answered.refusal, dialog), True
        case Reply.not_asked:
            return _("You have not been asked to approve this referral."), True
        case Reply.over:
            return referral_over(answered.referral), True
        case Reply.draft:
            return _("The draft is on its way – it comes in a moment."), False
        case Reply.already:
            return _("Your answer is already recorded."), False
    return None


def answer_reply(reply: Reply) -> str:
    if reply == Reply.refused:
        return _("You have refused the referral. It will not be made, and the coordinator is told.")
    if reply == Reply.produced:
        return _("Thank you – you have approved the referral. Everyone has now approved it, and the "
                 "coordinator sends it on.")
    return _("Thank you – you have approved the referral. It is made when every parent with custody "
             "has approved it.")


# ---- notices of the referral, composed when they are sent ---------------------------------------------


def _coordinator_name(dialog: Dialog) -> str:
    seat = next((p for p in dialog.participants if p.role == "coordinator"), None)
    return html.quote(seat.name) if seat else _("The coordinator")


def _answerer(referral: Referral, payload: dict[str, Any]) -> Participant | None:
    return next((a.participant for a in referral.answers if a.participant_id == payload["participant_id"]), None)


ReferralRenderer = Callable[[RenderContext, dict[str, Any], Referral, Dialog], Awaitable[Rendered | None]]


def _about_referral(kind: str, status: str) -> Callable[[ReferralRenderer], ReferralRenderer]:
    """Register the renderer of `kind`, a notice about the referral in its payload: it is sent only
    while the referral is in `status` and its dialog is active. The renderer is called with both."""

    def register(fn: ReferralRenderer) -> ReferralRenderer:
        @renderer(kind)
        async def render(ctx: RenderContext, payload: dict[str, Any]) -> Rendered | None:
            live = await referrals.live(ctx.session, payload["referral_id"])
            if live is None or live[0].status != status:
                return None
            return await fn(ctx, payload, *live)

        return fn

    return register


@_about_referral("referral_request", rf.PENDING)
async def _referral_request(ctx: RenderContext, payload: dict[str, Any], referral: Referral, dialog: Dialog
                            ) -> Rendered | None:
    def b(text: str, answer: RefAnswer) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=RefAnswerCb(referral_id=referral.id,
                                                                         answer=answer).pack())

    return Rendered(_(
        "📝 <b>A referral to {receiver}</b> – the dialog about {child}\n\n"
        "{coordinator} (coordinator) would like to send a referral about {child} to {receiver_long}. "
        "It contains the purpose, the participants, the latest shared input, the scores over time, "
        "Goals & Plan and what has been tried.\n\n"
        "It is made only if every parent with custody approves it. You can read the draft first.").format(
            receiver=_to(referral), child=child(dialog),
            coordinator=_coordinator_name(dialog), receiver_long=html.quote(receiver_name(referral.receiver))),
        InlineKeyboardMarkup(inline_keyboard=[
            [b(_("📄 Read the draft"), RefAnswer.view)],
            [b(_("✅ Approve"), RefAnswer.yes), b(_("❌ Refuse"), RefAnswer.no)],
        ]))


@_about_referral("referral_progress", rf.PENDING)
async def _referral_progress(ctx: RenderContext, payload: dict[str, Any], referral: Referral, dialog: Dialog
                             ) -> Rendered | None:
    who = _answerer(referral, payload)
    if who is None:
        return None
    done = sum(1 for a in referral.answers if a.approves)
    return Rendered(_("✅ {who} has approved the referral to {receiver} about {child} ({done} of {total}).").format(
        who=texts.who(who), receiver=_to(referral), child=child(dialog), done=done, total=len(referral.answers)))


@_about_referral("referral_refused", rf.REFUSED)
async def _referral_refused(ctx: RenderContext, payload: dict[str, Any], referral: Referral, dialog: Dialog
                            ) -> Rendered | None:
    who = _answerer(referral, payload)
    return Rendered(_(
        "❌ {who} has refused the referral to {receiver} about {child}. It will not be made. "
        "Talk with the family about it.").format(
            who=texts.who(who) if who else _("A parent with custody"), receiver=_to(referral), child=child(dialog)))


@_about_referral("referral_ready", rf.PRODUCED)
async def _referral_ready(ctx: RenderContext, payload: dict[str, Any], referral: Referral, dialog: Dialog
                          ) -> Rendered | None:
    return Rendered(_(
        "📄 Every parent with custody has approved the referral to {receiver} about {child}. "
        "It is ready for you to send on.").format(receiver=_to(referral), child=child(dialog)),
        InlineKeyboardMarkup(inline_keyboard=[[get_referral_button(_("📄 Get the referral"), dialog.id, referral)]]))


# ---- /brev (invitation letter) ---------------------------------------------------------------------------


def not_a_coordinator() -> str:
    return _("That command is for coordinators (tovholdere). Type /hjaelp to see what you can do.")


def letter_start(dialog: Dialog, waiting: list[Participant]) -> tuple[str, InlineKeyboardMarkup | None]:
    if not waiting:
        return _("Everyone invited to the dialog about {child} has joined. Invite more people "
                 "with /inviter.").format(child=child(dialog)), None
    kb = InlineKeyboardBuilder()
    for p in waiting:
        kb.row(InlineKeyboardButton(text=f"{p.name} ({p.relation or texts.role_label(p.role)})", callback_data=LetterCb(
            action=LetterAction.who, dialog_id=dialog.id, participant_id=p.id).pack()))
    return _(
        "<b>Invitation letter</b> – the dialog about {child}\n\n"
        "A one-page letter for e-Boks or paper, with the personal link as a QR code. Who is it for?").format(
            child=child(dialog)), kb.as_markup()


def letter_who(dialog: Dialog, target: Participant, expires: datetime) -> tuple[str, InlineKeyboardMarkup]:
    def b(text: str, action: LetterAction, lang: str = "") -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=LetterCb(
            action=action, dialog_id=dialog.id, participant_id=target.id, lang=lang).pack())

    return _(
        "<b>Invitation letter for {who}</b>\n\n"
        "The letter carries a new personal link, valid until {date}. The link {name} got earlier stops "
        "working, so give {name} only the letter.").format(
            who=texts.who(target), date=fmt_date(expires), name=html.quote(target.name)), \
        InlineKeyboardMarkup(inline_keyboard=[
            [b(_("📄 Letter in Danish"), LetterAction.make, "da"), b(_("📄 Letter in English"), LetterAction.make, "en")],
            [b(_("Cancel"), LetterAction.cancel)],
        ])


def letter_caption(target: Participant, expires: datetime) -> str:
    return _("📄 Invitation letter for {who}. Print it or send it by e-Boks. The link in it works once, until "
             "{date}; the link given earlier no longer works.").format(who=texts.who(target), date=fmt_date(expires))
