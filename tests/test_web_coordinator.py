"""Issue #14 (CHAT_CONTENT=minimal): the coordinator's pages of the Mini App, at the API.

/page/ny, /page/inviter, /page/indkald (move, cancel), /page/moede/open and /page/afslut do
what the chat's /ny, /inviter and /moede do, through the same use cases: what they store is
what the chat stores, and the people the chat would tell are told (their phones show it).
Bad input is answered in Danish and changes nothing; only the dialog's own coordinator may.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.playbook import link_token
from core import texts
from rules.access import Refusal
from storage import meetings as mt
from storage.models import Dialog, DialogRound, Invitation, Meeting, MeetingAttendance, Participant
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    Family,
    fresh_routers,
    in_danish,
    new_bot,
    open_dialog_with,
    open_family,
    participant_id,
    refusal,
    snapshot_of_content,
)
from tests.helpers_web import SHOTS, get, init_data, needs_chromium, phone_browser, post

WHEN_DA = "torsdag den 3. december 2026 kl. 14.00"


@pytest.fixture
async def fam(cast, samspil) -> Family:
    return await open_family(cast, samspil)


def links(body: str) -> list[str]:
    return re.findall(r"https://t\.me/[A-Za-z0-9_]+\?start=[A-Za-z0-9_-]+", body)


async def dialog_rows(app, dialog_id: int) -> tuple[tuple, list[tuple]]:  # type: ignore[no-untyped-def]
    """What a dialog's opening stores, without ids and times: the dialog and its seats."""
    async with app.sessionmaker() as s:
        d = await s.get(Dialog, dialog_id)
        seats = list(await s.scalars(select(Participant).where(Participant.dialog_id == dialog_id)))
        rounds = list(await s.scalars(select(DialogRound).where(DialogRound.dialog_id == dialog_id)))
        return ((d.child_name, d.age_group, d.purpose, d.state, d.round_no, d.coordinator_id, len(rounds)),
                [(p.name, p.role, p.relation, p.consent_giver, p.person_id, p.joined_at is not None, p.offline)
                 for p in seats])


# ---- /page/ny -----------------------------------------------------------------------------------


async def test_a_coordinator_opens_a_dialog_as_with_ny(cast, samspil, web_port) -> None:
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    me = init_data(samspil, coord)
    status, form, _ = await get(web_port, "/page/ny", me)
    assert status == 200 and 'action="/page/ny"' in form and "Barnets fornavn" in form

    purpose = "Vi vil arbejde sammen, så Emma igen føler sig tryg i skolen."
    status, body = await post(web_port, "/page/ny", me, {"child": " Emma ", "age_group": "barn", "purpose": purpose})
    assert status == 200
    async with samspil.sessionmaker() as s:
        web_id = await s.scalar(select(Dialog.id).order_by(Dialog.id.desc()).limit(1))
    assert "Dialogen om Emma er åben for invitationer." in body
    assert f'data-load="/page/inviter?d={web_id}"' in body
    # What the chat's /ny stores for the same answers.
    chat_id = await open_dialog_with(cast, samspil, coord, "Emma", "barn", purpose)
    assert chat_id == web_id + 1
    assert await dialog_rows(samspil, web_id) == await dialog_rows(samspil, chat_id)
    # Opened from the chat's menu without a dialog: which one? (Both wait for consent: no meeting yet.)
    status, page, _ = await get(web_port, "/page/inviter", me)
    assert status == 200 and f'data-load="/page/inviter?d={web_id}"' in page and f"Emma (#{chat_id})" in page
    status, page, _ = await get(web_port, "/page/indkald", me)
    assert status == 200 and "Ingen af dine dialoger kan have et møde endnu. Familien giver samtykke først." in page


