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
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import threading
from datetime import date, datetime
from html import unescape
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from aiogram import Bot, F, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import fmt_date, fmt_datetime
from bot.notices import Notices, RenderContext, Rendered, renderer
from handlers import texts
from handlers.answers import NOT_COMMAND, read_answer
from handlers.choose import Id, PickDialogCb, drop_notice_buttons, pick_dialog
from handlers.join import consent_text, send_consent_card
from handlers.meetings import call_newcomer
from rules import consent as consent_rules
from rules.access import CLOSED, PAUSED, Action, Refusal, decide
from rules.dialog_config import DialogConfig
from rules.roles import COORDINATOR, STAFF_COORDINATOR
from storage import audit
from storage import privacy as pv
from storage import queries as q
from storage.models import Dialog, Participant, Person

log = logging.getLogger("samspil.privacy")

router = Router(name="privacy")

CLOSE_REASON_LIMIT = 500


class ConsentViewCb(CallbackData, prefix="sam"):
    action: str  # withdraw | withdraw_yes | keep
    dialog_id: Id


class ApproveCb(CallbackData, prefix="appr"):
    answer: str  # yes | no
    participant_id: Id  # the newcomer


class EraseCb(CallbackData, prefix="erase"):
    action: str  # yes | no


class CloseCb(CallbackData, prefix="luk"):
    action: str  # dialog | yes | no
    dialog_id: Id


class CloseFlow(StatesGroup):
    choose = State()
    reason = State()
    confirm = State()


def _locale() -> str:
    return I18n.get_current().current_locale


def _button(text: str, data: CallbackData) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=text, callback_data=data.pack())]


async def _drop_buttons(query: CallbackQuery) -> None:
    if query.message:
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except TelegramBadRequest:
            pass


async def _audit(session: AsyncSession, **kwargs: Any) -> None:
    await audit.record(session, **kwargs)


# ==== /samtykke: what you consented to, and withdrawing it =====================================


def answer_label(answer: str) -> str:
    return {
        consent_rules.GIVEN: _("consent given"),
        consent_rules.TALK_FIRST: _("wanted to talk to the coordinator first"),
        consent_rules.DECLINED: _("said no thanks"),
        consent_rules.WITHDRAWN: _("consent withdrawn"),
    }.get(answer, answer)


@router.message(Command("samtykke"))
async def consent_command(message: Message, session: AsyncSession, person: Person | None,
                          state: FSMContext) -> None:
    seat = await pick_dialog(message, session, person, "samtykke", Action.CONSENT)
    if seat is not None:
        await state.clear()
        await show_consent(message, session, seat)


@router.callback_query(PickDialogCb.filter(F.flow == "samtykke"))
async def consent_picked(query: CallbackQuery, callback_data: PickDialogCb, session: AsyncSession,
                         person: Person | None) -> None:
    seat, decision = await _consent_seat(session, person, callback_data.dialog_id)
    if not decision:
        await query.answer(texts.refusal(decision.refusal, seat.dialog if seat else None), show_alert=True)
        return
    await query.answer()
    await show_consent(query.message, session, seat)


async def _consent_seat(session: AsyncSession, person: Person | None, dialog_id: int):  # type: ignore[no-untyped-def]
    seat = await q.participant_in(session, person, dialog_id)
    return seat, decide(q.seat(seat), seat.dialog.state if seat else "", Action.CONSENT)


async def show_consent(message: Message, session: AsyncSession, seat: Participant) -> None:
    """The stored consent: when, the exact text shown, the list shown; withdraw, or consent again."""
    dialog = seat.dialog
    consents = await pv.consents_of(session, seat)
    latest = consents[-1] if consents else None
    head = [_("<b>Your consent</b> – the dialog about {child}").format(child=html.quote(dialog.child_name))]
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
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[_button(
                _("Withdraw my consent"), ConsentViewCb(action="withdraw", dialog_id=dialog.id))]))
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


