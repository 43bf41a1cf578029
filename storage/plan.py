"""Mål & Plan: goals per area, tasks under them, versions and the consent givers' answers.

Any change to goals or tasks makes a new plan version (`Dialog.plan_version`);
the plan is in force when every consent giver has agreed to the current version
(`Dialog.plan_accepted_version == Dialog.plan_version`). A task's progress
(done, needs help) is not a change of the plan. Nothing here commits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules.access import ACTIVE
from storage.models import Dialog, Goal, OutboxMessage, Participant, PlanAnswer, Task

OPEN, DONE, HELP = "open", "done", "help"
NOT_DONE = (OPEN, HELP)


def is_accepted(dialog: Dialog) -> bool:
    """The current plan is in force: the consent givers agreed to this very version."""
    return dialog.plan_version > 0 and dialog.plan_accepted_version == dialog.plan_version


def bump(dialog: Dialog) -> int:
    dialog.plan_version += 1
    return dialog.plan_version


# ---- goals and tasks ------------------------------------------------------------------------


async def goals_of(session: AsyncSession, dialog_id: int) -> list[Goal]:
    rows = await session.scalars(select(Goal).where(Goal.dialog_id == dialog_id).order_by(Goal.id))
    return list(rows)


def sort_goals(goals: Sequence[Goal], area_order: Sequence[str]) -> list[Goal]:
    order = list(area_order)
    return sorted(goals, key=lambda g: (order.index(g.area) if g.area in order else len(order), g.id))


async def goal_in(session: AsyncSession, dialog_id: int, goal_id: int) -> Goal | None:
    goal = await session.get(Goal, goal_id)
    return goal if goal is not None and goal.dialog_id == dialog_id else None


async def task_in(session: AsyncSession, dialog_id: int, task_id: int) -> Task | None:
    task = await session.get(Task, task_id)
    return task if task is not None and task.dialog_id == dialog_id else None


async def add_goal(session: AsyncSession, dialog: Dialog, area: str, text: str, now: datetime) -> Goal:
    goal = Goal(dialog_id=dialog.id, area=area, text=text, round_no=dialog.round_no, created_at=now)
    session.add(goal)
    bump(dialog)
    await session.flush()
    await session.refresh(goal, ["tasks"])  # an async session cannot load it lazily later
    return goal


async def add_task(session: AsyncSession, dialog: Dialog, goal: Goal, *, what: str, owner_id: int,
                   starts_on: date, ends_on: date, now: datetime) -> Task:
    task = Task(goal_id=goal.id, dialog_id=dialog.id, what=what, owner_id=owner_id, starts_on=starts_on,
                ends_on=ends_on, status=OPEN, created_at=now)
    session.add(task)
    bump(dialog)
    await session.flush()
    await session.refresh(goal, ["tasks"])
    return task


async def delete_goal(session: AsyncSession, dialog: Dialog, goal: Goal) -> None:
    await session.delete(goal)  # its tasks go with it
    bump(dialog)
    await session.flush()


async def delete_task(session: AsyncSession, dialog: Dialog, task: Task) -> None:
    goal = task.goal
    await session.delete(task)
    bump(dialog)
    await session.flush()
    await session.refresh(goal, ["tasks"])


async def tasks_of(session: AsyncSession, dialog_id: int) -> list[Task]:
    rows = await session.scalars(select(Task).where(Task.dialog_id == dialog_id).order_by(Task.id))
    return list(rows)


async def all_done(session: AsyncSession, dialog_id: int) -> bool:
    """Every task of the plan is done (and there is at least one)."""
    rows = (await session.execute(
        select(Task.status, func.count()).where(Task.dialog_id == dialog_id).group_by(Task.status))).all()
    counts = dict(rows)
    return bool(counts) and set(counts) == {DONE}


# ---- the consent givers' answers ------------------------------------------------------------


def consent_givers(dialog: Dialog) -> list[Participant]:
    return [p for p in dialog.participants if p.consent_giver and p.joined_at is not None
            and p.person_id is not None]


async def answers_for(session: AsyncSession, dialog_id: int, version: int) -> dict[int, PlanAnswer]:
    """Each consent giver's latest answer to one version."""
    rows = await session.scalars(
        select(PlanAnswer).where(PlanAnswer.dialog_id == dialog_id, PlanAnswer.plan_version == version)
        .order_by(PlanAnswer.id))
    return {a.participant_id: a for a in rows}


async def record_answer(session: AsyncSession, dialog: Dialog, participant: Participant, version: int,
                        agrees: bool, comment: str | None, now: datetime) -> PlanAnswer:
    answer = PlanAnswer(dialog_id=dialog.id, plan_version=version, participant_id=participant.id,
                        agrees=agrees, comment=comment, created_at=now)
    session.add(answer)
    await session.flush()
    return answer


def task_owners(dialog: Dialog) -> list[Participant]:
    """Who can be responsible for a task: everyone who has joined the dialog."""
    return [p for p in dialog.participants if p.joined_at is not None and p.person_id is not None]


def review_key(dialog_id: int, version: int, participant_id: int) -> str:
    """The outbox key of one version's review notice to one consent giver."""
    return f"plan:{dialog_id}:v{version}:review:{participant_id}"


async def review_sent(session: AsyncSession, dialog: Dialog, participant_id: int) -> bool:
    """Whether the current version was sent to this consent giver (exact key on the unique index)."""
    key = review_key(dialog.id, dialog.plan_version, participant_id)
    return await session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None


async def everyone_agrees(session: AsyncSession, dialog: Dialog, version: int) -> bool:
    givers = consent_givers(dialog)
    if not givers:
        return False
    answers = await answers_for(session, dialog.id, version)
    return all(answers.get(p.id) is not None and answers[p.id].agrees for p in givers)


# ---- overdue tasks --------------------------------------------------------------------------


def overdue_query(today: date, since: date):  # type: ignore[no-untyped-def]
    """Not-done tasks of accepted plans in active dialogs whose end date passed (on or after `since`),
    with the coordinator to tell. Walks ix_task_open_end (status, ends_on); the dialog join only filters.
    """
    return (
        select(Task, Dialog.coordinator_id).join(Dialog, Dialog.id == Task.dialog_id)
        .where(Task.status.in_(NOT_DONE), Task.ends_on < today, Task.ends_on >= since,
               Dialog.state == ACTIVE, Dialog.plan_version > 0,
               Dialog.plan_accepted_version == Dialog.plan_version)
        .order_by(Task.dialog_id, Task.ends_on, Task.id))


async def overdue_tasks(session: AsyncSession, today: date, since: date) -> list[tuple[Task, int]]:
    rows = await session.execute(overdue_query(today, since))
    return [(task, coordinator_id) for task, coordinator_id in rows.all()]


OVERDUE_KIND = "overdue_digest"


def overdue_mark(task: Task) -> str:
    """How a digest remembers a task: its id and the end date it was overdue against."""
    return f"{task.id}:{task.ends_on.isoformat()}"


async def reported_overdue(session: AsyncSession, person_id: int) -> set[str]:
    """The tasks already in one of this coordinator's digests (by person_id, indexed)."""
    rows = await session.scalars(select(OutboxMessage.payload).where(
        OutboxMessage.person_id == person_id, OutboxMessage.kind == OVERDUE_KIND))
    seen: set[str] = set()
    for raw in rows:
        seen.update(json.loads(raw or "{}").get("tasks", []))
    return seen
