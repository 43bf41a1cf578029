"""Shared by bench/throughput.py and bench/scale_out.py: people, scripts, bot processes, figures.

A load is N people in families of five (two parents with custody, who give
consent, and three others) who each go through consent, one input area with
three boxes, sharing and a score, the way tests/test_crash_many.py scripts them.
Every step is one action on the person's phone (a text or a tap) and waiting for
the bot's answer to it; its latency is the time between the two. All people run
at once. The echo baseline plays the same sequence of texts and taps against a
minimal aiogram bot (bench/_echo_bot.py) that answers each with a message.

The bots run as separate processes (`samspil run`, `samspil run --webhook`,
bench/_echo_bot.py), the emulator and the people in this one; the CPU time the
bot processes used (from /proc) is reported beside the wall clock, because on a
shared machine the wall clock also counts waiting for a core.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from core.clock import Clock
from emulator import BotAPIEmulator, ChatMessage, Phone
from storage import crypto
from storage import queries as q
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import FsmRecord, InputEntry, Score

ROOT = Path(__file__).resolve().parent.parent
FAMILY = [("parent_custody", "Mor"), ("parent_custody", "Far"), ("professional", "Lærer"),
          ("professional", "Pædagog"), ("network", "Morfar")]
COORDINATOR = 1
STEP_TIMEOUT = 300.0
SECRET = "bench-secret"

# ---- where the data lives ------------------------------------------------------------------


@dataclass
class Store:
    """One fresh database (and Redis prefix) for one run."""

    url: str
    schema: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "samspil"

    @property
    def label(self) -> str:
        if self.url.startswith("sqlite"):
            return "SQLite"
        return "PostgreSQL + Redis" if self.redis_url else "PostgreSQL"


@asynccontextmanager
async def fresh_store(tmp: Path, postgres_url: str | None = None, redis_url: str | None = None
                      ) -> AsyncIterator[Store]:
    """A SQLite file in `tmp`, or a PostgreSQL schema (and Redis prefix) of its own, removed afterwards."""
    tag = f"bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    if postgres_url is None:
        yield Store(f"sqlite+aiosqlite:///{tmp / (tag + '.db')}")
        return
    admin = create_async_engine(postgres_url)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {tag}"))
    try:
        yield Store(postgres_url, tag, redis_url, redis_prefix=tag)
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA {tag} CASCADE"))
        await admin.dispose()
        if redis_url:
            from redis.asyncio import Redis

            redis = Redis.from_url(redis_url)
            try:
                keys = [k async for k in redis.scan_iter(f"{tag}:*", count=1000)]
                if keys:
                    await redis.delete(*keys)
            finally:
                await redis.aclose()


@dataclass
class Someone:
    user_id: int
    name: str
    consent_giver: bool
    token: str


async def seed(store: Store, people: int) -> list[Someone]:
    """A coordinator and people // 5 dialogs of five invited people each, not yet joined."""
    engine = make_engine(store.url, schema=store.schema)
    await upgrade(engine)
    now = Clock().now()
    out: list[Someone] = []
    async with make_sessionmaker(engine)() as s, s.begin():
        coord = await q.get_or_create_person(s, COORDINATOR, now)
        coord.name, coord.staff_role, coord.locale = "Camilla", "coordinator", "da"
        for f in range(max(1, people // len(FAMILY))):
            dialog = await q.create_dialog(s, coordinator=coord, child_name=f"Barn{f}", age_group="barn",
                                           purpose="Trivsel i skolen", now=now)
            for i, (role, relation) in enumerate(FAMILY):
                uid = 1000 + f * 10 + i
                _p, token = await q.add_participant(s, dialog=dialog, name=f"P{uid}", role=role,
                                                    relation=relation, now=now, ttl_days=14)
                out.append(Someone(uid, f"P{uid}", role == "parent_custody", token))
    await engine.dispose()
    return out


async def check_stored(store: Store, people: int) -> str:
    """What the run left in the database: one entry and one score each, no conversation left open."""
    engine = make_engine(store.url, schema=store.schema)
    async with make_sessionmaker(engine)() as s:
        entries = await s.scalar(select(func.count()).select_from(InputEntry)
                                 .where(InputEntry.shared_at.is_not(None)))
        scores = await s.scalar(select(func.count()).select_from(Score))
        open_states = [r for r in await s.scalars(select(FsmRecord)) if r.state]
    await engine.dispose()
    ok = entries == people and scores == people and not open_states
    return (f"stored: {entries} shared entries, {scores} scores"
            + ("" if ok else f" – EXPECTED {people} each, {len(open_states)} conversations open"))


# ---- the bot processes -------------------------------------------------------------------------


class BotProcess:
    """One bot as a separate OS process; its stderr goes to `log`."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.argv, self.env, self.log = argv, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as err:
            # cwd: the log's folder, so that no .env file of the checkout is read.
            self.proc = subprocess.Popen([sys.executable, *self.argv], cwd=self.log.parent,
                                         env={**os.environ, **self.env}, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far (Linux /proc; 0 elsewhere)."""
        assert self.proc is not None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"bot process exited with {self.proc.returncode}:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    async def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        for _ in range(300):
            if self.proc.poll() is not None:
                return
            await asyncio.sleep(0.05)
        self.proc.kill()
        self.proc.wait()

    async def webhook_port(self) -> int:
        """The port a `samspil run --webhook` process bound (it logs it once it serves)."""
        for _ in range(1200):
            self.check_alive()
            m = re.search(r"webhook serving port=(\d+)", self.tail())
            if m:
                return int(m.group(1))
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the webhook process did not start:\n{self.tail()}")


def samspil_env(emu: BotAPIEmulator, store: Store, key: str, *, webhook: bool = False) -> dict[str, str]:
    env = {
        "DATA_KEY": key, "DATA_KEY_FILE": "", "DATA_KEYS_OLD": "",
        "BOT_TOKEN": emu.token, "BOT_API_URL": emu.base_url,
        "DATABASE_URL": store.url, "DATABASE_SCHEMA": store.schema or "",
        "REDIS_URL": store.redis_url or "", "REDIS_PREFIX": store.redis_prefix,
        "LOG_LEVEL": "INFO" if webhook else "WARNING",
        # Around the clock; no pause per chat; the emulator has no global limit to respect.
        "QUIET_HOURS_START": "00:00", "QUIET_HOURS_END": "00:00",
        "SEND_CHAT_INTERVAL": "0", "SEND_RATE": "1000",
        "WEBHOOK_URL": "", "WEBHOOK_SECRET": "",
    }
    if webhook:
        env.update({"WEBHOOK_URL": "http://127.0.0.1/telegram", "WEBHOOK_SECRET": SECRET,
                    "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": "0"})
    return env


def samspil_process(env: dict[str, str], log: Path, *, webhook: bool = False,
                    profile: Path | None = None) -> BotProcess:
    """`samspil run` (optionally under cProfile, written to `profile` when it stops)."""
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
    return BotProcess([*profiler, "-m", "bot.cli", "run", *(["--webhook"] if webhook else [])], env, log)


def echo_process(emu: BotAPIEmulator, log: Path, *, tasks: bool = False, mode: str = "") -> BotProcess:
    """The echo bot; `mode`: "" one update after the other, "batch" as Samspil polls, "tasks"."""
    env = {"BOT_TOKEN": emu.token, "BOT_API_URL": emu.base_url, "ECHO_MODE": "tasks" if tasks else mode}
    return BotProcess([str(ROOT / "bench" / "_echo_bot.py")], env, log)


async def polling_started(emu: BotAPIEmulator, bots: list[BotProcess], timeout: float = 120) -> None:  # noqa: ASYNC109
    """Wait until the bot asks for updates (it has started; start-up is not measured)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while emu.calls["getUpdates"] == 0:
        for b in bots:
            b.check_alive()
        if loop.time() > deadline:
            raise RuntimeError("the bot did not start polling:\n" + bots[0].tail())
        await asyncio.sleep(0.05)


# ---- the people -------------------------------------------------------------------------------

# One step: ("send", text, expected) or ("tap", button, expected); expected is a substring of
# the bot's answer. OPENED is no step: waiting for the notice that the dialog has started.
OPENED = ("wait", "", "")


def samspil_plan(someone: Someone, boxes: tuple[str, str, str]) -> list[tuple[str, str, str]]:
    """One person's conversation, as in tests/test_crash_many.py `_script`."""
    if someone.consent_giver:
        plan = [("send", f"/start {someone.token}", "Hvis du siger ja, giver du dit samtykke"),
                ("tap", "Ja, jeg giver samtykke", "Dit samtykke er gemt")]
    else:
        plan = [("send", f"/start {someone.token}", "Velkommen")]
    return plan + [
        OPENED,
        ("send", "/input", "inputområde"),
        ("tap", "Familieforhold", "trin 1 af 3"),
        ("send", boxes[0], "Gemt"),
        ("send", boxes[1], "Gemt"),
        ("tap", "Næste ➡️", "trin 2 af 3"),
        ("send", boxes[2], "Gemt"),
        ("tap", "Næste ➡️", "trin 3 af 3"),
        ("tap", "Se kladden", "din kladde (kun du kan se den)"),
        ("tap", "✅ Del", "er delt"),
        ("send", "/skala", "Tryk på et tal"),
        ("tap", "4", "Er det dit tal"),
        ("tap", "✅ Ja, gem 4", "Gemt: 4"),
    ]


def echo_plan(plan: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The same texts and taps for the echo bot: every text is echoed, every tap answered."""
    return [(kind, "OK" if kind == "tap" else arg, "") for kind, arg, _e in plan if kind != "wait"]


def opened(message: ChatMessage) -> bool:
    """Told that the dialog is open: by notice, by the consent reply, or on joining late."""
    return any(said in message.text.lower() for said in ("er nu i gang", "den er i gang"))


@dataclass
class Figures:
    label: str
    steps: int = 0
    seconds: float = 0.0
    bot_cpu: float = 0.0  # CPU seconds of the bot process(es) during the run
    emu_cpu: float = 0.0  # CPU seconds of this process (the emulator and the people)
    busy: float = 0.0  # share of the machine's CPU time in use during the run, by anything
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.steps / self.seconds

    def pct(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]

    def line(self) -> str:
        return (f"{self.label:<28} {self.steps:>5} steps {self.seconds:6.1f} s {self.rate:7.1f} steps/s  "
                f"p50 {self.pct(50) * 1000:5.0f} ms  p99 {self.pct(99) * 1000:5.0f} ms  "
                f"CPU/step: bot {self.bot_cpu / self.steps * 1000:5.1f} ms, "
                f"emulator {self.emu_cpu / self.steps * 1000:4.1f} ms; machine {self.busy:4.0%} busy")


async def play(phone: Phone, plan: list[tuple[str, str, str]], figures: Figures) -> None:
    for kind, arg, expect in plan:
        if kind == "wait":
            await phone.wait_for(opened, after=0, timeout=STEP_TIMEOUT)
            continue
        mark = phone.mark()
        started = time.perf_counter()
        if kind == "send":
            await phone.send(arg)
        else:
            await phone.tap(arg)
        await phone.wait_for(expect or _any, after=mark, timeout=STEP_TIMEOUT)
        figures.latencies.append(time.perf_counter() - started)
        figures.steps += 1


def _any(_message: ChatMessage) -> bool:
    return True


async def run_load(emu: BotAPIEmulator, plans: dict[int, list[tuple[str, str, str]]], figures: Figures,
                   bots: list[BotProcess], *, names: Callable[[int], str] = lambda uid: f"P{uid}") -> Figures:
    """Everyone at once; wall clock from the first action to the last answer."""
    emu.phone(COORDINATOR, "Camilla").open_chat()  # hears of each consent
    phones = {uid: emu.phone(uid, names(uid)) for uid in plans}
    cpu, own, machine = sum(b.cpu_seconds() for b in bots), time.process_time(), _machine_ticks()
    started = time.perf_counter()
    scripts = [asyncio.create_task(play(phones[uid], plan, figures)) for uid, plan in plans.items()]
    everyone = asyncio.gather(*scripts)
    watch = asyncio.create_task(_watch(bots))
    try:
        await asyncio.wait([everyone, watch], return_when=asyncio.FIRST_COMPLETED)
        if watch.done():
            watch.result()  # a bot process died: raises with its log
        await everyone
    except BaseException as exc:
        for task in scripts:
            task.cancel()
        await asyncio.gather(*scripts, return_exceptions=True)
        raise RuntimeError(f"the run failed; the bot's log ends:\n{bots[0].tail()}") from exc
    finally:
        watch.cancel()
    figures.seconds = time.perf_counter() - started
    figures.bot_cpu = sum(b.cpu_seconds() for b in bots) - cpu
    figures.emu_cpu = time.process_time() - own
    (total0, idle0), (total1, idle1) = machine, _machine_ticks()
    figures.busy = 1 - (idle1 - idle0) / max(1, total1 - total0)
    return figures


def _machine_ticks() -> tuple[int, int]:
    """(all, idle) CPU ticks of the machine so far (Linux /proc/stat; zeros elsewhere)."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return sum(ticks), ticks[3] + ticks[4]  # idle + iowait


async def _watch(bots: list[BotProcess]) -> None:
    """Stop the run at once if a bot process dies (the scripts would only time out)."""
    while True:
        for b in bots:
            b.check_alive()
        await asyncio.sleep(0.5)


def data_key() -> str:
    """A fresh data key, configured in this process too (the benchmark writes the set-up rows)."""
    key = crypto.new_key()
    crypto.configure(key)
    return key
