"""With Redis, what a person typed mid-step is encrypted there like everywhere else (issue #6)."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.base import StorageKey
from redis.asyncio import Redis

from bot.app import App
from bot.playbook import Cast
from tests.helpers_dialog import fresh_routers, open_family  # noqa: F401 (fresh_routers: an autouse fixture)

PLACE = "Skolen på Bakkevej, lokale 7"


async def test_conversation_data_in_redis_holds_no_readable_text(cast: Cast, samspil: App) -> None:
    if not samspil.settings.redis_url:
        pytest.skip("needs Redis (SAMSPIL_TEST_REDIS_URL); the SQL storage's rows are checked in test_crypto")
    fam = await open_family(cast, samspil)
    await cast.say(fam.coord, "/moede")
    await cast.say(fam.coord, "3/12 kl. 14")
    summary = await cast.say(fam.coord, PLACE)
    assert PLACE in summary.text  # the step holds the place until it is confirmed

    key = StorageKey(bot_id=samspil.bot.id, chat_id=fam.coord.phone.user_id, user_id=fam.coord.phone.user_id)
    assert (await samspil.dp.storage.get_data(key))["place"] == PLACE  # the bot reads it back
    redis = Redis.from_url(samspil.settings.redis_url)
    try:
        raw = [await redis.get(k) async for k in redis.scan_iter(match=f"{samspil.settings.redis_prefix}:*:data")]
    finally:
        await redis.aclose()
    assert raw and all(v is not None and v.startswith(b"v1:") for v in raw)
    assert not any(b"Bakkevej" in v for v in raw)

    sent = await cast.tap(fam.coord, "✅ Send the invitation")  # and the flow goes on as before
    assert sent.text.startswith("Indkaldelsen er sendt")
