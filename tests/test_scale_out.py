"""Several bot processes on one PostgreSQL and Redis behind a webhook round-robin.

Three `samspil run --webhook` processes share the database and the conversation
state; the emulator spreads webhook deliveries over them like a load balancer.
Fifty people go through consent, input, sharing and a score while one process is
killed; every answer is stored once, every notice sent once, and each person's
conversation goes on whichever process gets their next update.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import Clock
from bot.config import Settings
from bot.emulator import BotAPIEmulator
from storage import queries as q
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Consent, FsmRecord, InputEntry, OutboxMessage, Score
from tests.test_crash_many import ForkedBots, _data_key, _opened, _script

SECRET = "scale-out-secret"
FAMILIES = 10  # x 5 people = 50


async def _port_of(log: Path, emu: BotAPIEmulator) -> int:
    """The port a process bound (it logs it once it serves)."""
    found: list[int] = []

    def ready() -> bool:
        if log.exists():
            m = re.search(r"webhook serving port=(\d+)", log.read_text(errors="replace"))
            if m:
                found.append(int(m.group(1)))
        return bool(found)

    # The process writes its log file; the emulator's change events do not cover it,
    # so look again every 50 ms, for at most 60 s.
    for _ in range(1200):
        if ready():
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"bot process did not start: {log.read_text(errors='replace')[-2000:]}")  # noqa: ASYNC240


async def test_three_processes_fifty_people_one_killed(emu: BotAPIEmulator, settings: Settings,
                                                       tmp_path: Path) -> None:
    if not settings.database_url.startswith("postgresql") or not settings.redis_url:
        pytest.skip("needs PostgreSQL and Redis (SAMSPIL_TEST_POSTGRES_URL and SAMSPIL_TEST_REDIS_URL)")
    key = _data_key(settings)
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    await upgrade(engine)
    now = Clock().now()
    people: list[tuple[int, str, str, str]] = []  # (user id, name, role, token)
    async with make_sessionmaker(engine)() as s, s.begin():
        coord = await q.get_or_create_person(s, 1, now)
        coord.name, coord.staff_role, coord.locale = "Camilla", "coordinator", "da"
        for f in range(FAMILIES):
            dialog = await q.create_dialog(s, coordinator=coord, child_name=f"Barn{f}", age_group="barn",
                                           purpose="Trivsel", now=now)
            for i, (role, relation) in enumerate([("parent_custody", "Mor"), ("parent_custody", "Far"),
                                                  ("professional", "Lærer"), ("professional", "Pædagog"),
                                                  ("network", "Morfar")]):
                uid = 1000 + f * 10 + i
                _p, token = await q.add_participant(s, dialog=dialog, name=f"P{uid}", role=role,
                                                    relation=relation, now=now, ttl_days=14)
                people.append((uid, f"P{uid}", role, token))
    await engine.dispose()
    emu.phone(1, "Camilla").open_chat()

    env = {
        "DATA_KEY": key, "BOT_TOKEN": settings.token, "BOT_API_URL": settings.bot_api_url,
        "DATABASE_URL": settings.database_url, "DATABASE_SCHEMA": settings.database_schema or "",
        "REDIS_URL": settings.redis_url, "REDIS_PREFIX": settings.redis_prefix, "LOG_LEVEL": "INFO", "SAMSPIL_ARGS": "run --webhook",
        "WEBHOOK_URL": "http://127.0.0.1/telegram", "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": "0",
        "QUIET_HOURS_START": "00:00", "QUIET_HOURS_END": "00:00", "SEND_CHAT_INTERVAL": "0",
        "OUTBOX_LEASE_SECONDS": "3",
    }
    procs = [ForkedBots(env, tmp_path / f"bot{i}.log") for i in range(3)]
    try:
        for p in procs:
            p.start()
        ports = [await _port_of(p.log, emu) for p in procs]
        emu.set_webhook_targets([f"http://127.0.0.1:{port}/telegram" for port in ports])

        scripts = asyncio.gather(*(
            _script(emu.phone(uid, name), token, role == "parent_custody", (f"{name} a", f"{name} b", f"{name} c"))
            for uid, name, role, token in people))
        # Once a few answers are in, one process dies; the other two carry on.
        await emu.wait_until(lambda: len(emu.sent) >= 60, timeout=120)
        await procs[1].kill()
        await asyncio.wait_for(scripts, 600)
        await emu.wait_idle(timeout=60, settle=0)
    finally:
        for p in procs:
            await p.close()

    engine = make_engine(settings.database_url, schema=settings.database_schema)
    async with make_sessionmaker(engine)() as s:
        consents = list(await s.scalars(select(Consent)))
        entries = list(await s.scalars(select(InputEntry)))
        scores = list(await s.scalars(select(Score)))
        unfinished = [r for r in await s.scalars(select(FsmRecord)) if r.state]
        sent_notices = await s.scalar(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.status == "sent"))
    await engine.dispose()
    assert len(consents) == 2 * FAMILIES and {c.answer for c in consents} == {"given"}
    assert len(entries) == len(people)  # every answer stored once
    for e in entries:
        name = e.works.removesuffix(" c")
        assert e.worries == f"{name} a\n\n{name} b"
    assert len(scores) == len(people)
    assert not unfinished
    # Every notice once: each person heard once that their dialog opened.
    opened = Counter(r.chat_id for r in emu.sent if r.method == "sendMessage")
    assert sent_notices > 0
    for uid, _name, _role, _token in people:
        texts = [m.text for m in emu.phone(uid, "x").bot_messages if _opened(m)]
        assert len(texts) == 1, (uid, texts)
    assert opened  # the emulator saw the sends
