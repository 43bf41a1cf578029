"""What is next for one person in one dialog: the method's order, in plain Python.

A parent should never have to know a command. Wherever they are, the bot can say what comes
next *for them* and offer it as a button. This module decides what that is, from facts about
the person's seat in one dialog (gathered by services/home.py), in the method's order:

    consent -> write input -> share it -> your number on the ruler -> answer the meeting
    invitation -> agree to the plan -> a task that is due -> nothing now

The round's input and number are asked for from the start in the first round; in a later round
once that round's meeting has been called (after a meeting, the plan comes first, not new input).
Input someone has begun (drafts, or input shared this round) is always carried on to the end.
The coordinator leads the dialog: their own next steps here are only the tasks they hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from rules import consent as consent_rules
from rules.access import ACTIVE, AWAITING_CONSENT, CLOSED, PAUSED

# A task is "due" from this many days before its end date (the first reminder, TASK_REMINDER_DAYS).
DUE_SOON_DAYS = 2


class Step(StrEnum):
    CONSENT = "consent"  # answer the consent card
    WRITE_INPUT = "write_input"  # write what worries you, what works, what should happen
    SHARE = "share"  # drafts only you can see: share them
    RULER = "ruler"  # put your number on the ruler
    MEETING = "meeting"  # answer the invitation to the dialog meeting
    ACCEPT_PLAN = "accept_plan"  # the plan was sent to you for approval
    TASK = "task"  # a task of yours is due (or overdue)
    WAIT = "wait"  # nothing you can do: the dialog waits for the family's consent, or is paused
    DONE = "done"  # you are done for now; the bot writes when there is something new
    CLOSED = "closed"  # the dialog has been closed


@dataclass(frozen=True)
class TaskFact:
    task_id: int
    ends_on: date


@dataclass(frozen=True)
class SeatFacts:
    """What the rule needs to know about one joined seat in one dialog."""

    dialog_id: int
    state: str  # the dialog's state (rules.access)
    coordinator: bool = False
    consent_giver: bool = False
    consent_answer: str | None = None  # the seat's latest consent answer (rules.consent), if any
    round_no: int = 1
    meeting_called: bool = False  # a meeting of this round is scheduled or under way
    drafts: int = 0  # drafts with text this round, not shared
    shared_input: bool = False  # input shared this round
    scored: bool = False  # a number on the ruler this round
    meeting_id: int | None = None  # a scheduled meeting this seat is invited to and has not answered
    plan_to_accept: bool = False  # the current plan was sent to this consent giver, who has not answered
    tasks: tuple[TaskFact, ...] = ()  # open tasks of the plan in force that this seat holds


@dataclass(frozen=True)
class NextStep:
    step: Step
    dialog_id: int
    meeting_id: int | None = None  # MEETING
    task_id: int | None = None  # TASK
    due_on: date | None = None  # TASK: its end date
    overdue: bool = False  # TASK: the end date has passed

    @property
    def actionable(self) -> bool:
        """Whether there is something to do (a button to offer)."""
        return self.step not in (Step.WAIT, Step.DONE, Step.CLOSED)


def consent_pending(facts: SeatFacts) -> bool:
    """A consent giver whose answer the dialog is waiting for.

    A withdrawal is not asked again on every visit: /samtykke gives consent back.
    """
    return (facts.consent_giver and facts.state in (AWAITING_CONSENT, PAUSED)
            and facts.consent_answer not in (consent_rules.GIVEN, consent_rules.WITHDRAWN))


def due_task(tasks: tuple[TaskFact, ...], today: date, due_within_days: int = DUE_SOON_DAYS) -> TaskFact | None:
    """The task with the earliest end date, if it ends within `due_within_days` (or has ended)."""
    if not tasks:
        return None
    first = min(tasks, key=lambda t: (t.ends_on, t.task_id))
    return first if (first.ends_on - today).days <= due_within_days else None


def next_step(facts: SeatFacts, today: date, due_within_days: int = DUE_SOON_DAYS) -> NextStep:
    """The one next step for this seat, in the method's order."""
    here = facts.dialog_id
    if facts.state == CLOSED:
        return NextStep(Step.CLOSED, here)
    if consent_pending(facts):
        return NextStep(Step.CONSENT, here)
    if facts.state != ACTIVE:
        return NextStep(Step.WAIT, here)
    if not facts.coordinator:
        begun = facts.drafts > 0 or facts.shared_input
        asked = facts.round_no <= 1 or facts.meeting_called
        if asked and not begun:
            return NextStep(Step.WRITE_INPUT, here)
        if facts.drafts > 0:
            return NextStep(Step.SHARE, here)
        if (asked or begun) and not facts.scored:
            return NextStep(Step.RULER, here)
        if facts.meeting_id is not None:
            return NextStep(Step.MEETING, here, meeting_id=facts.meeting_id)
        if facts.consent_giver and facts.plan_to_accept:
            return NextStep(Step.ACCEPT_PLAN, here)
    task = due_task(facts.tasks, today, due_within_days)
    if task is not None:
        return NextStep(Step.TASK, here, task_id=task.task_id, due_on=task.ends_on,
                        overdue=task.ends_on < today)
    return NextStep(Step.DONE, here)
