"""Mål & Plan: what the coordinator, the consent givers and the task owners do with the plan,
and the scheduler's daily digest of overdue tasks.

Every change to goals or tasks makes a new plan version; what was written for the old
version lapses. The plan is in force when every consent giver agreed to the current
version: then each owner is told and reminders are written. A task's progress (done,
needs help) is not a change of the plan.

Outbox keys: ``task:{task_id}:v{version}:d{days}`` (reminders) and
``plan:{dialog_id}:v{version}:...`` (review, owners, accepted) are cancelled with one
prefix each when the plan changes.

Each function returns what happened; the handler (handlers/plan.py) says it in the
person's language. Who may do it was checked before (rules.access, on the seat).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from reports.referat import reissue_referat
from rules.dates import at_local
from storage import outbox
from storage import plan as pl
from storage import queries as q
from storage.models import Dialog, Goal, Participant, Person, Task

if TYPE_CHECKING:
    from core.notices import Notices

OVERDUE_WINDOW_DAYS = 60  # the digest looks this far back (a bot down for weeks still reports)


class Missing(Enum):
    """What a change could not find: removed meanwhile (a double tap, an old message)."""

    GOAL = "goal"
    TASK = "task"
    OWNER = "owner"  # not (or no longer) someone who can be responsible for a task


@dataclass(frozen=True)
class Change:
    """What a change did to the plan."""

    version: int  # the plan's version now
    changed: bool  # a new version was made (False: the same as before, nothing lapsed)
    was_accepted: bool  # the plan was in force before: it must be agreed again


@dataclass(frozen=True)
class GoalChange:
    goal: Goal  # its tasks loaded
    change: Change


@dataclass(frozen=True)
class TaskChange:
    task: Task  # its owner and goal loaded
    change: Change


def _before(dialog: Dialog) -> tuple[bool, int]:
    return pl.is_accepted(dialog), dialog.plan_version


async def _after(session: AsyncSession, dialog: Dialog, before: tuple[bool, int]) -> Change:
    """After a change: what was written for the old version lapses."""
    was_accepted, version = before
    if dialog.plan_version == version:
        return Change(version, False, was_accepted)
    await outbox.cancel(session, dialog_id=dialog.id, key_prefix="task:")
    await outbox.cancel(session, dialog_id=dialog.id, key_prefix=f"plan:{dialog.id}:")
    return Change(dialog.plan_version, True, was_accepted)


def task_owner(dialog: Dialog, participant_id: int) -> Participant | None:
    """The seat that can be made responsible for a task, if `participant_id` names one."""
    return next((o for o in pl.task_owners(dialog) if o.id == participant_id), None)


# ---- the coordinator: goals and tasks ---------------------------------------------------------------


@dataclass(frozen=True)
class Named:
    """A goal, and a task under it, that a button names."""

    goal: Goal
    task: Task | None = None


async def find(session: AsyncSession, dialog_id: int, goal_id: int, task_id: int | None = None) -> Named | Missing:
    """The goal a button names in the dialog, and (`task_id` given) the task under it."""
    goal = await pl.goal_in(session, dialog_id, goal_id) if goal_id else None
    if goal is None:
        return Missing.GOAL
    if task_id is None:
        return Named(goal)
    task = await pl.task_in(session, dialog_id, task_id) if task_id else None
    return Named(goal, task) if task is not None and task.goal_id == goal.id else Missing.TASK


async def add_goal(session: AsyncSession, dialog: Dialog, area: str, text: str, now: datetime) -> GoalChange:
    before = _before(dialog)
    goal = await pl.add_goal(session, dialog, area, text, now)
    return GoalChange(goal, await _after(session, dialog, before))


async def edit_goal(session: AsyncSession, dialog: Dialog, goal_id: int, text: str) -> GoalChange | Missing:
    before = _before(dialog)
    goal = await pl.goal_in(session, dialog.id, goal_id)
    if goal is None:
        return Missing.GOAL
    if goal.text != text:
        goal.text = text
        pl.bump(dialog)
    return GoalChange(goal, await _after(session, dialog, before))


async def remove_goal(session: AsyncSession, dialog: Dialog, goal_id: int) -> Change | Missing:
    """The goal and its tasks leave the plan."""
    before = _before(dialog)
    found = await find(session, dialog.id, goal_id)
    if isinstance(found, Missing):
        return found
    await pl.delete_goal(session, dialog, found.goal)
    return await _after(session, dialog, before)


async def add_task(session: AsyncSession, dialog: Dialog, goal_id: int, *, what: str, owner_id: int,
                   starts_on: date, ends_on: date, now: datetime) -> GoalChange | Missing:
    """A new task under a goal; what comes back is the goal with its tasks."""
    before = _before(dialog)
    goal = await pl.goal_in(session, dialog.id, goal_id)
    if goal is None:
        return Missing.GOAL
    owner = task_owner(dialog, owner_id)
    if owner is None:
        return Missing.OWNER
    await pl.add_task(session, dialog, goal, what=what, owner_id=owner.id, starts_on=starts_on,
                      ends_on=ends_on, now=now)
    return GoalChange(goal, await _after(session, dialog, before))


async def edit_task(session: AsyncSession, dialog: Dialog, task_id: int, *, what: str | None = None,
                    owner_id: int | None = None, period: tuple[date, date] | None = None) -> TaskChange | Missing:
    """Change what a task is, who is responsible, or its period (start, end)."""
    before = _before(dialog)
    task = await pl.task_in(session, dialog.id, task_id)
    if task is None:
        return Missing.TASK
    new_owner = owner_id is not None and task.owner_id != owner_id
    if new_owner and task_owner(dialog, owner_id) is None:
        return Missing.OWNER
    changed = new_owner
    if what is not None and task.what != what:
        task.what, changed = what, True
    if period is not None and (task.starts_on, task.ends_on) != period:
        (task.starts_on, task.ends_on), changed = period, True
    if new_owner:
        task.owner_id = owner_id
    if changed:
        pl.bump(dialog)
    if new_owner:
        await session.flush()
        await session.refresh(task, ["owner"])
    return TaskChange(task, await _after(session, dialog, before))


async def remove_task(session: AsyncSession, dialog: Dialog, goal_id: int, task_id: int) -> GoalChange | Missing:
    """The task leaves the plan; what comes back is its goal with the tasks left."""
    before = _before(dialog)
    found = await find(session, dialog.id, goal_id, task_id)
    if isinstance(found, Missing):
        return found
    await pl.delete_task(session, dialog, found.task)
    return GoalChange(found.goal, await _after(session, dialog, before))


# ---- sending for approval, and the consent givers' answers ---------------------------------------------


class Sending(Enum):
    SENT = "sent"
    ALREADY_SENT = "already_sent"  # this version went to every consent giver before
    ALREADY_AGREED = "already_agreed"
    NO_TASKS = "no_tasks"
    NO_CONSENT_GIVERS = "no_consent_givers"


@dataclass(frozen=True)
class Sent:
    outcome: Sending
    version: int
    to: list[Participant] = field(default_factory=list)  # the consent givers


async def send_for_approval(session: AsyncSession, notices: Notices, dialog: Dialog) -> Sent:
    """The current version goes to every consent giver, once."""
    version = dialog.plan_version
    if pl.is_accepted(dialog):
        return Sent(Sending.ALREADY_AGREED, version)
    if not await pl.tasks_of(session, dialog.id):
        return Sent(Sending.NO_TASKS, version)
    givers = pl.consent_givers(dialog)
    if not givers:
        return Sent(Sending.NO_CONSENT_GIVERS, version)
    added = 0
    for g in givers:
        added += await notices.add(session, to=g, kind="plan_review", key=pl.review_key(dialog.id, version, g.id),
                                   payload={"dialog_id": dialog.id, "version": version})
    return Sent(Sending.SENT if added else Sending.ALREADY_SENT, version, givers)


class Answering(Enum):
    SAVED = "saved"  # others have yet to agree
    IN_FORCE = "in_force"  # this answer was the last: the plan is in force
    ALREADY_AGREED = "already_agreed"  # the plan was in force already
    ALREADY_RECORDED = "already_recorded"  # this consent giver agreed before


@dataclass(frozen=True)
class Agreed:
    outcome: Answering
    waiting: list[Participant] = field(default_factory=list)  # the consent givers yet to agree


async def agree(session: AsyncSession, notices: Notices, giver: Participant, now: datetime) -> Agreed:
    """A consent giver agrees to the current version (checked by the caller: it is what they saw)."""
    # One answer at a time per dialog: two consent givers agreeing at the same moment (two
    # processes, or one handling updates side by side) must not each miss the other's answer
    # and leave the plan agreed by all but never in force.
    dialog = await q.lock_dialog(session, giver.dialog_id)
    if pl.is_accepted(dialog):
        return Agreed(Answering.ALREADY_AGREED)
    mine = (await pl.answers_for(session, dialog.id, dialog.plan_version)).get(giver.id)
    if mine is not None and mine.agrees:
        return Agreed(Answering.ALREADY_RECORDED)
    await pl.record_answer(session, dialog, giver, dialog.plan_version, True, None, now)
    if await pl.everyone_agrees(session, dialog, dialog.plan_version):
        await _put_in_force(session, notices, dialog, now)
        return Agreed(Answering.IN_FORCE)
    answers = await pl.answers_for(session, dialog.id, dialog.plan_version)
    return Agreed(Answering.SAVED, [g for g in pl.consent_givers(dialog)
                                    if not (answers.get(g.id) and answers[g.id].agrees)])


async def comment(session: AsyncSession, notices: Notices, giver: Participant, version: int, text: str,
                  now: datetime) -> None:
    """A consent giver's comment on one version: kept, and sent to the coordinator."""
    dialog = giver.dialog
    answer = await pl.record_answer(session, dialog, giver, version, False, text, now)
    coordinator = await session.get(Person, dialog.coordinator_id)
    await notices.add(session, to=coordinator, kind="plan_comment", key=f"plancomment:{answer.id}",
                      payload={"answer_id": answer.id}, dialog_id=dialog.id)


