"""The coordinator's flows: `/ny` opens a dialog, `/inviter` adds a participant (`/dialoger`: handlers/desk.py).

The use cases are in services/membership.py; what is shown in handlers/coordinator_views.py.
"""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.config import Settings
from core.i18n import fmt_date
from core.labels import child_in_chat, child_on_button
from core.notices import Notices
from handlers import on_behalf_views
from handlers.answers import (
    NAME_LIMIT,
    NOT_COMMAND,
    PERSON_NAME_LIMIT,
    PURPOSE_LIMIT,
    RELATION_LIMIT,
    read_answer,
)
from handlers.choose import is_id
from handlers.coordinator_views import (
    InviteAction,
    InviteCb,
    NewDialogAction,
    NewDialogCb,
    age_keyboard,
    ask_child_name,
    ask_purpose,
    invite_button,
    not_coordinator,
    role_keyboard,
    summary,
)
from handlers.seats import NO_DIALOG, alert, needs
from rules.access import CLOSED, Action, decide
from rules.roles import (
    AGE_GROUPS,
    INVITABLE,
    NETWORK,
    PROFESSIONAL,
    STAFF_COORDINATOR,
    YOUNG,
    asks_relation,
    asks_telegram_age,
    under_telegram_age,
)
from services import membership, on_behalf
from storage import queries as q
from storage.models import Dialog, Participant, Person

router = Router(name="coordinator")

__all__ = ["InviteCb", "NewDialogCb", "router"]


class NewDialog(StatesGroup):
    child_name = State()
    age_group = State()
    purpose = State()
    confirm = State()


class Invite(StatesGroup):
    choose_dialog = State()
    name = State()
    role = State()
    age = State()  # the young person: under 16 (no link: Telegram's minimum age in the EU)?
    relation = State()


def _is_coordinator(person: Person | None) -> bool:
    return person is not None and person.staff_role == STAFF_COORDINATOR


# ---- /ny -----------------------------------------------------------------------------------


@router.message(Command("ny"))
async def new_dialog(message: Message, person: Person | None, state: FSMContext) -> None:
    if not _is_coordinator(person):
        await message.answer(not_coordinator())
        return
    await state.clear()
    await state.set_state(NewDialog.child_name)
    await message.answer(ask_child_name())


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
        child=html.quote(name)), reply_markup=age_keyboard())


@router.message(NewDialog.age_group, NOT_COMMAND)
async def age_group_typed(message: Message) -> None:
    await message.answer(_("Please choose with one of the buttons above."), reply_markup=age_keyboard())


# The dialog does not exist yet: no seat to check (the step is reached through /ny only).
@router.callback_query(NewDialog.age_group, NewDialogCb.filter(F.action.startswith("age_")), flags=NO_DIALOG)
async def got_age_group(query: CallbackQuery, callback_data: NewDialogCb, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    age = callback_data.action.removeprefix("age_")
    if age not in AGE_GROUPS:
        alert(callback_answer, texts.stale_button())
        return
    await state.update_data(age_group=age)
    if query.message:
        await query.message.edit_reply_markup(reply_markup=None)
    if (await state.get_data()).get("editing"):
        await _show_summary(query.message, state)
        return
    await state.set_state(NewDialog.purpose)
    await query.message.answer(ask_purpose())


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
    text, keyboard = summary(data)
    await message.answer(text, reply_markup=keyboard)


@router.message(NewDialog.confirm, NOT_COMMAND)
@router.message(Invite.choose_dialog, NOT_COMMAND)
@router.message(Invite.age, NOT_COMMAND)
async def confirm_typed(message: Message) -> None:
    await message.answer(_("Please choose with one of the buttons above."))


@router.callback_query(NewDialog.confirm, NewDialogCb.filter(), flags=NO_DIALOG)
async def confirm_action(
    query: CallbackQuery, callback_data: NewDialogCb, state: FSMContext, session: AsyncSession,
    person: Person | None, clock: Clock, callback_answer: CallbackAnswer,
) -> None:
    if not _is_coordinator(person):
        alert(callback_answer, _("That command is for coordinators (tovholdere)."))
        return
    action = callback_data.action
    if query.message:
        await query.message.edit_reply_markup(reply_markup=None)
    msg = query.message
    edits = {NewDialogAction.EDIT_NAME: (NewDialog.child_name, ask_child_name, None),
             NewDialogAction.EDIT_AGE: (NewDialog.age_group, lambda: _("How old is the child?"), age_keyboard),
             NewDialogAction.EDIT_PURPOSE: (NewDialog.purpose, ask_purpose, None)}
    if action == NewDialogAction.CANCEL:
        await state.clear()
        await msg.answer(_("Cancelled. Nothing was saved."))
    elif action in edits:
        step, ask, keyboard = edits[action]
        await state.update_data(editing=True)
        await state.set_state(step)
        await msg.answer(ask(), reply_markup=keyboard() if keyboard else None)
    elif action != NewDialogAction.CREATE:
        await msg.answer(texts.stale_button())
    else:
        data = await state.get_data()
        dialog = await membership.open_dialog(session, person, child_name=data["child_name"],
                                              age_group=data["age_group"], purpose=data["purpose"], now=clock.now())
        await state.clear()
        await msg.answer(
            _("The dialog about {child} is open for invitations.\n\n"
              "Now invite the participants – the parents with custody first, as they give consent.").format(
                child=child_in_chat(dialog)),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[invite_button(_("Invite a participant"), dialog)]]))


