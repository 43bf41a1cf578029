"""Mål & Plan's notices, composed when they are sent (core/notices.py): the plan for approval,
a comment on it, the plan agreed, the tasks given, reminders, a task done or needing help, and
the coordinators' digest of overdue tasks.

The renderers register when this module is imported; handlers/plan.py imports it, so they are
there whenever the router is.
"""

from __future__ import annotations

from collections import defaultdict

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from core import texts
from core.i18n import fmt_date
from core.labels import child_in_chat
from core.notices import RenderContext, Rendered, renderer
from handlers.choose import PickDialogCb
from handlers.plan_views import (
    join_names,
    period,
    plan_body,
    review_keyboard,
    short_date,
    status_mark,
    task_buttons,
    tasks_in_plan_order,
)
from rules.access import ACTIVE
from rules.text import truncate
from storage import plan as pl
from storage.models import Dialog, Participant, Person, PlanAnswer, Task

REVIEW_LIMIT = 3300  # the plan inside the review notice; longer plans are read with /plan


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
            child=child_in_chat(dialog), coordinator=html.quote(coordinator.name or "") if coordinator else "",
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
            who=texts.who(p), child=child_in_chat(p.dialog), version=answer.plan_version,
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
            child=child_in_chat(dialog), names=join_names(pl.consent_givers(dialog)),
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
        "You get a reminder before the end date.").format(child=child_in_chat(dialog), tasks="\n".join(lines)),
        InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
            text=_("📋 See the whole plan"), callback_data=PickDialogCb(flow="plan", dialog_id=dialog.id).pack())]]))


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
        child=child_in_chat(dialog), date=fmt_date(task.ends_on, "full"), what=html.quote(task.what),
        period=period(task)), InlineKeyboardMarkup(inline_keyboard=[task_buttons(task, _("✅ Done"))]))


@renderer("task_done")
async def _task_done(ctx: RenderContext, payload: dict) -> Rendered | None:
    task = await ctx.session.get(Task, payload["task_id"])
    if task is None or task.status != pl.DONE:
        return None
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    return Rendered(_("✅ {who} has marked a task as done (the dialog about {child}):\n{what}").format(
        who=texts.who(task.owner), child=child_in_chat(task.owner.dialog), what=html.quote(task.what)))


@renderer("task_help")
async def _task_help(ctx: RenderContext, payload: dict) -> Rendered | None:
    task = await ctx.session.get(Task, payload["task_id"])
    if task is None or task.status == pl.DONE:
        return None
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    return Rendered(_(
        "🆘 {who} needs help with a task (the dialog about {child}):\n{what}\nPeriod: {period}\n\n"
        "Please get in touch with them soon.").format(
            who=texts.who(task.owner), child=child_in_chat(task.owner.dialog), what=html.quote(task.what),
            period=period(task)))


@renderer("plan_all_done")
async def _plan_all_done(ctx: RenderContext, payload: dict) -> Rendered | None:
    dialog = await _dialog(ctx, payload["dialog_id"])
    if dialog is None or not await pl.all_done(ctx.session, dialog.id):
        return None
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    return Rendered(_(
        "🎉 Every task in the plan for the dialog about {child} is done. It is time for a follow-up "
        "dialog meeting: schedule it with /moede.").format(child=child_in_chat(dialog)))


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
        lines = [_("<b>The dialog about {child}</b>").format(child=child_in_chat(dialog))]
        lines += [_("• {what} – {who}, due {date}").format(
            what=html.quote(truncate(t.what, 200)), who=texts.who(t.owner), date=short_date(t.ends_on))
            + status_mark(t) for t in tasks]
        blocks.append("\n".join(lines))
    # staff: the coordinator edits and sends the plan (MANAGE) or gets this notice
    return Rendered(_("⏰ <b>Tasks past their end date</b>\n\nThese tasks are not marked as done:") + "\n\n"
                    + "\n\n".join(blocks))
