"""Dialogmøde (`/moede`): what the coordinator and the participants do with a meeting.

The coordinator calls a meeting (time and place) and everyone joined is invited; moves it
(everyone is asked again) or cancels it; on the day opens it, sets the joint target on the
ruler and closes it, which ends the round, starts the next and queues the meeting report
(referat). Participants answer the invitation (Jeg kommer / Jeg kan ikke); someone who joins
after a meeting was called gets the invitation and the reminders too.

Each function takes the update's session and plain values, applies the rules, writes through
storage/meetings.py, queues notices and returns what happened; handlers/meetings.py renders
it. Outbox keys of one meeting all start with ``meet:{meeting_id}:`` and carry the meeting's
version (``meet:{id}:v{version}:...``), so moving a meeting cancels what was written for the
old time with one prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum, auto
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from reports.referat import queue_referat
from rules.cpr import contains_cpr
from rules.dates import at_local
from rules.roles import COORDINATOR
from storage import meetings as mt
from storage import outbox
from storage.models import Dialog, Meeting, Participant, Person

if TYPE_CHECKING:
    from core.config import Settings
    from core.notices import Notices
    from rules.dialog_config import DialogConfig


class Outcome(Enum):
    """What became of a coordinator's step with a meeting."""

    DONE = auto()
    NOT_SCHEDULED = auto()  # started, closed or cancelled since the button was sent
    NOT_OPEN = auto()  # not under way (not started yet, or closed)
    TOO_EARLY = auto()  # a meeting is started on its own day, not before
    OFF_THE_RULER = auto()  # a joint target no button offers: a made-up button


class Call(Enum):
    """What became of a confirmed summary (a new meeting, or a move)."""

    INVITED = auto()
    MOVED = auto()
    IN_THE_PAST = auto()  # the time passed while the summary waited: asked for again
    ALREADY_SCHEDULED = auto()  # another meeting was called in this dialog meanwhile
    CHANGED = auto()  # the meeting being moved was moved, started or cancelled meanwhile


@dataclass(frozen=True)
class Called:
    outcome: Call
    meeting: Meeting | None = None
    invited: int = 0  # how many were told


@dataclass(frozen=True)
class Closed:
    outcome: Outcome
    next_round: int = 0  # the round that has begun
    next_meeting: Called | None = None  # the next meeting, when it was called with the close


class Rsvp(Enum):
    """What became of an answer to the invitation."""

    RECORDED = auto()
    UNCHANGED = auto()  # it was already the answer
    MOVED = auto()  # an invitation to an earlier time of the meeting
    NOT_SCHEDULED = auto()  # the meeting was started, closed or cancelled
    STALE = auto()  # no such meeting, the coordinator's own seat, or a made-up answer


@dataclass(frozen=True)
class Answered:
    outcome: Rsvp
    meeting: Meeting | None = None


# ---- rules of the flow ---------------------------------------------------------------------------


def invitees(dialog: Dialog) -> list[Participant]:
    """Who is called to the meeting: every joined participant but the coordinator, who leads it."""
    return [p for p in dialog.participants
            if p.joined_at is not None and p.person_id is not None and p.role != COORDINATOR]


def attendees(dialog: Dialog) -> list[Participant]:
    """Who can be at the meeting: the invited, and those who take part without Telegram
    (they are told by the coordinator, and their attendance is recorded all the same)."""
    return [p for p in dialog.participants
            if p.joined_at is not None and (p.person_id is not None or p.offline) and p.role != COORDINATOR]


def local_date(dt: datetime, settings: Settings) -> date:
    return dt.astimezone(settings.tz).date()


def may_start(meeting: Meeting, now: datetime, settings: Settings) -> bool:
    """A meeting is started on its own day (local time) or later."""
    return local_date(now, settings) >= local_date(meeting.starts_at, settings)


def reminder_time(meeting: Meeting, days: int, settings: Settings) -> datetime:
    day = local_date(meeting.starts_at, settings) - timedelta(days=days)
    return at_local(day, time(settings.reminder_hour), settings.tz)


