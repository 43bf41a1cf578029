"""Participants without Telegram: the coordinator adds them and enters what they say.

A young person under 16 (Telegram's minimum age in the EU) or a grandparent without a smartphone
takes part through the coordinator. Their seat has no link and holds nobody (`offline`); the
coordinator records their consent (given orally or on paper), writes their input and puts their
number on the ruler. Every such row says who typed it (`recorded_by_id` / `written_by_id`), so
everyone is shown "written by the coordinator for ..." as a fact, and each action is in the audit
log with the coordinator as the actor.

- `add`: the seat (the family approves it once the dialog has started, as any newcomer);
- `consent`: their answer to the consent card, as they gave it to the coordinator;
- `start_input` / `write_box` / `share_input` / `delete_input`: their input, one area at a time;
- `score`: their number on the ruler.

Who may do what for whom: rules.access.decide_for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rules import consent as consent_rules
from rules.access import ACTIVE, PAUSED, Action, Refusal, decide_for
from rules.consent import needs_approval
from rules.roles import COORDINATOR, YOUNG
from services.consent import Card, ask_approval, fingerprint
from storage import audit, inputs
from storage import privacy as pv
from storage import queries as q
from storage.models import Consent, Dialog, InputEntry, Participant, Person

if TYPE_CHECKING:
    from core.notices import Notices

ORAL = "oral"
PAPER = "paper"
HOW = (ORAL, PAPER)


@dataclass
class Added:
    participant: Participant
    asked: list[Participant] | None  # the dialog has started: the consent givers asked to approve


async def add(session: AsyncSession, notices: Notices, coordinator: Person, dialog: Dialog, *, name: str,
              role: str, relation: str | None, now: datetime) -> Added:
    """A seat without a link for someone who takes part without Telegram. The caller has checked that
    `coordinator` may invite to `dialog` (Action.INVITE)."""
    late = needs_approval(dialog.state)
    participant = await q.add_offline_participant(
        session, dialog=dialog, name=name, role=role, relation=None if role == YOUNG else relation, now=now,
        joined=not late)
    asked = await ask_approval(session, notices, dialog, participant) if late else None
    await audit.record(session, actor_id=coordinator.id, dialog_id=dialog.id, action=audit.OFFLINE_SEAT_ADDED,
                       now=now, role=COORDINATOR, participant_id=participant.id)
    return Added(participant, asked)


# ---- the check every action starts with ------------------------------------------------------------


@dataclass
class For:
    """The seat acted for, its dialog, and the rules' answer (`refusal` None: allowed)."""

    dialog: Dialog | None
    seat: Participant | None
    refusal: Refusal | None = None
    named: Dialog | None = None  # the dialog a refusal may name (the actor holds a seat in it)

    @property
    def allowed(self) -> bool:
        return self.refusal is None and self.seat is not None


async def check(session: AsyncSession, person: Person | None, participant_id: int, action: Action, *,
                lock: bool = False) -> For:
    """May `person` do `action` for the seat `participant_id`? (rules.access.decide_for)"""
    seat = await session.get(Participant, participant_id) if participant_id > 0 else None
    if seat is None:
        return For(None, None, Refusal.NOT_PARTICIPANT)
    dialog = await q.lock_dialog(session, seat.dialog_id) if lock else seat.dialog
    if lock:
        await session.refresh(seat)
    me = await q.participant_in(session, person, dialog.id)
    decision = decide_for(q.seat(me), q.seat(seat), dialog.state, action)
    if not decision:
        return For(dialog, seat, decision.refusal, dialog if me else None)
    return For(dialog, seat)


def offline_seats(dialog: Dialog) -> list[Participant]:
    """The dialog's participants without Telegram (not those the family refused or who were removed)."""
    return [p for p in dialog.participants if p.offline and p.approval != consent_rules.REFUSED]


# ---- consent ------------------------------------------------------------------------------------------


class Recorded(StrEnum):
    REFUSED = "refused"  # the rules refuse (`For.refusal`)
    STALE = "stale"  # not an answer this offers
    ALREADY_GIVEN = "already_given"  # consent is given already
    NOT_GIVEN = "not_given"  # a withdrawal, but there is no consent to withdraw
    CHANGED = "changed"  # the card changed since it was shown: nothing counts
    RECORDED = "recorded"


@dataclass
class ConsentRecord:
    outcome: Recorded
    target: For
    text: str = ""  # the card as it reads now
    consent: Consent | None = None
    state_after: str = ""
    missing: list[Participant] = field(default_factory=list)


