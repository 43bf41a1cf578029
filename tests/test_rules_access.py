"""The rules of issue #6 (no aiogram, no database): withdrawal and re-consent, approving
participants added after the start, closing, and which notices a paused or closed dialog lets out."""

from __future__ import annotations

import pytest

from rules.access import (
    ACTIVE,
    AWAITING_CONSENT,
    CLOSED,
    ON_BEHALF,
    PAUSED,
    STATES,
    Action,
    Decision,
    Refusal,
    Seat,
    decide,
    decide_for,
    notice_goes_out,
)
from rules.consent import (
    APPROVED,
    DECLINED,
    GIVEN,
    PENDING,
    REFUSED,
    TALK_FIRST,
    WITHDRAWN,
    approval_state,
    needs_approval,
    state_after_answer,
)
from rules.roles import TELEGRAM_MIN_AGE, asks_telegram_age, under_telegram_age

MOM = Seat(role="parent_custody", consent_giver=True, joined=True)
YOUNG = Seat(role="young", consent_giver=True, joined=True)
DAD_WITHOUT_CUSTODY = Seat(role="parent", consent_giver=False, joined=True)
TEACHER = Seat(role="professional", consent_giver=False, joined=True)
COORD = Seat(role="coordinator", consent_giver=False, joined=True)
NOT_JOINED_MOM = Seat(role="parent_custody", consent_giver=True, joined=False)


# ---- consent: withdrawal pauses, consenting again resumes ----------------------------------------


def test_a_withdrawal_pauses_an_active_dialog_and_consent_again_resumes_it() -> None:
    givers = [1, 2]
    assert state_after_answer(ACTIVE, givers, {1: GIVEN, 2: GIVEN}) == ACTIVE
    assert state_after_answer(ACTIVE, givers, {1: WITHDRAWN, 2: GIVEN}) == PAUSED
    assert state_after_answer(PAUSED, givers, {1: GIVEN, 2: GIVEN}) == ACTIVE
    # Both withdrew, one came back: still paused until the other does too.
    assert state_after_answer(PAUSED, givers, {1: GIVEN, 2: WITHDRAWN}) == PAUSED
    # Before the start a withdrawal keeps it waiting; a closed dialog stays closed.
    assert state_after_answer(AWAITING_CONSENT, givers, {1: WITHDRAWN}) == AWAITING_CONSENT
    assert state_after_answer(CLOSED, givers, {1: GIVEN, 2: GIVEN}) == CLOSED
    for answer in (TALK_FIRST, DECLINED, WITHDRAWN):
        assert state_after_answer(ACTIVE, givers, {1: answer, 2: GIVEN}) == PAUSED


@pytest.mark.parametrize("action", [Action.WRITE_INPUT, Action.SCALE, Action.READ_SHARED, Action.MANAGE])
@pytest.mark.parametrize("seat", [MOM, TEACHER, COORD])
def test_a_paused_or_closed_dialog_refuses_every_content_action(action: Action, seat: Seat) -> None:
    paused, closed = decide(seat, PAUSED, action), decide(seat, CLOSED, action)
    assert not paused and not closed
    if action is Action.MANAGE and seat is not COORD:
        assert paused.refusal is Refusal.NOT_COORDINATOR
    else:
        assert paused.refusal is Refusal.PAUSED and closed.refusal is Refusal.CLOSED


def test_only_consent_givers_consent_or_withdraw_and_never_in_a_closed_dialog() -> None:
    for state in (AWAITING_CONSENT, ACTIVE, PAUSED):
        assert decide(MOM, state, Action.CONSENT) and decide(YOUNG, state, Action.CONSENT)
    assert decide(MOM, CLOSED, Action.CONSENT).refusal is Refusal.CLOSED
    for seat in (TEACHER, COORD, DAD_WITHOUT_CUSTODY):
        assert decide(seat, ACTIVE, Action.CONSENT).refusal is Refusal.NOT_CONSENT_GIVER
    assert decide(NOT_JOINED_MOM, ACTIVE, Action.CONSENT).refusal is Refusal.NOT_JOINED
    assert decide(None, ACTIVE, Action.CONSENT).refusal is Refusal.NOT_PARTICIPANT


