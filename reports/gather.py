"""Reading what a document shows, inside the caller's session, into plain data (reports/model.py).

Only shared input is ever read (storage.inputs.shared_entries: never drafts), and
only of the one dialog asked for. `as_of` cuts input and scores at a moment (a
referral shows what the consent givers were asked to approve).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from reports.model import (
    DialogInfo,
    Entry,
    MeetingInfo,
    PlanGoal,
    PlanInfo,
    PlanTask,
    RoundScores,
    Who,
)
from rules.roles import COORDINATOR
from storage import inputs
from storage import meetings as mt
from storage import plan as pl
from storage.models import Dialog, DialogRound, Goal, Meeting, OutboxMessage, Participant, Score


def who(p: Participant) -> Who:
    return Who(id=p.id, name=p.name, role=p.role, relation=p.relation, joined=p.joined_at is not None,
               consent_giver=p.consent_giver)


def participants(dialog: Dialog) -> tuple[Who, ...]:
    """Everyone with a seat, the coordinator first."""
    seats = sorted(dialog.participants, key=lambda p: (p.role != COORDINATOR, p.id))
    return tuple(who(p) for p in seats)


def dialog_info(dialog: Dialog, settings: Settings) -> DialogInfo:
    coordinator = next((p for p in dialog.participants if p.role == COORDINATOR), None)
    return DialogInfo(
        id=dialog.id, child_name=dialog.child_name, age_group=dialog.age_group, purpose=dialog.purpose,
        purpose_updated_at=dialog.purpose_updated_at, round_no=dialog.round_no,
        municipality=settings.municipality_name, coordinator=who(coordinator) if coordinator else None,
        activated_at=dialog.activated_at, case_ref=getattr(dialog, "case_ref", None),
    )


async def round_entries(session: AsyncSession, dialog: Dialog, round_no: int, area: str | None = None,
                        as_of: datetime | None = None) -> tuple[Entry, ...]:
    """Shared input of one round of this dialog (never drafts), in the order it was shared."""
    rows = await inputs.shared_entries(session, dialog, round_no, area)
    return tuple(
        Entry(id=e.id, area=e.area, author=who(e.participant), shared_at=e.shared_at,
              worries=e.worries or "", works=e.works or "", next_steps=e.next_steps or "",
              by_coordinator=e.written_by_id is not None)
        for e in rows
        if e.shared_at is not None and e.dialog_id == dialog.id and (as_of is None or e.shared_at <= as_of)
    )


async def latest_input_round(session: AsyncSession, dialog: Dialog, as_of: datetime | None = None) -> int:
    """The newest round with shared input (the current round when there is none yet)."""
    for round_no in range(dialog.round_no, 0, -1):
        if await round_entries(session, dialog, round_no, as_of=as_of):
            return round_no
    return dialog.round_no


async def score_history(session: AsyncSession, dialog: Dialog, upto_round: int,
                        as_of: datetime | None = None) -> tuple[RoundScores, ...]:
    """Rounds 1..upto_round: each participant's latest score and the joint target."""
    stmt = select(Score).where(Score.dialog_id == dialog.id, Score.round_no <= upto_round)
    if as_of is not None:
        stmt = stmt.where(Score.created_at <= as_of)
    by_round: dict[int, dict[int, int]] = {r: {} for r in range(1, upto_round + 1)}
    for_them: dict[int, set[int]] = {}  # round -> participants whose latest number the coordinator put
    for score in await session.scalars(stmt.order_by(Score.id)):
        by_round.setdefault(score.round_no, {})[score.participant_id] = score.value
        marked = for_them.setdefault(score.round_no, set())
        (marked.add if score.written_by_id is not None else marked.discard)(score.participant_id)
    targets = {
        row.round_no: row.joint_target
        for row in await session.scalars(select(DialogRound).where(
            DialogRound.dialog_id == dialog.id, DialogRound.round_no <= upto_round))
        if row.joint_target is not None and (as_of is None or row.target_set_at is None
                                             or row.target_set_at <= as_of)
    }
    meetings: dict[int, Meeting] = {}
    for m in await session.scalars(select(Meeting).where(
            Meeting.dialog_id == dialog.id, Meeting.round_no <= upto_round,
            Meeting.status.in_((mt.CLOSED, *mt.LIVE))).order_by(Meeting.id)):
        if m.round_no not in meetings or meetings[m.round_no].status != mt.CLOSED:
            meetings[m.round_no] = m  # the closed meeting of a round, else its planned one
    return tuple(RoundScores(r, by_round.get(r, {}), targets.get(r),
                             meetings[r].starts_at if r in meetings else None,
                             frozenset(for_them.get(r, ())))
                 for r in range(1, upto_round + 1))


async def plan_info(session: AsyncSession, dialog: Dialog, as_of: datetime | None = None) -> PlanInfo:
    goals: list[Goal] = await pl.goals_of(session, dialog.id)
    out = []
    for goal in goals:
        if as_of is not None and goal.created_at > as_of:
            continue
        tasks = tuple(
            PlanTask(what=t.what, owner=who(t.owner), starts_on=t.starts_on, ends_on=t.ends_on,
                     status=t.status, done_at=t.done_at)
            for t in goal.tasks if as_of is None or t.created_at <= as_of
        )
        out.append(PlanGoal(area=goal.area, text=goal.text, tasks=tasks))
    sent = bool(dialog.plan_version) and bool(await session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.dialog_id == dialog.id,
            OutboxMessage.key.startswith(pl.review_key(dialog.id, dialog.plan_version, 0).rsplit(":", 1)[0] + ":"))
        .limit(1)))
    return PlanInfo(goals=tuple(out), version=dialog.plan_version, accepted=pl.is_accepted(dialog), sent=sent)


async def meeting_info(session: AsyncSession, meeting: Meeting) -> MeetingInfo:
    answers = await mt.responses(session, meeting.id)
    return MeetingInfo(
        id=meeting.id, round_no=meeting.round_no, starts_at=meeting.starts_at, place=meeting.place,
        status=meeting.status, closed_at=meeting.closed_at,
        responses={pid: r.coming for pid, r in answers.items()},
        attendance=await mt.attendance(session, meeting.id), summary=meeting.summary or "",
    )


async def latest_closed_meeting(session: AsyncSession, dialog_id: int) -> Meeting | None:
    return await session.scalar(
        select(Meeting).where(Meeting.dialog_id == dialog_id, Meeting.status == mt.CLOSED)
        .order_by(Meeting.round_no.desc(), Meeting.id.desc()).limit(1))


async def next_meeting(session: AsyncSession, dialog: Dialog, after: Meeting | None) -> Meeting | None:
    """The scheduled or open meeting after `after` (the one a referat names as the next)."""
    live = await mt.live_meeting(session, dialog.id)
    if live is None or (after is not None and (live.id == after.id or live.round_no <= after.round_no)):
        return None
    return live
