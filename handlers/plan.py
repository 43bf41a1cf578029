"""Mål & Plan (`/plan`): goals per area and tasks under them; acceptance; task follow-up.

The coordinator builds the plan (goals per input area; tasks with what, who and
a period) and sends it to the consent givers, who answer *Vi er enige* or *Vi
har en kommentar*. Every change makes a new plan version; the plan is in force
when every consent giver agreed to the current version. Until then tasks are
proposals and nobody is reminded of them. When it is in force, each owner is
told, and reminded before the end date with *Udført* / *Brug for hjælp*; the
coordinator hears either answer, gets overdue tasks in a daily digest, and is
told when every task is done.

Outbox keys: ``task:{task_id}:v{version}:d{days}`` (reminders) and
``plan:{dialog_id}:v{version}:...`` (review, owners, accepted) are cancelled
with one prefix each when the plan changes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_skeleton
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import fmt_date
from bot.notices import Notices, RenderContext, Rendered, renderer
from handlers import texts
from handlers.answers import NOT_COMMAND, read_answer
from handlers.choose import Id, PickDialogCb, pick_dialog, seat_for, seat_for_tap
from rules.access import ACTIVE, Action, Refusal, decide
from rules.dates import DateParseError, at_local, parse_date
from rules.dialog_config import DialogConfig
from rules.text import split_message, truncate
from storage import outbox
from storage import plan as pl
from storage import queries as q
from storage.models import Dialog, Goal, OutboxMessage, Participant, Person, PlanAnswer, Task

router = Router(name="plan")

GOAL_LIMIT = 500
TASK_LIMIT = 500
COMMENT_LIMIT = 1000
CHUNK = 3900  # below Telegram's 4,096, with room for the keyboard message's own text
REVIEW_LIMIT = 3300  # the plan inside the review notice; longer plans are read with /plan
OVERDUE_WINDOW_DAYS = 60  # the digest looks this far back (a bot down for weeks still reports)


class PlanFlow(StatesGroup):
    # data: dialog_id, goal_id, task_id, area, what, owner_id, starts_on, version
    goal_text = State()
    task_what = State()
    task_who = State()
    task_start = State()
    task_end = State()
    comment = State()


class PlanCb(CallbackData, prefix="pl"):
    # home | goal_new | goal_area | goal | goal_edit | goal_del | goal_del_yes | task_new | task
    # | task_what | task_who | task_owner | task_period | task_del | task_del_yes | send
    action: str
    dialog_id: Id
    goal_id: Id = 0
    task_id: Id = 0
    value: str = ""


class PlanAnswerCb(CallbackData, prefix="pa"):
    action: str  # agree | comment
    dialog_id: Id
    version: Id


class TaskCb(CallbackData, prefix="tk"):
    action: str  # done | help
    task_id: Id


def _locale() -> str:
    return I18n.get_current().current_locale


def _child(dialog: Dialog) -> str:
    return html.quote(dialog.child_name)


def short_date(d: date, with_year: bool = False) -> str:
    """'18. nov.' (da) / 'Nov 18' (en); with the year when asked."""
    return format_skeleton("yMMMd" if with_year else "MMMd", d, locale=_locale())


def period(task: Task) -> str:
    """'18. nov. → 31. mar.': the year only when the period is close to a year or longer."""
    long = (task.ends_on - task.starts_on).days > 300
    return f"{short_date(task.starts_on, long)} → {short_date(task.ends_on, long)}"


def join_names(people: list[Participant]) -> str:
    """'Mette (Mor) og Lars (Far)': HTML-escaped, joined the way the language does it."""
    names = [texts.who(p) for p in people]
    if len(names) <= 1:
        return "".join(names)
    return _("{first} and {last}").format(first=", ".join(names[:-1]), last=names[-1])


def button_name(p: Participant) -> str:
    """A participant on a button (plain text, not HTML)."""
    return f"{p.name} ({p.relation or texts.role_label(p.role)})"


def _area_label(config: DialogConfig, key: str) -> str:
    try:
        return config.area(key).label(_locale())
    except KeyError:
        return key


def _status_mark(task: Task) -> str:
    if task.status == pl.DONE:
        return " · " + _("✅ Done")
    if task.status == pl.HELP:
        return " · " + _("🆘 Needs help")
    return ""


def task_line(task: Task) -> str:
    return _("• Task: {what}\n   Who: {who} · Period: {period}").format(
        what=html.quote(task.what), who=texts.who(task.owner), period=period(task)) + _status_mark(task)


def plan_body(goals: list[Goal], config: DialogConfig) -> str:
    """The handbook's table: per area, each goal and its tasks."""
    blocks: list[str] = []
    current = None
    for goal in pl.sort_goals(goals, [a.key for a in config.areas]):
        lines = []
        if goal.area != current:
            current = goal.area
            lines.append(f"<b>{html.quote(_area_label(config, goal.area).upper())}</b>")
        lines.append(_("<b>Goal:</b> {text}").format(text=html.quote(goal.text)))
        lines += [task_line(t) for t in goal.tasks] or [_("<i>No tasks yet</i>")]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def status_line(dialog: Dialog) -> str:
    if pl.is_accepted(dialog):
        return _("✅ The plan is agreed (version {version}).").format(version=dialog.plan_version)
    return _("⏳ Proposal – not agreed yet (version {version}). Until the plan is agreed, the tasks are "
             "proposals and nobody is reminded of them.").format(version=dialog.plan_version)


async def plan_text(session: AsyncSession, dialog: Dialog, config: DialogConfig) -> str:
    goals = await pl.goals_of(session, dialog.id)
    head = _("<b>Goals & Plan</b> – the dialog about {child}").format(child=_child(dialog))
    if not goals:
        return head + "\n\n" + _("No plan has been made yet. The plan is made together at the dialog meeting.")
    return f"{head}\n{status_line(dialog)}\n\n{plan_body(goals, config)}"