# ---- approving participants added after the start -------------------------------------------------


def test_approval_needs_every_consent_giver_and_one_refusal_is_enough() -> None:
    assert needs_approval(ACTIVE) and needs_approval(PAUSED)
    assert not needs_approval(AWAITING_CONSENT) and not needs_approval(CLOSED)
    assert approval_state([1, 2], {}) == PENDING
    assert approval_state([1, 2], {1: True}) == PENDING
    assert approval_state([1, 2], {1: True, 2: True}) == APPROVED
    assert approval_state([1, 2], {1: True, 2: False}) == REFUSED
    assert approval_state([1, 2], {2: False}) == REFUSED
    # Answers from anyone who is not an approver do not count; nobody to ask: it waits.
    assert approval_state([1], {1: True, 9: False}) == APPROVED
    assert approval_state([], {9: True}) == PENDING


def test_only_joined_consent_givers_approve_and_not_in_a_closed_dialog() -> None:
    for state in (ACTIVE, PAUSED):
        assert decide(MOM, state, Action.APPROVE)
    assert decide(MOM, CLOSED, Action.APPROVE).refusal is Refusal.CLOSED
    for seat in (TEACHER, COORD, DAD_WITHOUT_CUSTODY):
        assert decide(seat, ACTIVE, Action.APPROVE).refusal is Refusal.NOT_CONSENT_GIVER
    assert decide(NOT_JOINED_MOM, ACTIVE, Action.APPROVE).refusal is Refusal.NOT_JOINED
    assert decide(None, ACTIVE, Action.APPROVE).refusal is Refusal.NOT_PARTICIPANT


# ---- closing ------------------------------------------------------------------------------------


def test_the_coordinator_closes_in_any_state_but_closed() -> None:
    for state in (AWAITING_CONSENT, ACTIVE, PAUSED):
        assert decide(COORD, state, Action.CLOSE)
    assert decide(COORD, CLOSED, Action.CLOSE).refusal is Refusal.CLOSED
    for seat in (MOM, TEACHER):
        assert decide(seat, ACTIVE, Action.CLOSE).refusal is Refusal.NOT_COORDINATOR
    # Inviting goes on while paused (the family approves); managing does not.
    assert decide(COORD, PAUSED, Action.INVITE)
    assert decide(COORD, PAUSED, Action.MANAGE).refusal is Refusal.PAUSED


# ---- notices of a paused or closed dialog ------------------------------------------------------------


CONTENT_KINDS = ["meeting_notice", "meeting_input_reminder", "meeting_day_before", "task_reminder",
                 "plan_review", "input_shared", "high_score", "tasks_assigned", "dialog_open", "dialog_resumed"]


@pytest.mark.parametrize("kind", CONTENT_KINDS)
def test_content_notices_wait_for_an_active_dialog(kind: str) -> None:
    assert notice_goes_out(kind, ACTIVE)
    assert notice_goes_out(kind, AWAITING_CONSENT)
    assert not notice_goes_out(kind, PAUSED)
    assert not notice_goes_out(kind, CLOSED)


def test_consent_and_membership_notices_go_out_while_paused() -> None:
    for kind in ("consent_answer", "joined", "newcomer_approval", "newcomer_approved", "newcomer_refused",
                 "person_erased", "unreachable"):
        assert notice_goes_out(kind, PAUSED), kind
    assert notice_goes_out("dialog_closed", CLOSED)
    assert notice_goes_out("person_erased", CLOSED)
    assert not notice_goes_out("consent_answer", CLOSED)
    assert not notice_goes_out("newcomer_approval", CLOSED)
    assert set(STATES) == {AWAITING_CONSENT, ACTIVE, PAUSED, CLOSED}


def test_before_consent_only_the_coordinator_and_consent_givers_learn_whom_it_is_about() -> None:
    from rules.access import shows_child_name

    teacher = Seat("professional", consent_giver=False, joined=True)
    mom = Seat("parent_custody", consent_giver=True, joined=True)
    coordinator = Seat("coordinator", consent_giver=False, joined=True)
    assert not shows_child_name(teacher, AWAITING_CONSENT)
    assert decide(teacher, AWAITING_CONSENT, Action.VIEW_PURPOSE).refusal is Refusal.AWAITING_CONSENT
    assert shows_child_name(mom, AWAITING_CONSENT) and shows_child_name(coordinator, AWAITING_CONSENT)
    assert all(shows_child_name(teacher, state) for state in (ACTIVE, PAUSED, CLOSED))
    assert not shows_child_name(None, ACTIVE)


