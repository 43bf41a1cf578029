"""Who is asking: Telegram's signed `initData`, checked on every request.

Telegram signs what it hands a Mini App (the user, `auth_date`) with a key derived from
the bot token; aiogram's `safe_parse_webapp_init_data` checks that HMAC. It travels in a
request header, never in a cookie, so another site cannot make a browser send it (no
CSRF), and never in a URL (no personal data in logs or history).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from aiogram.utils.web_app import WebAppInitData, safe_parse_webapp_init_data

HEADER = "X-Telegram-Init-Data"
CLOCK_SKEW = timedelta(minutes=5)  # a phone's clock a little ahead of ours is fine


class Refused(StrEnum):
    MISSING = "missing"
    FORGED = "forged"
    EXPIRED = "expired"


class NotSigned(Exception):
    def __init__(self, reason: Refused) -> None:
        super().__init__(reason.value)
        self.reason = reason


def check_init_data(token: str, raw: str | None, now: datetime, max_age: timedelta) -> WebAppInitData:
    """The signed data, or NotSigned: missing, not signed with our token, or too old."""
    if not raw:
        raise NotSigned(Refused.MISSING)
    try:
        data = safe_parse_webapp_init_data(token, raw)
    except ValueError:
        raise NotSigned(Refused.FORGED) from None
    if data.user is None:
        raise NotSigned(Refused.FORGED)
    age = now - data.auth_date
    if age > max_age or age < -CLOCK_SKEW:
        raise NotSigned(Refused.EXPIRED)
    return data
