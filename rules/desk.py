"""The coordinator's desk (`/dialoger`): what needs the coordinator now, in which order.

Plain Python: given the facts about each of a coordinator's dialogs (gathered in a few
queries by services/desk.py) and the time, `needs` says why a dialog needs the coordinator,
most urgent first, and `order` sorts the dialogs by that. A dialog that needs nothing is
"in order"; a closed dialog never needs anything.

What needs the coordinator, most urgent first (`Reason`, in this order):

1. a safeguarding alert not yet seen (someone put the situation in the ruler's highest field);
2. consent declined or withdrawn (the latest answer of a consent giver);
3. a family member asked to talk first, or wrote to the coordinator, not yet seen;
4. a task marked "Brug for hjælp";
5. consent awaited for more than `consent_wait_days` (from the day the first one still
   missing was invited; no consent giver invited at all counts from the dialog's start);
6. input or numbers missing before a meeting within `meeting_soon_days`;
7. no meeting scheduled (after the last one closed, or none yet in an active dialog);
8. overdue tasks (of an accepted plan);
9. a plan awaiting the family's acceptance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from rules.access import ACTIVE, AWAITING_CONSENT, CLOSED

CONSENT_WAIT_DAYS = 7
MEETING_SOON_DAYS = 3
PER_PAGE = 8
T = TypeVar("T")


class Reason(StrEnum):
    """Why a dialog needs its coordinator, in order of urgency (the first is the most urgent)."""

    ALERT = "alert"
    CONSENT_REFUSED = "consent_refused"
    MESSAGE = "message"
    HELP = "help"
    CONSENT_WAITING = "consent_waiting"
    INPUT_MISSING = "input_missing"
    NO_MEETING = "no_meeting"
    OVERDUE = "overdue"
    PLAN_WAITING = "plan_waiting"


PRIORITY: dict[Reason, int] = {reason: rank for rank, reason in enumerate(Reason)}


class Filter(StrEnum):
    ALL = "all"  # every dialog: those that need the coordinator first, then the rest, closed last
    ACTION = "action"  # only those that need the coordinator
    CLOSED = "closed"  # only closed dialogs


@dataclass(frozen=True)
class Facts:
    """What the desk knows about one dialog (services/desk.py gathers it for all dialogs at once)."""

    dialog_id: int
    state: str
    created_at: datetime
    closed_at: datetime | None = None
    # safeguarding: scores in the highest field not yet marked seen, and the newest one's time
    unseen_alerts: int = 0
    alert_at: datetime | None = None
    # consent givers whose latest answer is declined or withdrawn
    refused: int = 0
    # "talk to the coordinator first" (latest answer) and messages from the family, not yet seen
    talk_first: int = 0
    messages: int = 0
    message_at: datetime | None = None
    # consent: givers invited, givers still missing, since when the longest-missing one was invited
    consent_givers: int = 0
    consent_missing: int = 0
    consent_since: datetime | None = None
    # tasks
    help_tasks: int = 0
    overdue_tasks: int = 0
    # meetings: the next scheduled (or running) one; whether one has been closed, and when
    next_meeting_at: datetime | None = None
    meeting_running: bool = False
    last_closed_at: datetime | None = None
    activated_at: datetime | None = None
    # joined participants (not the coordinator) without shared input or a number this round
    missing_input: int = 0
    # the plan has a version the family has not accepted
    plan_waiting: bool = False


@dataclass(frozen=True)
class Need:
    reason: Reason
    count: int = 1  # how many (alerts, people, tasks); for CONSENT_WAITING: the days waited
    at: datetime | None = None  # when it began (or the meeting it is about): earlier first

    @property
    def priority(self) -> int:
        return PRIORITY[self.reason]


@dataclass(frozen=True)
class Item:
    facts: Facts
    needs: tuple[Need, ...]

    @property
    def dialog_id(self) -> int:
        return self.facts.dialog_id

    @property
    def top(self) -> Need | None:
        return self.needs[0] if self.needs else None


def needs(f: Facts, now: datetime, *, consent_wait_days: int = CONSENT_WAIT_DAYS,
          meeting_soon_days: int = MEETING_SOON_DAYS) -> list[Need]:
    """Why the dialog needs its coordinator now, most urgent first (empty: it is in order)."""
    if f.state == CLOSED:
        return []
    out: list[Need] = []
    if f.unseen_alerts:
        out.append(Need(Reason.ALERT, f.unseen_alerts, f.alert_at))
    if f.refused:
        out.append(Need(Reason.CONSENT_REFUSED, f.refused))
    if f.talk_first or f.messages:
        out.append(Need(Reason.MESSAGE, f.talk_first + f.messages, f.message_at))
    if f.state == AWAITING_CONSENT and (f.consent_missing or not f.consent_givers) and not f.refused:
        since = f.consent_since or f.created_at
        waited = now - since
        if waited > timedelta(days=consent_wait_days):
            out.append(Need(Reason.CONSENT_WAITING, waited.days, since))
    if f.state == ACTIVE:
        if f.help_tasks:
            out.append(Need(Reason.HELP, f.help_tasks))
        soon = f.next_meeting_at is not None and not f.meeting_running \
            and now <= f.next_meeting_at <= now + timedelta(days=meeting_soon_days)
        if soon and f.missing_input:
            out.append(Need(Reason.INPUT_MISSING, f.missing_input, f.next_meeting_at))
        if f.next_meeting_at is None:
            out.append(Need(Reason.NO_MEETING, 1, f.last_closed_at or f.activated_at))
        if f.overdue_tasks:
            out.append(Need(Reason.OVERDUE, f.overdue_tasks))
        if f.plan_waiting:
            out.append(Need(Reason.PLAN_WAITING))
    return sorted(out, key=lambda n: n.priority)


def _sort_key(item: Item) -> tuple[int, int, float, int]:
    top = item.top
    if top is None:
        group = 2 if item.facts.state == CLOSED else 1
        return (group, 0, 0.0, item.dialog_id)
    at = top.at.timestamp() if top.at is not None else float("inf")
    return (0, top.priority, at, item.dialog_id)


def order(facts: Iterable[Facts], now: datetime, *, consent_wait_days: int = CONSENT_WAIT_DAYS,
          meeting_soon_days: int = MEETING_SOON_DAYS) -> list[Item]:
    """Every dialog with its needs: those that need the coordinator first (the most urgent need
    first; within one kind, the one that began earliest, or the soonest meeting), then those in
    order, then the closed ones; ties by dialog id."""
    items = [Item(f, tuple(needs(f, now, consent_wait_days=consent_wait_days,
                                 meeting_soon_days=meeting_soon_days))) for f in facts]
    return sorted(items, key=_sort_key)


def shown(items: Sequence[Item], which: Filter) -> list[Item]:
    """The items a filter shows, in the same order."""
    if which is Filter.ACTION:
        return [i for i in items if i.needs]
    if which is Filter.CLOSED:
        return [i for i in items if i.facts.state == CLOSED]
    return list(items)


def default_filter(items: Sequence[Item]) -> Filter:
    """`/dialoger` opens on what needs the coordinator; with nothing to do, on all dialogs."""
    return Filter.ACTION if any(i.needs for i in items) else Filter.ALL


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int  # 0-based, within range
    pages: int  # at least 1


def page(items: Sequence[T], number: int, per_page: int = PER_PAGE) -> Page[T]:
    """One page of the list; a number past either end shows the nearest page."""
    pages = max(1, -(-len(items) // per_page))
    number = min(max(number, 0), pages - 1)
    return Page(list(items[number * per_page:(number + 1) * per_page]), number, pages)
