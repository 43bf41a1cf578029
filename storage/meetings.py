"""Meetings (dialogmøder), the answers to them, and the rounds they end.

One meeting per dialog is scheduled or open at a time. Moving a meeting bumps
its `version`, so notices and reminders written for the old time lapse. Closing
an open meeting ends the round and starts the next one. Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Dialog,
    DialogRound,
    InputEntry,
    Meeting,
    MeetingAttendance,
    MeetingResponse,
    Participant,
    Score,
)

SCHEDULED, OPEN, CLOSED, CANCELLED = "scheduled", "open", "closed", "cancelled"
LIVE = (SCHEDULED, OPEN)
# Who was at a meeting (recorded when closing it); one tap moves a person to the next.
PRESENT, APOLOGIES, ABSENT = "present", "apologies", "absent"
ATTENDANCE = (PRESENT, APOLOGIES, ABSENT)


async def live_meeting(session: AsyncSession, dialog_id: int) -> Meeting | None:
    """The dialog's scheduled or open meeting, if any (there is at most one)."""
    return await session.scalar(
        select(Meeting).where(Meeting.dialog_id == dialog_id, Meeting.status.in_(LIVE))
        .order_by(Meeting.id.desc()).limit(1))


async def create_meeting(session: AsyncSession, dialog: Dialog, starts_at: datetime, place: str,
                         now: datetime) -> Meeting:
    meeting = Meeting(dialog_id=dialog.id, round_no=dialog.round_no, starts_at=starts_at, place=place,
                      status=SCHEDULED, version=1, created_at=now)
    session.add(meeting)
    await session.flush()
    return meeting


async def move_meeting(session: AsyncSession, meeting: Meeting, starts_at: datetime, place: str) -> None:
    """A new time (and place): a new version, and earlier answers no longer hold."""
    meeting.starts_at = starts_at
    meeting.place = place
    meeting.version += 1
    await session.execute(delete(MeetingResponse).where(MeetingResponse.meeting_id == meeting.id))
    await session.flush()


async def responses(session: AsyncSession, meeting_id: int) -> dict[int, MeetingResponse]:
    rows = await session.scalars(select(MeetingResponse).where(MeetingResponse.meeting_id == meeting_id))
    return {r.participant_id: r for r in rows}


async def response_of(session: AsyncSession, meeting_id: int, participant_id: int) -> MeetingResponse | None:
    return await session.scalar(select(MeetingResponse).where(
        MeetingResponse.meeting_id == meeting_id, MeetingResponse.participant_id == participant_id))


async def answer(session: AsyncSession, meeting: Meeting, participant: Participant, coming: bool,
                 now: datetime) -> bool:
    """Record Jeg kommer / Jeg kan ikke. False if it was already the answer."""
    current = await response_of(session, meeting.id, participant.id)
    if current is not None and current.coming == coming:
        return False
    if current is None:
        session.add(MeetingResponse(meeting_id=meeting.id, participant_id=participant.id,
                                    coming=coming, answered_at=now))
    else:
        current.coming = coming
        current.answered_at = now
    await session.flush()
    return True


# ---- who was there ------------------------------------------------------------------------


async def attendance(session: AsyncSession, meeting_id: int) -> dict[int, str]:
    """participant id -> present | apologies | absent, as recorded so far."""
    rows = await session.scalars(select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id))
    return {r.participant_id: r.status for r in rows}


async def set_attendance(session: AsyncSession, meeting_id: int, participant_id: int, status: str) -> None:
    row = await session.scalar(select(MeetingAttendance).where(
        MeetingAttendance.meeting_id == meeting_id, MeetingAttendance.participant_id == participant_id))
    if row is None:
        session.add(MeetingAttendance(meeting_id=meeting_id, participant_id=participant_id, status=status))
    else:
        row.status = status
    await session.flush()


# ---- rounds and what each participant has given ----------------------------------------------


async def round_row(session: AsyncSession, dialog_id: int, round_no: int, now: datetime) -> DialogRound:
    row = await session.scalar(select(DialogRound).where(
        DialogRound.dialog_id == dialog_id, DialogRound.round_no == round_no))
    if row is None:
        row = DialogRound(dialog_id=dialog_id, round_no=round_no, started_at=now)
        session.add(row)
        await session.flush()
    return row


async def latest_target(session: AsyncSession, dialog: Dialog) -> DialogRound | None:
    """The joint target of this round, else of the latest earlier round that set one."""
    return await session.scalar(
        select(DialogRound).where(DialogRound.dialog_id == dialog.id, DialogRound.round_no <= dialog.round_no,
                                  DialogRound.joint_target.is_not(None))
        .order_by(DialogRound.round_no.desc()).limit(1))


async def has_shared_input(session: AsyncSession, participant_id: int, round_no: int) -> bool:
    return bool(await session.scalar(select(exists().where(
        InputEntry.participant_id == participant_id, InputEntry.round_no == round_no,
        InputEntry.shared_at.is_not(None)))))


async def has_score(session: AsyncSession, participant_id: int, round_no: int) -> bool:
    return bool(await session.scalar(select(exists().where(
        Score.participant_id == participant_id, Score.round_no == round_no))))


async def shared_input_authors(session: AsyncSession, dialog_id: int, round_no: int) -> set[int]:
    rows = await session.scalars(select(InputEntry.participant_id).where(
        InputEntry.dialog_id == dialog_id, InputEntry.round_no == round_no,
        InputEntry.shared_at.is_not(None)).distinct())
    return set(rows)


def open_meeting(meeting: Meeting, now: datetime) -> None:
    meeting.status = OPEN
    meeting.opened_at = now


async def close_meeting(session: AsyncSession, meeting: Meeting, dialog: Dialog, now: datetime) -> DialogRound:
    """The meeting ends its round; the next round starts. Returns the new round."""
    meeting.status = CLOSED
    meeting.closed_at = now
    ended = await round_row(session, dialog.id, meeting.round_no, now)
    ended.ended_at = now
    if dialog.round_no == meeting.round_no:
        dialog.round_no += 1
    new = await round_row(session, dialog.id, dialog.round_no, now)
    # Drafts nobody shared before the meeting are not lost: they move to the new round,
    # where their authors find them under /input.
    await session.execute(
        update(InputEntry)
        .where(InputEntry.dialog_id == dialog.id, InputEntry.round_no == meeting.round_no,
               InputEntry.shared_at.is_(None))
        .values(round_no=dialog.round_no)
        .execution_options(synchronize_session=False))
    await session.flush()
    return new


def cancel_meeting(meeting: Meeting) -> None:
    meeting.status = CANCELLED
