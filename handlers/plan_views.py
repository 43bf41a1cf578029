"""Mål & Plan, as people see it: the buttons (their callback data), the plan's table and the
cards of a goal and a task.

The handlers (handlers/plan.py) decide what to show; this module only says it. What the chat
asks and answers at each step is in handlers/plan_replies.py, the flow's notices in
handlers/plan_notices.py.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_skeleton
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.labels import child_in_chat
from handlers.choose import Id
from rules.access import Action, decide
from rules.dialog_config import DialogConfig
from rules.text import split_message, truncate
from services.plan import Missing
from storage import plan as pl
from storage import queries as q
from storage.models import Dialog, Goal, Participant, Task

CHUNK = 3900  # below Telegram's 4,096, with room for the keyboard message's own text


# ---- buttons: the values are what old buttons in people's chats carry -------------------------


class PlanAction(StrEnum):
    """The coordinator's buttons."""

    home = "home"
    goal_new = "goal_new"
    goal_area = "goal_area"
    goal = "goal"
    goal_edit = "goal_edit"
    goal_del = "goal_del"
    goal_del_yes = "goal_del_yes"
    task_new = "task_new"
    task = "task"
    task_what = "task_what"
    task_who = "task_who"
    task_owner = "task_owner"
    task_period = "task_period"
    task_del = "task_del"
    task_del_yes = "task_del_yes"
    send = "send"


class PlanCb(CallbackData, prefix="pl"):
    action: PlanAction
    dialog_id: Id
    goal_id: Id = 0
    task_id: Id = 0
    value: str = ""


class AnswerAction(StrEnum):
    """A consent giver's answer to the plan sent for approval."""

    agree = "agree"
    comment = "comment"


class PlanAnswerCb(CallbackData, prefix="pa"):
    action: AnswerAction
    dialog_id: Id
    version: Id


class TaskAction(StrEnum):
    """A task owner's answer: Udført / Brug for hjælp."""

    done = "done"
    help = "help"


class TaskCb(CallbackData, prefix="tk"):
    action: TaskAction
    task_id: Id


def cb(dialog: Dialog, action: PlanAction, **kw: object) -> str:
    return PlanCb(action=action, dialog_id=dialog.id, **kw).pack()


def button(text: str, dialog: Dialog, action: PlanAction, **kw: object) -> InlineKeyboardButton:
    """One of the coordinator's buttons (`kw`: the goal, task or value it names)."""
    return InlineKeyboardButton(text=text, callback_data=cb(dialog, action, **kw))


def task_buttons(task: Task, done: str) -> list[InlineKeyboardButton]:
    """A task owner's Udført (labelled `done`) and Brug for hjælp."""
    return [InlineKeyboardButton(text=text, callback_data=TaskCb(action=action, task_id=task.id).pack())
            for text, action in ((done, TaskAction.done), (_("🆘 Need help"), TaskAction.help))]


def review_keyboard(dialog: Dialog) -> InlineKeyboardMarkup:
    def b(text: str, action: AnswerAction) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=PlanAnswerCb(
            action=action, dialog_id=dialog.id, version=dialog.plan_version).pack())

    return InlineKeyboardMarkup(inline_keyboard=[[b(_("✅ I agree"), AnswerAction.agree)],
                                                 [b(_("💬 I have a comment"), AnswerAction.comment)]])


# ---- small pieces --------------------------------------------------------------------------------


def locale() -> str:
    return I18n.get_current().current_locale


def short_date(d: date, with_year: bool = False) -> str:
    """'18. nov.' (da) / 'Nov 18' (en); with the year when asked."""
    return format_skeleton("yMMMd" if with_year else "MMMd", d, locale=locale())


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
        return config.area(key).label(locale())
    except KeyError:
        return key


def status_mark(task: Task) -> str:
    if task.status == pl.DONE:
        return " · " + _("✅ Done")
    if task.status == pl.HELP:
        return " · " + _("🆘 Needs help")
    return ""


def gone(missing: Missing) -> str:
    """A goal or task the coordinator's button or step was about is no longer there."""
    if missing is Missing.GOAL:
        return _("That goal no longer exists. Type /plan to see the plan.")
    return _("That task no longer exists. Type /plan to see the plan.")


async def send(message: Message, shown: tuple[str, InlineKeyboardMarkup], protect: bool = False) -> None:
    """A (text, keyboard) view as a new message; `protect`: it shows the plan's content."""
    text, keyboard = shown
    if protect:
        await message.answer(text, reply_markup=keyboard, protect_content=True)
    else:
        await message.answer(text, reply_markup=keyboard)


# ---- the plan ------------------------------------------------------------------------------------


def task_line(task: Task) -> str:
    return _("• Task: {what}\n   Who: {who} · Period: {period}").format(
        what=html.quote(task.what), who=texts.who(task.owner), period=period(task)) + status_mark(task)


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
        return _("✅ Everyone has agreed to the plan.")
    return _("⏳ This is a proposal. Nobody has agreed to it yet, so nobody is reminded of the tasks.")


async def plan_text(session: AsyncSession, dialog: Dialog, config: DialogConfig) -> str:
    goals = await pl.goals_of(session, dialog.id)
    head = _("<b>Goals & Plan</b> – the dialog about {child}").format(child=child_in_chat(dialog))
    if not goals:
        return head + "\n\n" + _("No plan has been made yet. The plan is made together at the dialog meeting.")
    return f"{head}\n{status_line(dialog)}\n\n{plan_body(goals, config)}"


