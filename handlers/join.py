"""Joining: `/start <token>` (registration or invitation link) and the consent answer."""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.config import Settings
from core.i18n import fmt_datetime, locale_for
from core.labels import child_in_chat
from core.menus import set_commands_for
from core.notices import Notices
from handlers.choose import drop_notice_buttons
from handlers.contact_views import registered_keyboard, talk_first_reply
from handlers.home import show_home
from handlers.home_views import has_menu, main_menu, next_step_markup
from handlers.join_views import (
    ConsentCb,
    RemoveSeatCb,
    already_in,
    card_of,
    consent_keyboard,
    invitation_withdrawn,
    link_expired,
    link_unknown,
    link_used,
    send_consent_card,
    welcome_active,
)
from handlers.seats import NO_DIALOG, alert, needs
from rules import consent as consent_rules
from rules.access import ACTIVE, AWAITING_CONSENT, PAUSED, Action, Refusal
from rules.roles import STAFF_COORDINATOR
from rules.tokens import looks_like_token
from services import consent, membership
from services.membership import Link
from storage import queries as q
from storage.models import Participant, Person

router = Router(name="join")

__all__ = ["ConsentCb", "RemoveSeatCb", "router", "send_consent_card"]


# ---- /start with a token -----------------------------------------------------------------


@router.message(CommandStart(deep_link=True))
async def start_with_token(
    message: Message, command: CommandObject, session: AsyncSession, person: Person | None,
    clock: Clock, state: FSMContext, bot: Bot, notices: Notices, settings: Settings,
) -> None:
    # A bad link changes nothing: the step the person is in (if any) goes on. A link that
    # works starts afresh (`state.clear()` below).
    token = (command.args or "").strip()
    if not looks_like_token(token):
        await message.answer(link_unknown())
        return
    user = message.from_user
    now = clock.now()
    followed = await membership.follow_link(
        session, notices, settings, token, person, telegram_id=user.id, locale=locale_for(user, None),
        opened_by=telegram_account(user), now=now)
    outcome, dialog, seat = followed.outcome, followed.dialog, followed.seat
    if outcome in (Link.REGISTERED, Link.MINE, Link.ALREADY_IN, Link.JOINED):
        await state.clear()
    if outcome in (Link.REGISTERED, Link.JOINED):
        await set_commands_for(bot, followed.person, session)
    if outcome == Link.REGISTERED:
        await message.answer(_registered(followed.person), reply_markup=registered_keyboard(followed.person))
    elif outcome in (Link.MINE, Link.ALREADY_IN):
        await message.answer(already_in(seat, dialog))
        if outcome == Link.MINE:
            await show_home(message, session, followed.person, clock, settings=settings)
    elif outcome == Link.JOINED:
        await _welcome(message, session, followed, clock)
    elif outcome == Link.AWAITING_APPROVAL:
        await message.answer(_(
            "Thank you for opening your invitation.\n\n"
            "The family decides who takes part, and they have not approved the invitation yet. "
            "You will get a message here as soon as they have answered."))
    elif outcome == Link.SEAT_HELD:
        await message.answer(_("You are already part of the dialog about {child}.").format(
            child=child_in_chat(dialog)))
    elif outcome == Link.CLOSED:
        await message.answer(texts.refusal(Refusal.CLOSED, dialog))
    else:
        await message.answer({
            Link.UNKNOWN: link_unknown, Link.WITHDRAWN: invitation_withdrawn, Link.USED: link_used,
            Link.EXPIRED: link_expired,
            # staff: registration of staff by an administrator's link
            Link.REGISTRATION_USED: lambda: _(
                "This link has already been used. Ask your administrator for a new one if you need it."),
            # staff: registration of staff by an administrator's link
            Link.REGISTRATION_EXPIRED: lambda: _("This link has expired. Ask your administrator for a new one."),
        }[outcome]())


