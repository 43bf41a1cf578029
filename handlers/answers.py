"""Reading a typed answer: text only, within a limit, never a CPR number.

Bad input gets a clear answer and changes nothing: the caller just returns when
`read_answer` gives None (the person stays at the same step).
"""

from __future__ import annotations

from aiogram import F
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from core import texts
from rules.cpr import contains_cpr
from rules.text import clean_text, is_blank

# For message handlers bound to a conversation step: a command is never an answer,
# it goes to its own handler (and an unknown one gets the fallback's reply).
NOT_COMMAND = ~F.text.startswith("/")

NAME_LIMIT = 60
PERSON_NAME_LIMIT = 80
RELATION_LIMIT = 60
PURPOSE_LIMIT = 2000


async def read_answer(message: Message, limit: int) -> str | None:
    if message.text is None:
        await message.answer(texts.text_expected())
        return None
    text = clean_text(message.text)
    if is_blank(text):
        await message.answer(texts.empty_answer())
        return None
    if len(text) > limit:
        await message.answer(texts.too_long(limit))
        return None
    if contains_cpr(text):
        await message.answer(texts.cpr_refused())
        return None
    return text


def use_the_buttons() -> str:
    """The answer to text typed at a step that is answered with the buttons shown."""
    return _("Please choose with one of the buttons above.")
