"""Mål & Plan, as people see it: the plan's table, the cards of a goal and a task, the
buttons (their callback data), and the notices of this flow, composed when they are sent.

The handlers (handlers/plan.py) decide what to show; this module only says it. The
notice renderers register when this module is imported (handlers/plan.py imports it).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_skeleton
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.i18n import fmt_date
from core.labels import child_in_chat
from core.notices import RenderContext, Rendered, renderer
from handlers.choose import Id, PickDialogCb
from rules.access import ACTIVE, Action, decide
from rules.dialog_config import Area, DialogConfig
from rules.text import split_message, truncate
from services.plan import (
    Agreed,
    Answering,
    Change,
    GoalChange,
    Missing,
    Sending,
    Sent,
    TaskAnswer,
    TaskChange,
)
from storage import plan as pl
from storage import queries as q
from storage.models import Dialog, Goal, Participant, Person, PlanAnswer, Task

CHUNK = 3900  # below Telegram's 4,096, with room for the keyboard message's own text
REVIEW_LIMIT = 3300  # the plan inside the review notice; longer plans are read with /plan


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


# ---- small pieces --------------------------------------------------------------------------------


def _locale() -> str:
    return I18n.get_current().current_locale


def _child(dialog: Dialog) -> str:
    return child_in_chat(dialog)


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
        return _("✅ Everyone has agreed to the plan.")
    return _("⏳ This is a proposal. Nobody has agreed to it yet, so nobody is reminded of the tasks.")


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
        for task in await tasks_in_plan_order(session, dialog.id, config):
            if task.owner_id == p.id and task.status != pl.DONE:
                rows.append([
                    InlineKeyboardButton(text=_("✅ Done: {what}").format(what=truncate(task.what, 30)),
                                         callback_data=TaskCb(action=TaskAction.done, task_id=task.id).pack()),
                    InlineKeyboardButton(text=_("🆘 Need help"),
                                         callback_data=TaskCb(action=TaskAction.help, task_id=task.id).pack()),
                ])
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
    rows = [[InlineKeyboardButton(text="🎯 " + truncate(f"{_area_label(config, g.area)}: {g.text}", 48),
                                  callback_data=cb(dialog, PlanAction.goal, goal_id=g.id))] for g in goals]
    rows.append([InlineKeyboardButton(text=_("➕ New goal"), callback_data=cb(dialog, PlanAction.goal_new))])
    if goals and not pl.is_accepted(dialog):
        rows.append([InlineKeyboardButton(text=_("📨 Send the plan for approval"),
                                          callback_data=cb(dialog, PlanAction.send))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def review_keyboard(dialog: Dialog) -> InlineKeyboardMarkup:
    def b(text: str, action: AnswerAction) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=PlanAnswerCb(
            action=action, dialog_id=dialog.id, version=dialog.plan_version).pack())

    return InlineKeyboardMarkup(inline_keyboard=[[b(_("✅ I agree"), AnswerAction.agree)],
                                                 [b(_("💬 I have a comment"), AnswerAction.comment)]])


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
    rows = [[InlineKeyboardButton(text=_("✏️ Task {n}").format(n=i), callback_data=cb(
        dialog, PlanAction.task, goal_id=goal.id, task_id=t.id))] for i, t in enumerate(goal.tasks, 1)]
    rows += [
        [InlineKeyboardButton(text=_("➕ New task"), callback_data=cb(dialog, PlanAction.task_new, goal_id=goal.id))],
        [InlineKeyboardButton(text=_("✏️ Change the goal"), callback_data=cb(
            dialog, PlanAction.goal_edit, goal_id=goal.id)),
         InlineKeyboardButton(text=_("🗑 Remove the goal"), callback_data=cb(
             dialog, PlanAction.goal_del, goal_id=goal.id))],
        [InlineKeyboardButton(text=_("⬅️ Back to the plan"), callback_data=cb(dialog, PlanAction.home))],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def task_card(dialog: Dialog, task: Task, config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    text = _("<b>Task</b> ({area})\n{what}\n\n<b>Who:</b> {who}\n<b>Period:</b> {period}").format(
        area=html.quote(_area_label(config, task.goal.area)), what=html.quote(task.what),
        who=texts.who(task.owner), period=period(task)) + _status_mark(task)

    def b(label: str, action: PlanAction) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=label, callback_data=cb(dialog, action, goal_id=task.goal_id,
                                                                 task_id=task.id))

    return text, InlineKeyboardMarkup(inline_keyboard=[
        [b(_("✏️ Change the task"), PlanAction.task_what), b(_("👤 Change who"), PlanAction.task_who)],
        [b(_("🗓 Change the period"), PlanAction.task_period), b(_("🗑 Remove the task"), PlanAction.task_del)],
        [b(_("⬅️ Back to the goal"), PlanAction.goal)],
    ])


# ---- the coordinator's questions and confirmations ------------------------------------------------


def area_picker(dialog: Dialog, config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    return _("Which input area is the goal in?"), InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=a.label(_locale()), callback_data=cb(dialog, PlanAction.goal_area, value=a.key))] for a in config.areas])


def ask_goal_text(area: Area) -> str:
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    return _("<b>{area}</b>\n\nWrite the goal, e.g. \"The friendships in the class should "
             "be strengthened and supported.\"").format(area=html.quote(area.label(_locale())))


def ask_goal_change() -> str:
    return _("Write the goal as it should read now. It reads:")


def goal_removal(dialog: Dialog, goal: Goal) -> tuple[str, InlineKeyboardMarkup]:
    return ngettext("Remove the goal and its {count} task from the plan?",
                    "Remove the goal and its {count} tasks from the plan?",
                    len(goal.tasks)).format(count=len(goal.tasks)), InlineKeyboardMarkup(inline_keyboard=[[
                        InlineKeyboardButton(text=_("Yes, remove the goal"), callback_data=cb(
                            dialog, PlanAction.goal_del_yes, goal_id=goal.id)),
                        InlineKeyboardButton(text=_("No, keep the goal"), callback_data=cb(
                            dialog, PlanAction.goal, goal_id=goal.id))]])


def ask_new_task(goal: Goal) -> str:
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    return _("<b>New task</b> under the goal \"{goal}\"\n\nWhat is to be done? "
             "Describe the task in a few sentences.").format(goal=html.quote(truncate(goal.text, 80)))


def ask_task_change() -> str:
    return _("Write the task as it should read now.")


def task_removal(dialog: Dialog, goal: Goal, task: Task) -> tuple[str, InlineKeyboardMarkup]:
    return _("Remove the task \"{what}\"?").format(what=html.quote(truncate(task.what, 80))), InlineKeyboardMarkup(
        inline_keyboard=[[
            InlineKeyboardButton(text=_("Yes, remove the task"), callback_data=cb(
                dialog, PlanAction.task_del_yes, goal_id=goal.id, task_id=task.id)),
            InlineKeyboardButton(text=_("No, keep the task"), callback_data=cb(
                dialog, PlanAction.task, goal_id=goal.id, task_id=task.id))]])


def ask_owner(dialog: Dialog, goal_id: int, task_id: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    return _("Who is responsible for the task?"), InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=button_name(p), callback_data=cb(dialog, PlanAction.task_owner, goal_id=goal_id, task_id=task_id,
                                              value=str(p.id)))] for p in pl.task_owners(dialog)])


def ask_date_text(which: str) -> str:
    if which == "start":
        # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
        return _("When does the task start? Write a date, e.g. \"1/12\", \"1. december\" or \"i dag\".")
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    return _("When should the task be done? Write the end date, e.g. \"31/3\" or \"31. marts\".")


def owner_chosen(owner: Participant) -> str:
    return _("Responsible: {who}").format(who=texts.who(owner)) + "\n\n" + ask_date_text("start")


def start_chosen(starts: date) -> str:
    return _("Start: {date}").format(date=fmt_date(starts)) + "\n\n" + ask_date_text("end")


def date_error(code: str) -> str:
    return {
        # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
        "invalid_date": _("That date does not exist (or is too far ahead). Please check it and write it again."),
        # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
        "in_the_past": _("That date has already passed. Please write a date from today onwards."),
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    }.get(code, _("I can't read that as a date. Write e.g. \"1/12\", \"1. december\" or \"i morgen\"."))


def end_before_start(starts: date) -> str:
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    return _("The end date must be on or after the start date ({start}). "
             "Please write the end date again.").format(start=fmt_date(starts))


def changed_line(change: Change) -> str:
    """After a change: the line to show."""
    if not change.changed:
        return _("Nothing was changed.")
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    line = _("✓ Saved. The plan is now version {version}.").format(version=change.version)
    if change.was_accepted:
        # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
        line += " " + _("The plan has changed since it was agreed, so it must be agreed again: "
                        "send it for approval when you are done.")
    return line


async def show_saved(message: Message, dialog: Dialog, config: DialogConfig,
                     saved: GoalChange | TaskChange | Missing) -> None:
    """After a typed change or a new owner: what it did, and the card of the goal or task changed."""
    if isinstance(saved, Missing):
        await message.answer(gone(saved))
        return
    await message.answer(changed_line(saved.change))
    await send(message, goal_card(dialog, saved.goal, config) if isinstance(saved, GoalChange)
               else task_card(dialog, saved.task, config), protect=True)


def goal_removed(change: Change) -> str:
    return _("The goal is removed.") + " " + changed_line(change)


def task_removed(change: Change) -> str:
    return _("The task is removed.") + " " + changed_line(change)


def sent_line(sent: Sent) -> str:
    """What the coordinator hears after tapping 'Send the plan for approval'."""
    if sent.outcome is Sending.ALREADY_AGREED:
        # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
        return _("This version of the plan is already agreed.")
    if sent.outcome is Sending.NO_TASKS:
        # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
        return _("Add at least one task before you send the plan for approval.")
    if sent.outcome is Sending.NO_CONSENT_GIVERS:
        # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
        return _("Nobody in this dialog gives consent yet, so nobody can agree to the plan.")
    names = join_names(sent.to)
    if sent.outcome is Sending.ALREADY_SENT:
        # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
        return _("This version of the plan has already been sent to {names}. "
                 "You get a message when they have answered.").format(names=names)
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    return _("The plan (version {version}) is sent for approval to {names}. "
             "You get a message when they have answered.").format(version=sent.version, names=names)


def not_consent_giver() -> str:
    return _("Only the parents with custody (or the young person) agree to the plan.")


def plan_changed_since() -> str:
    return _("The plan has changed since. Type /plan to see the newest version.")


def ask_comment() -> str:
    return _("Write your comment on the plan. The coordinator gets it and will get back to you. "
             "Type /annuller to stop.")


def comment_sent() -> str:
    return _("Thank you. Your comment is sent to the coordinator.")


def agreed_reply(agreed: Agreed) -> tuple[str | None, bool | None, str | None]:
    """A consent giver agreed: what the button says (a toast), and the answer in the chat."""
    if agreed.outcome is Answering.ALREADY_AGREED:
        return _("The plan is already agreed."), None, None
    if agreed.outcome is Answering.ALREADY_RECORDED:
        return _("Your answer is already recorded."), None, None
    if agreed.outcome is Answering.IN_FORCE:
        return None, None, _("Thank you! Everyone has now agreed to the plan, and the work can begin. "
                             "Everyone with a task will be told.")
    return None, None, _("Thank you, your answer is saved. The plan is in force when {names} "
                         "has agreed as well.").format(names=join_names(agreed.waiting))


def task_gone_from_plan() -> str:
    return _("That task is no longer in the plan.")


def task_reply(outcome: TaskAnswer) -> tuple[str | None, bool | None, str | None]:
    """A task owner's Udført / Brug for hjælp: what the button says (alert or not), and the answer."""
    if outcome is TaskAnswer.GONE:
        return task_gone_from_plan(), True, None
    if outcome is TaskAnswer.NOT_OWNER:
        return _("Only the person responsible for the task can answer here."), True, None
    if outcome is TaskAnswer.NOT_IN_FORCE:
        return texts.stale_button(), True, None
    if outcome is TaskAnswer.ALREADY_DONE:
        return _("The task is already marked as done."), None, None
    if outcome is TaskAnswer.DONE:
        return None, None, _("Thank you! The task is marked as done, and the coordinator is told.")
    return None, None, _("The coordinator has been told that you need help with the task, "
                         "and will contact you.")


def choose_with_buttons() -> str:
    return _("Please choose with one of the buttons above.")


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
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
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
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
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
        "You get a reminder before the end date.").format(child=_child(dialog), tasks="\n".join(lines)),
        InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
            text=_("📋 See the whole plan"), callback_data=PickDialogCb(flow="plan", dialog_id=dialog.id).pack())]]))


def task_keyboard(task: Task) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("✅ Done"), callback_data=TaskCb(action=TaskAction.done, task_id=task.id).pack()),
        InlineKeyboardButton(text=_("🆘 Need help"), callback_data=TaskCb(
            action=TaskAction.help, task_id=task.id).pack()),
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
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    return Rendered(_("✅ {who} has marked a task as done (the dialog about {child}):\n{what}").format(
        who=texts.who(task.owner), child=_child(task.owner.dialog), what=html.quote(task.what)))


@renderer("task_help")
async def _task_help(ctx: RenderContext, payload: dict) -> Rendered | None:
    task = await ctx.session.get(Task, payload["task_id"])
    if task is None or task.status == pl.DONE:
        return None
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
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
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
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
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    return Rendered(_("⏰ <b>Tasks past their end date</b>\n\nThese tasks are not marked as done:") + "\n\n"
                    + "\n\n".join(blocks))
