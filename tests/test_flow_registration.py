"""Issue #2, registration: `samspil admin add-coordinator/add-professional` prints a single-use,
expiring link; opening it makes that Telegram account a coordinator or professional."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.admin import add_staff
from bot.app import App
from bot.cli import main
from bot.playbook import Cast, link_token
from core.clock import FakeClock
from core.config import Settings
from emulator import BotAPIEmulator
from rules.tokens import hash_token
from storage.models import Person, Registration
from tests.helpers import Run, da, fresh_routers, samspil_cli, snapshot  # noqa: F401

LINK_LINE = re.compile(r"https://t\.me/samspil_test_bot\?start=[A-Za-z0-9_-]{22,64}")
COORDINATOR_COMMANDS = {"ny", "inviter", "dialoger"}


async def person_row(app: App, telegram_id: int) -> Person | None:
    async with app.sessionmaker() as s:
        return await s.scalar(select(Person).where(Person.telegram_id == telegram_id))


async def registrations(app: App) -> list[Registration]:
    async with app.sessionmaker() as s:
        return list(await s.scalars(select(Registration).order_by(Registration.id)))


def chat_commands(emu: BotAPIEmulator, user_id: int) -> set[str]:
    return {c["command"] for c in emu.commands_for({"type": "chat", "chat_id": user_id})}


async def test_admin_command_prints_links_that_register_a_coordinator_and_a_professional(
    cast: Cast, samspil: App, emu: BotAPIEmulator, settings: Settings, clock: FakeClock,
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # The command uses the real clock; the bot's clock is set to the same moment.
    clock.set(datetime.now(UTC))
    env = {"BOT_API_URL": emu.base_url, "BOT_TOKEN": emu.token, "DATABASE_URL": settings.database_url}
    coord_run = await samspil_cli("admin", "add-coordinator", "--name", "Camilla Tovholder", cwd=tmp_path, **env)
    # The same console entry in a thread of this process (a fresh interpreter spends seconds
    # importing aiogram): the emulator in this loop keeps serving meanwhile.
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    await asyncio.to_thread(main, ["admin", "add-professional", "--name", "Hanne Lærer", "--title", "Klasselærer"])
    out, _err = capsys.readouterr()
    prof_run = Run(0, out, "")
    for run in (coord_run, prof_run):
        assert run.code == 0, run.stderr
        assert "Traceback" not in run.stderr
        # The link is printed alone, on its own line.
        assert len(run.stdout_lines) == 1 and LINK_LINE.fullmatch(run.stdout_lines[0]), run.stdout
    coord_token = link_token(coord_run.stdout)
    prof_token = link_token(prof_run.stdout)
    assert coord_token != prof_token
    stored = sorted((r.staff_role, r.name, r.title, r.used_at, r.token_hash)
                    for r in await registrations(samspil))
    assert stored == [("coordinator", "Camilla Tovholder", None, None, hash_token(coord_token)),
                      ("professional", "Hanne Lærer", "Klasselærer", None, hash_token(prof_token))]
    on_disk = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert hash_token(coord_token).encode() in on_disk
    assert coord_token.encode() not in on_disk and prof_token.encode() not in on_disk

    coord = cast.person("Camilla")
    reply = await cast.say(coord, f"/start {coord_token}")
    assert "Velkommen, Camilla Tovholder. Du er nu oprettet som tovholder i Samspil." in reply.text
    assert "/ny" in reply.text and "/inviter" in reply.text and "/dialoger" in reply.text
    row = await person_row(samspil, coord.phone.user_id)
    assert row is not None and row.staff_role == "coordinator" and row.name == "Camilla Tovholder"
    assert COORDINATOR_COMMANDS <= chat_commands(emu, coord.phone.user_id)

    teacher = cast.person("Hanne")
    reply = await cast.say(teacher, f"/start {prof_token}")
    assert "Du er nu oprettet som fagperson i Samspil." in reply.text
    row_t = await person_row(samspil, teacher.phone.user_id)
    assert row_t is not None and (row_t.staff_role, row_t.name, row_t.title) == (
        "professional", "Hanne Lærer", "Klasselærer")
    assert not chat_commands(emu, teacher.phone.user_id) & COORDINATOR_COMMANDS

    used = {r.staff_role: r for r in await registrations(samspil)}
    assert used["coordinator"].person_id == row.id and used["coordinator"].used_at is not None
    assert used["professional"].person_id == row_t.id and used["professional"].used_at is not None

    # Single use: the coordinator's link, opened again by someone else, fails clearly.
    before = await snapshot(samspil)
    other = cast.person("Ole")
    reply = await cast.say(other, f"/start {coord_token}")
    assert reply.text == da(samspil, "This link has already been used. Ask your administrator for a new one if you need it.")
    assert await snapshot(samspil) == before
    assert await person_row(samspil, other.phone.user_id) is None
    reply = await cast.say(other, "/ny")
    assert "Den kommando er kun for tovholdere." in reply.text


async def test_an_expired_registration_link_fails_clearly(cast: Cast, samspil: App, settings: Settings,
                                                          clock: FakeClock) -> None:
    assert settings.invite_ttl_days == 14
    early = link_token(await add_staff(settings, role="coordinator", name="Camilla", title=None, clock=clock))
    late = link_token(await add_staff(settings, role="coordinator", name="Bo", title=None, clock=clock))

    clock.advance(days=13)  # still valid the day before
    camilla = cast.person("Camilla")
    reply = await cast.say(camilla, f"/start {early}")
    assert "oprettet som tovholder" in reply.text

    clock.advance(days=2)  # past INVITE_TTL_DAYS
    before = await snapshot(samspil)
    bo = cast.person("Bo")
    reply = await cast.say(bo, f"/start {late}")
    assert reply.text == da(samspil, "This link has expired. Ask your administrator for a new one.")
    assert await snapshot(samspil) == before
    assert await person_row(samspil, bo.phone.user_id) is None
    assert [r.used_at is None for r in await registrations(samspil)] == [False, True]


async def test_a_professional_link_never_demotes_a_coordinator(cast: Cast, samspil: App, settings: Settings,
                                                               clock: FakeClock, emu: BotAPIEmulator) -> None:
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    link = await add_staff(settings, role="professional", name="Camilla Tovholder", title="Socialrådgiver",
                           clock=clock)
    await cast.say(coord, f"/start {link_token(link)}")
    row = await person_row(samspil, coord.phone.user_id)
    assert row is not None and row.staff_role == "coordinator" and row.title == "Socialrådgiver"
    reply = await cast.say(coord, "/ny")
    assert "Hvad er barnets fornavn?" in reply.text
    assert COORDINATOR_COMMANDS <= chat_commands(emu, coord.phone.user_id)
