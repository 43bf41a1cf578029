"""Handing a dialog over to another coordinator (from the dialog's card, or `samspil admin transfer-dialog`).

The dialog gets a new coordinator: `dialog.coordinator_id` and the coordinator's seat move to
them, so they see everything that has happened in it, and the old coordinator keeps no access.
The old coordinator's seat stays in the record under their name (what they wrote and scored
is still theirs), holding nobody, as a seat the coordinator removed does; their unshared
drafts go, and their open tasks pass to the new coordinator. A new coordinator who already
holds a seat in the dialog (a caseworker taking over) keeps it, now as the coordinator's.
Notices still waiting for the old coordinator about this dialog go to the new one.

The handover is in the audit log; the new coordinator is told (with the note), and so is
everyone in the dialog (who their coordinator now is, and how to reach them), through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rules.access import CLOSED
from rules.roles import COORDINATOR, PROFESSIONAL, STAFF_COORDINATOR
from storage import audit
from storage import plan as pl
from storage import privacy as pv
from storage import queries as q
from storage.models import Dialog, OutboxMessage, Participant, Person, Task
from storage.outbox import HELD, PENDING

if TYPE_CHECKING:
    from core.notices import Notices

NOTE_LIMIT = 500
# Kinds of notice (renderers in handlers/desk_views.py).
TO_NEW = "handover_new"  # to the new coordinator, with the note
TO_OLD = "handover_old"  # to the old coordinator, when an administrator did it
TO_MEMBERS = "handover"  # to everyone in the dialog: who their coordinator is now


class Handed(StrEnum):
    HANDED = "handed"
    NO_DIALOG = "no_dialog"
    CLOSED = "closed"  # a closed dialog is not handed over
    SAME = "same"  # the receiver leads the dialog already
    NOT_COORDINATOR = "not_coordinator"  # the receiver is not a registered coordinator
    CONSENT_SEAT = "consent_seat"  # the receiver holds a consent giver's seat in the dialog


@dataclass
class Handover:
    outcome: Handed
    dialog: Dialog | None = None
    old: Person | None = None
    new: Person | None = None
    told: list[Participant] = field(default_factory=list)  # the participants told
    event_id: int | None = None


def receivers(coordinators: list[Person], dialog: Dialog) -> list[Person]:
    """Whom a dialog can be handed to: registered coordinators other than its own, by name."""
    return sorted((p for p in coordinators if p.id != dialog.coordinator_id), key=lambda p: ((p.name or "").lower(), p.id))


async def coordinators(session: AsyncSession) -> list[Person]:
    """Every registered coordinator (a person with the staff role and a Telegram account)."""
    rows = await session.scalars(select(Person).where(Person.staff_role == STAFF_COORDINATOR,
                                                      Person.telegram_id.is_not(None)).order_by(Person.id))
    return list(rows)


async def hand_over(session: AsyncSession, notices: Notices, dialog_id: int, to: Person, *, note: str | None,
                    by_id: int | None, actor_role: str | None, now: datetime) -> Handover:
    """Hand `dialog_id` to the coordinator `to`. `by_id`: who did it (the old coordinator, or None:
    an administrator, `actor_role` "admin"). Nothing changes unless the outcome is HANDED."""
    if await q.get_dialog(session, dialog_id) is None:
        return Handover(Handed.NO_DIALOG)
    dialog = await q.lock_dialog(session, dialog_id)
    if dialog.state == CLOSED:
        return Handover(Handed.CLOSED, dialog)
    if to.staff_role != STAFF_COORDINATOR or to.telegram_id is None:
        return Handover(Handed.NOT_COORDINATOR, dialog, new=to)
    if to.id == dialog.coordinator_id:
        return Handover(Handed.SAME, dialog, new=to)
    existing = await q.participant_in(session, to, dialog.id)
    if existing is not None and existing.consent_giver:
        return Handover(Handed.CONSENT_SEAT, dialog, new=to)
    old = await session.get(Person, dialog.coordinator_id)
    old_seats = [p for p in dialog.participants if p.role == COORDINATOR]

    # The new coordinator's seat: theirs already (a professional taking over), or a new one.
    if existing is not None:
        seat = existing
        seat.role = COORDINATOR
        seat.approval = None
        seat.joined_at = seat.joined_at or now
    else:
        seat = Participant(dialog_id=dialog.id, person_id=to.id, name=to.name or "", role=COORDINATOR,
                           relation=to.title, consent_giver=False, joined_at=now, created_at=now)
        session.add(seat)
    await session.flush()
    # The old seat stays in the record (what was written there is the old coordinator's), empty.
    for old_seat in old_seats:
        await session.execute(update(Task).where(Task.owner_id == old_seat.id, Task.status.in_(pl.NOT_DONE))
                              .values(owner_id=seat.id).execution_options(synchronize_session=False))
        old_seat.role = PROFESSIONAL
        await pv.remove_seat(session, old_seat, now)
    dialog.coordinator_id = to.id
    if old is not None:
        # What was on its way to the old coordinator about this dialog (held for their digest
        # too) is the new one's now.
        await session.execute(update(OutboxMessage).where(
            OutboxMessage.dialog_id == dialog.id, OutboxMessage.person_id == old.id,
            OutboxMessage.status.in_((PENDING, HELD)), OutboxMessage.kind != "answer")
            .values(person_id=to.id).execution_options(synchronize_session=False))
    await session.flush()
    await session.refresh(dialog, ["participants"])

    event = await audit.record(session, actor_id=by_id, dialog_id=dialog.id, action=audit.DIALOG_HANDED_OVER,
                               now=now, role=actor_role or COORDINATOR, participant_id=seat.id,
                               from_person_id=old.id if old else None, to_person_id=to.id)
    key = f"handover:{dialog.id}:{event.id}"
    await notices.add(session, to=to, kind=TO_NEW, key=f"{key}:new", dialog_id=dialog.id,
                      payload={"dialog_id": dialog.id, "from_person_id": old.id if old else None,
                               "by_admin": by_id is None}, body=note or None)
    if old is not None and by_id != old.id:
        await notices.add(session, to=old, kind=TO_OLD, key=f"{key}:old", dialog_id=dialog.id,
                          payload={"dialog_id": dialog.id, "to_person_id": to.id})
    told = []
    for p in dialog.participants:
        if p.role == COORDINATOR or p.person_id is None or p.joined_at is None or p.removed_at is not None:
            continue
        if await notices.add(session, to=p, kind=TO_MEMBERS, key=f"{key}:{p.id}",
                             payload={"participant_id": p.id, "coordinator_id": to.id}):
            told.append(p)
    return Handover(Handed.HANDED, dialog, old, to, told, event.id)