async def test_bad_answers_to_ny_change_nothing_and_only_a_coordinator_may(cast, samspil, web_port) -> None:
    coord, mom = cast.person("Camilla Tovholder"), cast.person("Mette")
    await cast.register(coord)
    await mom.phone.send("/start")
    await cast.settle()
    me = init_data(samspil, coord)
    before = await snapshot_of_content(samspil)
    cases = [
        ({"child": "", "age_group": "barn", "purpose": "Trivsel"}, "Skriv barnets fornavn."),
        ({"child": "Emma", "age_group": "voksen", "purpose": "Trivsel"}, "Vælg aldersgruppen."),
        ({"child": "Emma", "age_group": "barn", "purpose": " "}, "Skriv formålet med dialogen."),
        ({"child": "Emma 120315-1234", "age_group": "barn", "purpose": "Trivsel"},
         in_danish(samspil, texts.cpr_refused)),
        ({"child": "E" * 61, "age_group": "barn", "purpose": "Trivsel"}, in_danish(samspil, texts.too_long, 60)),
        ({"child": "Emma", "age_group": "barn", "purpose": "x" * 2001}, in_danish(samspil, texts.too_long, 2000)),
    ]
    for form, answer in cases:
        status, body = await post(web_port, "/page/ny", me, form)
        assert status == 400 and answer in body, form
        assert "Tjek det, der er markeret nedenfor." in body
    assert 'value="Emma"' in body  # what was typed stays in the form
    # Someone who is not a registered coordinator: the page and the form are refused.
    for answer in (await get(web_port, "/page/ny", init_data(samspil, mom)),
                   await post(web_port, "/page/ny", init_data(samspil, mom),
                              {"child": "Emma", "age_group": "barn", "purpose": "Trivsel"})):
        assert answer[0] == 403 and "Kun en registreret tovholder kan gøre det." in answer[1]
    assert await snapshot_of_content(samspil) == before


# ---- /page/inviter ------------------------------------------------------------------------------


async def test_inviting_gives_the_personal_link_once_and_it_works(cast, samspil, web_port) -> None:
    coord, mom = cast.person("Camilla Tovholder"), cast.person("Mette")
    await cast.register(coord)
    dialog_id = await open_dialog_with(cast, samspil, coord, "Emma", "barn", "Trivsel i skolen")
    me = init_data(samspil, coord)
    status, page, _ = await get(web_port, f"/page/inviter?d={dialog_id}", me)
    assert status == 200 and "Ingen er inviteret endnu." in page

    status, body = await post(web_port, "/page/inviter", me, {
        "d": dialog_id, "name": "Mette Hansen", "role": "parent_custody", "relation": "Mor"})
    assert status == 200
    assert "✅ Mette Hansen (Mor) er inviteret." in body
    assert "Mette Hansen skal give samtykke" in body and "udløber den 7. december 2026" in body
    [link] = set(links(body))
    assert 'data-copy="link-' in body and 'data-kind="letter"' in body
    async with samspil.sessionmaker() as s:
        [seat] = list(await s.scalars(select(Participant).where(Participant.dialog_id == dialog_id,
                                                                Participant.role == "parent_custody")))
        assert (seat.name, seat.relation, seat.consent_giver, seat.joined_at) == ("Mette Hansen", "Mor", True, None)
        [invitation] = list(await s.scalars(select(Invitation).where(Invitation.participant_id == seat.id)))
        assert link_token(link) not in invitation.token_hash  # stored hashed only
    # The link is shown once: the page lists her, without it.
    status, page, _ = await get(web_port, f"/page/inviter?d={dialog_id}", me)
    assert "Mette Hansen (Mor)" in page and "Inviteret – har ikke åbnet linket endnu" in page and not links(page)
    # It works as the chat's: she opens it and is shown the consent card.
    mom.token = link_token(link)
    card = await cast.join(mom)
    assert "samtykke" in card.text.lower()
    async with samspil.sessionmaker() as s:
        assert (await s.get(Participant, seat.id)).joined_at is not None


async def test_after_the_start_the_family_is_asked_as_in_the_chat(fam, cast, samspil, web_port) -> None:
    me = init_data(samspil, fam.coord)
    marks = {p.name: p.phone.mark() for p in (fam.mom, fam.dad, fam.teacher)}
    status, body = await post(web_port, "/page/inviter", me, {
        "d": fam.dialog_id, "name": "Inge", "role": "network", "relation": "Mormor"})
    assert status == 200 and "Mette, Lars bliver spurgt, om Inge må være med." in body
    await cast.settle()
    for parent in (fam.mom, fam.dad):  # the consent givers are asked to approve her, as after /inviter
        [asked] = [m for m in new_bot(parent, marks[parent.name]) if "Inge (Mormor)" in m.text]
        assert asked.buttons and "godkend" in asked.buttons[0][0].lower()
    assert not new_bot(fam.teacher, marks[fam.teacher.name])
    async with samspil.sessionmaker() as s:
        inge = await s.scalar(select(Participant).where(Participant.dialog_id == fam.dialog_id,
                                                        Participant.role == "network"))
        assert (inge.name, inge.relation, inge.approval) == ("Inge", "Mormor", "pending")


