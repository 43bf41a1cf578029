"""What "reach the coordinator" shows: the coordinator's contact details wherever a family
member might need them, the "📞 Contact the coordinator" button and its card, the answer to
"I want to talk to the coordinator first", and the coordinator's own /kontakt steps.

For the other flows:
- `contact_button(dialog_id)`: the button (the tap is checked on the server);
- `contact_lines(coordinator)`: phone, e-mail and hours as lines of HTML ("" when none is set);
- `help_lines(session, person)`: who the person's coordinator is and how to reach them (help);
- `talk_first_reply(coordinator, dialog_id)`: the answer to "I want to talk to the coordinator first".
"""

from __future__ import annotations

from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.choose import Id
from rules.access import Action, decide
from rules.roles import COORDINATOR, STAFF_COORDINATOR
from services.contact import coordinator_of, has_details
from storage import queries as q
from storage.models import Person


class ContactAction(StrEnum):
    SHOW = "show"  # who the coordinator is and how to reach them
    WRITE = "write"  # write a message to the coordinator


class ContactCb(CallbackData, prefix="contact"):
    action: ContactAction
    dialog_id: Id


class DetailsAction(StrEnum):
    START = "start"  # the coordinator starts entering their contact details
    SKIP = "skip"  # leave this detail as it is
    CLEAR = "clear"  # remove this detail


class DetailsCb(CallbackData, prefix="mycontact"):
    action: DetailsAction
    step: str = ""  # phone | email | hours: the step the button belongs to (an older step's is stale)


# ---- the button and the card behind it ---------------------------------------------------------


def contact_button(dialog_id: int) -> InlineKeyboardButton:
    """"📞 Contact the coordinator" for the dialog `dialog_id` (the tap is checked on the server)."""
    return InlineKeyboardButton(text=_("📞 Contact the coordinator"),
                                callback_data=ContactCb(action=ContactAction.SHOW, dialog_id=dialog_id).pack())


def write_button(dialog_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("✉️ Write a message to the coordinator"),
                                callback_data=ContactCb(action=ContactAction.WRITE, dialog_id=dialog_id).pack())


def contact_lines(coordinator: Person | None) -> str:
    """The coordinator's phone, e-mail and when they can be reached, one line each (HTML); "" if none."""
    if coordinator is None:
        return ""
    lines = []
    if coordinator.contact_phone:
        lines.append(_("📞 Phone: {phone}").format(phone=html.quote(coordinator.contact_phone)))
    if coordinator.contact_email:
        lines.append(_("✉️ E-mail: {email}").format(email=html.quote(coordinator.contact_email)))
    if coordinator.contact_hours:
        lines.append(_("🕘 Best reached: {hours}").format(hours=html.quote(coordinator.contact_hours)))
    return "\n".join(lines)


