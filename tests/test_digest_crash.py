"""Issue #13: a bot process killed (SIGKILL) while it sends a coordinator's digest loses
nothing and repeats nothing: the next process sends what had not gone, once.

The digest here is long (80 notices from 40 dialogs), so it is two messages. The first
process gathers it and sends its first message (or none), then dies with the next one
on the wire; Telegram never gets that one.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.config import Settings
from emulator import BotAPIEmulator
from rules.roles import COORDINATOR, PARENT_CUSTODY, PROFESSIONAL
from storage import outbox
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Dialog, OutboxMessage, Participant, Person
from tests.helpers import fresh_routers  # noqa: F401 (an autouse fixture)
from tests.test_crash_resume import BotProcess, _wait_db
from tests.test_crash_resume import bot_process as bot_process  # a fixture

CHILDREN = [f"Barn{i:02d}" for i in range(1, 41)]


async def _forty_dialogs_with_a_digest_due(settings: Settings) -> int:
    """40 dialogs of one coordinator; in each a mother and a teacher opened their link, and
    the two "joined" notices are held for the coordinator's digest, whose time has come."""
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    await upgrade(engine)
    now = datetime.now(UTC)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            coord = Person(telegram_id=901, name="Camilla", staff_role="coordinator", locale="da", created_at=now)
            s.add(coord)
            await s.flush()
            for i, child in enumerate(CHILDREN):
                dialog = Dialog(coordinator_id=coord.id, child_name=child, age_group="barn", purpose="Trivsel",
                                state="awaiting_consent", created_at=now, purpose_updated_at=now)
                s.add(dialog)
                await s.flush()
                s.add(Participant(dialog_id=dialog.id, person_id=coord.id, name="Camilla", role=COORDINATOR,
                                  joined_at=now, created_at=now))
                for n, (name, role, relation) in enumerate((("Mor", PARENT_CUSTODY, "Mor"),
                                                            ("Lærer", PROFESSIONAL, "Klasselærer"))):
                    person = Person(telegram_id=10_000 + 2 * i + n, name=f"{name}{i}", locale="da", created_at=now)
                    s.add(person)
                    await s.flush()
                    seat = Participant(dialog_id=dialog.id, person_id=person.id, name=f"{name}{i}", role=role,
                                       relation=relation, consent_giver=role == PARENT_CUSTODY, joined_at=now,
                                       created_at=now)
                    s.add(seat)
                    await s.flush()
                    # As core/notices.py holds it: status held, due at the digest time (a minute ago).
                    await outbox.enqueue(s, key=f"joined:{seat.id}", person_id=coord.id, kind="joined",
                                         due_at=now - timedelta(minutes=1), now=now - timedelta(hours=1),
                                         dialog_id=dialog.id, payload={"participant_id": seat.id},
                                         status=outbox.HELD)
            return coord.id
    finally:
        await engine.dispose()


@pytest.mark.parametrize("through", [0, 1], ids=["killed-before-the-first-message", "killed-after-the-first"])
async def test_sigkill_during_the_digest_send_loses_and_repeats_nothing(
        through: int, emu: BotAPIEmulator, settings: Settings, bot_process: BotProcess) -> None:  # noqa: F811
    coord_id = await _forty_dialogs_with_a_digest_due(settings)
    camilla = emu.phone(901, "Camilla", language_code="da").open_chat()
    bot_process.env.update(OUTBOX_LEASE_SECONDS="3", SEND_CHAT_INTERVAL="0", BOT_API_URL=emu.base_url_via("first"))
    # The first process gathers the digest and sends `through` of its messages; the next is held on the wire.
    hold = emu.hold("sendMessage", after=through, via="first")
    bot_process.start()
    await asyncio.wait_for(hold.reached.wait(), 60)
    bot_process.kill()
    hold.release(drop=True)  # what the dead process had on the wire never arrives
    assert len(camilla.bot_messages) == through

    held = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "held")
    await _wait_db(settings, held, 0, within=5)  # gathered, in the transaction that wrote the digest

    bot_process.env["BOT_API_URL"] = emu.base_url_via("second")
    bot_process.start()
    await emu.wait_until(lambda: len(camilla.bot_messages) >= 2, timeout=60)
    sent = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "digest",
                                                                OutboxMessage.status == "sent")
    await _wait_db(settings, sent, 2)
    await asyncio.sleep(4)  # longer than a lease: nothing comes twice
    texts = [m.text for m in camilla.bot_messages]
    assert len(texts) == 2, [t[:60] for t in texts]
    assert texts[0].startswith("📬 Nyt fra dine dialoger: 80 beskeder (1/2)")
    assert texts[1].startswith("📬 Nyt fra dine dialoger: 80 beskeder (2/2)")
    whole = "\n".join(texts)
    for i, child in enumerate(CHILDREN):
        assert whole.count(f"Mor{i} (Mor) har åbnet invitationen.") == 1, child
        assert whole.count(f"Lærer{i} (Klasselærer) har åbnet invitationen.") == 1, child
    # Every notice went in the digest, once; the digest's texts are gone from the database.
    joined = select(OutboxMessage.status, func.count()).where(OutboxMessage.kind == "joined") \
        .group_by(OutboxMessage.status)
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    try:
        async with make_sessionmaker(engine)() as s:
            assert dict((await s.execute(joined)).all()) == {"sent": 80}
            digests = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest")))
            assert [(d.person_id, d.status, d.body) for d in digests] == [(coord_id, "sent", None)] * 2
    finally:
        await engine.dispose()
