"""A coordinator's digest: their routine notices gathered into one message, grouped by dialog.

Bot/notices.py holds a routine notice to a coordinator in the outbox (status `held`,
`due_at` their next digest time, rules/digest.py). Each scheduler round, `DigestJob`
looks for held rows whose time has come and, per coordinator, in ONE transaction:

- renders every held row with its own renderer, in the coordinator's language (a row
  whose renderer now returns None, whose dialog no longer allows it, or whose dialog has
  been handed to another coordinator meanwhile, is dropped), as a short line where the
  flow has one (`@digest_line`, handlers/digest_views.py); with CHAT_CONTENT=minimal only to
  know which still stand: the digest then says how many there are per dialog, by its number,
  with a button to each dialog's Overblik (`compose_neutral`);
- writes the result as one outbox row of kind "digest" (several if it is longer than
  Telegram's 4096 characters or has too many buttons), its text and buttons in `body`
  (encrypted, as an answer sent later), due now;
- marks the held rows sent (those dropped: skipped), on condition that they are still
  held. If another scheduler gathered them first, this one's transaction part (a
  savepoint) is rolled back and nothing of it remains.

The digest rows then go out like every other row: claimed with a lease, sent, marked
sent. So a crash before the gathering commits leaves the rows held (gathered again
after the restart); a crash after it leaves one pending digest row, sent once. The
only moment a crash repeats a digest is the one every notice has: between Telegram
accepting it and `mark_sent` committing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from core.i18n import times_text
from core.labels import MINIMAL, chat_content, child_number
from core.neutral import page_button
from core.notices import DIGEST_LINES, RENDERERS, Notices, RenderContext, Rendered, renderer
from core.webapp import OVERVIEW
from rules import digest as digest_rules
from rules.access import notice_goes_out
from rules.dialog_config import DialogConfig
from rules.text import TELEGRAM_LIMIT, split_message, utf16_len
from storage import outbox
from storage.models import Dialog, OutboxMessage, Person

log = logging.getLogger("samspil.digest")

DIGEST_KIND = "digest"
# Telegram allows 100 buttons in a message; a digest keeps well below.
MAX_BUTTONS = 60
# Kinds whose first paragraph says it all in a digest (the rest is a hint or a running count).
FIRST_PARAGRAPH = frozenset({"joined", "meeting_rsvp", "input_shared", "consent_answer", "dialog_open",
                             "dialog_resumed", "meeting_closed"})


class _Gathered(Exception):
    """Another scheduler gathered some of these held rows first."""


@renderer(DIGEST_KIND)
async def _digest(ctx: RenderContext, payload: dict[str, Any]) -> Rendered | None:
    """The digest as it was gathered: text and buttons (every button is checked when tapped)."""
    if not ctx.row.body:
        return None
    body = json.loads(ctx.row.body)
    keyboard = InlineKeyboardMarkup.model_validate(body["keyboard"]) if body.get("keyboard") else None
    return Rendered(body["text"], keyboard, silent=bool(body.get("silent")))


def _locale(i18n: I18n) -> str:
    try:
        return i18n.current_locale
    except LookupError:  # pragma: no cover
        return i18n.default_locale


class DigestJob:
    """A scheduler job: gather the held notices of each coordinator whose digest time has come."""

    def __init__(self, i18n: I18n, config: DialogConfig, settings: Settings, batch: int = 50) -> None:
        self.i18n = i18n
        self.config = config
        self.settings = settings
        self.batch = batch

    async def __call__(self, session: AsyncSession, notices: Notices, now: datetime) -> None:
        for person_id in await outbox.held_people_due(session, now, self.batch):
            try:
                async with session.begin_nested():
                    await self.gather(session, notices, person_id, now)
            except _Gathered:
                log.info("digest gathered elsewhere person_id=%s", person_id)

    async def gather(self, session: AsyncSession, notices: Notices, person_id: int, now: datetime) -> int:
        """One coordinator's digest rows from what is held for them; returns the rows written."""
        with chat_content(self.settings.chat_content):
            return await self._gather(session, notices, person_id, now)

    async def _gather(self, session: AsyncSession, notices: Notices, person_id: int, now: datetime) -> int:
        minimal = self.settings.chat_content == MINIMAL
        rows = await outbox.held_of(session, person_id, due_by=now)
        person = await session.get(Person, person_id)
        items: list[tuple[OutboxMessage, Rendered]] = []
        dropped: list[int] = []
        parts: list[Rendered] = []
        if person is None or person.telegram_id is None:
            dropped = outbox.ids(rows)
        else:
            dialogs: dict[int, Dialog | None] = {}
            with self.i18n.use_locale(person.locale or self.i18n.default_locale):
                for row in rows:
                    result = await self._render(session, person, row, dialogs)
                    if result is None:
                        dropped.append(row.id)
                    else:
                        items.append((row, result))
                if items and minimal:
                    parts = [compose_neutral(items, self.settings)]
                elif items:
                    mode, times = await notices.preference(session, person_id)
                    parts = compose(items, dialogs, footer=self._footer(mode, times))
        for n, part in enumerate(parts, 1):
            keyboard = part.keyboard.model_dump(mode="json", exclude_none=True) if part.keyboard else None
            # "neutral": composed in minimal mode, so sent as it is there (core/neutral.py).
            payload = {"part": n, "parts": len(parts)} | ({"neutral": True} if minimal else {})
            await outbox.enqueue(
                session, key=f"digest:{person_id}:{now:%Y%m%dT%H%M%S%f}:{n}", person_id=person_id,
                kind=DIGEST_KIND, due_at=now, now=now, payload=payload,
                body=json.dumps({"text": part.text, "keyboard": keyboard, "silent": n > 1}, ensure_ascii=False))
        done = await outbox.finish_held(session, [r.id for r, _ in items], outbox.SENT, now)
        done += await outbox.finish_held(session, dropped, outbox.SKIPPED, now)
        if done != len(rows):
            raise _Gathered
        log.info("digest gathered person_id=%s items=%s dropped=%s messages=%s", person_id, len(items),
                 len(dropped), len(parts))
        return len(parts)

    async def _render(self, session: AsyncSession, person: Person, row: OutboxMessage,
                      dialogs: dict[int, Dialog | None]) -> Rendered | None:
        if row.dialog_id is not None:
            if row.dialog_id not in dialogs:
                dialogs[row.dialog_id] = await session.scalar(select(Dialog).where(Dialog.id == row.dialog_id))
            dialog = dialogs[row.dialog_id]
            if dialog is None or not notice_goes_out(row.kind, dialog.state):
                return None
            if dialog.coordinator_id != person.id:  # handed over meanwhile: no longer theirs to hear
                return None
        render = RENDERERS.get(row.kind)
        if render is None:
            return None
        ctx, payload = RenderContext(session, self.config, self.settings, person, row), outbox.payload(row)
        result = await render(ctx, payload)
        if result is None or result.attachment is not None:
            return None
        short = DIGEST_LINES.get(row.kind)
        line = await short(ctx, payload) if short is not None else None
        if line is not None:
            result = Rendered(line, result.keyboard)
        return result

    def _footer(self, mode: str, times: tuple[time, ...]) -> str:
        s = self.settings
        shown = digest_rules.effective_times(times, quiet_start=s.quiet_hours_start, quiet_end=s.quiet_hours_end)
        return "<i>" + _("Gathered at {times} on weekdays; urgent notices come at once. "
                         "To change it: /notifikationer").format(times=times_text(shown, _locale(self.i18n))) + "</i>"


