"""Reach the coordinator (#12): the coordinator's contact details (set at registration or with
/kontakt), the "📞 Kontakt tovholderen" card, a message to the coordinator through the bot,
"Jeg vil tale med tovholderen først", and the letter carrying the details."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy import select, text

from bot.app import App
from bot.playbook import Cast, Person
from core.clock import FakeClock
from handlers.contact import ContactCb
from handlers.contact_views import ContactAction
from services import contact
from storage.models import OutboxMessage, Participant
from storage.models import Person as PersonRow
from tests.helpers import da, last_bot, new_bot, snapshot
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    fresh_routers,
    open_dialog_with,
    open_family,
    participant_id,
)

PHONE_Q = "Hvilket nummer kan familierne ringe til dig på? (fx 12 34 56 78)"
EMAIL_Q = "Hvilken mail kan familierne skrive til? (fx camilla.holm@kommune.dk)"
HOURS_Q = "Hvornår kan familierne kontakte dig? (fx man-fre 8-15)"
LINES = "📞 Telefon: 12 34 56 78\n✉️ Mail: camilla.holm@faxe.dk\n🕘 Træffes bedst: man-fre 8-15"
WRITE = "✉️ Skriv en besked til tovholderen"


async def coordinator_row(app: App, who: Person) -> PersonRow:
    async with app.sessionmaker() as s:
        row = await s.scalar(select(PersonRow).where(PersonRow.telegram_id == who.phone.user_id))
    assert row is not None
    return row


async def give_details(cast: Cast, coord: Person) -> None:
    await cast.say(coord, "/kontakt", expect=PHONE_Q)
    await cast.say(coord, "12345678", expect=EMAIL_Q)
    await cast.say(coord, "camilla.holm@faxe.dk", expect=HOURS_Q)
    await cast.say(coord, "man-fre 8-15", expect="✓ Gemt.")


async def forge(cast: Cast, who: Person, data: str):  # type: ignore[no-untyped-def]
    """A tap on a button in the person's chat (made up, or placed there by another flow)."""
    query = await who.phone.tap_data(who.phone.bot_messages[-1].message_id, data)
    await cast.settle()
    return await who.phone.wait_answer(query_id=query)


# ---- the coordinator's contact details ---------------------------------------------------------


async def test_the_coordinator_adds_contact_details_and_bad_input_changes_nothing(cast: Cast, samspil: App) -> None:
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    welcome = last_bot(coord)
    assert welcome.text.startswith("Velkommen, Camilla Tovholder. Du er nu oprettet som tovholder")
    assert welcome.buttons == [["📇 Tilføj dine kontaktoplysninger"]]

    ask = await cast.tap(coord, "📇 Add your contact details", expect=PHONE_Q)
    assert ask.buttons == [["Spring over ➡️"]]
    assert any(m.text == "Familierne kan ikke se dit nummer eller din mail endnu." for m in coord.phone.bot_messages)
    before = await snapshot(samspil)
    for bad in ("ring til mig", "1234", "0101901234", "+45 12"):
        reply = await cast.say(coord, bad)
        assert reply.text == da(samspil, "That does not look like a phone number. Write the 8 digits (e.g. 12 34 56 78), "
                                         "or a number starting with + and the country code. Or tap Skip.")
    assert await snapshot(samspil) == before  # bad input changes nothing, and the step stays
    assert (await cast.say(coord, "12345678")).text == EMAIL_Q
    for bad in ("camilla@", "camilla holm@faxe.dk", "faxe.dk"):
        reply = await cast.say(coord, bad)
        assert reply.text == ("Det ligner ikke en mailadresse. Skriv den sådan her: navn@kommune.dk. "
                              "Eller tryk på Spring over.")
    assert (await cast.say(coord, "camilla.holm@faxe.dk")).text == HOURS_Q
    done = await cast.say(coord, "man-fre 8-15")
    assert done.text == ("✓ Gemt.\n\nFamilierne i dine dialoger ser:\n" + LINES
                         + "\n\nDu kan altid ændre det med /kontakt.")

    row = await coordinator_row(samspil, coord)
    assert (row.contact_phone, row.contact_email, row.contact_hours) == (
        "12 34 56 78", "camilla.holm@faxe.dk", "man-fre 8-15")
    async with samspil.sessionmaker() as s:  # stored encrypted, like every personal text
        raw = (await s.execute(text("SELECT contact_phone, contact_email, contact_hours FROM person WHERE id = :id"),
                               {"id": row.id})).one()
    assert all(value and "12 34" not in value and "faxe" not in value and "fre" not in value for value in raw)

    # /kontakt again: each detail can be kept (skip) or removed.
    ask = await cast.say(coord, "/kontakt", expect=PHONE_Q)
    assert ask.text == PHONE_Q + "\nNu: 12 34 56 78"
    assert ask.buttons == [["Spring over ➡️"], ["🗑 Fjern det"]]
    await cast.tap(coord, "Skip ➡️", expect=EMAIL_Q)
    await cast.tap(coord, "🗑 Remove it", expect=HOURS_Q)
    # A button of an earlier step no longer counts.
    query = await coord.phone.tap_data(ask.message_id, "mycontact:clear:phone")
    await cast.settle()
    assert (await coord.phone.wait_answer(query_id=query)).show_alert
    done = await cast.tap(coord, "Skip ➡️", expect="✓ Gemt.")
    assert "📞 Telefon: 12 34 56 78\n🕘 Træffes bedst: man-fre 8-15" in done.text and "Mail" not in done.text
    row = await coordinator_row(samspil, coord)
    assert (row.contact_phone, row.contact_email, row.contact_hours) == ("12 34 56 78", None, "man-fre 8-15")


