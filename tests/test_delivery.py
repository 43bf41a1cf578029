"""The delivery engine: notices through the outbox, within Telegram's limits, exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from bot.app import App, build_app
from bot.scheduler import RateLimiter, merge
from core.clock import FakeClock
from core.config import Settings
from core.notices import RenderContext, Rendered, renderer
from emulator import BotAPIEmulator
from rules.roles import COORDINATOR, PARENT_CUSTODY, PROFESSIONAL
from storage import outbox
from storage.models import Dialog, OutboxMessage, Participant, Person


@pytest.fixture
async def samspil(settings: Settings, clock: FakeClock) -> AsyncIterator[App]:
    """The app without polling and without the background loop: each test drives
    the scheduler itself (`drain`), so nothing is sent behind its back."""
    app = await build_app(settings, clock=clock, start_scheduler=False)
    try:
        yield app
    finally:
        await app.close()


@renderer("test_note")
async def _note(ctx: RenderContext, payload: dict) -> Rendered | None:
    return Rendered(f"Besked {payload['n']}")


async def _people(app: App, emu: BotAPIEmulator, clock: FakeClock) -> dict[str, Participant]:
    """A dialog with a coordinator, a parent and a teacher, each with a Telegram chat."""
    now = clock.now()
    async with app.sessionmaker() as s, s.begin():
        coord = Person(telegram_id=9001, name="Camilla", staff_role="coordinator", locale="da", created_at=now)
        mom = Person(telegram_id=9002, name="Mette", locale="da", created_at=now)
        teacher = Person(telegram_id=9003, name="Hanne", locale="da", created_at=now)
        s.add_all([coord, mom, teacher])
        await s.flush()
        d = Dialog(coordinator_id=coord.id, child_name="Emma", age_group="barn", purpose="Trivsel",
                   state="active", created_at=now, purpose_updated_at=now)
        s.add(d)
        await s.flush()
        seats = {
            "coord": Participant(dialog_id=d.id, person_id=coord.id, name="Camilla", role=COORDINATOR,
                                 joined_at=now, created_at=now),
            "mom": Participant(dialog_id=d.id, person_id=mom.id, name="Mette", role=PARENT_CUSTODY,
                               relation="Mor", consent_giver=True, joined_at=now, created_at=now),
            "teacher": Participant(dialog_id=d.id, person_id=teacher.id, name="Hanne", role=PROFESSIONAL,
                                   relation="Klasselærer", joined_at=now, created_at=now),
        }
        s.add_all(seats.values())
    for uid, name in ((9001, "Camilla"), (9002, "Mette"), (9003, "Hanne")):
        emu.phone(uid, name).open_chat()
    return seats


async def _note_to(app: App, seat: Participant, n: int, key: str | None = None) -> None:
    async with app.sessionmaker() as s, s.begin():
        await app.notices.add(s, to=seat, kind="test_note", key=key or f"note:{n}", payload={"n": n})


def _texts(emu: BotAPIEmulator, uid: int) -> list[str]:
    return [m.text for m in emu.phone(uid, "x").bot_messages]


async def _rows(app: App) -> list[OutboxMessage]:
    async with app.sessionmaker() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_notice_is_sent_once(samspil: App, emu: BotAPIEmulator, clock: FakeClock) -> None:
    seats = await _people(samspil, emu, clock)
    await _note_to(samspil, seats["teacher"], 1)
    await _note_to(samspil, seats["teacher"], 1)  # same key: not written twice
    assert await samspil.scheduler.drain() == 1
    assert await samspil.scheduler.drain() == 0
    assert _texts(emu, 9003) == ["Besked 1"]
    [row] = await _rows(samspil)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, clock.now())
    [sent] = emu.sent
    assert sent.chat_id == 9003


async def test_several_notices_due_together_become_one_message(samspil: App, emu: BotAPIEmulator,
                                                                clock: FakeClock) -> None:
    seats = await _people(samspil, emu, clock)
    for n in (1, 2, 3):
        await _note_to(samspil, seats["teacher"], n)
    await samspil.scheduler.drain()
    [message] = _texts(emu, 9003)
    assert "Besked 1" in message and "Besked 2" in message and "Besked 3" in message
    assert {r.status for r in await _rows(samspil)} == {"sent"}


def test_merging_keeps_one_of_identical_buttons() -> None:
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

    def read(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Læs det", callback_data=data)]])

    [(message, count)] = merge([Rendered("a", read("ov:1")), Rendered("b", read("ov:1")), Rendered("c", read("ov:2"))])
    assert count == 3
    assert [[b.callback_data for b in row] for row in message.keyboard.inline_keyboard] == [["ov:1"], ["ov:2"]]


def test_merging_respects_telegrams_limit() -> None:
    parts = [Rendered("x" * 3000), Rendered("y" * 3000), Rendered("z" * 10)]
    merged = merge(parts)
    assert [count for _, count in merged] == [1, 2]
    assert all(len(m.text) <= 4096 for m, _ in merged)


async def test_a_429_is_waited_out_and_retried(samspil: App, emu: BotAPIEmulator, clock: FakeClock) -> None:
    seats = await _people(samspil, emu, clock)
    emu.inject_fault(429, chat_id=9003, method="sendMessage", retry_after=1)
    await _note_to(samspil, seats["teacher"], 1)
    await samspil.scheduler.drain()
    [row] = await _rows(samspil)
    assert (row.status, row.last_error) == ("pending", "429")
    assert row.due_at == clock.now() + timedelta(seconds=1)
    assert _texts(emu, 9003) == []
    clock.advance(seconds=1)
    await samspil.scheduler.drain()  # the limiter holds this chat for the real retry_after
    assert _texts(emu, 9003) == ["Besked 1"]
    [row] = await _rows(samspil)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_server_errors_are_retried_with_backoff(samspil: App, emu: BotAPIEmulator,
                                                      clock: FakeClock) -> None:
    seats = await _people(samspil, emu, clock)
    emu.inject_fault(500, chat_id=9003, method="sendMessage", times=2)
    await _note_to(samspil, seats["teacher"], 1)
    start = clock.now()
    await samspil.scheduler.drain()
    [row] = await _rows(samspil)
    assert row.status == "pending" and row.due_at == start + timedelta(seconds=2)
    clock.advance(seconds=2)
    await samspil.scheduler.drain()
    [row] = await _rows(samspil)
    assert row.status == "pending" and row.due_at == clock.now() + timedelta(seconds=4)
    assert row.last_error == "TelegramServerError"
    clock.advance(seconds=3)
    assert await samspil.scheduler.drain() == 0  # not due yet
    clock.advance(seconds=1)
    await samspil.scheduler.drain()
    assert _texts(emu, 9003) == ["Besked 1"]


async def test_a_blocked_bot_marks_the_person_unreachable_and_tells_the_coordinator_once(
        samspil: App, emu: BotAPIEmulator, clock: FakeClock) -> None:
    seats = await _people(samspil, emu, clock)
    emu.block(9003)
    await _note_to(samspil, seats["teacher"], 1)
    await samspil.scheduler.drain()
    await _note_to(samspil, seats["teacher"], 2)
    await samspil.scheduler.drain()
    rows = await _rows(samspil)
    notes = [r for r in rows if r.kind == "test_note"]
    assert [(r.status, r.last_error) for r in notes] == [("failed", "blocked")] * 2
    async with samspil.sessionmaker() as s:
        teacher = await s.get(Participant, seats["teacher"].id)
        assert teacher.unreachable_at == clock.now()
    told = [t for t in _texts(emu, 9001) if "kan ikke længere nås" in t]
    assert len(told) == 1 and "Hanne (Klasselærer)" in told[0]


async def test_quiet_hours_hold_a_family_members_notice_until_morning(
        samspil: App, emu: BotAPIEmulator, clock: FakeClock) -> None:
    seats = await _people(samspil, emu, clock)
    clock.set(datetime(2026, 11, 23, 20, 30, tzinfo=UTC))  # 21:30 in Copenhagen
    await _note_to(samspil, seats["mom"], 1)
    await _note_to(samspil, seats["teacher"], 2)
    await samspil.scheduler.drain()
    assert _texts(emu, 9003) == ["Besked 2"]  # a professional is not held
    assert _texts(emu, 9002) == []
    clock.set(datetime(2026, 11, 24, 6, 59, tzinfo=UTC))  # 07:59
    await samspil.scheduler.drain()
    assert _texts(emu, 9002) == []
    clock.set(datetime(2026, 11, 24, 7, 0, tzinfo=UTC))  # 08:00
    await samspil.scheduler.drain()
    assert _texts(emu, 9002) == ["Besked 1"]


async def test_a_claim_is_not_taken_twice_and_an_expired_lease_is_taken_again(
        samspil: App, emu: BotAPIEmulator, clock: FakeClock) -> None:
    seats = await _people(samspil, emu, clock)
    for n in range(5):
        await _note_to(samspil, seats["teacher"], n)
    lease = timedelta(seconds=60)
    async with samspil.sessionmaker() as s, s.begin():
        first = await outbox.claim_due(s, clock.now(), limit=3, lease=lease)
    async with samspil.sessionmaker() as s, s.begin():
        second = await outbox.claim_due(s, clock.now(), limit=10, lease=lease)
    assert len(first) == 3 and len(second) == 2
    assert not {r.id for r in first} & {r.id for r in second}
    # The claimer died: nothing is taken again before the lease runs out...
    async with samspil.sessionmaker() as s, s.begin():
        assert await outbox.reclaim_expired(s, clock.now() + lease) == 0
    # ...and everything after.
    async with samspil.sessionmaker() as s, s.begin():
        assert await outbox.reclaim_expired(s, clock.now() + lease + timedelta(seconds=1)) == 5


async def test_a_claim_whose_lease_ran_out_is_not_sent_by_its_first_claimer(
        samspil: App, emu: BotAPIEmulator, clock: FakeClock) -> None:
    """Rows wait behind the rate limit; if the lease runs out meanwhile and another
    scheduler reclaims them, the first one must not send them too."""
    seats = await _people(samspil, emu, clock)
    for n in range(2):
        await _note_to(samspil, seats["teacher"], n)
    lease = timedelta(seconds=60)
    async with samspil.sessionmaker() as s, s.begin():
        slow = await outbox.claim_due(s, clock.now(), limit=10, lease=lease)
    assert len(slow) == 2
    # Halfway through the lease, the claimer still holds the rows and may renew them.
    async with samspil.sessionmaker() as s, s.begin():
        assert await outbox.renew_claim(s, slow, clock.now() + timedelta(seconds=30), lease)
    later = clock.now() + timedelta(seconds=30) + lease + timedelta(seconds=1)
    async with samspil.sessionmaker() as s, s.begin():
        assert await outbox.reclaim_expired(s, later) == 2
        other = await outbox.claim_due(s, later, limit=10, lease=lease)
    assert {r.id for r in other} == {r.id for r in slow}
    async with samspil.sessionmaker() as s, s.begin():
        assert not await outbox.renew_claim(s, slow, later, lease)  # not the first claimer's any more
        assert await outbox.renew_claim(s, other, later, lease)
    async with samspil.sessionmaker() as s, s.begin():
        await outbox.mark_sent(s, [r.id for r in other], later)
    async with samspil.sessionmaker() as s, s.begin():
        assert not await outbox.renew_claim(s, slow, later, lease)  # sent: nothing to renew


async def test_finding_due_rows_uses_the_partial_index(samspil: App) -> None:
    """The query as the scheduler sends it, with bound parameters, can use ix_outbox_due."""
    now = datetime(2026, 11, 23, tzinfo=UTC)
    async with samspil.sessionmaker() as s:
        conn = await s.connection()
        sql = str(outbox.due_query(now, 100).compile(conn.engine))
        if conn.dialect.name == "sqlite":
            plan = (await conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {sql}", (now.replace(tzinfo=None).isoformat(" "), 100, 0))).all()
        else:
            # An empty table is cheaper to scan: ask whether the index can be used at all.
            await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = (await conn.execute(text("EXPLAIN " + str(outbox.due_query(now, 100).compile(
                conn.engine, compile_kwargs={"literal_binds": True}))))).all()
    assert any("ix_outbox_due" in str(row) for row in plan), plan


def test_the_limiter_keeps_the_global_rate_and_one_second_per_chat() -> None:
    now = [100.0]
    limiter = RateLimiter(per_second=25, per_chat_interval=1.0, monotonic=lambda: now[0])
    # 50 different chats at once: one every 1/25 s.
    delays = [limiter.reserve(chat) for chat in range(50)]
    assert delays == pytest.approx([i / 25 for i in range(50)])
    # The same chat three times: a second apart, even though the global slot is free.
    now[0] = 200.0
    assert [limiter.reserve(7) for _ in range(3)] == pytest.approx([0.0, 1.0, 2.0])
    limiter.pause_chat(8, 5)
    assert limiter.reserve(8) == pytest.approx(5.0)


async def test_rows_counted_by_status(samspil: App, emu: BotAPIEmulator, clock: FakeClock) -> None:
    seats = await _people(samspil, emu, clock)
    await _note_to(samspil, seats["teacher"], 1)
    async with samspil.sessionmaker() as s:
        assert await outbox.count_by_status(s) == {"pending": 1}
        assert await s.scalar(select(func.count()).select_from(OutboxMessage)) == 1


async def test_a_notice_queued_while_a_round_runs_is_sent_without_waiting_for_the_next_poll(
        samspil: App, emu: BotAPIEmulator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """An update that commits a notice while the scheduler's round is between its claim and its
    end (on PostgreSQL: while the claim's commit travels) wakes the next round at once; the wake-up
    used to be cleared after the round and the notice waited out the poll interval."""
    seats = await _people(samspil, emu, clock)
    claim_due, queued = outbox.claim_due, []

    async def claim_then_queue(session, now, **kw):  # type: ignore[no-untyped-def]
        rows = await claim_due(session, now, **kw)
        if not rows and not queued:  # after the claim saw nothing: an update's notice arrives
            queued.append(await samspil.notices.add(session, to=seats["mom"], kind="test_note",
                                                    key="during", payload={"n": 7}))
            samspil.notices.wake()  # as the update's middleware does once it has committed
        return rows

    monkeypatch.setattr(outbox, "claim_due", claim_then_queue)
    jobs_runs = 0

    async def job(_session, _notices, _now):  # type: ignore[no-untyped-def]
        nonlocal jobs_runs
        jobs_runs += 1

    samspil.scheduler.jobs.insert(0, job)
    loop = asyncio.create_task(samspil.scheduler.run(poll_interval=3600))  # no poll would come in time
    try:
        for _ in range(500):
            if "Besked 7" in _texts(emu, 9002):
                break
            await asyncio.sleep(0.01)
    finally:
        samspil.scheduler.stop()
        await loop
    assert queued == [True] and _texts(emu, 9002) == ["Besked 7"]
    # Three rounds: the empty one that saw the notice queued, the one that sent it, and one that
    # found nothing more; the periodic jobs ran in the first two, not right after a round that sent.
    assert jobs_runs == 2
