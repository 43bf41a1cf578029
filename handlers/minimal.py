"""The chat with CHAT_CONTENT=minimal: a doorbell and a launcher, for everyone (issue #14).

This router comes first (handlers/routers.py) and takes every message and every tap while the
bot runs in minimal mode (its filter reads `settings.chat_content`); in full mode it takes
nothing and the flows answer as always. Everything with content is read and written in the
Mini App (web/), served by Samspil itself; here:

- `/start <link>`: the person joins through the same use case as the full chat
  (services.membership.follow_link), then a neutral welcome with a button to the consent card
  (a consent giver) or to the pages;
- `/start`, `/hjaelp`: the home, with the pages as buttons (Overblik, Skriv input, Linealen; a
  coordinator's: a new dialog and each dialog's Overblik);
- any other command: a button to the page where its work is done;
- any text: refused, with a button to Skriv input. Nothing of it is stored, not even for a
  moment in the conversation state (a step left from the full chat is cleared);
- a photo, a voice message, a file: the same;
- a tap on an old button: an alert, and the home;
- the answers to a meeting invitation (no content on them) are recorded here;
- `/sprog` and `/slet_mine_data` (their texts carry nothing personal) work as in the full chat.

The menu button beside the text field opens the Overblik (core/menus.py); no reply keyboard is
sent, and one left from the full chat is removed when one of its entries is tapped.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.config import Settings
from core.i18n import locale_for
from core.labels import MINIMAL
from core.menus import set_commands_for
from core.neutral import RsvpCb, page_button
from core.notices import Notices
from core.webapp import CONSENT
from handlers import common
from handlers import minimal_views as views
from handlers.common import LanguageCb
from handlers.home_views import menu_entry
from handlers.join import telegram_account
from handlers.join_views import invitation_withdrawn, link_expired, link_unknown, link_used
from handlers.privacy_views import EraseCb
from handlers.seats import NO_DIALOG, alert, needs
from rules.access import ACTIVE, AWAITING_CONSENT, PAUSED, Action
from rules.roles import STAFF_COORDINATOR
from rules.tokens import looks_like_token
from services import meetings, membership
from services.meetings import Rsvp
from services.membership import Link
from storage import queries as q
from storage.models import Participant, Person

router = Router(name="minimal")


def in_minimal_mode(event: TelegramObject, settings: Settings) -> bool:
    """The router's filter: only a bot running with CHAT_CONTENT=minimal."""
    return settings.chat_content == MINIMAL


router.message.filter(in_minimal_mode)
router.callback_query.filter(in_minimal_mode)

# Buttons whose handlers answer with nothing personal: they work as in the full chat.
PASS_ON = (LanguageCb.__prefix__, EraseCb.__prefix__)


async def _forget(state: FSMContext) -> None:
    """A step left from the full chat (and whatever it kept) is dropped: nothing waits for text here."""
    if await state.get_state() is not None or await state.get_data():
        await state.clear()


async def _home(message: Message, session: AsyncSession, person: Person | None, settings: Settings,
                clock: Clock, lead: str | None = None) -> None:
    text, keyboard = await views.home(session, person, settings, clock.now(), lead)
    await message.answer(text, reply_markup=keyboard)


# ---- /start with a link ------------------------------------------------------------------------------


@router.message(CommandStart(deep_link=True))
async def start_with_token(message: Message, command: CommandObject, session: AsyncSession, person: Person | None,
                           clock: Clock, state: FSMContext, bot: Bot, notices: Notices, settings: Settings) -> None:
    token = (command.args or "").strip()
    if not looks_like_token(token):
        await message.answer(link_unknown())
        return
    user = message.from_user
    followed = await membership.follow_link(
        session, notices, settings, token, person, telegram_id=user.id, locale=locale_for(user, None),
        opened_by=telegram_account(user), now=clock.now())
    outcome = followed.outcome
    if outcome in (Link.REGISTERED, Link.MINE, Link.ALREADY_IN, Link.JOINED):
        await _forget(state)
    if outcome in (Link.REGISTERED, Link.JOINED):
        await set_commands_for(bot, followed.person, session)
    if outcome == Link.REGISTERED:
        await _registered(message, session, followed.person, settings, clock)
    elif outcome == Link.JOINED:
        await _joined(message, session, followed.person, followed.seat, settings, clock)
    elif outcome in (Link.MINE, Link.ALREADY_IN, Link.SEAT_HELD):
        await _home(message, session, followed.person, settings, clock, _("You are already part of this dialog."))
    elif outcome == Link.AWAITING_APPROVAL:
        await message.answer(views.waiting_for_approval())
    elif outcome == Link.CLOSED:
        await message.answer(_("This dialog has been closed."))
    else:
        await message.answer({
            Link.UNKNOWN: link_unknown, Link.WITHDRAWN: invitation_withdrawn, Link.USED: link_used,
            Link.EXPIRED: link_expired,
            # staff: registration of staff by an administrator's link
            Link.REGISTRATION_USED: lambda: _("This link has already been used. Ask your administrator for a new one."),
            # staff: registration of staff by an administrator's link
            Link.REGISTRATION_EXPIRED: lambda: _("This link has expired. Ask your administrator for a new one."),
        }[outcome]())


async def _registered(message: Message, session: AsyncSession, person: Person, settings: Settings,
                      clock: Clock) -> None:
    if person.staff_role == STAFF_COORDINATOR:
        # staff: registration of staff by an administrator's link
        lead = _("You are now registered as a coordinator in Samspil. You open dialogs, invite people and "
                 "hold the meetings in Samspil's pages: tap a button.")
        await _home(message, session, person, settings, clock, lead)
        return
    # staff: registration of staff by an administrator's link
    await message.answer(_("You are now registered as a professional in Samspil. When a coordinator invites "
                           "you to a dialog, you get a personal link."))