async def tasks_in_plan_order(session: AsyncSession, dialog_id: int, config: DialogConfig) -> list[Task]:
    """The dialog's tasks as the plan shows them: by area, goal, then task."""
    goals = pl.sort_goals(await pl.goals_of(session, dialog_id), [a.key for a in config.areas])
    return [t for g in goals for t in g.tasks]


async def _review_sent(session: AsyncSession, dialog: Dialog, participant_id: int) -> bool:
    """Whether the current version was sent to this consent giver (exact key on the unique index)."""
    key = f"plan:{dialog.id}:v{dialog.plan_version}:review:{participant_id}"
    return await session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None


async def _send_chunks(message: Message, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    chunks = split_message(text, CHUNK) or [text]
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        await message.answer(chunk, reply_markup=keyboard if last else None, protect_content=True)


# ---- /plan -----------------------------------------------------------------------------------


@router.message(Command("plan"))
async def plan_command(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                       dialog_config: DialogConfig) -> None:
    participant = await pick_dialog(message, session, person, "plan", Action.READ_SHARED)
    if participant is not None:
        await state.clear()
        await show_plan(message, session, participant, dialog_config)


@router.callback_query(PickDialogCb.filter(F.flow == "plan"))
async def plan_picked(query: CallbackQuery, callback_data: PickDialogCb, session: AsyncSession,
                      person: Person | None, state: FSMContext, dialog_config: DialogConfig) -> None:
    participant = await seat_for_tap(query, session, person, callback_data.dialog_id, Action.READ_SHARED)
    if participant is None:
        return
    await query.answer()
    await state.clear()
    await show_plan(query.message, session, participant, dialog_config)


async def show_plan(message: Message, session: AsyncSession, p: Participant, config: DialogConfig) -> None:
    dialog = p.dialog
    text = await plan_text(session, dialog, config)
    if decide(q.seat(p), dialog.state, Action.MANAGE):
        text += await _answers_status(session, dialog)
        await _send_chunks(message, text, await _coordinator_keyboard(session, dialog, config))
        return
    rows: list[list[InlineKeyboardButton]] = []
    if p.consent_giver and dialog.plan_version > 0 and not pl.is_accepted(dialog) \
            and await _review_sent(session, dialog, p.id):
        mine = (await pl.answers_for(session, dialog.id, dialog.plan_version)).get(p.id)
        if mine is None or not mine.agrees:
            rows += review_keyboard(dialog).inline_keyboard
    if pl.is_accepted(dialog):
        for task in await tasks_in_plan_order(session, dialog.id, config):
            if task.owner_id == p.id and task.status != pl.DONE:
                rows.append([
                    InlineKeyboardButton(text=_("✅ Done: {what}").format(what=truncate(task.what, 30)),
                                         callback_data=TaskCb(action="done", task_id=task.id).pack()),
                    InlineKeyboardButton(text=_("🆘 Need help"),
                                         callback_data=TaskCb(action="help", task_id=task.id).pack()),
                ])
    await _send_chunks(message, text, InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)


async def _answers_status(session: AsyncSession, dialog: Dialog) -> str:
    """For the coordinator: each consent giver's answer to the current version, once it was sent."""
    if dialog.plan_version == 0 or pl.is_accepted(dialog):
        return ""
    givers = pl.consent_givers(dialog)
    if not givers or not await _review_sent(session, dialog, givers[0].id):
        return ""
    answers = await pl.answers_for(session, dialog.id, dialog.plan_version)
    lines = [_("<b>Sent for approval:</b>")]
    for g in givers:
        a = answers.get(g.id)
        if a is None:
            lines.append(_("❔ {who}: has not answered").format(who=texts.who(g)))
        elif a.agrees:
            lines.append(_("✅ {who}: agrees").format(who=texts.who(g)))
        else:
            lines.append(_("💬 {who}: has a comment").format(who=texts.who(g)))
    return "\n\n" + "\n".join(lines)


def _cb(dialog: Dialog, action: str, **kw: object) -> str:
    return PlanCb(action=action, dialog_id=dialog.id, **kw).pack()


async def _coordinator_keyboard(session: AsyncSession, dialog: Dialog, config: DialogConfig) -> InlineKeyboardMarkup:
    goals = pl.sort_goals(await pl.goals_of(session, dialog.id), [a.key for a in config.areas])
    rows = [[InlineKeyboardButton(text="🎯 " + truncate(f"{_area_label(config, g.area)}: {g.text}", 48),
                                  callback_data=_cb(dialog, "goal", goal_id=g.id))] for g in goals]
    rows.append([InlineKeyboardButton(text=_("➕ New goal"), callback_data=_cb(dialog, "goal_new"))])
    if goals and not pl.is_accepted(dialog):
        rows.append([InlineKeyboardButton(text=_("📨 Send the plan for approval"),
                                          callback_data=_cb(dialog, "send"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def review_keyboard(dialog: Dialog) -> InlineKeyboardMarkup:
    def b(text: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=PlanAnswerCb(
            action=action, dialog_id=dialog.id, version=dialog.plan_version).pack())

    return InlineKeyboardMarkup(inline_keyboard=[[b(_("✅ We agree"), "agree")],
                                                 [b(_("💬 We have a comment"), "comment")]])


# ---- cards: a goal, a task -------------------------------------------------------------------


def goal_card(dialog: Dialog, goal: Goal, config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    lines = [f"<b>{html.quote(_area_label(config, goal.area))}</b>",
             _("<b>Goal:</b> {text}").format(text=html.quote(goal.text)), ""]
    if goal.tasks:
        lines.append(_("<b>Tasks</b>"))
        for i, t in enumerate(goal.tasks, 1):
            lines.append(f"{i}. {html.quote(t.what)}\n   {texts.who(t.owner)} · {period(t)}{_status_mark(t)}")
    else:
        lines.append(_("<i>No tasks yet</i>"))
    rows = [[InlineKeyboardButton(text=_("✏️ Task {n}").format(n=i), callback_data=_cb(
        dialog, "task", goal_id=goal.id, task_id=t.id))] for i, t in enumerate(goal.tasks, 1)]
    rows += [
        [InlineKeyboardButton(text=_("➕ New task"), callback_data=_cb(dialog, "task_new", goal_id=goal.id))],
        [InlineKeyboardButton(text=_("✏️ Change the goal"), callback_data=_cb(dialog, "goal_edit", goal_id=goal.id)),
         InlineKeyboardButton(text=_("🗑 Remove the goal"), callback_data=_cb(dialog, "goal_del", goal_id=goal.id))],
        [InlineKeyboardButton(text=_("⬅️ Back to the plan"), callback_data=_cb(dialog, "home"))],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def task_card(dialog: Dialog, task: Task, config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    text = _("<b>Task</b> ({area})\n{what}\n\n<b>Who:</b> {who}\n<b>Period:</b> {period}").format(
        area=html.quote(_area_label(config, task.goal.area)), what=html.quote(task.what),
        who=texts.who(task.owner), period=period(task)) + _status_mark(task)

    def b(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=label, callback_data=_cb(dialog, action, goal_id=task.goal_id,
                                                                  task_id=task.id))

    return text, InlineKeyboardMarkup(inline_keyboard=[
        [b(_("✏️ Change the task"), "task_what"), b(_("👤 Change who"), "task_who")],
        [b(_("🗓 Change the period"), "task_period"), b(_("🗑 Remove the task"), "task_del")],
        [b(_("⬅️ Back to the goal"), "goal")],
    ])


async def _changed(session: AsyncSession, dialog: Dialog, was_accepted: bool, before: int) -> str:
    """After a change: what was written for the old version lapses; the line to show."""
    if dialog.plan_version == before:
        return _("Nothing was changed.")
    await outbox.cancel(session, dialog_id=dialog.id, key_prefix="task:")
    await outbox.cancel(session, dialog_id=dialog.id, key_prefix=f"plan:{dialog.id}:")
    line = _("✓ Saved. The plan is now version {version}.").format(version=dialog.plan_version)
    if was_accepted:
        line += " " + _("The plan has changed since it was agreed, so it must be agreed again: "
                        "send it for approval when you are done.")
    return line


def _owners(dialog: Dialog) -> list[Participant]:
    return [p for p in dialog.participants if p.joined_at is not None and p.person_id is not None]


def _owner_keyboard(dialog: Dialog, goal_id: int, task_id: int = 0) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=button_name(p), callback_data=_cb(
        dialog, "task_owner", goal_id=goal_id, task_id=task_id, value=str(p.id)))] for p in _owners(dialog)])


def _ask_date_text(which: str) -> str:
    if which == "start":
        return _("When does the task start? Write a date, e.g. \"1/12\", \"1. december\" or \"i dag\".")
    return _("When should the task be done? Write the end date, e.g. \"31/3\" or \"31. marts\".")


def date_error(code: str) -> str:
    return {
        "invalid_date": _("That date does not exist (or is too far ahead). Please check it and write it again."),
        "in_the_past": _("That date has already passed. Please write a date from today onwards."),
    }.get(code, _("I can't read that as a date. Write e.g. \"1/12\", \"1. december\" or \"i morgen\"."))


# ---- the coordinator's buttons ----------------------------------------------------------------


@router.callback_query(PlanCb.filter())
async def plan_button(query: CallbackQuery, callback_data: PlanCb, session: AsyncSession, person: Person | None,
                      state: FSMContext, clock: Clock, settings: Settings, notices: Notices,
                      dialog_config: DialogConfig) -> None:
    p = await seat_for_tap(query, session, person, callback_data.dialog_id, Action.MANAGE)
    if p is None:
        return
    dialog, action, msg = p.dialog, callback_data.action, query.message
    was_accepted, before = pl.is_accepted(dialog), dialog.plan_version

    if action == "home":
        await query.answer()
        await state.clear()
        await show_plan(msg, session, p, dialog_config)
        return
    if action == "goal_new":
        await query.answer()
        await state.clear()
        await msg.answer(_("Which input area is the goal in?"), reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=a.label(_locale()), callback_data=_cb(
                dialog, "goal_area", value=a.key))] for a in dialog_config.areas]))
        return
    if action == "goal_area":
        try:
            area = dialog_config.area(callback_data.value)
        except KeyError:
            await query.answer(texts.stale_button(), show_alert=True)
            return
        await query.answer()
        await state.set_state(PlanFlow.goal_text)
        await state.set_data({"dialog_id": dialog.id, "area": area.key, "goal_id": 0})
        await msg.edit_text(_("<b>{area}</b>\n\nWrite the goal, e.g. \"The friendships in the class should "
                              "be strengthened and supported.\"").format(area=html.quote(area.label(_locale()))))
        return
    if action == "send":
        await query.answer()
        await _send_for_approval(msg, session, dialog, notices)
        return

    goal = await pl.goal_in(session, dialog.id, callback_data.goal_id) if callback_data.goal_id else None
    if goal is None:
        await query.answer(_("That goal no longer exists. Type /plan to see the plan."), show_alert=True)
        return
    if action == "goal":
        await query.answer()
        await state.clear()
        text, keyboard = goal_card(dialog, goal, dialog_config)
        await msg.answer(text, reply_markup=keyboard, protect_content=True)
        return
    if action == "goal_edit":
        await query.answer()
        await state.set_state(PlanFlow.goal_text)
        await state.set_data({"dialog_id": dialog.id, "area": goal.area, "goal_id": goal.id})
        await msg.answer(_("Write the goal as it should read now. It reads:"), protect_content=True)
        await msg.answer(html.quote(goal.text), protect_content=True)
        return
    if action == "goal_del":
        await query.answer()
        await msg.answer(ngettext("Remove the goal and its {count} task from the plan?",
                                  "Remove the goal and its {count} tasks from the plan?",
                                  len(goal.tasks)).format(count=len(goal.tasks)),
                         reply_markup=InlineKeyboardMarkup(inline_keyboard=[[
                             InlineKeyboardButton(text=_("Yes, remove the goal"), callback_data=_cb(
                                 dialog, "goal_del_yes", goal_id=goal.id)),
                             InlineKeyboardButton(text=_("No, keep the goal"), callback_data=_cb(
                                 dialog, "goal", goal_id=goal.id))]]))
        return
    if action == "goal_del_yes":
        await query.answer()
        await state.clear()
        await pl.delete_goal(session, dialog, goal)
        await msg.edit_text(_("The goal is removed.") + " " + await _changed(session, dialog, was_accepted, before))
        await show_plan(msg, session, p, dialog_config)
        return
    if action == "task_new":
        await query.answer()
        await state.set_state(PlanFlow.task_what)
        await state.set_data({"dialog_id": dialog.id, "goal_id": goal.id, "task_id": 0})
        await msg.answer(_("<b>New task</b> under the goal \"{goal}\"\n\nWhat is to be done? "
                           "Describe the task in a few sentences.").format(goal=html.quote(truncate(goal.text, 80))),
                         protect_content=True)
        return
    if action == "task_owner":
        await _owner_chosen(query, callback_data, session, state, dialog, goal, clock, dialog_config)
        return

    task = await pl.task_in(session, dialog.id, callback_data.task_id) if callback_data.task_id else None
    if task is None or task.goal_id != goal.id:
        await query.answer(_("That task no longer exists. Type /plan to see the plan."), show_alert=True)
        return
    await query.answer()
    if action == "task":
        await state.clear()
        text, keyboard = task_card(dialog, task, dialog_config)
        await msg.answer(text, reply_markup=keyboard, protect_content=True)
    elif action == "task_what":
        await state.set_state(PlanFlow.task_what)
        await state.set_data({"dialog_id": dialog.id, "goal_id": goal.id, "task_id": task.id})
        await msg.answer(_("Write the task as it should read now."), protect_content=True)
    elif action == "task_who":
        await state.set_state(PlanFlow.task_who)
        await state.set_data({"dialog_id": dialog.id, "goal_id": goal.id, "task_id": task.id})
        await msg.answer(_("Who is responsible for the task?"), reply_markup=_owner_keyboard(dialog, goal.id, task.id))
    elif action == "task_period":
        await state.set_state(PlanFlow.task_start)
        await state.set_data({"dialog_id": dialog.id, "goal_id": goal.id, "task_id": task.id})
        await msg.answer(_ask_date_text("start"))
    elif action == "task_del":
        await msg.answer(_("Remove the task \"{what}\"?").format(what=html.quote(truncate(task.what, 80))),
                         reply_markup=InlineKeyboardMarkup(inline_keyboard=[[
                             InlineKeyboardButton(text=_("Yes, remove the task"), callback_data=_cb(
                                 dialog, "task_del_yes", goal_id=goal.id, task_id=task.id)),
                             InlineKeyboardButton(text=_("No, keep the task"), callback_data=_cb(
                                 dialog, "task", goal_id=goal.id, task_id=task.id))]]), protect_content=True)
    elif action == "task_del_yes":
        await state.clear()
        await pl.delete_task(session, dialog, task)
        await msg.edit_text(_("The task is removed.") + " " + await _changed(session, dialog, was_accepted, before))
        text, keyboard = goal_card(dialog, goal, dialog_config)
        await msg.answer(text, reply_markup=keyboard, protect_content=True)
    else:
        await msg.answer(texts.stale_button())