async def meeting_of(session: AsyncSession, dialog: Dialog, meeting_id: int) -> Meeting | None:
    """The meeting a button names, if it is one of `dialog`'s (else the button is stale)."""
    meeting = await session.get(Meeting, meeting_id) if meeting_id else None
    return meeting if meeting is not None and meeting.dialog_id == dialog.id else None


# ---- calling, moving, cancelling ------------------------------------------------------------------


async def call_meeting(session: AsyncSession, notices: Notices, settings: Settings, dialog: Dialog,
                       starts_at: datetime, place: str, now: datetime) -> Called:
    """A new meeting at `starts_at` in `place`; everyone who takes part is invited."""
    if starts_at <= now:
        return Called(Call.IN_THE_PAST)
    if await mt.live_meeting(session, dialog.id) is not None:
        return Called(Call.ALREADY_SCHEDULED)
    meeting = await mt.create_meeting(session, dialog, starts_at, place, now)
    invited = await _tell_everyone(session, notices, settings, dialog, meeting, "meeting_notice", now)
    return Called(Call.INVITED, meeting, invited)


async def move_meeting(session: AsyncSession, notices: Notices, settings: Settings, dialog: Dialog,
                       meeting_id: int, version: int, starts_at: datetime, place: str,
                       now: datetime) -> Called:
    """The meeting (as it was at `version`) moves to `starts_at` in `place`: what was written
    for the old time lapses, earlier answers no longer hold, and everyone is asked again."""
    if starts_at <= now:
        return Called(Call.IN_THE_PAST)
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or meeting.dialog_id != dialog.id or meeting.status != mt.SCHEDULED \
            or meeting.version != version:
        return Called(Call.CHANGED)
    await outbox.cancel(session, dialog_id=dialog.id, key_prefix=f"meet:{meeting.id}:v{meeting.version}:")
    await mt.move_meeting(session, meeting, starts_at, place)
    invited = await _tell_everyone(session, notices, settings, dialog, meeting, "meeting_moved", now)
    return Called(Call.MOVED, meeting, invited)


async def _tell_everyone(session: AsyncSession, notices: Notices, settings: Settings, dialog: Dialog,
                         meeting: Meeting, kind: str, now: datetime) -> int:
    called = invitees(dialog)
    for other in called:
        await notices.add(session, to=other, kind=kind,
                          key=f"meet:{meeting.id}:v{meeting.version}:notice:{other.id}",
                          payload={"meeting_id": meeting.id, "version": meeting.version})
    await write_input_reminders(session, notices, settings, dialog, meeting, now)
    return len(called)


async def cancel_meeting(session: AsyncSession, notices: Notices, dialog: Dialog, meeting: Meeting) -> Outcome:
    """A scheduled meeting is called off: what was written for it lapses, everyone is told."""
    if meeting.status != mt.SCHEDULED:
        return Outcome.NOT_SCHEDULED
    await outbox.cancel(session, dialog_id=dialog.id, key_prefix=f"meet:{meeting.id}:")
    mt.cancel_meeting(meeting)
    for other in invitees(dialog):
        await notices.add(session, to=other, kind="meeting_cancelled",
                          key=f"meet:{meeting.id}:cancelled:{other.id}", payload={"meeting_id": meeting.id})
    return Outcome.DONE


# ---- Jeg kommer / Jeg kan ikke ---------------------------------------------------------------------


async def answer_invitation(session: AsyncSession, notices: Notices, settings: Settings, seat: Participant,
                            meeting_id: int, version: int, coming: int, now: datetime) -> Answered:
    """`seat` answers the invitation to the meeting at `version` (1: coming, 0: can't come).

    The coordinator hears of it with the running count; someone coming is reminded the day before.
    """
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or meeting.dialog_id != seat.dialog_id or seat.role == COORDINATOR \
            or coming not in (0, 1):
        return Answered(Rsvp.STALE, meeting)
    if meeting.status != mt.SCHEDULED:
        return Answered(Rsvp.NOT_SCHEDULED, meeting)
    if meeting.version != version:
        return Answered(Rsvp.MOVED, meeting)
    if not await mt.answer(session, meeting, seat, bool(coming), now):
        return Answered(Rsvp.UNCHANGED, meeting)
    dialog = seat.dialog
    coordinator = await session.get(Person, dialog.coordinator_id)
    stamp = now.strftime("%Y%m%d%H%M%S%f")
    await notices.add(session, to=coordinator, kind="meeting_rsvp", dialog_id=dialog.id,
                      key=f"meet:{meeting.id}:v{meeting.version}:rsvp:{seat.id}:{coming}:{stamp}",
                      payload={"meeting_id": meeting.id, "version": meeting.version, "participant_id": seat.id,
                               "coming": bool(coming)})
    if coming:
        due = reminder_time(meeting, 1, settings)
        if now < due < meeting.starts_at:
            await notices.add(session, to=seat, kind="meeting_day_before",
                              key=f"meet:{meeting.id}:v{meeting.version}:daybefore:{seat.id}",
                              payload={"meeting_id": meeting.id, "version": meeting.version,
                                       "participant_id": seat.id}, due_at=due)
    return Answered(Rsvp.RECORDED, meeting)


