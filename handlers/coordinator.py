"""The coordinator's flows: `/ny` opens a dialog, `/inviter` adds a participant (`/dialoger`: handlers/desk.py).

The use cases are in services/membership.py; what is shown in handlers/coordinator_views.py.
"""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.config import Settings
from core.notices import Notices
from handlers import coordinator_views as views
from handlers import on_behalf_views
from handlers.answers import (
    NAME_LIMIT,
    NOT_COMMAND,
    PERSON_NAME_LIMIT,
    PURPOSE_LIMIT,
    RELATION_LIMIT,
    read_answer,
    use_the_buttons,
)
from handlers.choose import dialog_if_allowed, is_id
from handlers.coordinator_views import InviteAction, InviteCb, NewDialogAction, NewDialogCb
from handlers.seats import NO_DIALOG, alert, needs
from rules.access import CLOSED, Action
from rules.roles import (
    AGE_GROUPS,
    INVITABLE,
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


async def _drop_buttons(query: CallbackQuery) -> None:
    """The tapped message's buttons go: they are answered."""
    if query.message:
        await query.message.edit_reply_markup(reply_markup=None)


async def _answer(message: Message, shown: tuple[str, InlineKeyboardMarkup]) -> None:
    text, keyboard = shown
    await message.answer(text, reply_markup=keyboard)


# ---- /ny -----------------------------------------------------------------------------------


@router.message(Command("ny"))
async def new_dialog(message: Message, person: Person | None, state: FSMContext) -> None:
    if not _is_coordinator(person):
        await message.answer(views.not_coordinator())
        return
    await state.clear()
    await state.set_state(NewDialog.child_name)
    await message.answer(views.ask_child_name())


async def _next_step(message: Message, state: FSMContext, step: State, text: str,
                     keyboard: InlineKeyboardMarkup | None = None) -> None:
    """After an answer of /ny: on to `step` (asking `text`), or back to the summary when the
    coordinator was changing that one answer."""
    if (await state.get_data()).get("editing"):
        await _show_summary(message, state)
        return
    await state.set_state(step)
    await message.answer(text, reply_markup=keyboard)


@router.message(NewDialog.child_name, NOT_COMMAND)
async def got_child_name(message: Message, state: FSMContext) -> None:
    if (name := await read_answer(message, NAME_LIMIT)) is not None:
        await state.update_data(child_name=name)
        await _next_step(message, state, NewDialog.age_group, views.ask_age(name), views.age_keyboard())


@router.message(NewDialog.age_group, NOT_COMMAND)
async def age_group_typed(message: Message) -> None:
    await message.answer(use_the_buttons(), reply_markup=views.age_keyboard())


# The dialog does not exist yet: no seat to check (the step is reached through /ny only).
@router.callback_query(NewDialog.age_group, NewDialogCb.filter(F.action.startswith("age_")), flags=NO_DIALOG)
async def got_age_group(query: CallbackQuery, callback_data: NewDialogCb, state: FSMContext,
                        callback_answer: CallbackAnswer) -> None:
    age = callback_data.action.removeprefix("age_")
    if age not in AGE_GROUPS:
        alert(callback_answer, texts.stale_button())
        return
    await state.update_data(age_group=age)
    await _drop_buttons(query)
    await _next_step(query.message, state, NewDialog.purpose, views.ask_purpose())


@router.message(NewDialog.purpose, NOT_COMMAND)
async def got_purpose(message: Message, state: FSMContext) -> None:
    if (purpose := await read_answer(message, PURPOSE_LIMIT)) is not None:
        await state.update_data(purpose=purpose)
        await _show_summary(message, state)


async def _show_summary(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await state.set_state(NewDialog.confirm)
    await state.update_data(editing=False)
    await _answer(message, views.summary(data))


@router.message(NewDialog.confirm, NOT_COMMAND)
@router.message(Invite.choose_dialog, NOT_COMMAND)
@router.message(Invite.age, NOT_COMMAND)
async def confirm_typed(message: Message) -> None:
    await message.answer(use_the_buttons())


@router.callback_query(NewDialog.confirm, NewDialogCb.filter(), flags=NO_DIALOG)
async def confirm_action(
    query: CallbackQuery, callback_data: NewDialogCb, state: FSMContext, session: AsyncSession,
    person: Person | None, clock: Clock, callback_answer: CallbackAnswer,
) -> None:
    if not _is_coordinator(person):
        alert(callback_answer, views.only_coordinators())
        return
    action = callback_data.action
    await _drop_buttons(query)
    msg = query.message
    edits = {NewDialogAction.EDIT_NAME: (NewDialog.child_name, views.ask_child_name, None),
             NewDialogAction.EDIT_AGE: (NewDialog.age_group, views.ask_age_again, views.age_keyboard),
             NewDialogAction.EDIT_PURPOSE: (NewDialog.purpose, views.ask_purpose, None)}
    if action == NewDialogAction.CANCEL:
        await state.clear()
        await msg.answer(views.cancelled())
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
        await _answer(msg, views.dialog_opened(dialog))


# ---- /inviter ------------------------------------------------------------------------------


@router.message(Command("inviter"))
async def invite(message: Message, person: Person | None, state: FSMContext, session: AsyncSession) -> None:
    if not _is_coordinator(person):
        await message.answer(views.not_coordinator())
        return
    await state.clear()
    dialogs = [d for d in await q.coordinator_dialogs(session, person) if d.state != CLOSED]
    if not dialogs:
        await message.answer(views.no_open_dialogs())
        return
    if len(dialogs) == 1:
        await _ask_name(message, state, dialogs[0])
        return
    await state.set_state(Invite.choose_dialog)
    await _answer(message, views.which_dialog(dialogs))


@router.callback_query(InviteCb.filter(F.action == InviteAction.DIALOG), flags=needs(Action.INVITE))
async def invite_dialog_chosen(query: CallbackQuery, seat: Participant, state: FSMContext) -> None:
    await _drop_buttons(query)
    await _ask_name(query.message, state, seat.dialog)


def _dialog_id(data: dict) -> int:  # type: ignore[type-arg]
    """The dialog the invitation conversation is about (0: none)."""
    raw_id = str(data.get("dialog_id", ""))
    return int(raw_id) if is_id(raw_id) else 0


async def _ask_name(message: Message, state: FSMContext, dialog: Dialog) -> None:
    await state.set_state(Invite.name)
    await state.update_data(dialog_id=dialog.id)
    await message.answer(views.ask_name(dialog), reply_markup=on_behalf_views.name_keyboard(dialog))


@router.message(Invite.name, NOT_COMMAND)
async def invite_got_name(message: Message, state: FSMContext) -> None:
    if (name := await read_answer(message, PERSON_NAME_LIMIT)) is not None:
        await state.update_data(name=name)
        await state.set_state(Invite.role)
        await message.answer(views.ask_role(name), reply_markup=views.role_keyboard())


@router.message(Invite.role, NOT_COMMAND)
async def invite_role_typed(message: Message) -> None:
    await message.answer(use_the_buttons(), reply_markup=views.role_keyboard())


# The button names a role, not the dialog: that is the conversation's, and the seat is
# checked there when the invitation is made (`_create_invitation`).
@router.callback_query(Invite.role, InviteCb.filter(F.action == InviteAction.ROLE), flags=NO_DIALOG)
async def invite_got_role(
    query: CallbackQuery, callback_data: InviteCb, state: FSMContext, session: AsyncSession,
    person: Person | None, clock: Clock, settings: Settings, bot: Bot, notices: Notices,
    callback_answer: CallbackAnswer,
) -> None:
    role = callback_data.value
    if role not in INVITABLE:
        alert(callback_answer, texts.stale_button())
        return
    await _drop_buttons(query)
    await state.update_data(role=role)
    data = await state.get_data()
    if role == YOUNG and not data.get("offline"):
        # Telegram's terms: at least 16 in the EU. A young person under 16 takes part without it.
        dialog = await q.get_dialog(session, dialog_id) if (dialog_id := _dialog_id(data)) else None
        if dialog is not None and under_telegram_age(role, dialog.age_group):
            await state.set_state(Invite.age)
            await _answer(query.message, on_behalf_views.under_16(data["name"], dialog))
            return
        if dialog is not None and asks_telegram_age(role, dialog.age_group):
            await state.set_state(Invite.age)
            await _answer(query.message, on_behalf_views.age_question(data["name"]))
            return
    if not asks_relation(role):
        await _create_invitation(query.message, state, session, person, clock, settings, bot, notices,
                                 relation=None)
        return
    await state.set_state(Invite.relation)
    await query.message.answer(views.ask_relation(role, data["name"]))


# As the role: the answer is the conversation's; the seat is checked when the invitation is made.
@router.callback_query(Invite.age, InviteCb.filter(F.action == InviteAction.AGE), flags=NO_DIALOG)
async def invite_got_age(
    query: CallbackQuery, callback_data: InviteCb, state: FSMContext, session: AsyncSession,
    person: Person | None, clock: Clock, settings: Settings, bot: Bot, notices: Notices,
    callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    dialog = await q.get_dialog(session, dialog_id) if (dialog_id := _dialog_id(data)) else None
    if callback_data.value not in ("under", "over") or dialog is None or "name" not in data:
        alert(callback_answer, texts.stale_button())
        return
    await _drop_buttons(query)
    if callback_data.value == "under":
        await _answer(query.message, on_behalf_views.under_16(data["name"], dialog))
        return
    await _create_invitation(query.message, state, session, person, clock, settings, bot, notices, relation=None)


# Someone without Telegram: under the name question, or instead of a link for a young person under 16.
@router.callback_query(InviteCb.filter(F.action == InviteAction.OFFLINE), flags=needs(Action.INVITE))
async def invite_offline(
    query: CallbackQuery, callback_data: InviteCb, state: FSMContext, session: AsyncSession,
    person: Person | None, clock: Clock, settings: Settings, bot: Bot, notices: Notices,
    callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    step = await state.get_state()
    steps = (Invite.name.state, Invite.role.state, Invite.age.state, Invite.relation.state)
    if step not in steps or str(data.get("dialog_id")) != callback_data.value:
        alert(callback_answer, texts.stale_button())
        return
    await _drop_buttons(query)
    await state.update_data(offline=True)
    if step == Invite.name.state:
        await query.message.answer(on_behalf_views.offline_name_prompt())
    elif step == Invite.role.state:
        await query.message.answer(on_behalf_views.offline_note() + "\n\n" + views.ask_role(data["name"]),
                                   reply_markup=views.role_keyboard())
    elif step == Invite.relation.state:
        await query.message.answer(on_behalf_views.offline_note())
    elif asks_relation(data.get("role", "")):
        await state.set_state(Invite.relation)
        await query.message.answer(on_behalf_views.offline_note())
    else:
        await _create_invitation(query.message, state, session, person, clock, settings, bot, notices, relation=None)


@router.callback_query(InviteCb.filter(F.action == InviteAction.CANCEL), flags=NO_DIALOG)
async def invite_cancelled(query: CallbackQuery, state: FSMContext) -> None:
    await _drop_buttons(query)
    if await state.get_state() in (Invite.name.state, Invite.role.state, Invite.age.state, Invite.relation.state):
        await state.clear()
    await query.message.answer(views.cancelled())


@router.message(Invite.relation, NOT_COMMAND)
async def invite_got_relation(
    message: Message, state: FSMContext, session: AsyncSession, person: Person | None,
    clock: Clock, settings: Settings, bot: Bot, notices: Notices,
) -> None:
    if (relation := await read_answer(message, RELATION_LIMIT)) is not None:
        await _create_invitation(message, state, session, person, clock, settings, bot, notices, relation=relation)


async def _create_invitation(
    message: Message, state: FSMContext, session: AsyncSession, person: Person | None,
    clock: Clock, settings: Settings, bot: Bot, notices: Notices, relation: str | None,
) -> None:
    data = await state.get_data()
    dialog, refused = await dialog_if_allowed(session, person, _dialog_id(data), Action.INVITE)
    if dialog is None:
        await state.clear()
        await message.answer(refused)
        return
    now = clock.now()
    if data.get("offline"):
        added = await on_behalf.add(session, notices, person, dialog, name=data["name"], role=data["role"],
                                    relation=relation, now=now)
        await state.clear()
        await _answer(message, on_behalf_views.offline_added(added, dialog))
        return
    invited = await membership.invite(session, notices, dialog, name=data["name"], role=data["role"],
                                      relation=relation, now=now, ttl_days=settings.invite_ttl_days)
    await state.clear()
    me = await bot.me()
    text, keyboard = views.invitation_made(invited, dialog, f"https://t.me/{me.username}?start={invited.token}",
                                           now + timedelta(days=settings.invite_ttl_days))
    await message.answer(text, protect_content=True, reply_markup=keyboard)


# /dialoger, the coordinator's desk: handlers/desk.py.
