"""What the coordinator's flows show: the steps of `/ny` and `/inviter`, a dialog's card (`/dialoger`), and the
notice that someone can no longer be reached."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.i18n import fmt_date, fmt_datetime
from core.labels import child_in_chat, child_on_button
from core.notices import RenderContext, Rendered, renderer
from handlers.choose import is_id
from rules.access import ACTIVE, AWAITING_CONSENT, CLOSED
from rules.consent import PENDING, REFUSED, missing_consents
from rules.roles import COORDINATOR, INVITABLE, NETWORK, PROFESSIONAL
from services.membership import Invited
from storage import queries as q
from storage.models import Dialog, Participant


class NewDialogAction(StrEnum):
    AGE_BARN = "age_barn"
    AGE_UNG = "age_ung"
    CREATE = "create"
    EDIT_NAME = "edit_name"
    EDIT_AGE = "edit_age"
    EDIT_PURPOSE = "edit_purpose"
    CANCEL = "cancel"


class NewDialogCb(CallbackData, prefix="ny"):
    action: NewDialogAction


class InviteAction(StrEnum):
    DIALOG = "dialog"  # value: the dialog's id
    ROLE = "role"  # value: the role
    OFFLINE = "offline"  # value: the dialog's id: the person takes part without Telegram (no link)
    AGE = "age"  # value: under | over (16, Telegram's minimum age in the EU)
    CANCEL = "cancel"


class InviteCb(CallbackData, prefix="inv"):
    action: InviteAction
    value: str = ""

    @property
    def dialog_id(self) -> int:
        """The dialog a "dialog" button names, for the seat check (handlers/seats.py); a value that
        can name no row is -1, a dialog nobody holds a seat in."""
        return (int(self.value) if is_id(self.value) else 0) or -1


def invite_button(text: str, dialog: Dialog) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=InviteCb(action=InviteAction.DIALOG,
                                                                  value=str(dialog.id)).pack())


def not_coordinator() -> str:
    return _("That command is for coordinators (tovholdere). Type /hjaelp to see what you can do.")


# ---- /ny -----------------------------------------------------------------------------------


def ask_child_name() -> str:
    return _(
        "<b>New dialog</b> (step 1 of 3)\n\n"
        "What is the child's first name?\n"
        "Only the first name – never a CPR number.")


def ask_age(child_name: str) -> str:
    return _("<b>New dialog</b> (step 2 of 3)\n\nHow old is {child}?").format(child=html.quote(child_name))


def ask_age_again() -> str:
    """Changing the age group from the summary: the child's name is not repeated."""
    return _("How old is the child?")


def age_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=_("Child (0-14 years)"),
                              callback_data=NewDialogCb(action=NewDialogAction.AGE_BARN).pack())],
        [InlineKeyboardButton(text=_("Young person (15-30 years)"),
                              callback_data=NewDialogCb(action=NewDialogAction.AGE_UNG).pack())],
    ])


def ask_purpose() -> str:
    return _(
        "<b>New dialog</b> (step 3 of 3)\n\n"
        "What is the purpose of the dialog? Write it the way you and the family talked about it, "
        "e.g. \"We want to work together so that Emma feels safe at school again.\"")


def summary(data: dict) -> tuple[str, InlineKeyboardMarkup]:  # type: ignore[type-arg]
    def b(text: str, action: NewDialogAction) -> list[InlineKeyboardButton]:
        return [InlineKeyboardButton(text=text, callback_data=NewDialogCb(action=action).pack())]

    return (
        _("<b>Check the dialog</b>\n\n<b>Child:</b> {child}\n<b>Age group:</b> {age}\n"
          "<b>Purpose:</b>\n{purpose}").format(
            child=html.quote(data["child_name"]), age=texts.age_group_label(data["age_group"]),
            purpose=html.quote(data["purpose"])),
        InlineKeyboardMarkup(inline_keyboard=[
            b(_("✅ Open the dialog"), NewDialogAction.CREATE),
            b(_("Change the name"), NewDialogAction.EDIT_NAME),
            b(_("Change the age group"), NewDialogAction.EDIT_AGE),
            b(_("Change the purpose"), NewDialogAction.EDIT_PURPOSE),
            b(_("Cancel"), NewDialogAction.CANCEL),
        ]),
    )


def only_coordinators() -> str:
    """A step of /ny tapped by someone who is not a coordinator (an alert: short)."""
    return _("That command is for coordinators (tovholdere).")


def cancelled() -> str:
    return _("Cancelled. Nothing was saved.")


def dialog_opened(dialog: Dialog) -> tuple[str, InlineKeyboardMarkup]:
    return _("The dialog about {child} is open for invitations.\n\n"
             "Now invite the participants – the parents with custody first, as they give consent.").format(
        child=child_in_chat(dialog)), InlineKeyboardMarkup(inline_keyboard=[[invite_button(
            _("Invite a participant"), dialog)]])


