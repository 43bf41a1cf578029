"""Webhook mode: aiogram's aiohttp handler behind a load balancer, with a health check.

- `secret_token` is set on `setWebhook` and checked on every request (401 otherwise);
- the update is handled before the answer, so a failure answers 500 and Telegram
  delivers it again instead of it being dropped; a repeat is recognised by its
  `update_id` (bot/middlewares.py) and has its effect once;
- `/healthz` answers 200 when the database (and Redis, if configured) answer,
  503 otherwise, for load balancers.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from urllib.parse import urlsplit

from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy import text

from bot.app import ALLOWED_UPDATES, App
from core.config import ConfigError

log = logging.getLogger("samspil.webhook")


def webhook_path(app: App) -> str:
    assert app.settings.webhook_url
    return urlsplit(app.settings.webhook_url).path or "/"


def make_web_app(app: App) -> web.Application:
    settings = app.settings
    if not settings.webhook_secret:
        raise ConfigError("WEBHOOK_SECRET: required in webhook mode (1-256 characters A-Z a-z 0-9 _ -)")
    web_app = web.Application()
    SimpleRequestHandler(
        dispatcher=app.dp, bot=app.bot, secret_token=settings.webhook_secret.get_secret_value(),
        handle_in_background=False,  # answer only after the update's transaction committed
    ).register(web_app, path=webhook_path(app))
    web_app.router.add_get("/healthz", _health(app))
    return web_app


def _health(app: App):  # type: ignore[no-untyped-def]
    async def health(_request: web.Request) -> web.Response:
        status = {"database": "ok"}
        ok = True
        try:
            async with app.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), 5)
        except Exception as exc:  # anything at all means: do not send traffic here
            status["database"] = type(exc).__name__
            ok = False
        redis = getattr(app.dp.fsm.events_isolation, "redis", None)  # HeldLocks
        if redis is not None:
            try:
                await asyncio.wait_for(redis.ping(), 5)
                status["redis"] = "ok"
            except Exception as exc:
                status["redis"] = type(exc).__name__
                ok = False
        return web.json_response(status, status=200 if ok else 503)

    return health


async def start_webhook(app: App, *, set_webhook: bool = True) -> web.AppRunner:
    """Serve the webhook and health check; returns the runner (its port may be 0 -> chosen)."""
    settings = app.settings
    runner = web.AppRunner(make_web_app(app))
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    await app.dp.emit_startup(bot=app.bot, dispatcher=app.dp)
    if set_webhook:
        await app.bot.set_webhook(
            settings.webhook_url, secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False,
        )
    return runner


def bound_port(runner: web.AppRunner) -> int:
    for site in runner.sites:
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            return server.sockets[0].getsockname()[1]
    raise RuntimeError("webhook server is not listening")


async def run_webhook(app: App) -> None:
    """Serve until SIGTERM/SIGINT, then stop cleanly."""
    runner = await start_webhook(app)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("webhook serving port=%s", bound_port(runner))
    try:
        await stop.wait()
    finally:
        await app.dp.emit_shutdown(bot=app.bot, dispatcher=app.dp)
        await runner.cleanup()
