"""When a coordinator's digest goes out: local times on weekdays, never in quiet hours.

Plain Python, no clock: `after` is always passed in. Times are wall-clock times in the
municipality's time zone (TIMEZONE); a day that skips or repeats an hour (summer time)
still gets each digest once, at the wall-clock time it names (a time skipped in spring
moves forward by the gap, a repeated one is the first).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rules.dates import _in_window, at_local

DIGEST, AT_ONCE = "digest", "at_once"
MODES = (DIGEST, AT_ONCE)

WEEKDAYS = frozenset(range(5))  # Monday to Friday
MAX_TIMES = 6

_TIME_RE = re.compile(r"^\s*(\d{1,2})(?:[:.](\d{2}))?\s*$")


def parse_times(text: str) -> tuple[time, ...]:
    """"08:00,14:00" (or "8, 14", "8.30") as sorted, distinct times; ValueError if not."""
    found: set[time] = set()
    for part in text.split(","):
        if not part.strip():
            continue
        match = _TIME_RE.match(part)
        if match is None:
            raise ValueError(f"{part.strip()!r} is not a time like 08:00")
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if hour > 23 or minute > 59:
            raise ValueError(f"{part.strip()!r} is not a time of day")
        found.add(time(hour, minute))
    if not found:
        raise ValueError("give at least one time, e.g. 08:00,14:00")
    if len(found) > MAX_TIMES:
        raise ValueError(f"at most {MAX_TIMES} times a day")
    return tuple(sorted(found))


def format_times(times: Sequence[time]) -> str:
    """The stored form: "08:00,14:00"."""
    return ",".join(t.strftime("%H:%M") for t in sorted(set(times)))


def effective_times(times: Sequence[time], *, quiet_start: time, quiet_end: time) -> tuple[time, ...]:
    """The digest times as sent: a time in the quiet hours moves to their end (the morning)."""
    moved = {quiet_end if _in_window(t, quiet_start, quiet_end) else t for t in times}
    return tuple(sorted(moved))


def next_digest_time(
    after: datetime, *, times: Sequence[time], tz: ZoneInfo, quiet_start: time, quiet_end: time,
    weekdays: Collection[int] = WEEKDAYS,
) -> datetime:
    """The first digest time strictly after `after` (aware), in UTC.

    Digests go on `weekdays` (0 = Monday) at `times` local time, each moved out of
    the quiet hours [quiet_start, quiet_end). Something that happens at 14:00:00
    exactly waits for the next digest: the one at 14:00 may be on its way already.
    """
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("after must be timezone-aware")
    if not times:
        raise ValueError("no digest times")
    if not set(weekdays) & set(range(7)):
        raise ValueError("no digest days")
    slots = effective_times(times, quiet_start=quiet_start, quiet_end=quiet_end)
    moment = after.astimezone(UTC)
    day = after.astimezone(tz).date() - timedelta(days=1)  # the local date may lag behind by a day
    for _ in range(10):
        if day.weekday() in weekdays:
            for t in slots:
                slot = at_local(day, t, tz).astimezone(UTC)
                if slot > moment:
                    return slot
        day += timedelta(days=1)
    raise AssertionError("unreachable: every week has a digest day")  # pragma: no cover
