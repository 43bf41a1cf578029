"""The outbox scheduler: claims due notices and sends them within Telegram's limits.

- a global cap (`SEND_RATE`, default 25 messages/s) and at least
  `SEND_CHAT_INTERVAL` (1 s) between messages to one chat;
- 429: the chat waits `retry_after`, the notice is retried then;
- 5xx and network errors: retried with exponential backoff;
- 403 (the person blocked the bot): the seat is marked unreachable and the
  coordinator is told once;
- several notices due to one person at once become one message (if protected alike);
- with CHAT_CONTENT=minimal every notice is sent in its neutral form (core/neutral.py):
  a fixed text and a button into the Mini App, never a document;
- a document (storage/documents.py, kind "document") is sent on its own with
  sendDocument, under the same rules; one whose PDF is still to be made from its
  stored data is made in a worker thread beside the rounds (the claim held), stored,
  then sent; a document no row waits for any more is deleted;
- a coordinator's routine notices held for their digest are gathered, when its
  time comes, into "digest" rows (bot/digest.py, a job of every round), which
  are then sent like any other row.

Due-ness follows the injectable app clock (tests move it); pacing follows real
time, because Telegram's limits do.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiohttp import ClientError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.digest import DigestJob
from core.clock import Clock
from core.config import Settings
from core.labels import MINIMAL, chat_content
from core.neutral import neutral
from core.notices import RENDERERS, Notices, RenderContext, Rendered
from rules.access import notice_goes_out
from rules.dates import in_quiet_hours, next_send_time
from rules.dialog_config import DialogConfig
from storage import documents, outbox
from storage.models import Dialog, OutboxMessage, Participant, Person

log = logging.getLogger("samspil.scheduler")


class _ClaimLost(Exception):
    """The rows' lease ran out before they were sent and another scheduler took them."""

MAX_ATTEMPTS = 12
SEPARATOR = "\n\n· · ·\n\n"

Job = Callable[[AsyncSession, Notices, datetime], Awaitable[None]]


class RateLimiter:
    """Spaces sends: a global rate and a minimum interval per chat.

    Each call reserves the earliest slot that respects both limits, then sleeps
    until it; reserving happens without an await, so concurrent senders never
    take the same slot.
    """

    def __init__(self, per_second: float, per_chat_interval: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.gap = 1.0 / per_second if per_second > 0 else 0.0
        self.per_chat = per_chat_interval
        self.monotonic = monotonic
        self._next_global = 0.0
        self._next_chat: dict[int, float] = {}

    def reserve(self, chat_id: int) -> float:
        now = self.monotonic()
        start = max(now, self._next_global, self._next_chat.get(chat_id, 0.0))
        self._next_global = start + self.gap
        self._next_chat[chat_id] = start + self.per_chat
        return start - now

    async def acquire(self, chat_id: int) -> None:
        delay = self.reserve(chat_id)
        if delay > 0:
            await asyncio.sleep(delay)

    def pause_chat(self, chat_id: int, seconds: float) -> None:
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), self.monotonic() + seconds)


def merge(parts: Sequence[Rendered], limit: int = 4096) -> list[tuple[Rendered, int]]:
    """Join several notices into as few messages as fit Telegram's limit.

    Returns each message with how many of `parts` it carries, in order.
    """
    merged: list[tuple[Rendered, int]] = []
    for part in parts:
        if merged and part.attachment is None and merged[-1][0].attachment is None \
                and len(merged[-1][0].text) + len(SEPARATOR) + len(part.text) <= limit \
                and merged[-1][0].protect == part.protect:
            last, count = merged[-1]
            rows = list(last.keyboard.inline_keyboard if last.keyboard else [])
            for row in part.keyboard.inline_keyboard if part.keyboard else []:
                if row not in rows:  # nine "Read it" buttons to one overview are one button
                    rows.append(row)
            merged[-1] = (Rendered(last.text + SEPARATOR + part.text,
                                   InlineKeyboardMarkup(inline_keyboard=rows) if rows else None,
                                   last.protect, silent=last.silent and part.silent), count + 1)
        else:
            merged.append((part, 1))
    return merged


@asynccontextmanager
async def _in_context(i18n: I18n) -> AsyncIterator[None]:
    """Renderers translate with aiogram's `_`, which needs the I18n context."""
    with i18n.context():
        yield