# ---- /inviter ------------------------------------------------------------------------------


@router.message(Command("inviter"))
async def invite(message: Message, person: Person | None, state: FSMContext, session: AsyncSession) -> None:
    if not _is_coordinator(person):
        await message.answer(not_coordinator())
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
        inline_keyboard=[[invite_button(f"{child_on_button(d)} (#{d.id})", d)] for d in dialogs]))


@router.callback_query(InviteCb.filter(F.action == InviteAction.DIALOG), flags=needs(Action.INVITE))
async def invite_dialog_chosen(query: CallbackQuery, seat: Participant, state: FSMContext) -> None:
    if query.message:
        await query.message.edit_reply_markup(reply_markup=None)
    await _ask_name(query.message, state, seat.dialog)


async def _may_invite(session: AsyncSession, person: Person | None, dialog_id: int) -> tuple[Dialog | None, str | None]:
    """The dialog the conversation is about, and None; or None and the refusal.

    The refusal is the rules' reason; the dialog is named only to someone who holds a seat in it.
    """
    dialog = await q.get_dialog(session, dialog_id) if dialog_id else None
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
        "What is the person's name? (e.g. Mette Hansen)").format(child=child_in_chat(dialog)),
        reply_markup=on_behalf_views.name_keyboard(dialog))


@router.message(Invite.name, NOT_COMMAND)
async def invite_got_name(message: Message, state: FSMContext) -> None:
    name = await read_answer(message, PERSON_NAME_LIMIT)
    if name is None:
        return
    await state.update_data(name=name)
    await state.set_state(Invite.role)
    await message.answer(_("What is {name}'s role in the dialog?").format(name=html.quote(name)),
                         reply_markup=role_keyboard())


@router.message(Invite.role, NOT_COMMAND)
async def invite_role_typed(message: Message) -> None:
    await message.answer(_("Please choose with one of the buttons above."), reply_markup=role_keyboard())


# The button names a role, not the dialog: that is the conversation's, and the seat is
# checked there when the invitation is made (`_create_invitation`).
@router.callback_query(Invite.role, InviteCb.filter(F.action == InviteAction.ROLE), flags=NO_DIALOG)
async def invite_got_role(
    query: CallbackQuery, callback_data: InviteCb, state: FSMContext, session: AsyncSession,
    person: Person | None, clock: Clock, settings: Settings, bot: Bot, notices: Notices, callback_answer: CallbackAnswer,
) -> None:
    role = callback_data.value
    if role not in INVITABLE:
        alert(callback_answer, texts.stale_button())
        return
    if query.message:
        await query.message.edit_reply_markup(reply_markup=None)
    await state.update_data(role=role)
    data = await state.get_data()
    if role == YOUNG and not data.get("offline"):
        # Telegram's terms: at least 16 in the EU. A young person under 16 takes part without it.
        raw_id = str(data.get("dialog_id", ""))
        dialog = await q.get_dialog(session, int(raw_id)) if is_id(raw_id) else None
        if dialog is not None and under_telegram_age(role, dialog.age_group):
            await state.set_state(Invite.age)
            text, keyboard = on_behalf_views.under_16(data["name"], dialog)
            await query.message.answer(text, reply_markup=keyboard)
            return
        if dialog is not None and asks_telegram_age(role, dialog.age_group):
            await state.set_state(Invite.age)
            text, keyboard = on_behalf_views.age_question(data["name"])
            await query.message.answer(text, reply_markup=keyboard)
            return
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


