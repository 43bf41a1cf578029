"""What the privacy flow shows: consent as stored, withdrawing, approving newcomers, erasing,
closing, the labels of /mine_data's PDF, and the flow's notices (composed when sent)."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.config import Settings
from core.i18n import fmt_datetime
from core.labels import child_in_chat
from core.notices import RenderContext, Rendered, renderer
from core.texts import retention_period
from handlers.choose import Id
from handlers.join_views import DataInfoCb, send_consent_card
from reports import my_data
from rules import consent as consent_rules
from rules.access import CLOSED, PAUSED, Refusal
from rules.dialog_config import DialogConfig
from storage import privacy as pv
from storage.models import Dialog, Participant, Person


class ConsentViewAction(StrEnum):
    WITHDRAW = "withdraw"
    WITHDRAW_YES = "withdraw_yes"
    KEEP = "keep"


class ConsentViewCb(CallbackData, prefix="sam"):
    action: ConsentViewAction
    dialog_id: Id


class ApproveAnswer(StrEnum):
    YES = "yes"
    NO = "no"


class ApproveCb(CallbackData, prefix="appr"):
    answer: ApproveAnswer
    participant_id: Id  # the newcomer


class EraseAction(StrEnum):
    YES = "yes"
    NO = "no"


class EraseCb(CallbackData, prefix="erase"):
    action: EraseAction


class CloseAction(StrEnum):
    DIALOG = "dialog"
    YES = "yes"
    NO = "no"


class CloseCb(CallbackData, prefix="luk"):
    action: CloseAction
    dialog_id: Id


def locale() -> str:
    return I18n.get_current().current_locale


def button(text: str, data: CallbackData) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=text, callback_data=data.pack())]


# ---- /samtykke --------------------------------------------------------------------------------


def answer_label(answer: str) -> str:
    return {
        consent_rules.GIVEN: _("consent given"),
        consent_rules.TALK_FIRST: _("wanted to talk to the coordinator first"),
        consent_rules.DECLINED: _("said no thanks"),
        consent_rules.WITHDRAWN: _("consent withdrawn"),
    }.get(answer, answer)


async def show_consent(message: Message, session: AsyncSession, seat: Participant) -> None:
    """The stored consent: when, the exact text shown, the list shown; withdraw, or consent again."""
    dialog = seat.dialog
    consents = await pv.consents_of(session, seat)
    latest = consents[-1] if consents else None
    head = [_("<b>Your consent</b> – the dialog about {child}").format(child=child_in_chat(dialog))]
    if consents:
        head.append(_("Your answers:") + "\n" + "\n".join(
            f"• {fmt_datetime(c.created_at)}: {answer_label(c.answer)}" for c in consents))

    if latest is not None and latest.answer == consent_rules.GIVEN:
        head.append(_("You gave your consent on {when}. This is exactly what you were shown then:").format(
            when=fmt_datetime(latest.created_at)))
        await message.answer("\n\n".join(head), protect_content=True)
        await message.answer(latest.text_shown, protect_content=True)  # stored HTML, as it was sent
        listed = json.loads(latest.participants_shown or "[]")
        await message.answer(
            _("<b>The participants you consented to</b>\n{names}\n\n"
              "You can withdraw your consent at any time. The dialog then pauses at once.").format(
                names="\n".join(f"• {name}" for name in listed)),  # stored as shown: already escaped
            protect_content=True,
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[button(
                _("Withdraw my consent"), ConsentViewCb(action=ConsentViewAction.WITHDRAW, dialog_id=dialog.id)),
                button(_("Read more about your data"), DataInfoCb(dialog_id=dialog.id))]))
        return

    if latest is not None and latest.answer == consent_rules.WITHDRAWN:
        head.append(_("You withdrew your consent on {when}.").format(when=fmt_datetime(latest.created_at)))
        if dialog.state == PAUSED:
            head.append(_("The dialog is paused: nobody can see or write anything in it."))
    else:
        head.append(_("You have not given your consent to this dialog."))
    head.append(_("If you want to give your consent, read the text below and answer."))
    await message.answer("\n\n".join(head), protect_content=True)
    await send_consent_card(message, session, dialog, seat)


def privacy_text(settings: Settings, coordinator: Person | None) -> str:
    """"Read more about your data" (under the consent card and in /samtykke): the fuller text
    behind the card's short one (GDPR art. 13), in the same plain words."""
    municipality = html.quote(settings.municipality_name)
    parts = [_("<b>Your data in Samspil</b>")]
    responsible = _("<b>Who is responsible?</b>\n{municipality} is responsible for your data.").format(
        municipality=municipality)
    if settings.municipality_privacy_contact.strip():
        responsible += " " + _("Questions about your data: {contact}").format(
            contact=html.quote(settings.municipality_privacy_contact.strip()))
    if coordinator is not None:
        responsible += "\n" + _("Your coordinator is {name}.").format(name=html.quote(coordinator.name or ""))
    parts.append(responsible)
    parts.append(_(
        "<b>What do we keep?</b>\n"
        "Your name and your role in the dialog. What you write, your number on the ruler, your answers "
        "(for example your consent) and when you gave them. Everything is stored encrypted. "
        "Never write a CPR number: Samspil does not keep them."))
    parts.append(_(
        "<b>Who sees what?</b>\n"
        "What you share, the people in the dialog see. The family decides who takes part. "
        "What you have not shared, only you see. The coordinator sees who has answered."))
    parts.append(_(
        "<b>How long?</b>\n"
        "While the dialog goes on. When it is closed, the data is kept for {period}. Then it is deleted.").format(
            period=retention_period(settings)))
    parts.append(_(
        "<b>Your rights</b>\n"
        "• /samtykke: see your consent, or withdraw it\n"
        "• /mine_data: get a copy of your data\n"
        "• /slet_mine_data: have your data erased\n"
        "You can also complain to Datatilsynet (the Danish Data Protection Agency)."))
    parts.append(_("Samspil uses Telegram. What you see here is also kept on your phone."))
    return "\n\n".join(parts)