async def latest_answer(session: AsyncSession, seat: Participant) -> str | None:
    return (await q.latest_answers(session, seat.dialog_id)).get(seat.id)


async def consent(session: AsyncSession, notices: Notices, coordinator: Person, participant_id: int, answer: str,
                  how: str, *, shown: str, card: Card, locale: str, now: datetime) -> ConsentRecord:
    """The coordinator records the answer the participant without Telegram gave them (`how`: orally
    or on paper) to the card whose text had the fingerprint `shown`: given, declined or withdrawn.
    Stored like every consent answer, with the card's text, and who recorded it and how."""
    target = await check(session, coordinator, participant_id, Action.CONSENT, lock=True)
    if not target.allowed:
        return ConsentRecord(Recorded.REFUSED, target)
    dialog, seat = target.dialog, target.seat
    assert dialog is not None and seat is not None
    if answer not in (consent_rules.GIVEN, consent_rules.DECLINED, consent_rules.WITHDRAWN) or how not in HOW:
        return ConsentRecord(Recorded.STALE, target)
    latest = await latest_answer(session, seat)
    if answer == consent_rules.WITHDRAWN and latest != consent_rules.GIVEN:
        return ConsentRecord(Recorded.NOT_GIVEN, target)
    if answer != consent_rules.WITHDRAWN and latest == consent_rules.GIVEN:
        return ConsentRecord(Recorded.ALREADY_GIVEN, target)
    text, listed = await card(dialog, seat)
    if shown != fingerprint(text):
        return ConsentRecord(Recorded.CHANGED, target, text=text)
    outcome = await q.record_consent(session, dialog=dialog, participant=seat, answer=answer, text_shown=text,
                                     participants_shown=listed, locale=locale, now=now)
    row = await session.get(Consent, outcome.consent_id)
    assert row is not None
    row.recorded_by_id = coordinator.id
    row.given_how = how
    action = {consent_rules.GIVEN: audit.ON_BEHALF_CONSENT_GIVEN, consent_rules.DECLINED: audit.ON_BEHALF_CONSENT_DECLINED,
              consent_rules.WITHDRAWN: audit.ON_BEHALF_CONSENT_WITHDRAWN}[answer]
    await audit.record(session, actor_id=coordinator.id, dialog_id=dialog.id, action=action, now=now,
                       role=COORDINATOR, participant_id=seat.id, consent_id=outcome.consent_id)
    if outcome.state_before != ACTIVE and outcome.state_after == ACTIVE:
        # The family's consent is whole: everyone who has joined hears that the dialog is open (or
        # continues), as when the last consent giver answers in the bot (services/consent.py).
        kind, key = (("dialog_resumed", f"resumed:{outcome.consent_id}") if outcome.state_before == PAUSED
                     else ("dialog_open", f"open:{dialog.id}"))
        for p in dialog.participants:
            if p.joined_at is not None and p.id != seat.id:
                await notices.add(session, to=p, kind=kind, key=f"{key}:{p.id}", payload={"dialog_id": dialog.id})
    return ConsentRecord(Recorded.RECORDED, target, text=text, consent=row, state_after=outcome.state_after,
                         missing=outcome.missing)


# ---- input ----------------------------------------------------------------------------------------------


@dataclass
class Draft:
    target: For
    entry: InputEntry | None = None


async def start_input(session: AsyncSession, coordinator: Person, participant_id: int, area: str,
                      now: datetime) -> Draft:
    """The draft of one area for the participant (the one there is, or a new one)."""
    target = await check(session, coordinator, participant_id, Action.WRITE_INPUT)
    if not target.allowed:
        return Draft(target)
    seat = target.seat
    assert seat is not None and target.dialog is not None
    round_no = target.dialog.round_no
    entry = await inputs.draft_for_area(session, seat, round_no, area)
    if entry is None:
        entry = await inputs.start_draft(session, seat, round_no, area, now)
    entry.written_by_id = coordinator.id
    return Draft(target, entry)


async def draft(session: AsyncSession, coordinator: Person, participant_id: int, entry_id: int) -> Draft:
    """The participant's draft `entry_id`, if the coordinator may write it (None: gone or shared)."""
    target = await check(session, coordinator, participant_id, Action.WRITE_INPUT)
    if not target.allowed:
        return Draft(target)
    assert target.seat is not None
    return Draft(target, await inputs.own_draft(session, target.seat, entry_id))


