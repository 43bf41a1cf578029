"""Who is in a dialog: opening one, inviting, following a link, removing a wrong person.

- `open_dialog`: the coordinator's `/ny`;
- `invite`: a participant and their personal link (the family approves them once the
  dialog has started);
- `follow_link`: `/start <token>`, a staff registration link or an invitation link;
- `remove_seat`: the coordinator takes out whoever opened a link by mistake.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from rules import consent as consent_rules
from rules.access import ACTIVE, CLOSED, Action, Refusal, decide
from rules.consent import needs_approval
from rules.roles import COORDINATOR, STAFF_COORDINATOR, YOUNG
from rules.tokens import is_expired
from services.consent import ask_approval
from services.meetings import call_newcomer
from storage import audit
from storage import privacy as pv
from storage import queries as q
from storage.models import Dialog, Participant, Person, Registration

if TYPE_CHECKING:
    from core.config import Settings
    from core.notices import Notices

log = logging.getLogger("samspil.membership")


# ---- /ny and /inviter ---------------------------------------------------------------------------


async def open_dialog(session: AsyncSession, coordinator: Person, *, child_name: str, age_group: str,
                      purpose: str, now: datetime) -> Dialog:
    """A new dialog, awaiting the family's consent; the coordinator holds its first seat."""
    return await q.create_dialog(session, coordinator=coordinator, child_name=child_name, age_group=age_group,
                                 purpose=purpose, now=now)


@dataclass
class Invited:
    participant: Participant
    token: str  # for the personal link, shown once
    asked: list[Participant] | None  # the dialog has started: the consent givers asked to approve


async def invite(session: AsyncSession, notices: Notices, dialog: Dialog, *, name: str, role: str,
                 relation: str | None, now: datetime, ttl_days: int) -> Invited:
    """A new seat and its single-use link; after the start the family decides whether it counts."""
    participant, token = await q.add_participant(
        session, dialog=dialog, name=name, role=role, relation=None if role == YOUNG else relation,
        now=now, ttl_days=ttl_days)
    asked = await ask_approval(session, notices, dialog, participant) if needs_approval(dialog.state) else None
    return Invited(participant, token, asked)


# ---- /start <token> ---------------------------------------------------------------------------


class Link(StrEnum):
    UNKNOWN = "unknown"  # no registration or invitation has this token
    REGISTRATION_USED = "registration_used"
    REGISTRATION_EXPIRED = "registration_expired"
    REGISTERED = "registered"  # `person` is now staff (coordinator or professional)
    WITHDRAWN = "withdrawn"  # the invitation was revoked, or the family said no
    USED = "used"
    EXPIRED = "expired"
    CLOSED = "closed"  # the dialog is closed (`dialog`)
    MINE = "mine"  # the link's seat is this person's already
    ALREADY_IN = "already_in"  # this person holds another seat in the dialog (`seat`)
    SEAT_HELD = "seat_held"  # as ALREADY_IN, for a link still waiting for the family's approval
    AWAITING_APPROVAL = "awaiting_approval"  # opened (remembered), the family has not approved yet
    JOINED = "joined"  # `person` now holds `seat` in `dialog`


@dataclass
class Followed:
    outcome: Link
    person: Person | None = None
    dialog: Dialog | None = None
    seat: Participant | None = None


async def follow_link(session: AsyncSession, notices: Notices, settings: Settings, token: str,
                      person: Person | None, *, telegram_id: int, locale: str, opened_by: str | None,
                      now: datetime) -> Followed:
    """Someone opens `/start <token>`: `telegram_id`, `locale` (their app's) and `opened_by` (the
    account as Telegram shows it) describe who. A link that fails changes nothing."""
    registration = await q.registration_by_token(session, token)
    if registration is not None:
        return await _register(session, registration, person, telegram_id=telegram_id, locale=locale, now=now)
    invitation = await q.invitation_by_token(session, token)
    if invitation is None:
        return Followed(Link.UNKNOWN)
    participant = await session.get(Participant, invitation.participant_id)
    assert participant is not None
    # Joining and consenting change who hears what when the dialog opens: one at a time.
    dialog = await q.lock_dialog(session, participant.dialog_id)
    if invitation.revoked_at is not None or participant.approval == consent_rules.REFUSED:
        return Followed(Link.WITHDRAWN)
    if participant.approval == consent_rules.PENDING:
        return await _await_approval(session, notices, participant, invitation, person, telegram_id=telegram_id,
                                     locale=locale, opened_by=opened_by, now=now)
    if person is not None and participant.person_id == person.id:
        return Followed(Link.MINE, person, dialog, participant)
    if invitation.used_at is not None:
        return Followed(Link.USED)
    if is_expired(invitation.expires_at, now):
        return Followed(Link.EXPIRED)
    if dialog.state == CLOSED:
        return Followed(Link.CLOSED, dialog=dialog)

    person = await _person(session, person, telegram_id, locale, now)
    if (seat := await q.participant_in(session, person, dialog.id)) is not None:
        return Followed(Link.ALREADY_IN, person, dialog, seat)
    invitation.used_at = now
    participant.person_id = person.id
    participant.joined_at = now
    participant.opened_by = opened_by
    if not person.name:
        person.name = participant.name
    await session.flush()
    coordinator = await session.get(Person, dialog.coordinator_id)
    await notices.add(session, to=coordinator, kind="joined", key=f"joined:{participant.id}",
                      payload={"participant_id": participant.id}, dialog_id=dialog.id)
    if dialog.state == ACTIVE:
        await call_newcomer(session, notices, settings, dialog, participant, now)  # a meeting may wait
    return Followed(Link.JOINED, person, dialog, participant)


