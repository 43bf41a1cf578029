"""The meeting report as minutes of record (issue #13): closing a meeting records who was there,
what was discussed and decided, the next meeting and the case number; everyone gets the referat
through the outbox, which they may keep; when the family agrees to the plan, everyone gets a new
edition that says it replaces the earlier one.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core import texts
from rules.access import Refusal
from storage import meetings as mt
from storage.models import Dialog, Meeting, MeetingAttendance
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    fresh_routers,
    in_danish,
    open_family,
    participant_id,
)


@pytest.fixture
async def fam(cast, samspil):
    return await open_family(cast, samspil)


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


async def _until_open(fam, cast, clock) -> None:  # type: ignore[no-untyped-def]
    """Input and numbers, a meeting (mother coming, father not, the teacher has not answered),
    opened on its day, a joint target, a plan with one task."""
    mom, dad, teacher, coord = fam.mom, fam.dad, fam.teacher, fam.coord
    await cast.write_input(mom, "Familieforhold", worries="Vi skændes om aftenen.", works="Weekenderne er gode.",
                           next_steps=None)
    await cast.share_input(mom)
    await cast.scale(mom, 6)
    await cast.scale(teacher, 4)
    await cast.schedule_meeting(coord, "3/12 kl. 14", "Skolen, mødelokale 2")
    await cast.rsvp(mom, True)
    await cast.rsvp(dad, False)
    clock.set(datetime(2026, 12, 3, 12, 50, tzinfo=UTC))
    await cast.open_meeting(coord)
    await cast.set_target(coord, 4)
    await cast.add_goal(coord, "Familieforhold", "Mere ro om aftenen")
    await cast.add_task(coord, "Fast sengetid kl. 20", "Lars (Far)", "4/12", "18/12")


async def test_closing_records_the_minutes_and_the_family_gets_a_new_edition_when_it_agrees(
        fam, cast, samspil, emu, clock):
    mom, dad, teacher, coord = fam.mom, fam.dad, fam.teacher, fam.coord
    people = [coord, mom, dad, teacher]
    await _until_open(fam, cast, clock)

    # Who was there: filled in from the answers (the mother coming, the father's apologies,
    # the teacher without an answer absent); one tap moves the teacher on to present.
    await cast.say(coord, "/moede")
    card = await cast.tap(coord, "⏹ Close the meeting")
    assert card.text.startswith("Afslut mødet – dialogen om Emma (trin 1 af 3)")
    assert card.buttons[:3] == [["Mette (Mor): ✅ til stede"], ["Lars (Far): 🙋 meldt afbud"],
                                ["Hanne (Klasselærer): ➖ ikke til stede"]]
    card = await cast.tap_text(coord, "Hanne (Klasselærer)")
    assert card.buttons[2] == ["Hanne (Klasselærer): ✅ til stede"]
    # Only the coordinator records it: a parent's made-up button is refused.
    async with samspil.sessionmaker() as s:
        meeting_id = await s.scalar(select(Meeting.id).where(Meeting.dialog_id == fam.dialog_id))
    query = await mom.phone.tap_data(mom.phone.bot_messages[-1].message_id,
                                     f"mt:attend:{fam.dialog_id}:{meeting_id}:{await participant_id(fam, dad)}")
    await cast.settle()
    answer = await mom.phone.wait_answer(query_id=query)
    assert answer.show_alert and answer.text == in_danish(samspil, texts.refusal, Refusal.NOT_COORDINATOR)

    # The summary (a CPR number is refused, like everywhere), the next meeting, the case number.
    await cast.tap(coord, "Next ➡️")
    refused = await cast.say(coord, "Vi talte om Emma, cpr 010190-1234.")
    assert refused.text == in_danish(samspil, texts.cpr_refused)
    await cast.say(coord, "Vi talte om aftenerne 😊. Vi besluttede en fast sengetid kl. 20.")
    await cast.tap(coord, "📅 Plan the next meeting")
    await cast.say(coord, "4/2 kl. 14")
    await cast.say(coord, "Rådhuset, lokale 4")
    await cast.tap(coord, "🗂 Case number")
    assert (await cast.say(coord, "010190-1234")).text == in_danish(samspil, texts.cpr_refused)
    assert (await cast.say(coord, "x" * 41)).text == in_danish(samspil, texts.too_long, 40)
    check = await cast.say(coord, "27.15.08-A26-1234-26")
    assert check.text.startswith("Tjek referatet – dialogen om Emma")
    for line in ("Til stede: Mette (Mor), Hanne (Klasselærer)", "Meldt afbud: Lars (Far)",
                 "Resumé: Vi talte om aftenerne 😊. Vi besluttede en fast sengetid kl. 20.",
                 "Næste møde: torsdag den 4. februar 2027 kl. 14.00, Rådhuset, lokale 4",
                 "Sagsnummer: 27.15.08-A26-1234-26"):
        assert line in check.text, line
    closed = await cast.tap(coord, "✅ Close the meeting and send the minutes", expect="Mødet er afsluttet")
    assert "Alle i dialogen får referatet som PDF" in closed.text
    assert "Indkaldelsen er sendt til 3 deltagere" in closed.text  # the next meeting is called
    await cast.settle()

    # Everyone gets the referat once, through the outbox, and may keep it.
    for p in people:
        assert len(p.phone.documents) == 1, p.name
        doc = p.phone.documents[0]
        assert doc.file_name == "referat-emma-2026-12-03.pdf" and not doc.protect_content
        assert doc.caption.startswith("📄 Referat fra mødet om Emma 3. december 2026")
        text = text_of(doc.data)
        for expected in ("Referat af dialogmøde", "Sagsnummer 27.15.08-A26-1234-26", "Kommune Faxe Kommune",
                         "Referent Camilla Tovholder (Tovholder)", "Udarbejdet 3. december 2026 kl. 13.50",
                         "Til stede: Camilla Tovholder (Tovholder) – referent, Mette (Mor), Hanne (Klasselærer)",
                         "Meldt afbud: Lars (Far)",
                         "Vi talte om aftenerne (glad). Vi besluttede en fast sengetid kl. 20.",
                         "Fælles mål på linealen til næste møde: 4 – Let bekymring",
                         "Planen er ikke sendt til familien endnu.",
                         "4. februar 2027 kl. 14.00, Rådhuset, lokale 4"):
            assert expected in text, (p.name, expected)
        assert "Runde" not in text and "version" not in text
    ids = [await participant_id(fam, who) for who in (mom, dad, teacher)]
    async with samspil.sessionmaker() as s:
        meeting = await s.get(Meeting, meeting_id)
        assert meeting.summary == "Vi talte om aftenerne 😊. Vi besluttede en fast sengetid kl. 20."
        assert (meeting.referat_edition, meeting.referat_made_at) == (1, clock.now())
        marks = {r.participant_id: r.status for r in await s.scalars(
            select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id))}
        assert marks == {ids[0]: mt.PRESENT, ids[1]: mt.APOLOGIES, ids[2]: mt.PRESENT}
        assert (await s.get(Dialog, fam.dialog_id)).case_ref == "27.15.08-A26-1234-26"

    # The family agrees to the plan: everyone gets a new edition that replaces the first.
    clock.set(datetime(2026, 12, 4, 9, 15, tzinfo=UTC))
    await cast.send_plan(coord)
    await cast.accept_plan(mom)
    await cast.settle()
    assert [len(p.phone.documents) for p in people] == [1, 1, 1, 1]  # not yet: the father has to agree too
    await cast.accept_plan(dad)
    await cast.settle()
    for p in people:
        assert len(p.phone.documents) == 2, p.name
        doc = p.phone.documents[1]
        assert doc.file_name == "referat-emma-2026-12-03-udgave-2.pdf" and not doc.protect_content
        assert "Det nye referat erstatter det gamle." in doc.caption
        text = text_of(doc.data)
        assert ("Ny udgave 4. december 2026 kl. 10.15. Den erstatter referatet fra 3. december 2026 kl. 13.50."
                in text)
        assert "Familien har godkendt planen. Det er den plan, der gælder nu." in text
        assert "Meldt afbud: Lars (Far)" in text and "Sagsnummer 27.15.08-A26-1234-26" in text
    async with samspil.sessionmaker() as s:
        meeting = await s.get(Meeting, meeting_id)
        assert (meeting.referat_edition, meeting.referat_made_at) == (2, clock.now())


async def test_closing_in_one_go_prefills_from_the_answers_and_the_setting_protects_the_referat(
        fam, cast, samspil, emu, clock):
    samspil.settings.referat_protect_content = True
    try:
        await _until_open(fam, cast, clock)
        await cast.close_meeting(fam.coord)
        await cast.settle()
    finally:
        samspil.settings.referat_protect_content = False
    for p in (fam.coord, fam.mom, fam.dad, fam.teacher):
        [doc] = p.phone.documents
        assert doc.protect_content, p.name
    text = text_of(fam.mom.phone.documents[0].data)
    assert "Til stede: Camilla Tovholder (Tovholder) – referent, Mette (Mor)" in text
    assert "Meldt afbud: Lars (Far)" in text and "Ikke til stede: Hanne (Klasselærer)" in text
    assert "Ingen skrev et resumé, da mødet sluttede." in text
    assert "Sagsnummer" not in text
