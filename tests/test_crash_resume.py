"""A real bot process is killed (SIGKILL) mid-conversation; a new one carries on.

The person's step and what they had typed so far live in the database (the
SQL FSM storage and the drafts), committed with each answer, so the new process
picks up exactly where the old one died.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.admin import add_staff
from bot.playbook import link_token
from core.config import Settings
from emulator import BotAPIEmulator
from storage import outbox
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Dialog, InputEntry, OutboxMessage, Participant, Person

ROOT = Path(__file__).resolve().parent.parent


class BotProcess:
    """`samspil run` in its own process, against the test's emulator and database."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.env = {
            **os.environ,
            "BOT_TOKEN": settings.token,
            "BOT_API_URL": settings.bot_api_url,
            "DATABASE_URL": settings.database_url,
            "LOG_LEVEL": "WARNING",
            "DATABASE_SCHEMA": settings.database_schema or "",
            "REDIS_URL": settings.redis_url or "",
            # Real time of day: no quiet hours, or an evening run would hold the notices.
            "QUIET_HOURS_START": "00:00",
            "QUIET_HOURS_END": "00:00",
        }
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log = (self.workdir / "bot.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"], cwd=self.workdir, env=self.env,
            stdout=subprocess.DEVNULL, stderr=self.log,
        )

    def output(self) -> str:
        return (self.workdir / "bot.log").read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        assert self.proc.returncode == -signal.SIGKILL

    async def stop(self) -> int | None:
        """SIGTERM, and wait for a clean exit while the emulator (on this loop) keeps serving."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        self.proc.terminate()
        try:
            return await asyncio.to_thread(self.proc.wait, 30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("the bot did not stop on SIGTERM:\n" + self.output()) from None


@pytest.fixture
async def bot_process(settings: Settings, tmp_path: Path) -> AsyncIterator[BotProcess]:
    proc = BotProcess(settings, tmp_path)
    yield proc
    await proc.stop()


async def _db_dialogs(settings: Settings) -> list[Dialog]:
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    try:
        async with make_sessionmaker(engine)() as s:
            return list(await s.scalars(select(Dialog)))
    finally:
        await engine.dispose()


async def _say(emu: BotAPIEmulator, phone, text: str, expect: str, wait: float = 30) -> str:  # type: ignore[no-untyped-def]
    mark = phone.mark()
    await phone.send(text)
    return (await phone.wait_for(expect, after=mark, timeout=wait)).text


async def test_sigkill_in_the_middle_of_opening_a_dialog(emu: BotAPIEmulator, settings: Settings,
                                                         bot_process: BotProcess) -> None:
    link = await add_staff(settings, role="coordinator", name="Camilla Holm", title=None)
    camilla = emu.phone(501, "Camilla", language_code="da")
    bot_process.start()
    await _say(emu, camilla, f"/start {link_token(link)}", "tovholder", wait=60)
    await _say(emu, camilla, "/ny", "fornavn")
    await _say(emu, camilla, "Emma", "Emma")
    mark = camilla.mark()
    await camilla.tap("Barn (0-14 år)")
    await camilla.wait_for("formål", after=mark, timeout=30)
    await emu.wait_idle(settle=0, timeout=30)

    bot_process.kill()  # the coordinator is at step 3 of 3: the purpose
    bot_process.start()

    summary = await _say(emu, camilla, "Vi vil styrke Emmas trivsel i skolen.", "Emma", wait=60)
    assert "barn (0-14 år)" in summary
    assert "Vi vil styrke Emmas trivsel i skolen." in summary
    mark = camilla.mark()
    await camilla.tap("✅ Opret dialogen")
    await camilla.wait_for("oprettet", after=mark, timeout=30)
    await emu.wait_idle(settle=0, timeout=30)  # the reply goes out just before the commit
    [dialog] = await _db_dialogs(settings)
    assert (dialog.child_name, dialog.age_group) == ("Emma", "barn")
    assert dialog.purpose == "Vi vil styrke Emmas trivsel i skolen."


async def test_sigkill_in_the_middle_of_a_box_keeps_the_draft(emu: BotAPIEmulator, settings: Settings,
                                                              bot_process: BotProcess) -> None:
    link = await add_staff(settings, role="coordinator", name="Camilla Holm", title=None)
    camilla = emu.phone(601, "Camilla", language_code="da")
    mette = emu.phone(602, "Mette", language_code="da")
    bot_process.start()
    await _say(emu, camilla, f"/start {link_token(link)}", "tovholder", wait=60)
    await _say(emu, camilla, "/ny", "fornavn")
    await _say(emu, camilla, "Emma", "Emma")
    await camilla.tap("Barn (0-14 år)")
    await camilla.wait_for("formål", timeout=30)
    await _say(emu, camilla, "Trivsel i skolen.", "Trivsel")
    await camilla.tap("✅ Opret dialogen")
    await camilla.wait_for("oprettet", timeout=30)
    await _say(emu, camilla, "/inviter", "Hvad hedder")
    await _say(emu, camilla, "Mette", "rolle")
    await camilla.tap("Forælder med forældremyndighed")
    await camilla.wait_for("Mor eller Far", timeout=30)
    invite = await _say(emu, camilla, "Mor", "https://t.me/")
    await _say(emu, mette, f"/start {link_token(invite)}", "samtykke")
    await mette.tap("Ja, jeg giver samtykke")
    await mette.wait_for("i gang", timeout=30)
    await _say(emu, mette, "/input", "inputområde")
    await mette.tap("Familieforhold")
    await mette.wait_for("Bekymringer", timeout=30)
    await _say(emu, mette, "Første del af min bekymring.", "Gemt")
    await emu.wait_idle(settle=0, timeout=30)

    bot_process.kill()
    bot_process.start()

    await _say(emu, mette, "Anden del, som jeg kom i tanke om.", "Gemt", wait=60)
    await emu.wait_idle(settle=0, timeout=30)
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    async with make_sessionmaker(engine)() as s:
        [entry] = list(await s.scalars(select(InputEntry)))
    await engine.dispose()
    assert entry.shared_at is None  # still a private draft
    assert entry.worries == "Første del af min bekymring.\n\nAnden del, som jeg kom i tanke om."
    assert entry.works is None
    assert await bot_process.stop() == 0  # SIGTERM: a clean shutdown


async def _wait_db(settings: Settings, query, expected, within: float = 30) -> None:  # type: ignore[no-untyped-def]
    """Wait until a database query gives `expected` (another process writes it)."""
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    try:
        while True:
            async with make_sessionmaker(engine)() as s:
                got = await s.scalar(query)
            if got == expected or loop.time() > deadline:
                assert got == expected, f"database says {got}, expected {expected}"
                return
            await asyncio.sleep(0.05)  # polling another process's commits, bounded by the deadline
    finally:
        await engine.dispose()


async def test_sigkill_in_a_burst_of_500_notices_loses_none_and_repeats_none(
        emu: BotAPIEmulator, settings: Settings, bot_process: BotProcess) -> None:
    n = 500
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    await upgrade(engine)
    now = datetime.now(UTC)
    async with make_sessionmaker(engine)() as s, s.begin():
        coord = Person(telegram_id=1, name="Camilla", staff_role="coordinator", created_at=now)
        s.add(coord)
        await s.flush()
        dialog = Dialog(coordinator_id=coord.id, child_name="Emma", age_group="barn", purpose="Trivsel",
                        state="active", created_at=now, purpose_updated_at=now)
        s.add(dialog)
        await s.flush()
        people = [Person(telegram_id=20_000 + i, name=f"P{i}", locale="da", created_at=now) for i in range(n)]
        s.add_all(people)
        await s.flush()
        seats = [Participant(dialog_id=dialog.id, person_id=p.id, name=p.name, role="professional",
                             joined_at=now, created_at=now) for p in people]
        s.add_all(seats)
        await s.flush()
        for seat in seats:
            await outbox.enqueue(s, key=f"open:{dialog.id}:{seat.id}", person_id=seat.person_id,
                                 kind="dialog_open", due_at=now, now=now, dialog_id=dialog.id,
                                 payload={"dialog_id": dialog.id})
    await engine.dispose()
    for i in range(n):
        emu.phone(20_000 + i, f"P{i}").open_chat()

    bot_process.env.update(SEND_RATE="200", SEND_CHAT_INTERVAL="0", SEND_CONCURRENCY="8",
                           OUTBOX_LEASE_SECONDS="3", BOT_API_URL=emu.base_url_via("first"))
    hold = emu.hold("sendMessage", after=200, via="first")
    bot_process.start()
    await asyncio.wait_for(hold.reached.wait(), 60)
    # Everything Telegram accepted is recorded as sent; the next sends are on the wire.
    sent_count = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")
    await _wait_db(settings, sent_count, 200)
    bot_process.kill()
    # The dead process's requests on the wire, and any still in a socket buffer, never
    # reach anyone: every call on its route fails from now on.
    hold.release(drop=True)

    bot_process.env["BOT_API_URL"] = emu.base_url_via("second")
    bot_process.start()  # the dead process's claims come back when their lease runs out
    await emu.wait_until(lambda: len({r.chat_id for r in emu.sent}) == n, timeout=90)
    await _wait_db(settings, sent_count, n)
    per_chat = Counter(r.chat_id for r in emu.sent if r.method == "sendMessage")
    assert len(per_chat) == n  # none lost
    assert max(per_chat.values()) == 1  # none twice
