"""Notices: what handlers call to tell someone something, through the outbox.

A handler writes a notice in its own transaction (`Notices.add`); the scheduler
(bot/scheduler.py) sends it after the commit. Each kind has a renderer, usually
next to the flow it belongs to, that composes the text in the recipient's
language from the current state when the notice is sent, or returns None when
its reason has gone (the task is done, the meeting was moved).

A routine notice to the dialog's coordinator (rules/notice_urgency.py) is held
for their digest (bot/digest.py), or, if they chose "at once", waits only for the
end of the quiet hours; an urgent one goes at once, as every other notice does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.config import Settings
from rules import digest as digest_rules
from rules.dates import next_send_time
from rules.dialog_config import DialogConfig
from rules.notice_urgency import is_routine
from rules.roles import STAFF_COORDINATOR, is_family
from storage import notice_preferences, outbox
from storage.models import Dialog, OutboxMessage, Participant, Person


@dataclass
class Attachment:
    """A stored document (storage/documents.py) sent with `text` as its caption."""

    document_id: int
    filename: str
    pdf: bytes | None
    # Makes the PDF when only its data is stored (the scheduler calls it once, off its round).
    render: Callable[[], Awaitable[bytes]] | None = None
    sorry: str = ""  # sent instead if it cannot be made


@dataclass
class Rendered:
    text: str
    keyboard: InlineKeyboardMarkup | None = None
    # Sent with Telegram's protect_content (no forwarding or saving): every notice, except
    # an answer sent later that was not protected either (an invitation letter to pass on).
    protect: bool = True
    # A document: sent on its own with sendDocument, `text` as its caption, never merged.
    attachment: Attachment | None = None
    # Sent without a sound or a banner (disable_notification): the 2nd and later messages of a
    # digest too long for one message; the first one has told the person already.
    silent: bool = False


@dataclass
class RenderContext:
    """What a renderer may read: the database (in the sending round's transaction) and config."""

    session: AsyncSession
    config: DialogConfig
    settings: Settings
    person: Person  # the recipient
    row: OutboxMessage


Renderer = Callable[[RenderContext, dict[str, Any]], Awaitable[Rendered | None]]
RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Register the function that composes notices of `kind` (called in the recipient's locale)."""

    def register(fn: Renderer) -> Renderer:
        if kind in RENDERERS:
            raise ValueError(f"two renderers for notice kind {kind!r}")
        RENDERERS[kind] = fn
        return fn

    return register


# A notice's line in a coordinator's digest (bot/digest.py), when its text there should be
# shorter than on its own: called after the kind's renderer (which decides whether the notice
# still stands and gives the buttons); None keeps the renderer's text.
DigestLine = Callable[[RenderContext, dict[str, Any]], Awaitable[str | None]]
DIGEST_LINES: dict[str, DigestLine] = {}


def digest_line(kind: str) -> Callable[[DigestLine], DigestLine]:
    """Register the function that writes a notice of `kind` as one short line of a digest."""

    def register(fn: DigestLine) -> DigestLine:
        if kind in DIGEST_LINES:
            raise ValueError(f"two digest lines for notice kind {kind!r}")
        DIGEST_LINES[kind] = fn
        return fn

    return register


class Notices:
    """The handlers' way into the outbox (injected as `notices`)."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._wake: Callable[[], None] | None = None

    def on_added(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    def quiet_until(self, due: datetime, family: bool) -> datetime:
        """Family members hear nothing between QUIET_HOURS_START and _END: it waits until morning."""
        if not family:
            return due
        return next_send_time(due, start=self.settings.quiet_hours_start,
                              end=self.settings.quiet_hours_end, tz=self.settings.tz)

    async def add(
        self, session: AsyncSession, *, to: Participant | Person | None, kind: str, key: str,
        payload: dict[str, Any] | None = None, due_at: datetime | None = None,
        dialog_id: int | None = None, body: str | None = None,
    ) -> bool:
        """Write a notice for `to` (a seat in a dialog, or a person) unless `key` exists.

        A seat decides whether quiet hours apply (family and network), and names the
        dialog, so that a paused or deleted dialog takes its notices with it. `body`:
        personal text composed now (stored encrypted), for an answer sent later only.
        """
        if to is None:
            return False
        if kind not in RENDERERS:
            raise ValueError(f"no renderer for notice kind {kind!r}")
        if isinstance(to, Participant):
            person_id, family = to.person_id, is_family(to.role)
            dialog_id = dialog_id or to.dialog_id
        else:
            person_id, family = to.id, False
        if person_id is None:  # invited, but has not opened the link yet
            return False
        now = self.clock.now()
        due = self.quiet_until(due_at or now, family)
        data = dict(payload or {})
        status = outbox.PENDING
        if family:
            data["family"] = True  # the scheduler checks quiet hours again when it sends
        elif is_routine(kind, data) and await self._to_coordinator(session, person_id, dialog_id):
            mode, times = await self.preference(session, person_id)
            if mode == digest_rules.DIGEST:
                due, status = self.next_digest(due, times), outbox.HELD
            else:  # at once, but a coordinator's routine notice waits for the morning too
                due = self.quiet_until(due, True)
                data["quiet"] = True
        added = await outbox.enqueue(
            session, key=key, person_id=person_id, kind=kind, due_at=due, now=now,
            dialog_id=dialog_id, payload=data, body=body, status=status)
        if added and due <= now and status == outbox.PENDING:
            session.info["outbox_due_now"] = True
        return added

    @staticmethod
    async def _to_coordinator(session: AsyncSession, person_id: int, dialog_id: int | None) -> bool:
        """Is the recipient the coordinator of the notice's dialog (or, for a notice about no
        dialog, a coordinator)?"""
        if dialog_id is not None:
            dialog = await session.get(Dialog, dialog_id)
            return dialog is not None and dialog.coordinator_id == person_id
        person = await session.get(Person, person_id)
        return person is not None and person.staff_role == STAFF_COORDINATOR

    async def preference(self, session: AsyncSession, person_id: int) -> tuple[str, tuple[time, ...]]:
        """A coordinator's (mode, digest times): their choice, else COORDINATOR_NOTICES and DIGEST_TIMES."""
        pref = await notice_preferences.get(session, person_id)
        mode = pref.mode if pref is not None else self.settings.coordinator_notices
        times = digest_rules.parse_times(pref.digest_times) if pref is not None and pref.digest_times \
            else self.settings.digest_time_list
        return mode, times

    def next_digest(self, after: datetime, times: tuple[time, ...]) -> datetime:
        s = self.settings
        return digest_rules.next_digest_time(after, times=times, tz=s.tz, quiet_start=s.quiet_hours_start,
                                             quiet_end=s.quiet_hours_end)

    def wake(self) -> None:
        if self._wake is not None:
            self._wake()