async def _welcome(message: Message, session: AsyncSession, followed: membership.Followed, clock: Clock) -> None:
    participant, dialog = followed.seat, followed.dialog
    # The main menu comes with the first words (not with the consent card: it asks first).
    menu = main_menu() if has_menu(followed.person) else None
    if participant.consent_giver and dialog.state in (AWAITING_CONSENT,):
        await send_consent_card(message, session, dialog, participant)
    elif dialog.state == AWAITING_CONSENT:
        # Not the child's name: the family has not said yes, and the link may have been forwarded.
        await message.answer(_("Welcome, {name}. You have opened your invitation.").format(
            name=html.quote(participant.name)) + "\n\n" + texts.awaiting_consent(), reply_markup=menu)
    elif dialog.state == PAUSED:
        await message.answer(_("Welcome, {name}. You are now part of the dialog about {child}.").format(
            name=html.quote(participant.name), child=child_in_chat(dialog))
            + "\n\n" + texts.refusal(Refusal.PAUSED, dialog), reply_markup=menu)
    else:
        await message.answer(welcome_active(participant, dialog), reply_markup=menu)
        line, keyboard = await next_step_markup(session, participant, clock.now())
        if line:
            await message.answer(line, reply_markup=keyboard)  # a meeting's invitation follows


def _registered(person: Person) -> str:
    if person.staff_role == STAFF_COORDINATOR:
        # staff: registration of staff by an administrator's link
        return _(
            "Welcome, {name}. You are now registered as a coordinator in Samspil.\n\n"
            "Open a dialog with /ny, invite participants with /inviter and follow your dialogs with /dialoger."
        ).format(name=html.quote(person.name))
    # staff: registration of staff by an administrator's link
    return _(
        "Welcome, {name}. You are now registered as a professional in Samspil.\n\n"
        "When a coordinator invites you to a dialog, you will receive a personal link."
    ).format(name=html.quote(person.name))


def telegram_account(user: User | None) -> str | None:
    """The account as Telegram shows it: "Hanne Jensen (@hannej)"."""
    if user is None:
        return None
    return f"{user.full_name} (@{user.username})" if user.username else user.full_name


# ---- the consent answer ---------------------------------------------------------------------


async def _drop_buttons(query: CallbackQuery) -> None:
    """Remove the card's buttons; already gone (a double tap, an old card) is fine."""
    if query.message:
        with suppress(TelegramBadRequest):
            await query.message.edit_reply_markup(reply_markup=None)