async def test_without_telegram_a_new_link_and_the_young_person(cast, samspil, web_port) -> None:
    coord, dad = cast.person("Camilla Tovholder"), cast.person("Lars")
    await cast.register(coord)
    child = await open_dialog_with(cast, samspil, coord, "Emma", "barn", "Trivsel i skolen")
    young = await open_dialog_with(cast, samspil, coord, "Jonas", "ung", "Trivsel i skolen")
    me = init_data(samspil, coord)
    # A child cannot have a link; a young person must be 16 or older for one.
    before = await snapshot_of_content(samspil)
    status, body = await post(web_port, "/page/inviter", me, {"d": child, "name": "Emma", "role": "young"})
    assert status == 400 and "Telegram kræver, at brugere i EU er mindst 16" in body
    status, body = await post(web_port, "/page/inviter", me, {"d": young, "name": "Jonas", "role": "young"})
    assert status == 400 and "Sæt kryds ved, at den unge er 16 år eller ældre" in body
    assert await snapshot_of_content(samspil) == before
    status, body = await post(web_port, "/page/inviter", me, {"d": young, "name": "Jonas", "role": "young",
                                                             "relation": "ignored", "over16": "1"})
    assert status == 200 and len(set(links(body))) == 1
    # Without Telegram: a seat with no link, as "📵 Uden Telegram" in /inviter.
    status, body = await post(web_port, "/page/inviter", me, {"d": child, "name": "Emma", "role": "young",
                                                             "offline": "1"})
    assert status == 200 and "✅ Emma (Den unge) er med – uden Telegram." in body and not links(body)
    # A new link for someone who has not joined: the old one stops working.
    status, body = await post(web_port, "/page/inviter", me, {"d": child, "name": "Lars", "role": "parent_custody",
                                                             "relation": "Far"})
    [first] = set(links(body))
    async with samspil.sessionmaker() as s:
        seats = {p.name: p for p in await s.scalars(select(Participant).where(Participant.dialog_id == child))}
    assert (seats["Emma"].offline, seats["Emma"].relation, seats["Emma"].consent_giver) == (True, None, True)
    async with samspil.sessionmaker() as s:
        jonas = await s.scalar(select(Participant).where(Participant.dialog_id == young, Participant.role == "young"))
        assert (jonas.name, jonas.relation, jonas.consent_giver, jonas.offline) == ("Jonas", None, True, False)
    status, body = await post(web_port, "/page/inviter/link", me, {"d": child, "participant": seats["Lars"].id})
    assert status == 200 and "Et nyt link til Lars (Far) er lavet. Det tidligere link virker ikke mere." in body
    [second] = set(links(body))
    assert second != first
    dad.token = link_token(first)
    assert "udløbet" in (await cast.join(dad)).text
    dad.token = link_token(second)
    await cast.join(dad)
    async with samspil.sessionmaker() as s:
        assert (await s.get(Participant, seats["Lars"].id)).joined_at is not None
    # Joined: no new link any more.
    status, body = await post(web_port, "/page/inviter/link", me, {"d": child, "participant": seats["Lars"].id})
    assert status == 409 and "Den person er med nu, eller er ikke inviteret mere." in body


async def test_bad_invitations_change_nothing_and_only_this_dialogs_coordinator_may(
        fam, cast, samspil, web_port) -> None:
    me = init_data(samspil, fam.coord)
    before = await snapshot_of_content(samspil)
    cases = [
        ({"name": "", "role": "network", "relation": "Mormor"}, "Skriv personens navn."),
        ({"name": "Inge", "role": "boss", "relation": "Mormor"}, "Vælg personens rolle."),
        ({"name": "Inge", "role": "network", "relation": ""}, "Skriv, hvem personen er for barnet."),
        ({"name": "Inge 010150-1234", "role": "network", "relation": "Mormor"}, in_danish(samspil, texts.cpr_refused)),
        ({"name": "Inge", "role": "network", "relation": "M" * 61}, in_danish(samspil, texts.too_long, 60)),
        ({"name": "I" * 81, "role": "network", "relation": "Mormor"}, in_danish(samspil, texts.too_long, 80)),
    ]
    for form, answer in cases:
        status, body = await post(web_port, "/page/inviter", me, {"d": fam.dialog_id, **form})
        assert status == 400 and answer in body, form
    for made_up in ("9" * 20, "x", "-1", await participant_id(fam, fam.coord)):  # no one waiting for a link
        status, body = await post(web_port, "/page/inviter/link", me, {"d": fam.dialog_id, "participant": made_up})
        assert status == 409 and "Den person er med nu, eller er ikke inviteret mere." in body, made_up
    assert await snapshot_of_content(samspil) == before
    other = cast.person("Bo Tovholder")
    await cast.register(other)
    before = await snapshot_of_content(samspil)
    for who, reason in ((fam.mom, Refusal.NOT_COORDINATOR), (fam.teacher, Refusal.NOT_COORDINATOR),
                        (other, Refusal.NOT_PARTICIPANT)):
        data = init_data(samspil, who)
        status, body, _ = await get(web_port, f"/page/inviter?d={fam.dialog_id}", data)
        assert status == 403 and refusal(fam, reason) in body, who.name
        status, body = await post(web_port, "/page/inviter", data, {
            "d": fam.dialog_id, "name": "Inge", "role": "network", "relation": "Mormor"})
        assert status == 403 and not links(body), who.name
        mom_seat = await participant_id(fam, fam.mom)
        status, body = await post(web_port, "/page/inviter/link", data, {"d": fam.dialog_id, "participant": mom_seat})
        assert status == 403 and not links(body), who.name
    assert await snapshot_of_content(samspil) == before