async def _flow_seat(session: AsyncSession, person: Person | None, state: FSMContext
                     ) -> tuple[Participant | None, dict, str | None]:
    data = await state.get_data()
    p, decision = await seat_for(session, person, int(data.get("dialog_id", 0)), Action.MANAGE)
    if not decision:
        return None, data, texts.refusal(decision.refusal, p.dialog if p else None)
    return p, data, None


async def _flow_goal(message: Message, session: AsyncSession, person: Person | None, state: FSMContext
                     ) -> tuple[Participant | None, Goal | None, dict]:
    """The coordinator's seat and the goal the conversation is about (or None after telling why)."""
    p, data, refused = await _flow_seat(session, person, state)
    if refused:
        await state.clear()
        await message.answer(refused)
        return None, None, data
    goal = await pl.goal_in(session, p.dialog_id, int(data.get("goal_id", 0)))
    if goal is None:
        await state.clear()
        await message.answer(_("That goal no longer exists. Type /plan to see the plan."))
        return None, None, data
    return p, goal, data


# ---- typed steps -------------------------------------------------------------------------------


@router.message(PlanFlow.goal_text, NOT_COMMAND)
async def got_goal_text(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                        clock: Clock, dialog_config: DialogConfig) -> None:
    p, data, refused = await _flow_seat(session, person, state)
    if refused:
        await state.clear()
        await message.answer(refused)
        return
    text = await read_answer(message, GOAL_LIMIT)
    if text is None:
        return
    dialog = p.dialog
    was_accepted, before = pl.is_accepted(dialog), dialog.plan_version
    goal_id = int(data.get("goal_id", 0))
    if goal_id:
        goal = await pl.goal_in(session, dialog.id, goal_id)
        if goal is None:
            await state.clear()
            await message.answer(_("That goal no longer exists. Type /plan to see the plan."))
            return
        if goal.text != text:
            goal.text = text
            pl.bump(dialog)
    else:
        goal = await pl.add_goal(session, dialog, data["area"], text, clock.now())
    await state.clear()
    await message.answer(await _changed(session, dialog, was_accepted, before))
    card, keyboard = goal_card(dialog, goal, dialog_config)
    await message.answer(card, reply_markup=keyboard, protect_content=True)


