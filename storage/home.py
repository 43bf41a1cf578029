"""Reads for the home card and the next step (services/home.py): what a person's seats stand at.

Each function reads for all the given seats at once, so a person's home costs the same few
queries whether they are in one dialog or in twenty. Nothing here commits or writes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import plan as pl
from storage.inputs import SEAT_IN_SESSION
from storage.meetings import LIVE
from storage.models import (
    Consent,
    InputEntry,
    Meeting,
    MeetingResponse,
    OutboxMessage,
    Participant,
    PlanAnswer,
    Score,
    Task,
)


def _this_round(column_pid, column_round, seats: Sequence[Participant]):  # type: ignore[no-untyped-def]
    """Rows of each seat in its dialog's current round."""
    return or_(*(and_(column_pid == s.id, column_round == s.dialog.round_no) for s in seats))


async def latest_consents(session: AsyncSession, participant_ids: Sequence[int]) -> dict[int, str]:
    """Each seat's latest consent answer (seats that never answered are missing)."""
    if not participant_ids:
        return {}
    last = (select(func.max(Consent.id)).where(Consent.participant_id.in_(participant_ids))
            .group_by(Consent.participant_id))
    rows = await session.execute(select(Consent.participant_id, Consent.answer).where(Consent.id.in_(last)))
    return {pid: answer for pid, answer in rows.all()}


async def entries_this_round(session: AsyncSession, seats: Sequence[Participant]) -> list[InputEntry]:
    """The seats' own input entries (drafts and shared) of their dialogs' current rounds."""
    if not seats:
        return []
    rows = await session.scalars(select(InputEntry).where(
        _this_round(InputEntry.participant_id, InputEntry.round_no, seats)).order_by(InputEntry.id)
        .options(*SEAT_IN_SESSION))  # the seats given are in the session, with their dialogs
    return list(rows)


async def scored_this_round(session: AsyncSession, seats: Sequence[Participant]) -> set[int]:
    """The seats with a number on the ruler in their dialogs' current rounds."""
    if not seats:
        return set()
    rows = await session.scalars(select(Score.participant_id).where(
        _this_round(Score.participant_id, Score.round_no, seats)).distinct())
    return set(rows)


async def live_meetings(session: AsyncSession, dialog_ids: Sequence[int]) -> dict[int, Meeting]:
    """Each dialog's scheduled or open meeting (there is at most one)."""
    if not dialog_ids:
        return {}
    rows = await session.scalars(select(Meeting).where(
        Meeting.dialog_id.in_(dialog_ids), Meeting.status.in_(LIVE)).order_by(Meeting.id))
    return {m.dialog_id: m for m in rows}


async def answered_meetings(session: AsyncSession, meeting_ids: Sequence[int],
                            participant_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(meeting id, seat id) of the answers these seats gave to these meetings."""
    if not meeting_ids or not participant_ids:
        return set()
    rows = await session.execute(select(MeetingResponse.meeting_id, MeetingResponse.participant_id).where(
        MeetingResponse.meeting_id.in_(meeting_ids), MeetingResponse.participant_id.in_(participant_ids)))
    return {(m, p) for m, p in rows.all()}


async def plans_to_answer(session: AsyncSession, seats: Sequence[Participant]) -> set[int]:
    """The consent givers' seats to whom the current plan was sent and who have not answered it."""
    waiting = [s for s in seats if s.consent_giver and s.dialog.plan_version > 0 and not pl.is_accepted(s.dialog)]
    if not waiting:
        return set()
    keys = {pl.review_key(s.dialog_id, s.dialog.plan_version, s.id): s.id for s in waiting}
    sent = set(await session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(list(keys)))))
    answered = set(await session.scalars(select(PlanAnswer.participant_id).where(or_(*(
        and_(PlanAnswer.participant_id == s.id, PlanAnswer.dialog_id == s.dialog_id,
             PlanAnswer.plan_version == s.dialog.plan_version) for s in waiting)))))
    return {pid for key, pid in keys.items() if key in sent and pid not in answered}


async def open_tasks(session: AsyncSession, seats: Sequence[Participant]) -> list[Task]:
    """Tasks not done that the seats hold, in plans in force."""
    holders = [s.id for s in seats if pl.is_accepted(s.dialog)]
    if not holders:
        return []
    rows = await session.scalars(select(Task).where(Task.owner_id.in_(holders), Task.status.in_(pl.NOT_DONE))
                                 .order_by(Task.ends_on, Task.id))
    return list(rows)
