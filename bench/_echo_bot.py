"""The baseline: a minimal aiogram 3 bot that answers every message and every tap.

Started by bench/_load.py with BOT_TOKEN and BOT_API_URL (the emulator). It polls
the way Samspil polls (bot/app.py `run_polling`: each batch handled before it is
confirmed, one update after the other) unless ECHO_TASKS is set (aiogram's
default: every update in a task of its own). Every answer carries an "OK" button
to tap next; HTML parse mode as in Samspil.
"""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

KEYBOARD = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="OK", callback_data="ok")]])
dp = Dispatcher()


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
    await dp.start_polling(bot, handle_as_tasks=bool(os.environ.get("ECHO_TASKS")), polling_timeout=25,
                           allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    asyncio.run(main())