@router.message(PlanFlow.task_what, NOT_COMMAND)
async def got_task_what(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                        dialog_config: DialogConfig) -> None:
    p, goal, data = await _flow_goal(message, session, person, state)
    if goal is None:
        return
    text = await read_answer(message, TASK_LIMIT)
    if text is None:
        return
    dialog = p.dialog
    task_id = int(data.get("task_id", 0))
    if task_id:
        task = await pl.task_in(session, dialog.id, task_id)
        if task is None:
            await state.clear()
            await message.answer(_("That task no longer exists. Type /plan to see the plan."))
            return
        was_accepted, before = pl.is_accepted(dialog), dialog.plan_version
        if task.what != text:
            task.what = text
            pl.bump(dialog)
        await state.clear()
        await message.answer(await _changed(session, dialog, was_accepted, before))
        card, keyboard = task_card(dialog, task, dialog_config)
        await message.answer(card, reply_markup=keyboard, protect_content=True)
        return
    await state.update_data(what=text)
    await state.set_state(PlanFlow.task_who)
    await message.answer(_("Who is responsible for the task?"), reply_markup=_owner_keyboard(dialog, goal.id))


@router.message(PlanFlow.task_who, NOT_COMMAND)
async def task_who_typed(message: Message) -> None:
    await message.answer(_("Please choose with one of the buttons above."))


