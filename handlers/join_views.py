"""What the joining flow shows: the consent card, the greetings, and its notices (composed when sent)."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.config import Settings
from core.i18n import fmt_date
from core.labels import child_in_chat
from core.notices import RenderContext, Rendered, renderer
from handlers.choose import Id
from handlers.contact_views import contact_lines
from handlers.home_views import with_next_step
from rules import consent as consent_rules
from rules.access import ACTIVE, PAUSED, shows_child_name
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


class DataInfoCb(CallbackData, prefix="datainfo"):
    """"Read more about your data" under the consent card (handlers/privacy.py answers it)."""

    dialog_id: Id = 0


def settings_of(session: AsyncSession) -> Settings | None:
    """The app's settings, as the update's transaction carries them (bot/middlewares.py)."""
    notices = session.info.get("notices")
    return getattr(notices, "settings", None)


def consent_text(dialog: Dialog, participant: Participant, coordinator: Person | None,
                 settings: Settings | None = None) -> tuple[str, list[str]]:
    """The exact text a consent giver is asked to consent to, and the list shown.

    Short enough for a phone, and complete: who invites whom to what, how to reach the
    coordinator, who sees what, what is stored and for how long, who is responsible, that
    it is voluntary and how to withdraw (GDPR art. 7(3) and 13). The fuller text is behind
    "Read more about your data" (handlers/privacy_views.py `privacy_text`).
    """
    # Who is in: not those still waiting for the family's approval, nor those refused.
    others = [p for p in dialog.participants if p.role != "coordinator"
              and p.approval not in (consent_rules.PENDING, consent_rules.REFUSED)]
    listed = [texts.who(p) for p in others]
    coordinator_name = html.quote(coordinator.name or "") if coordinator else ""
    head = _(
        "Hi {name}\n\n"
        "{coordinator} has invited you to a dialog where we work together to support "
        "{child}'s development and wellbeing.\n\n"
        "<b>The purpose of the dialog</b> ({date}):\n{purpose}\n\n"
        "<b>Coordinator:</b> {coordinator}"
    ).format(
        name=html.quote(participant.name),
        coordinator=coordinator_name,
        child=child_in_chat(dialog),
        date=fmt_date(dialog.purpose_updated_at),
        purpose=html.quote(dialog.purpose),
    )
    lines = contact_lines(coordinator)
    if lines:
        head += "\n" + lines
    invited = _("<b>Invited:</b>\n{invited}").format(invited="\n".join(f"• {line}" for line in listed))
    what = _("<b>What happens</b>\n"
             "Each of you writes what worries you, what works well and what should happen. "
             "You also give your number on the ruler. Only the people above see what you share.")
    municipality = html.quote(settings.municipality_name) if settings else ""
    data = _("<b>Your data</b>\n"
             "We keep what you write, your number and your answers. {municipality} is responsible for "
             "your data. It is deleted {period} after the dialog is closed.").format(
        municipality=municipality or _("The municipality"),
        period=texts.retention_period(settings) if settings else _("the retention period"))
    privacy_contact = settings.municipality_privacy_contact.strip() if settings else ""
    if privacy_contact:
        data += " " + _("Questions about your data: {contact}").format(contact=html.quote(privacy_contact))
    choice = _("<b>You decide</b>\n"
               "Saying yes is voluntary. You can withdraw your consent at any time: type /samtykke and "
               "tap the button. Then the dialog pauses at once. Nobody can see anything in it, and nothing "
               "more is shared.")
    question = _("Do you give your consent for the people invited to take part?")
    return "\n\n".join((head, invited, what, data, choice, question)), listed


def card_of(session: AsyncSession, settings: Settings | None = None):  # type: ignore[no-untyped-def]
    """The consent card of a seat as it reads now (services.consent.Card)."""

    async def card(dialog: Dialog, participant: Participant) -> tuple[str, list[str]]:
        return consent_text(dialog, participant, await session.get(Person, dialog.coordinator_id),
                            settings or settings_of(session))

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
        [InlineKeyboardButton(text=_("Read more about your data"),
                              callback_data=DataInfoCb(dialog_id=participant.dialog_id).pack())],
    ])


async def send_consent_card(message: Message, session: AsyncSession, dialog: Dialog, participant: Participant,
                            settings: Settings | None = None) -> None:
    body, _listed = await card_of(session, settings)(dialog, participant)
    await message.answer(body, reply_markup=consent_keyboard(participant, body), protect_content=True)


# ---- texts of the link ---------------------------------------------------------------------


def already_in(seat: Participant, dialog: Dialog) -> str:
    if not shows_child_name(q.seat(seat), dialog.state):
        return texts.awaiting_consent()
    return _("You are already part of the dialog about {child}.").format(child=child_in_chat(dialog))


def link_used() -> str:
    return _("This link has already been used. Ask your coordinator for a new one if you need it.")


def link_expired() -> str:
    return _("This link has expired. Ask your coordinator for a new one.")


def invitation_withdrawn() -> str:
    return _("This invitation has been withdrawn. If you have questions, talk to the coordinator who invited you.")


def link_unknown() -> str:
    return _("I don't recognise that link. Check that you copied all of it, or ask your coordinator for a new one.")


def welcome_active(participant: Participant, dialog: Dialog) -> str:
    return _("Welcome, {name}. You are now part of the dialog about {child}, and it is open.").format(
        name=html.quote(participant.name), child=child_in_chat(dialog))


# ---- notices of this flow, composed when they are sent --------------------------------------


@renderer("joined")
async def _joined(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None or p.removed_at is not None:
        return None
    # staff: a notice to the coordinator
    text = _("{who} has opened the invitation to the dialog about {child}.").format(
        who=texts.who(p), child=child_in_chat(p.dialog))
    if p.opened_by:
        # staff: a notice to the coordinator
        text += "\n" + _("Telegram account: {account}").format(account=html.quote(p.opened_by))
    if p.consent_giver or p.person_id is None:
        return Rendered(text)
    # staff: a notice to the coordinator
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
                      "They no longer have access.").format(who=texts.who(p), child=child_in_chat(p.dialog)))


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
        # staff: a notice to the coordinator
        consent_rules.GIVEN: _("{who} has given consent to the dialog about {child}."),
        # staff: a notice to the coordinator
        consent_rules.TALK_FIRST: _("{who} would like to talk to you before giving consent to the dialog about {child}."),
        # staff: a notice to the coordinator
        consent_rules.DECLINED: _("{who} has declined the dialog about {child}."),
        # staff: a notice to the coordinator
        consent_rules.WITHDRAWN: _("{who} has withdrawn their consent to the dialog about {child}."),
    }.get(consent.answer)
    if text is None:
        return None
    text = text.format(who=texts.who(p), child=child_in_chat(p.dialog))
    if consent.answer == consent_rules.WITHDRAWN and p.dialog.state == PAUSED:
        # staff: a notice to the coordinator
        text += "\n\n" + _("The dialog is paused: the participants have no access and get no reminders "
                            "until consent is given again.")
    return Rendered(text)


@renderer("dialog_resumed")
async def _dialog_resumed(ctx: RenderContext, payload: dict) -> Rendered | None:
    return await _with_next_step(ctx, payload, lambda dialog: _(
        "▶️ The dialog about {child} continues: the family has given consent again."
    ).format(child=child_in_chat(dialog)))


@renderer("dialog_open")
async def _dialog_open(ctx: RenderContext, payload: dict) -> Rendered | None:
    return await _with_next_step(ctx, payload, lambda dialog: _(
        "The dialog about {child} is now open: the family has given consent."
    ).format(child=child_in_chat(dialog)))


async def _with_next_step(ctx: RenderContext, payload: dict, text_of: Callable[[Dialog], str]) -> Rendered | None:
    """The notice about the payload's dialog while it is active, then the recipient's next step in it
    with its button."""
    dialog = await ctx.session.get(Dialog, payload["dialog_id"])
    if dialog is None or dialog.state != ACTIVE:
        return None
    text = text_of(dialog)
    seat = await q.participant_in(ctx.session, ctx.person, dialog.id)
    if seat is None:
        return Rendered(text)
    text, keyboard = await with_next_step(text, ctx.session, seat, ctx.row.due_at, tz=ctx.settings.tz)
    return Rendered(text, keyboard)