def withdraw_text(dialog: Dialog) -> str:
    return _(
        "<b>Withdraw your consent to the dialog about {child}?</b>\n\n"
        "If you withdraw it:\n"
        "• the dialog pauses at once: nobody can read or write anything in it, and no reminders are sent\n"
        "• your coordinator is told\n"
        "• what has been written is kept, but nobody can see it while the dialog is paused\n\n"
        "You can give your consent again at any time with /samtykke, and the dialog continues."
    ).format(child=child_in_chat(dialog))


# ---- a participant added after the start ----------------------------------------------------


def approval_keyboard(newcomer: Participant) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("✅ Approve"), callback_data=ApproveCb(answer="yes", participant_id=newcomer.id).pack()),
        InlineKeyboardButton(text=_("✖️ Refuse"), callback_data=ApproveCb(answer="no", participant_id=newcomer.id).pack()),
    ]])


@renderer("newcomer_approval")
async def _newcomer_approval(ctx: RenderContext, payload: dict) -> Rendered | None:
    newcomer = await ctx.session.get(Participant, payload["participant_id"])
    if newcomer is None or newcomer.approval != consent_rules.PENDING:
        return None
    if payload["approver_id"] in await pv.approval_answers(ctx.session, newcomer):
        return None
    dialog = newcomer.dialog
    coordinator = await ctx.session.get(Person, dialog.coordinator_id)
    return Rendered(_(
        "👤 <b>A new participant?</b> – the dialog about {child}\n\n"
        "{coordinator} would like to add {who} ({role}) to the dialog.\n\n"
        "The family decides who takes part: {name} only gets in when the parents with custody "
        "(or the young person) have approved. Do you approve?").format(
            child=child_in_chat(dialog), coordinator=html.quote(coordinator.name or "") if coordinator else "",
            who=texts.who(newcomer), role=texts.role_label(newcomer.role), name=html.quote(newcomer.name)),
        approval_keyboard(newcomer))