async def _owner_chosen(query: CallbackQuery, callback_data: PlanCb, session: AsyncSession, state: FSMContext,
                        dialog: Dialog, goal: Goal, clock: Clock, config: DialogConfig) -> None:
    data = await state.get_data()
    if await state.get_state() != PlanFlow.task_who.state or int(data.get("goal_id", 0)) != goal.id \
            or int(data.get("task_id", 0)) != callback_data.task_id:
        await query.answer(texts.stale_button(), show_alert=True)
        return
    owner = next((o for o in _owners(dialog) if str(o.id) == callback_data.value), None)
    if owner is None:
        await query.answer(texts.stale_button(), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    if callback_data.task_id:
        task = await pl.task_in(session, dialog.id, callback_data.task_id)
        if task is None:
            await state.clear()
            await query.message.answer(_("That task no longer exists. Type /plan to see the plan."))
            return
        was_accepted, before = pl.is_accepted(dialog), dialog.plan_version
        if task.owner_id != owner.id:
            task.owner_id = owner.id
            pl.bump(dialog)
            await session.flush()
            await session.refresh(task, ["owner"])
        await state.clear()
        await query.message.answer(await _changed(session, dialog, was_accepted, before))
        card, keyboard = task_card(dialog, task, config)
        await query.message.answer(card, reply_markup=keyboard, protect_content=True)
        return
    await state.update_data(owner_id=owner.id)
    await state.set_state(PlanFlow.task_start)
    await query.message.answer(_("Responsible: {who}").format(who=texts.who(owner)) + "\n\n" + _ask_date_text("start"))


def _today(clock: Clock, settings: Settings) -> date:
    return clock.now().astimezone(settings.tz).date()


async def _typed_date(message: Message, clock: Clock, settings: Settings) -> date | None:
    """The date the coordinator typed, or None after saying what is wrong with it."""
    text = await read_answer(message, 60)
    if text is None:
        return None
    try:
        return parse_date(text, today=_today(clock, settings))
    except DateParseError as exc:
        await message.answer(date_error(exc.code))
        return None


@router.message(PlanFlow.task_start, NOT_COMMAND)
async def got_task_start(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                         clock: Clock, settings: Settings) -> None:
    p, goal, _data = await _flow_goal(message, session, person, state)
    if goal is None:
        return
    starts = await _typed_date(message, clock, settings)
    if starts is None:
        return
    await state.update_data(starts_on=starts.isoformat())
    await state.set_state(PlanFlow.task_end)
    await message.answer(_("Start: {date}").format(date=fmt_date(starts)) + "\n\n" + _ask_date_text("end"))


@router.message(PlanFlow.task_end, NOT_COMMAND)
async def got_task_end(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                       clock: Clock, settings: Settings, dialog_config: DialogConfig) -> None:
    p, goal, data = await _flow_goal(message, session, person, state)
    if goal is None:
        return
    ends = await _typed_date(message, clock, settings)
    if ends is None:
        return
    starts = date.fromisoformat(data["starts_on"])
    if ends < starts:
        await message.answer(_("The end date must be on or after the start date ({start}). "
                               "Please write the end date again.").format(start=fmt_date(starts)))
        return
    dialog = p.dialog
    was_accepted, before = pl.is_accepted(dialog), dialog.plan_version
    task_id = int(data.get("task_id", 0))
    if task_id:
        task = await pl.task_in(session, dialog.id, task_id)
        if task is None:
            await state.clear()
            await message.answer(_("That task no longer exists. Type /plan to see the plan."))
            return
        if (task.starts_on, task.ends_on) != (starts, ends):
            task.starts_on, task.ends_on = starts, ends
            pl.bump(dialog)
        await state.clear()
        await message.answer(await _changed(session, dialog, was_accepted, before))
        card, keyboard = task_card(dialog, task, dialog_config)
        await message.answer(card, reply_markup=keyboard, protect_content=True)
        return
    owner = next((o for o in _owners(dialog) if o.id == int(data.get("owner_id", 0))), None)
    if owner is None:
        await state.set_state(PlanFlow.task_who)
        await message.answer(_("Who is responsible for the task?"), reply_markup=_owner_keyboard(dialog, goal.id))
        return
    await pl.add_task(session, dialog, goal, what=data["what"], owner_id=owner.id, starts_on=starts,
                      ends_on=ends, now=clock.now())
    await state.clear()
    await message.answer(await _changed(session, dialog, was_accepted, before))
    card, keyboard = goal_card(dialog, goal, dialog_config)
    await message.answer(card, reply_markup=keyboard, protect_content=True)


# ---- sending for approval, and the consent givers' answers ---------------------------------------


async def _send_for_approval(msg: Message, session: AsyncSession, dialog: Dialog, notices: Notices) -> None:
    if pl.is_accepted(dialog):
        await msg.answer(_("This version of the plan is already agreed."))
        return
    tasks = await pl.tasks_of(session, dialog.id)
    if not tasks:
        await msg.answer(_("Add at least one task before you send the plan for approval."))
        return
    givers = pl.consent_givers(dialog)
    if not givers:
        await msg.answer(_("Nobody in this dialog gives consent yet, so nobody can agree to the plan."))
        return
    added = 0
    for g in givers:
        added += await notices.add(session, to=g, kind="plan_review",
                                   key=f"plan:{dialog.id}:v{dialog.plan_version}:review:{g.id}",
                                   payload={"dialog_id": dialog.id, "version": dialog.plan_version})
    names = join_names(givers)
    if not added:
        await msg.answer(_("This version of the plan has already been sent to {names}. "
                           "You get a message when they have answered.").format(names=names))
        return
    await msg.answer(_("The plan (version {version}) is sent for approval to {names}. "
                       "You get a message when they have answered.").format(version=dialog.plan_version, names=names))


@router.callback_query(PlanAnswerCb.filter())
async def plan_answer(query: CallbackQuery, callback_data: PlanAnswerCb, session: AsyncSession,
                      person: Person | None, state: FSMContext, clock: Clock, settings: Settings,
                      notices: Notices) -> None:
    p = await seat_for_tap(query, session, person, callback_data.dialog_id, Action.READ_SHARED)
    if p is None:
        return
    if not p.consent_giver or callback_data.action not in ("agree", "comment"):
        await query.answer(_("Only the parents with custody (or the young person) agree to the plan.")
                           if not p.consent_giver else texts.stale_button(), show_alert=True)
        return
    dialog = p.dialog
    if callback_data.version != dialog.plan_version:
        await query.answer(_("The plan has changed since. Type /plan to see the newest version."), show_alert=True)
        return
    if callback_data.action == "comment":
        await query.answer()
        await state.set_state(PlanFlow.comment)
        await state.set_data({"dialog_id": dialog.id, "version": dialog.plan_version})
        await query.message.answer(_("Write your comment on the plan. The coordinator gets it and will "
                                     "get back to you. Type /annuller to stop."))
        return
    if pl.is_accepted(dialog):
        await query.answer(_("The plan is already agreed."))
        return
    mine = (await pl.answers_for(session, dialog.id, dialog.plan_version)).get(p.id)
    if mine is not None and mine.agrees:
        await query.answer(_("Your answer is already recorded."))
        return
    await query.answer()
    now = clock.now()
    await pl.record_answer(session, dialog, p, dialog.plan_version, True, None, now)
    if await pl.everyone_agrees(session, dialog, dialog.plan_version):
        await accept_plan(session, notices, settings, dialog, now)
        await query.message.answer(_("Thank you! Everyone has now agreed to the plan, and the work can begin. "
                                     "Everyone with a task will be told."))
        return
    answers = await pl.answers_for(session, dialog.id, dialog.plan_version)
    waiting = [g for g in pl.consent_givers(dialog) if not (answers.get(g.id) and answers[g.id].agrees)]
    await query.message.answer(_("Thank you, your answer is saved. The plan is in force when {names} "
                                 "has agreed as well.").format(names=join_names(waiting)))


@router.message(PlanFlow.comment, NOT_COMMAND)
async def got_comment(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                      clock: Clock, notices: Notices) -> None:
    data = await state.get_data()
    p, decision = await seat_for(session, person, int(data.get("dialog_id", 0)), Action.READ_SHARED)
    if not decision or not p.consent_giver:
        await state.clear()
        await message.answer(texts.refusal(decision.refusal if not decision else Refusal.NOT_CONSENT_GIVER,
                                           p.dialog if p else None))
        return
    text = await read_answer(message, COMMENT_LIMIT)
    if text is None:
        return
    dialog = p.dialog
    answer = await pl.record_answer(session, dialog, p, int(data.get("version", dialog.plan_version)), False,
                                    text, clock.now())
    await state.clear()
    coordinator = await session.get(Person, dialog.coordinator_id)
    await notices.add(session, to=coordinator, kind="plan_comment", key=f"plancomment:{answer.id}",
                      payload={"answer_id": answer.id}, dialog_id=dialog.id)
    await message.answer(_("Thank you. Your comment is sent to the coordinator."))


async def accept_plan(session: AsyncSession, notices: Notices, settings: Settings, dialog: Dialog,
                      now: datetime) -> None:
    """Every consent giver agreed: the plan is in force, owners are told, reminders are written."""
    version = dialog.plan_version
    dialog.plan_accepted_version = version
    tasks = [t for t in await pl.tasks_of(session, dialog.id) if t.status != pl.DONE]
    owners: dict[int, Participant] = {}
    for task in tasks:
        owners[task.owner_id] = task.owner
        for days in sorted(set(settings.task_reminder_days), reverse=True):
            due = at_local(task.ends_on - timedelta(days=days), time(settings.reminder_hour), settings.tz)
            if due <= now:
                continue
            await notices.add(session, to=task.owner, kind="task_reminder",
                              key=f"task:{task.id}:v{version}:d{days}",
                              payload={"task_id": task.id, "version": version, "days": days}, due_at=due)
    for owner in owners.values():
        await notices.add(session, to=owner, kind="tasks_assigned", key=f"plan:{dialog.id}:v{version}:owner:{owner.id}",
                          payload={"dialog_id": dialog.id, "version": version, "participant_id": owner.id})
    coordinator = await session.get(Person, dialog.coordinator_id)
    await notices.add(session, to=coordinator, kind="plan_accepted", key=f"plan:{dialog.id}:v{version}:accepted",
                      payload={"dialog_id": dialog.id, "version": version}, dialog_id=dialog.id)


# ---- Udført / Brug for hjælp -----------------------------------------------------------------------


@router.callback_query(TaskCb.filter())
async def task_button(query: CallbackQuery, callback_data: TaskCb, session: AsyncSession, person: Person | None,
                      clock: Clock, notices: Notices) -> None:
    task = await session.get(Task, callback_data.task_id)
    if task is None:
        await query.answer(_("That task is no longer in the plan."), show_alert=True)
        return
    # The button names a task; only the person holding the owner's seat may answer for it.
    p = await seat_for_tap(query, session, person, task.dialog_id, Action.READ_SHARED)
    if p is None:
        return
    if p.id != task.owner_id:
        await query.answer(_("Only the person responsible for the task can answer here."), show_alert=True)
        return
    dialog = p.dialog
    if dialog.plan_accepted_version == 0 or callback_data.action not in ("done", "help"):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    if task.status == pl.DONE:
        await query.answer(_("The task is already marked as done."))
        return
    now = clock.now()
    coordinator = await session.get(Person, dialog.coordinator_id)
    await query.answer()
    if callback_data.action == "done":
        task.status, task.done_at = pl.DONE, now
        await session.flush()
        await query.message.answer(_("Thank you! The task is marked as done, and the coordinator is told."))
        if coordinator is not None and coordinator.id != p.person_id:
            await notices.add(session, to=coordinator, kind="task_done", key=f"taskdone:{task.id}",
                              payload={"task_id": task.id}, dialog_id=dialog.id)
        if pl.is_accepted(dialog) and await pl.all_done(session, dialog.id):
            await notices.add(session, to=coordinator, kind="plan_all_done",
                              key=f"plandone:{dialog.id}:v{dialog.plan_version}",
                              payload={"dialog_id": dialog.id, "version": dialog.plan_version}, dialog_id=dialog.id)
        return
    task.status = pl.HELP
    if coordinator is not None and coordinator.id != p.person_id:  # at most once a day per task
        await notices.add(session, to=coordinator, kind="task_help", key=f"taskhelp:{task.id}:{now:%Y%m%d}",
                          payload={"task_id": task.id}, dialog_id=dialog.id)
    await query.message.answer(_("The coordinator has been told that you need help with the task, "
                                 "and will contact you."))


# ---- the daily overdue digest (a scheduler job) ------------------------------------------------------


class OverdueDigest:
    """Once a day, from the reminder hour: each coordinator hears of tasks newly overdue.

    One row per coordinator and local date (`overdue:{person_id}:{date}`); its
    payload names the tasks, so a task already in a digest is not named again.
    The scan runs once a day per process; keys make a second process harmless.
    """

    def __init__(self) -> None:
        self.scanned_on: date | None = None

    async def __call__(self, session: AsyncSession, notices: Notices, now: datetime) -> None:
        settings = notices.settings
        local = now.astimezone(settings.tz)
        today = local.date()
        if local.hour < settings.reminder_hour or self.scanned_on == today:
            return
        by_coordinator: dict[int, list[Task]] = defaultdict(list)
        for task, coordinator_id in await pl.overdue_tasks(session, today,
                                                            today - timedelta(days=OVERDUE_WINDOW_DAYS)):
            by_coordinator[coordinator_id].append(task)
        for coordinator_id, tasks in by_coordinator.items():
            seen = await pl.reported_overdue(session, coordinator_id)
            new = [pl.overdue_mark(t) for t in tasks if pl.overdue_mark(t) not in seen]
            if not new:
                continue
            coordinator = await session.get(Person, coordinator_id)
            await notices.add(session, to=coordinator, kind=pl.OVERDUE_KIND,
                              key=f"overdue:{coordinator_id}:{today.isoformat()}", payload={"tasks": new})
        self.scanned_on = today


# ---- notices of this flow, composed when they are sent -----------------------------------------------


async def _dialog(ctx: RenderContext, dialog_id: int) -> Dialog | None:
    dialog = await ctx.session.get(Dialog, dialog_id)
    return dialog if dialog is not None and dialog.state == ACTIVE else None


@renderer("plan_review")
async def _plan_review(ctx: RenderContext, payload: dict) -> Rendered | None:
    dialog = await _dialog(ctx, payload["dialog_id"])
    if dialog is None or dialog.plan_version != payload["version"] or pl.is_accepted(dialog):
        return None
    coordinator = await ctx.session.get(Person, dialog.coordinator_id)
    body = plan_body(await pl.goals_of(ctx.session, dialog.id), ctx.config)
    if len(body) > REVIEW_LIMIT:
        body = _("The plan is long: read all of it with /plan.")
    return Rendered(_(
        "📋 <b>Goals & Plan for approval</b> – the dialog about {child}\n\n"
        "{coordinator} has sent you the plan. Read it through and answer below: when everyone who "
        "approves the plan agrees, the work begins.\n\n{plan}").format(
            child=_child(dialog), coordinator=html.quote(coordinator.name or "") if coordinator else "",
            plan=body), review_keyboard(dialog))


@renderer("plan_comment")
async def _plan_comment(ctx: RenderContext, payload: dict) -> Rendered | None:
    answer = await ctx.session.get(PlanAnswer, payload["answer_id"])
    p = await ctx.session.get(Participant, answer.participant_id) if answer else None
    if answer is None or p is None or not answer.comment:
        return None
    return Rendered(_(
        "💬 {who} has a comment on the plan (the dialog about {child}, version {version}):\n\n{comment}\n\n"
        "Change the plan under /plan and send it for approval again.").format(
            who=texts.who(p), child=_child(p.dialog), version=answer.plan_version,
            comment=html.quote(answer.comment)))


@renderer("plan_accepted")
async def _plan_accepted(ctx: RenderContext, payload: dict) -> Rendered | None:
    dialog = await _dialog(ctx, payload["dialog_id"])
    if dialog is None or dialog.plan_accepted_version != payload["version"]:
        return None
    return Rendered(_(
        "✅ The plan for the dialog about {child} is agreed by {names} (version {version}). "
        "Everyone with a task has been told.").format(
            child=_child(dialog), names=join_names(pl.consent_givers(dialog)),
            version=payload["version"]))


@renderer("tasks_assigned")
async def _tasks_assigned(ctx: RenderContext, payload: dict) -> Rendered | None:
    dialog = await _dialog(ctx, payload["dialog_id"])
    if dialog is None or not pl.is_accepted(dialog) or dialog.plan_version != payload["version"]:
        return None
    mine = [t for t in await tasks_in_plan_order(ctx.session, dialog.id, ctx.config)
            if t.owner_id == payload["participant_id"] and t.status != pl.DONE]
    if not mine:
        return None
    lines = [f"• {html.quote(t.what)} ({period(t)})" for t in mine]
    return Rendered(_(
        "📋 <b>The plan for {child} is agreed</b>\n\nYou are responsible for:\n{tasks}\n\n"
        "You get a reminder before the end date. See the whole plan with /plan.").format(
            child=_child(dialog), tasks="\n".join(lines)))


def task_keyboard(task: Task) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("✅ Done"), callback_data=TaskCb(action="done", task_id=task.id).pack()),
        InlineKeyboardButton(text=_("🆘 Need help"), callback_data=TaskCb(action="help", task_id=task.id).pack()),
    ]])