def withdraw_text(dialog: Dialog) -> str:
    return _(
        "<b>Withdraw your consent to the dialog about {child}?</b>\n\n"
        "If you withdraw it:\n"
        "• the dialog pauses at once: nobody can read or write anything in it, and no reminders are sent\n"
        "• your coordinator is told\n"
        "• what has been written is kept, but nobody can see it while the dialog is paused\n\n"
        "You can give your consent again at any time with /samtykke, and the dialog continues."
    ).format(child=html.quote(dialog.child_name))


@router.callback_query(ConsentViewCb.filter())
async def consent_view_button(
    query: CallbackQuery, callback_data: ConsentViewCb, session: AsyncSession, person: Person | None,
    clock: Clock, bot: Bot, notices: Notices,
) -> None:
    seat, decision = await _consent_seat(session, person, callback_data.dialog_id)
    if not decision:
        await query.answer(texts.refusal(decision.refusal, seat.dialog if seat else None), show_alert=True)
        return
    action = callback_data.action
    # A withdrawal changes whether the dialog is open: one consent change at a time (as joining).
    dialog = await q.lock_dialog(session, seat.dialog_id) if action == "withdraw_yes" else seat.dialog
    if action == "keep":
        await query.answer(_("Good – your consent stands."))
        await _drop_buttons(query)
        return
    if action not in ("withdraw", "withdraw_yes"):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    latest = (await q.latest_answers(session, dialog.id)).get(seat.id)
    if latest != consent_rules.GIVEN:
        await query.answer(_("Your consent is not given at the moment, so there is nothing to withdraw."),
                           show_alert=True)
        await _drop_buttons(query)
        return
    if action == "withdraw":
        await query.answer()
        await query.message.answer(withdraw_text(dialog), protect_content=True,
                                   reply_markup=InlineKeyboardMarkup(inline_keyboard=[
                                       _button(_("Yes, withdraw my consent"),
                                               ConsentViewCb(action="withdraw_yes", dialog_id=dialog.id)),
                                       _button(_("No, keep my consent"),
                                               ConsentViewCb(action="keep", dialog_id=dialog.id)),
                                   ]))
        return

    now = clock.now()
    coordinator = await session.get(Person, dialog.coordinator_id)
    _card, listed = consent_text(dialog, seat, coordinator)
    outcome = await q.record_consent(
        session, dialog=dialog, participant=seat, answer=consent_rules.WITHDRAWN,
        text_shown=withdraw_text(dialog), participants_shown=listed, locale=_locale(), now=now)
    await _audit(session, actor_id=person.id, dialog_id=dialog.id, action=audit.CONSENT_WITHDRAWN,
                 now=now, participant_id=seat.id, consent_id=outcome.consent_id)
    await query.answer()
    await _drop_buttons(query)
    await notices.add(session, to=coordinator, kind="consent_answer", key=f"consent:{outcome.consent_id}",
                      payload={"consent_id": outcome.consent_id}, dialog_id=dialog.id)
    if outcome.state_after == PAUSED:
        reply = _("Your consent was withdrawn {when}. The dialog about {child} is paused, and the others "
                  "no longer have access. Your coordinator has been told.")
    else:
        reply = _("Your consent was withdrawn {when}. The dialog about {child} does not start without it. "
                  "Your coordinator has been told.")
    reply = reply.format(when=fmt_datetime(now), child=html.quote(dialog.child_name))
    await bot.send_message(person.telegram_id, reply + "\n\n" + _("If you change your mind, type /samtykke."))
    log.info("consent withdrawn dialog_id=%s participant_id=%s state=%s", dialog.id, seat.id, outcome.state_after)


# ==== a participant added after the start: the family approves ====================================


async def ask_approval(session: AsyncSession, notices: Notices, dialog: Dialog, newcomer: Participant) -> list[Participant]:
    """Mark `newcomer` as waiting and ask every consent giver; returns who was asked."""
    newcomer.approval = consent_rules.PENDING
    asked = pv.approvers(dialog, newcomer)
    for approver in asked:
        await notices.add(session, to=approver, kind="newcomer_approval", key=f"approve:{newcomer.id}:{approver.id}",
                          payload={"participant_id": newcomer.id, "approver_id": approver.id})
    return asked


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
            child=html.quote(dialog.child_name), coordinator=html.quote(coordinator.name or "") if coordinator else "",
            who=texts.who(newcomer), role=texts.role_label(newcomer.role), name=html.quote(newcomer.name)),
        approval_keyboard(newcomer))