async def _joined(message: Message, session: AsyncSession, person: Person, seat: Participant, settings: Settings,
                  clock: Clock) -> None:
    state = seat.dialog.state
    welcome = _("Welcome. You have opened your invitation to Samspil.")
    if seat.consent_giver and state == AWAITING_CONSENT:
        button = page_button(settings, CONSENT, seat.dialog_id)
        await message.answer(welcome + "\n\n" + _("Tap the button. Then you can read about the dialog, and answer whether you want to take part."),
                             reply_markup=views.markup([[button]] if button else []))
    elif state == AWAITING_CONSENT:
        await message.answer(welcome + "\n\n" + texts.awaiting_consent())
    elif state == PAUSED:
        await message.answer(welcome + "\n\n" + _("The dialog is paused, because consent was withdrawn."))
    elif state == ACTIVE:
        await _home(message, session, person, settings, clock, welcome + " " + _("You are now part of the dialog."))
    else:
        await message.answer(_("This dialog has been closed."))


# ---- /start, help, the other commands ---------------------------------------------------------------


@router.message(CommandStart())
async def start_plain(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                      clock: Clock, settings: Settings) -> None:
    await _forget(state)
    await _home(message, session, person, settings, clock)


@router.message(Command("hjaelp", "help", "annuller", "cancel"))
async def help_(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                clock: Clock, settings: Settings) -> None:
    await _forget(state)
    await _home(message, session, person, settings, clock, _(
        "In Samspil, the family and the adults around the child talk together about how the child is doing. "
        "Everything you read and write is on Samspil's pages. Tap a button.\n\n"
        "/sprog – choose language\n/slet_mine_data – erase your data"))


@router.message(Command("sprog", "language"))
async def language(message: Message) -> None:
    await common.language(message)


@router.message(Command("slet_mine_data"))
async def erase(message: Message) -> None:
    raise SkipHandler  # the full chat's erasing says nothing personal (handlers/privacy.py)


@router.message(F.text.startswith("/"))
async def command(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                  clock: Clock, settings: Settings) -> None:
    await _forget(state)
    name = message.text[1:].split(maxsplit=1)[0].split("@")[0].lower() if len(message.text) > 1 else ""
    rows = await views.command_pages(session, person, settings, name)
    if rows:
        await message.answer(views.command_answer(), reply_markup=views.markup(rows))
        return
    lead = views.nothing_to_open() if rows is not None else views.not_in_the_pages()
    await _home(message, session, person, settings, clock, lead)


# ---- text, pictures, files: nothing is kept ----------------------------------------------------------


@router.message(F.text)
async def text_typed(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                     clock: Clock, settings: Settings) -> None:
    await _forget(state)
    if menu_entry(message.text) is not None:  # the full chat's reply keyboard, left on the phone
        await message.answer(views.menu_moved(), reply_markup=ReplyKeyboardRemove())
        await _home(message, session, person, settings, clock)
        return
    await _refuse(message, session, person, settings, clock, views.text_refused())


@router.message()
async def not_text(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                   clock: Clock, settings: Settings) -> None:
    await _forget(state)
    await _refuse(message, session, person, settings, clock, views.media_refused())


async def _refuse(message: Message, session: AsyncSession, person: Person | None, settings: Settings,
                  clock: Clock, text: str) -> None:
    """Nothing is kept; the way to write it is Skriv input (or, where the person may not write, the home)."""
    rows = views.input_buttons(settings, await q.seats_of(session, person)) if person is not None else []
    if rows:
        await message.answer(text, reply_markup=views.markup(rows))
    else:
        await _home(message, session, person, settings, clock, text)


# ---- taps ------------------------------------------------------------------------------------------


@router.callback_query(RsvpCb.filter(), flags=needs(Action.READ_SHARED))
async def rsvp(query: CallbackQuery, callback_data: RsvpCb, seat: Participant, session: AsyncSession,
               clock: Clock, settings: Settings, notices: Notices, callback_answer: CallbackAnswer) -> None:
    """"Jeg kommer / Jeg kan ikke" on a meeting invitation: the same use case as the full chat."""
    answered = await meetings.answer_invitation(session, notices, settings, seat, callback_data.meeting_id,
                                                callback_data.version, callback_data.coming, clock.now())
    if answered.outcome is Rsvp.RECORDED:
        callback_answer.text = _("Thank you – you have answered: I'm coming.") if callback_data.coming else \
            _("Thank you – you have answered: I can't come. The coordinator will be told.")
    elif answered.outcome is Rsvp.UNCHANGED:
        callback_answer.text = _("Your answer is already recorded.")
    elif answered.outcome is Rsvp.MOVED:
        alert(callback_answer, _("The meeting has been moved. Please answer the newest message."))
    else:
        alert(callback_answer, _("That meeting is no longer planned."))


def _old(query: CallbackQuery) -> bool:
    """A tap the full chat's flows would take: anything but the buttons passed on."""
    return (query.data or "").split(":", 1)[0] not in PASS_ON


@router.callback_query(_old, flags=NO_DIALOG)  # only answers: no dialog's content is read
async def old_button(query: CallbackQuery, session: AsyncSession, person: Person | None, state: FSMContext,
                     clock: Clock, settings: Settings, callback_answer: CallbackAnswer) -> None:
    await _forget(state)
    alert(callback_answer, views.old_button())
    if query.message is not None:
        await _home(query.message, session, person, settings, clock)