@renderer("task_reminder")
async def _task_reminder(ctx: RenderContext, payload: dict) -> Rendered | None:
    task = await ctx.session.get(Task, payload["task_id"])
    dialog = await _dialog(ctx, task.dialog_id) if task else None
    if task is None or dialog is None or task.status == pl.DONE or not pl.is_accepted(dialog) \
            or dialog.plan_version != payload["version"]:
        return None
    if payload["days"] == 0:
        head = _("⏰ <b>Your task is due today</b> – the dialog about {child}")
    else:
        head = _("⏰ <b>Reminder: your task is due {date}</b> – the dialog about {child}")
    return Rendered((head + "\n\n{what}\n" + _("Period: {period}") + "\n\n" + _("How is it going?")).format(
        child=_child(dialog), date=fmt_date(task.ends_on, "full"), what=html.quote(task.what),
        period=period(task)), task_keyboard(task))


@renderer("task_done")
async def _task_done(ctx: RenderContext, payload: dict) -> Rendered | None:
    task = await ctx.session.get(Task, payload["task_id"])
    if task is None or task.status != pl.DONE:
        return None
    return Rendered(_("✅ {who} has marked a task as done (the dialog about {child}):\n{what}").format(
        who=texts.who(task.owner), child=_child(task.owner.dialog), what=html.quote(task.what)))


