"""The ruler as every flow that asks for a number on it shows it (/skala, the joint target at the
meeting, the coordinator writing for a participant without Telegram): its legend and its numbers."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder

from rules.dialog_config import Ruler


def legend(ruler: Ruler) -> str:
    """A line a field: its emoji, its numbers and its name in the reader's language."""
    loc = I18n.get_current().current_locale
    return "\n".join(f"{f.emoji} {f.low}-{f.high} {html.quote(f.name(loc))}" for f in ruler.fields)


def one_to_ten(number: Callable[[int], InlineKeyboardButton], *rows: list[InlineKeyboardButton]
               ) -> InlineKeyboardMarkup:
    """The ruler's numbers, `number(1)` to `number(10)` in two rows of five, then `rows`."""
    kb = InlineKeyboardBuilder()
    kb.add(*map(number, range(1, 11)))
    kb.adjust(5)
    for row in rows:
        kb.row(*row)
    return kb.as_markup()
