"""PDFs through the bot (issue #5): Hent PDF, the referat, the referral's consent gate, the letter.

Everything is played on phones against the emulator; the documents people get
are read back with pypdf (and the letter's QR code with pypdfium2 + zxing-cpp).
"""

from __future__ import annotations

import asyncio
import io
import re
import threading

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bot.playbook import Person, link_token
from core import texts
from emulator import BotAPIEmulator, ReceivedDocument
from reports.referat import queue_referat
from rules.access import Refusal
from storage import audit
from storage.models import Dialog, Document, Invitation, Meeting, OutboxMessage, Referral
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    fresh_routers,
    in_danish,
    open_dialog_with,
    open_family,
    participant_id,
    second_dialog,
    set_dialog,
)

MARKUP = "Hun skrev <b>fed</b> & <script>alert(1)</script> selv"
ARABIC = "مرحبا بكم في الحوار"
EMOJI = "Glad 😀👨‍👩‍👧🇩🇰 👍🏽 slut"


@pytest.fixture
async def fam(cast, samspil):
    return await open_family(cast, samspil)


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


async def next_document(emu: BotAPIEmulator, who: Person, before: int) -> ReceivedDocument:
    """The document `who` gets after having `before` documents (sent through the outbox)."""
    await emu.wait_until(lambda: len(who.phone.documents) > before, 20)
    return who.phone.documents[-1]


async def forge(cast, who: Person, data: str):  # type: ignore[no-untyped-def]
    """Tap a button that was never shown: callback data made up by the sender."""
    message_id = who.phone.bot_messages[-1].message_id
    query = await who.phone.tap_data(message_id, data)
    await cast.settle()
    return await who.phone.wait_answer(query_id=query)


# ---- Hent PDF ---------------------------------------------------------------------------------------


async def test_hent_pdf_has_this_rounds_shared_input_only(fam, cast, samspil, emu):
    mom, dad, teacher = fam.mom, fam.dad, fam.teacher
    await cast.write_input(mom, "Familieforhold", worries="Første runde: vi skændes.", works=None, next_steps=None)
    await cast.share_input(mom)
    await set_dialog(fam, round_no=2)
    await cast.write_input(teacher, "Dagtilbud, skole og læring", worries=MARKUP, works="God til matematik.",
                           next_steps=None)
    await cast.share_input(teacher)
    await cast.write_input(mom, "Familieforhold", worries=ARABIC, works=EMOJI,
                           next_steps="Mere ro om aftenen – æøå ÆØÅ.")
    await cast.share_input(mom)
    await cast.write_input(dad, "Familieforhold", worries="Fars hemmelige kladde.", works=None, next_steps=None)
    # Another dialog, with the same teacher: nothing of it may show.
    sofie = cast.person("Sofie")
    await second_dialog(fam, "Oliver", sofie)
    await cast.write_input(sofie, "Familieforhold", worries="Olivers mor skriver her.", works=None,
                           next_steps=None)
    await cast.share_input(sofie)

    page = await cast.say(mom, "/oversigt")
    assert page.buttons[-1] == ["📄 Hent PDF"]
    before = len(mom.phone.documents)
    await cast.tap(mom, "📄 Get PDF")
    assert mom.phone.last_answer.text == "PDF'en er på vej – den kommer om et øjeblik."
    doc = await next_document(emu, mom, before)
    assert doc.protect_content and doc.mime_type == "application/pdf"
    assert doc.file_name == "oversigt-emma-foer-moede-2.pdf"
    assert doc.caption == "📄 Samlet oversigt over delt input – Emma, før møde 2."
    text = text_of(doc.data)
    for expected in ("Samlet oversigt – dialoginput", "Faxe Kommune", "Dialogen om Emma", "FORTROLIGT",
                     "Side 1 af 1", "Vi vil styrke Emmas trivsel i skolen og derhjemme.", "Bekymringer",
                     "Det der fungerer", "Hvad skal ske?", "Hanne (Klasselærer)", "Mette (Mor)",
                     MARKUP, "God til matematik.", "Mere ro om aftenen – æøå ÆØÅ.",
                     "Glad (glad) (familie) (flag DK) (tommel op) slut"):
        assert expected in text, expected
    assert set(ARABIC.replace(" ", "")) <= set(text)
    for never in ("Første runde", "hemmelige kladde", "Oliver", "Olivers mor", "Sofie"):
        assert never not in text, never
    # The download is a read of the dialog's content: it is in the audit log (ids only).
    async with samspil.sessionmaker() as s:
        pdf_reads = [e for e in await audit.events(s, dialog_id=fam.dialog_id) if e.action == audit.OVERVIEW_PDF]
    assert [(e.actor_role, e.round_no) for e in pdf_reads] == [("parent_custody", 2)]