# ---- a family member reaches the coordinator -----------------------------------------------------


async def test_a_parent_sees_how_to_reach_the_coordinator_and_writes_to_them(cast: Cast, samspil: App) -> None:
    fam = await open_family(cast, samspil)
    await give_details(cast, fam.coord)
    mom = fam.mom

    # /kontakt (for anyone but a coordinator), and the button other flows show.
    card = await cast.say(mom, "/kontakt")
    expected = "Din tovholder er Camilla Tovholder\n" + LINES + "\n\nDu kan også skrive en kort besked til " \
                                                                "Camilla Tovholder her."
    assert (card.text, card.buttons) == (expected, [[WRITE]])
    mark = mom.phone.mark()
    answer = await forge(cast, mom, ContactCb(action=ContactAction.SHOW, dialog_id=fam.dialog_id).pack())
    assert not answer.show_alert
    [shown] = new_bot(mom, mark)
    assert (shown.text, shown.buttons) == (expected, [[WRITE]])
    # In help too.
    assert "Din tovholder: Camilla Tovholder\n" + LINES in (await cast.say(mom, "/hjaelp")).text

    coord_mark = fam.coord.phone.mark()
    prompt = await cast.tap_text(mom, WRITE)
    assert prompt.text.startswith("Skriv din besked til Camilla Tovholder, og send den.")
    reply = await cast.say(mom, "Kan vi tale sammen i morgen?")
    assert reply.text == "✓ Sendt til tovholderen, Camilla Tovholder. Du hører fra tovholderen."
    [notice] = [m.text for m in new_bot(fam.coord, coord_mark)]
    assert notice == "✉️ Besked fra Mette (Mor) om Emma:\n\nKan vi tale sammen i morgen?"
    async with samspil.sessionmaker() as s:
        row = await s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "family_message"))
        assert row.status == "sent" and row.body is None  # delivered: the text is not kept
    # Text sent after it is no longer a message to the coordinator.
    assert (await cast.say(mom, "Hej igen")).text != reply.text

    # The message waits in the outbox encrypted (the same path as text typed outside a step).
    mom_seat = await participant_id(fam, mom)
    async with samspil.sessionmaker() as s, s.begin():
        seat = await s.get(Participant, mom_seat)
        sent = await contact.send_to_coordinator(s, samspil.notices, seat, "Emma har det svært i dag", key="t1")
        assert sent.outcome == contact.Sent.SENT
        await s.flush()
        raw = await s.scalar(text("SELECT body FROM outbox WHERE key = :k"), {"k": f"msg:{mom_seat}:t1"})
        assert raw and "Emma" not in raw and "svært" not in raw
        await s.rollback()


