"""Notices: what handlers call to tell someone something, through the outbox.

A handler writes a notice in its own transaction (`Notices.add`); the scheduler
(bot/scheduler.py) sends it after the commit. Each kind has a renderer, usually
next to the flow it belongs to, that composes the text in the recipient's
language from the current state when the notice is sent, or returns None when
its reason has gone (the task is done, the meeting was moved).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from rules.dates import next_send_time
from rules.dialog_config import DialogConfig
from rules.roles import is_family
from storage import outbox
from storage.models import OutboxMessage, Participant, Person


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
        if family:
            data["family"] = True  # the scheduler checks quiet hours again when it sends
        added = await outbox.enqueue(
            session, key=key, person_id=person_id, kind=kind, due_at=due, now=now,
            dialog_id=dialog_id, payload=data, body=body)
        if added and due <= now:
            session.info["outbox_due_now"] = True
        return added

    def wake(self) -> None:
        if self._wake is not None:
            self._wake()