async def test_the_bot_answers_others_while_a_pdf_is_being_made(fam, cast, samspil, emu, monkeypatch):
    import handlers.reports as hr

    gate = threading.Event()
    real = hr.render_overview

    def slow(data):  # type: ignore[no-untyped-def]
        assert gate.wait(30)
        return real(data)

    monkeypatch.setattr(hr, "render_overview", slow)
    await cast.write_input(fam.mom, "Familieforhold", worries="Noget at vise.", works=None, next_steps=None)
    await cast.share_input(fam.mom)
    await cast.say(fam.mom, "/oversigt")
    await cast.tap(fam.mom, "📄 Get PDF")
    # The PDF is still being made: the bot goes on answering, the mother included.
    assert (await cast.say(fam.teacher, "/oversigt")).text.startswith("Samlet oversigt")
    assert (await cast.say(fam.mom, "/hjaelp")).text.startswith("Det kan du gøre her")
    assert fam.mom.phone.documents == []
    gate.set()
    doc = await next_document(emu, fam.mom, 0)
    assert "Noget at vise." in text_of(doc.data)


async def test_hent_pdf_is_checked_on_the_server(fam, cast, samspil, emu):
    await cast.write_input(fam.mom, "Familieforhold", worries="Kun for Emmas dialog.", works=None,
                           next_steps=None)
    await cast.share_input(fam.mom)
    sofie = cast.person("Sofie")
    await second_dialog(fam, "Oliver", sofie, teacher=False)
    before = len(sofie.phone.documents)
    # Sofie is not in Emma's dialog: made-up callback data gets a refusal and no document.
    answer = await forge(cast, sofie, f"ovpdf:{fam.dialog_id}:1:")
    assert answer.show_alert and answer.text == in_danish(samspil, texts.refusal, Refusal.NOT_PARTICIPANT)
    # A round that does not exist yet, or an unknown area: the button is stale.
    for data in (f"ovpdf:{fam.dialog_id}:9:", f"ovpdf:{fam.dialog_id}:1:nope"):
        answer = await forge(cast, fam.dad, data)
        assert answer.show_alert and answer.text == in_danish(samspil, texts.stale_button)
    await cast.settle()
    assert len(sofie.phone.documents) == before and fam.dad.phone.documents == []


# ---- the referat -----------------------------------------------------------------------------------------


async def _meeting_with_plan(fam, cast, clock) -> int:  # type: ignore[no-untyped-def]
    """Input and scores, a meeting (mother coming, father not), a joint target, a plan; then closed."""
    mom, dad, teacher, coord = fam.mom, fam.dad, fam.teacher, fam.coord
    await cast.write_input(mom, "Familieforhold", worries="Vi skændes om aftenen.", works="Weekenderne er gode.",
                           next_steps="Mere ro.")
    await cast.share_input(mom)
    await cast.write_input(dad, "Familieforhold", worries="Fars hemmelige kladde.", works=None, next_steps=None)
    await cast.scale(mom, 6)
    await cast.scale(teacher, 4)
    await cast.schedule_meeting(coord, "3/12 kl. 14", "Skolen, mødelokale 2")
    await cast.rsvp(mom, True)
    await cast.rsvp(dad, False)
    from datetime import UTC, datetime

    clock.set(datetime(2026, 12, 3, 12, 50, tzinfo=UTC))
    await cast.open_meeting(coord)
    await cast.set_target(coord, 4)
    await cast.add_goal(coord, "Familieforhold", "Mere ro om aftenen")
    await cast.add_task(coord, "Fast sengetid kl. 20", "Lars (Far)", "4/12", "18/12")
    await cast.close_meeting(coord)
    await cast.settle()  # closing the meeting sends everyone the referat, through the outbox
    async with fam.app.sessionmaker() as s:
        return await s.scalar(select(Meeting.id).where(Meeting.dialog_id == fam.dialog_id))


