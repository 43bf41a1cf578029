"""Joining: `/start <token>` (registration or invitation link) and the consent answer."""

from __future__ import annotations

import hashlib
from contextlib import suppress
from datetime import datetime

from aiogram import Bot, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import fmt_date, fmt_datetime, locale_for
from bot.menus import set_commands_for
from bot.notices import Notices, RenderContext, Rendered, renderer
from handlers import texts
from handlers.choose import Id, drop_notice_buttons
from handlers.meetings import call_newcomer
from rules import consent as consent_rules
from rules.access import (
    ACTIVE,
    AWAITING_CONSENT,
    CLOSED,
    PAUSED,
    Action,
    Refusal,
    decide,
    shows_child_name,
)
from rules.roles import COORDINATOR, STAFF_COORDINATOR
from rules.tokens import is_expired, looks_like_token
from storage import audit
from storage import privacy as pv
from storage import queries as q
from storage.models import Consent, Dialog, Participant, Person

router = Router(name="join")


class RemoveSeatCb(CallbackData, prefix="rmseat"):
    participant_id: Id


class ConsentCb(CallbackData, prefix="consent"):
    answer: str  # given | talk_first | declined
    participant_id: Id
    shown: str = ""  # fingerprint of the card's text: an answer counts only for what was shown


# ---- /start with a token -----------------------------------------------------------------


@router.message(CommandStart(deep_link=True))
async def start_with_token(
    message: Message, command: CommandObject, session: AsyncSession, person: Person | None,
    clock: Clock, state: FSMContext, bot: Bot, notices: Notices, settings: Settings,
) -> None:
    # A bad link changes nothing: the step the person is in (if any) goes on. A link that
    # works starts afresh (`state.clear()` below).
    token = (command.args or "").strip()
    now = clock.now()
    if not looks_like_token(token):
        await message.answer(_link_unknown())
        return

    registration = await q.registration_by_token(session, token)
    if registration is not None:
        await _register(message, session, person, registration, now, bot, state)
        return

    invitation = await q.invitation_by_token(session, token)
    if invitation is None:
        await message.answer(_link_unknown())
        return
    participant = await session.get(Participant, invitation.participant_id)
    assert participant is not None
    # Joining and consenting change who hears what when the dialog opens: one at a time.
    dialog = await q.lock_dialog(session, participant.dialog_id)
    if invitation.revoked_at is not None or participant.approval == consent_rules.REFUSED:
        await message.answer(_invitation_withdrawn())
        return
    if participant.approval == consent_rules.PENDING:
        await _await_approval(message, session, person, participant, invitation, now, notices)
        return
    if person is not None and participant.person_id == person.id:
        await state.clear()
        await message.answer(_already_in(participant, dialog))
        await show_home(message, session, person)
        return
    if invitation.used_at is not None:
        await message.answer(_("This link has already been used. Ask your coordinator for a new one if you need it."))
        return
    if is_expired(invitation.expires_at, now):
        await message.answer(_("This link has expired. Ask your coordinator for a new one."))
        return
    if dialog.state == CLOSED:
        await message.answer(texts.refusal(Refusal.CLOSED, dialog))
        return

    await state.clear()
    person = person or await q.get_or_create_person(session, message.from_user.id, now)
    if person.locale is None:
        person.locale = locale_for(message.from_user, None)
    if (seat := await q.participant_in(session, person, dialog.id)) is not None:
        await message.answer(_already_in(seat, dialog))
        return
    invitation.used_at = now
    participant.person_id = person.id
    participant.joined_at = now
    participant.opened_by = telegram_account(message.from_user)
    if not person.name:
        person.name = participant.name
    await session.flush()
    await set_commands_for(bot, person, session)

    coordinator = await session.get(Person, dialog.coordinator_id)
    await notices.add(session, to=coordinator, kind="joined", key=f"joined:{participant.id}",
                      payload={"participant_id": participant.id}, dialog_id=dialog.id)

    if participant.consent_giver and dialog.state in (AWAITING_CONSENT,):
        await send_consent_card(message, session, dialog, participant)
    elif dialog.state == AWAITING_CONSENT:
        # Not the child's name: the family has not said yes, and the link may have been forwarded.
        await message.answer(_("Welcome, {name}. You have opened your invitation.").format(
            name=html.quote(participant.name)) + "\n\n" + texts.awaiting_consent())
    elif dialog.state == PAUSED:
        await message.answer(_("Welcome, {name}. You are now part of the dialog about {child}.").format(
            name=html.quote(participant.name), child=html.quote(dialog.child_name))
            + "\n\n" + texts.refusal(Refusal.PAUSED, dialog))
    else:
        await message.answer(_welcome_active(participant, dialog))
        await call_newcomer(session, notices, settings, dialog, participant, now)