@router.callback_query(ApproveCb.filter())
async def approval_answer(
    query: CallbackQuery, callback_data: ApproveCb, session: AsyncSession, person: Person | None,
    clock: Clock, notices: Notices, settings: Settings,
) -> None:
    newcomer = await session.get(Participant, callback_data.participant_id)
    if newcomer is None or callback_data.answer not in ("yes", "no"):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    # Two parents answering at the same moment must both be counted: one at a time.
    dialog = await q.lock_dialog(session, newcomer.dialog_id)
    await session.refresh(newcomer)
    me = await q.participant_in(session, person, dialog.id)
    decision = decide(q.seat(me), dialog.state, Action.APPROVE)
    if decision and me.id not in {a.id for a in pv.approvers(dialog, newcomer)}:
        decision = decide(None, dialog.state, Action.APPROVE)  # e.g. a pending newcomer themselves
    if not decision:
        await query.answer(texts.refusal(decision.refusal, dialog if me else None), show_alert=True)
        return
    if newcomer.approval != consent_rules.PENDING:
        await query.answer(_("That has already been decided."), show_alert=True)
        await drop_notice_buttons(query)
        return
    if me.id in await pv.approval_answers(session, newcomer):
        await query.answer(_("You have already answered."), show_alert=True)
        await drop_notice_buttons(query)
        return

    now = clock.now()
    approved = callback_data.answer == "yes"
    outcome = await pv.record_approval(session, newcomer, me, approved, now)
    await _audit(session, actor_id=person.id, dialog_id=dialog.id, now=now, participant_id=newcomer.id,
                 action=audit.APPROVAL_GIVEN if approved else audit.APPROVAL_REFUSED)
    await query.answer()
    await drop_notice_buttons(query)
    coordinator = await session.get(Person, dialog.coordinator_id)
    who, child = texts.who(newcomer), html.quote(dialog.child_name)
    if outcome == consent_rules.APPROVED:
        if newcomer.person_id is not None:
            await pv.admit(session, newcomer, now)
        await notices.add(session, to=coordinator, kind="newcomer_approved", key=f"approved:{newcomer.id}",
                          payload={"participant_id": newcomer.id}, dialog_id=dialog.id)
        if newcomer.person_id is not None:
            await notices.add(session, to=newcomer, kind="newcomer_welcome", key=f"welcome:{newcomer.id}",
                              payload={"participant_id": newcomer.id})
            await call_newcomer(session, notices, settings, dialog, newcomer, now)
        reply = _("Thank you. {who} can now take part in the dialog about {child}.").format(who=who, child=child)
    elif outcome == consent_rules.REFUSED:
        await pv.revoke_invitations(session, newcomer, now)
        opened_by = await session.get(Person, newcomer.person_id) if newcomer.person_id else None
        newcomer.person_id = None  # they never got in: the link between them and the seat goes
        if opened_by is not None:
            await notices.add(session, to=opened_by, kind="invitation_withdrawn", key=f"withdrawn:{newcomer.id}",
                              payload={"participant_id": newcomer.id}, dialog_id=dialog.id)
        await notices.add(session, to=coordinator, kind="newcomer_refused", key=f"refused:{newcomer.id}",
                          payload={"participant_id": newcomer.id}, dialog_id=dialog.id)
        reply = _("You have said no to {who}. The invitation is withdrawn, and the coordinator is told.").format(
            who=who)
    else:
        answers = await pv.approval_answers(session, newcomer)
        waiting = [a for a in pv.approvers(dialog, newcomer) if a.id not in answers]
        reply = _("Thank you. {who} gets in when {names} has also approved.").format(
            who=who, names=", ".join(html.quote(a.name) for a in waiting))
    await query.message.answer(reply)


