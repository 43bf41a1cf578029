"""Issue #6, consent both ways: /samtykke shows what was consented to and withdraws it; a
withdrawal pauses the dialog at once (everyone is refused, reminders stop, the coordinator
is told); consenting again resumes it. A participant added after the start gets in only
when the family (every consent giver) has approved.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.app import App
from bot.playbook import Cast, Person
from handlers.privacy import ApproveCb, ConsentViewCb
from rules.access import Refusal
from storage.models import Approval, Consent, Invitation, OutboxMessage, Participant, Score
from storage.models import Person as PersonRow
from tests.helpers import da, saw
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    Family,
    dialog_state,
    fresh_routers,
    in_danish,
    last_bot,
    new_bot,
    open_family,
    participant_id,
    refusal,
)
from tests.helpers_dialog import (
    snapshot_of_content as snapshot,
)

WITHDRAWN_NOTICE = "Mette (Mor) har trukket sit samtykke tilbage til dialogen om Emma."
RESUMED_NOTICE = "▶️ Dialogen om Emma fortsætter: familien har givet samtykke igen."
TEACHER_WORRY = "Emma sidder alene i frikvartererne."


@pytest.fixture
async def fam(cast: Cast, samspil: App) -> Family:
    return await open_family(cast, samspil)


async def consents_of(fam: Family, who: Person) -> list[Consent]:
    pid = await participant_id(fam, who)
    async with fam.app.sessionmaker() as s:
        return list(await s.scalars(select(Consent).where(Consent.participant_id == pid).order_by(Consent.id)))


async def seat_named(app: App, dialog_id: int, name: str) -> Participant:
    async with app.sessionmaker() as s:
        rows = await s.scalars(select(Participant).where(Participant.dialog_id == dialog_id))
        return next(p for p in rows if p.name == name)


async def test_samtykke_shows_the_stored_consent_and_withdrawing_pauses_everything(
    fam: Family, cast: Cast, samspil: App,
) -> None:
    coord, mom, dad, teacher = fam.coord, fam.mom, fam.dad, fam.teacher
    # While the dialog runs, the teacher shares input, scales and opens the overview.
    await cast.write_input(teacher, "Sundhedsforhold", worries=TEACHER_WORRY, works=None, next_steps=None)
    await cast.share_input(teacher)
    await cast.scale(teacher, 9)  # the highest field: the coordinator hears of it at once
    overview = await cast.say(teacher, "/oversigt")
    assert TEACHER_WORRY in overview.text
    # The teacher is in the middle of writing a new draft when consent goes.
    await cast.say(teacher, "/input")
    await cast.tap_text(teacher, "Udvikling og adfærd", expect="trin 1 af 3")

    # /samtykke: when, the exact text shown (the stored HTML, as it was sent), the list shown.
    mark = mom.phone.mark()
    await cast.say(mom, "/samtykke")
    [given] = await consents_of(fam, mom)
    head, card, listing = new_bot(mom, mark)
    assert head.text.startswith("Dit samtykke – Emma")
    assert "Du gav dit samtykke 23. november 2026 kl. 10.00. Her er præcis det, du fik vist dengang:" in head.text
    assert card.html == given.text_shown and card.protect_content
    assert listing.text.startswith("Du sagde ja til, at disse er med:\n• Mette (Mor)\n• Lars (Far)\n• Hanne (Klasselærer)")
    assert listing.buttons == [["Træk mit samtykke tilbage"], ["Læs mere om dine data"]] and listing.protect_content

    # Withdrawing asks first; "keep" changes nothing.
    confirm = await cast.tap(mom, "Withdraw my consent")
    assert confirm.text.startswith("Vil du trække dit samtykke tilbage? (Emma)")
    assert confirm.buttons == [["Ja, træk mit samtykke tilbage"], ["Nej, behold mit samtykke"]]
    before = await snapshot(samspil)
    await cast.tap(mom, "No, keep my consent")
    assert mom.phone.last_answer is not None and mom.phone.last_answer.text == "Godt – dit samtykke gælder stadig."
    assert await snapshot(samspil) == before
    await cast.tap(mom, "Withdraw my consent")
    mark_coord, mark_teacher = coord.phone.mark(), teacher.phone.mark()
    reply = await cast.tap(mom, "Yes, withdraw my consent", expect="Du trak dit samtykke tilbage")
    assert reply.text.startswith("Du trak dit samtykke tilbage 23. november 2026 kl. 10.00. Nu er der pause i "
                                 "dialogen om Emma. De andre kan ikke se noget.")
    assert reply.text.endswith("Hvis du fortryder, så skriv /samtykke.")

    # Paused at once; the withdrawal is stored like any answer, with what Mette confirmed.
    assert await dialog_state(fam) == "paused"
    rows = await consents_of(fam, mom)
    assert [c.answer for c in rows] == ["given", "withdrawn"]
    assert rows[-1].text_shown.startswith("<b>Vil du trække dit samtykke tilbage?</b> (Emma)")
    assert json.loads(rows[-1].participants_shown) == ["Mette (Mor)", "Lars (Far)", "Hanne (Klasselærer)"]

    # The coordinator is told; the teacher hears nothing (she learns it on her next step).
    told = [m.text for m in new_bot(coord, mark_coord)]
    assert any(WITHDRAWN_NOTICE in t and "Dialogen er sat på pause" in t for t in told), told
    assert new_bot(teacher, mark_teacher) == []

    # A notice about the paused dialog that falls due now is not sent (the scheduler skips it),
    # while one about consent still goes.
    async with samspil.sessionmaker() as s, s.begin():
        score_id = await s.scalar(select(Score.id).order_by(Score.id.desc()).limit(1))
        coordinator = await s.scalar(select(PersonRow).where(PersonRow.telegram_id == coord.phone.user_id))
        await samspil.notices.add(s, to=coordinator, kind="high_score", key="test:high:paused",
                                  payload={"score_id": score_id}, dialog_id=fam.dialog_id)
    mark_coord = coord.phone.mark()
    await samspil.scheduler.drain()
    assert new_bot(coord, mark_coord) == []
    async with samspil.sessionmaker() as s:
        row = await s.scalar(select(OutboxMessage).where(OutboxMessage.key == "test:high:paused"))
        assert row is not None and row.status == "skipped"

    # Everyone else's next step is refused with the reason, and shows nothing.
    paused = refusal(fam, Refusal.PAUSED)
    for who in (teacher, dad, coord):
        for command in ("/input", "/oversigt", "/skala", "/vurdering", "/plan", "/moede"):
            mark = who.phone.mark()
            reply = await cast.say(who, command)
            assert [m.text for m in new_bot(who, mark)] == [paused], (who.name, command)
    # The draft in progress: what she types now is not saved, and she is told why.
    before = await snapshot(samspil)
    reply = await cast.say(teacher, "Hun virker træt om morgenen.")
    assert reply.text == paused
    # An overview button from before the pause.
    mark = teacher.phone.mark()
    await teacher.phone.tap(overview.buttons[0][0], message_id=overview.message_id)
    await cast.settle()
    assert teacher.phone.last_answer is not None and teacher.phone.last_answer.show_alert
    assert teacher.phone.last_answer.text == paused
    assert new_bot(teacher, mark) == []
    assert await snapshot(samspil) == before

    # /start: the home says paused; the withdrawn consent giver is not pushed a new card.
    mark = mom.phone.mark()
    await cast.say(mom, "/start")
    assert [m.text for m in new_bot(mom, mark)][-1] == (
        "Hej Mette.\n\nEmma\nDialogen holder pause. Nogen har taget sit samtykke tilbage.")

    # Consent again from /samtykke: the current card is shown; answering resumes the dialog.
    mark = mom.phone.mark()
    await cast.say(mom, "/samtykke")
    head, card = new_bot(mom, mark)
    assert "Du trak dit samtykke tilbage 23. november 2026 kl. 10.00." in head.text
    assert "Dialogen holder pause. Ingen kan se eller skrive noget i den." in head.text
    assert card.buttons == [["Ja, jeg giver samtykke"], ["Jeg vil tale med tovholderen først"], ["Nej tak"],
                            ["Læs mere om dine data"]]
    marks = {who.name: who.phone.mark() for who in (coord, dad, teacher)}
    reply = await cast.tap(mom, "Yes, I give my consent", expect="Tak.")
    assert reply.text.endswith("Dialogen om Emma fortsætter.")
    assert await dialog_state(fam) == "active"
    assert [c.answer for c in await consents_of(fam, mom)] == ["given", "withdrawn", "given"]
    for who in (coord, dad, teacher):
        assert sum(RESUMED_NOTICE in m.text for m in new_bot(who, marks[who.name])) == 1, who.name
    assert saw(coord, "Mette (Mor) har givet samtykke til dialogen om Emma.")
    reply = await cast.say(teacher, "/oversigt")
    assert TEACHER_WORRY in reply.text


async def test_only_the_consent_giver_withdraws_her_own_consent(fam: Family, cast: Cast, samspil: App) -> None:
    mom, teacher, coord = fam.mom, fam.teacher, fam.coord
    # Neither a professional nor the coordinator has a consent to show or withdraw.
    not_giver = da(samspil, "Only the parents with custody (or the young person) give consent.")
    for who in (teacher, coord):
        reply = await cast.say(who, "/samtykke")
        assert reply.text == not_giver
    stranger = cast.person("Ukendt")
    reply = await cast.say(stranger, "/samtykke")
    assert reply.text.startswith("Du er ikke med i en dialog endnu.")

    await cast.say(mom, "/samtykke")
    withdraw = ConsentViewCb(action="withdraw_yes", dialog_id=fam.dialog_id).pack()
    before = await snapshot(samspil)
    # The teacher and a stranger replay Mette's confirmation: refused, nothing changes.
    for who, said in ((teacher, not_giver), (stranger, da(samspil, "You are not part of that dialog."))):
        await who.phone.tap_data(last_bot(who).message_id, withdraw)
        await cast.settle()
        assert who.phone.last_answer is not None and who.phone.last_answer.show_alert
        assert who.phone.last_answer.text == said
    assert await snapshot(samspil) == before
    assert await dialog_state(fam) == "active"

    # Mette withdraws twice (an old confirmation tapped again): the second tap changes nothing.
    await cast.tap(mom, "Withdraw my consent")
    confirm = last_bot(mom)
    await cast.tap(mom, "Yes, withdraw my consent", expect="Du trak dit samtykke tilbage")
    before = await snapshot(samspil)
    await mom.phone.tap_data(confirm.message_id, withdraw)
    await cast.settle()
    assert mom.phone.last_answer is not None
    assert mom.phone.last_answer.text == "Du har ikke givet samtykke. Så der er ikke noget at trække tilbage."
    assert await snapshot(samspil) == before
    assert len(saw(coord, WITHDRAWN_NOTICE)) == 1

    # The coordinator may still close a paused dialog (and nothing else).
    reply = await cast.say(coord, "/luk")
    assert reply.text.startswith("Luk dialogen om Emma")


async def approval_cards(who: Person) -> list:  # type: ignore[type-arg]
    return [m for m in who.phone.bot_messages if "En ny person?" in m.text]


async def test_a_participant_added_after_the_start_gets_in_when_the_family_approves(
    fam: Family, cast: Cast, samspil: App,
) -> None:
    coord, mom, dad, teacher = fam.coord, fam.mom, fam.dad, fam.teacher
    grandpa = cast.person("Ole")
    mark = coord.phone.mark()
    await cast.invite(coord, grandpa, "Network", "Morfar")
    invited = [m.text for m in new_bot(coord, mark) if "https://t.me/" in m.text][-1]
    assert ("Dialogen er i gang, så det er familien, der bestemmer: Mette, Lars bliver spurgt, om Ole må være med. "
            "Linket virker først, når de har godkendt, og du får besked.") in invited

    # Each consent giver is asked, with the name and the role.
    for who in (mom, dad):
        [card] = await approval_cards(who)
        assert "Camilla Tovholder vil gerne have Ole (Morfar) (Netværk) med i dialogen." in card.text
        assert card.buttons == [["✅ Godkend", "✖️ Afvis"]]
        assert card.protect_content
    assert not await approval_cards(teacher)

    # Before approval, the link waits (and says nothing about the child).
    reply = await cast.join(grandpa)
    assert reply.text.startswith("Tak, fordi du åbnede din invitation.")
    assert "Emma" not in reply.text
    for command in ("/start", "/oversigt", "/input"):
        reply = await cast.say(grandpa, command)
        assert "Emma" not in reply.text, command
    assert (await cast.say(grandpa, "/start")).text.startswith("Familien har ikke sagt ja til din invitation endnu.")
    assert saw(coord, "Ole (Morfar) har åbnet invitationen til dialogen om Emma.")
    seat = await seat_named(samspil, fam.dialog_id, "Ole")
    assert seat.approval == "pending" and seat.joined_at is None and seat.person_id is not None

    # Only a consent giver of this dialog may answer: forged taps change nothing.
    approve = ApproveCb(answer="yes", participant_id=seat.id).pack()
    before = await snapshot(samspil)
    for who, said in (
        (teacher, da(samspil, "Only the parents with custody (or the young person) give consent.")),
        (coord, da(samspil, "Only the parents with custody (or the young person) give consent.")),
        (grandpa, da(samspil, "You have not opened your invitation to that dialog yet.")),
    ):
        await who.phone.tap_data(last_bot(who).message_id, approve)
        await cast.settle()
        assert who.phone.last_answer is not None and who.phone.last_answer.show_alert, who.name
        assert who.phone.last_answer.text == said, who.name
    assert await snapshot(samspil) == before

    # Every consent giver must approve: after Mette, Ole still waits for Lars.
    reply = await cast.tap(mom, "✅ Approve", expect="Tak.")
    assert reply.text == "Tak. Ole (Morfar) kommer med, når Lars også har godkendt."
    assert (await seat_named(samspil, fam.dialog_id, "Ole")).approval == "pending"
    assert (await cast.say(grandpa, "/start")).text.startswith("Familien har ikke sagt ja til din invitation endnu")
    # Mette's card is answered; tapping it again changes nothing.
    [card] = await approval_cards(mom)
    assert card.buttons == []
    before = await snapshot(samspil)
    await mom.phone.tap_data(card.message_id, approve)
    await cast.settle()
    assert mom.phone.last_answer is not None and mom.phone.last_answer.text == "Du har allerede svaret."
    assert await snapshot(samspil) == before

    mark_coord, mark_grandpa = coord.phone.mark(), grandpa.phone.mark()
    reply = await cast.tap(dad, "✅ Approve", expect="Tak.")
    assert reply.text == "Tak. Ole (Morfar) kan nu være med i dialogen om Emma."
    seat = await seat_named(samspil, fam.dialog_id, "Ole")
    assert seat.approval == "approved" and seat.joined_at is not None
    assert any("✅ Familien har godkendt Ole (Morfar) i dialogen om Emma. Ole havde allerede åbnet linket "
               "og er nu med i dialogen." in m.text for m in new_bot(coord, mark_coord))
    assert [m.text for m in new_bot(grandpa, mark_grandpa)] == [
        "Velkommen, Ole. Familien har sagt ja. Nu er du med i dialogen om Emma.\n\n"
        "Skriv /hjaelp for at se, hvad du kan gøre."]
    reply = await cast.say(grandpa, "/oversigt")
    assert "oversigt – Emma, før møde 1" in reply.text
    async with samspil.sessionmaker() as s:
        answers = list(await s.scalars(select(Approval).where(Approval.participant_id == seat.id)))
    assert sorted(a.approved for a in answers) == [True, True]

    # Someone approved before opening the link gets in when they open it.
    kim = cast.person("Kim")
    await cast.invite(coord, kim, "Network", "Nabo")
    await cast.tap(mom, "✅ Approve", expect="Tak.")
    await cast.tap(dad, "✅ Approve", expect="Tak.")
    assert saw(coord, "✅ Familien har godkendt Kim (Nabo) i dialogen om Emma. Linket virker, så snart Kim åbner det.")
    await cast.join(kim)
    assert saw(kim, "Velkommen, Kim. Nu er du med i dialogen om Emma. Den er i gang.")


async def test_one_refusal_revokes_the_invitation(fam: Family, cast: Cast, samspil: App) -> None:
    coord, mom, dad = fam.coord, fam.mom, fam.dad
    neighbour = cast.person("Bo")
    await cast.invite(coord, neighbour, "Network", "Nabo")
    await cast.join(neighbour)  # opened before the family answered

    mark_coord, mark_bo = coord.phone.mark(), neighbour.phone.mark()
    reply = await cast.tap(mom, "✖️ Refuse", expect="nej")
    assert reply.text == "Du har sagt nej til Bo (Nabo). Personen kommer ikke med. Tovholderen får besked."
    seat = await seat_named(samspil, fam.dialog_id, "Bo")
    assert seat.approval == "refused" and seat.person_id is None and seat.joined_at is None
    async with samspil.sessionmaker() as s:
        invitations = list(await s.scalars(select(Invitation).where(Invitation.participant_id == seat.id)))
    assert invitations and all(i.revoked_at is not None for i in invitations)
    assert any("✖️ Familien har sagt nej til Bo (Nabo) i dialogen om Emma. Invitationen gælder ikke mere. "
               "Linket virker ikke." in m.text for m in new_bot(coord, mark_coord))
    told = [m.text for m in new_bot(neighbour, mark_bo)]
    assert told == ["Din invitation gælder ikke mere. Du kommer ikke med i den dialog. "
                    "Har du spørgsmål? Så tal med den tovholder, der sendte dig linket."]

    # The link is dead, and Bo is a stranger again.
    reply = await cast.join(neighbour)
    assert reply.text == ("Din invitation gælder ikke mere. Har du spørgsmål? Så tal med den tovholder, "
                          "der sendte dig linket.")
    assert (await cast.say(neighbour, "/start")).text.startswith("Hej! Jeg er Samspil.")
    # Lars's card: already decided.
    await cast.tap(dad, "✅ Approve")
    assert dad.phone.last_answer is not None and dad.phone.last_answer.text == "Det er allerede afgjort."
    # /dialoger leaves him out; the consent card's list does not name him either.
    listing = await cast.say(coord, "/dialoger")
    assert "Bo (Nabo)" not in listing.text
    await cast.say(mom, "/samtykke")
    await cast.tap(mom, "Withdraw my consent")
    await cast.tap(mom, "Yes, withdraw my consent", expect="Du trak dit samtykke tilbage")
    await cast.say(mom, "/samtykke")
    assert "Bo (Nabo)" not in last_bot(mom).text
