"""The baseline: a minimal aiogram 3 bot that answers every message and every tap.

Started by bench/_load.py with BOT_TOKEN and BOT_API_URL (the emulator). By default it
polls the way Samspil polled before #15: each batch handled before it is confirmed, one
update after the other (the baseline of the figures in the README). ECHO_MODE=batch polls
the way Samspil polls now (bot/polling.py: a batch side by side, per person in order,
UPDATE_CONCURRENCY at a time, confirmed once all of it is handled); ECHO_MODE=tasks is
aiogram's default (every update in a task of its own, confirmed first). Every answer carries
an "OK" button to tap next; HTML parse mode as in Samspil.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

MODE = os.environ.get("ECHO_MODE", "")
if MODE == "batch":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bot.polling import BatchDispatcher

    dp: Dispatcher = BatchDispatcher(concurrency=int(os.environ.get("UPDATE_CONCURRENCY", "16")))
else:
    dp = Dispatcher()

KEYBOARD = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="OK", callback_data="ok")]])


@dp.message()
async def echo(message: Message) -> None:
    await message.answer(f"echo: {message.text}", reply_markup=KEYBOARD, parse_mode=None)


@dp.callback_query()
async def tapped(query: CallbackQuery) -> None:
    await query.answer()
    await query.message.answer("<b>tapped</b>", reply_markup=KEYBOARD)


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["BOT_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    await dp.start_polling(bot, handle_as_tasks=MODE == "tasks", polling_timeout=25,
                           allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    asyncio.run(main())