async def _await_approval(message: Message, session: AsyncSession, person: Person | None,
                          participant: Participant, invitation, now: datetime, notices: Notices) -> None:  # type: ignore[no-untyped-def]
    """A link to a dialog that had started: the family has not approved the person yet.

    The one who opens it is remembered (not let in), so they can be told when the
    family has answered. The child's name is not shown before the family said yes.
    """
    if participant.person_id is not None and (person is None or participant.person_id != person.id):
        await message.answer(_("This link has already been used. Ask your coordinator for a new one if you need it."))
        return
    if is_expired(invitation.expires_at, now):
        await message.answer(_("This link has expired. Ask your coordinator for a new one."))
        return
    if participant.dialog.state == CLOSED:
        await message.answer(texts.refusal(Refusal.CLOSED, participant.dialog))
        return
    if participant.person_id is None:
        person = person or await q.get_or_create_person(session, message.from_user.id, now)
        if person.locale is None:
            person.locale = locale_for(message.from_user, None)
        if await q.participant_in(session, person, participant.dialog_id) is not None:
            await message.answer(_("You are already part of the dialog about {child}.").format(
                child=html.quote(participant.dialog.child_name)))
            return
        participant.person_id = person.id
        participant.opened_by = telegram_account(message.from_user)
        await session.flush()
        coordinator = await session.get(Person, participant.dialog.coordinator_id)
        await notices.add(session, to=coordinator, kind="joined", key=f"joined:{participant.id}",
                          payload={"participant_id": participant.id}, dialog_id=participant.dialog_id)
    await message.answer(_(
        "Thank you for opening your invitation.\n\n"
        "The family decides who takes part, and they have not approved the invitation yet. "
        "You will get a message here as soon as they have answered."))


def _already_in(seat: Participant, dialog: Dialog) -> str:
    if not shows_child_name(q.seat(seat), dialog.state):
        return texts.awaiting_consent()
    return _("You are already part of the dialog about {child}.").format(child=html.quote(dialog.child_name))


def telegram_account(user: User | None) -> str | None:
    """The account as Telegram shows it: "Hanne Jensen (@hannej)"."""
    if user is None:
        return None
    return f"{user.full_name} (@{user.username})" if user.username else user.full_name


def _invitation_withdrawn() -> str:
    return _("This invitation has been withdrawn. If you have questions, talk to the coordinator who invited you.")


async def _register(message: Message, session: AsyncSession, person: Person | None, registration, now: datetime, bot: Bot, state: FSMContext) -> None:  # type: ignore[no-untyped-def]
    if registration.used_at is not None:
        await message.answer(_("This link has already been used. Ask your administrator for a new one if you need it."))
        return
    if is_expired(registration.expires_at, now):
        await message.answer(_("This link has expired. Ask your administrator for a new one."))
        return
    await state.clear()
    person = person or await q.get_or_create_person(session, message.from_user.id, now)
    if person.locale is None:
        person.locale = locale_for(message.from_user, None)
    # A coordinator stays a coordinator when also registered as a professional.
    if person.staff_role != STAFF_COORDINATOR:
        person.staff_role = registration.staff_role
    person.name = registration.name
    person.title = registration.title
    registration.used_at = now
    registration.person_id = person.id
    await session.flush()
    await set_commands_for(bot, person, session)
    if person.staff_role == STAFF_COORDINATOR:
        await message.answer(_(
            "Welcome, {name}. You are now registered as a coordinator in Samspil.\n\n"
            "Open a dialog with /ny, invite participants with /inviter and follow your dialogs with /dialoger."
        ).format(name=html.quote(person.name)))
    else:
        await message.answer(_(
            "Welcome, {name}. You are now registered as a professional in Samspil.\n\n"
            "When a coordinator invites you to a dialog, you will receive a personal link."
        ).format(name=html.quote(person.name)))


