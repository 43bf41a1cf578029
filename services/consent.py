"""Consent both ways, and the family's say over participants added after the start.

- `answer`: a consent giver answers the consent card (yes, talk first, no thanks);
- `withdraw`: they take a given consent back (an active dialog pauses at once);
- `ask_approval` / `approve`: every consent giver approves a participant invited after the
  dialog started (one refusal revokes the invitation).

The texts a person was shown are rendered by the handler and stored as given.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from rules import consent as consent_rules
from rules.access import ACTIVE, PAUSED, Action, Refusal, decide
from services.meetings import call_newcomer
from storage import audit
from storage import privacy as pv
from storage import queries as q
from storage.models import Dialog, Participant, Person

if TYPE_CHECKING:
    from core.config import Settings
    from core.notices import Notices

log = logging.getLogger("samspil.privacy")

# The consent card's text and the list it shows, rendered for a dialog and a seat (handlers).
Card = Callable[[Dialog, Participant], Awaitable[tuple[str, list[str]]]]


def fingerprint(body: str) -> str:
    """A short mark of a card's text: an answer counts only for the text that was shown."""
    return hashlib.sha256(body.encode()).hexdigest()[:12]


# ---- the consent card -------------------------------------------------------------------------


class Answered(StrEnum):
    REFUSED = "refused"  # the rules refuse (`refusal`)
    STALE = "stale"  # not an answer the card offers
    ALREADY_GIVEN = "already_given"  # consent is given: an old card
    CHANGED = "changed"  # the dialog changed since the card was shown: nothing counts (`text`: the new card)
    RECORDED = "recorded"


@dataclass
class CardAnswer:
    outcome: Answered
    dialog: Dialog
    refusal: Refusal | None = None
    text: str = ""
    recorded: q.ConsentOutcome | None = None


async def answer(session: AsyncSession, notices: Notices, participant: Participant, answer: str, *,
                 shown: str, card: Card, locale: str, now: datetime) -> CardAnswer:
    """The holder of `participant` answers the card whose text had the fingerprint `shown`."""
    # Joining and consenting change who hears what when the dialog opens: one at a time.
    dialog = await q.lock_dialog(session, participant.dialog_id)
    decision = decide(q.seat(participant), dialog.state, Action.CONSENT)
    if not decision:
        return CardAnswer(Answered.REFUSED, dialog, decision.refusal)
    if answer not in (consent_rules.GIVEN, consent_rules.TALK_FIRST, consent_rules.DECLINED):
        return CardAnswer(Answered.STALE, dialog)
    if (await q.latest_answers(session, dialog.id)).get(participant.id) == consent_rules.GIVEN:
        return CardAnswer(Answered.ALREADY_GIVEN, dialog)
    # Stored: exactly what this person was shown, in their language, at this moment.
    text, listed = await card(dialog, participant)
    if shown != fingerprint(text):
        return CardAnswer(Answered.CHANGED, dialog, text=text)
    outcome = await q.record_consent(session, dialog=dialog, participant=participant, answer=answer,
                                     text_shown=text, participants_shown=listed, locale=locale, now=now)
    await audit.record(session, actor_id=participant.person_id, dialog_id=dialog.id,
                       action=audit.consent_action(answer), now=now, role=participant.role,
                       participant_id=participant.id, consent_id=outcome.consent_id)
    coordinator = await session.get(Person, dialog.coordinator_id)
    await notices.add(session, to=coordinator, kind="consent_answer", key=f"consent:{outcome.consent_id}",
                      payload={"consent_id": outcome.consent_id, "answer": answer}, dialog_id=dialog.id)
    if outcome.state_before == PAUSED and outcome.state_after == ACTIVE:
        # Consent is whole again after a withdrawal: everyone else hears that the dialog continues.
        await _tell_the_others(session, notices, dialog, participant, "dialog_resumed", f"resumed:{outcome.consent_id}")
    elif outcome.state_before != ACTIVE and outcome.state_after == ACTIVE:
        await _tell_the_others(session, notices, dialog, participant, "dialog_open", f"open:{dialog.id}")
    return CardAnswer(Answered.RECORDED, dialog, text=text, recorded=outcome)


async def _tell_the_others(session: AsyncSession, notices: Notices, dialog: Dialog, but: Participant,
                           kind: str, key: str) -> None:
    """Everyone else who has joined hears that the dialog is open (or continues)."""
    for p in dialog.participants:
        if p.joined_at is not None and p.id != but.id:
            await notices.add(session, to=p, kind=kind, key=f"{key}:{p.id}", payload={"dialog_id": dialog.id})


# ---- withdrawing -----------------------------------------------------------------------------


async def is_given(session: AsyncSession, seat: Participant) -> bool:
    """Whether the seat's latest consent answer is yes (there is something to withdraw)."""
    return (await q.latest_answers(session, seat.dialog_id)).get(seat.id) == consent_rules.GIVEN


@dataclass
class Withdrawal:
    withdrawn: bool  # False: consent was not given, nothing to withdraw
    dialog: Dialog
    state_after: str = ""


