"""A coordinator's contact details, read plainly: a phone number, an e-mail address, when to call.

`phone` and `email` give the value as it is stored and shown, or None when the text is not
one (the person is asked again and nothing changes). Plain checks, no look-ups: a Danish
number is eight digits, any other starts with + or 00 and a country code.
"""

from __future__ import annotations

import re

PHONE_LIMIT = 30
EMAIL_LIMIT = 120
HOURS_LIMIT = 120

_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./-]+$")
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def phone(text: str) -> str | None:
    """'12345678' -> '12 34 56 78'; '+45 1234 5678' -> '+45 12 34 56 78'; '+46 8 123 456' kept as typed."""
    text = " ".join(text.split())
    if len(text) > PHONE_LIMIT or not _PHONE_CHARS.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    international = text.startswith("+") or digits.startswith("00")
    if international:
        digits = digits[2:] if digits.startswith("00") else digits
        if digits.startswith("45") and len(digits) == 10:
            return "+45 " + _pairs(digits[2:])
        return "+" + text.lstrip("+0 ") if 7 <= len(digits) <= 15 else None
    return _pairs(digits) if len(digits) == 8 else None


def _pairs(eight: str) -> str:
    return " ".join(eight[i:i + 2] for i in range(0, 8, 2))


def email(text: str) -> str | None:
    """The address without surrounding blanks, or None when it is not one."""
    text = text.strip().removeprefix("mailto:")
    if len(text) > EMAIL_LIMIT or not _EMAIL.match(text):
        return None
    return text
