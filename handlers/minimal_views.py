"""The chat as a launcher (CHAT_CONTENT=minimal): its fixed texts and its buttons into the Mini App.

Nothing here shows a name or anything anyone wrote: the texts are the catalogs' own, the
child is "barnet (nr. 7)" where a person with several dialogs must tell them apart, and every
button is a `web_app` button to a page (core/webapp.py) or, for the meeting invitation, an
answer that carries no content (core/neutral.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from core.i18n import current_timezone
from core.labels import child_number
from core.neutral import page_button
from core.webapp import (
    CALL_MEETING,
    CLOSE_DIALOG,
    CLOSE_MEETING,
    CONSENT,
    CONTACT,
    DOCUMENTS,
    INPUT,
    INVITATION,
    INVITE,
    MEETING,
    NEW_DIALOG,
    NOTIFICATIONS,
    OVERVIEW,
    PLAN,
    RULER,
)
from rules import consent as consent_rules
from rules.access import ACTIVE, AWAITING_CONSENT, CLOSED, PAUSED, Action, decide
from rules.next_step import Step
from rules.roles import COORDINATOR, STAFF_COORDINATOR
from services import home as home_service
from services.home import Home
from storage import queries as q
from storage.models import Participant, Person

# More dialogs than this: one button to the page, which asks which dialog (the Overblik does).
MAX_DIALOG_BUTTONS = 8

# What each page needs of a seat (as the page itself checks): a button is offered only where it works.
PAGE_ACTION: dict[str, Action] = {
    OVERVIEW: Action.READ_SHARED, INPUT: Action.WRITE_INPUT, RULER: Action.SCALE,
    INVITATION: Action.READ_SHARED, PLAN: Action.READ_SHARED, DOCUMENTS: Action.READ_SHARED,
    CONSENT: Action.VIEW_PURPOSE, INVITE: Action.INVITE, CALL_MEETING: Action.MANAGE,
    MEETING: Action.MANAGE, CLOSE_MEETING: Action.MANAGE, CLOSE_DIALOG: Action.CLOSE,
    CONTACT: Action.VIEW_PURPOSE,
}

# A step of the home (rules/next_step.py) and the page it is taken on.
STEP_PAGE: dict[Step, str] = {
    Step.CONSENT: CONSENT, Step.WRITE_INPUT: INPUT, Step.SHARE: INPUT, Step.RULER: RULER,
    Step.MEETING: INVITATION, Step.ACCEPT_PLAN: PLAN, Step.TASK: PLAN,
}


@dataclass(frozen=True)
class Pages:
    """The pages a command leads to: for family and participants, and for a coordinator."""

    everyone: tuple[str, ...]
    coordinator: tuple[str, ...] | None = None
    no_dialog: bool = False  # a page about no dialog (a new dialog)
    coordinator_no_dialog: bool = False  # the coordinator's page is about no dialog (their own details)


# The chat's commands (core/menus.py) and where their work is done in minimal mode. A command
# not here (/paa_vegne, /indstilling) has no page yet: the answer says so and shows the home buttons.
COMMAND_PAGES: dict[str, Pages] = {
    "input": Pages((INPUT,)),
    "skala": Pages((RULER,)),
    "vurdering": Pages((OVERVIEW,)),
    "oversigt": Pages((OVERVIEW,)),
    "dialoger": Pages((OVERVIEW,)),
    "moede": Pages((INVITATION,), (CALL_MEETING, MEETING, CLOSE_MEETING)),
    "plan": Pages((PLAN,), (MEETING, PLAN)),
    "samtykke": Pages((CONSENT,)),
    "mine_data": Pages((DOCUMENTS,)),
    "referat": Pages((DOCUMENTS,)),
    "brev": Pages((INVITE,), (INVITE,)),
    "inviter": Pages((INVITE,), (INVITE,)),
    "ny": Pages((NEW_DIALOG,), (NEW_DIALOG,), no_dialog=True),
    "luk": Pages((), (CLOSE_DIALOG,)),
    "kontakt": Pages((CONTACT,), (CONTACT,), coordinator_no_dialog=True),
    "contact": Pages((CONTACT,), (CONTACT,), coordinator_no_dialog=True),
    "notifikationer": Pages((), (NOTIFICATIONS,), no_dialog=True),
    "notifications": Pages((), (NOTIFICATIONS,), no_dialog=True),
}


def markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


# ---- texts ---------------------------------------------------------------------------------------


def not_known() -> str:
    return _("Hi! I am Samspil.\n\n"
             "Here, a family and the adults around a child talk together about how the child is doing.\n\n"
             "You get a link from your coordinator in the municipality. If you have got a link, open it.")


def waiting_for_approval() -> str:
    return _("Thank you for opening your invitation.\n\n"
             "The family decides who takes part, and they have not answered yet. "
             "You will get a message here as soon as they have.")


def home_lead() -> str:
    return _("Tap a button to open Samspil. What you read and write is there. It is not here in the chat.")


def text_refused() -> str:
    return _("Here in the chat I do not keep text. Write in Samspil instead. Tap the button.")


def media_refused() -> str:
    return _("Here in the chat I do not keep pictures, sound or files. Write in Samspil instead. "
             "Tap the button.")


def old_button() -> str:
    return _("That button no longer works here. Use the buttons in my newest message.")


def command_answer() -> str:
    return _("Tap the button to open it in Samspil.")


def not_in_the_pages() -> str:
    return _("You cannot do that here in the chat. Tap a button instead.")


def nothing_to_open() -> str:
    return _("There is nothing to open for that right now.")


def menu_moved() -> str:
    return _("The menu is now the button next to the text field. Tap it to open Samspil.")


def step_text(h: Home) -> str:
    """What is next for this seat, in a few words, without any content (no task, no place)."""
    step, state = h.next.step, h.seat.dialog.state
    if step == Step.WAIT:
        if state == PAUSED:
            return _("The dialog is paused, because consent was withdrawn.")
        return _("The dialog is waiting for the family's consent.")
    return {
        Step.CONSENT: _("Read about the dialog, and answer about consent."),
        Step.WRITE_INPUT: _("Write your input."),
        Step.SHARE: _("Share your input when you are ready."),
        Step.RULER: _("Put your number on the ruler."),
        Step.MEETING: _("Answer the invitation to the dialog meeting."),
        Step.ACCEPT_PLAN: _("Read the plan, and say if you agree."),
        Step.TASK: _("See your task in the plan."),
        Step.CLOSED: _("The dialog has been closed."),
    }.get(step, _("You are done for now. I will write to you when there is something new."))


# ---- the home ------------------------------------------------------------------------------------


async def homes(session: AsyncSession, person: Person, now: datetime) -> list[Home]:
    return await home_service.home(session, person, now, tz=current_timezone())


async def home(session: AsyncSession, person: Person | None, settings: Settings, now: datetime,
               lead: str | None = None) -> tuple[str, InlineKeyboardMarkup | None]:
    """The launcher: per dialog what is next (a few words) with the page to take it on, and the
    Overblik, Skriv input and Linealen; a coordinator's: a new dialog, and each dialog's Overblik."""
    if person is None:
        return not_known(), None
    seats = await q.seats_of(session, person)
    coordinator = person.staff_role == STAFF_COORDINATOR
    if not coordinator and seats and all(s.approval == consent_rules.PENDING for s in seats):
        return waiting_for_approval(), None
    found = await homes(session, person, now)
    if not found and not coordinator:
        if person.staff_role is None:
            return not_known(), None
        return _("You are not in an open dialog right now. When a coordinator invites you, "
                 "you get a personal link."), None
    lead = lead or home_lead()
    lines: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    numbered = coordinator or len(found) > 1
    few = len(found) <= MAX_DIALOG_BUTTONS
    for h in found:
        seat, dialog_id = h.seat, h.seat.dialog_id
        where = f"{child_number(dialog_id)}: " if numbered else ""
        if seat.role == COORDINATOR:
            lines.append("• " + where + _state_text(seat))
            if few:
                rows.append(_buttons(settings, seat, (OVERVIEW,), numbered))
            continue
        lines.append(("• " if numbered else "") + where + step_text(h))
        if not few:
            continue
        pages: list[str] = []
        if h.next.actionable and h.next.step in STEP_PAGE:
            pages.append(STEP_PAGE[h.next.step])
        for page in (OVERVIEW, INPUT, RULER):
            if page not in pages:
                pages.append(page)
        rows += [[b] for b in _buttons(settings, seat, tuple(pages), numbered)]
    if not few:
        rows.append([b for b in [page_button(settings, OVERVIEW)] if b is not None])
    if coordinator:
        if not found:
            lines.append(_("You have no dialogs yet. Open one with the button."))
        rows.append([b for b in [page_button(settings, NEW_DIALOG)] if b is not None])
    text = lead + ("\n\n" + "\n".join(lines) if lines else "")
    return text, markup([r for r in rows if r])


def _state_text(seat: Participant) -> str:
    """A coordinator's line about one of their dialogs."""
    state = seat.dialog.state
    if state == ACTIVE:
        return _("the dialog is open.")
    if state == AWAITING_CONSENT:
        return _("the dialog is waiting for the family's consent.")
    if state == CLOSED:
        return _("the dialog has been closed.")
    return _("the dialog is paused.")


