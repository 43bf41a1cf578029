"""Wiring: settings -> database -> bot, dispatcher, middlewares, routers."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.chat_content import ChatContentMiddleware
from bot.inline_filters import run_inline
from bot.middlewares import DbSessionMiddleware, install_session_fsm
from bot.polling import BatchDispatcher
from bot.private_only import PrivateOnlyMiddleware
from bot.private_only import install as install_private_only
from bot.scheduler import OutboxScheduler
from bot.telegram import AnswerGuard, HarmlessFailures
from core.clock import Clock
from core.config import ConfigError, Settings
from core.i18n import SamspilI18nMiddleware, make_i18n, set_timezone
from core.menus import set_default_commands, set_descriptions, set_menu_button
from core.notices import Notices
from handlers.routers import all_jobs, include_flows
from rules.dialog_config import DialogConfig, load_dialog_config
from storage import crypto, encrypted
from storage.db import make_engine, make_sessionmaker, update_turns, upgrade
from storage.fsm import HeldLocks, SQLStorage, adopt_redis_state, key_builder

log = logging.getLogger("samspil")

# What Telegram sends the bot; `my_chat_member` tells it it was added to a group (which
# it leaves: bot/private_only.py).
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bot: Bot
    dp: BatchDispatcher
    i18n: I18n
    clock: Clock
    dialog_config: DialogConfig
    notices: Notices
    scheduler: OutboxScheduler
    closers: list = field(default_factory=list)

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()
        await self.bot.session.close()
        await self.engine.dispose()


_RESPONSE_MODELS: list[type] = []


def _keep_response_models() -> None:
    """aiogram validates every Bot API answer with pydantic's `Response[T]`, and pydantic
    caches such parametrised models only weakly: garbage collection frees them and the
    next call builds them again (5-7 ms of CPU per update in bench/throughput.py, about
    650 rebuilds in 720 steps). Hold one of each for the life of the process."""
    if _RESPONSE_MODELS:
        return
    import aiogram.methods as methods
    from aiogram.methods.base import Response, TelegramMethod

    _RESPONSE_MODELS.extend(
        Response[m.__returning__] for m in vars(methods).values()  # type: ignore[name-defined]
        if isinstance(m, type) and issubclass(m, TelegramMethod) and m is not TelegramMethod
        and hasattr(m, "__returning__"))


def make_bot(settings: Settings) -> Bot:
    _keep_response_models()
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.bot_api_url))
    session.middleware(HarmlessFailures())
    session.middleware(AnswerGuard(settings.answer_retry_max_wait))
    return Bot(settings.token, session=session,
               default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def make_fsm(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
             ) -> tuple[BaseStorage, BaseEventIsolation]:
    """Where conversation state lives: always the database's `fsm_state` table, written in the
    update's own transaction, so a step and its effect commit together or not at all. With
    REDIS_URL set, Redis keeps one person's updates to one process at a time (several
    processes behind a webhook); a lock outlives a dead holder by FSM_LOCK_SECONDS at most."""
    storage = SQLStorage(sessionmaker, clock=clock.now)
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url)
        return storage, HeldLocks(redis, key_builder(settings.redis_prefix), settings.fsm_lock_seconds,
                                  close_redis=True)
    return storage, SimpleEventIsolation()


async def build_app(settings: Settings, *, clock: Clock | None = None, migrate: bool = True,
                    start_scheduler: bool = True) -> App:
    """Everything the bot needs, ready to poll. Upgrades the database first."""
    clock = clock or Clock()
    dialog_config = load_dialog_config(settings.dialog_config)
    # No data key, no start: every name and free text is encrypted with it (storage/crypto.py).
    settings.install_key_ring()
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    if migrate:
        await upgrade(engine)
    await check_data_key(engine)
    sessionmaker = make_sessionmaker(engine)
    bot = make_bot(settings)
    storage, isolation = make_fsm(settings, sessionmaker, clock)
    if isinstance(isolation, HeldLocks) and migrate:
        # Steps earlier versions kept in Redis (storage/fsm.py adopt_redis_state).
        await adopt_redis_state(isolation.redis, settings.redis_prefix, sessionmaker, clock.now())
    dp = BatchDispatcher(storage=storage, events_isolation=isolation, concurrency=settings.update_concurrency)
    # The conversation state is read in the update's transaction (bot/middlewares.py).
    install_session_fsm(dp)
    i18n = make_i18n(settings.default_locale)
    set_timezone(settings.tz)

    notices = Notices(settings, clock)
    scheduler = OutboxScheduler(bot, sessionmaker, settings, clock, i18n, notices, dialog_config,
                                jobs=all_jobs())

    # First: Samspil works in private chats only. An update from a group, supergroup or
    # channel stops here, before the conversation state and the database are touched.
    install_private_only(dp, PrivateOnlyMiddleware(i18n))
    dp.update.outer_middleware(ChatContentMiddleware(settings.chat_content))  # what the chat may carry
    # Order: the session middleware loads the sender's Person, which i18n reads.
    dp.update.outer_middleware(DbSessionMiddleware(sessionmaker, notices, clock, update_turns(engine)))
    SamspilI18nMiddleware(i18n).setup(dp)
    include_flows(dp)  # seat checks, tap answers and a fresh router tree (handlers/routers.py)
    run_inline(dp)  # plain filters on the loop, not in worker threads (bot/inline_filters.py)
    dp.workflow_data.update(
        settings=settings, clock=clock, dialog_config=dialog_config, sessionmaker=sessionmaker,
        notices=notices,
    )
    app = App(settings, engine, sessionmaker, bot, dp, i18n, clock, dialog_config, notices, scheduler)

    async def _startup() -> None:
        with i18n.context():
            await set_default_commands(bot, i18n)
            await set_descriptions(bot, i18n)
            await set_menu_button(bot, settings, i18n)
        if start_scheduler:
            app.closers.append(_stop_scheduler(scheduler, asyncio.create_task(scheduler.run())))

    dp.startup.register(_startup)
    return app


async def check_data_key(engine: AsyncEngine) -> None:
    """Refuse to start with a key that cannot read what is stored (ConfigError naming DATA_KEY)."""
    try:
        async with engine.connect() as conn:
            await encrypted.check_database(conn)
    except crypto.CryptoError as exc:
        await engine.dispose()
        raise ConfigError(str(exc)) from None


def _stop_scheduler(scheduler: OutboxScheduler, task: asyncio.Task[None]):  # type: ignore[no-untyped-def]
    async def close() -> None:
        scheduler.stop()
        await task

    return close


async def run_polling(app: App, *, handle_signals: bool = True) -> None:
    """Long polling until stopped (SIGTERM/SIGINT handled by aiogram).

    Each batch is handled side by side, per person in order, and confirmed only once all of
    it is handled: a crash never confirms an update that was not handled (bot/polling.py)."""
    await app.dp.start_polling(
        app.bot,
        polling_timeout=25,
        allowed_updates=ALLOWED_UPDATES,
        close_bot_session=False,
        handle_signals=handle_signals,
    )