async def _person(session: AsyncSession, person: Person | None, telegram_id: int, locale: str,
                  now: datetime) -> Person:
    person = person or await q.get_or_create_person(session, telegram_id, now)
    if person.locale is None:
        person.locale = locale
    return person


async def _await_approval(session: AsyncSession, notices: Notices, participant: Participant, invitation, # type: ignore[no-untyped-def]
                          person: Person | None, *, telegram_id: int, locale: str, opened_by: str | None,
                          now: datetime) -> Followed:
    """A link to a dialog that had started: the family has not approved the person yet.

    The one who opens it is remembered (not let in), so they can be told when the
    family has answered.
    """
    if participant.person_id is not None and (person is None or participant.person_id != person.id):
        return Followed(Link.USED)
    if is_expired(invitation.expires_at, now):
        return Followed(Link.EXPIRED)
    dialog = participant.dialog
    if dialog.state == CLOSED:
        return Followed(Link.CLOSED, dialog=dialog)
    if participant.person_id is None:
        person = await _person(session, person, telegram_id, locale, now)
        if await q.participant_in(session, person, participant.dialog_id) is not None:
            return Followed(Link.SEAT_HELD, person, dialog)
        participant.person_id = person.id
        participant.opened_by = opened_by
        await session.flush()
        coordinator = await session.get(Person, dialog.coordinator_id)
        await notices.add(session, to=coordinator, kind="joined", key=f"joined:{participant.id}",
                          payload={"participant_id": participant.id}, dialog_id=participant.dialog_id)
    return Followed(Link.AWAITING_APPROVAL, person, dialog, participant)


async def _register(session: AsyncSession, registration: Registration, person: Person | None, *,
                    telegram_id: int, locale: str, now: datetime) -> Followed:
    """A staff registration link: the person becomes a coordinator or a professional."""
    if registration.used_at is not None:
        return Followed(Link.REGISTRATION_USED)
    if is_expired(registration.expires_at, now):
        return Followed(Link.REGISTRATION_EXPIRED)
    person = await _person(session, person, telegram_id, locale, now)
    # A coordinator stays a coordinator when also registered as a professional.
    if person.staff_role != STAFF_COORDINATOR:
        person.staff_role = registration.staff_role
    person.name = registration.name
    person.title = registration.title
    registration.used_at = now
    registration.person_id = person.id
    await session.flush()
    return Followed(Link.REGISTERED, person)


# ---- the coordinator removes a seat (a link opened by the wrong person) -------------------------


class Removed(StrEnum):
    REFUSED = "refused"  # the rules refuse the tapper (`refusal`)
    STALE = "stale"  # the seat is gone
    ALREADY = "already"  # removed before
    CONSENT_SEAT = "consent_seat"  # a consent giver's (or the coordinator's) seat: not by one tap
    REMOVED = "removed"


@dataclass
class Removal:
    outcome: Removed
    dialog: Dialog | None = None
    seat: Participant | None = None
    refusal: Refusal | None = None
    named: Dialog | None = None  # the dialog a refusal may name (the tapper holds a seat in it)


async def remove_seat(session: AsyncSession, notices: Notices, person: Person, participant_id: int,
                      now: datetime) -> Removal:
    """The coordinator (`person`) takes whoever holds `participant_id` out of the dialog: their access
    ends, their link dies, their unshared drafts go; the parents with custody are told."""
    seat = await session.get(Participant, participant_id)
    if seat is None:
        return Removal(Removed.STALE)
    dialog = await q.lock_dialog(session, seat.dialog_id)
    me = await q.participant_in(session, person, dialog.id)
    decision = decide(q.seat(me), dialog.state, Action.INVITE)
    if not decision:
        return Removal(Removed.REFUSED, dialog, seat, decision.refusal, dialog if me else None)
    await session.refresh(seat)
    if seat.removed_at is not None:
        return Removal(Removed.ALREADY, dialog, seat)
    if seat.role == COORDINATOR or seat.consent_giver:
        # Consent rests on these seats: a wrong parent is a matter for the coordinator and the
        # family together, not one tap.
        return Removal(Removed.CONSENT_SEAT, dialog, seat)
    removed = await pv.remove_seat(session, seat, now)
    await audit.record(session, actor_id=person.id, dialog_id=dialog.id, action=audit.PARTICIPANT_REMOVED,
                       now=now, role=me.role, participant_id=seat.id)
    for giver in dialog.participants:
        if giver.consent_giver and giver.joined_at is not None:
            await notices.add(session, to=giver, kind="seat_removed", key=f"removed:{seat.id}:{giver.id}",
                              payload={"participant_id": seat.id})
    if removed is not None:
        await notices.add(session, to=removed, kind="seat_removed_you", key=f"removed:{seat.id}:you",
                          dialog_id=dialog.id, payload={"participant_id": seat.id})
    return Removal(Removed.REMOVED, dialog, seat)