# The button names a seat, and only the person holding it may answer for it: anyone else is
# told they are not part of the dialog (whatever seat they hold in it), before the rules are
# asked about the seat's own dialog. So the seat check is the handler's own (NO_DIALOG).
@router.callback_query(ConsentCb.filter(), flags=NO_DIALOG)
async def consent_answer(
    query: CallbackQuery, callback_data: ConsentCb, session: AsyncSession, person: Person | None,
    clock: Clock, bot: Bot, notices: Notices, callback_answer: CallbackAnswer,
) -> None:
    participant = await session.get(Participant, callback_data.participant_id)
    if participant is None or person is None or participant.person_id != person.id:
        alert(callback_answer, texts.refusal(Refusal.NOT_PARTICIPANT))
        return
    now = clock.now()
    answer = callback_data.answer
    result = await consent.answer(session, notices, participant, answer, shown=callback_data.shown,
                                  card=card_of(session), locale=I18n.get_current().current_locale, now=now)
    dialog = result.dialog
    if result.outcome == consent.Answered.REFUSED:
        alert(callback_answer, texts.refusal(result.refusal, dialog))
        return
    if result.outcome == consent.Answered.STALE:
        alert(callback_answer, texts.stale_button())
        return
    if result.outcome == consent.Answered.ALREADY_GIVEN:
        # Consent is given, so this is an old card (withdrawing is not done from it).
        if answer == consent_rules.GIVEN:
            callback_answer.text = _("Your consent is already recorded.")
        else:
            alert(callback_answer, texts.stale_button())
        await _drop_buttons(query)
        return
    if result.outcome == consent.Answered.CHANGED:
        # The card is out of date (e.g. someone was invited since): nothing counts, ask again.
        alert(callback_answer, _("Something in the dialog has changed since you read it. "
                                 "Please read it again before you answer."))
        await _drop_buttons(query)
        await bot.send_message(person.telegram_id, result.text, protect_content=True,
                               reply_markup=consent_keyboard(participant, result.text))
        return
    await _drop_buttons(query)
    outcome = result.recorded
    if answer == consent_rules.GIVEN:
        reply = _("Thank you. Your consent was recorded {when}.").format(when=fmt_datetime(now))
        if outcome.state_after == PAUSED:
            reply += "\n\n" + _("The dialog continues when {names} has also given consent.").format(
                names=", ".join(html.quote(p.name) for p in outcome.missing))
        elif outcome.state_after != ACTIVE:
            reply += "\n\n" + _("The dialog starts when {names} has also given consent.").format(
                names=", ".join(html.quote(p.name) for p in outcome.missing))
        elif outcome.state_before == PAUSED:
            reply += "\n\n" + _("The dialog about {child} continues.").format(child=child_in_chat(dialog))
        elif outcome.state_before != ACTIVE:
            reply += "\n\n" + _("The dialog about {child} is now open.").format(child=child_in_chat(dialog))
        # The main menu comes with the thanks; the next step (when the dialog is open) after it.
        await bot.send_message(person.telegram_id, reply, reply_markup=main_menu() if has_menu(person) else None)
        if outcome.state_after == ACTIVE:
            line, keyboard = await next_step_markup(session, participant, now)
            if line:
                await bot.send_message(person.telegram_id, line, reply_markup=keyboard)
    elif answer == consent_rules.TALK_FIRST:
        text, keyboard = talk_first_reply(await session.get(Person, dialog.coordinator_id), dialog.id)
        await bot.send_message(person.telegram_id, text, reply_markup=keyboard)
    else:
        await bot.send_message(person.telegram_id, _(
            "You have said no thanks. The dialog does not start and nobody else gets access. "
            "Your coordinator will be told. If you change your mind, type /start."))


# ---- the coordinator removes a seat (a link opened by the wrong person) ----------------------


@router.callback_query(RemoveSeatCb.filter(), flags=needs(Action.INVITE))
async def remove_seat(query: CallbackQuery, callback_data: RemoveSeatCb, session: AsyncSession,
                      person: Person, clock: Clock, notices: Notices, callback_answer: CallbackAnswer) -> None:
    removal = await membership.remove_seat(session, notices, person, callback_data.participant_id, clock.now())
    seat, outcome = removal.seat, removal.outcome
    if outcome == membership.Removed.STALE:
        alert(callback_answer, texts.stale_button())
    elif outcome == membership.Removed.REFUSED:
        alert(callback_answer, texts.refusal(removal.refusal, removal.named))
    elif outcome == membership.Removed.ALREADY:
        # staff: the coordinator removes a seat (answer to their own tap)
        alert(callback_answer, _("{name} has already been removed.").format(name=seat.name))
        await drop_notice_buttons(query)
    elif outcome == membership.Removed.CONSENT_SEAT:
        # staff: the coordinator removes a seat (answer to their own tap)
        alert(callback_answer, _("A parent with custody cannot be removed here. Close the dialog with "
                                 "/luk if the wrong person has given consent."))
    else:
        await drop_notice_buttons(query)
        # staff: the coordinator removes a seat (answer to their own tap)
        await query.message.answer(_("{who} has been removed from the dialog about {child}. They no longer "
                                     "have access. The parents with custody are told.").format(
            who=texts.who(seat), child=child_in_chat(removal.dialog)))


# ---- /start without a token: greeting or the person's home ---------------------------------


@router.message(CommandStart())
async def start_plain(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                      clock: Clock, settings: Settings) -> None:
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
    await show_home(message, session, person, clock, settings=settings)
