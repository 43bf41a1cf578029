"""What a person typed mid-step is encrypted where it is kept (issue #6), and with Redis
configured it is kept in the database, never in Redis (storage/fsm.py)."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy import text

from bot.app import App
from bot.playbook import Cast
from tests.helpers_dialog import fresh_routers, open_family  # noqa: F401 (fresh_routers: an autouse fixture)

PLACE = "Skolen på Bakkevej, lokale 7"


async def test_what_was_typed_mid_step_is_kept_sealed_and_never_in_redis(cast: Cast, samspil: App) -> None:
    fam = await open_family(cast, samspil)
    await cast.say(fam.coord, "/moede")
    await cast.say(fam.coord, "3/12 kl. 14")
    summary = await cast.say(fam.coord, PLACE)
    assert PLACE in summary.text  # the step holds the place until it is confirmed

    uid = fam.coord.phone.user_id
    async with samspil.engine.connect() as conn:  # the column as stored, not through its type
        raw = (await conn.execute(text("SELECT data FROM fsm_state WHERE key LIKE :k"),
                                  {"k": f"%:{uid}:{uid}:%"})).scalar_one()
    assert raw.startswith("v1:") and "Bakkevej" not in raw
    if samspil.settings.redis_url:
        redis = Redis.from_url(samspil.settings.redis_url)
        try:
            kept = [k async for k in redis.scan_iter(match=f"{samspil.settings.redis_prefix}:*")]
        finally:
            await redis.aclose()
        assert kept == []  # locks are released; no step, no text

    sent = await cast.tap(fam.coord, "✅ Send the invitation")  # and the flow goes on as before
    assert sent.text.startswith("Indkaldelsen er sendt")
