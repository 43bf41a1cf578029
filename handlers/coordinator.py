"""The coordinator's flows: `/ny` opens a dialog, `/inviter` adds a participant, `/dialoger`."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router, html
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import fmt_date, fmt_datetime
from bot.notices import Notices, RenderContext, Rendered, renderer
from handlers import texts
from handlers.answers import (
    NAME_LIMIT,
    NOT_COMMAND,
    PERSON_NAME_LIMIT,
    PURPOSE_LIMIT,
    RELATION_LIMIT,
    read_answer,
)
from handlers.choose import is_id
from handlers.privacy import ask_approval
from rules.access import ACTIVE, AWAITING_CONSENT, CLOSED, Action, decide
from rules.consent import PENDING, REFUSED, missing_consents, needs_approval
from rules.roles import (
    AGE_GROUPS,
    COORDINATOR,
    INVITABLE,
    NETWORK,
    PROFESSIONAL,
    STAFF_COORDINATOR,
    YOUNG,
    asks_relation,
)
from rules.text import split_message
from storage import queries as q
from storage.models import Dialog, Participant, Person

router = Router(name="coordinator")


class NewDialog(StatesGroup):
    child_name = State()
    age_group = State()
    purpose = State()
    confirm = State()


class Invite(StatesGroup):
    choose_dialog = State()
    name = State()
    role = State()
    relation = State()


class NewDialogCb(CallbackData, prefix="ny"):
    action: str  # age_barn | age_ung | create | edit_name | edit_age | edit_purpose | cancel


class InviteCb(CallbackData, prefix="inv"):
    action: str  # dialog | role | again | done
    value: str = ""


def _is_coordinator(person: Person | None) -> bool:
    return person is not None and person.staff_role == STAFF_COORDINATOR


async def _refuse_not_coordinator(message: Message) -> None:
    await message.answer(_(
        "That command is for coordinators (tovholdere). "
        "Type /hjaelp to see what you can do."))


# ---- /ny -----------------------------------------------------------------------------------


@router.message(Command("ny"))
async def new_dialog(message: Message, person: Person | None, state: FSMContext) -> None:
    if not _is_coordinator(person):
        await _refuse_not_coordinator(message)
        return
    await state.clear()
    await state.set_state(NewDialog.child_name)
    await message.answer(_ask_child_name())


def _ask_child_name() -> str:
    return _(
        "<b>New dialog</b> (step 1 of 3)\n\n"
        "What is the child's first name?\n"
        "Only the first name – never a CPR number.")


def _age_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=_("Child (0-14 years)"), callback_data=NewDialogCb(action="age_barn").pack())],
        [InlineKeyboardButton(text=_("Young person (15-30 years)"), callback_data=NewDialogCb(action="age_ung").pack())],
    ])


@router.message(NewDialog.child_name, NOT_COMMAND)
async def got_child_name(message: Message, state: FSMContext) -> None:
    name = await read_answer(message, NAME_LIMIT)
    if name is None:
        return
    await state.update_data(child_name=name)
    if (await state.get_data()).get("editing"):
        await _show_summary(message, state)
        return
    await state.set_state(NewDialog.age_group)
    await message.answer(_("<b>New dialog</b> (step 2 of 3)\n\nHow old is {child}?").format(
        child=html.quote(name)), reply_markup=_age_keyboard())


@router.message(NewDialog.age_group, NOT_COMMAND)
async def age_group_typed(message: Message) -> None:
    await message.answer(_("Please choose with one of the buttons above."), reply_markup=_age_keyboard())


@router.callback_query(NewDialog.age_group, NewDialogCb.filter(F.action.startswith("age_")))
async def got_age_group(query: CallbackQuery, callback_data: NewDialogCb, state: FSMContext) -> None:
    age = callback_data.action.removeprefix("age_")
    if age not in AGE_GROUPS:
        await query.answer(texts.stale_button(), show_alert=True)
        return
    await state.update_data(age_group=age)
    await query.answer()
    if query.message:
        await query.message.edit_reply_markup(reply_markup=None)
    if (await state.get_data()).get("editing"):
        await _show_summary(query.message, state)
        return
    await state.set_state(NewDialog.purpose)
    await query.message.answer(_ask_purpose())


def _ask_purpose() -> str:
    return _(
        "<b>New dialog</b> (step 3 of 3)\n\n"
        "What is the purpose of the dialog? Write it the way you and the family talked about it, "
        "e.g. \"We want to work together so that Emma feels safe at school again.\"")


@router.message(NewDialog.purpose, NOT_COMMAND)
async def got_purpose(message: Message, state: FSMContext) -> None:
    purpose = await read_answer(message, PURPOSE_LIMIT)
    if purpose is None:
        return
    await state.update_data(purpose=purpose)
    await _show_summary(message, state)


async def _show_summary(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await state.set_state(NewDialog.confirm)
    await state.update_data(editing=False)

    def b(text: str, action: str) -> list[InlineKeyboardButton]:
        return [InlineKeyboardButton(text=text, callback_data=NewDialogCb(action=action).pack())]

    await message.answer(
        _("<b>Check the dialog</b>\n\n<b>Child:</b> {child}\n<b>Age group:</b> {age}\n"
          "<b>Purpose:</b>\n{purpose}").format(
            child=html.quote(data["child_name"]), age=texts.age_group_label(data["age_group"]),
            purpose=html.quote(data["purpose"])),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[
            b(_("✅ Open the dialog"), "create"),
            b(_("Change the name"), "edit_name"),
            b(_("Change the age group"), "edit_age"),
            b(_("Change the purpose"), "edit_purpose"),
            b(_("Cancel"), "cancel"),
        ]),
    )


@router.message(NewDialog.confirm, NOT_COMMAND)
async def confirm_typed(message: Message) -> None:
    await message.answer(_("Please choose with one of the buttons above."))


@router.callback_query(NewDialog.confirm, NewDialogCb.filter())
async def confirm_action(
    query: CallbackQuery, callback_data: NewDialogCb, state: FSMContext, session: AsyncSession,
    person: Person | None, clock: Clock,
) -> None:
    if not _is_coordinator(person):
        await query.answer(_("That command is for coordinators (tovholdere)."), show_alert=True)
        return
    action = callback_data.action
    await query.answer()
    if query.message:
        await query.message.edit_reply_markup(reply_markup=None)
    msg = query.message
    if action == "cancel":
        await state.clear()
        await msg.answer(_("Cancelled. Nothing was saved."))
        return
    if action in ("edit_name", "edit_age", "edit_purpose"):
        await state.update_data(editing=True)
        if action == "edit_name":
            await state.set_state(NewDialog.child_name)
            await msg.answer(_ask_child_name())
        elif action == "edit_age":
            await state.set_state(NewDialog.age_group)
            await msg.answer(_("How old is the child?"), reply_markup=_age_keyboard())
        else:
            await state.set_state(NewDialog.purpose)
            await msg.answer(_ask_purpose())
        return
    if action != "create":
        await msg.answer(texts.stale_button())
        return
    data = await state.get_data()
    dialog = await q.create_dialog(
        session, coordinator=person, child_name=data["child_name"], age_group=data["age_group"],
        purpose=data["purpose"], now=clock.now(),
    )
    await state.clear()
    await msg.answer(
        _("The dialog about {child} is open for invitations.\n\n"
          "Now invite the participants – the parents with custody first, as they give consent.").format(
            child=html.quote(dialog.child_name)),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
            text=_("Invite a participant"),
            callback_data=InviteCb(action="dialog", value=str(dialog.id)).pack())]]),
    )


# ---- /inviter ------------------------------------------------------------------------------


@router.message(Command("inviter"))
async def invite(message: Message, person: Person | None, state: FSMContext, session: AsyncSession) -> None:
    if not _is_coordinator(person):
        await _refuse_not_coordinator(message)
        return
    await state.clear()
    dialogs = [d for d in await q.coordinator_dialogs(session, person) if d.state != CLOSED]
    if not dialogs:
        await message.answer(_("You have no open dialogs. Open one with /ny."))
        return
    if len(dialogs) == 1:
        await _ask_name(message, state, dialogs[0])
        return
    await state.set_state(Invite.choose_dialog)
    await message.answer(_("Which dialog do you want to invite someone to?"), reply_markup=InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(
            text=f"{d.child_name} (#{d.id})",
            callback_data=InviteCb(action="dialog", value=str(d.id)).pack())] for d in dialogs]))


@router.callback_query(InviteCb.filter(F.action == "dialog"))
async def invite_dialog_chosen(
    query: CallbackQuery, callback_data: InviteCb, state: FSMContext, session: AsyncSession,
    person: Person | None,
) -> None:
    dialog, refused = await _may_invite(session, person, callback_data.value)
    if dialog is None:
        await query.answer(refused, show_alert=True)
        return
    await query.answer()
    if query.message:
        await query.message.edit_reply_markup(reply_markup=None)
    await _ask_name(query.message, state, dialog)


async def _may_invite(session: AsyncSession, person: Person | None, raw_id: str) -> tuple[Dialog | None, str | None]:
    """The dialog named in callback data (or the conversation), and None; or None and the refusal.

    The refusal is the rules' reason; the dialog is named only to someone who holds a seat in it.
    """
    dialog = await q.get_dialog(session, int(raw_id)) if is_id(raw_id) else None
    seat = await q.participant_in(session, person, dialog.id) if dialog else None
    decision = decide(q.seat(seat), dialog.state if dialog else "", Action.INVITE)
    if decision:
        return dialog, None
    return None, texts.refusal(decision.refusal, dialog if seat else None)


async def _ask_name(message: Message, state: FSMContext, dialog: Dialog) -> None:
    await state.set_state(Invite.name)
    await state.update_data(dialog_id=dialog.id)
    await message.answer(_(
        "<b>Invite to the dialog about {child}</b>\n\n"
        "What is the person's name? (e.g. Mette Hansen)").format(child=html.quote(dialog.child_name)))


@router.message(Invite.choose_dialog, NOT_COMMAND)
async def choose_dialog_typed(message: Message) -> None:
    await message.answer(_("Please choose with one of the buttons above."))


def _role_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=texts.role_label(role), callback_data=InviteCb(action="role", value=role).pack())]
        for role in INVITABLE])


@router.message(Invite.name, NOT_COMMAND)
async def invite_got_name(message: Message, state: FSMContext) -> None:
    name = await read_answer(message, PERSON_NAME_LIMIT)
    if name is None:
        return
    await state.update_data(name=name)
    await state.set_state(Invite.role)
    await message.answer(_("What is {name}'s role in the dialog?").format(name=html.quote(name)),
                         reply_markup=_role_keyboard())


@router.message(Invite.role, NOT_COMMAND)
async def invite_role_typed(message: Message) -> None:
    await message.answer(_("Please choose with one of the buttons above."), reply_markup=_role_keyboard())


@router.callback_query(Invite.role, InviteCb.filter(F.action == "role"))
async def invite_got_role(
    query: CallbackQuery, callback_data: InviteCb, state: FSMContext, session: AsyncSession,
    person: Person | None, clock: Clock, settings: Settings, bot: Bot, notices: Notices,
) -> None:
    role = callback_data.value
    if role not in INVITABLE:
        await query.answer(texts.stale_button(), show_alert=True)
        return
    await query.answer()
    if query.message:
        await query.message.edit_reply_markup(reply_markup=None)
    await state.update_data(role=role)
    if not asks_relation(role):
        await _create_invitation(query.message, state, session, person, clock, settings, bot, notices,
                                 relation=None)
        return
    await state.set_state(Invite.relation)
    data = await state.get_data()
    name = html.quote(data["name"])
    if role == PROFESSIONAL:
        ask = _("What is {name}'s job title? (e.g. Class teacher, Health visitor, PPR psychologist)")
    elif role == NETWORK:
        ask = _("How does {name} know the child? (e.g. Grandfather, Football coach, Neighbour)")
    else:
        ask = _("What should it say next to {name}'s name? (e.g. Mother or Father)")
    await query.message.answer(ask.format(name=name))


@router.message(Invite.relation, NOT_COMMAND)
async def invite_got_relation(
    message: Message, state: FSMContext, session: AsyncSession, person: Person | None,
    clock: Clock, settings: Settings, bot: Bot, notices: Notices,
) -> None:
    relation = await read_answer(message, RELATION_LIMIT)
    if relation is None:
        return
    await _create_invitation(message, state, session, person, clock, settings, bot, notices, relation=relation)


async def _create_invitation(
    message: Message, state: FSMContext, session: AsyncSession, person: Person | None,
    clock: Clock, settings: Settings, bot: Bot, notices: Notices, relation: str | None,
) -> None:
    data = await state.get_data()
    dialog, refused = await _may_invite(session, person, str(data.get("dialog_id", "")))
    if dialog is None:
        await state.clear()
        await message.answer(refused)
        return
    now = clock.now()
    role = data["role"]
    if role == YOUNG:
        relation = None
    participant, token = await q.add_participant(
        session, dialog=dialog, name=data["name"], role=role, relation=relation, now=now,
        ttl_days=settings.invite_ttl_days,
    )
    await state.clear()
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={token}"
    lines = [_("✅ {who} is invited to the dialog about {child}.").format(
        who=texts.who(participant), child=html.quote(dialog.child_name))]
    if needs_approval(dialog.state):
        # The dialog has started: the family decides whether the new person comes in.
        asked = await ask_approval(session, notices, dialog, participant)
        lines.append(_(
            "The dialog has started, so the family decides: {names} will be asked to approve {name}. "
            "The link only works once they have approved, and you will be told.").format(
                names=", ".join(html.quote(a.name) for a in asked), name=html.quote(participant.name)))
    elif participant.consent_giver:
        lines.append(_("{name} gives consent: nobody else gets in before the consent givers have said yes.").format(
            name=html.quote(participant.name)))
    lines.append(_(
        "Pass on this personal link to {name}, e.g. by text message, e-mail, e-Boks or on paper. "
        "It can be used once and expires on {date}:").format(
            name=html.quote(participant.name), date=fmt_date(now + timedelta(days=settings.invite_ttl_days))))
    lines.append(link)
    await message.answer("\n\n".join(lines), protect_content=True,
                         reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
                             text=_("Invite one more"),
                             callback_data=InviteCb(action="dialog", value=str(dialog.id)).pack())]]))


# ---- /dialoger -----------------------------------------------------------------------------


@router.message(Command("dialoger"))
async def list_dialogs(message: Message, person: Person | None, session: AsyncSession) -> None:
    if not _is_coordinator(person):
        await _refuse_not_coordinator(message)
        return
    dialogs = await q.coordinator_dialogs(session, person)
    if not dialogs:
        await message.answer(_("You have no dialogs yet. Open one with /ny."))
        return
    blocks = []
    for d in dialogs:
        blocks.append(await _dialog_block(session, d))
    blocks.append(_("✅ has joined · ⏳ has not opened the link yet"))
    if any(p.approval == PENDING for d in dialogs for p in d.participants):
        blocks[-1] += "\n" + _("🕓 waiting for the family's approval")
    for chunk in split_message("\n\n".join(blocks)):
        await message.answer(chunk, protect_content=True)


def _account(p: Participant) -> str:
    """Which Telegram account opened the link: a forwarded link admits whoever opens it first."""
    if not p.opened_by:
        return ""
    return " – " + _("Telegram: {account}").format(account=html.quote(p.opened_by))


async def _dialog_block(session: AsyncSession, d: Dialog) -> str:
    head = _("<b>{child}</b> ({age}) · #{id}").format(
        child=html.quote(d.child_name), age=texts.age_group_label(d.age_group), id=d.id)
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
            who=texts.who(p), child=html.quote(p.dialog.child_name)))
