"""Fuzzing the running bot with Hypothesis: whatever arrives, no unhandled exception,
and a normal conversation still works afterwards.

One bot (real aiogram, polling the emulator over HTTP) serves every example; each
example is a random sequence of what people can send: any text (control characters,
right-to-left marks, emoji, HTML), commands with odd arguments, photos, stickers,
locations, and taps with random or forged callback data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App, build_app, run_polling
from bot.playbook import Cast, Person
from core.clock import FakeClock
from core.config import Settings
from emulator import BotAPIEmulator

COMMANDS = ["/start", "/hjaelp", "/sprog", "/ny", "/inviter", "/dialoger", "/input", "/skala",
            "/vurdering", "/oversigt", "/annuller", "/moede", "/plan", "/samtykke", "/mine_data", "/foo"]
PREFIXES = ["consent", "ny", "inv", "in", "sk", "ov", "pick", "lang", "mt", "plan", "task", "x"]

pieces = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
    st.sampled_from(["\u200f", "\u202e", "\u0000", "\x1b", "<b>", "&amp;", "&", "<", "🙂", "\n",
                     "010203-1234", "</i>", "<script>"]),
)
texts = st.lists(pieces, min_size=1, max_size=8).map("".join).filter(lambda s: s.strip() != "")
callback_data = st.one_of(
    st.builds(lambda p, parts: ":".join([p, *parts]), st.sampled_from(PREFIXES),
              st.lists(st.one_of(st.integers(-5, 10**12).map(str), st.text(max_size=8)), max_size=5)),
    st.text(min_size=1, max_size=64),
).filter(lambda d: 0 < len(d.encode()) <= 64)
actions = st.one_of(
    st.tuples(st.just("text"), texts),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS), st.text(max_size=80)),
    st.tuples(st.just("media"), st.sampled_from(["photo", "sticker", "voice", "location", "document"])),
    st.tuples(st.just("tap"), callback_data),
    st.tuples(st.just("button")),
)


class World:
    """A running bot, a coordinator and a mother in an open dialog, kept across examples."""

    def __init__(self, tmp: Path) -> None:
        self.runner = asyncio.Runner()
        self.tmp = tmp

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.runner.run(coro)

    async def start(self) -> None:
        self.emu = BotAPIEmulator()
        await self.emu.start()
        self.clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
        from storage import crypto

        self.settings = Settings(
            _env_file=None, bot_token=self.emu.token, bot_api_url=self.emu.base_url,
            database_url=f"sqlite+aiosqlite:///{self.tmp / 'fuzz.db'}", send_chat_interval=0,
            data_key=crypto.new_key())
        self.app: App = await build_app(self.settings, clock=self.clock)
        self.polling = asyncio.create_task(run_polling(self.app, handle_signals=False))
        self.cast = Cast(self.emu, self.settings, self.app.i18n, self.clock, scheduler=self.app.scheduler)
        self.coord = self.cast.person("Camilla Holm", user_id=1)
        self.mom = self.cast.person("Mette", user_id=2)
        await self.cast.register(self.coord)
        await self.cast.open_dialog(self.coord, "Emma", "barn", "Trivsel i skolen")
        await self.cast.invite(self.coord, self.mom, "Parent with custody", "Mor")
        await self.cast.join(self.mom)
        await self.cast.consent(self.mom)

    async def stop(self) -> None:
        await self.app.dp.stop_polling()
        await self.polling
        await self.app.close()
        await self.emu.stop()

    async def act(self, who: Person, action: tuple) -> None:  # type: ignore[type-arg]
        phone = who.phone
        kind = action[0]
        if kind == "text":
            await phone.send(action[1])
        elif kind == "command":
            await phone.send(f"{action[1]} {action[2]}".strip())
        elif kind == "media":
            await {"photo": phone.send_photo, "sticker": phone.send_sticker, "voice": phone.send_voice,
                   "location": lambda: phone.send_location(55.0, 12.0),
                   "document": phone.send_document}[action[1]]()
        elif kind == "tap":
            bot_messages = phone.bot_messages
            if bot_messages:
                await phone.tap_data(bot_messages[-1].message_id, action[1])
        elif kind == "button":  # a real button, of whatever message is newest
            rows = phone.buttons()
            if rows:
                await phone.tap(rows[0][0])
        await self.cast.settle()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("fuzz"))
    w.run(w.start())
    yield w
    w.run(w.stop())
    w.runner.close()


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          database=None)
@given(steps=st.lists(st.tuples(st.booleans(), actions), min_size=1, max_size=12))
def test_random_updates_break_nothing(world: World, steps: list) -> None:  # type: ignore[type-arg]
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    try:
        for as_mother, action in steps:
            world.run(world.act(world.mom if as_mother else world.coord, action))
        # Afterwards, both can still do what they came for.
        world.run(world.cast.say(world.mom, "/annuller"))
        reply = world.run(world.cast.say(world.mom, "/input"))
        assert "inputområde" in reply.text or "Which dialog" in reply.text or "Hvilken dialog" in reply.text
        world.run(world.cast.say(world.coord, "/annuller"))
        reply = world.run(world.cast.say(world.coord, "/dialoger"))
        assert "Emma" in reply.text
    finally:
        logging.getLogger().removeHandler(errors)
    unhandled = [r for r in errors.records if r.name.startswith(("samspil", "aiogram"))]
    assert not unhandled, [f"{r.name}: {r.getMessage()[:200]}" for r in unhandled]
    assert not world.emu.internal_errors
