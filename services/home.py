"""The home card and the next step: what is next for a person, in each of their dialogs.

`home` gathers the facts about every seat a person holds with a fixed handful of queries
(storage/home.py), whatever the number of dialogs, and asks the rule (rules/next_step.py)
for each; `next_for` does the same for one seat (the "next step" offered after each step).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from rules import consent as consent_rules
from rules.access import ACTIVE, CLOSED
from rules.next_step import DUE_SOON_DAYS, NextStep, SeatFacts, Step, TaskFact, next_step
from rules.roles import COORDINATOR
from storage import home as hm
from storage import inputs
from storage import meetings as mt
from storage import queries as q
from storage.models import Meeting, Participant, Person, Task

__all__ = ["Home", "NextStep", "Step", "home", "next_for", "shown_seats"]


@dataclass(frozen=True)
class Home:
    """One seat's next step, with what the card shows about it."""

    seat: Participant
    next: NextStep
    meeting: Meeting | None = None  # Step.MEETING: the meeting to answer
    task: Task | None = None  # Step.TASK: the task that is due


def shown_seats(seats: list[Participant]) -> list[Participant]:
    """The seats a home shows: joined, not removed, not waiting for (or refused by) the family."""
    return [s for s in seats if s.joined_at is not None and s.removed_at is None
            and s.approval not in (consent_rules.PENDING, consent_rules.REFUSED)]


def local_day(now: datetime, tz: tzinfo | None) -> date:
    return now.astimezone(tz).date() if tz is not None else now.date()


async def home(session: AsyncSession, person: Person, now: datetime, *, tz: tzinfo | None = None,
               due_within_days: int = DUE_SOON_DAYS, include_closed: bool = False) -> list[Home]:
    """Every dialog of the person's (closed ones only if asked), oldest first, with what is next there."""
    seats = [s for s in shown_seats(await q.seats_of(session, person))
             if include_closed or s.dialog.state != CLOSED]
    return await _steps(session, seats, local_day(now, tz), due_within_days)


async def next_for(session: AsyncSession, seat: Participant, now: datetime, *, tz: tzinfo | None = None,
                   due_within_days: int = DUE_SOON_DAYS) -> Home:
    """What is next for this seat in its dialog."""
    return (await _steps(session, [seat], local_day(now, tz), due_within_days))[0]


async def _steps(session: AsyncSession, seats: list[Participant], today: date, due_within_days: int) -> list[Home]:
    if not seats:
        return []
    ids = [s.id for s in seats]
    active = [s for s in seats if s.dialog.state == ACTIVE]
    consents = await hm.latest_consents(session, [s.id for s in seats if s.consent_giver and s.dialog.state != ACTIVE])
    entries = await hm.entries_this_round(session, active)
    scored = await hm.scored_this_round(session, active)
    meetings = await hm.live_meetings(session, [s.dialog_id for s in active])
    answered = await hm.answered_meetings(session, [m.id for m in meetings.values()], ids)
    plans = await hm.plans_to_answer(session, active)
    tasks = await hm.open_tasks(session, active)

    drafts: dict[int, int] = {}
    shared: set[int] = set()
    for e in entries:
        if e.shared_at is not None:
            shared.add(e.participant_id)
        elif not inputs.is_empty(e):
            drafts[e.participant_id] = drafts.get(e.participant_id, 0) + 1
    tasks_of: dict[int, list[Task]] = {}
    for t in tasks:
        tasks_of.setdefault(t.owner_id, []).append(t)

    homes = []
    for s in seats:
        coordinator = s.role == COORDINATOR
        meeting = meetings.get(s.dialog_id)
        unanswered = (meeting is not None and meeting.status == mt.SCHEDULED and not coordinator
                      and s.person_id is not None and (meeting.id, s.id) not in answered)
        facts = SeatFacts(
            dialog_id=s.dialog_id, state=s.dialog.state, coordinator=coordinator,
            consent_giver=s.consent_giver, consent_answer=consents.get(s.id), round_no=s.dialog.round_no,
            meeting_called=meeting is not None and meeting.round_no == s.dialog.round_no,
            drafts=drafts.get(s.id, 0), shared_input=s.id in shared, scored=s.id in scored,
            meeting_id=meeting.id if unanswered else None, plan_to_accept=s.id in plans,
            tasks=tuple(TaskFact(t.id, t.ends_on) for t in tasks_of.get(s.id, [])))
        step = next_step(facts, today, due_within_days)
        homes.append(Home(
            s, step, meeting=meeting if step.step == Step.MEETING else None,
            task=next((t for t in tasks_of.get(s.id, []) if t.id == step.task_id), None)))
    return homes