@renderer("newcomer_approved")
async def _newcomer_approved(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None or p.approval != consent_rules.APPROVED:
        return None
    text = _("✅ The family has approved {who} in the dialog about {child}.").format(
        who=texts.who(p), child=html.quote(p.dialog.child_name))
    if p.joined_at is not None:
        text += " " + _("{name} had already opened the link and is now part of the dialog.").format(
            name=html.quote(p.name))
    else:
        text += " " + _("The link works as soon as {name} opens it.").format(name=html.quote(p.name))
    return Rendered(text)


@renderer("newcomer_refused")
async def _newcomer_refused(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None or p.approval != consent_rules.REFUSED:
        return None
    return Rendered(_(
        "✖️ The family has not approved {who} in the dialog about {child}. "
        "The invitation has been withdrawn and the link no longer works.").format(
            who=texts.who(p), child=html.quote(p.dialog.child_name)))


@renderer("newcomer_welcome")
async def _newcomer_welcome(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None or p.joined_at is None or p.dialog.state == CLOSED:
        return None
    text = _("Welcome, {name}. The family has approved you, and you are now part of the dialog about {child}.").format(
        name=html.quote(p.name), child=html.quote(p.dialog.child_name))
    if p.dialog.state == PAUSED:
        return Rendered(text + "\n\n" + texts.refusal(Refusal.PAUSED, p.dialog))
    return Rendered(text + "\n\n" + _("Type /hjaelp to see what you can do."))


@renderer("invitation_withdrawn")
async def _invitation_withdrawn(ctx: RenderContext, payload: dict) -> Rendered | None:
    # No name of the child: the family did not let this person in.
    return Rendered(_(
        "Your invitation has been withdrawn, so you will not be part of that dialog. "
        "If you have questions, talk to the coordinator who invited you."))


# ==== /mine_data ================================================================================


@router.message(Command("mine_data"))
async def my_data(message: Message, session: AsyncSession, person: Person | None, clock: Clock,
                  dialog_config: DialogConfig, settings: Settings) -> None:
    if person is None:
        await message.answer(_("Samspil has no data about you."))
        return
    now = clock.now()
    data = await pv.export_person(session, person, now)
    await _audit(session, actor_id=person.id, dialog_id=None, action=audit.EXPORT, now=now, person_id=person.id)
    stamp = now.astimezone(settings.tz).strftime("%Y-%m-%d")
    raw = json.dumps(data, ensure_ascii=False, indent=2).encode()
    labels = _pdf_labels(dialog_config, now)
    pdf = await asyncio.to_thread(_render_pdf, data, labels)
    await message.answer(_(
        "Here is everything Samspil stores about you and everything you have written: "
        "a file for computers (JSON) and a readable PDF.\n\n"
        "Keep them somewhere safe – they contain personal data."))
    await message.answer_document(BufferedInputFile(raw, filename=f"samspil-mine-data-{stamp}.json"),
                                  protect_content=True)
    await message.answer_document(BufferedInputFile(pdf, filename=f"samspil-mine-data-{stamp}.pdf"),
                                  protect_content=True)
    log.info("data exported person_id=%s", person.id)


_PDF_LOCK = threading.Lock()
_FONT_DIR = Path(__file__).resolve().parent.parent / "reports" / "fonts"
_TAG = re.compile(r"<[^>]+>")


def _pdf_labels(config: DialogConfig, now: datetime) -> dict[str, Any]:
    """Every text the PDF needs, translated here (in the person's language) before the thread."""
    loc = _locale()
    areas = {a.key: a.label(loc) for a in config.areas}
    return {
        "title": _("Your data in Samspil"),
        "intro": _("Everything Samspil stores about you and everything you have written, on {date}."),
        "exported": fmt_datetime(now),
        "person": _("About you"), "name": _("Name"), "telegram": _("Telegram id"),
        "language": _("Language"), "created": _("Registered"), "role": _("Role"),
        "seats": _("Your dialogs"), "consents": _("Your consent answers"),
        "shown": _("What you were shown"), "approvals": _("Your answers about new participants"),
        "input": _("Your input"), "draft": _("draft – only you can see it"), "shared": _("shared"),
        "scores": _("Your scores"), "meetings": _("Your answers to meeting invitations"),
        "plan_answers": _("Your answers to plans"), "tasks": _("Your tasks"),
        "audit": _("Log of your actions"), "none": _("Nothing."),
        "coming": _("coming"), "not_coming": _("not coming"), "agrees": _("agreed"),
        "comment": _("comment"), "approved": _("approved"), "refused": _("refused"),
        "dialog": _("The dialog about {child}"),
        "boxes": {"worries": texts.box_title("worries"), "works": texts.box_title("works"),
                  "next_steps": texts.box_title("next_steps")},
        "answers": {a: answer_label(a) for a in consent_rules.ANSWERS},
        "roles": {r: texts.role_label(r) for r in ("coordinator", "parent_custody", "parent", "young",
                                                    "professional", "network")},
        "areas": areas,
    }


def _render_pdf(data: dict[str, Any], labels: dict[str, Any]) -> bytes:
    """A plain, readable PDF of the export (reportlab; DejaVu Sans when it is installed)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    with _PDF_LOCK:
        font, bold = "Helvetica", "Helvetica-Bold"
        regular_path, bold_path = _FONT_DIR / "DejaVuSans.ttf", _FONT_DIR / "DejaVuSans-Bold.ttf"
        if regular_path.exists():
            if "SamspilPrivacy" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont("SamspilPrivacy", str(regular_path)))
                pdfmetrics.registerFont(TTFont("SamspilPrivacy-Bold", str(bold_path if bold_path.exists() else regular_path)))
            font, bold = "SamspilPrivacy", "SamspilPrivacy-Bold"
        body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14)
        small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11)
        h1 = ParagraphStyle("h1", fontName=bold, fontSize=18, leading=22, spaceAfter=8)
        h2 = ParagraphStyle("h2", fontName=bold, fontSize=13, leading=17, spaceBefore=12, spaceAfter=4)
        L = labels

        def p(text: Any, style: ParagraphStyle = body) -> Paragraph:
            return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)

        def kv(label: str, value: Any) -> Paragraph:
            mark = "" if label.endswith(("?", ":")) else ":"
            return Paragraph(f"<font name='{bold}'>{escape(label)}{mark}</font> "
                             + escape(str(value if value is not None else "–")).replace("\n", "<br/>"), body)

        def plain(html_text: str) -> str:
            return unescape(_TAG.sub("", html_text or ""))

        def when(iso: str | None) -> str:
            """An ISO time or date from the export, in the reader's language and time zone."""
            if not iso:
                return "–"
            if len(iso) == 10:
                return fmt_date(date.fromisoformat(iso))
            return fmt_datetime(datetime.fromisoformat(iso))

        dialogs = {s["dialog_id"]: s["child"] for s in data["seats"]}

        def dialog_name(dialog_id: int) -> str:
            return L["dialog"].format(child=dialogs.get(dialog_id, f"#{dialog_id}"))

        story: list[Any] = [p(L["title"], h1), p(L["intro"].format(date=L["exported"]), small), Spacer(1, 6)]
        person = data["person"]
        story += [p(L["person"], h2), kv(L["name"], person["name"]), kv(L["telegram"], person["telegram_id"]),
                  kv(L["language"], person["language"]), kv(L["created"], when(person["created_at"]))]
        story.append(p(L["seats"], h2))
        for s in data["seats"] or [None]:
            if s is None:
                story.append(p(L["none"]))
                continue
            story.append(p(f"{dialog_name(s['dialog_id'])}: {s['name']} – {L['roles'].get(s['role'], s['role'])}"
                           + (f" ({s['relation']})" if s["relation"] else "")))
        story.append(p(L["consents"], h2))
        for c in data["consents"] or [None]:
            if c is None:
                story.append(p(L["none"]))
                continue
            story.append(kv(f"{when(c['at'])} · {dialog_name(c['dialog_id'])}", L["answers"].get(c["answer"], c["answer"])))
            story.append(p(f"{L['shown']}: {plain(c['text_shown'])}", small))
        if data["approvals_given"]:
            story.append(p(L["approvals"], h2))
            for a in data["approvals_given"]:
                story.append(p(f"{when(a['at'])} · {dialog_name(a['dialog_id'])}: "
                               f"{L['approved'] if a['approved'] else L['refused']}"))
        story.append(p(L["input"], h2))
        for e in data["input_entries"] or [None]:
            if e is None:
                story.append(p(L["none"]))
                continue
            status = L["shared"] if e["status"] == "shared" else L["draft"]
            story.append(Paragraph(f"<font name='{bold}'>{escape(L['areas'].get(e['area'], e['area']))}</font>"
                                   f" · {escape(dialog_name(e['dialog_id']))} · {escape(status)}"
                                   f" · {escape(when(e['shared_at'] or e['updated_at']))}", body))
            for box in ("worries", "works", "next_steps"):
                if e[box]:
                    story.append(kv(L["boxes"][box], e[box]))
            story.append(Spacer(1, 4))
        story.append(p(L["scores"], h2))
        for s in data["scores"] or [None]:
            story.append(p(L["none"]) if s is None else p(f"{when(s['at'])} · {dialog_name(s['dialog_id'])}: {s['value']}"))
        if data["meeting_responses"]:
            story.append(p(L["meetings"], h2))
            for r in data["meeting_responses"]:
                story.append(p(f"{when(r['meeting_starts_at'])} · {dialog_name(r['dialog_id'])}: "
                               f"{L['coming'] if r['coming'] else L['not_coming']}"))
        if data["plan_answers"]:
            story.append(p(L["plan_answers"], h2))
            for a in data["plan_answers"]:
                line = f"{when(a['at'])} · {dialog_name(a['dialog_id'])}: " + (L["agrees"] if a["agrees"] else L["comment"])
                story.append(p(line + (f" – {a['comment']}" if a["comment"] else "")))
        if data["tasks"]:
            story.append(p(L["tasks"], h2))
            for t in data["tasks"]:
                story.append(p(f"{dialog_name(t['dialog_id'])}: {t['what']} ({when(t['starts_on'])} – {when(t['ends_on'])})"))
        if data["audit"]:
            story.append(p(L["audit"], h2))
            for a in data["audit"]:
                story.append(p(f"{when(a.get('at'))} · {a.get('action')} · #{a.get('dialog_id') or ''}", small))

        out = io.BytesIO()
        doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2 * cm,
                                bottomMargin=2 * cm, title=L["title"], author="Samspil")
        doc.build(story)
        return out.getvalue()


# ==== /slet_mine_data ==============================================================================


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


def _coordinator_refusal() -> str:
    return _("You are the coordinator of dialogs that are not closed. Close them with /luk "
             "(or have them handed over) before your data can be erased.")


@router.message(Command("slet_mine_data"))
async def erase_command(message: Message, session: AsyncSession, person: Person | None,
                        settings: Settings, state: FSMContext) -> None:
    if person is None:
        await message.answer(_("Samspil has no data about you."))
        return
    await state.clear()
    if await pv.coordinates_open_dialogs(session, person):
        await message.answer(_coordinator_refusal())
        return
    await message.answer(erase_text(settings.keep_on_erase_set), reply_markup=InlineKeyboardMarkup(inline_keyboard=[
        _button(_("Yes, erase my data"), EraseCb(action="yes")),
        _button(_("No, keep my data"), EraseCb(action="no")),
    ]))


@router.callback_query(EraseCb.filter())
async def erase_answer(query: CallbackQuery, callback_data: EraseCb, session: AsyncSession, person: Person | None,
                       clock: Clock, settings: Settings, notices: Notices, state: FSMContext) -> None:
    if person is None or callback_data.action not in ("yes", "no"):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    await _drop_buttons(query)
    if callback_data.action == "no":
        await query.answer()
        await query.message.answer(_("Nothing was erased."))
        return
    if await pv.coordinates_open_dialogs(session, person):
        await query.answer(_coordinator_refusal(), show_alert=True)
        return
    await query.answer()
    await state.clear()
    await erase_and_tell(session, notices, person, now=clock.now(), keep=settings.keep_on_erase_set,
                         text_shown=erase_text(settings.keep_on_erase_set), locale=_locale(), actor_id=person.id)
    await query.message.answer(_(
        "Your data has been erased. Samspil no longer knows you.\n\nThank you for taking part."))


async def erase_and_tell(session: AsyncSession, notices: Notices, person: Person, *, now: datetime,
                         keep: frozenset[str], text_shown: str, locale: str, actor_id: int | None,
                         actor_role: str | None = None) -> pv.Erasure:
    """Erase a person's data (the bot's command and the administrator's), and tell the coordinators.

    A consent giver who had consented to a dialog that is not closed withdraws first:
    the dialog pauses, as the family's consent is no longer whole.
    """
    person_id = person.id
    for seat in await q.seats_of(session, person):
        if not (seat.consent_giver and seat.joined_at is not None and seat.dialog.state != CLOSED):
            continue
        dialog = await q.lock_dialog(session, seat.dialog_id)
        if (await q.latest_answers(session, dialog.id)).get(seat.id) == consent_rules.GIVEN:
            outcome = await q.record_consent(
                session, dialog=dialog, participant=seat, answer=consent_rules.WITHDRAWN, text_shown=text_shown,
                participants_shown=[], locale=locale, now=now)
            await _audit(session, actor_id=actor_id, dialog_id=dialog.id, action=audit.CONSENT_WITHDRAWN,
                         now=now, participant_id=seat.id, consent_id=outcome.consent_id, role=actor_role)
    result = await pv.erase_person(session, person, now=now, keep=keep)
    for dialog_id, participant_id, coordinator_id in result.tell:
        coordinator = await session.get(Person, coordinator_id)
        await notices.add(session, to=coordinator, kind="person_erased", key=f"erased:{participant_id}",
                          payload={"participant_id": participant_id}, dialog_id=dialog_id)
    await _audit(session, actor_id=actor_id, dialog_id=None, action=audit.PERSON_DELETED, now=now,
                 person_id=person_id, role=actor_role)
    log.info("person erased person_id=%s seats=%s deleted=%s anonymised=%s", person_id, result.seats,
             result.deleted, result.anonymised)
    return result


@renderer("person_erased")
async def _person_erased(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None:
        return None
    text = _(
        "{who} in the dialog about {child} has had their personal data erased from Samspil. "
        "What the municipality must keep is kept without their name.").format(
            who=texts.who(p), child=html.quote(p.dialog.child_name))
    if p.consent_giver and p.dialog.state == PAUSED:
        text += "\n\n" + _("They gave consent to the dialog, so it is paused. Talk to the family about how to go on.")
    return Rendered(text)


# ==== /luk: closing a dialog ========================================================================


def _is_coordinator(person: Person | None) -> bool:
    return person is not None and person.staff_role == STAFF_COORDINATOR


async def _may_close(session: AsyncSession, person: Person | None, dialog_id: int) -> tuple[Dialog | None, str | None]:
    """The dialog, and None; or None and the refusal to show (checked on the server, every time).

    The refusal is the rules' reason; the dialog (its child's name) is named only to someone
    who holds a seat in it.
    """
    dialog = await q.get_dialog(session, dialog_id) if dialog_id else None
    seat = await q.participant_in(session, person, dialog.id) if dialog else None
    decision = decide(q.seat(seat), dialog.state if dialog else "", Action.CLOSE)
    if decision:
        return dialog, None
    return None, texts.refusal(decision.refusal, dialog if seat else None)


async def _closable(session: AsyncSession, person: Person | None, dialog_id: int) -> Dialog | None:
    """The dialog, only if the sender may close it."""
    return (await _may_close(session, person, dialog_id))[0]


@router.message(Command("luk"))
async def close_command(message: Message, session: AsyncSession, person: Person | None, state: FSMContext) -> None:
    if not _is_coordinator(person):
        await message.answer(_("That command is for coordinators (tovholdere). Type /hjaelp to see what you can do."))
        return
    await state.clear()
    dialogs = [d for d in await q.coordinator_dialogs(session, person) if await _closable(session, person, d.id)]
    if not dialogs:
        await message.answer(_("You have no open dialogs to close."))
        return
    if len(dialogs) == 1:
        await _ask_reason(message, state, dialogs[0])
        return
    await state.set_state(CloseFlow.choose)
    await message.answer(_("Which dialog do you want to close?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=[
        _button(f"{d.child_name} (#{d.id})", CloseCb(action="dialog", dialog_id=d.id)) for d in dialogs]))


async def _ask_reason(message: Message, state: FSMContext, dialog: Dialog) -> None:
    await state.set_state(CloseFlow.reason)
    await state.set_data({"dialog_id": dialog.id})
    await message.answer(_(
        "<b>Close the dialog about {child}</b>\n\n"
        "Why is the dialog being closed? Write a short reason, e.g. \"The goals have been reached.\"\n"
        "The participants are told the reason.").format(child=html.quote(dialog.child_name)))


@router.message(CloseFlow.choose, NOT_COMMAND)
async def close_choose_typed(message: Message) -> None:
    await message.answer(_("Please choose with one of the buttons above."))


@router.message(CloseFlow.reason, NOT_COMMAND)
async def close_reason(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                       settings: Settings) -> None:
    dialog, refused = await _may_close(session, person, int((await state.get_data()).get("dialog_id", 0)))
    if dialog is None:
        await state.clear()
        await message.answer(refused)
        return
    reason = await read_answer(message, CLOSE_REASON_LIMIT)
    if reason is None:
        return
    await state.set_state(CloseFlow.confirm)
    await state.update_data(reason=reason)
    await message.answer(_(
        "<b>Close the dialog about {child}?</b>\n\n<b>Reason:</b> {reason}\n\n"
        "Everyone in the dialog is told that it is closed, and why. Afterwards nobody can see its content "
        "in Samspil. The data is kept for {period}, as the law requires, and then deleted.").format(
            child=html.quote(dialog.child_name), reason=html.quote(reason), period=retention_period(settings)),
        protect_content=True,
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[
            _button(_("Yes, close the dialog"), CloseCb(action="yes", dialog_id=dialog.id)),
            _button(_("Cancel"), CloseCb(action="no", dialog_id=dialog.id)),
        ]))


@router.message(CloseFlow.confirm, NOT_COMMAND)
async def close_confirm_typed(message: Message) -> None:
    await message.answer(_("Please choose with one of the buttons above."))


def retention_period(settings: Settings) -> str:
    days = int(getattr(settings, "retention_days", 0) or 0)
    if not days:
        return _("the retention period")
    if days % 365 == 0:
        return ngettext("{n} year", "{n} years", days // 365).format(n=days // 365)
    return ngettext("{n} day", "{n} days", days).format(n=days)


@router.callback_query(CloseCb.filter())
async def close_button(query: CallbackQuery, callback_data: CloseCb, session: AsyncSession, person: Person | None,
                       state: FSMContext, clock: Clock, notices: Notices) -> None:
    dialog, refused = await _may_close(session, person, callback_data.dialog_id)
    if dialog is None:
        await query.answer(refused, show_alert=True)
        await _drop_buttons(query)
        return
    action = callback_data.action
    await _drop_buttons(query)
    if action == "dialog":
        await query.answer()
        await _ask_reason(query.message, state, dialog)
        return
    if action == "no":
        await query.answer()
        await state.clear()
        await query.message.answer(_("Cancelled. The dialog is still open."))
        return
    data = await state.get_data()
    dialog = await q.lock_dialog(session, dialog.id)
    if action != "yes" or dialog.state == CLOSED or await state.get_state() != CloseFlow.confirm.state \
            or data.get("dialog_id") != dialog.id or not data.get("reason"):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    now = clock.now()
    pv.close_dialog(dialog, data["reason"], now)
    await state.clear()
    await query.answer()
    for p in dialog.participants:
        if p.joined_at is not None and p.person_id is not None and p.role != COORDINATOR:
            await notices.add(session, to=p, kind="dialog_closed", key=f"closed:{dialog.id}:{p.id}",
                              payload={"dialog_id": dialog.id})
    await query.message.answer(_(
        "The dialog about {child} is closed, and everyone in it has been told. "
        "You can still see it under /dialoger.").format(child=html.quote(dialog.child_name)))
    log.info("dialog closed dialog_id=%s", dialog.id)


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
            child=html.quote(dialog.child_name), reason=html.quote(dialog.close_reason or ""),
            period=retention_period(ctx.settings)))

