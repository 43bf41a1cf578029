"""The documents a person downloads from the Mini App (web/downloads.py): which they may
have, and the data of one, gathered now.

The same rules as the chat decide, on the server, every time (also when the download
address is used, minutes after it was made): a referat and the overview are the dialog's
shared content (`Action.READ_SHARED`, as the chat's Hent PDF and the referat it sends to
every participant); a person's own data (`/mine_data`) is theirs alone. Each function
gathers the data in the caller's transaction and returns it as plain dataclasses, so the
caller renders it (reports/*) in a worker thread after the transaction. `fetching=False`
only checks (the page is making the address): nothing is written then; `fetching=True` is
the download itself and is audited (ids only), as the chat's reads are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from reports import gather
from reports.model import OverviewData, ReferatData
from reports.overview import overview_data
from reports.referat import referat_data
from rules.access import Action, Decision, decide
from rules.dialog_config import DialogConfig
from services import privacy
from storage import audit
from storage import meetings as mt
from storage import queries as q
from storage.models import Dialog, Meeting, Participant, Person

if TYPE_CHECKING:
    from core.config import Settings


def may_read(seat: Participant | None) -> Decision:
    """May the holder of `seat` have the dialog's shared documents (referat, overview)?"""
    return decide(q.seat(seat), seat.dialog.state if seat else "", Action.READ_SHARED)


# ---- what the documents page offers ------------------------------------------------------------


@dataclass(frozen=True)
class Offered:
    """The dialog's documents this seat may have now (empty lists when the rules refuse)."""

    decision: Decision
    referats: list[Meeting]  # closed meetings, the newest first
    overview_round: int | None  # the newest round with shared input (None: nothing shared yet)


async def offered(session: AsyncSession, seat: Participant | None) -> Offered:
    decision = may_read(seat)
    if not decision or seat is None:
        return Offered(decision, [], None)
    dialog = seat.dialog
    meetings = list(await session.scalars(
        select(Meeting).where(Meeting.dialog_id == dialog.id, Meeting.status == mt.CLOSED)
        .order_by(Meeting.round_no.desc(), Meeting.id.desc())))
    newest = await gather.latest_input_round(session, dialog)
    shared = bool(await gather.round_entries(session, dialog, newest))
    return Offered(decision, meetings, newest if shared else None)


# ---- one document -------------------------------------------------------------------------------


async def referat(session: AsyncSession, person: Person, meeting_id: int, *, config: DialogConfig,
                  settings: Settings, now: datetime, fetching: bool) -> ReferatData | None:
    """The minutes of a closed meeting as they read now (the plan that applies now, as the
    coordinator's /referat makes them), or None: no such closed meeting, or not for `person`."""
    meeting = await session.get(Meeting, meeting_id) if meeting_id > 0 else None
    if meeting is None or meeting.status != mt.CLOSED:
        return None
    seat = await q.participant_in(session, person, meeting.dialog_id)
    if not may_read(seat) or seat is None:
        return None
    if fetching:
        await audit.record(session, actor_id=person.id, dialog_id=seat.dialog_id, action=audit.REPORT_PDF,
                           now=now, role=seat.role, round_no=meeting.round_no, meeting_id=meeting.id)
    return await referat_data(session, seat.dialog, meeting, config, settings, now)


async def overview(session: AsyncSession, person: Person, dialog_id: int, *, config: DialogConfig,
                   settings: Settings, now: datetime, fetching: bool) -> OverviewData | None:
    """The newest round's shared input (all areas), as the chat's Hent PDF makes it; None: not
    for `person`, or nothing shared yet."""
    seat = await q.participant_in(session, person, dialog_id) if dialog_id > 0 else None
    if not may_read(seat) or seat is None:
        return None
    dialog: Dialog = seat.dialog
    round_no = await gather.latest_input_round(session, dialog)
    data = await overview_data(session, dialog, round_no, config, settings, now)
    if not data.entries:
        return None
    if fetching:
        await audit.record(session, actor_id=person.id, dialog_id=dialog.id, action=audit.OVERVIEW_PDF,
                           now=now, role=seat.role, round_no=round_no)
    return data


async def my_data(session: AsyncSession, person: Person, person_id: int, *, now: datetime,
                  fetching: bool) -> dict[str, Any] | None:
    """Everything stored about `person` and written by them (as /mine_data); None when
    `person_id` is someone else: nobody gets another person's data here."""
    if person_id != person.id:
        return None
    if not fetching:
        return {}
    return await privacy.export(session, person, now)  # audited there
