"""Dialog input (the three boxes) and scores: drafts, sharing, the round's overview.

Reads of other people's input only ever return shared entries; drafts are found
by their author's participant id alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defaultload

from storage.models import Dialog, InputEntry, Participant, Score

BOXES = ("worries", "works", "next_steps")


# ---- drafts -------------------------------------------------------------------------------

# The author's seat is the caller's `participant`, in the session with its dialog: its dialog is
# not selected again (Participant.dialog's selectin load queries even for a dialog the session
# holds; lazily, a many-to-one finds it in the session without SQL). One statement less for
# every text typed into a box, every tap on one's own draft, and the home facts after sharing.
SEAT_IN_SESSION = [defaultload(InputEntry.participant).lazyload(Participant.dialog)]


async def drafts_of(session: AsyncSession, participant: Participant, round_no: int) -> list[InputEntry]:
    rows = await session.scalars(
        select(InputEntry)
        .where(InputEntry.participant_id == participant.id, InputEntry.round_no == round_no,
               InputEntry.shared_at.is_(None))
        .order_by(InputEntry.id).options(*SEAT_IN_SESSION)
    )
    return list(rows)


async def own_entries(session: AsyncSession, participant: Participant, round_no: int) -> list[InputEntry]:
    """The author's drafts and shared entries of a round."""
    rows = await session.scalars(
        select(InputEntry)
        .where(InputEntry.participant_id == participant.id, InputEntry.round_no == round_no)
        .order_by(InputEntry.id).options(*SEAT_IN_SESSION)
    )
    return list(rows)


async def draft_for_area(session: AsyncSession, participant: Participant, round_no: int, area: str) -> InputEntry | None:
    return await session.scalar(
        select(InputEntry).where(
            InputEntry.participant_id == participant.id, InputEntry.round_no == round_no,
            InputEntry.area == area, InputEntry.shared_at.is_(None)).options(*SEAT_IN_SESSION)
    )


async def own_entry(session: AsyncSession, participant: Participant, entry_id: int) -> InputEntry | None:
    """An entry (draft or shared), only if it is this participant's."""
    entry = await session.get(InputEntry, entry_id, options=SEAT_IN_SESSION)
    if entry is None or entry.participant_id != participant.id:
        return None
    return entry


async def own_draft(session: AsyncSession, participant: Participant, entry_id: int) -> InputEntry | None:
    """A draft, only if it is this participant's and still a draft."""
    entry = await session.get(InputEntry, entry_id, options=SEAT_IN_SESSION)
    if entry is None or entry.participant_id != participant.id or entry.shared_at is not None:
        return None
    return entry


async def start_draft(session: AsyncSession, participant: Participant, round_no: int, area: str, now: datetime) -> InputEntry:
    entry = InputEntry(
        dialog_id=participant.dialog_id, participant_id=participant.id, round_no=round_no,
        area=area, created_at=now, updated_at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


def box_text(entry: InputEntry, box: str) -> str:
    return getattr(entry, box) or ""


def write_box(entry: InputEntry, box: str, text: str, *, append: bool, now: datetime) -> None:
    """Save an answer into a box: appended to what is there (several messages) or replacing it."""
    if box not in BOXES:
        raise ValueError(box)
    old = box_text(entry, box)
    setattr(entry, box, f"{old}\n\n{text}" if append and old else text)
    entry.updated_at = now


def is_empty(entry: InputEntry) -> bool:
    return not any(box_text(entry, b).strip() for b in BOXES)


async def delete_draft(session: AsyncSession, entry: InputEntry) -> None:
    await session.execute(delete(InputEntry).where(InputEntry.id == entry.id, InputEntry.shared_at.is_(None)))


async def share_drafts(session: AsyncSession, participant: Participant, round_no: int, now: datetime) -> list[InputEntry]:
    """Share every non-empty draft of the round; empty drafts are dropped."""
    shared = []
    for entry in await drafts_of(session, participant, round_no):
        if is_empty(entry):
            await session.delete(entry)
            continue
        entry.shared_at = now
        shared.append(entry)
    await session.flush()
    return shared


# ---- the shared overview -------------------------------------------------------------------


async def shared_entries(session: AsyncSession, dialog: Dialog, round_no: int, area: str | None = None) -> list[InputEntry]:
    """Shared input of one round of one dialog (never drafts), by area order then time."""
    stmt = select(InputEntry).where(
        InputEntry.dialog_id == dialog.id, InputEntry.round_no == round_no,
        InputEntry.shared_at.is_not(None))
    if area:
        stmt = stmt.where(InputEntry.area == area)
    rows = await session.scalars(stmt.order_by(InputEntry.shared_at, InputEntry.id))
    return list(rows)


# ---- scores --------------------------------------------------------------------------------


async def add_score(session: AsyncSession, participant: Participant, round_no: int, value: int, now: datetime) -> Score:
    score = Score(dialog_id=participant.dialog_id, participant_id=participant.id, round_no=round_no,
                  value=value, created_at=now)
    session.add(score)
    await session.flush()
    return score


@dataclass(frozen=True)
class LatestScore:
    participant_id: int
    value: int
    at: datetime
    written_by_id: int | None = None  # the coordinator's person id, for a participant without Telegram


async def latest_scores(session: AsyncSession, dialog: Dialog, round_no: int) -> dict[int, LatestScore]:
    """Each participant's latest score in a round (earlier ones are kept as history)."""
    last = (
        select(Score.participant_id, func.max(Score.id).label("last_id"))
        .where(Score.dialog_id == dialog.id, Score.round_no == round_no)
        .group_by(Score.participant_id)
        .subquery()
    )
    rows = await session.scalars(select(Score).join(last, Score.id == last.c.last_id))
    return {s.participant_id: LatestScore(s.participant_id, s.value, s.created_at, s.written_by_id) for s in rows}