def _link_unknown() -> str:
    return _("I don't recognise that link. Check that you copied all of it, or ask your coordinator for a new one.")


def _welcome_active(participant: Participant, dialog: Dialog) -> str:
    return _(
        "Welcome, {name}. You are now part of the dialog about {child}, and it is open.\n\n"
        "Type /hjaelp to see what you can do."
    ).format(name=html.quote(participant.name), child=html.quote(dialog.child_name))


# ---- the consent card ---------------------------------------------------------------------


def consent_text(dialog: Dialog, participant: Participant, coordinator: Person | None) -> tuple[str, list[str]]:
    """The exact text a consent giver is asked to consent to, and the list shown."""
    # Who is in: not those still waiting for the family's approval, nor those refused.
    others = [p for p in dialog.participants if p.role != "coordinator"
              and p.approval not in (consent_rules.PENDING, consent_rules.REFUSED)]
    listed = [texts.who(p) for p in others]
    coordinator_name = html.quote(coordinator.name or "") if coordinator else ""
    body = _(
        "Hi {name}\n\n"
        "{coordinator} has invited you to a dialog where we work together to support "
        "{child}'s development and wellbeing.\n\n"
        "<b>The purpose of the dialog</b> ({date}):\n{purpose}\n\n"
        "<b>Coordinator:</b> {coordinator}\n"
        "<b>Invited:</b>\n{invited}\n\n"
        "Each of you writes what worries you, what works well and what you would like to happen, "
        "and places the situation on a scale. Nobody else gets in until the parents with custody "
        "have given their consent.\n\n"
        "Do you give your consent that the people above may take part in the dialog?"
    ).format(
        name=html.quote(participant.name),
        coordinator=coordinator_name,
        child=html.quote(dialog.child_name),
        date=fmt_date(dialog.purpose_updated_at),
        purpose=html.quote(dialog.purpose),
        invited="\n".join(f"• {line}" for line in listed),
    )
    return body, listed


def _fingerprint(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:12]


def consent_keyboard(participant: Participant, body: str) -> InlineKeyboardMarkup:
    shown = _fingerprint(body)

    def button(text: str, answer: str) -> list[InlineKeyboardButton]:
        return [InlineKeyboardButton(text=text, callback_data=ConsentCb(
            answer=answer, participant_id=participant.id, shown=shown).pack())]

    return InlineKeyboardMarkup(inline_keyboard=[
        button(_("Yes, I give my consent"), consent_rules.GIVEN),
        button(_("I want to talk to the coordinator first"), consent_rules.TALK_FIRST),
        button(_("No thanks"), consent_rules.DECLINED),
    ])


async def send_consent_card(message: Message, session: AsyncSession, dialog: Dialog, participant: Participant) -> None:
    coordinator = await session.get(Person, dialog.coordinator_id)
    body, _listed = consent_text(dialog, participant, coordinator)
    await message.answer(body, reply_markup=consent_keyboard(participant, body), protect_content=True)


async def _drop_buttons(query: CallbackQuery) -> None:
    """Remove the card's buttons; already gone (a double tap, an old card) is fine."""
    if query.message:
        with suppress(TelegramBadRequest):
            await query.message.edit_reply_markup(reply_markup=None)


