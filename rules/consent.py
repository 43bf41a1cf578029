"""The consent gate: nobody but the family gets in until every consent giver said yes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rules.access import ACTIVE, AWAITING_CONSENT, CLOSED, PAUSED

GIVEN = "given"
TALK_FIRST = "talk_first"
DECLINED = "declined"
WITHDRAWN = "withdrawn"
ANSWERS = (GIVEN, TALK_FIRST, DECLINED, WITHDRAWN)


def all_consented(consent_givers: Iterable[int], latest: Mapping[int, str]) -> bool:
    """True when there is at least one consent giver and each one's latest answer is 'given'."""
    givers = list(consent_givers)
    return bool(givers) and all(latest.get(g) == GIVEN for g in givers)


def missing_consents(consent_givers: Iterable[int], latest: Mapping[int, str]) -> list[int]:
    return [g for g in consent_givers if latest.get(g) != GIVEN]


def state_after_answer(state: str, consent_givers: Iterable[int], latest: Mapping[int, str]) -> str:
    """The dialog's state once the latest answers are known.

    Awaiting consent becomes active when everyone has consented. A withdrawal
    pauses an active dialog; consenting again resumes it. Closed stays closed.
    """
    if state == CLOSED:
        return CLOSED
    if all_consented(consent_givers, latest):
        return ACTIVE
    if state in (ACTIVE, PAUSED):
        return PAUSED
    return AWAITING_CONSENT
