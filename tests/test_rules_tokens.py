"""Invitation tokens: deep-link safe, stored only as hashes, expiring."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rules.tokens import expires_at, hash_token, is_expired, looks_like_token, new_token

NOW = datetime(2026, 11, 22, 20, 30, tzinfo=UTC)


def test_new_token_fits_a_telegram_start_parameter() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22,64}", token)
        assert len(token) * 6 >= 128  # at least 128 random bits
        assert looks_like_token(token)


def test_hash_token() -> None:
    token = new_token()
    digest = hash_token(token)
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert hash_token(token) == digest
    assert hash_token(token + "x") != digest


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("abc", True),
        ("A-b_9", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("", False),
        ("abc def", False),
        ("abc=", False),
        ("abc+/", False),
        ("æøå", False),
        ("abc\n", False),
        ("٣٤٥", False),  # non-ASCII digits
    ],
)
def test_looks_like_token(text: str, ok: bool) -> None:
    assert looks_like_token(text) is ok


def test_expiry() -> None:
    expiry = expires_at(NOW, 14)
    assert expiry == NOW + timedelta(days=14)
    assert not is_expired(expiry, NOW)
    assert not is_expired(expiry, expiry - timedelta(seconds=1))
    assert is_expired(expiry, expiry)
    assert is_expired(expiry, expiry + timedelta(days=1))
    assert is_expired(expires_at(NOW, 0), NOW)


def test_expiry_is_exact_across_zones_and_dst() -> None:
    tz = ZoneInfo("Europe/Copenhagen")
    # 02:30 summer time, then 02:10 winter time: later in real time, earlier on the wall clock.
    expiry = datetime(2026, 10, 25, 0, 30, tzinfo=UTC).astimezone(tz)
    later = datetime(2026, 10, 25, 1, 10, tzinfo=UTC).astimezone(tz)
    assert later.hour == 2 and later.minute == 10
    assert is_expired(expiry, later)
    assert is_expired(expiry, later.astimezone(UTC))


def test_naive_datetimes_and_negative_ttl_are_refused() -> None:
    naive = datetime(2026, 11, 22, 20, 30)
    with pytest.raises(ValueError):
        expires_at(naive, 14)
    with pytest.raises(ValueError):
        is_expired(naive, NOW)
    with pytest.raises(ValueError):
        is_expired(NOW, naive)
    with pytest.raises(ValueError):
        expires_at(NOW, -1)
