"""Webhook mode: secret checked, health endpoint, redelivery on failure, each update once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import bot.middlewares
from bot.app import App, build_app
from bot.webhook import bound_port, start_webhook
from core.clock import FakeClock
from core.config import Settings
from emulator import BotAPIEmulator
from storage.models import ProcessedUpdate

SECRET = "s3cret-token_for-tests"


@pytest.fixture
async def hooked(settings: Settings, clock: FakeClock, emu: BotAPIEmulator) -> AsyncIterator[tuple[App, str]]:
    settings = settings.model_copy(update={
        "webhook_url": "http://127.0.0.1/telegram", "webhook_secret": SecretStr(SECRET), "webhook_host": "127.0.0.1",
        "webhook_port": 0})
    app = await build_app(settings, clock=clock)
    runner = await start_webhook(app, set_webhook=False)
    base = f"http://127.0.0.1:{bound_port(runner)}"
    await app.bot.set_webhook(f"{base}/telegram", secret_token=SECRET)
    try:
        yield app, base
    finally:
        await app.bot.delete_webhook()
        await app.dp.emit_shutdown(bot=app.bot, dispatcher=app.dp)
        await runner.cleanup()
        await app.close()


async def test_a_message_comes_in_by_webhook_and_is_answered(hooked: tuple[App, str], emu: BotAPIEmulator) -> None:
    app, base = hooked
    phone = emu.phone(701, "Mette")
    await phone.send("/start")
    reply = await phone.wait_for("Samspil")
    assert "personligt link fra din tovholder" in reply.text
    async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json())["database"] == "ok"


async def test_a_request_without_the_secret_is_refused(hooked: tuple[App, str], emu: BotAPIEmulator) -> None:
    app, base = hooked
    update = {"update_id": 99, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"},
                                           "from": {"id": 5, "is_bot": False, "first_name": "X"}, "text": "/start"}}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/telegram", json=update) as resp:
            assert resp.status == 401
        async with http.post(f"{base}/telegram", json=update,
                             headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as resp:
            assert resp.status == 401
    async with app.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(ProcessedUpdate)) == 0


async def test_a_database_failure_makes_telegram_deliver_again(
        hooked: tuple[App, str], emu: BotAPIEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = hooked
    real = bot.middlewares.person_by_telegram_id
    calls = {"n": 0}

    async def flaky(session, telegram_id):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("SELECT 1", {}, ConnectionError("database went away"))
        return await real(session, telegram_id)

    monkeypatch.setattr(bot.middlewares, "person_by_telegram_id", flaky)
    phone = emu.phone(702, "Jens")
    await phone.send("/start")
    await phone.wait_for("Samspil")
    await emu.wait_idle()
    assert calls["n"] == 2  # refused once (500), delivered again, handled
    assert len(phone.bot_messages) == 1


async def test_the_same_update_twice_has_its_effect_once(hooked: tuple[App, str], emu: BotAPIEmulator) -> None:
    app, base = hooked
    emu.phone(703, "Hanne").open_chat()
    update = {"update_id": 4242, "message": {
        "message_id": 1, "date": 1_800_000_000, "chat": {"id": 703, "type": "private", "first_name": "Hanne"},
        "from": {"id": 703, "is_bot": False, "first_name": "Hanne", "language_code": "da"},
        "text": "/sprog", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as http:
        for _ in range(2):
            async with http.post(f"{base}/telegram", json=update, headers=headers) as resp:
                assert resp.status == 200
    assert len(emu.phone(703, "Hanne").bot_messages) == 1
    async with app.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(ProcessedUpdate)) == 1


def test_web_app_needs_a_secret(settings: Settings) -> None:
    from bot.webhook import make_web_app
    from core.config import ConfigError

    class Fake:
        pass

    app = Fake()
    app.settings = settings.model_copy(update={"webhook_url": "http://x/telegram", "webhook_secret": None})
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        make_web_app(app)  # type: ignore[arg-type]
    assert web  # aiohttp is what serves it