# ---- /page/indkald ------------------------------------------------------------------------------


async def meetings(fam: Family) -> list[Meeting]:
    async with fam.app.sessionmaker() as s:
        return list(await s.scalars(select(Meeting).order_by(Meeting.id)))


async def test_calling_moving_and_cancelling_tell_everyone_as_the_chat_does(fam, cast, samspil, web_port) -> None:
    me = init_data(samspil, fam.coord)
    status, page, _ = await get(web_port, f"/page/indkald?d={fam.dialog_id}", me)
    assert status == 200 and 'type="date"' in page and 'type="time"' in page
    marks = {p.name: p.phone.mark() for p in (fam.mom, fam.dad, fam.teacher, fam.coord)}
    status, body = await post(web_port, "/page/indkald", me, {
        "d": fam.dialog_id, "date": "2026-12-03", "time": "14:00", "place": "Skolen, mødelokale 2"})
    assert status == 200 and "Indkaldelsen er sendt til 3 deltagere." in body
    assert WHEN_DA in body and "Skolen, mødelokale 2" in body and "har ikke svaret" in body
    [meeting] = await meetings(fam)
    assert (meeting.status, meeting.version, meeting.round_no, meeting.place) == (
        "scheduled", 1, 1, "Skolen, mødelokale 2")
    assert meeting.starts_at == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    await cast.settle()
    for who in (fam.mom, fam.dad, fam.teacher):  # the invitation, with Jeg kommer / Jeg kan ikke
        [notice] = [m for m in new_bot(who, marks[who.name]) if "Indkaldelse til dialogmøde" in m.text]
        assert notice.buttons == [["✅ Jeg kommer", "❌ Jeg kan ikke"]]
    assert not [m for m in new_bot(fam.coord, marks[fam.coord.name]) if "Indkaldelse" in m.text]
    await cast.rsvp(fam.mom, True)
    status, page, _ = await get(web_port, f"/page/indkald?d={fam.dialog_id}", me)
    assert "Mette (Mor)" in page and "kommer" in page and "Svar indtil nu: 1 kommer, 0 kan ikke, 2 har ikke svaret." in page
    assert "/page/moede/open" not in page  # not before the day

    # Moving: everyone is asked again.
    marks = {p.name: p.phone.mark() for p in (fam.mom, fam.dad, fam.teacher)}
    status, body = await post(web_port, "/page/indkald/move", me, {
        "d": fam.dialog_id, "meeting": meeting.id, "version": 1, "date": "4/12", "time": "9.30", "place": "Rådhuset"})
    assert status == 200 and "Mødet er flyttet til fredag den 4. december 2026 kl. 09.30." in body
    [moved] = await meetings(fam)
    assert (moved.version, moved.place, moved.starts_at) == (2, "Rådhuset", datetime(2026, 12, 4, 8, 30, tzinfo=UTC))
    await cast.settle()
    for who in (fam.mom, fam.dad, fam.teacher):
        assert [m for m in new_bot(who, marks[who.name]) if "flyttet" in m.text], who.name
    # An old form (the version before the move) is refused and changes nothing.
    status, body = await post(web_port, "/page/indkald/move", me, {
        "d": fam.dialog_id, "meeting": meeting.id, "version": 1, "date": "2026-12-10", "time": "10:00",
        "place": "Skolen"})
    assert status == 409 and "Mødet er ændret imens" in body
    assert (await meetings(fam))[0].version == 2

    # Cancelling: everyone is told; a new one can be called.
    marks = {p.name: p.phone.mark() for p in (fam.mom, fam.dad, fam.teacher)}
    status, body = await post(web_port, "/page/indkald/cancel", me, {"d": fam.dialog_id, "meeting": meeting.id})
    assert status == 200 and "Mødet er aflyst, og alle har fået besked." in body and 'action="/page/indkald"' in body
    assert (await meetings(fam))[0].status == "cancelled"
    await cast.settle()
    for who in (fam.mom, fam.dad, fam.teacher):
        assert [m for m in new_bot(who, marks[who.name]) if "aflyst" in m.text], who.name


