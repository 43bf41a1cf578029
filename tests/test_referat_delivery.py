"""The referat goes through the outbox (issue #11): decided with the meeting's close, sent by
the scheduler, retried on 5xx, exactly once to every participant, also when the bot is
killed (SIGKILL) right after the close committed; the stored PDF goes once everyone has it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.config import Settings
from emulator import BotAPIEmulator
from handlers.meetings import MeetingCb
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Dialog, Document, Meeting, OutboxMessage, Participant, Person
from tests.helpers_dialog import fresh_routers, open_family  # noqa: F401 (fresh_routers: an autouse fixture)
from tests.test_crash_resume import BotProcess, _wait_db
from tests.test_crash_resume import bot_process as bot_process  # a fixture
from tests.test_reports_flow import _meeting_with_plan, text_of


@pytest.fixture
async def fam(cast, samspil):
    return await open_family(cast, samspil)


async def test_a_5xx_on_send_document_still_brings_everyone_the_referat_once(fam, cast, samspil, emu, clock):
    await cast.say(fam.teacher, "/sprog")
    await cast.tap_text(fam.teacher, "English")
    fam.teacher.locale = "en"
    people = [fam.coord, fam.mom, fam.dad, fam.teacher]
    # Telegram fails the mother's document three times (a 5xx each): the outbox tries again.
    emu.inject_fault(502, chat_id=fam.mom.phone.user_id, method="sendDocument", times=3)
    await _meeting_with_plan(fam, cast, clock)
    for _ in range(10):
        if fam.mom.phone.documents:
            break
        clock.advance(minutes=5)
        await cast.settle()
    for p in people:
        assert [d.file_name for d in p.phone.documents] == ["referat-emma-2026-12-03.pdf" if p is not fam.teacher
                                                            else "minutes-emma-2026-12-03.pdf"], p.name
    tries = Counter(r.chat_id for r in emu.sent if r.method == "sendDocument")
    assert tries == {p.phone.user_id: 1 for p in people}  # what Telegram took: once each
    # Rendered once per language, when the meeting closed: the same bytes for the Danish readers.
    danish = {fam.coord.phone.documents[0].data, fam.mom.phone.documents[0].data, fam.dad.phone.documents[0].data}
    assert len(danish) == 1
    assert "Referat af dialogmøde" in text_of(next(iter(danish)))
    assert "Minutes of the dialog meeting" in text_of(fam.teacher.phone.documents[0].data)
    async with samspil.sessionmaker() as s:
        rows = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "document")))
        assert sorted(r.status for r in rows) == ["sent"] * 4
        assert max(r.attempts for r in rows) == 4
        # Every recipient has it: the stored PDFs are gone.
        assert await s.scalar(select(func.count()).select_from(Document)) == 0


# ---- a real process killed right after the close committed ------------------------------------------


async def _open_meeting(settings: Settings) -> tuple[int, int]:
    """A dialog with a coordinator, two parents and a teacher (English), and an open meeting."""
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    await upgrade(engine)
    now = datetime.now(UTC)
    try:
        async with make_sessionmaker(engine)() as s, s.begin():
            coord = Person(telegram_id=801, name="Camilla", staff_role="coordinator", locale="da", created_at=now)
            s.add(coord)
            await s.flush()
            dialog = Dialog(coordinator_id=coord.id, child_name="Emma", age_group="barn", purpose="Trivsel",
                            state="active", created_at=now, purpose_updated_at=now, activated_at=now)
            s.add(dialog)
            await s.flush()
            s.add(Participant(dialog_id=dialog.id, person_id=coord.id, name="Camilla", role="coordinator",
                              joined_at=now, created_at=now))
            for tid, name, role, locale in ((802, "Mette", "parent_custody", "da"),
                                            (803, "Lars", "parent_custody", "da"),
                                            (804, "Hanne", "professional", "en")):
                person = Person(telegram_id=tid, name=name, locale=locale, created_at=now)
                s.add(person)
                await s.flush()
                s.add(Participant(dialog_id=dialog.id, person_id=person.id, name=name, role=role,
                                  consent_giver=role == "parent_custody", joined_at=now, created_at=now))
            meeting = Meeting(dialog_id=dialog.id, round_no=1, starts_at=now - timedelta(minutes=30),
                              place="Skolen", status="open", version=1, created_at=now, opened_at=now)
            s.add(meeting)
            await s.flush()
            return dialog.id, meeting.id
    finally:
        await engine.dispose()


async def test_sigkill_right_after_closing_the_meeting_brings_everyone_the_referat_once(
        emu: BotAPIEmulator, settings: Settings, bot_process: BotProcess) -> None:  # noqa: F811
    dialog_id, meeting_id = await _open_meeting(settings)
    phones = [emu.phone(tid, name, language_code="da").open_chat()
              for tid, name in ((801, "Camilla"), (802, "Mette"), (803, "Lars"), (804, "Hanne"))]
    coord = phones[0]
    bot_process.env.update(OUTBOX_LEASE_SECONDS="3", SEND_CHAT_INTERVAL="0", BOT_API_URL=emu.base_url_via("first"))
    # The first process gets the close through, then its first document is held on the wire.
    hold = emu.hold("sendDocument", after=0, via="first")
    bot_process.start()
    mark = coord.mark()
    await coord.send("/moede")
    shown = await coord.wait_for("", after=mark, timeout=60)
    mark = coord.mark()
    await coord.tap_data(shown.message_id, MeetingCb(action="close_yes", dialog_id=dialog_id,
                                                     meeting_id=meeting_id).pack())
    await asyncio.wait_for(hold.reached.wait(), 60)  # the close committed: the outbox sends
    bot_process.kill()
    hold.release(drop=True)  # what the dead process had on the wire never arrives
    closed = select(Meeting.status).where(Meeting.id == meeting_id)
    await _wait_db(settings, closed, "closed", within=5)

    # And Telegram fails the mother's document twice (5xx) for the next process.
    emu.inject_fault(500, chat_id=802, method="sendDocument", times=2)
    bot_process.env["BOT_API_URL"] = emu.base_url_via("second")
    bot_process.start()
    await emu.wait_until(lambda: all(p.documents for p in phones), timeout=90)
    sent = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "document",
                                                                OutboxMessage.status == "sent")
    await _wait_db(settings, sent, 4)
    await _wait_db(settings, select(func.count()).select_from(Document), 0)
    await asyncio.sleep(4)  # longer than a lease: nothing comes twice
    assert [len(p.documents) for p in phones] == [1, 1, 1, 1]
    day = (datetime.now(UTC) - timedelta(minutes=30)).astimezone(settings.tz).date().isoformat()
    assert [p.documents[0].file_name for p in phones] == [f"referat-emma-{day}.pdf"] * 3 + [
        f"minutes-emma-{day}.pdf"]
    assert not any(p.documents[0].protect_content for p in phones)  # the family may keep its minutes
    assert "Referat af dialogmøde" in text_of(phones[1].documents[0].data)