@renderer("newcomer_approved")
async def _newcomer_approved(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None or p.approval != consent_rules.APPROVED:
        return None
    # staff: a notice to the coordinator
    text = _("✅ The family has approved {who} in the dialog about {child}.").format(
        who=texts.who(p), child=child_in_chat(p.dialog))
    if p.offline:  # no link: the coordinator writes for them (handlers/on_behalf.py)
        # staff: a notice to the coordinator
        text += " " + _("{name} takes part without Telegram: you write for {name} with /paa_vegne.").format(
            name=html.quote(p.name))
    elif p.joined_at is not None:
        # staff: a notice to the coordinator
        text += " " + _("{name} had already opened the link and is now part of the dialog.").format(
            name=html.quote(p.name))
    else:
        # staff: a notice to the coordinator
        text += " " + _("The link works as soon as {name} opens it.").format(name=html.quote(p.name))
    return Rendered(text)


@renderer("newcomer_refused")
async def _newcomer_refused(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None or p.approval != consent_rules.REFUSED:
        return None
    # staff: a notice to the coordinator
    return Rendered(_(
        "✖️ The family has not approved {who} in the dialog about {child}. "
        "The invitation has been withdrawn and the link no longer works.").format(
            who=texts.who(p), child=child_in_chat(p.dialog)))


@renderer("newcomer_welcome")
async def _newcomer_welcome(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None or p.joined_at is None or p.dialog.state == CLOSED:
        return None
    text = _("Welcome, {name}. The family has approved you, and you are now part of the dialog about {child}.").format(
        name=html.quote(p.name), child=child_in_chat(p.dialog))
    if p.dialog.state == PAUSED:
        return Rendered(text + "\n\n" + texts.refusal(Refusal.PAUSED, p.dialog))
    return Rendered(text + "\n\n" + _("Type /hjaelp to see what you can do."))


@renderer("invitation_withdrawn")
async def _invitation_withdrawn(ctx: RenderContext, payload: dict) -> Rendered | None:
    # No name of the child: the family did not let this person in.
    return Rendered(_(
        "Your invitation has been withdrawn, so you will not be part of that dialog. "
        "If you have questions, talk to the coordinator who invited you."))


# ---- /mine_data --------------------------------------------------------------------------------


def pdf_labels(config: DialogConfig, now: datetime) -> dict[str, Any]:
    """Every text the PDF needs, in the person's language (the Mini App's download uses the same)."""
    return my_data.labels(config, now)


# ---- /slet_mine_data ---------------------------------------------------------------------------


def keep_lines(keep: frozenset[str]) -> list[str]:
    return [label for key, label in (
        ("consents", _("your consent answers (what you were shown, and when)")),
        ("plan", _("your tasks in plans, and whether you agreed to a plan")),
        ("input", _("the input you have shared")),
        ("scores", _("your scores on the ruler")),
    ) if key in keep]


def erase_text(keep: frozenset[str]) -> str:
    kept = keep_lines(keep)
    kept_text = ("\n".join(f"• {line}" for line in kept)) if kept else _("Nothing is kept.")
    return _(
        "<b>Erase your data in Samspil?</b>\n\n"
        "This erases:\n"
        "• your name and the link to your Telegram account\n"
        "• what you have written: your input (also drafts) and your comments\n"
        "• your answers to meeting invitations\n\n"
        "The municipality must keep some records by law. They are kept, but without your name:\n"
        "{kept}\n\n"
        "Your coordinator is told. Afterwards Samspil no longer knows you. This cannot be undone.\n\n"
        "Tip: get a copy of your data first with /mine_data."
    ).format(kept=kept_text)


def coordinator_refusal() -> str:
    # staff: only a coordinator can meet this
    return _("You are the coordinator of dialogs that are not closed. Close them with /luk "
             "(or have them handed over) before your data can be erased.")


@renderer("person_erased")
async def _person_erased(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None:
        return None
    # staff: a notice to the coordinator
    text = _(
        "{who} in the dialog about {child} has had their personal data erased from Samspil. "
        "What the municipality must keep is kept without their name.").format(
            who=texts.who(p), child=child_in_chat(p.dialog))
    if p.consent_giver and p.dialog.state == PAUSED:
        # staff: a notice to the coordinator
        text += "\n\n" + _("They gave consent to the dialog, so it is paused. Talk to the family about how to go on.")
    return Rendered(text)


# ---- /luk -------------------------------------------------------------------------------------


@renderer("dialog_closed")
async def _dialog_closed(ctx: RenderContext, payload: dict) -> Rendered | None:
    dialog = await ctx.session.get(Dialog, payload["dialog_id"])
    if dialog is None or dialog.state != CLOSED:
        return None
    return Rendered(_(
        "🔒 <b>The dialog about {child} has been closed</b> by the coordinator.\n\n"
        "<b>Reason:</b> {reason}\n\n"
        "Nothing can be seen or added in Samspil any more. The information is kept for {period}, "
        "as the law requires, and then deleted.").format(
            child=child_in_chat(dialog), reason=html.quote(dialog.close_reason or ""),
            period=retention_period(ctx.settings)))