async def test_bad_meeting_times_and_places_change_nothing(fam, cast, samspil, web_port) -> None:
    me = init_data(samspil, fam.coord)
    before = await snapshot_of_content(samspil)
    cases = [
        ({"date": "2026-11-20", "time": "14:00", "place": "Skolen"}, "Det tidspunkt er allerede gået."),
        ({"date": "2026-11-23", "time": "08:00", "place": "Skolen"}, "Det tidspunkt er allerede gået."),
        ({"date": "2026-12-03", "time": "", "place": "Skolen"}, "Vælg også et klokkeslæt."),
        ({"date": "", "time": "14:00", "place": "Skolen"}, "Vælg datoen for mødet."),
        ({"date": "31/2", "time": "14:00", "place": "Skolen"}, "Den dato findes ikke"),
        ({"date": "2026-12-03", "time": "25:00", "place": "Skolen"}, "Datoen eller klokkeslættet kan ikke læses."),
        ({"date": "2026-12-03", "time": "14:00", "place": ""}, "Skriv stedet, eller sæt linket til videomødet ind."),
        ({"date": "2026-12-03", "time": "14:00", "place": "x" * 301}, in_danish(samspil, texts.too_long, 300)),
        ({"date": "2026-12-03", "time": "14:00", "place": "Hos Emma 120315-1234"},
         in_danish(samspil, texts.cpr_refused)),
    ]
    for form, answer in cases:
        status, body = await post(web_port, "/page/indkald", me, {"d": fam.dialog_id, **form})
        assert status == 400 and answer in body, form
    assert await snapshot_of_content(samspil) == before
    # Only the coordinator of this dialog.
    other = cast.person("Bo Tovholder")
    await cast.register(other)
    before = await snapshot_of_content(samspil)
    for who in (fam.mom, other):
        data = init_data(samspil, who)
        assert (await get(web_port, f"/page/indkald?d={fam.dialog_id}", data))[0] == 403
        status, _ = await post(web_port, "/page/indkald", data, {
            "d": fam.dialog_id, "date": "2026-12-03", "time": "14:00", "place": "Skolen"})
        assert status == 403
    assert await snapshot_of_content(samspil) == before
    # A dialog still waiting for consent has no meetings yet (as /moede).
    waiting = await open_dialog_with(cast, samspil, fam.coord, "Oskar", "barn", "Trivsel")
    status, body, _ = await get(web_port, f"/page/indkald?d={waiting}", me)
    assert status == 403


# ---- starting and closing the meeting -----------------------------------------------------------


async def _called_and_answered(fam: Family, cast, clock) -> Meeting:  # type: ignore[no-untyped-def]
    await cast.schedule_meeting(fam.coord, "3/12 kl. 14", "Skolen, mødelokale 2")
    await cast.rsvp(fam.mom, True)
    await cast.rsvp(fam.dad, False)
    [meeting] = await meetings(fam)
    return meeting


