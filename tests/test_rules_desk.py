"""Issue #13, the coordinator's desk: what needs the coordinator now, and in which order (rules/desk.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rules.access import ACTIVE, AWAITING_CONSENT, CLOSED, PAUSED
from rules.desk import (
    CONSENT_WAIT_DAYS,
    Facts,
    Filter,
    Reason,
    default_filter,
    needs,
    order,
    page,
    shown,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=60)


def facts(dialog_id: int = 1, state: str = ACTIVE, **kw: object) -> Facts:
    base: dict[str, object] = dict(created_at=LONG_AGO, activated_at=LONG_AGO, consent_givers=1,
                                   next_meeting_at=NOW + timedelta(days=20))
    base.update(kw)
    return Facts(dialog_id=dialog_id, state=state, **base)  # type: ignore[arg-type]


def reasons(f: Facts, **kw: object) -> list[Reason]:
    return [n.reason for n in needs(f, NOW, **kw)]  # type: ignore[arg-type]


def test_an_active_dialog_with_a_meeting_ahead_and_nothing_open_is_in_order() -> None:
    assert reasons(facts()) == []


def test_every_reason_in_the_order_of_urgency() -> None:
    everything = facts(unseen_alerts=1, alert_at=NOW, refused=1, talk_first=1, messages=2, help_tasks=1,
                       missing_input=2, next_meeting_at=NOW + timedelta(days=2), overdue_tasks=3, plan_waiting=True)
    assert reasons(everything) == [Reason.ALERT, Reason.CONSENT_REFUSED, Reason.MESSAGE, Reason.HELP,
                                   Reason.INPUT_MISSING, Reason.OVERDUE, Reason.PLAN_WAITING]
    assert list(Reason)[:3] == [Reason.ALERT, Reason.CONSENT_REFUSED, Reason.MESSAGE]
    [message] = [n for n in needs(everything, NOW) if n.reason is Reason.MESSAGE]
    assert message.count == 3  # a wish to talk first and two messages


def test_a_closed_dialog_needs_nothing() -> None:
    assert reasons(facts(state=CLOSED, unseen_alerts=2, help_tasks=1, overdue_tasks=1)) == []


def test_consent_awaited_longer_than_the_setting() -> None:
    waiting = facts(state=AWAITING_CONSENT, consent_missing=1, consent_since=NOW - timedelta(days=8),
                    next_meeting_at=None)
    [need] = needs(waiting, NOW)
    assert (need.reason, need.count) == (Reason.CONSENT_WAITING, 8)
    assert reasons(waiting, consent_wait_days=10) == []
    assert reasons(facts(state=AWAITING_CONSENT, consent_missing=1, consent_since=NOW - timedelta(days=CONSENT_WAIT_DAYS),
                         next_meeting_at=None)) == []
    # No one invited to consent: counted from the dialog's start.
    assert reasons(facts(state=AWAITING_CONSENT, consent_givers=0, created_at=NOW - timedelta(days=9),
                         next_meeting_at=None)) == [Reason.CONSENT_WAITING]
    # A refusal says more than the waiting.
    assert reasons(facts(state=AWAITING_CONSENT, refused=1, consent_missing=1, consent_since=LONG_AGO,
                         next_meeting_at=None)) == [Reason.CONSENT_REFUSED]


def test_while_paused_or_awaiting_consent_only_consent_alerts_and_messages_count() -> None:
    paused = facts(state=PAUSED, refused=1, help_tasks=2, overdue_tasks=1, plan_waiting=True, next_meeting_at=None,
                   unseen_alerts=1, messages=1)
    assert reasons(paused) == [Reason.ALERT, Reason.CONSENT_REFUSED, Reason.MESSAGE]


def test_input_missing_only_before_a_meeting_within_three_days() -> None:
    assert reasons(facts(missing_input=2, next_meeting_at=NOW + timedelta(days=3))) == [Reason.INPUT_MISSING]
    assert reasons(facts(missing_input=2, next_meeting_at=NOW + timedelta(days=4))) == []
    assert reasons(facts(missing_input=0, next_meeting_at=NOW + timedelta(days=1))) == []
    # The meeting is running: too late to ask.
    assert reasons(facts(missing_input=2, next_meeting_at=NOW - timedelta(hours=1), meeting_running=True)) == []


def test_no_meeting_scheduled() -> None:
    after = facts(next_meeting_at=None, last_closed_at=NOW - timedelta(days=5))
    [need] = needs(after, NOW)
    assert need.reason is Reason.NO_MEETING and need.at == after.last_closed_at
    assert reasons(facts(next_meeting_at=None)) == [Reason.NO_MEETING]


def test_order_most_urgent_first_then_earliest_then_in_order_then_closed() -> None:
    items = order([
        facts(1),                                                    # in order
        facts(2, state=CLOSED),                                      # closed
        facts(3, overdue_tasks=1),
        facts(4, unseen_alerts=1, alert_at=NOW - timedelta(hours=1)),
        facts(5, unseen_alerts=1, alert_at=NOW - timedelta(hours=5)),  # waited longer: before 4
        facts(6, state=PAUSED, refused=1, next_meeting_at=None),
        facts(7, plan_waiting=True),
        facts(8, missing_input=1, next_meeting_at=NOW + timedelta(days=1)),
        facts(9, missing_input=1, next_meeting_at=NOW + timedelta(hours=3)),  # sooner: before 8
        facts(10),                                                   # in order
    ], NOW)
    assert [i.dialog_id for i in items] == [5, 4, 6, 9, 8, 3, 7, 1, 10, 2]
    assert [i.dialog_id for i in shown(items, Filter.ACTION)] == [5, 4, 6, 9, 8, 3, 7]
    assert [i.dialog_id for i in shown(items, Filter.CLOSED)] == [2]
    assert len(shown(items, Filter.ALL)) == 10
    assert default_filter(items) is Filter.ACTION
    assert default_filter(order([facts(1), facts(2, state=CLOSED)], NOW)) is Filter.ALL


@pytest.mark.parametrize("n, number, expect", [
    (0, 0, (0, 1, 0)), (8, 0, (0, 1, 8)), (9, 1, (1, 2, 1)), (120, 14, (14, 15, 8)),
    (120, 99, (14, 15, 8)), (120, -3, (0, 15, 8)),
])
def test_pages_of_eight(n: int, number: int, expect: tuple[int, int, int]) -> None:
    p = page(list(range(n)), number)
    assert (p.number, p.pages, len(p.items)) == expect