async def withdraw(session: AsyncSession, notices: Notices, seat: Participant, *, card: Card, text_shown: str,
                   locale: str, now: datetime) -> Withdrawal:
    """A consent giver withdraws (having confirmed `text_shown`; the participants listed are those
    of the consent card): an active dialog pauses at once; the coordinator is told."""
    # A withdrawal changes whether the dialog is open: one consent change at a time (as joining).
    dialog = await q.lock_dialog(session, seat.dialog_id)
    if not await is_given(session, seat):
        return Withdrawal(False, dialog)
    _text, participants_shown = await card(dialog, seat)
    outcome = await q.record_consent(
        session, dialog=dialog, participant=seat, answer=consent_rules.WITHDRAWN,
        text_shown=text_shown, participants_shown=participants_shown, locale=locale, now=now)
    await audit.record(session, actor_id=seat.person_id, dialog_id=dialog.id, action=audit.CONSENT_WITHDRAWN,
                       now=now, participant_id=seat.id, consent_id=outcome.consent_id)
    coordinator = await session.get(Person, dialog.coordinator_id)
    await notices.add(session, to=coordinator, kind="consent_answer", key=f"consent:{outcome.consent_id}",
                      payload={"consent_id": outcome.consent_id, "answer": consent_rules.WITHDRAWN},
                      dialog_id=dialog.id)
    log.info("consent withdrawn dialog_id=%s participant_id=%s state=%s", dialog.id, seat.id, outcome.state_after)
    return Withdrawal(True, dialog, outcome.state_after)


# ---- a participant added after the start: the family approves -------------------------------------


async def ask_approval(session: AsyncSession, notices: Notices, dialog: Dialog, newcomer: Participant) -> list[Participant]:
    """Mark `newcomer` as waiting and ask every consent giver; returns who was asked."""
    newcomer.approval = consent_rules.PENDING
    asked = pv.approvers(dialog, newcomer)
    for approver in asked:
        await notices.add(session, to=approver, kind="newcomer_approval", key=f"approve:{newcomer.id}:{approver.id}",
                          payload={"participant_id": newcomer.id, "approver_id": approver.id})
    return asked


class Approved(StrEnum):
    REFUSED = "refused"  # the rules refuse the tapper (`refusal`)
    STALE = "stale"  # the newcomer is gone
    DECIDED = "decided"  # already approved or refused
    ANSWERED = "answered"  # this approver has answered already
    APPROVED = "approved"  # every consent giver has approved: the newcomer is in
    NOT_APPROVED = "not_approved"  # one said no: the invitation is withdrawn
    WAITING = "waiting"  # others still have to answer (`waiting`)


@dataclass
class ApprovalAnswer:
    outcome: Approved
    dialog: Dialog | None = None
    newcomer: Participant | None = None
    refusal: Refusal | None = None
    named: Dialog | None = None  # the dialog a refusal may name (the tapper holds a seat in it)
    waiting: list[Participant] = field(default_factory=list)


async def approve(session: AsyncSession, notices: Notices, settings: Settings, person: Person, newcomer_id: int,
                  approved: bool, *, now: datetime) -> ApprovalAnswer:
    """A consent giver (`person`) approves or refuses the newcomer `newcomer_id`."""
    newcomer = await session.get(Participant, newcomer_id)
    if newcomer is None:
        return ApprovalAnswer(Approved.STALE)
    # Two parents answering at the same moment must both be counted: one at a time.
    dialog = await q.lock_dialog(session, newcomer.dialog_id)
    await session.refresh(newcomer)
    me = await q.participant_in(session, person, dialog.id)
    decision = decide(q.seat(me), dialog.state, Action.APPROVE)
    if decision and me.id not in {a.id for a in pv.approvers(dialog, newcomer)}:
        decision = decide(None, dialog.state, Action.APPROVE)  # e.g. a pending newcomer themselves
    if not decision:
        return ApprovalAnswer(Approved.REFUSED, dialog, newcomer, decision.refusal, dialog if me else None)
    if newcomer.approval != consent_rules.PENDING:
        return ApprovalAnswer(Approved.DECIDED, dialog, newcomer)
    if me.id in await pv.approval_answers(session, newcomer):
        return ApprovalAnswer(Approved.ANSWERED, dialog, newcomer)

    state = await pv.record_approval(session, newcomer, me, approved, now)
    await audit.record(session, actor_id=person.id, dialog_id=dialog.id, now=now, participant_id=newcomer.id,
                       action=audit.APPROVAL_GIVEN if approved else audit.APPROVAL_REFUSED)
    coordinator = await session.get(Person, dialog.coordinator_id)
    if state == consent_rules.APPROVED:
        # Someone who opened their link is let in now; so is someone without Telegram (no link).
        admitted = newcomer.person_id is not None or newcomer.offline
        if admitted:
            await pv.admit(session, newcomer, now)
        await notices.add(session, to=coordinator, kind="newcomer_approved", key=f"approved:{newcomer.id}",
                          payload={"participant_id": newcomer.id}, dialog_id=dialog.id)
        if admitted:
            await notices.add(session, to=newcomer, kind="newcomer_welcome", key=f"welcome:{newcomer.id}",
                              payload={"participant_id": newcomer.id})
            await call_newcomer(session, notices, settings, dialog, newcomer, now)  # a meeting may wait
        return ApprovalAnswer(Approved.APPROVED, dialog, newcomer)
    if state == consent_rules.REFUSED:
        await pv.revoke_invitations(session, newcomer, now)
        opened_by = await session.get(Person, newcomer.person_id) if newcomer.person_id else None
        newcomer.person_id = None  # they never got in: the link between them and the seat goes
        if opened_by is not None:
            await notices.add(session, to=opened_by, kind="invitation_withdrawn", key=f"withdrawn:{newcomer.id}",
                              payload={"participant_id": newcomer.id}, dialog_id=dialog.id)
        await notices.add(session, to=coordinator, kind="newcomer_refused", key=f"refused:{newcomer.id}",
                          payload={"participant_id": newcomer.id}, dialog_id=dialog.id)
        return ApprovalAnswer(Approved.NOT_APPROVED, dialog, newcomer)
    answers = await pv.approval_answers(session, newcomer)
    waiting = [a for a in pv.approvers(dialog, newcomer) if a.id not in answers]
    return ApprovalAnswer(Approved.WAITING, dialog, newcomer, waiting=waiting)
