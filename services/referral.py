"""The referral (indstilling) to PPR or Sundhedstjenesten: asking, answering, fetching it.

The coordinator asks (`ask`); every consent giver is asked to approve through the outbox and
may read a draft first (`answer` with no answer: the draft goes out as a document); one
refusal stops it; when all have approved, the referral is produced at once (`make_pdf`: the
caller's renderer, in a worker thread) and kept, and the coordinator is told and fetches it
(`fetch`). The record and the gate are reports/referrals.py; every step is audited (ids only).
No aiogram here: captions come from the caller's views.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from reports import referrals as rf
from reports.model import ReferralData
from reports.referral_doc import referral_data, referral_filename
from rules.access import ACTIVE, Action, Refusal, decide
from rules.dialog_config import DialogConfig
from services.documents import queue
from storage import audit
from storage import queries as q
from storage.models import Dialog, Participant, Person, Referral

if TYPE_CHECKING:
    from datetime import datetime

    from core.config import Settings
    from core.notices import Notices

# Audit actions (storage/audit.py: ids only, never content).
REFERRAL_ASKED = "referral.requested"
REFERRAL_DRAFT = "referral.draft_read"
REFERRAL_APPROVED = "referral.approved"
REFERRAL_REFUSED = "referral.refused"
REFERRAL_PRODUCED = "referral.produced"
REFERRAL_FETCHED = "referral.fetched"

history = rf.history  # every request of a dialog, oldest first


def approvers(dialog: Dialog) -> tuple[list[Participant], list[Participant]]:
    """Who must approve, and those of them who cannot answer in the bot yet (not joined)."""
    return rf.approvers(dialog), rf.not_reachable(dialog)


async def ask(session: AsyncSession, notices: Notices, seat: Participant, receiver: str,
              now: datetime) -> Referral:
    """The coordinator asks for a referral to `receiver` (rf.RECEIVERS; every consent giver can
    answer, see `approvers`); a pending one is replaced; each consent giver is asked."""
    dialog = seat.dialog
    referral = await rf.request(session, dialog, seat, receiver, now)
    await audit.record(session, actor_id=seat.person_id, dialog_id=dialog.id, action=REFERRAL_ASKED, now=now,
                       role=seat.role, referral_id=referral.id)
    for giver in rf.approvers(dialog):
        await notices.add(session, to=giver, kind="referral_request", key=f"ref:{referral.id}:ask:{giver.id}",
                          payload={"referral_id": referral.id})
    return referral


async def fetch(session: AsyncSession, seat: Participant, referral_id: int, now: datetime) -> Referral | None:
    """The produced referral of the coordinator's dialog (audited); None: no such one."""
    referral = await session.get(Referral, referral_id)
    if referral is None or referral.dialog_id != seat.dialog_id or referral.status != rf.PRODUCED \
            or referral.pdf is None:
        return None
    await audit.record(session, actor_id=seat.person_id, dialog_id=seat.dialog_id, action=REFERRAL_FETCHED,
                       now=now, role=seat.role, referral_id=referral.id)
    return referral


class Reply(StrEnum):
    """What became of a consent giver's answer."""

    stale = "stale"  # no such referral
    refused_seat = "refused_seat"  # the rules refuse the reader (`Answered.refusal`)
    not_asked = "not_asked"
    over = "over"  # produced, refused or replaced already
    draft = "draft"  # the draft is on its way
    already = "already"  # the same answer again
    refused = "refused"  # their refusal stopped it
    approved = "approved"  # approved; others still to answer
    produced = "produced"  # approved by everyone: made


@dataclass
class Answered:
    reply: Reply
    referral: Referral | None = None
    refusal: Refusal | None = None


async def answer(session: AsyncSession, notices: Notices, seat: Participant, referral_id: int,
                 approves: bool | None, *, config: DialogConfig, settings: Settings, now: datetime, locale: str,
                 draft_caption: Callable[[Referral, Dialog], str],
                 make_pdf: Callable[[ReferralData], Awaitable[bytes]]) -> Answered:
    """A consent giver approves (True), refuses (False) or asks for the draft (None)."""
    referral = await session.get(Referral, referral_id)
    if referral is None:
        return Answered(Reply.stale)
    dialog = seat.dialog
    decision = decide(q.seat(seat), dialog.state, Action.READ_SHARED)
    if not decision:
        return Answered(Reply.refused_seat, referral, decision.refusal)
    row = rf.answer_of(referral, seat.id)
    if row is None:
        return Answered(Reply.not_asked, referral)
    if referral.status != rf.PENDING:
        return Answered(Reply.over, referral)
    if approves is None:
        await audit.record(session, actor_id=seat.person_id, dialog_id=dialog.id, action=REFERRAL_DRAFT, now=now,
                           role=seat.role, referral_id=referral.id)
        data = await referral_data(session, dialog, referral, config, settings, now, draft=True)
        await queue(session, notices, seat.person, kind="referral", data=data, dialog_id=dialog.id,
                    filename=lambda: referral_filename(data.receiver, data.dialog.child_name, draft=True),
                    caption=draft_caption(referral, dialog), locale=locale, now=now)
        return Answered(Reply.draft, referral)
    if row.approves is approves:
        return Answered(Reply.already, referral)
    outcome = rf.record(referral, row, approves, now)
    await audit.record(session, actor_id=seat.person_id, dialog_id=dialog.id, now=now, role=seat.role,
                       action=REFERRAL_APPROVED if approves else REFERRAL_REFUSED, referral_id=referral.id)
    coordinator = await session.get(Person, dialog.coordinator_id)
    if outcome == rf.REFUSED:
        await notices.add(session, to=coordinator, kind="referral_refused", key=f"ref:{referral.id}:refused",
                          payload={"referral_id": referral.id, "participant_id": seat.id}, dialog_id=dialog.id)
        return Answered(Reply.refused, referral)
    if outcome == rf.PRODUCED:
        data = await referral_data(session, dialog, referral, config, settings, now, draft=False)
        rf.produced(referral, await make_pdf(data), now)
        await audit.record(session, actor_id=None, dialog_id=dialog.id, action=REFERRAL_PRODUCED, now=now,
                           referral_id=referral.id)
        await notices.add(session, to=coordinator, kind="referral_ready", key=f"ref:{referral.id}:ready",
                          payload={"referral_id": referral.id}, dialog_id=dialog.id)
        return Answered(Reply.produced, referral)
    await notices.add(session, to=coordinator, kind="referral_progress", key=f"ref:{referral.id}:yes:{seat.id}",
                      payload={"referral_id": referral.id, "participant_id": seat.id}, dialog_id=dialog.id)
    return Answered(Reply.approved, referral)


async def live(session: AsyncSession, referral_id: int) -> tuple[Referral, Dialog] | None:
    """A referral and its dialog, while the dialog is active (for a notice composed when it is sent)."""
    referral = await session.get(Referral, referral_id)
    if referral is None:
        return None
    # populate_existing: the dialog may already sit in the session, loaded through a seat without
    # its participants (an async session cannot load them later).
    dialog = await session.get(Dialog, referral.dialog_id, populate_existing=True)
    if dialog is None or dialog.state != ACTIVE:
        return None
    return referral, dialog