class OutboxScheduler:
    def __init__(self, bot: Bot, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 clock: Clock, i18n: I18n, notices: Notices, config: DialogConfig,
                 jobs: Sequence[Job] = ()) -> None:
        self.bot = bot
        self.config = config
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.clock = clock
        self.i18n = i18n
        self.notices = notices
        # Last: the digests take in what the other jobs held for a coordinator this round.
        self.jobs = [*jobs, DigestJob(i18n, config, settings)]
        self.limiter = RateLimiter(settings.send_rate, settings.send_chat_interval)
        self.minimal = settings.chat_content == MINIMAL
        self.batch = settings.outbox_batch
        self.lease = timedelta(seconds=settings.outbox_lease_seconds)
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._stopping = False
        self._sem = asyncio.Semaphore(settings.send_concurrency)
        # Deliveries waiting for a document to be made (rows claimed, state in the database:
        # a crash loses nothing, the lease runs out and the rows are taken again).
        self._making: set[asyncio.Task[None]] = set()
        notices.on_added(self.wake)

    # ---- running ------------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def run(self, poll_interval: float = 1.0) -> None:
        """The loop in the bot process: work while there is work, else wait for a wake-up."""
        busy = 0
        while not self._stopping:
            # Cleared before the round, not after it: a notice queued while the round runs
            # wakes the next round at once instead of waiting out the poll interval.
            self._wake.clear()
            try:
                # Right after a round that sent something, the periodic jobs ran a moment ago.
                busy = await self.run_once(jobs=not busy)
            except Exception:  # a failing round must not stop the loop; the rows stay safe
                log.exception("scheduler round failed")
                busy = 0
            if busy or self._stopping:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), poll_interval)
            except TimeoutError:
                pass
        await self.finish_making()

    async def finish_making(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """Wait for documents being made and sent (shutdown, tests)."""
        pending = [t for t in self._making if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def drain(self) -> int:
        """Send everything due now (tests call this after moving the clock)."""
        total = 0
        while n := await self.run_once():
            total += n
        return total

    async def run_once(self, *, jobs: bool = True) -> int:
        """One round: periodic jobs (unless `jobs` is False), then claim and send a batch.
        Returns rows handled."""
        # Every text of the round is composed in this bot's CHAT_CONTENT (core/labels.py); the
        # documents made beside the round (tasks started in it) keep it.
        with chat_content(self.settings.chat_content):
            return await self._round(jobs)

    async def _round(self, jobs: bool) -> int:
        async with self._lock, _in_context(self.i18n):
            now = self.clock.now()
            if self.jobs and jobs:
                async with self.sessionmaker() as session, session.begin():
                    for job in self.jobs:
                        await job(session, self.notices, now)
            async with self.sessionmaker() as session, session.begin():
                await outbox.reclaim_expired(session, now)
                rows = await outbox.claim_due(session, now, limit=self.batch, lease=self.lease)
            if not rows:
                return 0
            by_person: dict[int, list[OutboxMessage]] = defaultdict(list)
            for row in rows:
                by_person[row.person_id].append(row)
            # Compose everything in one read (one transaction per batch, not per
            # person: on SQLite every transaction queues behind the writer).
            try:
                outgoing = await self._compose(by_person, now)
            except Exception:
                # The rows stay claimed: their lease runs out and they are tried again.
                log.exception("composing notices failed rows=%s", len(rows))
                return len(rows)
            now_items = []
            for item in outgoing:
                if any(r.attachment is not None and r.attachment.pdf is None for _, r in item[2]):
                    task = asyncio.create_task(self._make_then_deliver(*item))
                    self._making.add(task)
                    task.add_done_callback(self._making.discard)
                else:
                    now_items.append(item)
            await asyncio.gather(*(self._deliver(*item) for item in now_items))
            return len(rows)

    async def _make_then_deliver(self, person_id: int, chat_id: int,
                                 rendered: list[tuple[OutboxMessage, Rendered]]) -> None:
        """Make the documents that are stored as data (a worker thread), store them, send."""
        ready: list[tuple[OutboxMessage, Rendered]] = []
        for row, result in rendered:
            a = result.attachment
            if a is not None and a.pdf is None:
                try:
                    assert a.render is not None
                    a.pdf = await a.render()
                    async with self.sessionmaker() as session, session.begin():
                        await documents.store_rendered(session, a.document_id, a.pdf)
                except Exception as exc:  # the type only: a message may quote what people wrote
                    log.error("document could not be made document_id=%s error=%s", a.document_id,
                              type(exc).__name__)
                    result = Rendered(a.sorry, protect=result.protect)
            ready.append((row, result))
        await self._deliver(person_id, chat_id, ready)

    # ---- composing and delivering -----------------------------------------------------------

    async def _compose(self, by_person: dict[int, list[OutboxMessage]], now: datetime
                       ) -> list[tuple[int, int, list[tuple[OutboxMessage, Rendered]]]]:
        """(person id, chat id, rendered rows) per person; skips and quiet-hour deferrals recorded."""
        outgoing = []
        skipped: list[int] = []
        deferred: list[int] = []
        states: dict[int, str | None] = {}
        async with self.sessionmaker() as session, session.begin():
            for person_id, rows in by_person.items():
                person = await session.get(Person, person_id)
                if person is None or person.telegram_id is None:
                    skipped += outbox.ids(rows)
                    continue
                rendered: list[tuple[OutboxMessage, Rendered]] = []
                with self.i18n.use_locale(person.locale or self.i18n.default_locale):
                    for row in rows:
                        if not await self._dialog_allows(session, row, states):
                            skipped.append(row.id)
                            continue
                        payload = outbox.payload(row)
                        # Family members' notices, and a coordinator's routine ones, wait out the quiet hours.
                        if (payload.get("family") or payload.get("quiet")) and self._quiet(now):
                            deferred.append(row.id)
                            continue
                        render = RENDERERS.get(row.kind)
                        ctx = RenderContext(session, self.config, self.settings, person, row)
                        result = await render(ctx, payload) if render else None
                        if result is not None and self.minimal:
                            # Minimal: that there is something new, and a button to the page (never a document).
                            result = await neutral(ctx, payload, result)
                        if result is None:
                            skipped.append(row.id)
                        else:
                            rendered.append((row, result))
                if rendered:
                    outgoing.append((person_id, person.telegram_id, rendered))
            await outbox.mark_skipped(session, skipped)
            if skipped and any(r.kind == documents.KIND for rs in by_person.values() for r in rs
                               if r.id in set(skipped)):
                await documents.sweep(session)
            if deferred:
                await outbox.defer(session, deferred, self._morning(now))
        return outgoing

    @staticmethod
    async def _dialog_allows(session: AsyncSession, row: OutboxMessage, states: dict[int, str | None]) -> bool:
        """A paused or closed dialog takes its notices with it (rules.access.notice_goes_out):
        reminders, meeting and plan notices are skipped; consent and membership notices go."""
        if row.dialog_id is None:
            return True
        if row.dialog_id not in states:
            states[row.dialog_id] = await session.scalar(select(Dialog.state).where(Dialog.id == row.dialog_id))
        state = states[row.dialog_id]
        return state is None or notice_goes_out(row.kind, state)

    async def _deliver(self, person_id: int, chat_id: int, rendered: list[tuple[OutboxMessage, Rendered]]) -> None:
        """Send one person's notices, merged; stop at the first failure (the rest keeps its order)."""
        async with self._sem:
            try:
                pending = list(rendered)
                for message, count in merge([r for _, r in rendered]):
                    batch, pending = pending[:count], pending[count:]
                    if not await self._send(chat_id, person_id, message, [row for row, _ in batch]):
                        if pending:
                            await self._retry([row.id for row, _ in pending], timedelta(0), "held")
                        return
            except _ClaimLost:
                # Another scheduler holds these rows now and sends them; the rest of this
                # person's rows stay claimed until their lease runs out.
                log.info("claim lost before sending person_id=%s", person_id)
            except Exception:
                # Leave the rows claimed: the lease runs out and they are tried again.
                log.exception("delivery failed person_id=%s rows=%s", person_id, len(rendered))

    def _quiet(self, now: datetime) -> bool:
        s = self.settings
        return in_quiet_hours(now, start=s.quiet_hours_start, end=s.quiet_hours_end, tz=s.tz)

    def _morning(self, now: datetime) -> datetime:
        s = self.settings
        return next_send_time(now, start=s.quiet_hours_start, end=s.quiet_hours_end, tz=s.tz)

    async def _send(self, chat_id: int, person_id: int, message: Rendered, rows: list[OutboxMessage]) -> bool:
        ids = [r.id for r in rows]
        await self.limiter.acquire(chat_id)
        await self._keep_claim(rows)
        try:
            if message.attachment is not None:
                assert message.attachment.pdf is not None
                await self.bot.send_document(
                    chat_id, BufferedInputFile(message.attachment.pdf, filename=message.attachment.filename),
                    caption=message.text or None, protect_content=message.protect)
            else:
                await self.bot.send_message(chat_id, message.text, reply_markup=message.keyboard,
                                            protect_content=message.protect,
                                            disable_notification=True if message.silent else None)
        except TelegramRetryAfter as exc:
            self.limiter.pause_chat(chat_id, exc.retry_after)
            await self._retry(ids, timedelta(seconds=exc.retry_after), "429")
            return False
        except TelegramForbiddenError:
            await self._unreachable(person_id, rows)
            return False
        except (TelegramServerError, TelegramNetworkError, ClientError, TimeoutError) as exc:
            attempts = max(r.attempts for r in rows)
            if attempts >= MAX_ATTEMPTS:
                await self._finish(rows, failed=type(exc).__name__)
            else:
                await self._retry(ids, timedelta(seconds=min(300, 2 ** attempts)), type(exc).__name__)
            return False
        except TelegramBadRequest as exc:
            log.error("notice rejected person_id=%s kinds=%s error=%s", person_id,
                      sorted({r.kind for r in rows}), exc.message[:60])
            await self._finish(rows, failed="bad_request")
            return True
        except TelegramAPIError as exc:
            await self._retry(ids, timedelta(seconds=30), type(exc).__name__)
            return False
        await self._finish(rows)
        return True

    async def _keep_claim(self, rows: list[OutboxMessage]) -> None:
        """Renew the lease before a send unless most of it is left (one write saved per notice)."""
        now = self.clock.now()
        claim = rows[0].claimed_until
        if claim is not None and all(r.claimed_until == claim for r in rows) and now < claim - self.lease / 2:
            return
        async with self.sessionmaker() as session, session.begin():
            if not await outbox.renew_claim(session, rows, now, self.lease):
                raise _ClaimLost

    async def _finish(self, rows: list[OutboxMessage], failed: str | None = None) -> None:
        ids = outbox.ids(rows)
        async with self.sessionmaker() as session, session.begin():
            if failed:
                await outbox.mark_failed(session, ids, failed)
            else:
                await outbox.mark_sent(session, ids, self.clock.now())
            if any(r.kind == documents.KIND for r in rows):  # the last recipient has it: the bytes go
                await documents.sweep(session, _document_ids(rows))

    async def _retry(self, ids: list[int], after: timedelta, error: str) -> None:
        async with self.sessionmaker() as session, session.begin():
            await outbox.retry_at(session, ids, self.clock.now() + after, error)

    async def _unreachable(self, person_id: int, rows: list[OutboxMessage]) -> None:
        """The person blocked the bot: their seats are marked, each coordinator told once."""
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            await outbox.mark_failed(session, outbox.ids(rows), "blocked")
            if any(r.kind == documents.KIND for r in rows):
                await documents.sweep(session, _document_ids(rows))
            seats = list(await session.scalars(select(Participant).where(Participant.person_id == person_id)))
            for seat in seats:
                if seat.unreachable_at is None:
                    seat.unreachable_at = now
                coordinator = await session.get(Person, seat.dialog.coordinator_id)
                if coordinator is not None and coordinator.id != person_id:
                    await self.notices.add(session, to=coordinator, kind="unreachable",
                                           key=f"unreachable:{seat.id}", payload={"participant_id": seat.id},
                                           dialog_id=seat.dialog_id)
        log.info("person unreachable person_id=%s", person_id)


def _document_ids(rows: Sequence[OutboxMessage]) -> list[int]:
    return [int(outbox.payload(r)["document_id"]) for r in rows if r.kind == documents.KIND]