# ---- composing ---------------------------------------------------------------------------------------


def _line(row: OutboxMessage, result: Rendered) -> str:
    text = result.text.strip()
    if row.kind in FIRST_PARAGRAPH:
        text = text.split("\n\n", 1)[0]
    return "• " + text


def _buttons(result: Rendered, child: str | None) -> list[InlineKeyboardButton]:
    """The item's buttons, named after the child when the digest covers several dialogs."""
    found = []
    for row in result.keyboard.inline_keyboard if result.keyboard else []:
        for button in row:
            if child:
                button = button.model_copy(update={"text": f"{button.text} · {child}"})
            found.append(button)
    return found


def compose(items: Sequence[tuple[OutboxMessage, Rendered]], dialogs: dict[int, Dialog | None], *,
            footer: str, limit: int = TELEGRAM_LIMIT, max_buttons: int = MAX_BUTTONS) -> list[Rendered]:
    """The digest's messages: a title, then per dialog (in the order of their first notice)
    the child's name and one line per notice; the notices about no dialog last; the footer.
    Split into messages of at most `limit` characters and `max_buttons` buttons, never
    inside a notice unless that one alone is too long."""
    groups: dict[int | None, list[tuple[OutboxMessage, Rendered]]] = {}
    for row, result in items:
        groups.setdefault(row.dialog_id, []).append((row, result))
    several = len([d for d in groups if d is not None]) > 1
    blocks: list[tuple[str, list[tuple[str, list[InlineKeyboardButton]]]]] = []
    for dialog_id in sorted(groups, key=lambda d: d is None):  # stable: dialogs in order, then None
        dialog = dialogs.get(dialog_id) if dialog_id is not None else None
        child = html.quote(dialog.child_name) if dialog is not None else None
        head = f"<b>{child}</b>" if child else "<b>" + _("Other") + "</b>"
        lines = [(_line(row, result), _buttons(result, dialog.child_name if several and dialog else None))
                 for row, result in groups[dialog_id]]
        blocks.append((head, lines))

    count = len(items)
    title = "📬 <b>" + ngettext("Your digest: {n} notice", "Your digest: {n} notices", count).format(n=count) + "</b>"
    reserve = 16 + utf16_len(footer) + 2  # room for " (2/3)" after the title, and the footer
    parts: list[tuple[list[str], list[InlineKeyboardButton]]] = []
    text: list[str] = [title]
    buttons: list[InlineKeyboardButton] = []

    def size(chunks: list[str]) -> int:
        return utf16_len("\n".join(chunks))

    def flush() -> None:
        nonlocal text, buttons
        parts.append((text, buttons))
        text, buttons = [title], []

    for head, lines in blocks:
        text.append("")
        text.append(head)
        for line, line_buttons in lines:
            pieces = split_message(line, limit - utf16_len(title) - utf16_len(head) - reserve - 4) \
                if utf16_len(line) > limit // 2 else [line]
            for piece in pieces:
                fresh = [b for b in line_buttons if not any(_same(b, o) for o in buttons)]
                if size([*text, piece]) + reserve > limit or len(buttons) + len(fresh) > max_buttons:
                    if text[-1] == head:  # the head alone: move it on with the line
                        text = text[:-2]
                    flush()
                    text += ["", head]
                    fresh = line_buttons
                text.append(piece)
                buttons += fresh
                line_buttons = []  # a long notice's buttons go with its first piece
    text += ["", footer]
    parts.append((text, buttons))
    total = len(parts)
    out = []
    for n, (chunks, part_buttons) in enumerate(parts, 1):
        if total > 1:
            chunks = [f"{title} ({n}/{total})", *chunks[1:]]
        keyboard = InlineKeyboardMarkup(inline_keyboard=[[b] for b in part_buttons]) if part_buttons else None
        out.append(Rendered("\n".join(chunks), keyboard))
    return out


