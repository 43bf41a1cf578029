"""Shared helpers for the issue #2 tests: the console entry, the database, what people saw."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.app import App
from bot.playbook import Cast, Person
from emulator import ChatMessage
from handlers.routers import BLUEPRINTS
from storage.models import Base, Dialog, FsmRecord, Participant

ROOT = Path(__file__).resolve().parent.parent
PURPOSE = "Vi vil styrke Emmas trivsel i skolen."


@pytest.fixture(autouse=True)
def fresh_routers() -> Iterator[None]:
    """Autouse in the modules that import it: after the test, the flows' blueprint routers
    are still free. Each bot gets a fresh router tree of its own (handlers/routers.py); a
    blueprint included in a dispatcher directly would bind every handler to that one."""
    yield
    attached = [r.name for r in BLUEPRINTS if r.parent_router is not None]
    assert not attached, f"blueprint routers included in a dispatcher directly: {attached}"


# ---- the console entry (`samspil ...` as `python -m bot.cli ...`) -------------------------------


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.splitlines()

    @property
    def stdout_lines(self) -> list[str]:
        return self.stdout.splitlines()


CLI_TIMEOUT = 60.0


def cli_env(**values: str) -> dict[str, str]:
    """A clean environment: nothing inherited but PATH (and the tests' DATA_KEY, see
    tests/conftest.py), so only `values` configure the program. DATA_KEY="" removes the key."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "DATA_KEY": os.environ.get("DATA_KEY", "")}
    # Under Debian's faketime (README, "Testing"), the program sees the same moved clock.
    env.update({k: v for k, v in os.environ.items() if k.startswith("FAKETIME") or k == "LD_PRELOAD"})
    env.update(values)
    return env


async def samspil_cli(*args: str, cwd: Path, **env: str) -> Run:
    """Run `samspil <args>` in a fresh process (async: the emulator in this loop keeps serving).

    `cwd` should be an empty temporary folder so no `.env` file is picked up.
    """
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, cwd=cwd, env=cli_env(**env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), CLI_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return Run(proc.returncode or 0, out.decode(), err.decode())


# ---- the database -----------------------------------------------------------------------------

# The conversation step (checked on its own) and the record of handled update ids change
# with every update; everything else must stay as it was.
BOOKKEEPING = {"fsm_state", "processed_update"}
BUSINESS_TABLES = [t for t in Base.metadata.sorted_tables if t.name not in BOOKKEEPING]


async def snapshot(app: App) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the FSM's: equal snapshots mean nothing was stored."""
    async with app.sessionmaker() as s:
        return {t.name: [tuple(r) for r in (await s.execute(t.select().order_by(*t.primary_key))).all()]
                for t in BUSINESS_TABLES}


async def fsm(app: App, who: Person) -> tuple[str | None, str | None]:
    """(state, data) of the person's conversation step, as stored."""
    uid = who.phone.user_id
    async with app.sessionmaker() as s:
        rows = list(await s.scalars(select(FsmRecord).where(FsmRecord.key.like(f"%:{uid}:{uid}:%"))))
    if not rows:
        return None, None
    assert len(rows) == 1, [r.key for r in rows]
    return rows[0].state, rows[0].data


async def dialogs(app: App) -> list[Dialog]:
    async with app.sessionmaker() as s:
        return list(await s.scalars(select(Dialog).order_by(Dialog.id)))


async def participants(app: App, dialog_id: int) -> list[Participant]:
    async with app.sessionmaker() as s:
        return list(await s.scalars(
            select(Participant).where(Participant.dialog_id == dialog_id).order_by(Participant.id)))


async def scalar(app: App, sql: str) -> Any:
    async with app.sessionmaker() as s:
        return await s.scalar(text(sql))


# ---- what people saw -------------------------------------------------------------------------


def da(app: App, msgid: str) -> str:
    """The Danish text of a msgid, checked to be translated."""
    danish = app.i18n.gettext(msgid, locale="da")
    assert danish != msgid, f"not translated to Danish: {msgid!r}"
    return danish


def new_bot(who: Person, mark: int) -> list[ChatMessage]:
    """Bot messages created or edited after `mark` (a `Phone.mark()`)."""
    return [m for m in who.phone.bot_messages if m.version > mark]


def saw(who: Person, fragment: str) -> list[ChatMessage]:
    """Every bot message in the person's chat containing `fragment`."""
    return [m for m in who.phone.bot_messages if fragment in m.text]


def last_bot(who: Person) -> ChatMessage:
    return who.phone.bot_messages[-1]


async def new_coordinator(cast: Cast, name: str = "Camilla Tovholder", *, locale: str = "da") -> Person:
    coord = cast.person(name, locale=locale)
    await cast.register(coord)
    return coord


async def open_dialog(cast: Cast, app: App, coord: Person, child: str = "Emma",
                      age_group: str = "barn", purpose: str = PURPOSE) -> int:
    """The coordinator opens a dialog through /ny; returns its id."""
    await cast.open_dialog(coord, child, age_group, purpose)
    async with app.sessionmaker() as s:
        dialog_id = await s.scalar(select(Dialog.id).order_by(Dialog.id.desc()).limit(1))
    assert dialog_id is not None
    return dialog_id