async def test_the_referat_reaches_every_participant_in_their_language_once(fam, cast, samspil, emu, clock):
    await cast.say(fam.teacher, "/sprog")
    await cast.tap_text(fam.teacher, "English")
    fam.teacher.locale = "en"
    meeting_id = await _meeting_with_plan(fam, cast, clock)  # closing it queued the referat
    people = [fam.coord, fam.mom, fam.dad, fam.teacher]
    for p in people:
        doc = await next_document(emu, p, 0)
        # The minutes of record: the participants may keep them (REFERAT_PROTECT_CONTENT unset).
        assert not doc.protect_content and doc.mime_type == "application/pdf"
    counts = {p.name: len(p.phone.documents) for p in people}
    assert set(counts.values()) == {1}

    async with samspil.sessionmaker() as s:
        # Decided once: queuing it again for the same meeting sends nothing more.
        async with s.begin():
            meeting = await s.get(Meeting, meeting_id)
            assert await queue_referat(s, samspil.notices, meeting, config=samspil.dialog_config,
                                       settings=samspil.settings, now=clock.now()) == 0
        # A transaction that rolls back sends nothing.
        async with s.begin():
            meeting = await s.get(Meeting, meeting_id)
            for row in await s.scalars(select(OutboxMessage).where(OutboxMessage.key.startswith("referat:"))):
                await s.delete(row)
            await s.flush()
            assert await queue_referat(s, samspil.notices, meeting, config=samspil.dialog_config,
                                       settings=samspil.settings, now=clock.now()) == 4
            await s.rollback()
    await cast.settle()
    await asyncio.sleep(0.05)
    assert {p.name: len(p.phone.documents) for p in people} == counts
    async with samspil.sessionmaker() as s:  # every recipient has it: nothing of it is kept
        assert list(await s.scalars(select(Document))) == []
    mine = fam.mom.phone.documents[-1]
    assert mine.file_name == "referat-emma-2026-12-03.pdf"
    text = text_of(mine.data)
    for expected in ("Referat af dialogmøde", "3. december 2026 kl. 14.00",
                     "Skolen, mødelokale 2", "Til stede: Camilla Tovholder (Tovholder) – referent, Mette (Mor)",
                     "Meldt afbud: Lars (Far)", "Ikke til stede: Hanne (Klasselærer)", "Referent",
                     "Fælles mål på linealen til næste møde: 4 – Let bekymring",
                     "Mette (Mor) 6", "Hanne (Klasselærer) 4", "Mål & Plan", "Mere ro om aftenen",
                     "Fast sengetid kl. 20", "Lars (Far)", "04.12.2026 – 18.12.2026", "Næste møde",
                     "Delt input før mødet", "Vi skændes om aftenen.", "Weekenderne er gode."):
        assert expected in text, expected
    assert "hemmelige kladde" not in text
    english = text_of(fam.teacher.phone.documents[-1].data)
    assert "Minutes of the dialog meeting" in english and "Page 1 of" in english


async def test_referat_command_for_the_coordinator_only(fam, cast, samspil, emu, clock):
    coord = fam.coord
    before = len(coord.phone.documents)
    note = await cast.say(coord, "/referat", expect="Intet møde er slut endnu")  # (the PDF may come first)
    assert note.text.startswith("Intet møde er slut endnu. Her er referatet for møde 1 indtil nu.")
    doc = await next_document(emu, coord, before)
    assert doc.protect_content and "Referat – foreløbigt" in text_of(doc.data)  # /referat: the coordinator's copy

    refused = await cast.say(fam.mom, "/referat")
    assert refused.text == in_danish(samspil, texts.refusal, Refusal.NOT_COORDINATOR)

    await _meeting_with_plan(fam, cast, clock)
    before = len(coord.phone.documents)
    note = await cast.say(coord, "/referat", expect="Referatet af mødet")
    assert note.text.startswith("Referatet af mødet 3. december 2026")
    text = text_of((await next_document(emu, coord, before)).data)
    assert "Referat af dialogmøde" in text and "foreløbigt" not in text
    await cast.settle()
    # Mette has the referat sent when the meeting closed; /referat went to the coordinator alone.
    assert [d.file_name for d in fam.mom.phone.documents] == ["referat-emma-2026-12-03.pdf"]


# ---- the referral (indstilling) -----------------------------------------------------------------------


async def referrals(fam) -> list[Referral]:  # type: ignore[no-untyped-def]
    async with fam.app.sessionmaker() as s:
        return list(await s.scalars(select(Referral).order_by(Referral.id)))


