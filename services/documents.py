"""PDFs a person asks for: the overview ("Hent PDF"), `/referat`, the invitation letter (`/brev`).

A read-only document is decided in the update's transaction with the data as it is then
(`queue`: stored encrypted in storage/documents.py with an outbox row); the scheduler makes
the PDF in a worker thread and sends it like every notice. The letter is the direct answer
to the tap: `letter` gives the link a fresh invitation and the handler renders and sends it.
Every read is audited (ids only). Captions are texts, so the caller's views write them
(`caption(data)`); no aiogram here.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.labels import MINIMAL
from core.neutral import NEW_DOCUMENT
from reports import gather
from reports.common import localized
from reports.overview import overview_data, overview_filename
from reports.referat import referat_data, referat_filename
from rules.dialog_config import DialogConfig
from storage import audit, documents
from storage import meetings as mt
from storage import privacy as pv
from storage import queries as q
from storage.models import Dialog, Meeting, Participant, Person

if TYPE_CHECKING:
    from core.config import Settings
    from core.notices import Notices

LETTER_MADE = "letter.made"  # audit action (storage/audit.py: ids only, never content)


async def queue(session: AsyncSession, notices: Notices, to: Person, *, kind: str, data: Any, dialog_id: int,
                filename: Callable[[], str], caption: str, locale: str, now: datetime,
                protect: bool = True) -> None:
    """A document someone asked for: decided now, in this update's transaction, with the data as
    it is now (stored encrypted); the scheduler makes the PDF (a worker thread, so the bot goes on
    answering meanwhile) and sends it after the commit, like every notice. Nothing is sent if the
    update rolls back. `filename` is called in `locale`.

    With CHAT_CONTENT=minimal nothing is stored: a notice says there is a new document, and the
    person fetches it from the Mini App (no PDF passes through Telegram)."""
    if notices.settings.chat_content == MINIMAL:
        await notices.add(session, to=to, kind=NEW_DOCUMENT, key=f"doc:{kind}:{dialog_id}:{to.id}:{now.isoformat()}",
                          payload={"document": kind}, dialog_id=dialog_id)
        return
    with localized(locale):
        name = filename()
    doc = await documents.add(session, dialog_id=dialog_id, kind=kind, locale=locale, filename=name,
                              caption=caption, source=pickle.dumps(data), protect=protect, now=now)
    await notices.add(session, to=to, kind=documents.KIND, key=f"doc:{doc.id}:{to.id}",
                      payload=documents.payload_of(doc.id), dialog_id=dialog_id)


# ---- Hent PDF ------------------------------------------------------------------------------------------


async def overview(session: AsyncSession, notices: Notices, seat: Participant, round_no: int, area: str, *,
                   config: DialogConfig, settings: Settings, now: datetime, locale: str,
                   caption: Callable[[Dialog, int], str]) -> bool:
    """The round's shared input (one area, or all) as a PDF to `seat`; False: no such round or area."""
    dialog = seat.dialog
    if not 1 <= round_no <= dialog.round_no or (area and area not in {a.key for a in config.areas}):
        return False
    await audit.record(session, actor_id=seat.person_id, dialog_id=dialog.id, action=audit.OVERVIEW_PDF,
                       now=now, role=seat.role, round_no=round_no)
    data = await overview_data(session, dialog, round_no, config, settings, now, area)
    await queue(session, notices, seat.person, kind="overview", data=data, dialog_id=dialog.id,
                filename=lambda: overview_filename(data), caption=caption(dialog, round_no), locale=locale,
                now=now)
    return True


# ---- /referat ----------------------------------------------------------------------------------------


@dataclass
class Referat:
    meeting: Meeting | None  # the meeting it is the minutes of (closed), or the one under way
    closed: bool  # False: no meeting closed yet; the round so far, marked preliminary


async def referat(session: AsyncSession, notices: Notices, seat: Participant, *, config: DialogConfig,
                  settings: Settings, now: datetime, locale: str, caption: Callable[[Dialog, int], str]) -> Referat:
    """The coordinator's own copy of the minutes of the latest closed meeting (or of the round so far)."""
    dialog = seat.dialog
    meeting = await gather.latest_closed_meeting(session, dialog.id)
    closed = meeting is not None
    if meeting is None:
        meeting = await mt.live_meeting(session, dialog.id)
    await audit.record(session, actor_id=seat.person_id, dialog_id=dialog.id, action=audit.REPORT_PDF,
                       now=now, role=seat.role, round_no=meeting.round_no if meeting else dialog.round_no,
                       meeting_id=meeting.id if meeting else None)
    data = await referat_data(session, dialog, meeting, config, settings, now)
    await queue(session, notices, seat.person, kind="referat", data=data, dialog_id=dialog.id,
                filename=lambda: referat_filename(data), caption=caption(dialog, data.round_no), locale=locale,
                now=now)
    return Referat(meeting, closed)


# ---- /brev (the invitation letter) ------------------------------------------------------------------------


def waiting(dialog: Dialog) -> list[Participant]:
    """Invited, not joined yet (and not refused by the family)."""
    return [p for p in dialog.participants if p.joined_at is None and getattr(p, "approval", None) != "refused"]


async def letter_target(session: AsyncSession, dialog: Dialog, participant_id: int) -> Participant | None:
    """The participant a letter is for, if they are still waiting to join `dialog`."""
    target = await session.get(Participant, participant_id)
    if target is None or target.dialog_id != dialog.id or target not in waiting(dialog):
        return None
    return target


def link_expires(settings: Settings, now: datetime) -> datetime:
    return now + timedelta(days=settings.invite_ttl_days)


@dataclass
class Letter:
    target: Participant
    token: str  # the fresh link's token (the earlier unused links stop working now)
    expires_at: datetime


async def letter(session: AsyncSession, seat: Participant, participant_id: int, *, settings: Settings,
                 now: datetime) -> Letter | None:
    """A fresh personal link for a letter to a participant who has not joined; None: they have
    joined already or are no longer invited."""
    target = await letter_target(session, seat.dialog, participant_id)
    if target is None:
        return None
    for old in await pv.invitations_of(session, target):
        if old.used_at is None and old.expires_at > now:
            old.expires_at = now
    token = await q.new_invitation(session, target, now=now, ttl_days=settings.invite_ttl_days)
    await audit.record(session, actor_id=seat.person_id, dialog_id=seat.dialog_id, action=LETTER_MADE, now=now,
                       role=seat.role, participant_id=target.id)
    return Letter(target, token, link_expires(settings, now))
