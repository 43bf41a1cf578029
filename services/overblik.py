"""Overblik: everything one person may see of one dialog, for the Mini App's page.

The same authority as the chat: the seat is found on the server from the person, and
`rules.access.decide(READ_SHARED)` says yes or no. Only shared input is read (never
drafts), through reports/gather.py, the same reading the PDFs use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from reports import gather
from reports.model import DialogInfo, Entry, PlanInfo, RoundScores, Who
from rules.access import Action, Decision, decide
from rules.dialog_config import Area, DialogConfig, Ruler
from storage import queries as q
from storage.models import Person


@dataclass(frozen=True)
class Overblik:
    dialog: DialogInfo
    viewer_id: int  # the viewer's seat
    participants: tuple[Who, ...]
    entries: tuple[Entry, ...]  # shared input of the newest round that has any
    entries_round: int
    history: tuple[RoundScores, ...]  # rounds 1..now: each person's latest number, the target
    ruler: Ruler
    areas: tuple[Area, ...]
    plan: PlanInfo
    generated_at: datetime


async def overblik(session: AsyncSession, person: Person | None, dialog_id: int, settings: Settings,
                   config: DialogConfig, now: datetime) -> Overblik | Decision:
    """The page's data, or the rules' refusal."""
    seat = await q.participant_in(session, person, dialog_id)
    dialog = seat.dialog if seat else None
    decision = decide(q.seat(seat), dialog.state if dialog else "", Action.READ_SHARED)
    if not decision or seat is None or dialog is None:
        return decision
    entries_round = await gather.latest_input_round(session, dialog)
    return Overblik(
        dialog=gather.dialog_info(dialog, settings), viewer_id=seat.id,
        participants=gather.participants(dialog),
        entries=await gather.round_entries(session, dialog, entries_round), entries_round=entries_round,
        history=await gather.score_history(session, dialog, dialog.round_no),
        ruler=config.ruler(dialog.age_group), areas=tuple(config.areas),
        plan=await gather.plan_info(session, dialog), generated_at=now)


async def dialogs_of(session: AsyncSession, person: Person | None) -> list[tuple[int, str]]:
    """(dialog id, child's name) of every dialog whose shared content this person may read."""
    if person is None:
        return []
    return [(s.dialog_id, s.dialog.child_name) for s in await q.seats_of(session, person)
            if decide(q.seat(s), s.dialog.state, Action.READ_SHARED)]