@router.callback_query(ConsentCb.filter())
async def consent_answer(
    query: CallbackQuery, callback_data: ConsentCb, session: AsyncSession, person: Person | None,
    clock: Clock, bot: Bot, notices: Notices,
) -> None:
    participant = await session.get(Participant, callback_data.participant_id)
    # The button names a seat; only the person holding that seat may answer for it.
    if participant is None or person is None or participant.person_id != person.id:
        await query.answer(texts.refusal(Refusal.NOT_PARTICIPANT), show_alert=True)
        return
    # Joining and consenting change who hears what when the dialog opens: one at a time.
    dialog = await q.lock_dialog(session, participant.dialog_id)
    decision = decide(q.seat(participant), dialog.state, Action.CONSENT)
    if not decision:
        await query.answer(texts.refusal(decision.refusal, dialog), show_alert=True)
        return
    answer = callback_data.answer
    if answer not in (consent_rules.GIVEN, consent_rules.TALK_FIRST, consent_rules.DECLINED):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    latest = await q.latest_answers(session, dialog.id)
    if latest.get(participant.id) == consent_rules.GIVEN:
        # Consent is given, so this is an old card (withdrawing is not done from it).
        if answer == consent_rules.GIVEN:
            await query.answer(_("Your consent is already recorded."))
        else:
            await query.answer(texts.stale_button(), show_alert=True)
        await _drop_buttons(query)
        return

    now = clock.now()
    coordinator = await session.get(Person, dialog.coordinator_id)
    # Stored: exactly what this person was shown, in their language, at this moment.
    shown, listed = consent_text(dialog, participant, coordinator)
    if callback_data.shown != _fingerprint(shown):
        # The card is out of date (e.g. someone was invited since): nothing counts, ask again.
        await query.answer(_("Something in the dialog has changed since you read it. "
                             "Please read it again before you answer."), show_alert=True)
        await _drop_buttons(query)
        await bot.send_message(person.telegram_id, shown, protect_content=True,
                               reply_markup=consent_keyboard(participant, shown))
        return
    outcome = await q.record_consent(
        session, dialog=dialog, participant=participant, answer=answer, text_shown=shown,
        participants_shown=listed, locale=I18n.get_current().current_locale, now=now,
    )
    await audit.record(session, actor_id=person.id, dialog_id=dialog.id, action=audit.consent_action(answer),
                       now=now, role=participant.role, participant_id=participant.id,
                       consent_id=outcome.consent_id)
    await query.answer()
    await _drop_buttons(query)

    await notices.add(session, to=coordinator, kind="consent_answer", key=f"consent:{outcome.consent_id}",
                      payload={"consent_id": outcome.consent_id}, dialog_id=dialog.id)
    if answer == consent_rules.GIVEN:
        reply = _("Thank you. Your consent was recorded {when}.").format(when=fmt_datetime(now))
        if outcome.state_after == PAUSED:
            reply += "\n\n" + _("The dialog continues when {names} has also given consent.").format(
                names=", ".join(html.quote(p.name) for p in outcome.missing))
        elif outcome.state_after != ACTIVE:
            reply += "\n\n" + _("The dialog starts when {names} has also given consent.").format(
                names=", ".join(html.quote(p.name) for p in outcome.missing))
        elif outcome.state_before == PAUSED:
            reply += "\n\n" + _("The dialog about {child} continues. Type /hjaelp to see what you can do.").format(
                child=html.quote(dialog.child_name))
        elif outcome.state_before != ACTIVE:
            reply += "\n\n" + _("The dialog about {child} is now open. Type /hjaelp to see what you can do.").format(
                child=html.quote(dialog.child_name))
        await bot.send_message(person.telegram_id, reply)
    elif answer == consent_rules.TALK_FIRST:
        await bot.send_message(person.telegram_id, _(
            "That is perfectly fine. Your coordinator will be told and will contact you. "
            "When you are ready, type /start to see the question again."))
    else:
        await bot.send_message(person.telegram_id, _(
            "You have said no thanks. The dialog does not start and nobody else gets access. "
            "Your coordinator will be told. If you change your mind, type /start."))

    if outcome.state_before == PAUSED and outcome.state_after == ACTIVE:
        await announce_resumed(session, notices, dialog, but=participant, consent_id=outcome.consent_id)
    elif outcome.state_before != ACTIVE and outcome.state_after == ACTIVE:
        await announce_open(session, notices, dialog, but=participant)


async def announce_open(session: AsyncSession, notices: Notices, dialog: Dialog, but: Participant) -> None:
    """Everyone else who has joined hears that the dialog is open."""
    for p in dialog.participants:
        if p.joined_at is not None and p.id != but.id:
            await notices.add(session, to=p, kind="dialog_open", key=f"open:{dialog.id}:{p.id}",
                              payload={"dialog_id": dialog.id})


async def announce_resumed(session: AsyncSession, notices: Notices, dialog: Dialog, but: Participant,
                           consent_id: int) -> None:
    """Consent is whole again after a withdrawal: everyone else hears that the dialog continues."""
    for p in dialog.participants:
        if p.joined_at is not None and p.id != but.id:
            await notices.add(session, to=p, kind="dialog_resumed", key=f"resumed:{consent_id}:{p.id}",
                              payload={"dialog_id": dialog.id})


