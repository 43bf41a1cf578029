"""A coordinator chooses how to get their routine notices: a digest at set times, or at once.

What is already held for a digest follows the choice at once: with "at once" it is
sent now (or at the end of the quiet hours), with other times it waits for the next
of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from rules import digest as digest_rules
from rules.roles import STAFF_COORDINATOR
from storage import notice_preferences, outbox
from storage.models import Person

if TYPE_CHECKING:
    from core.notices import Notices


@dataclass
class Choice:
    mode: str
    times: tuple[time, ...]
    next_digest: datetime | None  # when the next digest goes (digest mode)
    moved: int  # notices already held that followed the choice


async def current(session: AsyncSession, notices: Notices, person: Person, now: datetime) -> Choice | None:
    """The coordinator's present choice (None: not a coordinator)."""
    if person.staff_role != STAFF_COORDINATOR:
        return None
    mode, times = await notices.preference(session, person.id)
    return Choice(mode, times, notices.next_digest(now, times) if mode == digest_rules.DIGEST else None, 0)


async def choose(session: AsyncSession, notices: Notices, person: Person, *, mode: str,
                 times: tuple[time, ...] | None, now: datetime) -> Choice | None:
    """Store the coordinator's choice and move what is held accordingly (None: not a coordinator)."""
    if person.staff_role != STAFF_COORDINATOR or mode not in digest_rules.MODES:
        return None
    if mode == digest_rules.DIGEST:
        times = tuple(sorted(set(times or notices.settings.digest_time_list)))
        if not times or len(times) > digest_rules.MAX_TIMES:
            return None
        stored = digest_rules.format_times(times)
        if stored == notices.settings.digest_times:
            stored = None  # the default: follows DIGEST_TIMES if the municipality changes it
    else:
        times, stored = (), None
    await notice_preferences.put(session, person.id, mode=mode, digest_times=stored, now=now)
    mode, times = await notices.preference(session, person.id)
    if mode == digest_rules.AT_ONCE:
        due = notices.quiet_until(now, True)
        moved = await outbox.release_held(session, person.id, due)
        if moved and due <= now:
            session.info["outbox_due_now"] = True  # the scheduler is woken after the commit
        return Choice(mode, times, None, moved)
    next_digest = notices.next_digest(now, times)
    moved = await outbox.reschedule_held(session, person.id, next_digest)
    return Choice(mode, times, next_digest, moved)