async def test_the_meeting_is_started_on_its_day_and_closed_with_the_minutes(
        fam, cast, samspil, web_port, clock) -> None:
    me = init_data(samspil, fam.coord)
    meeting = await _called_and_answered(fam, cast, clock)
    status, body = await post(web_port, "/page/moede/open", me, {"d": fam.dialog_id, "meeting": meeting.id})
    assert status == 409 and "Mødet kan startes på selve dagen (3. december 2026)." in body
    status, body, _ = await get(web_port, f"/page/afslut?d={fam.dialog_id}", me)
    assert "Mødet er ikke startet endnu." in body

    clock.set(datetime(2026, 12, 3, 12, 50, tzinfo=UTC))
    me = init_data(samspil, fam.coord)
    status, page, _ = await get(web_port, f"/page/indkald?d={fam.dialog_id}", me)
    assert 'action="/page/moede/open"' in page
    status, page, _ = await get(web_port, f"/page/moede?d={fam.dialog_id}", me)  # Mødetilstand offers it too
    assert status == 200 and f'name="meeting" value="{meeting.id}"' in page and 'action="/page/moede/open"' in page
    status, body = await post(web_port, "/page/moede/open", me, {"d": fam.dialog_id, "meeting": meeting.id})
    assert status == 200 and "Mødet er startet." in body and 'action="/page/moede/target"' in body
    assert (await meetings(fam))[0].status == "open"

    # Closing: who was there is filled in from the answers.
    status, page, _ = await get(web_port, f"/page/afslut?d={fam.dialog_id}", me)
    ids = {who.name: await participant_id(fam, who) for who in (fam.mom, fam.dad, fam.teacher)}
    assert f'name="attendance_{ids["Mette"]}" id="a{ids["Mette"]}-present" value="present" checked' in page
    assert f'name="attendance_{ids["Lars"]}" id="a{ids["Lars"]}-apologies" value="apologies" checked' in page
    assert f'name="attendance_{ids["Hanne"]}" id="a{ids["Hanne"]}-absent" value="absent" checked' in page

    # Bad input: nothing is recorded, the meeting stays open.
    before = await snapshot_of_content(samspil)
    good = {"d": fam.dialog_id, "meeting": meeting.id, "summary": "Vi talte om aftenerne.",
            "case_ref": "27.15.08-A26-1234-26", f"attendance_{ids['Hanne']}": "present"}
    for change, answer in (({"summary": "Emma 120315-1234"}, in_danish(samspil, texts.cpr_refused)),
                           ({"summary": "x" * 3001}, in_danish(samspil, texts.too_long, 3000)),
                           ({"case_ref": "x" * 41}, in_danish(samspil, texts.too_long, 40)),
                           ({"case_ref": "120315-1234"}, in_danish(samspil, texts.cpr_refused)),
                           ({"case_ref": "--"}, "Skriv sagsnummeret med bogstaver eller tal."),
                           ({f"attendance_{ids['Hanne']}": "maybe"}, "Vælg til stede, meldt afbud eller ikke til stede"),
                           ({"attendance_999999": "present"}, "Vælg til stede, meldt afbud eller ikke til stede")):
        status, body = await post(web_port, "/page/afslut", me, {**good, **change})
        assert status == 400 and answer in body, change
    assert await snapshot_of_content(samspil) == before
    # Not the parents, not another coordinator.
    other = cast.person("Bo Tovholder")
    await cast.register(other)
    before = await snapshot_of_content(samspil)
    for who in (fam.mom, other):
        status, _ = await post(web_port, "/page/afslut", init_data(samspil, who), good)
        assert status == 403, who.name
        assert (await get(web_port, f"/page/afslut?d={fam.dialog_id}", init_data(samspil, who)))[0] == 403
    assert await snapshot_of_content(samspil) == before

    status, body = await post(web_port, "/page/afslut", me, good)
    assert status == 200 and "Mødet er afsluttet" in body and "Runde 2 er begyndt" in body
    async with samspil.sessionmaker() as s:
        closed = await s.get(Meeting, meeting.id)
        assert (closed.status, closed.summary, closed.referat_edition) == ("closed", "Vi talte om aftenerne.", 1)
        marks = {r.participant_id: r.status for r in await s.scalars(
            select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting.id))}
        assert marks == {ids["Mette"]: mt.PRESENT, ids["Lars"]: mt.APOLOGIES, ids["Hanne"]: mt.PRESENT}
        dialog = await s.get(Dialog, fam.dialog_id)
        assert (dialog.case_ref, dialog.round_no) == ("27.15.08-A26-1234-26", 2)
    await cast.settle()
    for who in fam.everyone:  # everyone gets the referat, as after the chat's close
        [doc] = who.phone.documents
        assert doc.file_name == "referat-emma-2026-12-03.pdf", who.name
    # Closed: a second close of the same meeting is refused.
    status, body = await post(web_port, "/page/afslut", me, good)
    assert status == 409
    assert "Der er ikke noget møde i gang i denne dialog." in body


# ---- the invitation letter (download kind `letter`) ---------------------------------------------