async def write_box(session: AsyncSession, coordinator: Person, participant_id: int, entry_id: int, box: str,
                    text: str, now: datetime) -> Draft:
    """One box of the participant's draft, in the words they gave the coordinator."""
    found = await draft(session, coordinator, participant_id, entry_id)
    if found.entry is None:
        return found
    inputs.write_box(found.entry, box, text, append=False, now=now)
    found.entry.written_by_id = coordinator.id
    await audit.record(session, actor_id=coordinator.id, dialog_id=found.entry.dialog_id,
                       action=audit.ON_BEHALF_INPUT_WRITTEN, now=now, role=COORDINATOR,
                       participant_id=participant_id, entry_id=found.entry.id, round_no=found.entry.round_no)
    return found


async def delete_input(session: AsyncSession, coordinator: Person, participant_id: int, entry_id: int,
                       now: datetime) -> Draft:
    found = await draft(session, coordinator, participant_id, entry_id)
    if found.entry is None:
        return found
    entry = found.entry
    await audit.record(session, actor_id=coordinator.id, dialog_id=entry.dialog_id,
                       action=audit.ON_BEHALF_INPUT_DELETED, now=now, role=COORDINATOR,
                       participant_id=participant_id, entry_id=entry.id, round_no=entry.round_no)
    await inputs.delete_draft(session, entry)
    return found


@dataclass
class Shared:
    target: For
    entries: list[InputEntry] = field(default_factory=list)


async def share_input(session: AsyncSession, notices: Notices, coordinator: Person, participant_id: int,
                      now: datetime) -> Shared:
    """Share the participant's drafts of this round; everyone else who has joined is told, with the
    marking (notice kind "input_shared_for")."""
    target = await check(session, coordinator, participant_id, Action.WRITE_INPUT)
    if not target.allowed:
        return Shared(target)
    seat, dialog = target.seat, target.dialog
    assert seat is not None and dialog is not None
    drafts = await inputs.drafts_of(session, seat, dialog.round_no)
    for entry in drafts:
        entry.written_by_id = entry.written_by_id or coordinator.id
    shared = await inputs.share_drafts(session, seat, dialog.round_no, now)
    if not shared:
        return Shared(target)
    for entry in shared:
        await audit.record(session, actor_id=coordinator.id, dialog_id=dialog.id, action=audit.ON_BEHALF_INPUT_SHARED,
                           now=now, role=COORDINATOR, participant_id=seat.id, entry_id=entry.id,
                           round_no=entry.round_no)
    last = max(e.id for e in shared)
    # Read here: the seat's dialog may have come without its participants (a joined load).
    others = await session.scalars(select(Participant).where(Participant.dialog_id == dialog.id))
    for other in others:
        if other.id != seat.id and other.joined_at is not None and other.role != COORDINATOR:
            await notices.add(session, to=other, kind="input_shared_for", key=f"shared_for:{last}:{other.id}",
                              payload={"participant_id": seat.id, "round_no": dialog.round_no})
    return Shared(target, shared)


# ---- the ruler -----------------------------------------------------------------------------------------


@dataclass
class Scored:
    target: For
    value: int | None = None


async def score(session: AsyncSession, coordinator: Person, participant_id: int, value: int, now: datetime) -> Scored:
    """The participant's number on the ruler (1-10) for this round, as they gave it to the coordinator."""
    target = await check(session, coordinator, participant_id, Action.SCALE)
    if not target.allowed:
        return Scored(target)
    if not 1 <= value <= 10:
        return Scored(target)  # no number: not a button this offers
    seat, dialog = target.seat, target.dialog
    assert seat is not None and dialog is not None
    row = await inputs.add_score(session, seat, dialog.round_no, value, now)
    row.written_by_id = coordinator.id
    await audit.record(session, actor_id=coordinator.id, dialog_id=dialog.id, action=audit.ON_BEHALF_SCORE, now=now,
                       role=COORDINATOR, participant_id=seat.id, round_no=dialog.round_no, score_id=row.id)
    return Scored(target, value)


# ---- what the coordinator sees of the seat --------------------------------------------------------------


@dataclass
class Status:
    latest_consent: Consent | None
    shared: int  # entries shared this round
    drafts: int
    number: int | None  # the latest number on the ruler this round


async def status(session: AsyncSession, seat: Participant) -> Status:
    consents = await pv.consents_of(session, seat)
    dialog = seat.dialog
    entries = await inputs.own_entries(session, seat, dialog.round_no)
    latest = (await inputs.latest_scores(session, dialog, dialog.round_no)).get(seat.id)
    return Status(consents[-1] if consents else None, sum(e.shared_at is not None for e in entries),
                  sum(e.shared_at is None for e in entries), latest.value if latest else None)
