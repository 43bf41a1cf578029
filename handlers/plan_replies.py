"""Mål & Plan in the chat: what the coordinator is asked at each step of changing the plan,
and what everyone is answered after a tap or a typed step (handlers/plan.py decides which).

The cards, the plan's table and the buttons are in handlers/plan_views.py.
"""

from __future__ import annotations

from datetime import date

from aiogram import html
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from core import texts
from core.i18n import fmt_date
from handlers.plan_views import (
    PlanAction,
    button,
    button_name,
    goal_card,
    gone,
    join_names,
    locale,
    send,
    task_card,
)
from rules.dialog_config import Area, DialogConfig
from rules.text import truncate
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
from storage.models import Dialog, Goal, Participant, Task

# ---- the coordinator's questions and confirmations ------------------------------------------------


def area_picker(dialog: Dialog, config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    return _("Which input area is the goal in?"), InlineKeyboardMarkup(inline_keyboard=[
        [button(a.label(locale()), dialog, PlanAction.goal_area, value=a.key)] for a in config.areas])


def ask_goal_text(area: Area) -> str:
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    return _("<b>{area}</b>\n\nWrite the goal, e.g. \"The friendships in the class should "
             "be strengthened and supported.\"").format(area=html.quote(area.label(locale())))


def ask_goal_change() -> str:
    return _("Write the goal as it should read now. It reads:")


def goal_removal(dialog: Dialog, goal: Goal) -> tuple[str, InlineKeyboardMarkup]:
    return ngettext("Remove the goal and its {count} task from the plan?",
                    "Remove the goal and its {count} tasks from the plan?",
                    len(goal.tasks)).format(count=len(goal.tasks)), InlineKeyboardMarkup(inline_keyboard=[[
                        button(_("Yes, remove the goal"), dialog, PlanAction.goal_del_yes, goal_id=goal.id),
                        button(_("No, keep the goal"), dialog, PlanAction.goal, goal_id=goal.id)]])


def ask_new_task(goal: Goal) -> str:
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    return _("<b>New task</b> under the goal \"{goal}\"\n\nWhat is to be done? "
             "Describe the task in a few sentences.").format(goal=html.quote(truncate(goal.text, 80)))


def ask_task_change() -> str:
    return _("Write the task as it should read now.")


def task_removal(dialog: Dialog, goal: Goal, task: Task) -> tuple[str, InlineKeyboardMarkup]:
    named = {"goal_id": goal.id, "task_id": task.id}
    return _("Remove the task \"{what}\"?").format(what=html.quote(truncate(task.what, 80))), InlineKeyboardMarkup(
        inline_keyboard=[[button(_("Yes, remove the task"), dialog, PlanAction.task_del_yes, **named),
                          button(_("No, keep the task"), dialog, PlanAction.task, **named)]])


def ask_owner(dialog: Dialog, goal_id: int, task_id: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    return _("Who is responsible for the task?"), InlineKeyboardMarkup(inline_keyboard=[
        [button(button_name(p), dialog, PlanAction.task_owner, goal_id=goal_id, task_id=task_id, value=str(p.id))]
        for p in pl.task_owners(dialog)])


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


# ---- what a change did ---------------------------------------------------------------------------


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


# ---- the consent givers' and the task owners' answers ---------------------------------------------


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