async def test_only_a_participant_of_the_dialog_may_use_the_contact_button(cast: Cast, samspil: App) -> None:
    fam = await open_family(cast, samspil)
    stranger = cast.person("Sofie")
    await cast.say(stranger, "/start")
    for action in (ContactAction.SHOW, ContactAction.WRITE):
        mark = stranger.phone.mark()
        answer = await forge(cast, stranger, ContactCb(action=action, dialog_id=fam.dialog_id).pack())
        assert answer.show_alert and answer.text == "Du er ikke med i den dialog."
        assert new_bot(stranger, mark) == []
    # The coordinator does not write to themselves.
    answer = await forge(cast, fam.coord, ContactCb(action=ContactAction.WRITE, dialog_id=fam.dialog_id).pack())
    assert answer.show_alert and answer.text == "Du er selv tovholder i denne dialog."


# ---- "Jeg vil tale med tovholderen først" ----------------------------------------------------------


async def test_talk_first_tells_the_coordinator_at_once_and_shows_the_family_how_to_reach_them(
        cast: Cast, samspil: App, clock: FakeClock) -> None:
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    await give_details(cast, coord)
    await open_dialog_with(cast, samspil, coord, "Emma", "barn", "Vi vil styrke Emmas trivsel.")
    mom = cast.person("Mette")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.join(mom)
    # In the evening too: the coordinator is told at once (quiet hours are for families).
    clock.set(clock.now().replace(hour=21, minute=30))
    coord_mark = coord.phone.mark()
    reply = await cast.tap(mom, "I want to talk to the coordinator first", expect="Det er helt i orden.")
    assert reply.text == ("Det er helt i orden. Camilla Tovholder har fået besked og kontakter dig.\n\n"
                          "Du kan også selv kontakte Camilla Tovholder:\n" + LINES + "\n\n"
                          "Når du er klar, kan du skrive /start og se spørgsmålet igen.")
    assert reply.buttons == [[WRITE]]
    told = [m.text for m in new_bot(coord, coord_mark)]
    assert told == [da(samspil, "{who} would like to talk to you before giving consent to the dialog about {child}.")
                    .format(who="Mette (Mor)", child="Emma")]

    # Before consent she can write to the coordinator from here.
    await cast.tap_text(mom, WRITE)
    coord_mark = coord.phone.mark()
    await cast.say(mom, "Ring gerne efter kl. 16.", expect="✓ Sendt til tovholderen")
    assert [m.text for m in new_bot(coord, coord_mark)] == ["✉️ Besked fra Mette (Mor) om Emma:\n\nRing gerne efter kl. 16."]


# ---- the letter ----------------------------------------------------------------------------------


async def test_the_invitation_letter_carries_the_coordinators_contact_details(cast: Cast, samspil: App, emu) -> None:
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    await give_details(cast, coord)
    await open_dialog_with(cast, samspil, coord, "Emma", "barn", "Vi vil styrke Emmas trivsel.")
    mom = cast.person("Mette")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.say(coord, "/brev")
    await cast.tap_text(coord, "Mette (Mor)")
    before = len(coord.phone.documents)
    await cast.tap(coord, "📄 Letter in Danish")
    await emu.wait_until(lambda: len(coord.phone.documents) > before, 20)
    pdf = coord.phone.documents[-1].data
    letter = re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    for expected in ("Så kontakt mig gerne:", "Telefon: 12 34 56 78",
                     "Mail: camilla.holm@faxe.dk", "Træffes bedst: man-fre 8-15"):
        assert expected in letter, expected


async def test_erasing_a_coordinators_data_takes_the_contact_details_too(cast: Cast, samspil: App) -> None:
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    await give_details(cast, coord)
    row = await coordinator_row(samspil, coord)
    await cast.say(coord, "/slet_mine_data")
    await cast.tap(coord, "Yes, erase my data")
    async with samspil.sessionmaker() as s:
        erased = await s.get(PersonRow, row.id)
        assert erased is not None
        assert (erased.contact_phone, erased.contact_email, erased.contact_hours) == (None, None, None)
