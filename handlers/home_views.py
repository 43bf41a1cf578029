"""The home card, the main menu and "Næste skridt": what is next for a person, as a button.

Every step a family member takes ends with the next one offered as a button (`next_step_markup`,
called by the flows after consent, a number on the ruler, a meeting answer, the plan, a task,
sharing). The home card (`/start`, the menu's "Mit næste skridt") shows it for every dialog.
The main menu is a persistent reply keyboard with four plain entries; a tap sends its label as
text, which handlers/home.py handles before any step can take it as an answer.

This module imports no flow module (they all import it): the buttons lead into the flows
through callback data the flows already handle (handlers/choose.PickDialogCb) and this
module's own HomeCb (handlers/home.py).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    WebAppInfo,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.config import Settings
from core.i18n import current_timezone, fmt_date, fmt_datetime
from core.labels import child_in_chat, child_on_button
from core.webapp import MEETING, OVERVIEW, page_url
from handlers.choose import Id, PickDialogCb
from handlers.contact_views import contact_button
from rules.access import ACTIVE, AWAITING_CONSENT, PAUSED, shows_child_name
from rules.next_step import Step
from rules.roles import COORDINATOR, STAFF_COORDINATOR
from rules.text import truncate
from services import home as home_service
from services.home import Home
from storage import queries as q
from storage.models import Dialog, Participant, Person

# ---- buttons ------------------------------------------------------------------------------------


class HomeAction(StrEnum):
    consent = "consent"  # show the consent card again
    home = "home"  # show the home card ("➡️ My next step" under help and the fallback answers)


class HomeCb(CallbackData, prefix="home"):
    action: HomeAction
    dialog_id: Id = 0


def home_button() -> InlineKeyboardButton:
    """"➡️ My next step": the home card, from anywhere (help, the fallback answers)."""
    return InlineKeyboardButton(text=_("➡️ My next step"), callback_data=HomeCb(action=HomeAction.home).pack())


def home_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[home_button()]])


# Where each step's button leads: the flow's own entry (PickDialogCb is handled by each flow).
_FLOW = {
    Step.WRITE_INPUT: "input",
    Step.SHARE: "input",
    Step.RULER: "skala",
    Step.MEETING: "moede",
    Step.ACCEPT_PLAN: "plan",
    Step.TASK: "plan",
}


def _button_label(step: Step) -> str:
    return {
        Step.CONSENT: _("📝 Read and answer"),
        Step.WRITE_INPUT: _("✏️ Write your input"),
        Step.SHARE: _("📤 See and share your input"),
        Step.RULER: _("📏 Put your number on the ruler"),
        Step.MEETING: _("🗓 Answer the invitation"),
        Step.ACCEPT_PLAN: _("📋 Read the plan"),
        Step.TASK: _("✅ See your task"),
    }[step]


def step_button(h: Home, prefix: str = "") -> InlineKeyboardButton | None:
    """The button that starts this seat's next step (None: nothing to do now)."""
    step, dialog_id = h.next.step, h.next.dialog_id
    if step == Step.CONSENT:
        data = HomeCb(action=HomeAction.consent, dialog_id=dialog_id).pack()
    elif step in _FLOW:
        data = PickDialogCb(flow=_FLOW[step], dialog_id=dialog_id).pack()
    else:
        return None
    return InlineKeyboardButton(text=prefix + _button_label(step), callback_data=data)


# ---- what each step says ---------------------------------------------------------------------------


def done_text() -> str:
    return _("You are done for now. I will write to you when there is something new.")