# ---- /inviter ------------------------------------------------------------------------------


def no_open_dialogs() -> str:
    return _("You have no open dialogs. Open one with /ny.")


def which_dialog(dialogs: list[Dialog]) -> tuple[str, InlineKeyboardMarkup]:
    return _("Which dialog do you want to invite someone to?"), InlineKeyboardMarkup(
        inline_keyboard=[[invite_button(f"{child_on_button(d)} (#{d.id})", d)] for d in dialogs])


def ask_name(dialog: Dialog) -> str:
    return _("<b>Invite to the dialog about {child}</b>\n\n"
             "What is the person's name? (e.g. Mette Hansen)").format(child=child_in_chat(dialog))


def ask_role(name: str) -> str:
    return _("What is {name}'s role in the dialog?").format(name=html.quote(name))


def ask_relation(role: str, name: str) -> str:
    """What it should say next to the person's name: a job title, how they know the child, or Mother/Father."""
    if role == PROFESSIONAL:
        ask = _("What is {name}'s job title? (e.g. Class teacher, Health visitor, PPR psychologist)")
    elif role == NETWORK:
        ask = _("How does {name} know the child? (e.g. Grandfather, Football coach, Neighbour)")
    else:
        ask = _("What should it say next to {name}'s name? (e.g. Mother or Father)")
    return ask.format(name=html.quote(name))


def invitation_made(invited: Invited, dialog: Dialog, link: str, expires: datetime) -> tuple[str, InlineKeyboardMarkup]:
    """The invitation made: who, whether the family is asked first, and the link to pass on."""
    participant = invited.participant
    name = html.quote(participant.name)
    lines = [_("✅ {who} is invited to the dialog about {child}.").format(
        who=texts.who(participant), child=child_in_chat(dialog))]
    if invited.asked is not None:
        # The dialog has started: the family decides whether the new person comes in.
        lines.append(_(
            "The dialog has started, so the family decides: {names} will be asked to approve {name}. "
            "The link only works once they have approved, and you will be told.").format(
                names=", ".join(html.quote(a.name) for a in invited.asked), name=name))
    elif participant.consent_giver:
        lines.append(_("{name} gives consent: nobody else gets in before the consent givers have said yes.").format(
            name=name))
    lines.append(_(
        "Pass on this personal link to {name}, e.g. by text message, e-mail, e-Boks or on paper. "
        "It can be used once and expires on {date}:").format(name=name, date=fmt_date(expires)))
    lines.append(link)
    return "\n\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[[invite_button(_("Invite one more"), dialog)]])


def role_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=texts.role_label(role), callback_data=InviteCb(action=InviteAction.ROLE, value=role).pack())]
        for role in INVITABLE])


# ---- a dialog's card on the desk (/dialoger: handlers/desk.py) ------------------------------


def _account(p: Participant) -> str:
    """Which Telegram account opened the link: a forwarded link admits whoever opens it first."""
    if not p.opened_by:
        return ""
    return " – " + _("Telegram: {account}").format(account=html.quote(p.opened_by))


async def dialog_block(session: AsyncSession, d: Dialog) -> str:
    head = _("<b>{child}</b> ({age}) · #{id}").format(
        child=child_in_chat(d), age=texts.age_group_label(d.age_group), id=d.id)
    if d.state == AWAITING_CONSENT:
        latest = await q.latest_answers(session, d.id)
        givers = [p for p in d.participants if p.consent_giver]
        missing = set(missing_consents([p.id for p in givers], latest))
        if not givers:
            status = _("Waiting for consent: invite the parents with custody (or the young person).")
        else:
            status = _("Waiting for consent from: {names}").format(
                names=", ".join(html.quote(p.name) for p in givers if p.id in missing))
    elif d.state == ACTIVE:
        status = _("Open")
    elif d.state == CLOSED:
        status = _("Closed")
        if d.closed_at is not None:
            status = _("Closed {when}: {reason}").format(
                when=fmt_datetime(d.closed_at), reason=html.quote(d.close_reason or ""))
    else:
        status = _("Paused: consent was withdrawn")
    members = "\n".join(
        ("🕓 " if p.approval == PENDING else "✅ " if p.joined_at else "⏳ ") + texts.who(p) + _account(p)
        for p in d.participants if p.role != COORDINATOR and p.approval != REFUSED)
    if not members:  # (not inside the f-string: the catalog extractor would not see it)
        members = _("No participants invited yet.")
    return f"{head}\n{status}\n{members}"


@renderer("unreachable")
async def _unreachable(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None:
        return None
    return Rendered(_(
        "{who} can no longer be reached in Samspil (they have blocked or deleted the bot) "
        "in the dialog about {child}. Please contact them another way.").format(
            who=texts.who(p), child=child_in_chat(p.dialog)))
