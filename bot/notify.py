"""Sending a notice to one person, in their language.

Notices written now go straight out; issue #4 moves them into the outbox so that
they are written in the same transaction as their cause and sent exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from storage.models import Person

log = logging.getLogger("samspil.notify")


@contextmanager
def speaking_to(person: Person | None):  # type: ignore[no-untyped-def]
    """Compose texts in `person`'s language (Danish when unknown)."""
    i18n = I18n.get_current()
    locale = (person.locale if person else None) or i18n.default_locale
    with i18n.use_locale(locale):
        yield


async def notify(
    bot: Bot, person: Person | None, compose: Callable[[], str], *,
    keyboard: Callable[[], InlineKeyboardMarkup] | None = None, **kwargs: Any,
) -> bool:
    """Send `compose()` (text and buttons made in the person's language); False if unreachable."""
    if person is None or person.telegram_id is None:
        return False
    with speaking_to(person):
        text = compose()
        if keyboard is not None:
            kwargs["reply_markup"] = keyboard()
    try:
        await bot.send_message(person.telegram_id, text, protect_content=True, **kwargs)
        return True
    except TelegramForbiddenError:
        log.info("person unreachable person_id=%s", person.id)
        return False
    except TelegramAPIError as exc:
        log.warning("notice failed person_id=%s error=%s", person.id, type(exc).__name__)
        return False
