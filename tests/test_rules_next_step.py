"""Issue #12: the next step for one person in one dialog, in the method's order (rules/next_step.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from rules import consent as consent_rules
from rules.access import ACTIVE, AWAITING_CONSENT, CLOSED, PAUSED
from rules.next_step import SeatFacts, Step, TaskFact, due_task, next_step

TODAY = date(2026, 11, 23)
PARENT = SeatFacts(dialog_id=7, state=ACTIVE, consent_giver=True, consent_answer=consent_rules.GIVEN)


def step(facts: SeatFacts, today: date = TODAY) -> Step:
    return next_step(facts, today).step


def test_a_parent_walks_the_method_in_order() -> None:
    facts = replace(PARENT, state=AWAITING_CONSENT, consent_answer=None)
    assert step(facts) == Step.CONSENT
    facts = replace(facts, state=ACTIVE, consent_answer=consent_rules.GIVEN)
    assert step(facts) == Step.WRITE_INPUT
    facts = replace(facts, drafts=1)
    assert step(facts) == Step.SHARE
    facts = replace(facts, drafts=0, shared_input=True)
    assert step(facts) == Step.RULER
    facts = replace(facts, scored=True, meeting_id=3, meeting_called=True)
    found = next_step(facts, TODAY)
    assert (found.step, found.meeting_id, found.dialog_id) == (Step.MEETING, 3, 7)
    facts = replace(facts, meeting_id=None, plan_to_accept=True)
    assert step(facts) == Step.ACCEPT_PLAN
    facts = replace(facts, plan_to_accept=False, tasks=(TaskFact(5, TODAY + timedelta(days=2)),))
    found = next_step(facts, TODAY)
    assert (found.step, found.task_id, found.due_on, found.overdue) == (Step.TASK, 5, TODAY + timedelta(days=2), False)
    assert found.actionable
    facts = replace(facts, tasks=())
    assert step(facts) == Step.DONE
    assert not next_step(facts, TODAY).actionable


def test_earlier_steps_come_first_whatever_else_waits() -> None:
    everything = replace(PARENT, meeting_id=3, plan_to_accept=True, tasks=(TaskFact(1, TODAY - timedelta(days=1)),))
    assert step(everything) == Step.WRITE_INPUT
    assert step(replace(everything, drafts=2, shared_input=True)) == Step.SHARE  # more written since
    assert step(replace(everything, shared_input=True, scored=True)) == Step.MEETING
    assert step(replace(everything, shared_input=True, scored=True, meeting_id=None)) == Step.ACCEPT_PLAN


def test_consent_is_asked_of_a_consent_giver_until_answered_yes() -> None:
    waiting = replace(PARENT, state=AWAITING_CONSENT, consent_answer=None)
    for answer in (None, consent_rules.TALK_FIRST, consent_rules.DECLINED):
        assert step(replace(waiting, consent_answer=answer)) == Step.CONSENT
    # Given: the others' consent is awaited; withdrawn: not asked again on every visit.
    assert step(replace(waiting, consent_answer=consent_rules.GIVEN)) == Step.WAIT
    assert step(replace(waiting, state=PAUSED, consent_answer=consent_rules.WITHDRAWN)) == Step.WAIT
    # Paused by someone else's withdrawal: one who never answered is asked.
    assert step(replace(waiting, state=PAUSED)) == Step.CONSENT
    # Not a consent giver: nothing to do until the family has said yes.
    assert step(SeatFacts(dialog_id=7, state=AWAITING_CONSENT)) == Step.WAIT
    assert step(SeatFacts(dialog_id=7, state=PAUSED)) == Step.WAIT
    assert step(replace(PARENT, state=CLOSED)) == Step.CLOSED


def test_after_the_meeting_the_plan_comes_before_new_input() -> None:
    # Round 2 began when the meeting closed: its input is asked once its meeting is called.
    later = replace(PARENT, round_no=2, plan_to_accept=True)
    assert step(later) == Step.ACCEPT_PLAN
    assert step(replace(later, plan_to_accept=False)) == Step.DONE
    assert step(replace(later, meeting_called=True)) == Step.WRITE_INPUT
    # Input begun in round 2 without a meeting is carried through: share, then the ruler.
    assert step(replace(later, drafts=1)) == Step.SHARE
    assert step(replace(later, shared_input=True)) == Step.RULER
    assert step(replace(later, shared_input=True, scored=True)) == Step.ACCEPT_PLAN


def test_a_plan_is_accepted_by_consent_givers_only() -> None:
    teacher = SeatFacts(dialog_id=7, state=ACTIVE, shared_input=True, scored=True, plan_to_accept=True)
    assert step(teacher) == Step.DONE


def test_the_coordinator_is_only_reminded_of_their_own_tasks() -> None:
    coordinator = SeatFacts(dialog_id=7, state=ACTIVE, coordinator=True, meeting_id=3)
    assert step(coordinator) == Step.DONE
    assert step(replace(coordinator, tasks=(TaskFact(9, TODAY),))) == Step.TASK
    assert step(replace(coordinator, state=AWAITING_CONSENT)) == Step.WAIT


@pytest.mark.parametrize(("days", "due"), [(-30, True), (-1, True), (0, True), (1, True), (2, True), (3, False)])
def test_a_task_is_due_from_two_days_before_its_end_date(days: int, due: bool) -> None:
    task = TaskFact(4, TODAY + timedelta(days=days))
    assert (due_task((task,), TODAY) is not None) == due
    found = next_step(replace(PARENT, shared_input=True, scored=True, tasks=(task,)), TODAY)
    assert found.step == (Step.TASK if due else Step.DONE)
    assert found.overdue == (days < 0)


def test_the_earliest_task_is_the_one_offered() -> None:
    tasks = (TaskFact(1, TODAY + timedelta(days=10)), TaskFact(2, TODAY - timedelta(days=3)),
             TaskFact(3, TODAY + timedelta(days=1)))
    found = next_step(replace(PARENT, shared_input=True, scored=True, tasks=tasks), TODAY)
    assert (found.task_id, found.overdue) == (2, True)
    assert due_task((), TODAY) is None
