"""Dates and times as a Danish coordinator types them, and quiet hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rules.dates import (
    DateParseError,
    at_local,
    in_quiet_hours,
    next_send_time,
    parse_date,
    parse_meeting_time,
)

TZ = ZoneInfo("Europe/Copenhagen")
# Sunday evening.
NOW = datetime(2026, 11, 22, 21, 30, tzinfo=TZ)
TODAY = NOW.date()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


def utc(value: datetime) -> datetime:
    """For exact comparisons: datetimes sharing a ZoneInfo compare and subtract by
    wall clock, and a time in the repeated autumn hour never equals another zone's."""
    return value.astimezone(UTC)


def meeting(text: str, now: datetime = NOW) -> datetime:
    return parse_meeting_time(text, now=now, tz=TZ)


def meeting_error(text: str, now: datetime = NOW) -> str:
    with pytest.raises(DateParseError) as excinfo:
        meeting(text, now)
    return excinfo.value.code


def test_now_is_a_sunday() -> None:
    assert NOW.weekday() == 6


# --- parse_meeting_time ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/3 14:00", local(2027, 3, 12, 14, 0)),
        ("12/3 kl. 14", local(2027, 3, 12, 14, 0)),
        ("12.03.2027 kl. 14", local(2027, 3, 12, 14, 0)),
        ("12-03-2027 14.30", local(2027, 3, 12, 14, 30)),
        ("12/3-27 9:15", local(2027, 3, 12, 9, 15)),
        ("i morgen kl. 9", local(2026, 11, 23, 9, 0)),
        ("i morgen 9.30", local(2026, 11, 23, 9, 30)),
        ("i dag kl 23", local(2026, 11, 22, 23, 0)),
        ("i dag kl. 21.45", local(2026, 11, 22, 21, 45)),
        ("i overmorgen kl. 10", local(2026, 11, 24, 10, 0)),
        ("mandag kl. 10", local(2026, 11, 23, 10, 0)),
        ("på mandag kl. 10", local(2026, 11, 23, 10, 0)),
        ("næste mandag kl. 10", local(2026, 11, 23, 10, 0)),
        ("fredag kl 8.15", local(2026, 11, 27, 8, 15)),
        ("lørdag kl. 11", local(2026, 11, 28, 11, 0)),
        ("søndag kl. 10", local(2026, 11, 29, 10, 0)),  # today is Sunday: next week
        ("12. marts kl. 14", local(2027, 3, 12, 14, 0)),
        ("12 mar 2027 14:00", local(2027, 3, 12, 14, 0)),
        ("kl. 14 12/3", local(2027, 3, 12, 14, 0)),
        ("kl. 14 i morgen", local(2026, 11, 23, 14, 0)),
        ("kl 9 på fredag", local(2026, 11, 27, 9, 0)),
        # Case, surrounding whitespace, a trailing period.
        ("  I MORGEN KL. 9.  ", local(2026, 11, 23, 9, 0)),
        ("Mandag kl. 10.", local(2026, 11, 23, 10, 0)),
        ("12. Marts kl. 14.", local(2027, 3, 12, 14, 0)),
        # Variations that people type.
        ("12/3, kl. 14", local(2027, 3, 12, 14, 0)),
        ("12/3 kl.14", local(2027, 3, 12, 14, 0)),
        ("12/3 klokken 14", local(2027, 3, 12, 14, 0)),
        ("12/3 14", local(2027, 3, 12, 14, 0)),
        ("den 12/3 kl. 14", local(2027, 3, 12, 14, 0)),
        ("d. 12. marts kl. 14", local(2027, 3, 12, 14, 0)),
        ("fredag den 12. marts 2027 kl. 14", local(2027, 3, 12, 14, 0)),
        ("fredag 12/3 kl. 14", local(2027, 3, 12, 14, 0)),
        ("12–03–2027 14:00", local(2027, 3, 12, 14, 0)),  # en dashes
        ("12.3 kl 14", local(2027, 3, 12, 14, 0)),
        ("12 mar. kl. 14", local(2027, 3, 12, 14, 0)),
        ("1. dec kl. 8", local(2026, 12, 1, 8, 0)),
        ("3. sept 2027 kl. 10", local(2027, 9, 3, 10, 0)),
        ("3 okt kl. 10", local(2027, 10, 3, 10, 0)),
        ("12 march 2027 14:00", local(2027, 3, 12, 14, 0)),  # English month names
        ("tomorrow 9:00", local(2026, 11, 23, 9, 0)),
        ("12/3/27 kl. 0", local(2027, 3, 12, 0, 0)),
        ("12/3 23:59", local(2027, 3, 12, 23, 59)),
        ("idag kl 22", local(2026, 11, 22, 22, 0)),
        ("imorgen kl 7", local(2026, 11, 23, 7, 0)),
        ("12/3kl.14", local(2027, 3, 12, 14, 0)),
        ("12/3 kl. 14-15", local(2027, 3, 12, 14, 0)),  # a range: the start counts
        ("i morgen 9.30 - 11", local(2026, 11, 23, 9, 30)),
        ("kl. 14.00–15.30 12/3", local(2027, 3, 12, 14, 0)),
    ],
)
def test_accepted_meeting_times(text: str, expected: datetime) -> None:
    result = meeting(text)
    assert result == expected
    assert result.tzinfo is TZ
    assert (result.hour, result.minute) == (expected.hour, expected.minute)


