"""Dialogmøde (/moede): scheduling, answers, moving and cancelling, running and closing the meeting.

Issue #4. The coordinator types the time the Danish way; everyone joined gets a
notice with Jeg kommer / Jeg kan ikke; the coordinator hears each answer and sees
who is coming; moving or cancelling tells everyone and the old reminders lapse;
on the day the meeting is opened with the handbook's agenda, a joint target is
set on the ruler, and closing it starts the next round.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core import texts
from handlers.meetings import MeetingCb, RsvpCb
from rules.dialog_config import load_dialog_config
from storage.models import DialogRound, InputEntry, Meeting, MeetingResponse, OutboxMessage
from tests.helpers import da, fsm
from tests.helpers import snapshot as _snapshot
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    Family,
    entries,
    fresh_routers,
    in_danish,
    last_bot,
    new_bot,
    open_family,
    participant_id,
    second_dialog,
)

CONFIG = load_dialog_config()
RULER = CONFIG.ruler("barn")

# The meeting most tests use: Thursday 3 December 2026, 14:00 in Copenhagen (13:00 UTC).
WHEN = "3/12 kl. 14"
WHEN_DA = "torsdag den 3. december 2026 kl. 14.00"
PLACE = "Skolen, mødelokale 2"


@pytest.fixture
async def fam(cast, samspil):
    return await open_family(cast, samspil)


async def snapshot(app) -> dict:  # type: ignore[no-untyped-def]
    """Every business row, but the record of which updates were handled."""
    rows = await _snapshot(app)
    rows.pop("processed_update", None)
    return rows


async def meetings(fam: Family) -> list[Meeting]:
    async with fam.app.sessionmaker() as s:
        return list(await s.scalars(select(Meeting).order_by(Meeting.id)))


async def outbox_rows(fam: Family, kind: str | None = None) -> list[OutboxMessage]:
    async with fam.app.sessionmaker() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        return list(await s.scalars(stmt))


async def responses(fam: Family) -> dict[int, bool]:
    async with fam.app.sessionmaker() as s:
        return {r.participant_id: r.coming for r in await s.scalars(select(MeetingResponse))}


def texts_with(who, fragment: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.text for m in who.phone.bot_messages if fragment in m.text]


async def schedule(fam: Family, when: str = WHEN, place: str = PLACE) -> Meeting:
    await fam.cast.schedule_meeting(fam.coord, when, place)
    [meeting] = [m for m in await meetings(fam) if m.status == "scheduled"]
    return meeting


# ---- scheduling -----------------------------------------------------------------------------


async def test_a_bad_time_gets_a_clear_danish_answer_and_nothing_is_stored(fam, cast, samspil):
    coord = fam.coord
    ask = await cast.say(coord, "/moede")
    assert ask.text == (
        "Nyt dialogmøde – Emma (trin 1 af 2)\n\nHvornår skal mødet være?\n"
        "Skriv dato og klokkeslæt, fx \"12/3 14:00\", \"12.03.2027 kl. 14\" eller \"i morgen kl. 9\".\n\n"
        "Skriv /annuller for at stoppe.")
    before = await snapshot(samspil)
    state_before = await fsm(samspil, coord)
    bad = {
        "torsdag": "Skriv også et klokkeslæt, fx \"12/3 kl. 14\".",
        "31/2 kl. 14": "Den dato findes ikke (eller ligger for langt ude i fremtiden). Tjek den, og skriv den "
                       "igen, fx \"12/3 14:00\".",
        "i dag kl. 8": "Det tidspunkt er allerede gået. Skriv et senere tidspunkt.",
        "når det passer": "Jeg kan ikke læse det som en dato og et klokkeslæt. Skriv fx \"12/3 14:00\", "
                          "\"12.03.2027 kl. 14\" eller \"i morgen kl. 9\".",
    }
    for typed, answer in bad.items():
        assert (await cast.say(coord, typed)).text == answer, typed
    mark = coord.phone.mark()
    await coord.phone.send_photo()
    await cast.settle()
    assert [m.text for m in new_bot(coord, mark)] == [in_danish(samspil, texts.text_expected)]
    # Nothing was stored, and the person is still at the step: a good time goes on to the place.
    assert await snapshot(samspil) == before
    assert await fsm(samspil, coord) == state_before
    assert (await cast.say(coord, "3/12 kl. 14")).text.startswith("Dialogmøde – Emma (trin 2 af 2)")


async def test_each_accepted_form_is_read_and_the_invitation_goes_to_everyone_joined(fam, cast, samspil):
    coord = fam.coord
    await cast.say(coord, "/moede")
    place_q = await cast.say(coord, "12/3 14:00")
    assert place_q.text == ("Dialogmøde – Emma (trin 2 af 2)\n\n"
                            "Hvor skal mødet være? Skriv stedet, eller sæt linket til videomødet ind.")
    # A place that is too long, or holds a CPR number, is refused; the step stays.
    assert (await cast.say(coord, "x" * 301)).text == in_danish(samspil, texts.too_long, 300)
    assert (await cast.say(coord, "Hos familien, Emma 120315-1234")).text == in_danish(samspil, texts.cpr_refused)
    summary = await cast.say(coord, "https://video.faxe.dk/moede/emma")
    assert summary.text == (
        "Tjek mødet – dialogen om Emma\n\n"
        "🗓 fredag den 12. marts 2027 kl. 14.00\n📍 https://video.faxe.dk/moede/emma\n\n"
        "Når du sender indkaldelsen, får alle deltagere besked og kan svare Jeg kommer / Jeg kan ikke.")
    assert summary.buttons == [["✅ Send indkaldelsen"], ["Ret tidspunktet"], ["Ret stedet"], ["Annuller"]]

    for typed, shown in (("12.03.2027 kl. 14", "fredag den 12. marts 2027 kl. 14.00"),
                         ("i morgen kl. 9", "tirsdag den 24. november 2026 kl. 09.00"),
                         (WHEN, WHEN_DA)):
        await cast.tap(coord, "Change the time")
        again = await cast.say(coord, typed)
        assert f"🗓 {shown}\n" in again.text, typed
        assert again.text.startswith("Tjek mødet")
    await cast.tap(coord, "Change the place")
    summary = await cast.say(coord, PLACE)
    assert f"🗓 {WHEN_DA}\n📍 {PLACE}\n" in summary.text
    assert await meetings(fam) == []  # nothing until it is sent

    done = await cast.tap(coord, "✅ Send the invitation")
    assert done.text == ("Indkaldelsen er sendt til 3 deltagere. Du får besked, når nogen svarer, "
                         "og /moede viser, hvem der kommer.")
    [meeting] = await meetings(fam)
    assert (meeting.status, meeting.version, meeting.round_no, meeting.place) == ("scheduled", 1, 1, PLACE)
    assert meeting.starts_at == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    assert await fsm(samspil, coord) == (None, None)

    for who in (fam.mom, fam.dad, fam.teacher):
        [notice] = texts_with(who, "Indkaldelse til dialogmøde")
        assert notice == (
            "📅 Indkaldelse til dialogmøde – Emma\n\n"
            f"🗓 {WHEN_DA}\n📍 {PLACE}\n\n"
            "Camilla Tovholder leder mødet. Vi ser på jeres input og alles tal. Vi sætter et fælles mål "
            "på linealen. Og vi laver en plan sammen (Mål & Plan).\n\nKommer du?")
        assert last_bot(who).buttons == [["✅ Jeg kommer", "❌ Jeg kan ikke"]]
        assert last_bot(who).protect_content
    assert texts_with(coord, "Indkaldelse til dialogmøde") == []  # the coordinator leads it

    # One meeting at a time: /moede now shows it instead of asking for a new one.
    card = await cast.say(coord, "/moede")
    assert card.text.startswith("Dialogmøde – Emma (møde 1)")
    assert card.buttons == [["🕑 Flyt mødet"], ["✖️ Aflys mødet"]]  # not "Start" before the day


async def test_answers_reach_the_coordinator_who_sees_who_is_coming(fam, cast):
    coord, mom, dad = fam.coord, fam.mom, fam.dad
    await schedule(fam)
    await cast.rsvp(mom, coming=True)
    # Then her next step (#12): she has written no input in this round yet.
    assert last_bot(mom).text == ("Tak – du har svaret: Jeg kommer.\nDu kan ændre dit svar med knapperne i "
                                  "invitationen.\n\n"
                                  "Næste skridt: Skriv, hvad du er bekymret for, hvad der går godt, "
                                  "og hvad du ønsker, der skal ske.")
    assert last_bot(mom).buttons == [["✏️ Skriv dit input"]]
    await cast.rsvp(dad, coming=False)
    assert texts_with(coord, "kommer til dialogmødet") == [
        f"Mette (Mor) kommer til dialogmødet {WHEN_DA} (dialogen om Emma).\n\n"
        "Svar indtil nu: 1 kommer, 0 kan ikke, 2 har ikke svaret."]
    assert texts_with(coord, "kan ikke komme") == [
        f"Lars (Far) kan ikke komme til dialogmødet {WHEN_DA} (dialogen om Emma).\n\n"
        "Svar indtil nu: 1 kommer, 1 kan ikke, 1 har ikke svaret."]
    assert await responses(fam) == {await participant_id(fam, mom): True, await participant_id(fam, dad): False}

    card = await cast.say(coord, "/moede")
    assert card.text == (
        "Dialogmøde – Emma (møde 1)\n"
        f"🗓 {WHEN_DA}\n📍 {PLACE}\n\n"
        "Hvem kommer?\n"
        "✅ Mette (Mor): kommer\n"
        "❌ Lars (Far): kan ikke\n"
        "❔ Hanne (Klasselærer): har ikke svaret")

    # The same answer again changes nothing and tells nobody.
    before = len(coord.phone.bot_messages)
    await cast.rsvp(mom, coming=True)
    assert mom.phone.last_answer.text == "Dit svar er allerede gemt."
    assert len(coord.phone.bot_messages) == before

    # A participant sees the meeting and their own answer in /moede, and can change it there.
    view = await cast.say(dad, "/moede")
    assert view.text == f"Dialogmøde – Emma\n\n🗓 {WHEN_DA}\n📍 {PLACE}\n\nDit svar: Jeg kan ikke."
    await cast.tap(dad, "✅ I'm coming")
    assert texts_with(coord, "Lars (Far) kommer til dialogmødet")
    assert (await responses(fam))[await participant_id(fam, dad)] is True


async def test_moving_tells_everyone_asks_again_and_the_old_reminders_lapse(fam, cast, clock):
    coord, mom = fam.coord, fam.mom
    meeting = await schedule(fam)
    await cast.rsvp(mom, coming=True)
    old_notice = last_bot(mom).message_id - 1  # the invitation with the buttons
    old_rows = [r for r in await outbox_rows(fam) if r.key.startswith(f"meet:{meeting.id}:v1:")
                and r.status == "pending"]
    assert {r.kind for r in old_rows} == {"meeting_input_reminder", "meeting_day_before"}

    await cast.say(coord, "/moede")
    ask = await cast.tap(coord, "🕑 Move the meeting")
    assert ask.text.startswith(f"Flyt mødet – dialogen om Emma\n\nMødet er nu {WHEN_DA}. Hvornår skal det være i stedet?")
    place_q = await cast.say(coord, "10/12 kl. 15.30")
    assert place_q.buttons == [["Samme sted som før"]]
    summary = await cast.tap(coord, "Same place as before")
    assert "🗓 torsdag den 10. december 2026 kl. 15.30\n📍 Skolen, mødelokale 2" in summary.text
    assert summary.buttons[0] == ["✅ Flyt mødet, og giv alle besked"]
    done = await cast.tap(coord, "✅ Move the meeting and tell everyone")
    assert done.text == ("Mødet er flyttet til torsdag den 10. december 2026 kl. 15.30. "
                         "Alle har fået besked og er blevet spurgt igen, om de kommer.")

    [moved] = await meetings(fam)
    assert (moved.id, moved.version, moved.status) == (meeting.id, 2, "scheduled")
    assert moved.starts_at == datetime(2026, 12, 10, 14, 30, tzinfo=UTC)
    assert await responses(fam) == {}  # the answers were for the old time
    for who in (mom, fam.dad, fam.teacher):
        assert texts_with(who, "Mødet om Emma er flyttet") == [
            "🕑 Mødet om Emma er flyttet\n\n"
            "Ny tid: torsdag den 10. december 2026 kl. 15.30\n📍 Skolen, mødelokale 2\n\n"
            "Kan du komme på den nye tid?"]
    statuses = {r.key: r.status for r in await outbox_rows(fam)}
    assert all(statuses[r.key] == "cancelled" for r in old_rows)

    # A button on the old invitation no longer counts.
    await mom.phone.tap_data(old_notice, RsvpCb(meeting_id=meeting.id, version=1, coming=0).pack())
    await cast.settle()
    assert mom.phone.last_answer.text == "Mødet er blevet flyttet. Svar på den nyeste besked, eller skriv /moede."
    assert await responses(fam) == {}

    # The old reminder times pass in silence; the new ones come.
    clock.set(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))  # 09:00, 3 days before the old time
    await cast.settle()
    assert all(texts_with(w, "Husk dit input og dit tal") == [] for w in (mom, fam.dad, fam.teacher))
    clock.set(datetime(2026, 12, 7, 8, 0, tzinfo=UTC))  # 09:00, 3 days before the new time
    await cast.settle()
    for who in (mom, fam.dad, fam.teacher):
        [reminder] = texts_with(who, "Husk dit input og dit tal")
        assert "Dialogmødet om Emma er torsdag den 10. december 2026 kl. 15.30." in reminder


async def test_cancelling_tells_everyone_and_no_reminder_follows(fam, cast, clock):
    coord = fam.coord
    meeting = await schedule(fam)
    await cast.rsvp(fam.mom, coming=True)
    await cast.say(coord, "/moede")
    confirm = await cast.tap(coord, "✖️ Cancel the meeting")
    assert confirm.text == f"Vil du aflyse mødet {WHEN_DA}? Alle deltagere får besked."
    assert confirm.buttons == [["Ja, aflys mødet", "Nej, behold mødet"]]
    done = await cast.tap(coord, "Yes, cancel the meeting")
    assert done.text == "Mødet er aflyst, og alle har fået besked. Skriv /moede for at planlægge et nyt."
    [cancelled] = await meetings(fam)
    assert cancelled.status == "cancelled"
    for who in (fam.mom, fam.dad, fam.teacher):
        assert texts_with(who, "er aflyst") == [
            f"✖️ Mødet om Emma {WHEN_DA} er aflyst\n\n"
            "Tovholderen giver dig en ny tid."]
    pending = [r for r in await outbox_rows(fam) if r.status == "pending"]
    assert pending == []

    clock.set(datetime(2026, 12, 2, 8, 0, tzinfo=UTC))  # the day before, 09:00
    await cast.settle()
    for who in (fam.mom, fam.dad, fam.teacher):
        assert texts_with(who, "Husk") == []
    # An answer on the cancelled meeting's notice is refused.
    await fam.dad.phone.tap_data(last_bot(fam.dad).message_id,
                                 RsvpCb(meeting_id=meeting.id, version=1, coming=1).pack())
    await cast.settle()
    assert fam.dad.phone.last_answer.text == "Det møde er aflyst. Skriv /moede for at se, hvordan det står til."
    # A new meeting can be scheduled.
    assert (await cast.say(coord, "/moede")).text.startswith("Nyt dialogmøde – Emma")


# ---- the meeting itself -----------------------------------------------------------------------


async def test_on_the_day_the_meeting_opens_with_the_agenda_target_and_close_starts_round_two(
        fam, cast, clock, samspil):
    coord, mom, dad, teacher = fam.coord, fam.mom, fam.dad, fam.teacher
    await cast.write_input(mom, "Familieforhold", worries="Emma sover dårligt.", works=None, next_steps=None)
    await cast.share_input(mom)
    await cast.scale(mom, 6)
    await cast.scale(teacher, 4)
    meeting = await schedule(fam)

    # Before the day there is no Start button, and a forged one is refused.
    mark = coord.phone.mark()
    await coord.phone.tap_data(last_bot(coord).message_id, MeetingCb(
        action="start", dialog_id=fam.dialog_id, meeting_id=meeting.id).pack())
    await cast.settle()
    assert coord.phone.last_answer.text == "Mødet kan startes på selve dagen (3. december 2026)."
    assert new_bot(coord, mark) == []

    clock.set(datetime(2026, 12, 3, 12, 50, tzinfo=UTC))  # 13:50 on the day
    await cast.settle()
    card = await cast.say(coord, "/moede")
    assert card.buttons[0] == ["▶️ Start mødet"]
    agenda = await cast.tap(coord, "▶️ Start the meeting")
    assert agenda.text == (
        "Dialogmøde 1 er i gang – Emma\n\n"
        "Dagsorden\n"
        "1. Præsentation: alle deltagere præsenterer sig\n"
        "2. Vi ser på input og alles tal (/oversigt og /vurdering)\n"
        "3. Fælles mål på linealen\n"
        "4. Mål & Plan (/plan)\n\n"
        "Input og tal på linealen før møde 1\n"
        "Mette (Mor): ✅ input · ✅ tal: 6\n"
        "Lars (Far): ❔ intet input · ❔ intet tal endnu\n"
        "Hanne (Klasselærer): ❔ intet input · ✅ tal: 4\n\n"
        "🎯 Fælles mål på linealen: ikke sat endnu")
    assert agenda.buttons == [["🎯 Sæt fælles mål på linealen"], ["📋 Mål & Plan"], ["⏹ Afslut mødet"]]
    assert (await meetings(fam))[0].status == "open"

    # The joint target on the ruler, shown to everyone in /vurdering.
    question = await cast.tap(coord, "🎯 Set the joint target")
    assert question.text.startswith("Fælles mål på linealen – Børnelinealen\n\nHvor på linealen vil I gerne have, at Emma er")
    assert question.buttons == [["1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]
    set_ = await cast.tap_text(coord, "4")
    assert set_.text.startswith(f"🎯 Fælles mål på linealen: 4 🟨 Let bekymring\n{RULER.bar(4)}")
    view = await cast.say(dad, "/vurdering")
    assert view.text.startswith(
        "Alles tal på linealen – Børnelinealen, Emma, før møde 1\n\n"
        f"🎯 Fælles mål på linealen: 4 Let bekymring\n{RULER.bar(4)}\n\n")
    async with samspil.sessionmaker() as s:
        row = await s.scalar(select(DialogRound).where(DialogRound.round_no == 1))
        assert (row.joint_target, row.target_set_at) == (4, clock.now())

    # Closing ends round 1 and starts round 2.
    clock.advance(hours=1, minutes=30)
    await cast.say(coord, "/moede")
    ask = await cast.tap(coord, "⏹ Close the meeting")
    assert ask.text.startswith("Afslut mødet – dialogen om Emma (trin 1 af 3)\n\nHvem var med?")
    await cast.tap(coord, "Next ➡️")
    await cast.tap(coord, "No summary ➡️")
    check = await cast.tap(coord, "Not yet ➡️")
    assert check.text.startswith("Tjek referatet – dialogen om Emma")
    closed = await cast.tap(coord, "✅ Close the meeting and send the minutes", expect="Mødet er afsluttet")
    assert closed.text.startswith("Mødet er afsluttet. Før møde 2 skriver alle nyt input")
    # The report is the minutes: everyone gets it as a PDF they may keep.
    docs = [d for d in coord.phone.documents if d.file_name.endswith(".pdf")]
    assert docs and not docs[-1].protect_content
    [meeting] = await meetings(fam)
    assert (meeting.status, meeting.closed_at) == ("closed", clock.now())
    async with samspil.sessionmaker() as s:
        rounds = list(await s.scalars(select(DialogRound).order_by(DialogRound.round_no)))
    assert [(r.round_no, r.ended_at is not None, r.joint_target) for r in rounds] == [(1, True, 4), (2, False, None)]
    for who in (mom, dad, teacher):
        assert texts_with(who, "Dialogmødet om Emma er slut") == [
            "Dialogmødet om Emma er slut. Tak for i dag.\n\nHer kan du se planen. Før næste møde skriver du nyt "
            "input og sætter dit tal på linealen igen."]

    # New input goes to round 2; round 1 is kept.
    home = await cast.say(mom, "/input")
    assert home.text.startswith("Dit input om Emma")
    await cast.write_input(mom, "Familieforhold", worries="Det går lidt bedre med søvnen.", works=None,
                           next_steps=None)
    await cast.share_input(mom)
    assert [(e.round_no, e.worries) for e in await entries(fam, mom)] == [
        (1, "Emma sover dårligt."), (2, "Det går lidt bedre med søvnen.")]
    view = await cast.say(dad, "/vurdering")
    assert "før møde 2\n\n🎯 Fælles mål på linealen: 4 Let bekymring (sat på møde 1)" in view.text
    # And a new meeting can be scheduled for round 2.
    assert (await cast.say(coord, "/moede")).text.startswith("Nyt dialogmøde")


async def test_only_the_coordinator_runs_the_meeting_and_only_this_dialogs_people_answer(fam, cast, samspil):
    meeting = await schedule(fam)
    teacher = fam.teacher
    for action in ("start", "cancel_yes", "move", "target", "close_yes"):
        mark = teacher.phone.mark()
        await teacher.phone.tap_data(last_bot(teacher).message_id, MeetingCb(
            action=action, dialog_id=fam.dialog_id, meeting_id=meeting.id, value=4).pack())
        await cast.settle()
        assert teacher.phone.last_answer.text == da(samspil, "Only the coordinator can do that."), action
        assert teacher.phone.last_answer.show_alert and new_bot(teacher, mark) == []
    assert (await meetings(fam))[0].status == "scheduled"

    # A parent in another of the coordinator's dialogs cannot answer for Emma's meeting.
    sofie = cast.person("Sofie")
    await second_dialog(fam, "Oliver", sofie, teacher=False)
    before = await responses(fam)
    await sofie.phone.tap_data(last_bot(sofie).message_id, RsvpCb(
        meeting_id=meeting.id, version=1, coming=1).pack())
    await cast.settle()
    assert sofie.phone.last_answer.text == "Du er ikke med i den dialog."
    assert await responses(fam) == before
    async with samspil.sessionmaker() as s:
        assert await s.scalar(select(InputEntry.id)) is None


async def test_read_it_on_a_merged_notice_keeps_the_invitation_and_its_buttons(fam, cast, clock):
    """Notices due together come as one message (here: the end of quiet hours). Tapping one
    notice's button must leave the other notices' text and buttons as they were."""
    mom, teacher = fam.mom, fam.teacher
    clock.set(datetime(2026, 11, 23, 21, 0, tzinfo=UTC))  # 22:00 in Copenhagen: quiet hours
    mark = mom.phone.mark()
    await schedule(fam)
    await cast.write_input(teacher, "Sundhedsforhold", worries="Hun er ofte træt om morgenen.",
                           works=None, next_steps=None)
    await cast.share_input(teacher)
    assert new_bot(mom, mark) == []  # both wait for the morning

    clock.set(datetime(2026, 11, 24, 7, 0, tzinfo=UTC))  # 08:00: quiet hours are over
    await cast.scheduler.drain()
    await cast.settle()
    [merged] = new_bot(mom, mark)
    assert "Indkaldelse til dialogmøde" in merged.text and "har delt sit input" in merged.text
    before_text, before_buttons = merged.text, merged.buttons
    assert before_buttons == [["✅ Jeg kommer", "❌ Jeg kan ikke"], ["Læs det"]]

    await mom.phone.tap("Læs det", message_id=merged.message_id)
    await cast.settle()
    overview = last_bot(mom)
    assert overview.message_id != merged.message_id  # a new message ...
    assert overview.text.startswith("Samlet oversigt") and "Hun er ofte træt om morgenen." in overview.text
    still = next(m for m in mom.phone.bot_messages if m.message_id == merged.message_id)
    assert (still.text, still.buttons) == (before_text, before_buttons)  # ... the notice stays whole

    await mom.phone.tap("✅ Jeg kommer", message_id=merged.message_id)
    await cast.settle()
    assert last_bot(mom).text.startswith("Tak – du har svaret: Jeg kommer.")
    assert await responses(fam) == {await participant_id(fam, mom): True}


async def test_approving_in_a_merged_notice_removes_only_the_approval_buttons(fam, cast, clock):
    mom = fam.mom
    clock.set(datetime(2026, 11, 23, 21, 0, tzinfo=UTC))  # quiet hours: the notices wait together
    mark = mom.phone.mark()
    await schedule(fam)
    await cast.invite(fam.coord, cast.person("Ole"), "Network", "Morfar")
    clock.set(datetime(2026, 11, 24, 7, 0, tzinfo=UTC))
    await cast.scheduler.drain()
    await cast.settle()
    [merged] = new_bot(mom, mark)
    assert merged.buttons == [["✅ Jeg kommer", "❌ Jeg kan ikke"], ["✅ Godkend", "✖️ Afvis"]]

    await mom.phone.tap("✅ Godkend", message_id=merged.message_id)
    await cast.settle()
    still = next(m for m in mom.phone.bot_messages if m.message_id == merged.message_id)
    assert still.text == merged.text and still.buttons == [["✅ Jeg kommer", "❌ Jeg kan ikke"]]
    await mom.phone.tap("✅ Jeg kommer", message_id=merged.message_id)
    await cast.settle()
    assert await responses(fam) == {await participant_id(fam, mom): True}