# As the role: the answer is the conversation's; the seat is checked when the invitation is made.
@router.callback_query(Invite.age, InviteCb.filter(F.action == InviteAction.AGE), flags=NO_DIALOG)
async def invite_got_age(
    query: CallbackQuery, callback_data: InviteCb, state: FSMContext, session: AsyncSession,
    person: Person | None, clock: Clock, settings: Settings, bot: Bot, notices: Notices, callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    raw_id = str(data.get("dialog_id", ""))
    dialog = await q.get_dialog(session, int(raw_id)) if is_id(raw_id) else None
    if callback_data.value not in ("under", "over") or dialog is None or "name" not in data:
        alert(callback_answer, texts.stale_button())
        return
    if query.message:
        await query.message.edit_reply_markup(reply_markup=None)
    if callback_data.value == "under":
        text, keyboard = on_behalf_views.under_16(data["name"], dialog)
        await query.message.answer(text, reply_markup=keyboard)
        return
    await _create_invitation(query.message, state, session, person, clock, settings, bot, notices, relation=None)


# Someone without Telegram: under the name question, or instead of a link for a young person under 16.
@router.callback_query(InviteCb.filter(F.action == InviteAction.OFFLINE), flags=needs(Action.INVITE))
async def invite_offline(
    query: CallbackQuery, callback_data: InviteCb, state: FSMContext, session: AsyncSession,
    person: Person | None, clock: Clock, settings: Settings, bot: Bot, notices: Notices, callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    step = await state.get_state()
    steps = (Invite.name.state, Invite.role.state, Invite.age.state, Invite.relation.state)
    if step not in steps or str(data.get("dialog_id")) != callback_data.value:
        alert(callback_answer, texts.stale_button())
        return
    if query.message:
        await query.message.edit_reply_markup(reply_markup=None)
    await state.update_data(offline=True)
    if step == Invite.name.state:
        await query.message.answer(on_behalf_views.offline_name_prompt())
    elif step == Invite.role.state:
        await query.message.answer(on_behalf_views.offline_note() + "\n\n" + _(
            "What is {name}'s role in the dialog?").format(name=html.quote(data["name"])), reply_markup=role_keyboard())
    elif step == Invite.relation.state:
        await query.message.answer(on_behalf_views.offline_note())
    elif asks_relation(data.get("role", "")):
        await state.set_state(Invite.relation)
        await query.message.answer(on_behalf_views.offline_note())
    else:
        await _create_invitation(query.message, state, session, person, clock, settings, bot, notices, relation=None)


@router.callback_query(InviteCb.filter(F.action == InviteAction.CANCEL), flags=NO_DIALOG)
async def invite_cancelled(query: CallbackQuery, state: FSMContext) -> None:
    if query.message:
        await query.message.edit_reply_markup(reply_markup=None)
    if await state.get_state() in (Invite.name.state, Invite.role.state, Invite.age.state, Invite.relation.state):
        await state.clear()
    await query.message.answer(_("Cancelled. Nothing was saved."))


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
    raw_id = str(data.get("dialog_id", ""))
    dialog, refused = await _may_invite(session, person, int(raw_id) if is_id(raw_id) else 0)
    if dialog is None:
        await state.clear()
        await message.answer(refused)
        return
    now = clock.now()
    if data.get("offline"):
        added = await on_behalf.add(session, notices, person, dialog, name=data["name"], role=data["role"],
                                    relation=relation, now=now)
        await state.clear()
        text, keyboard = on_behalf_views.offline_added(added, dialog)
        await message.answer(text, reply_markup=keyboard)
        return
    invited = await membership.invite(session, notices, dialog, name=data["name"], role=data["role"],
                                      relation=relation, now=now, ttl_days=settings.invite_ttl_days)
    participant = invited.participant
    await state.clear()
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={invited.token}"
    lines = [_("✅ {who} is invited to the dialog about {child}.").format(
        who=texts.who(participant), child=child_in_chat(dialog))]
    if invited.asked is not None:
        # The dialog has started: the family decides whether the new person comes in.
        lines.append(_(
            "The dialog has started, so the family decides: {names} will be asked to approve {name}. "
            "The link only works once they have approved, and you will be told.").format(
                names=", ".join(html.quote(a.name) for a in invited.asked), name=html.quote(participant.name)))
    elif participant.consent_giver:
        lines.append(_("{name} gives consent: nobody else gets in before the consent givers have said yes.").format(
            name=html.quote(participant.name)))
    lines.append(_(
        "Pass on this personal link to {name}, e.g. by text message, e-mail, e-Boks or on paper. "
        "It can be used once and expires on {date}:").format(
            name=html.quote(participant.name), date=fmt_date(now + timedelta(days=settings.invite_ttl_days))))
    lines.append(link)
    await message.answer("\n\n".join(lines), protect_content=True, reply_markup=InlineKeyboardMarkup(
        inline_keyboard=[[invite_button(_("Invite one more"), dialog)]]))


# /dialoger, the coordinator's desk: handlers/desk.py.
