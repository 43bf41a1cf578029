"""What the joining flow shows: the consent card, the greetings, and its notices (composed when sent)."""

from __future__ import annotations

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import fmt_date
from bot.notices import RenderContext, Rendered, renderer
from handlers import texts
from handlers.choose import Id
from rules import consent as consent_rules
from rules.access import ACTIVE, AWAITING_CONSENT, PAUSED, shows_child_name
from services.consent import fingerprint
from storage import queries as q
from storage.models import Consent, Dialog, Participant, Person


class RemoveSeatCb(CallbackData, prefix="rmseat"):
    participant_id: Id


class ConsentCb(CallbackData, prefix="consent"):
    answer: str  # given | talk_first | declined
    participant_id: Id
    shown: str = ""  # fingerprint of the card's text: an answer counts only for what was shown


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


def card_of(session: AsyncSession):  # type: ignore[no-untyped-def]
    """The consent card of a seat as it reads now (services.consent.Card)."""

    async def card(dialog: Dialog, participant: Participant) -> tuple[str, list[str]]:
        return consent_text(dialog, participant, await session.get(Person, dialog.coordinator_id))

    return card


def consent_keyboard(participant: Participant, body: str) -> InlineKeyboardMarkup:
    shown = fingerprint(body)

    def button(text: str, answer: str) -> list[InlineKeyboardButton]:
        return [InlineKeyboardButton(text=text, callback_data=ConsentCb(
            answer=answer, participant_id=participant.id, shown=shown).pack())]

    return InlineKeyboardMarkup(inline_keyboard=[
        button(_("Yes, I give my consent"), consent_rules.GIVEN),
        button(_("I want to talk to the coordinator first"), consent_rules.TALK_FIRST),
        button(_("No thanks"), consent_rules.DECLINED),
    ])


async def send_consent_card(message: Message, session: AsyncSession, dialog: Dialog, participant: Participant) -> None:
    body, _listed = await card_of(session)(dialog, participant)
    await message.answer(body, reply_markup=consent_keyboard(participant, body), protect_content=True)


# ---- texts of the link ---------------------------------------------------------------------


def already_in(seat: Participant, dialog: Dialog) -> str:
    if not shows_child_name(q.seat(seat), dialog.state):
        return texts.awaiting_consent()
    return _("You are already part of the dialog about {child}.").format(child=html.quote(dialog.child_name))


def link_used() -> str:
    return _("This link has already been used. Ask your coordinator for a new one if you need it.")


def link_expired() -> str:
    return _("This link has expired. Ask your coordinator for a new one.")


def invitation_withdrawn() -> str:
    return _("This invitation has been withdrawn. If you have questions, talk to the coordinator who invited you.")


def link_unknown() -> str:
    return _("I don't recognise that link. Check that you copied all of it, or ask your coordinator for a new one.")


def welcome_active(participant: Participant, dialog: Dialog) -> str:
    return _(
        "Welcome, {name}. You are now part of the dialog about {child}, and it is open.\n\n"
        "Type /hjaelp to see what you can do."
    ).format(name=html.quote(participant.name), child=html.quote(dialog.child_name))


def state_line(d: Dialog) -> str:
    child = html.quote(d.child_name)
    if d.state == ACTIVE:
        return _("• The dialog about {child} is open.").format(child=child)
    if d.state == AWAITING_CONSENT:
        return _("• The dialog about {child} is waiting for the family's consent.").format(child=child)
    return _("• The dialog about {child} is paused.").format(child=child)


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