# ---- notices of this flow, composed when they are sent --------------------------------------


@renderer("joined")
async def _joined(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None or p.removed_at is not None:
        return None
    text = _("{who} has opened the invitation to the dialog about {child}.").format(
        who=texts.who(p), child=html.quote(p.dialog.child_name))
    if p.opened_by:
        text += "\n" + _("Telegram account: {account}").format(account=html.quote(p.opened_by))
    if p.consent_giver or p.person_id is None:
        return Rendered(text)
    text += "\n\n" + _("Is it not the right person? Then remove them, and invite the right one with /inviter.")
    return Rendered(text, InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=_("🚫 Remove {name}").format(name=p.name),
        callback_data=RemoveSeatCb(participant_id=p.id).pack())]]))


# ---- the coordinator removes a seat (a link opened by the wrong person) ----------------------


@router.callback_query(RemoveSeatCb.filter())
async def remove_seat(query: CallbackQuery, callback_data: RemoveSeatCb, session: AsyncSession,
                      person: Person | None, clock: Clock, notices: Notices) -> None:
    seat = await session.get(Participant, callback_data.participant_id)
    if seat is None:
        await query.answer(texts.stale_button(), show_alert=True)
        return
    dialog = await q.lock_dialog(session, seat.dialog_id)
    me = await q.participant_in(session, person, dialog.id)
    decision = decide(q.seat(me), dialog.state, Action.INVITE)
    if not decision:
        await query.answer(texts.refusal(decision.refusal, dialog if me else None), show_alert=True)
        return
    await session.refresh(seat)
    if seat.removed_at is not None:
        await query.answer(_("{name} has already been removed.").format(name=seat.name), show_alert=True)
        await drop_notice_buttons(query)
        return
    if seat.role == COORDINATOR or seat.consent_giver:
        # Consent rests on these seats: a wrong parent is a matter for the coordinator and the
        # family together, not one tap.
        await query.answer(_("A parent with custody cannot be removed here. Close the dialog with "
                             "/luk if the wrong person has given consent."), show_alert=True)
        return
    now = clock.now()
    removed = await pv.remove_seat(session, seat, now)
    await audit.record(session, actor_id=person.id, dialog_id=dialog.id, action=audit.PARTICIPANT_REMOVED,
                       now=now, role=me.role, participant_id=seat.id)
    await query.answer()
    await drop_notice_buttons(query)
    await query.message.answer(_("{who} has been removed from the dialog about {child}. They no longer "
                                 "have access. The parents with custody are told.").format(
        who=texts.who(seat), child=html.quote(dialog.child_name)))
    for giver in dialog.participants:
        if giver.consent_giver and giver.joined_at is not None:
            await notices.add(session, to=giver, kind="seat_removed", key=f"removed:{seat.id}:{giver.id}",
                              payload={"participant_id": seat.id})
    if removed is not None:
        await notices.add(session, to=removed, kind="seat_removed_you", key=f"removed:{seat.id}:you",
                          dialog_id=dialog.id, payload={"participant_id": seat.id})


