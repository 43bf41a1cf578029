"""Reaching the coordinator: their contact details, and a family member's message to them.

- `coordinator_of`: the coordinator of a dialog (a Person; their contact details are on it);
- `set_details`: a coordinator sets (or clears) their phone, e-mail and when they can be reached;
- `send_to_coordinator`: a participant's short message reaches the dialog's coordinator as a
  notice (kind "family_message", the text encrypted in the outbox row's body). Text typed
  outside a step (handlers/loose_text.py) and "Write a message to the coordinator"
  (handlers/contact.py) both come here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from rules.access import Action, Refusal, decide
from rules.roles import COORDINATOR, STAFF_COORDINATOR
from storage import queries as q
from storage.models import Dialog, Participant, Person

if TYPE_CHECKING:
    from core.notices import Notices

MESSAGE_LIMIT = 3_000  # a message to the coordinator fits one Telegram message with its header
KEEP = object()  # `set_details`: leave this detail as it is


async def coordinator_of(session: AsyncSession, dialog: Dialog) -> Person | None:
    return await session.get(Person, dialog.coordinator_id)


def has_details(person: Person | None) -> bool:
    return person is not None and bool(person.contact_phone or person.contact_email or person.contact_hours)


async def set_details(session: AsyncSession, person: Person, *, phone: object = KEEP, email: object = KEEP,
                      hours: object = KEEP) -> bool:
    """Store the coordinator's contact details (None clears one, KEEP leaves it); False: not a coordinator."""
    if person.staff_role != STAFF_COORDINATOR:
        return False
    for field, value in (("contact_phone", phone), ("contact_email", email), ("contact_hours", hours)):
        if value is not KEEP:
            setattr(person, field, value or None)
    await session.flush()
    return True


class Sent(StrEnum):
    REFUSED = "refused"  # the rules refuse (`refusal`), or the sender is the coordinator
    TOO_LONG = "too_long"
    SENT = "sent"


@dataclass
class Message:
    outcome: Sent
    coordinator: Person | None = None
    refusal: Refusal | None = None


async def send_to_coordinator(session: AsyncSession, notices: Notices, seat: Participant, text: str, *,
                              key: str) -> Message:
    """`seat`'s holder sends `text` to the dialog's coordinator (once per `key`: a tap or message id)."""
    decision = decide(q.seat(seat), seat.dialog.state, Action.VIEW_PURPOSE)
    if not decision:
        return Message(Sent.REFUSED, refusal=decision.refusal)
    if seat.role == COORDINATOR:
        return Message(Sent.REFUSED)
    if len(text) > MESSAGE_LIMIT:
        return Message(Sent.TOO_LONG)
    coordinator = await coordinator_of(session, seat.dialog)
    await notices.add(session, to=coordinator, kind="family_message", key=f"msg:{seat.id}:{key}",
                      payload={"participant_id": seat.id}, dialog_id=seat.dialog_id, body=text)
    return Message(Sent.SENT, coordinator)
