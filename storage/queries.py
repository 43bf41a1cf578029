"""Queries and writes for people, dialogs, participants, invitations and consents.

Handlers call these with the update's session (one transaction per update);
nothing here commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, raiseload

from rules import consent as consent_rules
from rules.access import Seat
from rules.roles import COORDINATOR, is_consent_giver
from rules.tokens import hash_token, new_token
from storage.models import (
    AWAITING_CONSENT,
    Consent,
    Dialog,
    DialogRound,
    Invitation,
    Participant,
    Person,
    ProcessedUpdate,
    Registration,
)

# ---- people ---------------------------------------------------------------------------


async def person_by_telegram_id(session: AsyncSession, telegram_id: int) -> Person | None:
    return await session.scalar(select(Person).where(Person.telegram_id == telegram_id))


async def get_or_create_person(session: AsyncSession, telegram_id: int, now: datetime) -> Person:
    person = await person_by_telegram_id(session, telegram_id)
    if person is None:
        person = Person(telegram_id=telegram_id, created_at=now)
        session.add(person)
        await session.flush()
    return person


# ---- registration of staff -------------------------------------------------------------


async def create_registration(
    session: AsyncSession, *, staff_role: str, name: str, title: str | None, now: datetime,
    ttl_days: int,
) -> str:
    """A single-use registration link's token (returned once, stored as a hash)."""
    token = new_token()
    session.add(Registration(
        token_hash=hash_token(token), staff_role=staff_role, name=name, title=title,
        created_at=now, expires_at=now + timedelta(days=ttl_days),
    ))
    await session.flush()
    return token


async def registration_by_token(session: AsyncSession, token: str) -> Registration | None:
    return await session.scalar(
        select(Registration).where(Registration.token_hash == hash_token(token))
    )


# ---- dialogs ---------------------------------------------------------------------------


async def create_dialog(
    session: AsyncSession, *, coordinator: Person, child_name: str, age_group: str,
    purpose: str, now: datetime,
) -> Dialog:
    dialog = Dialog(
        coordinator_id=coordinator.id, child_name=child_name, age_group=age_group,
        purpose=purpose, state=AWAITING_CONSENT, round_no=1, created_at=now,
        purpose_updated_at=now,
    )
    session.add(dialog)
    await session.flush()
    session.add(DialogRound(dialog_id=dialog.id, round_no=1, started_at=now))
    # The coordinator holds a seat too: they lead, and may write input and scale.
    session.add(Participant(
        dialog_id=dialog.id, person_id=coordinator.id, name=coordinator.name or "",
        role=COORDINATOR, relation=coordinator.title, consent_giver=False,
        joined_at=now, created_at=now,
    ))
    await session.flush()
    await session.refresh(dialog, ["participants"])
    return dialog


async def lock_dialog(session: AsyncSession, dialog_id: int) -> Dialog:
    """The dialog, locked for this transaction and read afresh (participants too).

    Changes to who is in and whether it is open (joining, consent) take this lock,
    so two processes handling them at once cannot both miss the other's change.
    SQLite has one writer at a time and ignores FOR UPDATE.
    """
    dialog = await session.scalar(
        select(Dialog).where(Dialog.id == dialog_id).with_for_update()
        .execution_options(populate_existing=True))
    assert dialog is not None
    # Seats loaded earlier in this transaction are read again too (who has joined).
    await session.execute(select(Participant).where(Participant.dialog_id == dialog_id)
                          .execution_options(populate_existing=True))
    await session.refresh(dialog, ["participants"])
    return dialog


async def get_dialog(session: AsyncSession, dialog_id: int) -> Dialog | None:
    return await session.get(Dialog, dialog_id)


async def coordinator_dialogs(session: AsyncSession, person: Person) -> list[Dialog]:
    rows = await session.scalars(
        select(Dialog).where(Dialog.coordinator_id == person.id).order_by(Dialog.id)
    )
    return list(rows)


async def seats_of(session: AsyncSession, person: Person) -> list[Participant]:
    """Every seat this person holds (one per dialog), newest dialog last."""
    rows = await session.scalars(
        select(Participant).where(Participant.person_id == person.id).order_by(Participant.dialog_id)
    )
    return list(rows)


async def participant_in(session: AsyncSession, person: Person | None, dialog_id: int, *,
                         with_seats: bool = True) -> Participant | None:
    """The sender's seat in a dialog, found on the server: the only source of authority.

    `with_seats=False`, for a step that needs the sender's seat alone (a text in a box, a tap
    on one's own draft): the dialog comes without its other participants, one statement less,
    and reading `dialog.participants` then raises rather than quietly loading them."""
    if person is None:
        return None
    return await session.scalar(_SEAT if with_seats else _SEAT_ALONE, {"person_id": person.id, "dialog_id": dialog_id})