def step_text(h: Home) -> str:
    """One or two plain sentences: what this person does next in this dialog (HTML)."""
    step, seat = h.next.step, h.seat
    if step == Step.CONSENT:
        return _("Read about the dialog, and give your answer about consent.")
    if step == Step.WRITE_INPUT:
        return _("Write what worries you, what works well and what you would like to happen.")
    if step == Step.SHARE:
        return _("You have written input that only you can see. Share it when you are ready.")
    if step == Step.RULER:
        return _("Put your number on the ruler. How are things right now?")
    if step == Step.MEETING and h.meeting is not None:
        return _("You are invited to a dialog meeting {when}. Tell us if you are coming.").format(
            when=fmt_datetime(h.meeting.starts_at))
    if step == Step.ACCEPT_PLAN:
        return _("The plan has been sent to you. Read it, and say if you agree.")
    if step == Step.TASK and h.task is not None:
        what = html.quote(truncate(h.task.what, 200))
        if h.next.overdue:
            return _("Your task should have been done {date}: {what}").format(date=fmt_date(h.task.ends_on), what=what)
        return _("Your task must be done {date}: {what}").format(date=fmt_date(h.task.ends_on), what=what)
    if step == Step.WAIT:
        if seat.dialog.state == PAUSED:
            return _("The dialog is paused, because consent was withdrawn.")
        if seat.dialog.state == AWAITING_CONSENT and seat.consent_giver:
            return _("We are waiting for the others to give consent. You will get a message when the dialog starts.")
        return texts.awaiting_consent()
    if step == Step.CLOSED:
        return _("The dialog has been closed.")
    return done_text()


def next_step_text(h: Home) -> str:
    """"Næste skridt: …" (or that there is nothing to do now); empty for a closed dialog."""
    if h.next.step == Step.CLOSED:
        return ""
    if h.next.actionable:
        return _("<b>Next step:</b> {step}").format(step=step_text(h))
    return step_text(h)


def _markup(button: InlineKeyboardButton | None) -> InlineKeyboardMarkup | None:
    return InlineKeyboardMarkup(inline_keyboard=[[button]]) if button else None


async def next_step_markup(session: AsyncSession, participant: Participant, now: datetime, *,
                           tz: tzinfo | None = None) -> tuple[str, InlineKeyboardMarkup | None]:
    """"Næste skridt: …" for this seat and the button that starts it (None: nothing to do now).

    Any handler appends the text to its answer (after a blank line) and sends the keyboard
    with it: `text + "\\n\\n" + line`, `reply_markup=keyboard`. The text is HTML and empty
    for a closed dialog.
    """
    h = await home_service.next_for(session, participant, now, tz=tz or current_timezone())
    return next_step_text(h), _markup(step_button(h))


async def with_next_step(text: str, session: AsyncSession, participant: Participant, now: datetime, *,
                         tz: tzinfo | None = None) -> tuple[str, InlineKeyboardMarkup | None]:
    """`text` with "Næste skridt: …" after it, and the step's button."""
    line, keyboard = await next_step_markup(session, participant, now, tz=tz)
    return (f"{text}\n\n{line}" if line else text), keyboard


# ---- the home card ---------------------------------------------------------------------------------


def state_line(d: Dialog) -> str:
    """A coordinator's line about one of their dialogs."""
    child = child_in_chat(d)
    if d.state == ACTIVE:
        return _("• The dialog about {child} is open.").format(child=child)
    if d.state == AWAITING_CONSENT:
        return _("• The dialog about {child} is waiting for the family's consent.").format(child=child)
    return _("• The dialog about {child} is paused.").format(child=child)


def _title(h: Home) -> str:
    """The dialog's name on the card: the child's, where this person may know it."""
    if not shows_child_name(q.seat(h.seat), h.seat.dialog.state):
        return _("A dialog you were invited to")
    return child_in_chat(h.seat.dialog)


