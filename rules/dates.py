"""Read the dates and times a Danish coordinator types, and time reminders.

Nothing here reads the clock: ``now``/``today`` are always passed in, so the
rules are deterministic and testable. Errors carry a ``code`` (never user text);
the bot maps the code to a translated message.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from re import Match
from zoneinfo import ZoneInfo

__all__ = [
    "MAX_YEARS_AHEAD",
    "MONTHS",
    "WEEKDAYS",
    "DateParseError",
    "at_local",
    "in_quiet_hours",
    "next_send_time",
    "parse_date",
    "parse_meeting_time",
]

# A typo like "12/3/2207" should not schedule a meeting two centuries away.
MAX_YEARS_AHEAD = 5


class DateParseError(ValueError):
    """The text is not a usable date/time; ``code`` says why."""

    CODES = frozenset({"time_missing", "invalid_date", "in_the_past", "unrecognised"})

    def __init__(self, code: str) -> None:
        if code not in self.CODES:
            raise ValueError(f"unknown DateParseError code {code!r}")
        super().__init__(code)
        self.code = code


MONTHS: dict[str, int] = {
    # Danish names and abbreviations.
    "januar": 1, "jan": 1, "februar": 2, "feb": 2, "marts": 3, "mar": 3,
    "april": 4, "apr": 4, "maj": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
    "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
    # English, as a courtesy.
    "january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7,
    "october": 10, "oct": 10,
}  # fmt: skip

WEEKDAYS: dict[str, int] = {
    "mandag": 0, "tirsdag": 1, "onsdag": 2, "torsdag": 3, "fredag": 4,
    "lørdag": 5, "loerdag": 5, "lordag": 5, "søndag": 6, "soendag": 6, "sondag": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6,
}  # fmt: skip

_RELATIVE: dict[str, int] = {
    "i dag": 0, "idag": 0, "today": 0,
    "i morgen": 1, "imorgen": 1, "tomorrow": 1,
    "i overmorgen": 2, "iovermorgen": 2, "overmorgen": 2,
}  # fmt: skip


def _alternatives(words: dict[str, int]) -> str:
    # Longest first, so "marts" is preferred over "mar".
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_SEP = r"[/.\-\u2010\u2011\u2012\u2013\u2014\u2212]"
_DATE = rf"""
(?:
    (?P<rel>{_alternatives(_RELATIVE)})
  | (?:(?P<next>næste|naeste|next)\s+|(?:på|paa|on)\s+)?(?P<wd>{_alternatives(WEEKDAYS)})
  | (?:(?P<pwd>{_alternatives(WEEKDAYS)})\s*,?\s+)?(?:(?:den|d\.)\s*)?
    (?:
        (?P<td>\d{{1,2}})\.?\s*(?P<tmon>{_alternatives(MONTHS)})\.?(?:\s+(?P<ty>\d{{4}}))?
      | (?P<nd>\d{{1,2}}){_SEP}(?P<nm>\d{{1,2}})(?:{_SEP}(?P<ny>\d{{4}}|\d{{2}}))?
    )
)
"""
# "kl." is optional: "i morgen 9.30" is clear enough once the date is matched.
# An end time ("kl. 14-15.30") is allowed and checked; the meeting time is the start.
_TIME = r"""
(?:(?:kl\.?|klokken)\s*)?(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?
(?:\s*[-\u2013]\s*(?P<eh>\d{1,2})(?:[:.](?P<em>\d{2}))?)?
"""
_GAP = r"(?:\s*,\s*|\s+|(?=kl))"

_DATE_RE = re.compile(_DATE, re.VERBOSE)
_DATE_TIME_RE = re.compile(rf"{_DATE}{_GAP}{_TIME}", re.VERBOSE)
_TIME_DATE_RE = re.compile(rf"{_TIME}{_GAP}{_DATE}", re.VERBOSE)


def _normalise(text: str) -> str:
    # NFKC folds no-break spaces and full-width digits into their plain forms.
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\s+", " ", text).strip()
    if text.endswith("."):
        text = text[:-1].rstrip()
    return text


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _date_from(match: Match[str], today: date) -> date:
    """The date a match names, relative to ``today``; undated years roll forward."""
    groups = match.groupdict()
    if groups["rel"]:
        return today + timedelta(days=_RELATIVE[groups["rel"]])
    if groups["wd"]:
        # "mandag" and "næste mandag" both mean the next Monday after today.
        return today + timedelta(days=(WEEKDAYS[groups["wd"]] - today.weekday() - 1) % 7 + 1)

    if groups["td"]:
        day, month, year_text = int(groups["td"]), MONTHS[groups["tmon"]], groups["ty"]
    else:
        day, month, year_text = int(groups["nd"]), int(groups["nm"]), groups["ny"]

    if year_text is not None:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        result = _make_date(year, month, day)
    else:
        _make_date(2000, month, day)  # a leap year: rejects 31/2 but not 29/2
        result = _next_occurrence(month, day, today)

    if result.year > today.year + MAX_YEARS_AHEAD:
        raise DateParseError("invalid_date")
    if groups["pwd"] and WEEKDAYS[groups["pwd"]] != result.weekday():
        # "mandag den 12/3" when 12/3 is not a Monday: refuse rather than guess.
        raise DateParseError("invalid_date")
    return result


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateParseError("invalid_date") from None


def _next_occurrence(month: int, day: int, today: date) -> date:
    """The first (month, day) on or after today; 29/2 waits for a leap year."""
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise DateParseError("invalid_date")  # pragma: no cover - 29/2 recurs within 8 years


def _clock(hour_text: str, minute_text: str | None) -> time | None:
    hour = int(hour_text)
    minute = int(minute_text) if minute_text is not None else 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _time_from(match: Match[str]) -> time | None:
    start = _clock(match["h"], match["m"])
    if start is None or match["eh"] is None:
        return start
    end = _clock(match["eh"], match["em"])
    return start if end is not None and end > start else None


def at_local(d: date, t: time, tz: ZoneInfo) -> datetime:
    """``d`` at wall-clock time ``t`` in ``tz``, aware and DST-safe.

    A time skipped by spring-forward (02:30 on the last Sunday of March) moves
    forward by the gap (03:30 summer time); a time repeated in autumn is the
    first occurrence unless ``t.fold`` is 1.
    """
    naive = datetime.combine(d, t.replace(tzinfo=None))  # keeps t.fold
    # A round trip through UTC normalises non-existent wall times.
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def parse_meeting_time(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """A meeting date and time typed in Danish, e.g. "12/3 kl. 14" or "i morgen 9.30".

    Without a year the date is the next one on or after today; a date of today
    whose time has passed is ``in_the_past`` (not next year).
    """
    _require_aware(now, "now")
    local_now = now.astimezone(tz)
    normalised = _normalise(text)
    match = _DATE_TIME_RE.fullmatch(normalised) or _TIME_DATE_RE.fullmatch(normalised)
    if match is None:
        date_only = _DATE_RE.fullmatch(normalised)
        if date_only is not None:
            _date_from(date_only, local_now.date())  # an impossible date is the bigger problem
            raise DateParseError("time_missing")
        raise DateParseError("unrecognised")
    clock = _time_from(match)
    if clock is None:
        raise DateParseError("unrecognised")
    day = _date_from(match, local_now.date())
    # Compare in UTC: datetimes sharing a ZoneInfo compare by wall clock and
    # ignore fold, which is wrong in the repeated autumn hour.
    for fold in (0, 1):  # in the repeated hour, the first occurrence still ahead
        result = at_local(day, clock.replace(fold=fold), tz)
        if result.astimezone(UTC) >= now.astimezone(UTC):
            return result
    raise DateParseError("in_the_past")


def parse_date(text: str, *, today: date) -> date:
    """A date typed in Danish, e.g. "12/3", "1. april", "i morgen" or "fredag"."""
    match = _DATE_RE.fullmatch(_normalise(text))
    if match is None:
        raise DateParseError("unrecognised")
    result = _date_from(match, today)
    if result < today:
        raise DateParseError("in_the_past")
    return result


def _in_window(clock: time, start: time, end: time) -> bool:
    if start == end:
        return False  # an empty window: no quiet hours
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end  # wraps midnight


def in_quiet_hours(at: datetime, *, start: time, end: time, tz: ZoneInfo) -> bool:
    """True if ``at`` (local time in ``tz``) is within [start, end)."""
    _require_aware(at, "at")
    return _in_window(at.astimezone(tz).time(), start, end)


def next_send_time(
    due: datetime, *, start: time = time(20), end: time = time(8), tz: ZoneInfo
) -> datetime:
    """``due`` moved out of the quiet window [start, end) to the window's end."""
    _require_aware(due, "due")
    local = due.astimezone(tz)
    clock = local.time()
    if not _in_window(clock, start, end):
        return local
    day = local.date()
    if start > end and clock >= start:
        day += timedelta(days=1)  # evening part of a window that ends tomorrow morning
    return at_local(day, end, tz)
