"""Several bot processes on one PostgreSQL and Redis behind a webhook round-robin.

Three `samspil run --webhook` processes share the database and the conversation
state; the emulator spreads webhook deliveries over them like a load balancer.
Fifty people in ten families give consent; the coordinator schedules a meeting in
each dialog and everyone answers *Jeg kommer*; the input reminders fall due
(time is moved by moving the rows' due time); people write their drafts while one
process is SIGKILLed, then share and place a score; the last reminders fall due.
Every answer is stored once, every notice and reminder sent once, and each
person's conversation goes on whichever process gets their next update.

The kill lands while people are writing drafts and no notice is being sent: a
notice Telegram accepted from a process that died before recording it would be
sent again (at-least-once; the window is one row's commit), and tests/
test_crash_resume.py pins that case down with a held send instead.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from core.clock import Clock
from core.config import Settings
from emulator import BotAPIEmulator, ChatMessage, Phone
from storage import queries as q
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Consent, FsmRecord, InputEntry, MeetingResponse, OutboxMessage, Score
from tests.test_crash_many import ForkedBots, _data_key, join, step, write_share_score
from tests.test_crash_resume import _wait_db

SECRET = "scale-out-secret"
FAMILIES = 10  # x 5 people = 50
PLACE = "Skolen, lokale 2"
INPUT_REMINDER = "Husk dit input og dit tal på linealen"
DAY_BEFORE = "Husk: dialogmøde i morgen"
MEETING_NOTICE = "Indkaldelse til dialogmøde"


def _offers(label: str):  # type: ignore[no-untyped-def]
    return lambda m: any(label in b for row in m.buttons for b in row)


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


async def _meanwhile(scripts: asyncio.Future, wait) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Wait for `wait` (a database condition); fail at once if a person's script fails first."""
    waiter = asyncio.ensure_future(wait)
    await asyncio.wait({scripts, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if scripts.done() and scripts.exception() is not None:
        waiter.cancel()
        raise scripts.exception()  # type: ignore[misc]
    await waiter


async def _coordinator(phone: Phone, when: str) -> None:
    """Once all ten dialogs are open, the coordinator schedules a meeting in each."""
    def all_open(_m: ChatMessage) -> bool:  # notices due together arrive merged in one message
        return len({c for x in phone.bot_messages for c in re.findall(r"om (Barn\d+) er nu i gang", x.text)}) == FAMILIES

    await phone.wait_for(all_open, after=0, timeout=300)
    for f in range(FAMILIES):
        await step(phone, lambda: phone.send("/moede"), "Hvilken dialog")
        await step(phone, lambda f=f: phone.tap(f"Dialogen om Barn{f}"), "trin 1 af 2")
        await step(phone, lambda: phone.send(when), "trin 2 af 2")
        mark = phone.mark()
        await phone.send(PLACE)
        await phone.wait_for(_offers("Send indkaldelsen"), after=mark, timeout=120)
        await step(phone, lambda: phone.tap("✅ Send indkaldelsen"), "Indkaldelsen er sendt")


async def _person(phone: Phone, token: str, consent_giver: bool, boxes: tuple[str, str, str],
                  may_share: asyncio.Event) -> None:
    await join(phone, token, consent_giver)
    await phone.wait_for(_offers("Jeg kommer"), after=0, timeout=300)  # the meeting notice
    await step(phone, lambda: phone.tap("✅ Jeg kommer"), "du har svaret")
    await phone.wait_for(lambda m: INPUT_REMINDER in m.text, after=0, timeout=300)
    await write_share_score(phone, boxes, before_sharing=may_share)


@pytest.mark.timeout(900)
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

    async def due_now(kind: str, key_part: str = "") -> None:
        """Time passes: the rows of `kind` fall due now (every process reads due_at)."""
        async with make_sessionmaker(engine)() as s, s.begin():
            await s.execute(update(OutboxMessage).where(
                OutboxMessage.kind == kind, OutboxMessage.key.contains(key_part),
                OutboxMessage.status == "pending").values(due_at=Clock().now()))

    def quiet():  # type: ignore[no-untyped-def]
        """Notices due now (not the reminders days ahead) still to be sent."""
        return (select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status.in_(["pending", "sending"]),
            OutboxMessage.due_at <= Clock().now() + timedelta(hours=12)))
    coordinator = emu.phone(1, "Camilla")
    coordinator.open_chat()

    env = {
        "DATA_KEY": key, "BOT_TOKEN": settings.token, "BOT_API_URL": settings.bot_api_url,
        "DATABASE_URL": settings.database_url, "DATABASE_SCHEMA": settings.database_schema or "",
        "REDIS_URL": settings.redis_url, "REDIS_PREFIX": settings.redis_prefix, "LOG_LEVEL": "INFO",
        "SAMSPIL_ARGS": "run --webhook",
        "WEBHOOK_URL": "http://127.0.0.1/telegram", "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": "0",
        "QUIET_HOURS_START": "00:00", "QUIET_HOURS_END": "00:00", "SEND_CHAT_INTERVAL": "0",
        "OUTBOX_LEASE_SECONDS": "3", "COORDINATOR_NOTICES": "at_once",
    }
    procs = [ForkedBots(env, tmp_path / f"bot{i}.log") for i in range(3)]
    meeting_day = (now + timedelta(days=6)).astimezone(settings.tz).date()
    when = f"{meeting_day.day:02d}.{meeting_day.month:02d}.{meeting_day.year} kl. 14"
    may_share = asyncio.Event()
    try:
        for p in procs:
            p.start()
        ports = [await _port_of(p.log, emu) for p in procs]
        emu.set_webhook_targets([f"http://127.0.0.1:{port}/telegram" for port in ports])

        scripts = asyncio.gather(_coordinator(coordinator, when), *(
            _person(emu.phone(uid, name), token, role == "parent_custody", (f"{name} a", f"{name} b", f"{name} c"),
                    may_share)
            for uid, name, role, token in people))
        # Everyone answers the meeting notice; the reminders three days before fall due.
        await _meanwhile(scripts, _wait_db(settings, select(func.count()).select_from(MeetingResponse),
                                           len(people), within=300))
        await _meanwhile(scripts, _wait_db(settings, quiet(), 0, within=60))
        await due_now("meeting_input_reminder", ":remind3:")
        # People write their drafts; while they do (no notice on its way), one process dies.
        await _meanwhile(scripts, _wait_db(settings, select(func.count() >= len(people) // 2)
                                           .select_from(InputEntry), True, within=300))
        await _meanwhile(scripts, _wait_db(settings, quiet(), 0, within=60))
        await procs[1].kill()
        may_share.set()
        await asyncio.wait_for(scripts, 600)
        # The day before: the last input reminders (everyone has shared: none is sent) and
        # the meeting reminder to everyone coming.
        await due_now("meeting_input_reminder", ":remind1:")
        await due_now("meeting_day_before")
        await emu.wait_until(lambda: all(
            any(DAY_BEFORE in m.text for m in emu.phone(uid, "x").bot_messages) for uid, *_ in people), timeout=120)
        await _wait_db(settings, quiet(), 0, within=60)
        await emu.wait_idle(timeout=60, settle=0)
    finally:
        for p in procs:
            await p.close()

    async with make_sessionmaker(engine)() as s:
        consents = list(await s.scalars(select(Consent)))
        entries = list(await s.scalars(select(InputEntry)))
        scores = list(await s.scalars(select(Score)))
        responses = list(await s.scalars(select(MeetingResponse)))
        unfinished = [r for r in await s.scalars(select(FsmRecord)) if r.state]
        reminders = Counter((r.key.split(":")[3], r.status) for r in await s.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "meeting_input_reminder")))
    await engine.dispose()
    assert len(consents) == 2 * FAMILIES and {c.answer for c in consents} == {"given"}
    assert len(entries) == len(people)  # every answer stored once
    for e in entries:
        name = e.works.removesuffix(" c")
        assert e.worries == f"{name} a\n\n{name} b"
    assert len(scores) == len(people)
    assert len(responses) == len(people) and all(r.coming for r in responses)
    assert not unfinished
    # Three days before: everyone was reminded; one day before, everyone had shared: nobody.
    assert reminders == {("remind3", "sent"): len(people), ("remind1", "skipped"): len(people)}
    # Every notice once, whichever process sent it (several due at once arrive as one message).
    for uid, _name, _role, _token in people:
        seen = "\n".join(m.text for m in emu.phone(uid, "x").bot_messages)
        for marker in ("er nu i gang", MEETING_NOTICE, INPUT_REMINDER, DAY_BEFORE):
            assert seen.count(marker) == 1, (uid, marker, seen)