def pdf_text(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader

    return re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


async def fetch(port: int, url: str) -> tuple[int, bytes, dict[str, str]]:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{url}") as response:
        return response.status, await response.read(), dict(response.headers)


async def test_the_letter_carries_a_new_link_made_when_it_is_fetched(cast, samspil, web_port) -> None:
    coord, mom = cast.person("Camilla Tovholder"), cast.person("Mette")
    await cast.register(coord)
    dialog_id = await open_dialog_with(cast, samspil, coord, "Emma", "barn", "Trivsel i skolen")
    me = init_data(samspil, coord)
    _status, body = await post(web_port, "/page/inviter", me, {
        "d": dialog_id, "name": "Mette Hansen", "role": "parent_custody", "relation": "Mor"})
    [shown] = set(links(body))
    async with samspil.sessionmaker() as s:
        seat = await s.scalar(select(Participant).where(Participant.dialog_id == dialog_id,
                                                        Participant.role == "parent_custody"))
    # Making the address writes nothing; the address names no one.
    before = await snapshot_of_content(samspil)
    status, answer = await post(web_port, "/page/dokumenter/link", me, {"d": dialog_id, "kind": "letter",
                                                                       "ref": seat.id})
    assert status == 200
    import json

    made = json.loads(answer)
    assert made["ok"] and made["name"] == "invitation-mette-hansen.pdf" and "mette" not in made["url"].lower()
    assert await snapshot_of_content(samspil) == before
    # Only the dialog's coordinator: not a parent in it, not another coordinator.
    other = cast.person("Bo Tovholder")
    await cast.register(other)
    for who in (mom, other):
        status, answer = await post(web_port, "/page/dokumenter/link", init_data(samspil, who),
                                    {"d": dialog_id, "kind": "letter", "ref": seat.id})
        assert status == 403 and not json.loads(answer)["ok"], who.name

    status, pdf, headers = await fetch(web_port, made["url"])
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert headers["Cache-Control"] == "no-store" and headers["Content-Disposition"].startswith("attachment")
    text = pdf_text(pdf)
    assert "Kære Mette Hansen" in text
    # The link as typed under the QR code (32 characters; the PDF's text may break the line in it).
    letter_token = re.search(r"t\.me/\w+\?start=((?:[A-Za-z0-9_-]\s?){32})", text).group(1).replace(" ", "")
    assert letter_token != link_token(shown)  # a new link: the one shown on the page stops working
    mom.token = link_token(shown)
    assert "udløbet" in (await cast.join(mom)).text
    mom.token = letter_token
    await cast.join(mom)
    async with samspil.sessionmaker() as s:
        assert (await s.get(Participant, seat.id)).joined_at is not None
    # With CHAT_CONTENT=minimal the file's name (which passes the Telegram app) names no one.
    await post(web_port, "/page/inviter", me, {"d": dialog_id, "name": "Lars Hansen", "role": "parent_custody",
                                               "relation": "Far"})
    async with samspil.sessionmaker() as s:
        dad_seat = max(await s.scalars(select(Participant.id).where(Participant.dialog_id == dialog_id)))
    samspil.settings.chat_content = "minimal"
    try:
        status, answer = await post(web_port, "/page/dokumenter/link", me, {"d": dialog_id, "kind": "letter",
                                                                           "ref": dad_seat})
    finally:
        samspil.settings.chat_content = "full"
    assert status == 200 and json.loads(answer)["name"] == f"invitation-{dad_seat}.pdf"
    # She has joined: no letter any more.
    status, answer = await post(web_port, "/page/dokumenter/link", me, {"d": dialog_id, "kind": "letter",
                                                                       "ref": seat.id})
    assert status == 403


# ---- in a phone's browser -----------------------------------------------------------------------


@needs_chromium
async def test_new_dialog_invite_and_call_in_chromium(cast, samspil, web_port, clock, database) -> None:
    """ny -> inviter -> indkald at a phone's size, as the coordinator taps through it; then, on the
    meeting's day, starting and closing it (afslut)."""
    if database.kind != "sqlite":
        pytest.skip("the browser walk runs once, on SQLite (the pages' API is tested on both databases)")
    coord, mom = cast.person("Camilla Tovholder"), cast.person("Mette")
    await cast.register(coord)
    async with phone_browser(web_port, samspil, coord, "ny", 0) as page:
        await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        await page.wait_for_selector("#child")
        await page.fill("#child", "Emma 120315-1234")  # a CPR number: refused beside the field
        await page.tap("label[for=age-barn]")
        await page.fill("#purpose", "Vi vil arbejde sammen, så Emma igen føler sig tryg i skolen og derhjemme.")
        await page.get_by_role("button", name="Åbn dialogen").tap()
        await page.wait_for_selector(".field-problem")
        assert in_danish(samspil, texts.cpr_refused) in await page.inner_text("#child-problem")
        assert await page.is_checked("#age-barn")  # what was chosen and typed stays
        await page.screenshot(path=str(SHOTS / "ny_fejl.png"), full_page=True)
        await page.fill("#child", "Emma")
        await page.screenshot(path=str(SHOTS / "ny.png"), full_page=True)
        await page.get_by_role("button", name="Åbn dialogen").tap()
        await page.wait_for_selector(".ok")
        assert "Dialogen om Emma er åben for invitationer." in await page.inner_text("main")
        await page.screenshot(path=str(SHOTS / "ny_done.png"), full_page=True)

        await page.get_by_text("Inviter en deltager").tap()
        await page.wait_for_selector("#invite-form")
        await page.fill("#name", "Mette Hansen")
        await page.tap("label[for=role-parent_custody]")
        await page.fill("#relation", "Mor")
        await page.screenshot(path=str(SHOTS / "inviter.png"), full_page=True)
        await page.get_by_role("button", name="Inviter", exact=True).tap()
        await page.wait_for_selector("#invited")
        link = await page.input_value("textarea.link")
        await page.get_by_role("button", name="Kopier linket").tap()
        await page.wait_for_selector('button:has-text("Kopieret")')
        assert await page.evaluate("navigator.clipboard.readText()") == link
        await page.screenshot(path=str(SHOTS / "inviter_link.png"), full_page=True)
        fragment = await page.evaluate("location.hash")
        async with samspil.sessionmaker() as s:
            dialog_id = await s.scalar(select(Dialog.id))

        mom.token = link_token(link)  # she opens her link and consents: the dialog is active
        await cast.join(mom)
        await cast.consent(mom)
        await page.goto(f"http://127.0.0.1:{web_port}/app?p=indkald&d={dialog_id}{fragment}")
        await page.wait_for_selector("#call-form")
        await page.fill("#date", "2026-12-03")
        await page.fill("#time", "14:00")
        await page.fill("#place", "Skolen, mødelokale 2")
        await page.screenshot(path=str(SHOTS / "indkald.png"), full_page=True)
        mark = mom.phone.mark()
        await page.get_by_role("button", name="Send indkaldelsen").tap()
        await page.wait_for_selector("#meeting")
        assert "Indkaldelsen er sendt til 1 deltager." in await page.inner_text("main")
        await page.locator("summary", has_text="Flyt mødet").tap()
        await page.screenshot(path=str(SHOTS / "indkald_kaldt.png"), full_page=True)
    await cast.settle()
    assert [m for m in new_bot(mom, mark) if "Indkaldelse til dialogmøde" in m.text]
    await cast.rsvp(mom, True)

    clock.set(datetime(2026, 12, 3, 12, 50, tzinfo=UTC))  # the day: a new page (its initData is fresh)
    async with phone_browser(web_port, samspil, coord, "indkald", dialog_id) as page:
        await page.get_by_role("button", name="▶️ Start mødet").tap()
        await page.wait_for_selector("#ruler")
        await page.goto(page.url.replace("p=indkald", "p=afslut"))
        await page.wait_for_selector("#close-form")
        await page.fill("#summary", "Vi talte om aftenerne. Vi aftalte en fast sengetid.")
        await page.fill("#case_ref", "27.15.08-A26-1234-26")
        await page.screenshot(path=str(SHOTS / "afslut.png"), full_page=True)
        await page.get_by_role("button", name="Afslut mødet og send referatet").tap()
        await page.wait_for_selector(".ok")
        assert "Runde 2 er begyndt." in await page.inner_text("main")
        await page.screenshot(path=str(SHOTS / "afslut_done.png"), full_page=True)
    await cast.settle()
    assert len(mom.phone.documents) == 1  # the referat


def test_the_pages_take_what_the_chat_takes() -> None:
    """The same limits on the same answers as the chat's steps (the pages cannot import handlers/)."""
    from handlers import answers, meetings
    from web import coordinator

    assert (coordinator.NAME_LIMIT, coordinator.PERSON_NAME_LIMIT, coordinator.RELATION_LIMIT,
            coordinator.PURPOSE_LIMIT) == (answers.NAME_LIMIT, answers.PERSON_NAME_LIMIT, answers.RELATION_LIMIT,
                                           answers.PURPOSE_LIMIT)
    assert coordinator.PLACE_LIMIT == meetings.PLACE_LIMIT
