"""Administrator actions run from the command line."""

from __future__ import annotations

from aiogram.exceptions import TelegramAPIError
from aiohttp import ClientError

from bot.clock import Clock
from bot.config import ConfigError, Settings
from rules.text import clean_text
from storage import queries as q
from storage.db import make_engine, make_sessionmaker, upgrade

NAME_LIMIT = 80


async def bot_username(settings: Settings) -> str:
    """BOT_USERNAME, else asked from the Bot API (getMe)."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    from bot.app import make_bot

    bot = make_bot(settings)
    try:
        me = await bot.get_me()
    except (TelegramAPIError, ClientError, OSError) as exc:
        raise ConfigError(
            f"BOT_USERNAME: not set, and the Bot API at {settings.bot_api_url} could not be asked "
            f"({type(exc).__name__})") from None
    finally:
        await bot.session.close()
    return me.username or ""


async def add_staff(settings: Settings, *, role: str, name: str, title: str | None,
                    clock: Clock | None = None) -> str:
    """Create a single-use registration link for a coordinator or professional."""
    name = clean_text(name)
    title = clean_text(title) if title is not None else None
    if not name or len(name) > NAME_LIMIT:
        raise ConfigError(f"--name: give a name of 1-{NAME_LIMIT} characters")
    if title is not None and (not title or len(title) > NAME_LIMIT):
        raise ConfigError(f"--title: give a title of 1-{NAME_LIMIT} characters")
    username = await bot_username(settings)
    clock = clock or Clock()
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session, session.begin():
            token = await q.create_registration(
                session, staff_role=role, name=name, title=title, now=clock.now(),
                ttl_days=settings.invite_ttl_days)
    finally:
        await engine.dispose()
    return f"https://t.me/{username}?start={token}"