# The seat with its dialog (joined here) and person (joined by the model) in one SELECT; as
# selectin loads they were two more statements for every seat looked up. The dialog's
# participants follow as the model says (one SELECT), or not at all for a step that needs the
# sender's seat alone. Built once: the hot path of every tap and answer.
def _seat_query(*, with_seats: bool) -> Select[tuple[Participant]]:
    dialog = joinedload(Participant.dialog, innerjoin=True)
    return (select(Participant)
            .where(Participant.person_id == bindparam("person_id"), Participant.dialog_id == bindparam("dialog_id"))
            .options(dialog if with_seats else dialog.options(raiseload(Dialog.participants))))


_SEAT = _seat_query(with_seats=True)
_SEAT_ALONE = _seat_query(with_seats=False)


def seat(participant: Participant | None) -> Seat | None:
    if participant is None:
        return None
    return Seat(
        role=participant.role,
        consent_giver=participant.consent_giver,
        joined=participant.joined_at is not None,
        offline=participant.offline,
    )


# ---- participants and invitations ----------------------------------------------------------


async def add_participant(
    session: AsyncSession, *, dialog: Dialog, name: str, role: str, relation: str | None,
    now: datetime, ttl_days: int,
) -> tuple[Participant, str]:
    participant = Participant(
        dialog_id=dialog.id, name=name, role=role, relation=relation,
        consent_giver=is_consent_giver(role), created_at=now,
    )
    session.add(participant)
    await session.flush()
    token = await new_invitation(session, participant, now=now, ttl_days=ttl_days)
    return participant, token


async def add_offline_participant(
    session: AsyncSession, *, dialog: Dialog, name: str, role: str, relation: str | None, now: datetime,
    joined: bool,
) -> Participant:
    """A seat for someone without Telegram: no invitation, no person; `joined`: a member at once."""
    participant = Participant(
        dialog_id=dialog.id, name=name, role=role, relation=relation, consent_giver=is_consent_giver(role),
        created_at=now, offline=True, joined_at=now if joined else None,
    )
    session.add(participant)
    await session.flush()
    return participant


async def new_invitation(session: AsyncSession, participant: Participant, *, now: datetime, ttl_days: int) -> str:
    token = new_token()
    session.add(Invitation(
        participant_id=participant.id, token_hash=hash_token(token), created_at=now,
        expires_at=now + timedelta(days=ttl_days),
    ))
    await session.flush()
    return token


async def invitation_by_token(session: AsyncSession, token: str) -> Invitation | None:
    return await session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))


# ---- consent -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentOutcome:
    consent_id: int
    state_before: str
    state_after: str
    missing: list[Participant]


async def latest_answers(session: AsyncSession, dialog_id: int) -> dict[int, str]:
    last = (
        select(Consent.participant_id, func.max(Consent.id).label("last_id"))
        .where(Consent.dialog_id == dialog_id)
        .group_by(Consent.participant_id)
        .subquery()
    )
    rows = await session.execute(
        select(Consent.participant_id, Consent.answer).join(last, Consent.id == last.c.last_id)
    )
    return {pid: answer for pid, answer in rows.all()}


async def record_consent(
    session: AsyncSession, *, dialog: Dialog, participant: Participant, answer: str,
    text_shown: str, participants_shown: list[str], locale: str, now: datetime,
) -> ConsentOutcome:
    consent = Consent(
        dialog_id=dialog.id, participant_id=participant.id, answer=answer,
        text_shown=text_shown, participants_shown=json.dumps(participants_shown, ensure_ascii=False),
        locale=locale, created_at=now,
    )
    session.add(consent)
    await session.flush()
    latest = await latest_answers(session, dialog.id)
    givers = [p.id for p in dialog.participants if p.consent_giver]
    before = dialog.state
    after = consent_rules.state_after_answer(before, givers, latest)
    if after != before:
        dialog.state = after
        if after == "active" and dialog.activated_at is None:
            dialog.activated_at = now
    missing_ids = set(consent_rules.missing_consents(givers, latest))
    return ConsentOutcome(consent.id, before, after, [p for p in dialog.participants if p.id in missing_ids])


# ---- updates handled once ----------------------------------------------------------------------


async def first_delivery(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Record `update_id` in this transaction; False when it was handled before.

    On PostgreSQL a second process handling the same update waits on the key until
    the first commits (then sees it) or rolls back (then handles it itself).
    """
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(ProcessedUpdate).values(update_id=update_id, processed_at=now)
        .on_conflict_do_nothing(index_elements=["update_id"]))
    return bool(result.rowcount)
