"""A photo, a voice message, a video, a sticker, a file, a location…: what the bot can take.

Samspil keeps text only. Whatever else a person sends, at any time, gets a plain answer:
write it in a message. Nothing of it is stored or downloaded. While a box of the input is
being written, the answer also says that the draft is safe (the step stays where it was);
anywhere else it carries the "My next step" button (handlers/home_views.py).
A flow that waits for a typed answer itself (a name, a date) answers first, in its own
step; this router comes after the flows and before the fallback.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.dialog_input import InputFlow
from handlers.home_views import home_keyboard

router = Router(name="media")


def text_only() -> str:
    return _("I can only read text – not pictures, voice messages, videos or files. "
             "Write what you want to say in a message.")


def in_the_input(caption: bool) -> str:
    """While a box is being written: nothing is kept, and the draft is safe."""
    text = _("I can only keep text in your input. Write it as a message. "
             "What you have written so far is safe in your draft.")
    if caption:
        text += "\n\n" + _("The text you sent with it was not kept either. Send it as a message of its own.")
    return text


def speak_tip() -> str:
    return _("Tip: on most phones you can tap the microphone on the keyboard and speak. Then it becomes text.")


@router.message(~F.text)
async def not_text(message: Message, state: FSMContext) -> None:
    writing = await state.get_state() == InputFlow.writing.state
    text = in_the_input(bool(message.caption)) if writing else text_only()
    if message.voice or message.video_note or message.audio:
        text += "\n\n" + speak_tip()
    # In a box, the prompt's buttons are the way on; anywhere else, "My next step".
    await message.answer(text, reply_markup=None if writing else home_keyboard())
