"""Data rights and closing: export a person's data, erase a person, close a dialog.

`erase` is what `/slet_mine_data` does and what `samspil admin erase-person` does on the
person's request to the municipality.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from rules import consent as consent_rules
from rules.access import CLOSED
from rules.roles import COORDINATOR
from storage import audit
from storage import privacy as pv
from storage import queries as q
from storage.models import Dialog, Participant, Person

if TYPE_CHECKING:
    from core.notices import Notices

log = logging.getLogger("samspil.privacy")


async def export(session: AsyncSession, person: Person, now: datetime) -> dict[str, Any]:
    """Everything stored about `person` and written by them (/mine_data); the export is audited."""
    data = await pv.export_person(session, person, now)
    await audit.record(session, actor_id=person.id, dialog_id=None, action=audit.EXPORT, now=now,
                       person_id=person.id)
    log.info("data exported person_id=%s", person.id)
    return data


async def may_erase(session: AsyncSession, person: Person) -> bool:
    """A coordinator of dialogs that are not closed cannot simply disappear."""
    return not await pv.coordinates_open_dialogs(session, person)


async def erase(session: AsyncSession, notices: Notices, person: Person, *, now: datetime,
                keep: frozenset[str], text_shown: str, locale: str, actor_id: int | None,
                actor_role: str | None = None) -> pv.Erasure | None:
    """Erase a person's data and tell the coordinators; None: they coordinate dialogs that are
    not closed, and nothing is erased.

    A consent giver who had consented to a dialog that is not closed withdraws first:
    the dialog pauses, as the family's consent is no longer whole.
    """
    if not await may_erase(session, person):
        return None
    person_id = person.id
    for seat in await q.seats_of(session, person):
        if not (seat.consent_giver and seat.joined_at is not None and seat.dialog.state != CLOSED):
            continue
        dialog = await q.lock_dialog(session, seat.dialog_id)
        if (await q.latest_answers(session, dialog.id)).get(seat.id) == consent_rules.GIVEN:
            outcome = await q.record_consent(
                session, dialog=dialog, participant=seat, answer=consent_rules.WITHDRAWN, text_shown=text_shown,
                participants_shown=[], locale=locale, now=now)
            await audit.record(session, actor_id=actor_id, dialog_id=dialog.id, action=audit.CONSENT_WITHDRAWN,
                               now=now, participant_id=seat.id, consent_id=outcome.consent_id, role=actor_role)
    result = await pv.erase_person(session, person, now=now, keep=keep)
    for dialog_id, participant_id, coordinator_id in result.tell:
        coordinator = await session.get(Person, coordinator_id)
        await notices.add(session, to=coordinator, kind="person_erased", key=f"erased:{participant_id}",
                          payload={"participant_id": participant_id}, dialog_id=dialog_id)
    await audit.record(session, actor_id=actor_id, dialog_id=None, action=audit.PERSON_DELETED, now=now,
                       person_id=person_id, role=actor_role)
    log.info("person erased person_id=%s seats=%s deleted=%s anonymised=%s", person_id, result.seats,
             result.deleted, result.anonymised)
    return result


async def erase_offline_seat(session: AsyncSession, notices: Notices, participant_id: int, *, now: datetime,
                             keep: frozenset[str], text_shown: str, locale: str, actor_id: int | None,
                             actor_role: str | None = None) -> pv.Erasure | None:
    """Erase the data of a participant without Telegram (services/on_behalf.py) on their request to the
    municipality: what `erase` does for a person. None: no such seat, or it is not one without Telegram.

    Such a seat holds no person; for the erasure it is given a nameless stand-in person row, which
    `erase` leaves as it leaves every erased person (no name, no Telegram id), and the same rules
    apply: a given consent is withdrawn first, KEEP_ON_ERASE is kept without the name, the
    coordinator is told.
    """
    seat = await session.get(Participant, participant_id)
    if seat is None or not seat.offline or seat.person_id is not None or seat.name == pv.ERASED_NAME:
        return None  # gone, in Telegram (erased by their person), or erased already
    stand_in = Person(created_at=now)
    session.add(stand_in)
    await session.flush()
    seat.person_id = stand_in.id
    await session.flush()
    return await erase(session, notices, stand_in, now=now, keep=keep, text_shown=text_shown, locale=locale,
                       actor_id=actor_id, actor_role=actor_role)


async def close(session: AsyncSession, notices: Notices, dialog_id: int, reason: str, now: datetime) -> Dialog | None:
    """The coordinator closes a dialog; everyone in it is told. None: it was closed already."""
    dialog = await q.lock_dialog(session, dialog_id)
    if dialog.state == CLOSED:
        return None
    pv.close_dialog(dialog, reason, now)
    for p in dialog.participants:
        if p.joined_at is not None and p.person_id is not None and p.role != COORDINATOR:
            await notices.add(session, to=p, kind="dialog_closed", key=f"closed:{dialog.id}:{p.id}",
                              payload={"dialog_id": dialog.id})
    log.info("dialog closed dialog_id=%s", dialog.id)
    return dialog