def _buttons(settings: Settings, seat: Participant, pages: tuple[str, ...], numbered: bool
             ) -> list[InlineKeyboardButton]:
    """The pages this seat may open now (as the pages themselves decide), as buttons."""
    found = []
    for page in pages:
        if not decide(q.seat(seat), seat.dialog.state, PAGE_ACTION[page]):
            continue
        if page == CONSENT and not seat.consent_giver:  # the card, or consent given: withdraw, approve newcomers
            continue
        if (button := page_button(settings, page, seat.dialog_id, numbered=numbered)) is not None:
            found.append(button)
    return found


async def command_pages(session: AsyncSession, person: Person | None, settings: Settings, command: str
                        ) -> list[list[InlineKeyboardButton]] | None:
    """The buttons to the pages where `command`'s work is done (None: no page does it yet;
    []: none the person may open now)."""
    pages = COMMAND_PAGES.get(command)
    if pages is None:
        return None
    coordinator = person is not None and person.staff_role == STAFF_COORDINATOR
    chosen = pages.coordinator if coordinator and pages.coordinator is not None else pages.everyone
    if pages.no_dialog or (coordinator and pages.coordinator_no_dialog):
        return [[b] for b in [page_button(settings, p) for p in chosen] if b is not None] if coordinator else []
    seats = [s for s in await q.seats_of(session, person) if s.joined_at is not None and s.removed_at is None
             and s.dialog.state != CLOSED] if person is not None else []
    if len(seats) > MAX_DIALOG_BUTTONS:
        return [[b] for b in [page_button(settings, OVERVIEW)] if b is not None]
    numbered = coordinator or len(seats) > 1
    rows = []
    for seat in seats:
        rows += [[b] for b in _buttons(settings, seat, chosen, numbered)]
    return rows


def input_buttons(settings: Settings, seats: list[Participant]) -> list[list[InlineKeyboardButton]]:
    """Skriv input, in each dialog where the person may write."""
    seats = [s for s in seats if s.joined_at is not None and s.removed_at is None]
    if len(seats) > MAX_DIALOG_BUTTONS:
        return [[b] for b in [page_button(settings, OVERVIEW)] if b is not None]
    numbered = len(seats) > 1
    return [[b] for s in seats for b in _buttons(settings, s, (INPUT,), numbered)]