def test_now_in_another_zone_is_converted() -> None:
    # 20:30 UTC is 21:30 in Copenhagen: "i dag kl 22" is still ahead.
    assert meeting("i dag kl 22", now=NOW.astimezone(UTC)) == local(2026, 11, 22, 22, 0)


def test_without_a_year_a_passed_date_is_next_year() -> None:
    assert meeting("20/11 kl. 10") == local(2027, 11, 20, 10, 0)
    assert meeting("23/11 kl. 10") == local(2026, 11, 23, 10, 0)


def test_year_roll_over_at_new_year() -> None:
    now = local(2026, 12, 30, 12, 0)
    assert meeting("2/1 kl. 10", now) == local(2027, 1, 2, 10, 0)
    assert meeting("31/12 kl. 10", now) == local(2026, 12, 31, 10, 0)
    assert meeting("2. januar kl. 10", now) == local(2027, 1, 2, 10, 0)
    assert meeting("i overmorgen kl. 10", now) == local(2027, 1, 1, 10, 0)
    assert meeting("fredag kl. 10", now) == local(2027, 1, 1, 10, 0)


def test_29_february_waits_for_a_leap_year() -> None:
    assert meeting("29/2 kl. 10") == local(2028, 2, 29, 10, 0)
    assert meeting_error("29/2/2027 kl. 10") == "invalid_date"


def test_spring_forward_gap_is_normalised() -> None:
    # 2027-03-28: clocks jump from 02:00 to 03:00; 02:30 does not exist.
    result = meeting("28/3 kl. 2.30")
    assert utc(result) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert (result.hour, result.minute) == (3, 30)
    assert result.utcoffset() == timedelta(hours=2)
    assert meeting("28/3 kl. 1.30").utcoffset() == timedelta(hours=1)
    assert meeting("28/3 kl. 3").utcoffset() == timedelta(hours=2)


def test_fall_back_takes_the_first_occurrence() -> None:
    # 2026-10-25: 02:00-03:00 happens twice; the first (summer time) is meant.
    now = local(2026, 10, 24, 12, 0)
    result = meeting("25/10 kl. 2.30", now)
    assert (result.hour, result.minute) == (2, 30)
    assert result.utcoffset() == timedelta(hours=2)
    assert utc(result) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert meeting("i morgen kl. 14", now).utcoffset() == timedelta(hours=1)


def test_in_the_past_is_decided_in_real_time_during_the_repeated_hour() -> None:
    # 02:20 winter time (the second 02:20) is after the first 02:30 (summer
    # time) but before the second 02:30, which is then the one meant.
    now = datetime(2026, 10, 25, 1, 20, tzinfo=UTC).astimezone(TZ)
    assert (now.fold, now.hour, now.minute) == (1, 2, 20)
    assert utc(meeting("i dag kl. 2.30", now)) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert meeting_error("i dag kl. 2.10", now) == "in_the_past"
    assert meeting("i dag kl. 3", now).utcoffset() == timedelta(hours=1)


def test_meeting_on_a_dst_day_is_a_real_24_hour_offset_from_now() -> None:
    now = local(2027, 3, 27, 14, 0)
    assert utc(meeting("i morgen kl. 14", now)) - utc(now) == timedelta(hours=23)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("12/3", "time_missing"),
        ("12. marts", "time_missing"),
        ("12.03.2027", "time_missing"),
        ("i morgen", "time_missing"),
        ("mandag", "time_missing"),
        ("næste fredag", "time_missing"),
        ("31/2 kl. 14", "invalid_date"),
        ("31/2", "invalid_date"),  # the impossible date is reported first
        ("31/4 14:00", "invalid_date"),
        ("0/3 kl. 14", "invalid_date"),
        ("12/13 kl. 14", "invalid_date"),
        ("32. marts kl. 14", "invalid_date"),
        ("12/3/2207 kl. 14", "invalid_date"),  # a typo, not a meeting in 2207
        ("mandag den 12/3 kl. 14", "invalid_date"),  # 12/3/2027 is a Friday
        ("i dag kl 15", "in_the_past"),
        ("i dag kl. 21.29", "in_the_past"),
        ("22/11 kl. 10", "in_the_past"),  # today, time passed: not next year
        ("12/3/2025 kl. 14", "in_the_past"),
        ("1. januar 2026 kl. 10", "in_the_past"),
        ("", "unrecognised"),
        ("   ", "unrecognised"),
        ("hej", "unrecognised"),
        ("snart", "unrecognised"),
        ("kl. 14", "unrecognised"),
        ("14:00", "unrecognised"),
        ("12/3 kl. 25", "unrecognised"),
        ("12/3 14:60", "unrecognised"),
        ("12/3 kl. 14 og 15", "unrecognised"),
        ("12/3 kl. 14-13", "unrecognised"),  # the end before the start
        ("12/3 kl. 14-25", "unrecognised"),
        ("12 marts 27 kl. 10", "unrecognised"),
        ("12/3/202 kl. 14", "unrecognised"),
        ("fooday kl. 10", "unrecognised"),
    ],
)
def test_meeting_time_errors(text: str, code: str) -> None:
    assert meeting_error(text) == code


