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


# ---- participants added after the start ---------------------------------------------------
#
# Once the dialog has started, the family decides who else comes in: every consent
# giver (parents with custody, or the young person) must approve a new participant,
# just as every one of them consented to the first list. One refusal is enough to
# keep the person out.

PENDING = "pending"
APPROVED = "approved"
REFUSED = "refused"


def needs_approval(state: str) -> bool:
    """A participant invited to a dialog that has started (active or paused) needs approval."""
    return state in (ACTIVE, PAUSED)


def approval_state(approvers: Iterable[int], answers: Mapping[int, bool]) -> str:
    """'refused' once anyone refused; 'approved' when every approver approved; else 'pending'.

    `answers` maps an approver to True (approve) or False (refuse); answers from
    anyone who is not (any longer) an approver do not count.
    """
    who = list(approvers)
    if any(answers.get(a) is False for a in who):
        return REFUSED
    if who and all(answers.get(a) is True for a in who):
        return APPROVED
    return PENDING
