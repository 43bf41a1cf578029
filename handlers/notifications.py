"""/notifikationer: a coordinator chooses how routine notices reach them.

"📬 Gathered at 8.00 and 14.00 on weekdays" (the default, DIGEST_TIMES; or one of those
times alone) or "🔔 Each at once". Urgent notices always come at once
(rules/notice_urgency.py); the digest itself is made in bot/digest.py.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.config import Settings
from core.i18n import fmt_datetime, times_text
from core.notices import Notices
from handlers import (
    digest_views,  # noqa: F401 (the digest's short lines)
)
from handlers.coordinator_views import not_coordinator
from handlers.seats import NO_DIALOG, alert
from rules import digest as digest_rules
from services import digest
from storage.models import Person

router = Router(name="notifications")


class NotifyAction(StrEnum):
    DIGEST = "digest"  # gathered at `times`
    AT_ONCE = "at_once"


class NotifyCb(CallbackData, prefix="notify"):
    action: NotifyAction
    times: str = ""  # "0800-1400" (":" separates callback fields)


def _pack_times(times: tuple[time, ...]) -> str:
    return "-".join(t.strftime("%H%M") for t in times)


def _unpack_times(text: str) -> tuple[time, ...] | None:
    try:
        return digest_rules.parse_times(",".join(f"{p[:2]}:{p[2:]}" for p in text.split("-") if len(p) == 4))
    except ValueError:
        return None


def _presets(settings: Settings) -> list[tuple[time, ...]]:
    """DIGEST_TIMES, and each of those times alone."""
    default = settings.digest_time_list
    return [default] + ([(t,) for t in default] if len(default) > 1 else [])


def _locale(i18n: I18n) -> str:
    return i18n.current_locale


def _shown(settings: Settings, times: tuple[time, ...]) -> tuple[time, ...]:
    return digest_rules.effective_times(times, quiet_start=settings.quiet_hours_start,
                                        quiet_end=settings.quiet_hours_end)


def card(choice: digest.Choice, settings: Settings, i18n: I18n) -> tuple[str, InlineKeyboardMarkup]:
    loc = _locale(i18n)
    if choice.mode == digest_rules.DIGEST:
        now_text = _("Now: your notices are gathered in one message at {times} on weekdays.").format(
            times=times_text(_shown(settings, choice.times), loc))
        if choice.next_digest is not None:
            now_text += "\n" + _("Next time: {when}.").format(when=fmt_datetime(choice.next_digest))
    else:
        now_text = _("Now: each notice comes at once (but not between {start} and {end}).").format(
            start=times_text([settings.quiet_hours_start], loc), end=times_text([settings.quiet_hours_end], loc))
    text = "\n\n".join([
        _("🔔 <b>Your notices</b>"),
        now_text,
        _("Urgent notices always come at once: a number in the top field of the ruler, consent declined "
          "or withdrawn, a wish to talk to you first, a message from a family member, \"Need help\" on a "
          "task, and a participant the bot can no longer reach."),
        _("How do you want the other notices?"),
    ])
    rows = []
    for times in _presets(settings):
        chosen = choice.mode == digest_rules.DIGEST and tuple(choice.times) == tuple(times)
        label = _("📬 Gathered at {times} on weekdays").format(times=times_text(_shown(settings, times), loc))
        rows.append([InlineKeyboardButton(
            text=("✓ " if chosen else "") + label,
            callback_data=NotifyCb(action=NotifyAction.DIGEST, times=_pack_times(times)).pack())])
    rows.append([InlineKeyboardButton(
        text=("✓ " if choice.mode == digest_rules.AT_ONCE else "") + _("🔔 Each at once"),
        callback_data=NotifyCb(action=NotifyAction.AT_ONCE).pack())])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


@router.message(Command("notifikationer", "notifications"))
async def show(message: Message, person: Person | None, session: AsyncSession, notices: Notices,
               clock: Clock, settings: Settings, i18n: I18n) -> None:
    choice = await digest.current(session, notices, person, clock.now()) if person else None
    if choice is None:
        await message.answer(not_coordinator())
        return
    text, keyboard = card(choice, settings, i18n)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(NotifyCb.filter(F.action == NotifyAction.DIGEST), flags=NO_DIALOG)
async def digest_chosen(query: CallbackQuery, callback_data: NotifyCb, person: Person | None, session: AsyncSession,
                        notices: Notices, clock: Clock, settings: Settings, i18n: I18n, callback_answer: CallbackAnswer) -> None:
    times = _unpack_times(callback_data.times)
    if times is None:
        alert(callback_answer, texts.stale_button())
        return
    await _choose(query, callback_answer, person, session, notices, clock, settings, i18n, digest_rules.DIGEST, times)


@router.callback_query(NotifyCb.filter(F.action == NotifyAction.AT_ONCE), flags=NO_DIALOG)
async def at_once_chosen(query: CallbackQuery, person: Person | None, session: AsyncSession, notices: Notices,
                         clock: Clock, settings: Settings, i18n: I18n, callback_answer: CallbackAnswer) -> None:
    await _choose(query, callback_answer, person, session, notices, clock, settings, i18n, digest_rules.AT_ONCE, None)


async def _choose(query: CallbackQuery, callback_answer: CallbackAnswer, person: Person | None, session: AsyncSession,
                  notices: Notices, clock: Clock, settings: Settings, i18n: I18n, mode: str,
                  times: tuple[time, ...] | None) -> None:
    choice = await digest.choose(session, notices, person, mode=mode, times=times, now=clock.now()) \
        if person is not None else None
    if choice is None:
        alert(callback_answer, not_coordinator())
        return
    callback_answer.text = _("Saved.")
    text, keyboard = card(choice, settings, i18n)
    if query.message:
        await query.message.edit_text(text, reply_markup=keyboard)