async def tasks_in_plan_order(session: AsyncSession, dialog_id: int, config: DialogConfig) -> list[Task]:
    """The dialog's tasks as the plan shows them: by area, goal, then task."""
    goals = pl.sort_goals(await pl.goals_of(session, dialog_id), [a.key for a in config.areas])
    return [t for g in goals for t in g.tasks]


async def _send_chunks(message: Message, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    chunks = split_message(text, CHUNK) or [text]
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        await message.answer(chunk, reply_markup=keyboard if last else None, protect_content=True)


async def show_plan(message: Message, session: AsyncSession, p: Participant, config: DialogConfig) -> None:
    """The plan as this seat sees it: the coordinator with the buttons to change it and the answers;
    a consent giver with the answer buttons while it waits for them; an owner with their tasks' buttons."""
    dialog = p.dialog
    text = await plan_text(session, dialog, config)
    if decide(q.seat(p), dialog.state, Action.MANAGE):
        text += await _answers_status(session, dialog)
        await _send_chunks(message, text, await _coordinator_keyboard(session, dialog, config))
        return
    rows: list[list[InlineKeyboardButton]] = []
    if p.consent_giver and dialog.plan_version > 0 and not pl.is_accepted(dialog) \
            and await pl.review_sent(session, dialog, p.id):
        mine = (await pl.answers_for(session, dialog.id, dialog.plan_version)).get(p.id)
        if mine is None or not mine.agrees:
            rows += review_keyboard(dialog).inline_keyboard
    if pl.is_accepted(dialog):
        rows += [task_buttons(task, _("✅ Done: {what}").format(what=truncate(task.what, 30)))
                 for task in await tasks_in_plan_order(session, dialog.id, config)
                 if task.owner_id == p.id and task.status != pl.DONE]
    await _send_chunks(message, text, InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)


async def _answers_status(session: AsyncSession, dialog: Dialog) -> str:
    """For the coordinator: each consent giver's answer to the current version, once it was sent."""
    if dialog.plan_version == 0 or pl.is_accepted(dialog):
        return ""
    givers = pl.consent_givers(dialog)
    if not givers or not await pl.review_sent(session, dialog, givers[0].id):
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


async def _coordinator_keyboard(session: AsyncSession, dialog: Dialog, config: DialogConfig) -> InlineKeyboardMarkup:
    goals = pl.sort_goals(await pl.goals_of(session, dialog.id), [a.key for a in config.areas])
    rows = [[button("🎯 " + truncate(f"{_area_label(config, g.area)}: {g.text}", 48), dialog, PlanAction.goal,
                    goal_id=g.id)] for g in goals]
    rows.append([button(_("➕ New goal"), dialog, PlanAction.goal_new)])
    if goals and not pl.is_accepted(dialog):
        rows.append([button(_("📨 Send the plan for approval"), dialog, PlanAction.send)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


# ---- cards: a goal, a task -------------------------------------------------------------------


def goal_card(dialog: Dialog, goal: Goal, config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    lines = [f"<b>{html.quote(_area_label(config, goal.area))}</b>",
             _("<b>Goal:</b> {text}").format(text=html.quote(goal.text)), ""]
    if goal.tasks:
        lines.append(_("<b>Tasks</b>"))
        for i, t in enumerate(goal.tasks, 1):
            lines.append(f"{i}. {html.quote(t.what)}\n   {texts.who(t.owner)} · {period(t)}{status_mark(t)}")
    else:
        lines.append(_("<i>No tasks yet</i>"))
    rows = [[button(_("✏️ Task {n}").format(n=i), dialog, PlanAction.task, goal_id=goal.id, task_id=t.id)]
            for i, t in enumerate(goal.tasks, 1)]
    rows += [
        [button(_("➕ New task"), dialog, PlanAction.task_new, goal_id=goal.id)],
        [button(_("✏️ Change the goal"), dialog, PlanAction.goal_edit, goal_id=goal.id),
         button(_("🗑 Remove the goal"), dialog, PlanAction.goal_del, goal_id=goal.id)],
        [button(_("⬅️ Back to the plan"), dialog, PlanAction.home)],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def task_card(dialog: Dialog, task: Task, config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    text = _("<b>Task</b> ({area})\n{what}\n\n<b>Who:</b> {who}\n<b>Period:</b> {period}").format(
        area=html.quote(_area_label(config, task.goal.area)), what=html.quote(task.what),
        who=texts.who(task.owner), period=period(task)) + status_mark(task)

    def b(label: str, action: PlanAction) -> InlineKeyboardButton:
        return button(label, dialog, action, goal_id=task.goal_id, task_id=task.id)

    return text, InlineKeyboardMarkup(inline_keyboard=[
        [b(_("✏️ Change the task"), PlanAction.task_what), b(_("👤 Change who"), PlanAction.task_who)],
        [b(_("🗓 Change the period"), PlanAction.task_period), b(_("🗑 Remove the task"), PlanAction.task_del)],
        [b(_("⬅️ Back to the goal"), PlanAction.goal)],
    ])