def compose_neutral(items: Sequence[tuple[OutboxMessage, Rendered]], settings: Settings) -> Rendered:
    """The digest with CHAT_CONTENT=minimal: how many notices there are, per dialog by its number
    ("barnet (nr. 7)"), and a button to each dialog's Overblik; nothing of what happened."""
    counts: dict[int | None, int] = {}
    for row, _result in items:
        counts[row.dialog_id] = counts.get(row.dialog_id, 0) + 1
    total = len(items)
    lines = ["📬 " + ngettext("You have {n} new event in Samspil.", "You have {n} new events in Samspil.",
                              total).format(n=total)]
    dialogs = [d for d in counts if d is not None]
    if len(counts) > 1:
        lines.append("")
        for dialog_id in [*dialogs, *([None] if None in counts else [])]:
            where = child_number(dialog_id) if dialog_id is not None else _("Other")
            lines.append("• " + ngettext("{where}: {n} new", "{where}: {n} new", counts[dialog_id]).format(
                where=where, n=counts[dialog_id]))
    lines += ["", _("Tap a button to see what is new.")]
    buttons = [page_button(settings, OVERVIEW, d, numbered=True) for d in dialogs[:MAX_BUTTONS]] \
        or [page_button(settings, OVERVIEW)]
    rows = [[b] for b in buttons if b is not None]
    return Rendered("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)


def _same(a: InlineKeyboardButton, b: InlineKeyboardButton) -> bool:
    return (a.callback_data, a.url) == (b.callback_data, b.url) and (a.callback_data or a.url) is not None