# ---- during the meeting ----------------------------------------------------------------------------


async def open_meeting(session: AsyncSession, settings: Settings, dialog: Dialog, meeting: Meeting,
                       now: datetime) -> Outcome:
    """The coordinator starts the meeting on its day: the reminders still waiting lapse."""
    if meeting.status != mt.SCHEDULED:
        return Outcome.NOT_SCHEDULED
    if not may_start(meeting, now, settings):
        return Outcome.TOO_EARLY
    mt.open_meeting(meeting, now)
    await outbox.cancel(session, dialog_id=dialog.id, key_prefix=f"meet:{meeting.id}:v{meeting.version}:")
    return Outcome.DONE


async def set_target(session: AsyncSession, dialog: Dialog, meeting: Meeting, value: int,
                     now: datetime) -> Outcome:
    """The joint target of the meeting's round, 1-10 on the ruler."""
    if meeting.status != mt.OPEN:
        return Outcome.NOT_OPEN
    if not 1 <= value <= 10:
        return Outcome.OFF_THE_RULER
    row = await mt.round_row(session, dialog.id, meeting.round_no, now)
    row.joint_target, row.target_set_at = value, now
    return Outcome.DONE


# ---- closing: who was there, what was decided, the next meeting ----------------------------------

SUMMARY_LIMIT = 3000
CASE_REF_LIMIT = 40


def prefill(status: str | None, coming: bool | None) -> str:
    """Who was there, before the coordinator changes it: the answer to the invitation
    (coming: present; can't come: sent apologies; no answer: absent)."""
    if status in mt.ATTENDANCE:
        return status  # type: ignore[return-value]
    if coming is None:
        return mt.ABSENT
    return mt.PRESENT if coming else mt.APOLOGIES


async def attendance_of(session: AsyncSession, dialog: Dialog, meeting: Meeting) -> dict[int, str]:
    """Every invited participant's attendance: as recorded, else prefilled from their answer."""
    recorded = await mt.attendance(session, meeting.id)
    answers = await mt.responses(session, meeting.id)
    return {p.id: prefill(recorded.get(p.id), answers[p.id].coming if p.id in answers else None)
            for p in attendees(dialog)}


async def toggle_attendance(session: AsyncSession, dialog: Dialog, meeting: Meeting,
                            participant_id: int) -> Outcome:
    """One tap: present -> sent apologies -> absent -> present."""
    if meeting.status != mt.OPEN:
        return Outcome.NOT_OPEN
    now_is = await attendance_of(session, dialog, meeting)
    if participant_id not in now_is:
        return Outcome.OFF_THE_RULER  # not someone invited: a made-up button
    order = mt.ATTENDANCE
    await mt.set_attendance(session, meeting.id, participant_id,
                            order[(order.index(now_is[participant_id]) + 1) % len(order)])
    return Outcome.DONE


async def record_attendance(session: AsyncSession, dialog: Dialog, meeting: Meeting,
                            marks: dict[int, str]) -> Outcome:
    """Who was there, several people at once (the Mini App's closing page): participant id ->
    present | apologies | absent. Nothing is recorded if one of them is not someone invited."""
    if meeting.status != mt.OPEN:
        return Outcome.NOT_OPEN
    invited = await attendance_of(session, dialog, meeting)
    if any(pid not in invited or status not in mt.ATTENDANCE for pid, status in marks.items()):
        return Outcome.OFF_THE_RULER  # a made-up person or mark
    for pid, status in marks.items():
        await mt.set_attendance(session, meeting.id, pid, status)
    return Outcome.DONE


