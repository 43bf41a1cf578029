"""Invitation tokens for deep links (``https://t.me/<bot>?start=<token>``).

Telegram allows only ``[A-Za-z0-9_-]`` and at most 64 characters in a start
parameter. Tokens are stored only as SHA-256 hashes: a leaked database does not
leak working links. Plain SHA-256 (no salt) is enough because a token carries
192 random bits and cannot be guessed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

__all__ = ["TOKEN_BYTES", "expires_at", "hash_token", "is_expired", "looks_like_token", "new_token"]

TOKEN_BYTES = 24  # 192 bits -> 32 URL-safe characters
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def new_token() -> str:
    """A fresh random token: 32 characters of ``[A-Za-z0-9_-]``."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(text: str) -> bool:
    """True if ``text`` could be a start parameter (charset and 1..64 characters)."""
    return _TOKEN_RE.fullmatch(text) is not None


def _require_aware(value: datetime, name: str) -> None:
    # Comparing naive and aware datetimes fails late and obscurely; fail early.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def expires_at(now: datetime, ttl_days: int) -> datetime:
    """When a token issued at ``now`` stops working."""
    _require_aware(now, "now")
    if ttl_days < 0:
        raise ValueError("ttl_days must not be negative")
    return now + timedelta(days=ttl_days)


def is_expired(expires_at: datetime, now: datetime) -> bool:
    """True from the moment of expiry on."""
    _require_aware(expires_at, "expires_at")
    _require_aware(now, "now")
    # In UTC: datetimes sharing a ZoneInfo compare by wall clock, ignoring DST.
    return now.astimezone(UTC) >= expires_at.astimezone(UTC)