@renderer("task_help")
async def _task_help(ctx: RenderContext, payload: dict) -> Rendered | None:
    task = await ctx.session.get(Task, payload["task_id"])
    if task is None or task.status == pl.DONE:
        return None
    return Rendered(_(
        "🆘 {who} needs help with a task (the dialog about {child}):\n{what}\nPeriod: {period}\n\n"
        "Please get in touch with them soon.").format(
            who=texts.who(task.owner), child=_child(task.owner.dialog), what=html.quote(task.what),
            period=period(task)))


@renderer("plan_all_done")
async def _plan_all_done(ctx: RenderContext, payload: dict) -> Rendered | None:
    dialog = await _dialog(ctx, payload["dialog_id"])
    if dialog is None or not await pl.all_done(ctx.session, dialog.id):
        return None
    return Rendered(_(
        "🎉 Every task in the plan for the dialog about {child} is done. It is time for a follow-up "
        "dialog meeting: schedule it with /moede.").format(child=_child(dialog)))


@renderer(pl.OVERDUE_KIND)
async def _overdue_digest(ctx: RenderContext, payload: dict) -> Rendered | None:
    by_dialog: dict[int, list[Task]] = defaultdict(list)
    for mark in payload.get("tasks", []):
        task_id, ends = mark.split(":", 1)
        task = await ctx.session.get(Task, int(task_id))
        if task is None or task.status == pl.DONE or task.ends_on.isoformat() != ends:
            continue
        dialog = await _dialog(ctx, task.dialog_id)
        if dialog is None or not pl.is_accepted(dialog):
            continue
        by_dialog[task.dialog_id].append(task)
    if not by_dialog:
        return None
    blocks = []
    for tasks in by_dialog.values():
        dialog = tasks[0].owner.dialog
        lines = [_("<b>The dialog about {child}</b>").format(child=_child(dialog))]
        lines += [_("• {what} – {who}, due {date}").format(
            what=html.quote(truncate(t.what, 200)), who=texts.who(t.owner), date=short_date(t.ends_on))
            + _status_mark(t) for t in tasks]
        blocks.append("\n".join(lines))
    return Rendered(_("⏰ <b>Tasks past their end date</b>\n\nThese tasks are not marked as done:") + "\n\n"
                    + "\n\n".join(blocks))