# ---- the coordinator for a participant without Telegram (issue #12) ------------------------------


GRANDMA_OFFLINE = Seat(role="network", consent_giver=False, joined=True, offline=True)
YOUNG_OFFLINE = Seat(role="young", consent_giver=True, joined=True, offline=True)
WAITING_OFFLINE = Seat(role="network", consent_giver=False, joined=False, offline=True)  # not approved yet


def test_only_the_coordinator_acts_for_a_participant_without_telegram() -> None:
    for actor in (MOM, YOUNG, DAD_WITHOUT_CUSTODY, TEACHER, None):
        for action in ON_BEHALF:
            refusal = Refusal.NOT_PARTICIPANT if actor is None else Refusal.NOT_COORDINATOR
            assert decide_for(actor, YOUNG_OFFLINE, ACTIVE, action) == Decision(False, refusal), (actor, action)
    assert decide_for(COORD, GRANDMA_OFFLINE, ACTIVE, Action.WRITE_INPUT)
    assert decide_for(COORD, GRANDMA_OFFLINE, ACTIVE, Action.SCALE)


def test_nobody_writes_for_someone_in_telegram_nor_for_a_missing_seat() -> None:
    for target in (MOM, YOUNG, TEACHER, COORD):
        for action in ON_BEHALF:
            assert decide_for(COORD, target, ACTIVE, action) == Decision(False, Refusal.NOT_OFFLINE)
    assert decide_for(COORD, None, ACTIVE, Action.WRITE_INPUT) == Decision(False, Refusal.NOT_PARTICIPANT)


@pytest.mark.parametrize("action", [a for a in Action if a not in ON_BEHALF])
def test_on_behalf_is_consent_input_and_the_number_only(action: Action) -> None:
    assert decide_for(COORD, YOUNG_OFFLINE, ACTIVE, action) == Decision(False, Refusal.NOT_OFFLINE)


@pytest.mark.parametrize("state", STATES)
def test_on_behalf_follows_what_the_participant_could_do_themselves(state: str) -> None:
    for target in (GRANDMA_OFFLINE, YOUNG_OFFLINE, WAITING_OFFLINE):
        for action in ON_BEHALF:
            own = decide(Seat(target.role, target.consent_giver, target.joined), state, action)
            assert decide_for(COORD, target, state, action) == own, (target, state, action)
    # Consent where they give it, also to resume a paused dialog; input and the number while active only.
    assert decide_for(COORD, YOUNG_OFFLINE, AWAITING_CONSENT, Action.CONSENT)
    assert decide_for(COORD, YOUNG_OFFLINE, PAUSED, Action.CONSENT)
    assert not decide_for(COORD, YOUNG_OFFLINE, CLOSED, Action.CONSENT)
    assert decide_for(COORD, GRANDMA_OFFLINE, ACTIVE, Action.CONSENT).refusal is Refusal.NOT_CONSENT_GIVER
    assert decide_for(COORD, YOUNG_OFFLINE, AWAITING_CONSENT, Action.WRITE_INPUT).refusal is Refusal.AWAITING_CONSENT
    assert decide_for(COORD, WAITING_OFFLINE, ACTIVE, Action.WRITE_INPUT).refusal is Refusal.NOT_JOINED


def test_a_young_person_under_16_is_asked_about_or_known() -> None:
    assert TELEGRAM_MIN_AGE == 16
    assert under_telegram_age("young", "barn") and not asks_telegram_age("young", "barn")
    assert asks_telegram_age("young", "ung") and not under_telegram_age("young", "ung")
    for role in ("parent_custody", "parent", "professional", "network"):
        for age_group in ("barn", "ung"):
            assert not under_telegram_age(role, age_group) and not asks_telegram_age(role, age_group)