async def _put_in_force(session: AsyncSession, notices: Notices, dialog: Dialog, now: datetime) -> None:
    """Every consent giver agreed: the plan is in force, owners are told, reminders are written,
    and the last meeting's referat is reissued with this plan."""
    settings = notices.settings
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
    # The minutes of the last meeting are reissued with the plan that now applies (a new
    # edition, to every participant, replacing the earlier one).
    await reissue_referat(session, notices, dialog, now)


# ---- Udført / Brug for hjælp ------------------------------------------------------------------------


class TaskAnswer(Enum):
    DONE = "done"
    HELP = "help"
    GONE = "gone"  # the task is no longer in the plan
    NOT_OWNER = "not_owner"  # only the seat holding the task may answer for it
    NOT_IN_FORCE = "not_in_force"  # no plan was ever agreed: the button cannot be real
    ALREADY_DONE = "already_done"


async def _answerable(session: AsyncSession, seat: Participant, task_id: int) -> Task | TaskAnswer:
    task = await session.get(Task, task_id)
    if task is None:
        return TaskAnswer.GONE
    if seat.id != task.owner_id:
        return TaskAnswer.NOT_OWNER
    if seat.dialog.plan_accepted_version == 0:
        return TaskAnswer.NOT_IN_FORCE
    if task.status == pl.DONE:
        return TaskAnswer.ALREADY_DONE
    return task


