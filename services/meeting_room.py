"""Mødetilstand: what the coordinator sees in the meeting (the Mini App's meeting page).

The joint ruler now (everyone's latest number this round and the joint target) and the plan
(goals with their tasks and who can own a task). Changes go through the same use cases as
the chat: services/meetings.py (the target) and services/plan.py (goals, tasks, sending).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from rules.dialog_config import DialogConfig, Ruler
from storage import inputs
from storage import meetings as mt
from storage import plan as pl
from storage.models import Goal, Meeting, Participant


@dataclass(frozen=True)
class Room:
    seat: Participant  # the coordinator's
    meeting: Meeting | None  # the live one (scheduled or open), if any
    numbers: dict[int, int]  # participant id -> latest number this round
    target: int | None  # the joint target set for this round, if any
    goals: list[Goal]  # with their tasks, in the areas' order
    owners: list[Participant]  # who can be responsible for a task
    ruler: Ruler
    plan_agreed: bool


async def room(session: AsyncSession, seat: Participant, config: DialogConfig) -> Room:
    dialog = seat.dialog
    latest = await inputs.latest_scores(session, dialog, dialog.round_no)
    row = await mt.latest_target(session, dialog)
    target = row.joint_target if row is not None and row.round_no == dialog.round_no else None
    goals = pl.sort_goals(await pl.goals_of(session, dialog.id), [a.key for a in config.areas])
    return Room(seat=seat, meeting=await mt.live_meeting(session, dialog.id),
                numbers={pid: s.value for pid, s in latest.items()}, target=target, goals=goals,
                owners=pl.task_owners(dialog), ruler=config.ruler(dialog.age_group),
                plan_agreed=pl.is_accepted(dialog))