@renderer("seat_removed")
async def _seat_removed(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None or p.removed_at is None:
        return None
    return Rendered(_("The coordinator has removed {who} from the dialog about {child}. "
                      "They no longer have access.").format(who=texts.who(p), child=html.quote(p.dialog.child_name)))


@renderer("seat_removed_you")
async def _seat_removed_you(ctx: RenderContext, payload: dict) -> Rendered | None:
    # No name of the child: the link may have reached the wrong person.
    return Rendered(_("The coordinator has removed you from a dialog in Samspil. You no longer have access. "
                      "If you think it is a mistake, talk to the coordinator."))


@renderer("consent_answer")
async def _consent_answer(ctx: RenderContext, payload: dict) -> Rendered | None:
    consent = await ctx.session.get(Consent, payload["consent_id"])
    p = await ctx.session.get(Participant, consent.participant_id) if consent else None
    if consent is None or p is None:
        return None
    text = {
        consent_rules.GIVEN: _("{who} has given consent to the dialog about {child}."),
        consent_rules.TALK_FIRST: _("{who} would like to talk to you before giving consent to the dialog about {child}."),
        consent_rules.DECLINED: _("{who} has declined the dialog about {child}."),
        consent_rules.WITHDRAWN: _("{who} has withdrawn their consent to the dialog about {child}."),
    }.get(consent.answer)
    if text is None:
        return None
    text = text.format(who=texts.who(p), child=html.quote(p.dialog.child_name))
    if consent.answer == consent_rules.WITHDRAWN and p.dialog.state == PAUSED:
        text += "\n\n" + _("The dialog is paused: the participants have no access and get no reminders "
                            "until consent is given again.")
    return Rendered(text)


@renderer("dialog_resumed")
async def _dialog_resumed(ctx: RenderContext, payload: dict) -> Rendered | None:
    dialog = await ctx.session.get(Dialog, payload["dialog_id"])
    if dialog is None or dialog.state != ACTIVE:
        return None
    return Rendered(_(
        "▶️ The dialog about {child} continues: the family has given consent again.\n\n"
        "Type /hjaelp to see what you can do."
    ).format(child=html.quote(dialog.child_name)))


@renderer("dialog_open")
async def _dialog_open(ctx: RenderContext, payload: dict) -> Rendered | None:
    dialog = await ctx.session.get(Dialog, payload["dialog_id"])
    if dialog is None or dialog.state != ACTIVE:
        return None
    return Rendered(_(
        "The dialog about {child} is now open: the family has given consent.\n\n"
        "Type /hjaelp to see what you can do."
    ).format(child=html.quote(dialog.child_name)))


# ---- /start without a token: greeting or the person's home ---------------------------------


@router.message(CommandStart())
async def start_plain(message: Message, session: AsyncSession, person: Person | None, state: FSMContext) -> None:
    await state.clear()
    seats = await q.seats_of(session, person) if person is not None else []
    if person is not None and person.staff_role is None and seats and all(
            s.approval == consent_rules.PENDING for s in seats):
        await message.answer(_(
            "Your invitation is waiting for the family's approval. "
            "You will get a message here as soon as they have answered."))
        return
    if person is None or (person.staff_role is None and not seats):
        await message.answer(_(
            "Hi! I am Samspil.\n\n"
            "Here, a family, the professionals around a child and the family's own network work "
            "together on the child's wellbeing: everyone shares what worries them, what works well "
            "and what should happen, and you agree a plan together.\n\n"
            "You join with a personal invitation link from your coordinator (tovholder) in the "
            "municipality. If you have been given one, just open it.\n\n"
            "Type /sprog to choose another language."))
        return
    await show_home(message, session, person)


async def show_home(message: Message, session: AsyncSession, person: Person) -> None:
    """Where this person stands in each dialog; a pending consent question is asked again."""
    seats = await q.seats_of(session, person)
    lines = [_("Hi {name}.").format(name=html.quote(person.name or ""))]
    pending: list[Participant] = []
    latest_cache: dict[int, dict[int, str]] = {}
    for p in seats:
        d = p.dialog
        if d.state == CLOSED or p.approval == consent_rules.PENDING:
            continue
        if p.consent_giver and d.state != ACTIVE:
            latest_cache[d.id] = latest_cache.get(d.id) or await q.latest_answers(session, d.id)
            # A withdrawal is not asked again on every /start: /samtykke gives it back.
            if latest_cache[d.id].get(p.id) not in (consent_rules.GIVEN, consent_rules.WITHDRAWN):
                pending.append(p)
        lines.append(_state_line(d) if shows_child_name(q.seat(p), d.state)
                     else _("• A dialog you were invited to is waiting for the family's consent."))
    if not seats and person.staff_role == STAFF_COORDINATOR:
        lines.append(_("You have no dialogs yet. Open one with /ny."))
    lines.append(_("Type /hjaelp to see what you can do."))
    await message.answer("\n\n".join(lines))
    for p in pending:
        await send_consent_card(message, session, p.dialog, p)


def _state_line(d: Dialog) -> str:
    child = html.quote(d.child_name)
    if d.state == ACTIVE:
        return _("• The dialog about {child} is open.").format(child=child)
    if d.state == AWAITING_CONSENT:
        return _("• The dialog about {child} is waiting for the family's consent.").format(child=child)
    return _("• The dialog about {child} is paused.").format(child=child)