async def mark_done(session: AsyncSession, notices: Notices, seat: Participant, task_id: int,
                    now: datetime) -> TaskAnswer:
    """The owner has done the task: the coordinator hears it, and when every task is done."""
    task = await _answerable(session, seat, task_id)
    if isinstance(task, TaskAnswer):
        return task
    dialog = seat.dialog
    task.status, task.done_at = pl.DONE, now
    await session.flush()
    coordinator = await _tell_coordinator(session, notices, seat, task, "task_done", f"taskdone:{task.id}")
    if pl.is_accepted(dialog) and await pl.all_done(session, dialog.id):
        await notices.add(session, to=coordinator, kind="plan_all_done",
                          key=f"plandone:{dialog.id}:v{dialog.plan_version}",
                          payload={"dialog_id": dialog.id, "version": dialog.plan_version}, dialog_id=dialog.id)
    return TaskAnswer.DONE


async def ask_for_help(session: AsyncSession, notices: Notices, seat: Participant, task_id: int,
                       now: datetime) -> TaskAnswer:
    """The owner needs help with the task: the coordinator hears it (at most once a day per task)."""
    task = await _answerable(session, seat, task_id)
    if isinstance(task, TaskAnswer):
        return task
    task.status = pl.HELP
    await _tell_coordinator(session, notices, seat, task, "task_help", f"taskhelp:{task.id}:{now:%Y%m%d}")
    return TaskAnswer.HELP


async def _tell_coordinator(session: AsyncSession, notices: Notices, seat: Participant, task: Task, kind: str,
                            key: str) -> Person | None:
    """A notice about `task` to the dialog's coordinator, unless they are the one who did it; the coordinator."""
    coordinator = await session.get(Person, seat.dialog.coordinator_id)
    if coordinator is not None and coordinator.id != seat.person_id:
        await notices.add(session, to=coordinator, kind=kind, key=key, payload={"task_id": task.id},
                          dialog_id=seat.dialog_id)
    return coordinator


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