def home_card(person: Person, homes: list[Home], *, consent_buttons: bool = True,
              settings: Settings | None = None) -> tuple[str, InlineKeyboardMarkup | None]:
    """Per dialog what is next for this person, with one button per step to take, and the way
    to the coordinator. `consent_buttons=False`: the consent cards themselves follow the card.

    A coordinator sees each dialog's state as before, and their own tasks.
    """
    lines = [_("Hi {name}.").format(name=html.quote(person.name or ""))]
    rows: list[list[InlineKeyboardButton]] = []
    several = len(homes) > 1
    for h in homes:
        prefix = f"{truncate(child_on_button(h.seat.dialog), 20)}: " if several else ""
        if h.seat.role == COORDINATOR:
            block = state_line(h.seat.dialog)
            if h.next.step == Step.TASK:
                block += "\n" + step_text(h)
        else:
            block = f"<b>{_title(h)}</b>\n{step_text(h)}"
        lines.append(block)
        if (button := step_button(h, prefix)) is not None and (consent_buttons or h.next.step != Step.CONSENT):
            rows.append([button])
    if settings is not None:
        rows += web_buttons(homes, settings)
    contact = [h for h in homes if h.seat.role != COORDINATOR and shows_child_name(q.seat(h.seat), h.seat.dialog.state)]
    for h in contact:
        button = contact_button(h.seat.dialog_id)
        prefix = f"{truncate(child_on_button(h.seat.dialog), 20)}: " if len(contact) > 1 else ""
        rows.append([InlineKeyboardButton(text=prefix + button.text, callback_data=button.callback_data)])
    return "\n\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def web_buttons(homes: list[Home], settings: Settings) -> list[list[InlineKeyboardButton]]:
    """With the Mini App set up: each open dialog's Overblik (and the coordinator's meeting page)."""
    rows = []
    open_ = [h for h in homes if h.seat.dialog.state == ACTIVE and h.seat.joined_at is not None]
    for h in open_:
        prefix = f"{truncate(child_on_button(h.seat.dialog), 20)}: " if len(open_) > 1 else ""
        if (url := page_url(settings, OVERVIEW, h.seat.dialog_id)) is not None:
            rows.append([InlineKeyboardButton(text=prefix + _("📊 Overview"), web_app=WebAppInfo(url=url))])
        if h.seat.role == COORDINATOR and (url := page_url(settings, MEETING, h.seat.dialog_id)) is not None:
            rows.append([InlineKeyboardButton(text=prefix + _("🖥 Meeting mode"), web_app=WebAppInfo(url=url))])
    return rows


async def homes_of(session: AsyncSession, person: Person, now: datetime) -> list[Home]:
    return await home_service.home(session, person, now, tz=current_timezone())


# ---- the main menu (a persistent reply keyboard) ---------------------------------------------------


class MenuEntry(StrEnum):
    next = "next"
    input = "input"
    ruler = "ruler"
    overview = "overview"


def _menu_labels() -> dict[MenuEntry, str]:
    return {
        MenuEntry.next: _("My next step"),
        MenuEntry.input: _("Write input"),
        MenuEntry.ruler: _("The ruler"),
        MenuEntry.overview: _("Overview"),
    }


def main_menu() -> ReplyKeyboardMarkup:
    labels = _menu_labels()
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=labels[MenuEntry.next]), KeyboardButton(text=labels[MenuEntry.input])],
                  [KeyboardButton(text=labels[MenuEntry.ruler]), KeyboardButton(text=labels[MenuEntry.overview])]],
        is_persistent=True, resize_keyboard=True)


def menu_entry(text: str | None) -> MenuEntry | None:
    """The menu entry whose label (in any language the bot speaks) is `text`."""
    if not text:
        return None
    typed = text.strip().casefold()
    i18n = I18n.get_current()
    for locale in i18n.available_locales:
        with i18n.use_locale(locale):
            for entry, label in _menu_labels().items():
                if label.casefold() == typed:
                    return entry
    return None


def has_menu(person: Person | None) -> bool:
    """Family members and participants get the main menu; coordinators keep their command menu."""
    return person is not None and person.staff_role != STAFF_COORDINATOR


def menu_hint() -> str:
    return _("Your menu is at the bottom of the chat.")


def menu_help() -> str:
    """For help: what the main menu's entries do."""
    labels = _menu_labels()
    return _("Use the menu at the bottom of the chat:\n"
             "• {next}: what you should do now\n"
             "• {input}: write what you think\n"
             "• {ruler}: put your number on the ruler\n"
             "• {overview}: read what the others have shared").format(
        next=labels[MenuEntry.next], input=labels[MenuEntry.input], ruler=labels[MenuEntry.ruler],
        overview=labels[MenuEntry.overview])