async def ask_referral(cast, coord: Person) -> None:  # type: ignore[no-untyped-def]
    start = await cast.say(coord, "/indstilling")
    assert start.buttons[:2] == [["PPR (Pædagogisk Psykologisk Rådgivning)"],
                                 ["Sundhedstjenesten (den kommunale sundhedstjeneste for børn og unge)"]]
    confirm = await cast.tap(coord, "PPR (Educational Psychological Counselling)")
    assert "skal Mette og Lars sige ja her i Samspil" in confirm.text
    sent = await cast.tap(coord, "📨 Ask for approval")
    assert sent.text.startswith("📨 Indstillingen til PPR om Emma er sendt til godkendelse hos Mette og Lars.")


async def test_the_referral_is_made_only_when_every_consent_giver_has_approved(fam, cast, samspil, emu):
    mom, dad, coord = fam.mom, fam.dad, fam.coord
    await cast.write_input(mom, "Familieforhold", worries="Vi har brug for hjælp.", works=None, next_steps=None)
    await cast.share_input(mom)
    await ask_referral(cast, coord)
    ask = mom.phone.bot_messages[-1]
    assert ask.text.startswith("📝 En indstilling til PPR – Emma")
    assert ask.buttons == [["📄 Læs udkastet"], ["✅ Godkend", "❌ Afvis"]]

    # The mother reads the draft first.
    before = len(mom.phone.documents)
    await cast.tap(mom, "📄 Read the draft")
    draft = await next_document(emu, mom, before)
    assert draft.protect_content
    text = text_of(draft.data)
    assert "Indstilling til PPR" in text and "UDKAST" in text and "Vi har brug for hjælp." in text

    await cast.tap(mom, "✅ Approve")
    assert "Mette (Mor) har godkendt indstillingen til PPR om Emma (1 af 2)." in coord.phone.bot_messages[-1].text
    [r] = await referrals(fam)
    assert (r.status, r.pdf, r.produced_at) == ("pending", None, None)
    assert not any("Hent indstillingen" in b for m in coord.phone.bot_messages for row in m.buttons for b in row)

    await cast.tap(dad, "✅ Approve")
    ready = coord.phone.bot_messages[-1]
    assert ready.text.startswith("📄 Alle med forældremyndighed har godkendt indstillingen til PPR om Emma.")
    before = len(coord.phone.documents)
    await cast.tap(coord, "📄 Get the referral")
    doc = await next_document(emu, coord, before)
    assert doc.file_name == "indstilling-ppr-emma.pdf" and not doc.protect_content  # to send on
    text = text_of(doc.data)
    assert "UDKAST" not in text and "Mette (Mor): godkendt" in text and "Lars (Far): godkendt" in text
    for expected in ("Indstilling til PPR", "Formålet med dialogen", "Deltagere i dialogen", "Skalering over tid",
                     "Det har vi afprøvet", "Mål & Plan", "Samtykke", "Vi har brug for hjælp."):
        assert expected in text, expected

    [r] = await referrals(fam)
    assert r.status == "produced" and r.produced_at is not None and r.pdf == doc.data
    assert r.requested_by_id == await participant_id(fam, coord)
    assert sorted((a.participant_id, a.approves) for a in r.answers) == sorted(
        [(await participant_id(fam, mom), True), (await participant_id(fam, dad), True)])
    history = await cast.say(coord, "/indstilling")
    assert "PPR: godkendt af alle, lavet" in history.text


async def test_one_refusal_stops_the_referral(fam, cast, samspil, emu):
    mom, dad, coord = fam.mom, fam.dad, fam.coord
    await ask_referral(cast, coord)
    await cast.tap(mom, "❌ Refuse")
    assert "Mette (Mor) har afvist indstillingen til PPR om Emma" in coord.phone.bot_messages[-1].text
    await cast.tap(dad, "✅ Approve")
    assert dad.phone.last_answer.show_alert
    assert dad.phone.last_answer.text == "Indstillingen er afvist, så den bliver ikke lavet."
    [r] = await referrals(fam)
    assert r.status == "refused" and r.pdf is None
    assert {a.approves for a in r.answers} == {False, None}
    await cast.settle()
    assert coord.phone.documents == []