def test_error_is_a_value_error_with_only_a_code() -> None:
    with pytest.raises(ValueError) as excinfo:
        meeting("12/3")
    assert isinstance(excinfo.value, DateParseError)
    assert excinfo.value.code == "time_missing"
    assert str(excinfo.value) == "time_missing"
    with pytest.raises(ValueError):
        DateParseError("something_else")


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_meeting_time("i morgen kl. 9", now=datetime(2026, 11, 22, 21, 30), tz=TZ)


# --- parse_date ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/3", date(2027, 3, 12)),
        ("12.03.2027", date(2027, 3, 12)),
        ("12-3-27", date(2027, 3, 12)),
        ("1. april", date(2027, 4, 1)),
        ("1 apr 2027", date(2027, 4, 1)),
        ("1. APRIL.", date(2027, 4, 1)),
        ("i dag", TODAY),
        ("22/11", TODAY),  # on or after today
        ("i morgen", date(2026, 11, 23)),
        ("i overmorgen", date(2026, 11, 24)),
        ("mandag", date(2026, 11, 23)),
        ("næste onsdag", date(2026, 11, 25)),
        ("på torsdag", date(2026, 11, 26)),
        ("søndag", date(2026, 11, 29)),
        ("21/11", date(2027, 11, 21)),
        ("24. dec", date(2026, 12, 24)),
        ("15. januar", date(2027, 1, 15)),
        ("1 feb", date(2027, 2, 1)),
        ("31. maj 2027", date(2027, 5, 31)),
        ("30 jun", date(2027, 6, 30)),
        ("1. juli", date(2027, 7, 1)),
        ("1 jul", date(2027, 7, 1)),
        ("15 aug", date(2027, 8, 15)),
        ("1. august 2027", date(2027, 8, 1)),
        ("2. september", date(2027, 9, 2)),
        ("2 sep", date(2027, 9, 2)),
        ("2 oktober", date(2027, 10, 2)),
        ("30 november", date(2026, 11, 30)),
        ("4 december", date(2026, 12, 4)),
        ("17 february", date(2027, 2, 17)),
        ("3 may 2027", date(2027, 5, 3)),
        ("1 june", date(2027, 6, 1)),
        ("1 oct", date(2027, 10, 1)),
        ("29/2", date(2028, 2, 29)),
    ],
)
def test_accepted_dates(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("31/2", "invalid_date"),
        ("31. april", "invalid_date"),
        ("29/2/2027", "invalid_date"),
        ("1/1/2099", "invalid_date"),
        ("21/11/2026", "in_the_past"),
        ("1.1.26", "in_the_past"),
        ("", "unrecognised"),
        ("i går", "unrecognised"),
        ("12/3 kl. 14", "unrecognised"),  # a date, not a time
        ("engang", "unrecognised"),
    ],
)
def test_date_errors(text: str, code: str) -> None:
    with pytest.raises(DateParseError) as excinfo:
        parse_date(text, today=TODAY)
    assert excinfo.value.code == code


# --- at_local ----------------------------------------------------------------------


def test_at_local() -> None:
    assert at_local(date(2026, 7, 1), time(9), TZ) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert at_local(date(2026, 12, 1), time(9), TZ) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    gap = at_local(date(2027, 3, 28), time(2, 30), TZ)
    assert (gap.hour, gap.minute, gap.utcoffset()) == (3, 30, timedelta(hours=2))
    first = at_local(date(2026, 10, 25), time(2, 30), TZ)
    second = at_local(date(2026, 10, 25), time(2, 30, fold=1), TZ)
    assert utc(second) - utc(first) == timedelta(hours=1)
    # A tzinfo on the time is ignored: it is a wall-clock time in tz.
    assert at_local(date(2026, 7, 1), time(9, tzinfo=UTC), TZ).hour == 9


