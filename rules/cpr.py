"""Detect Danish CPR numbers so that they can be refused before anything is stored.

A CPR number is ``ddmmyy-xxxx``: a date of birth and four digits. We flag ten
digits written as 6+4 (joined, or split by one space or a dash) whose first six
form a real calendar date. The century is unknown, so 29 February is accepted
for every year, and the day may be raised by 60 (an "erstatningspersonnummer").
The modulus-11 check is deliberately not used: it was dropped in 2007.
"""

from __future__ import annotations

import calendar
import re

__all__ = ["contains_cpr"]

# Hyphen-minus, hyphen, non-breaking hyphen, figure dash, en dash, em dash, minus.
_DASHES = "\u002d\u2010\u2011\u2012\u2013\u2014\u2212"
# Plain, non-breaking, narrow non-breaking and thin spaces.
_SPACES = " \u00a0\u202f\u2009"

# The lookahead finds overlapping candidates, so an invalid one cannot hide a
# valid one that starts inside it. Digit boundaries keep longer numbers (account
# numbers, IBANs) out; a leading "+" marks an international phone number.
_CANDIDATE = re.compile(
    rf"(?=(?<![\d+])(\d{{6}})(?:[{_SPACES}]?|[{_SPACES}]*[{_DASHES}][{_SPACES}]*)(\d{{4}})(?!\d))"
)


def _is_birth_date(ddmmyy: str) -> bool:
    day, month = int(ddmmyy[0:2]), int(ddmmyy[2:4])
    if day > 60:  # erstatningspersonnummer: day + 60
        day -= 60
    if not 1 <= month <= 12:
        return False
    # 2000 is a leap year: with an unknown century, 29 February must pass.
    return 1 <= day <= calendar.monthrange(2000, month)[1]


def contains_cpr(text: str) -> bool:
    """True if ``text`` contains something that looks like a Danish CPR number."""
    return any(_is_birth_date(m.group(1)) for m in _CANDIDATE.finditer(text))
