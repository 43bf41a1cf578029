"""Mål & Plan (`/plan`), the handlers of showing the plan and of the coordinator's changes: each
parses, authorizes (a button declares its seat check), calls one use case of services/plan.py
(where the flow is told: goals, tasks, acceptance, follow-up) and renders with
handlers/plan_views.py (the plan, the cards) and handlers/plan_replies.py (questions, answers).

The family's answer buttons (agree, comment, Udført, Brug for hjælp) are handlers/plan_answers.py;
the flow's notices are handlers/plan_notices.py."""

from __future__ import annotations

from datetime import date

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.config import Settings
from core.notices import Notices
from handlers import plan_notices  # noqa: F401 (its notice renderers register on import)
from handlers import plan_replies as replies
from handlers import plan_views as views
from handlers.answers import NOT_COMMAND, read_answer, use_the_buttons
from handlers.choose import PickDialogCb, pick_dialog, seat_for
from handlers.plan_views import (  # noqa: F401 (the callback data, imported from here by tests)
    PlanAction,
    PlanAnswerCb,
    PlanCb,
    TaskCb,
)
from handlers.seats import alert, needs
from rules.access import Action
from rules.dates import DateParseError, parse_date
from rules.dialog_config import DialogConfig
from services import plan
from storage import plan as pl
from storage.models import Goal, Participant, Person

router = Router(name="plan")

GOAL_LIMIT, TASK_LIMIT = 500, 500  # characters typed, at most


class PlanFlow(StatesGroup):
    # data: dialog_id, goal_id, task_id, area, what, owner_id, starts_on, version
    goal_text = State()
    task_what = State()
    task_who = State()
    task_start = State()
    task_end = State()
    comment = State()  # a consent giver's comment on the plan: handlers/plan_answers.py


async def step(state: FSMContext, to: State, **data: object) -> None:
    """Begin the typed step `to`, with `data` all the conversation keeps."""
    await state.set_state(to)
    await state.set_data(data)


async def _named(callback_answer: CallbackAnswer, session: AsyncSession, seat: Participant, data: PlanCb, *,
                 task: bool = False) -> plan.Named | None:
    """The goal (and `task`) the button names; None after saying it is gone."""
    found = await plan.find(session, seat.dialog_id, data.goal_id, data.task_id if task else None)
    return found if _answered(callback_answer, found) else None


def _answered(callback_answer: CallbackAnswer, result: object) -> bool:
    """False after saying what is gone (the tap's alert) if `result` is Missing."""
    if gone := isinstance(result, plan.Missing):
        alert(callback_answer, views.gone(result))
    return not gone


@router.message(Command("plan"))
async def plan_command(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                       dialog_config: DialogConfig) -> None:
    if (participant := await pick_dialog(message, session, person, "plan", Action.READ_SHARED)) is not None:
        await state.clear()
        await views.show_plan(message, session, participant, dialog_config)


@router.callback_query(PickDialogCb.filter(F.flow == "plan"), flags=needs(Action.READ_SHARED))
@router.callback_query(PlanCb.filter(F.action == PlanAction.home), flags=needs(Action.MANAGE))
async def plan_shown(query: CallbackQuery, seat: Participant, session: AsyncSession, state: FSMContext,
                     dialog_config: DialogConfig) -> None:
    """The plan, in the dialog picked (for /plan), or again (the coordinator's 'Back to the plan')."""
    await state.clear()
    await views.show_plan(query.message, session, seat, dialog_config)


# ---- the coordinator's buttons ----------------------------------------------------------------------


@router.callback_query(PlanCb.filter(F.action == PlanAction.goal_new), flags=needs(Action.MANAGE))
async def goal_new(query: CallbackQuery, seat: Participant, state: FSMContext, dialog_config: DialogConfig) -> None:
    await state.clear()
    await views.send(query.message, replies.area_picker(seat.dialog, dialog_config))