# --- quiet hours ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "quiet"),
    [
        (local(2026, 11, 22, 19, 59, 59), False),
        (local(2026, 11, 22, 20, 0), True),  # start is inside
        (local(2026, 11, 22, 23, 30), True),
        (local(2026, 11, 23, 0, 0), True),
        (local(2026, 11, 23, 7, 59, 59), True),
        (local(2026, 11, 23, 8, 0), False),  # end is outside
        (local(2026, 11, 23, 12, 0), False),
    ],
)
def test_in_quiet_hours_wrapping_midnight(at: datetime, quiet: bool) -> None:
    assert in_quiet_hours(at, start=time(20), end=time(8), tz=TZ) is quiet
    assert in_quiet_hours(at.astimezone(UTC), start=time(20), end=time(8), tz=TZ) is quiet


@pytest.mark.parametrize(
    ("at", "quiet"),
    [
        (local(2026, 11, 22, 11, 59), False),
        (local(2026, 11, 22, 12, 0), True),
        (local(2026, 11, 22, 13, 59), True),
        (local(2026, 11, 22, 14, 0), False),
    ],
)
def test_in_quiet_hours_not_wrapping(at: datetime, quiet: bool) -> None:
    assert in_quiet_hours(at, start=time(12), end=time(14), tz=TZ) is quiet


def test_empty_window_is_never_quiet() -> None:
    assert not in_quiet_hours(NOW, start=time(8), end=time(8), tz=TZ)
    assert next_send_time(NOW, start=time(8), end=time(8), tz=TZ) == NOW


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (local(2026, 11, 22, 19, 59), local(2026, 11, 22, 19, 59)),
        (local(2026, 11, 22, 20, 0), local(2026, 11, 23, 8, 0)),
        (local(2026, 11, 22, 21, 30), local(2026, 11, 23, 8, 0)),
        (local(2026, 11, 22, 23, 59), local(2026, 11, 23, 8, 0)),
        (local(2026, 11, 23, 0, 0), local(2026, 11, 23, 8, 0)),
        (local(2026, 11, 23, 3, 0), local(2026, 11, 23, 8, 0)),
        (local(2026, 11, 23, 7, 59), local(2026, 11, 23, 8, 0)),
        (local(2026, 11, 23, 8, 0), local(2026, 11, 23, 8, 0)),
        (local(2026, 11, 23, 8, 1), local(2026, 11, 23, 8, 1)),
        (local(2026, 12, 31, 22, 0), local(2027, 1, 1, 8, 0)),
    ],
)
def test_next_send_time_default_window(due: datetime, expected: datetime) -> None:
    result = next_send_time(due, tz=TZ)
    assert result == expected
    assert result.tzinfo is TZ


def test_next_send_time_accepts_utc_and_answers_in_local_time() -> None:
    due = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)  # 23:00 in Copenhagen
    result = next_send_time(due, tz=TZ)
    assert result == local(2026, 11, 23, 8, 0)
    assert result.tzinfo is TZ
    outside = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert next_send_time(outside, tz=TZ) == outside


def test_next_send_time_not_wrapping_window() -> None:
    start, end = time(12), time(13, 30)
    assert next_send_time(local(2026, 11, 23, 12, 15), start=start, end=end, tz=TZ) == local(
        2026, 11, 23, 13, 30
    )
    assert next_send_time(local(2026, 11, 23, 13, 30), start=start, end=end, tz=TZ) == local(
        2026, 11, 23, 13, 30
    )
    assert next_send_time(local(2026, 11, 23, 11, 0), start=start, end=end, tz=TZ) == local(
        2026, 11, 23, 11, 0
    )


def test_next_send_time_across_dst_changes() -> None:
    # The night clocks spring forward: 08:00 the next morning is summer time.
    result = next_send_time(local(2027, 3, 27, 23, 0), tz=TZ)
    assert result == local(2027, 3, 28, 8, 0)
    assert result.utcoffset() == timedelta(hours=2)
    # The repeated hour in autumn is inside the window too.
    repeated = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 winter time, second occurrence
    assert in_quiet_hours(repeated, start=time(20), end=time(8), tz=TZ)
    result = next_send_time(repeated, tz=TZ)
    assert utc(result) == utc(local(2026, 10, 25, 8, 0))
    assert result.utcoffset() == timedelta(hours=1)
    # A window ending inside the spring-forward gap ends at the first real moment after it.
    gap_end = next_send_time(local(2027, 3, 28, 1, 0), start=time(0), end=time(2, 30), tz=TZ)
    assert (gap_end.hour, gap_end.minute) == (3, 30)


def test_quiet_hours_refuse_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        in_quiet_hours(datetime(2026, 1, 1, 22), start=time(20), end=time(8), tz=TZ)
    with pytest.raises(ValueError):
        next_send_time(datetime(2026, 1, 1, 22), tz=TZ)