async def test_only_the_coordinator_asks_and_forged_buttons_are_refused(fam, cast, samspil, emu):
    mom, teacher, coord = fam.mom, fam.teacher, fam.coord
    assert (await cast.say(mom, "/indstilling")).text == in_danish(samspil, texts.refusal, Refusal.NOT_COORDINATOR)
    assert (await cast.say(teacher, "/indstilling")).text == in_danish(samspil, texts.refusal,
                                                                       Refusal.NOT_COORDINATOR)
    # A parent cannot ask by making up the coordinator's button either.
    answer = await forge(cast, mom, f"ref:ask:{fam.dialog_id}:ppr")
    assert answer.show_alert and answer.text == in_danish(samspil, texts.refusal, Refusal.NOT_COORDINATOR)
    assert await referrals(fam) == []

    await ask_referral(cast, coord)
    [r] = await referrals(fam)
    # A consent giver of another dialog, and a teacher who is no consent giver, cannot answer it.
    sofie = cast.person("Sofie")
    await second_dialog(fam, "Oliver", sofie, teacher=False)
    answer = await forge(cast, sofie, f"refa:{r.id}:yes")
    assert answer.show_alert and answer.text == in_danish(samspil, texts.refusal, Refusal.NOT_PARTICIPANT)
    answer = await forge(cast, teacher, f"refa:{r.id}:yes")
    assert answer.show_alert and answer.text == in_danish(samspil, texts.refusal, Refusal.NOT_CONSENT_GIVER)
    answer = await forge(cast, sofie, f"refa:{r.id}:view")
    assert answer.show_alert
    # Another coordinator cannot fetch or ask for it.
    kim = cast.person("Kim Tovholder")
    await cast.register(kim)
    await open_dialog_with(cast, samspil, kim, "Noah", "barn", "Noahs trivsel.")
    answer = await forge(cast, kim, f"ref:get:{fam.dialog_id}:{r.id}")
    assert answer.show_alert and answer.text == in_danish(samspil, texts.refusal, Refusal.NOT_PARTICIPANT)
    [r] = await referrals(fam)
    assert r.status == "pending" and {a.approves for a in r.answers} == {None}
    await cast.settle()
    assert sofie.phone.documents == [] and teacher.phone.documents == [] and kim.phone.documents == []


# ---- the invitation letter --------------------------------------------------------------------------------


async def test_the_letter_carries_a_fresh_link_as_a_qr_code_and_the_old_link_stops(cast, samspil, emu):
    pdfium = pytest.importorskip("pypdfium2")
    zxingcpp = pytest.importorskip("zxingcpp")
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    await open_dialog_with(cast, samspil, coord, "Emma", "barn", "Vi vil styrke Emmas trivsel.")
    mom = cast.person("Mette")
    old = await cast.invite(coord, mom, "Parent with custody", "Mor")

    start = await cast.say(coord, "/brev")
    assert start.text.startswith("Invitationsbrev – dialogen om Emma")
    assert start.buttons == [["Mette (Mor)"]]
    confirm = await cast.tap_text(coord, "Mette (Mor)")
    assert "Det link, Mette fik tidligere, holder op med at virke" in confirm.text
    before = len(coord.phone.documents)
    await cast.tap(coord, "📄 Letter in Danish")
    doc = await next_document(emu, coord, before)
    assert doc.file_name == "invitation-mette.pdf" and not doc.protect_content  # for e-Boks or paper
    assert len(PdfReader(io.BytesIO(doc.data)).pages) == 1
    text = text_of(doc.data)
    for expected in ("Invitation til Familiedialog", "Kære Mette", "Vi vil styrke Emmas trivsel.",
                     "Camilla Tovholder (Tovholder)", "Mette (Mor)", "Først giver du dit samtykke",
                     "Scan QR-koden"):
        assert expected in text, expected
    image = pdfium.PdfDocument(doc.data)[0].render(scale=2).to_pil()
    [code] = zxingcpp.read_barcodes(image)
    new = link_token(code.text)
    assert new != old and new in text.replace(" ", "")

    mom.token = old
    assert (await cast.join(mom)).text == "Det link er udløbet. Bed din tovholder om et nyt."
    mom.token = new
    await cast.join(mom)
    async with samspil.sessionmaker() as s:
        dialog = await s.scalar(select(Dialog).order_by(Dialog.id.desc()))
        seat = next(p for p in dialog.participants if p.name == "Mette")
        assert seat.joined_at is not None
        invitations = list(await s.scalars(select(Invitation).where(Invitation.participant_id == seat.id)))
        assert len(invitations) == 2

    # Nobody is left to write to; a parent cannot ask for letters.
    assert (await cast.say(coord, "/brev")).text.startswith("Alle, der er inviteret om Emma")
    assert "tovholdere" in (await cast.say(mom, "/brev")).text