def contact_card(coordinator: Person | None, dialog_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """Who the coordinator is, how to reach them, and a button to write to them here."""
    name = html.quote(coordinator.name or "") if coordinator else ""
    text = _("<b>Your coordinator is {name}</b>").format(name=name)
    lines = contact_lines(coordinator)
    text += "\n" + lines if lines else "\n" + _("{name} has not added a phone number or e-mail yet.").format(name=name)
    text += "\n\n" + _("You can also write a short message to {name} here.").format(name=name)
    return text, InlineKeyboardMarkup(inline_keyboard=[[write_button(dialog_id)]])


def write_prompt(coordinator: Person | None) -> str:
    name = html.quote(coordinator.name or "") if coordinator else ""
    return _("Write your message to {name} and send it. Only {name} gets it.\n\n"
             "Type /annuller if you do not want to send anything.").format(name=name)


def sent_reply(coordinator: Person | None) -> str:
    return _("✓ Sent to the coordinator, {name}. They will get back to you.").format(
        name=html.quote(coordinator.name or "") if coordinator else "")


def is_coordinator_refusal() -> str:
    return _("You are the coordinator of this dialog.")


# ---- "I want to talk to the coordinator first" ------------------------------------------------


def talk_first_reply(coordinator: Person | None, dialog_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """The answer to "I want to talk to the coordinator first": the coordinator has been told, and
    how to reach them now (their details and the button to write to them here)."""
    name = html.quote(coordinator.name or "") if coordinator else ""
    text = _("That is perfectly fine. {name} has been told and will contact you.").format(name=name)
    lines = contact_lines(coordinator)
    if lines:
        text += "\n\n" + _("You can also reach {name} yourself:").format(name=name) + "\n" + lines
    text += "\n\n" + _("When you are ready, type /start to see the question again.")
    return text, InlineKeyboardMarkup(inline_keyboard=[[write_button(dialog_id)]])


# ---- help ---------------------------------------------------------------------------------------


async def help_lines(session: AsyncSession, person: Person | None) -> str:
    """For help: the coordinator of each dialog the person takes part in (not as its coordinator),
    with their contact details (HTML); "" when there is none to show."""
    if person is None:
        return ""
    seats = [s for s in await q.seats_of(session, person)
             if s.role != COORDINATOR and decide(q.seat(s), s.dialog.state, Action.VIEW_PURPOSE)]
    coordinators: dict[int, Person] = {}
    for s in seats:
        coordinator = await coordinator_of(session, s.dialog)
        if coordinator is not None:
            coordinators.setdefault(coordinator.id, coordinator)
    blocks = []
    for coordinator in coordinators.values():
        head = _("<b>Your coordinator:</b> {name}").format(name=html.quote(coordinator.name or ""))
        lines = contact_lines(coordinator)
        blocks.append(head + ("\n" + lines if lines else ""))
    return "\n\n".join(blocks)


# ---- the coordinator's own contact details (/kontakt) ------------------------------------------


def registered_keyboard(person: Person) -> InlineKeyboardMarkup | None:
    """Under the welcome of a newly registered coordinator: add your contact details."""
    if person.staff_role != STAFF_COORDINATOR:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=_("📇 Add your contact details"), callback_data=DetailsCb(action=DetailsAction.START).pack())]])


def details_summary(person: Person) -> str:
    lines = contact_lines(person)
    if not has_details(person):
        # staff: the coordinator sets their own contact details
        return _("The families do not see a phone number or e-mail for you yet.")
    # staff: the coordinator sets their own contact details
    return _("The families in your dialogs see:") + "\n" + lines


def step_keyboard(step: str, current: str | None) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(text=_("Skip ➡️"),
                                  callback_data=DetailsCb(action=DetailsAction.SKIP, step=step).pack())]]
    if current:
        rows.append([InlineKeyboardButton(text=_("🗑 Remove it"),
                                          callback_data=DetailsCb(action=DetailsAction.CLEAR, step=step).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def ask_phone(person: Person) -> str:
    # staff: the coordinator sets their own contact details
    text = _("What number can families call you on? (e.g. 12 34 56 78)")
    if person.contact_phone:
        text += "\n" + _("Now: {value}").format(value=html.quote(person.contact_phone))
    return text


def ask_email(person: Person) -> str:
    # staff: the coordinator sets their own contact details
    text = _("What e-mail address can families write to? (e.g. camilla.holm@kommune.dk)")
    if person.contact_email:
        text += "\n" + _("Now: {value}").format(value=html.quote(person.contact_email))
    return text


def ask_hours(person: Person) -> str:
    # staff: the coordinator sets their own contact details
    text = _("When can families reach you? (e.g. Mon-Fri 8-15)")
    if person.contact_hours:
        text += "\n" + _("Now: {value}").format(value=html.quote(person.contact_hours))
    return text


def bad_phone() -> str:
    # staff: the coordinator sets their own contact details
    return _("That does not look like a phone number. Write the 8 digits (e.g. 12 34 56 78), "
             "or a number starting with + and the country code. Or tap Skip.")


def bad_email() -> str:
    # staff: the coordinator sets their own contact details
    return _("That does not look like an e-mail address. Write it like this: name@kommune.dk. Or tap Skip.")


def details_saved(person: Person) -> str:
    # staff: the coordinator sets their own contact details
    return _("✓ Saved.") + "\n\n" + details_summary(person) + "\n\n" + _(
        "You can change it at any time with /kontakt.")

