"""Issue #13: which coordinator notices wait for the digest, and when the digest goes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules import consent as consent_rules
from rules.digest import effective_times, format_times, next_digest_time, parse_times
from rules.notice_urgency import DIRECT, KINDS, ROUTINE, URGENT, is_routine, urgency

CPH = ZoneInfo("Europe/Copenhagen")
QUIET = dict(quiet_start=time(20), quiet_end=time(8))
DEFAULT = (time(8), time(14))


def local(y: int, m: int, d: int, h: int, mi: int = 0, tz: ZoneInfo = CPH) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=tz)


def nxt(after: datetime, times=DEFAULT, tz: ZoneInfo = CPH, **kw) -> datetime:  # type: ignore[no-untyped-def]
    return next_digest_time(after, times=times, tz=tz, **{**QUIET, **kw}).astimezone(tz)


# ---- classification ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["high_score", "family_message", "task_help", "unreachable", "plan_comment"])
def test_what_the_issue_calls_urgent_goes_at_once(kind: str) -> None:
    assert urgency(kind, {}) == URGENT


@pytest.mark.parametrize("kind", ["joined", "input_shared", "meeting_rsvp", "task_done", "plan_accepted"])
def test_what_the_issue_calls_routine_waits_for_the_digest(kind: str) -> None:
    assert urgency(kind, {}) == ROUTINE and is_routine(kind, {})


def test_a_consent_answer_is_routine_only_when_it_is_a_yes() -> None:
    assert urgency("consent_answer", {"answer": consent_rules.GIVEN}) == ROUTINE
    for answer in (consent_rules.DECLINED, consent_rules.WITHDRAWN, consent_rules.TALK_FIRST):
        assert urgency("consent_answer", {"answer": answer}) == URGENT
    assert urgency("consent_answer", {}) == URGENT  # unknown: rather too early than too late


def test_an_unknown_kind_is_never_held() -> None:
    assert urgency("something_new", {}) == DIRECT
    assert not is_routine("something_new")


def test_every_notice_kind_of_the_bot_is_classified() -> None:
    """A new notice kind must be put in rules/notice_urgency.KINDS (urgent, routine or direct)."""
    import bot.app  # noqa: F401  (every renderer registered)
    from core.notices import RENDERERS

    own_tests = {"test_note", "bench_reminder"}
    missing = sorted(set(RENDERERS) - set(KINDS) - own_tests)
    assert missing == [], f"classify these in rules/notice_urgency.py: {missing}"


# ---- the digest times -------------------------------------------------------------------------------


def test_times_are_read_sorted_and_distinct() -> None:
    assert parse_times("14:00, 8") == (time(8), time(14))
    assert parse_times("8.30,8:30") == (time(8, 30),)
    assert format_times(parse_times("14,8")) == "08:00,14:00"
    for bad in ("", "25:00", "8:61", "otte", "1,2,3,4,5,6,7"):
        with pytest.raises(ValueError):
            parse_times(bad)


def test_a_time_in_the_quiet_hours_moves_to_their_end() -> None:
    assert effective_times((time(7), time(14)), **QUIET) == (time(8), time(14))
    assert effective_times((time(21), time(8)), **QUIET) == (time(8),)


def test_weekdays_at_eight_and_two() -> None:
    # Monday 23 November 2026
    assert nxt(local(2026, 11, 23, 7, 59)) == local(2026, 11, 23, 8)
    assert nxt(local(2026, 11, 23, 8)) == local(2026, 11, 23, 14)  # strictly after
    assert nxt(local(2026, 11, 23, 10)) == local(2026, 11, 23, 14)
    assert nxt(local(2026, 11, 23, 14, 1)) == local(2026, 11, 24, 8)
    assert nxt(local(2026, 11, 23, 23, 30)) == local(2026, 11, 24, 8)


def test_the_weekend_waits_for_monday_morning() -> None:
    friday = local(2026, 11, 27, 14, 30)
    assert nxt(friday) == local(2026, 11, 30, 8)
    assert nxt(local(2026, 11, 28, 10)) == local(2026, 11, 30, 8)  # Saturday
    assert nxt(local(2026, 11, 29, 23, 59)) == local(2026, 11, 30, 8)  # Sunday night


def test_summer_time_changes_keep_the_wall_clock_time() -> None:
    # Sunday 29 March 2026: 02:00 -> 03:00. Monday's digests at 08:00 and 14:00 summer time.
    after = local(2026, 3, 27, 15)  # Friday
    assert nxt(after) == local(2026, 3, 30, 8)
    assert nxt(after).utcoffset() == timedelta(hours=2)
    # Sunday 25 October 2026: 03:00 -> 02:00. Monday's digest at 08:00 winter time.
    assert nxt(local(2026, 10, 23, 15)) == local(2026, 10, 26, 8)
    assert nxt(local(2026, 10, 23, 15)).utcoffset() == timedelta(hours=1)
    # A digest time in the skipped hour moves forward by the gap; the repeated one comes once.
    spring = next_digest_time(local(2026, 3, 29, 0), times=(time(2, 30),), tz=CPH, weekdays=range(7),
                              quiet_start=time(0), quiet_end=time(0))
    assert spring.astimezone(CPH) == local(2026, 3, 29, 3, 30)
    autumn = next_digest_time(datetime(2026, 10, 25, 0, 10, tzinfo=UTC), times=(time(2, 30),), tz=CPH,
                              weekdays=range(7), quiet_start=time(0), quiet_end=time(0))
    assert autumn == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30 (summer time)
    again = next_digest_time(autumn, times=(time(2, 30),), tz=CPH, weekdays=range(7),
                             quiet_start=time(0), quiet_end=time(0))
    assert again == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)  # not the repeated 02:30 an hour later


def test_other_time_zones_and_utc_input() -> None:
    ny = ZoneInfo("America/New_York")
    assert nxt(datetime(2026, 11, 23, 12, 0, tzinfo=UTC), tz=ny) == local(2026, 11, 23, 8, tz=ny)
    with pytest.raises(ValueError):
        next_digest_time(datetime(2026, 11, 23, 12), times=DEFAULT, tz=CPH, **QUIET)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.sampled_from(["Europe/Copenhagen", "UTC", "America/New_York", "Australia/Lord_Howe"]),
       st.lists(st.times(), min_size=1, max_size=4))
def test_any_date_gives_a_weekday_slot_within_four_days_outside_the_quiet_hours(
        naive: datetime, zone: str, times: list[time]) -> None:
    tz = ZoneInfo(zone)
    after = naive.replace(tzinfo=UTC)
    slot = next_digest_time(after, times=times, tz=tz, **QUIET)
    assert slot > after
    assert slot - after <= timedelta(days=4, hours=1)
    here = slot.astimezone(tz)
    assert here.weekday() < 5
    assert not (here.time() >= time(20) or here.time() < time(8))
    # Nothing in between: the slot is the first.
    assert next_digest_time(after, times=times, tz=tz, **QUIET) == slot
    earlier = slot - timedelta(seconds=1)
    if earlier > after:
        assert next_digest_time(earlier, times=times, tz=tz, **QUIET) == slot


def test_a_date_far_ahead() -> None:
    assert nxt(local(2099, 12, 31, 15)).date() == date(2100, 1, 1)  # a Friday