def record_summary(meeting: Meeting, text: str | None) -> Outcome:
    """What was discussed and decided (checked by the caller: no CPR number, within the limit)."""
    if meeting.status != mt.OPEN:
        return Outcome.NOT_OPEN
    meeting.summary = text or None
    return Outcome.DONE


def case_ref_problem(text: str) -> str | None:
    """Why `text` cannot be a case reference (None: it can): too long, or a CPR number."""
    if len(text) > CASE_REF_LIMIT:
        return "too_long"
    if contains_cpr(text) or contains_cpr(text.replace(".", "")):
        return "cpr"
    if not any(ch.isalnum() for ch in text):
        return "empty"
    return None


def set_case_ref(dialog: Dialog, text: str | None) -> str | None:
    """The dialog's case reference (sagsnummer), one line; returns the problem, or None when set."""
    value = " ".join((text or "").split())
    if value:
        problem = case_ref_problem(value)
        if problem is not None:
            return problem
    dialog.case_ref = value or None
    return None


async def close_meeting(session: AsyncSession, notices: Notices, config: DialogConfig, settings: Settings,
                        dialog: Dialog, meeting: Meeting, now: datetime, *,
                        next_at: datetime | None = None, next_place: str | None = None) -> Closed:
    """The meeting ends its round and the next begins; who was there is fixed as recorded (or
    prefilled from the answers); the next meeting, if given, is called; everyone is told, and
    the report (referat) is read and rendered now, in this transaction: the outbox sends it to
    everyone after the commit."""
    if meeting.status != mt.OPEN:
        return Closed(Outcome.NOT_OPEN)
    for pid, status in (await attendance_of(session, dialog, meeting)).items():
        await mt.set_attendance(session, meeting.id, pid, status)
    new_round = await mt.close_meeting(session, meeting, dialog, now)
    for p in invitees(dialog):
        await notices.add(session, to=p, kind="meeting_closed", key=f"meet:{meeting.id}:closed:{p.id}",
                          payload={"meeting_id": meeting.id})
    called = None
    if next_at is not None and next_place:
        called = await call_meeting(session, notices, settings, dialog, next_at, next_place, now)
    await queue_referat(session, notices, meeting, config=config, settings=settings, now=now)
    return Closed(Outcome.DONE, new_round.round_no, called)


# ---- reminders and those who join later -----------------------------------------------------------


async def write_input_reminders(session: AsyncSession, notices: Notices, settings: Settings, dialog: Dialog,
                                meeting: Meeting, now: datetime) -> None:
    """'Husk at give dit input og din skalering' rows; whether to send is decided when they are due."""
    for days in sorted(set(settings.meeting_reminder_days), reverse=True):
        due = reminder_time(meeting, days, settings)
        if due <= now or due >= meeting.starts_at:
            continue
        for p in invitees(dialog):
            await notices.add(session, to=p, kind="meeting_input_reminder",
                              key=f"meet:{meeting.id}:v{meeting.version}:remind{days}:{p.id}",
                              payload={"meeting_id": meeting.id, "version": meeting.version,
                                       "participant_id": p.id}, due_at=due)


async def call_newcomer(session: AsyncSession, notices: Notices, settings: Settings, dialog: Dialog,
                        newcomer: Participant, now: datetime) -> None:
    """Someone joins after the meeting was called: they get the invitation (Jeg kommer /
    Jeg kan ikke) and the same input reminders as everyone else."""
    meeting = await mt.live_meeting(session, dialog.id)
    if meeting is None or meeting.status != mt.SCHEDULED or meeting.starts_at <= now \
            or newcomer.joined_at is None or newcomer.role == COORDINATOR:
        return
    await notices.add(session, to=newcomer, kind="meeting_notice",
                      key=f"meet:{meeting.id}:v{meeting.version}:notice:{newcomer.id}",
                      payload={"meeting_id": meeting.id, "version": meeting.version})
    await write_input_reminders(session, notices, settings, dialog, meeting, now)  # the others' exist: kept
