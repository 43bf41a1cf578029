"""Indstilling (referral) to PPR or Sundhedstjenesten: the record, the consent gate, the queries.

The coordinator asks; every consent giver of the dialog (parents with custody,
or the young person) must approve in the bot before the document is produced.
One refusal stops it. Each request is a row in `referral` with one
`referral_answer` row per consent giver asked, so the dialog's history shows who
asked, for whom, who approved or refused and when, and when the document was
produced (its bytes are kept, so the coordinator can fetch exactly what was
approved again). The tables are in storage/models.py; nothing here commits; no aiogram.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Dialog, Participant, Referral, ReferralAnswer

RECEIVERS = ("ppr", "health")
PENDING, PRODUCED, REFUSED, CANCELLED = "pending", "produced", "refused", "cancelled"


# ---- the gate (pure) ----------------------------------------------------------------------------


def gate(answers: list[bool | None]) -> str:
    """pending until every one asked has approved; one refusal decides at once."""
    if any(a is False for a in answers):
        return REFUSED
    if answers and all(a is True for a in answers):
        return PRODUCED
    return PENDING


def approvers(dialog: Dialog) -> list[Participant]:
    """Who must approve: every consent giver of the dialog."""
    return [p for p in dialog.participants if p.consent_giver]


def not_reachable(dialog: Dialog) -> list[Participant]:
    """Consent givers who cannot answer in the bot (they have not opened their link)."""
    return [p for p in approvers(dialog) if p.joined_at is None or p.person_id is None]


# ---- queries and writes ---------------------------------------------------------------------------


async def history(session: AsyncSession, dialog_id: int) -> list[Referral]:
    rows = await session.scalars(select(Referral).where(Referral.dialog_id == dialog_id).order_by(Referral.id))
    return list(rows)


async def pending_of(session: AsyncSession, dialog_id: int) -> list[Referral]:
    rows = await session.scalars(select(Referral).where(Referral.dialog_id == dialog_id,
                                                        Referral.status == PENDING))
    return list(rows)


async def request(session: AsyncSession, dialog: Dialog, by: Participant, receiver: str,
                  now: datetime) -> Referral:
    """A new request; a pending one of the same dialog is cancelled (its buttons go stale)."""
    if receiver not in RECEIVERS:
        raise ValueError(receiver)
    for old in await pending_of(session, dialog.id):
        old.status, old.decided_at = CANCELLED, now
    referral = Referral(dialog_id=dialog.id, requested_by_id=by.id, receiver=receiver, status=PENDING,
                        round_no=dialog.round_no, requested_at=now)
    referral.answers = [ReferralAnswer(participant_id=p.id) for p in approvers(dialog)]
    session.add(referral)
    await session.flush()
    return referral


def answer_of(referral: Referral, participant_id: int) -> ReferralAnswer | None:
    return next((a for a in referral.answers if a.participant_id == participant_id), None)


def record(referral: Referral, row: ReferralAnswer, approves: bool, now: datetime) -> str:
    """Record an answer; returns the referral's state by the gate (the caller produces or stops it)."""
    row.approves, row.answered_at = approves, now
    outcome = gate([a.approves for a in referral.answers])
    if outcome == REFUSED:
        referral.status, referral.decided_at = REFUSED, now
    return outcome


def produced(referral: Referral, pdf: bytes, now: datetime) -> None:
    referral.status, referral.decided_at, referral.produced_at, referral.pdf = PRODUCED, now, now, pdf
