"""Dialog input: one function per thing a person does with their three boxes.

A draft is written the moment an answer arrives (one message at a time), so nothing a
person typed is lost to a closed app, a restart or a crash. Only its author sees a draft;
sharing freezes it and tells the others in the dialog (notice kind "input_shared").
The handlers (handlers/dialog_input.py) parse, check the seat and render; the rules of
what a box may hold (never a CPR number, never empty, at most BOX_LIMIT characters) live
here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from rules.cpr import contains_cpr
from rules.text import clean_text, is_blank
from storage import inputs
from storage.inputs import BOXES
from storage.models import InputEntry, Participant

if TYPE_CHECKING:
    from core.notices import Notices

__all__ = [
    "BOXES", "BOX_LIMIT", "Saved", "Shared", "Written", "delete_draft", "drafts_with_text", "open_area",
    "share", "write",
]

BOX_LIMIT = 10_000  # characters per box, all messages together


class Written(enum.Enum):
    SAVED = "saved"
    EMPTY = "empty"  # nothing left after cleaning
    CPR = "cpr"  # a CPR number: refused, never stored
    NO_ROOM = "no_room"  # the box would hold more than BOX_LIMIT
    GONE = "gone"  # the draft was shared or deleted meanwhile


@dataclass(frozen=True)
class Saved:
    outcome: Written
    entry: InputEntry | None = None
    room_left: int = BOX_LIMIT  # characters the box can still take


@dataclass(frozen=True)
class Shared:
    entries: list[InputEntry]  # shared now (empty: there was nothing to share)
    remaining: list[InputEntry]  # the author's other drafts with text, still private


async def drafts_with_text(session: AsyncSession, participant: Participant) -> list[InputEntry]:
    return [e for e in await inputs.drafts_of(session, participant, participant.dialog.round_no)
            if not inputs.is_empty(e)]


async def open_area(session: AsyncSession, participant: Participant, area: str, now: datetime) -> InputEntry:
    """The person's draft in `area` (a new, empty one when there is none)."""
    round_no = participant.dialog.round_no
    entry = await inputs.draft_for_area(session, participant, round_no, area)
    return entry or await inputs.start_draft(session, participant, round_no, area, now)


async def write(session: AsyncSession, participant: Participant, entry_id: int, box: str, text: str, *,
                append: bool, now: datetime) -> Saved:
    """Save one typed message in a box of the person's own draft: added to what is there
    (`append`) or in place of it (the first message after "edit")."""
    entry = await inputs.own_draft(session, participant, entry_id)
    if entry is None or box not in BOXES:
        return Saved(Written.GONE)
    text = clean_text(text)
    if is_blank(text):
        return Saved(Written.EMPTY, entry)
    if contains_cpr(text):
        return Saved(Written.CPR, entry)
    before = inputs.box_text(entry, box) if append else ""
    if len(before) + len(text) + 2 > BOX_LIMIT:
        return Saved(Written.NO_ROOM, entry, max(0, BOX_LIMIT - len(before) - 2))
    inputs.write_box(entry, box, text, append=append, now=now)
    return Saved(Written.SAVED, entry, max(0, BOX_LIMIT - len(inputs.box_text(entry, box)) - 2))


async def share(session: AsyncSession, notices: Notices, participant: Participant, now: datetime, *,
                entry_id: int | None = None) -> Shared:
    """Share one draft (`entry_id`) or all the person's drafts with text; the others who have
    joined the dialog get one notice each, however many areas were shared."""
    dialog = participant.dialog
    if entry_id is None:
        shared = await inputs.share_drafts(session, participant, dialog.round_no, now)
    else:
        entry = await inputs.own_draft(session, participant, entry_id)
        if entry is None or entry.round_no != dialog.round_no or inputs.is_empty(entry):
            shared = []
        else:
            entry.shared_at = now
            await session.flush()
            shared = [entry]
    if shared:
        last = max(e.id for e in shared)
        for other in dialog.participants:
            if other.id != participant.id and other.joined_at is not None:
                await notices.add(session, to=other, kind="input_shared", key=f"shared:{last}:{other.id}",
                                  payload={"participant_id": participant.id, "round_no": dialog.round_no})
    return Shared(shared, await drafts_with_text(session, participant))


async def delete_draft(session: AsyncSession, participant: Participant, entry_id: int) -> bool:
    """Delete the person's own draft; False when it is not theirs or no longer a draft."""
    entry = await inputs.own_draft(session, participant, entry_id)
    if entry is None:
        return False
    await inputs.delete_draft(session, entry)
    return True