@router.callback_query(PlanCb.filter(F.action == PlanAction.goal_area), flags=needs(Action.MANAGE))
async def goal_area(query: CallbackQuery, callback_data: PlanCb, seat: Participant, state: FSMContext,
                    dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    if (area := next((a for a in dialog_config.areas if a.key == callback_data.value), None)) is None:
        alert(callback_answer, texts.stale_button())
        return
    await step(state, PlanFlow.goal_text, dialog_id=seat.dialog_id, area=area.key, goal_id=0)
    await query.message.edit_text(replies.ask_goal_text(area))


@router.callback_query(PlanCb.filter(F.action == PlanAction.send), flags=needs(Action.MANAGE))
async def send(query: CallbackQuery, seat: Participant, session: AsyncSession, notices: Notices,
               callback_answer: CallbackAnswer) -> None:
    await query.message.answer(replies.sent_line(await plan.send_for_approval(session, notices, seat.dialog)))


@router.callback_query(PlanCb.filter(F.action.in_({PlanAction.goal, PlanAction.task})), flags=needs(Action.MANAGE))
async def card(query: CallbackQuery, callback_data: PlanCb, seat: Participant, session: AsyncSession,
               state: FSMContext, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    """The card of the goal, or of the task, the button names."""
    task = callback_data.action == PlanAction.task
    if found := await _named(callback_answer, session, seat, callback_data, task=task):
        await state.clear()
        await views.send(query.message, views.task_card(seat.dialog, found.task, dialog_config) if task
                         else views.goal_card(seat.dialog, found.goal, dialog_config), protect=True)


@router.callback_query(PlanCb.filter(F.action == PlanAction.goal_edit), flags=needs(Action.MANAGE))
async def goal_edit(query: CallbackQuery, callback_data: PlanCb, seat: Participant, session: AsyncSession,
                    state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if found := await _named(callback_answer, session, seat, callback_data):
        await step(state, PlanFlow.goal_text, dialog_id=seat.dialog_id, area=found.goal.area, goal_id=found.goal.id)
        await query.message.answer(replies.ask_goal_change(), protect_content=True)
        await query.message.answer(html.quote(found.goal.text), protect_content=True)


@router.callback_query(PlanCb.filter(F.action == PlanAction.goal_del), flags=needs(Action.MANAGE))
async def goal_del(query: CallbackQuery, callback_data: PlanCb, seat: Participant, session: AsyncSession,
                   callback_answer: CallbackAnswer) -> None:
    if found := await _named(callback_answer, session, seat, callback_data):
        await views.send(query.message, replies.goal_removal(seat.dialog, found.goal))


@router.callback_query(PlanCb.filter(F.action == PlanAction.goal_del_yes), flags=needs(Action.MANAGE))
async def goal_del_yes(query: CallbackQuery, callback_data: PlanCb, seat: Participant, session: AsyncSession,
                       state: FSMContext, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    if not _answered(callback_answer, change := await plan.remove_goal(session, seat.dialog, callback_data.goal_id)):
        return
    await state.clear()
    await query.message.edit_text(replies.goal_removed(change))
    await views.show_plan(query.message, session, seat, dialog_config)


@router.callback_query(PlanCb.filter(F.action == PlanAction.task_new), flags=needs(Action.MANAGE))
async def task_new(query: CallbackQuery, callback_data: PlanCb, seat: Participant, session: AsyncSession,
                   state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if found := await _named(callback_answer, session, seat, callback_data):
        await step(state, PlanFlow.task_what, dialog_id=seat.dialog_id, goal_id=found.goal.id, task_id=0)
        await query.message.answer(replies.ask_new_task(found.goal), protect_content=True)


@router.callback_query(PlanCb.filter(F.action == PlanAction.task_owner), flags=needs(Action.MANAGE))
async def task_owner(query: CallbackQuery, callback_data: PlanCb, seat: Participant, session: AsyncSession,
                     state: FSMContext, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    """An owner chosen in the who step: of a new task (then its period is asked), or a changed one."""
    if not (found := await _named(callback_answer, session, seat, callback_data)):
        return
    data, dialog = await state.get_data(), seat.dialog
    owner = next((o for o in pl.task_owners(dialog) if str(o.id) == callback_data.value), None)
    if await state.get_state() != PlanFlow.task_who.state or int(data.get("goal_id", 0)) != found.goal.id \
            or int(data.get("task_id", 0)) != callback_data.task_id or owner is None:
        alert(callback_answer, texts.stale_button())
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if callback_data.task_id:
        saved = await plan.edit_task(session, dialog, callback_data.task_id, owner_id=owner.id)
        await state.clear()
        await replies.show_saved(query.message, dialog, dialog_config, saved)
        return
    await state.update_data(owner_id=owner.id)
    await state.set_state(PlanFlow.task_start)
    await query.message.answer(replies.owner_chosen(owner))


@router.callback_query(PlanCb.filter(F.action == PlanAction.task_what), flags=needs(Action.MANAGE))
async def task_what(query: CallbackQuery, callback_data: PlanCb, seat: Participant, session: AsyncSession,
                    state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if found := await _named(callback_answer, session, seat, callback_data, task=True):
        await step(state, PlanFlow.task_what, dialog_id=seat.dialog_id, goal_id=found.goal.id, task_id=found.task.id)
        await query.message.answer(replies.ask_task_change(), protect_content=True)


@router.callback_query(PlanCb.filter(F.action == PlanAction.task_who), flags=needs(Action.MANAGE))
async def task_who(query: CallbackQuery, callback_data: PlanCb, seat: Participant, session: AsyncSession,
                   state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if found := await _named(callback_answer, session, seat, callback_data, task=True):
        await step(state, PlanFlow.task_who, dialog_id=seat.dialog_id, goal_id=found.goal.id, task_id=found.task.id)
        await views.send(query.message, replies.ask_owner(seat.dialog, found.goal.id, found.task.id))


@router.callback_query(PlanCb.filter(F.action == PlanAction.task_period), flags=needs(Action.MANAGE))
async def task_period(query: CallbackQuery, callback_data: PlanCb, seat: Participant, session: AsyncSession,
                      state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if found := await _named(callback_answer, session, seat, callback_data, task=True):
        await step(state, PlanFlow.task_start, dialog_id=seat.dialog_id, goal_id=found.goal.id, task_id=found.task.id)
        await query.message.answer(replies.ask_date_text("start"))


@router.callback_query(PlanCb.filter(F.action == PlanAction.task_del), flags=needs(Action.MANAGE))
async def task_del(query: CallbackQuery, callback_data: PlanCb, seat: Participant, session: AsyncSession,
                   state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if found := await _named(callback_answer, session, seat, callback_data, task=True):
        await views.send(query.message, replies.task_removal(seat.dialog, found.goal, found.task), protect=True)


@router.callback_query(PlanCb.filter(F.action == PlanAction.task_del_yes), flags=needs(Action.MANAGE))
async def task_del_yes(query: CallbackQuery, callback_data: PlanCb, seat: Participant, session: AsyncSession,
                       state: FSMContext, dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    removed = await plan.remove_task(session, seat.dialog, callback_data.goal_id, callback_data.task_id)
    if not _answered(callback_answer, removed):
        return
    await state.clear()
    await query.message.edit_text(replies.task_removed(removed.change))
    await views.send(query.message, views.goal_card(seat.dialog, removed.goal, dialog_config), protect=True)


# ---- typed steps -------------------------------------------------------------------------------


async def _flow_seat(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                     with_goal: bool = True) -> tuple[Participant | None, Goal | None, dict]:
    """The coordinator's seat and (`with_goal`) the goal the step is about; None after saying why not."""
    data = await state.get_data()
    p, decision = await seat_for(session, person, int(data.get("dialog_id", 0)), Action.MANAGE)
    goal = await pl.goal_in(session, p.dialog_id, int(data.get("goal_id", 0))) if decision and with_goal else None
    refused = texts.refusal(decision.refusal, p.dialog if p else None) if not decision \
        else views.gone(plan.Missing.GOAL) if with_goal and goal is None else None
    if refused:
        await state.clear()
        await message.answer(refused)
        return None, None, data
    return p, goal, data


@router.message(PlanFlow.goal_text, NOT_COMMAND)
async def got_goal_text(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                        clock: Clock, dialog_config: DialogConfig) -> None:
    p, _no_goal, data = await _flow_seat(message, session, person, state, with_goal=False)
    if p is None or (text := await read_answer(message, GOAL_LIMIT)) is None:
        return
    if goal_id := int(data.get("goal_id", 0)):
        saved = await plan.edit_goal(session, p.dialog, goal_id, text)
    else:
        saved = await plan.add_goal(session, p.dialog, data["area"], text, clock.now())
    await state.clear()
    await replies.show_saved(message, p.dialog, dialog_config, saved)


@router.message(PlanFlow.task_what, NOT_COMMAND)
async def got_task_what(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                        dialog_config: DialogConfig) -> None:
    p, goal, data = await _flow_seat(message, session, person, state)
    if goal is None or (text := await read_answer(message, TASK_LIMIT)) is None:
        return
    if task_id := int(data.get("task_id", 0)):
        saved = await plan.edit_task(session, p.dialog, task_id, what=text)
        await state.clear()
        await replies.show_saved(message, p.dialog, dialog_config, saved)
        return
    await state.update_data(what=text)
    await state.set_state(PlanFlow.task_who)
    await views.send(message, replies.ask_owner(p.dialog, goal.id))


@router.message(PlanFlow.task_who, NOT_COMMAND)
async def task_who_typed(message: Message) -> None:
    await message.answer(use_the_buttons())


async def _typed_date(message: Message, clock: Clock, settings: Settings) -> date | None:
    """The date the coordinator typed, or None after saying what is wrong with it."""
    if (text := await read_answer(message, 60)) is None:
        return None
    try:
        return parse_date(text, today=clock.now().astimezone(settings.tz).date())
    except DateParseError as exc:
        await message.answer(replies.date_error(exc.code))
        return None


@router.message(PlanFlow.task_start, NOT_COMMAND)
async def got_task_start(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                         clock: Clock, settings: Settings) -> None:
    p, goal, _data = await _flow_seat(message, session, person, state)
    if goal is None or (starts := await _typed_date(message, clock, settings)) is None:
        return
    await state.update_data(starts_on=starts.isoformat())
    await state.set_state(PlanFlow.task_end)
    await message.answer(replies.start_chosen(starts))


@router.message(PlanFlow.task_end, NOT_COMMAND)
async def got_task_end(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                       clock: Clock, settings: Settings, dialog_config: DialogConfig) -> None:
    p, goal, data = await _flow_seat(message, session, person, state)
    if goal is None or (ends := await _typed_date(message, clock, settings)) is None:
        return
    if ends < (starts := date.fromisoformat(data["starts_on"])):
        await message.answer(replies.end_before_start(starts))
        return
    if task_id := int(data.get("task_id", 0)):
        saved = await plan.edit_task(session, p.dialog, task_id, period=(starts, ends))
    else:
        saved = await plan.add_task(session, p.dialog, goal.id, what=data["what"], starts_on=starts, ends_on=ends,
                                    owner_id=int(data.get("owner_id", 0)), now=clock.now())
    if saved is plan.Missing.OWNER:  # no longer someone who can be responsible: asked again
        await state.set_state(PlanFlow.task_who)
        await views.send(message, replies.ask_owner(p.dialog, goal.id))
        return
    await state.clear()
    await replies.show_saved(message, p.dialog, dialog_config, saved)
