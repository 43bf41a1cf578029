"""Issue #2, joining and consent: the consent card, what is stored with each answer, the gate
that opens only when every consent giver said yes, who is told, and forged consent taps."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import select

from bot.app import App
from bot.playbook import Cast, Person
from core.clock import FakeClock
from core.config import Settings
from emulator import ChatMessage
from storage.models import Consent, Dialog, Participant
from tests.helpers import (
    PURPOSE,
    da,
    fresh_routers,  # noqa: F401
    new_bot,
    new_coordinator,
    open_dialog,
    participants,
    saw,
    snapshot,
)

CARD_BUTTONS = [["Ja, jeg giver samtykke"], ["Jeg vil tale med tovholderen først"], ["Nej tak"],
                ["Læs mere om dine data"]]
OPEN_NOTICE = "Familien har sagt ja. Dialogen om Emma er nu i gang."


@dataclass
class Family:
    coord: Person
    mom: Person
    dad: Person
    teacher: Person
    dialog_id: int


async def invited_family(cast: Cast, samspil: App) -> Family:
    coord = await new_coordinator(cast)
    dialog_id = await open_dialog(cast, samspil, coord)
    mom, dad, teacher = cast.person("Mette"), cast.person("Lars"), cast.person("Hanne")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.invite(coord, dad, "Parent with custody", "Far")
    await cast.invite(coord, teacher, "Professional", "Klasselærer")
    return Family(coord, mom, dad, teacher, dialog_id)


async def dialog_row(app: App, dialog_id: int) -> Dialog:
    async with app.sessionmaker() as s:
        dialog = await s.get(Dialog, dialog_id)
    assert dialog is not None
    return dialog


async def consents(app: App, dialog_id: int) -> list[Consent]:
    async with app.sessionmaker() as s:
        return list(await s.scalars(select(Consent).where(Consent.dialog_id == dialog_id).order_by(Consent.id)))


async def seat_of(app: App, dialog_id: int, name: str) -> Participant:
    return next(p for p in await participants(app, dialog_id) if p.name == name)


def card(who: Person) -> ChatMessage:
    """The latest consent card in the person's chat."""
    cards = saw(who, "Må de, der står ovenfor, være med? Hvis du siger ja, giver du dit samtykke.")
    assert cards, f"{who.name} has no consent card"
    return cards[-1]


def card_data(who: Person, row: int = 0) -> str:
    markup = card(who).reply_markup
    assert markup is not None
    return markup["inline_keyboard"][row][0]["callback_data"]


async def test_two_consent_givers_open_the_dialog_only_when_both_said_yes(
    cast: Cast, samspil: App, clock: FakeClock,
) -> None:
    fam = await invited_family(cast, samspil)

    # A participant who is not a consent giver joins first: the dialog awaits the family.
    reply = await cast.join(fam.teacher)
    # Not the child's name: the family has not said yes, and a link can be forwarded (#10).
    assert reply.text == ("Velkommen, Hanne. Du har åbnet din invitation.\n\n"
                          "Familien har ikke givet samtykke endnu. Du får besked, når vi går i gang.")
    assert "Emma" not in (await cast.say(fam.teacher, "/start")).text
    assert "Emma" not in (await cast.say(fam.teacher, "/input")).text
    assert saw(fam.coord, "Hanne (Klasselærer) har åbnet invitationen til dialogen om Emma.")

    # The consent giver sees purpose, coordinator and every invited participant.
    shown = await cast.join(fam.mom)
    assert shown.text.startswith("Hej Mette\n\nCamilla Tovholder har inviteret dig til en dialog")
    assert f"Det handler det om (23. november 2026):\n{PURPOSE}\n" in shown.text
    assert "Tovholder: Camilla Tovholder\n" in shown.text
    assert "Inviterede:\n• Mette (Mor)\n• Lars (Far)\n• Hanne (Klasselærer)\n" in shown.text
    assert shown.buttons == CARD_BUTTONS
    assert shown.protect_content

    clock.advance(minutes=5)
    mark = fam.teacher.phone.mark()
    reply = await cast.tap(fam.mom, "Yes, I give my consent", expect="Tak.")
    assert reply.text == ("Tak. Dit samtykke er gemt 23. november 2026 kl. 10.05.\n\n"
                          "Dialogen går i gang, når Lars også har givet samtykke.")
    assert card(fam.mom).buttons == []  # the answered card's buttons are gone
    assert (await dialog_row(samspil, fam.dialog_id)).state == "awaiting_consent"
    assert saw(fam.coord, "Mette (Mor) har givet samtykke til dialogen om Emma.")
    assert new_bot(fam.teacher, mark) == []  # nothing to tell yet

    dad_card = await cast.join(fam.dad)
    assert "Inviterede:\n• Mette (Mor)\n• Lars (Far)\n• Hanne (Klasselærer)\n" in dad_card.text
    clock.advance(hours=1)
    reply = await cast.tap(fam.dad, "Yes, I give my consent", expect="Tak.")
    assert "Dit samtykke er gemt 23. november 2026 kl. 11.05." in reply.text
    assert "Dialogen om Emma er nu i gang" in reply.text

    dialog = await dialog_row(samspil, fam.dialog_id)
    assert dialog.state == "active" and dialog.activated_at == clock.now()
    # Everyone else who has joined is told.
    for who in (fam.teacher, fam.mom, fam.coord):
        assert len(saw(who, OPEN_NOTICE)) == 1, who.name
    assert saw(fam.coord, "Lars (Far) har givet samtykke til dialogen om Emma.")

    # What was stored: time, the exact text shown, the list shown.
    mom_seat = await seat_of(samspil, fam.dialog_id, "Mette")
    dad_seat = await seat_of(samspil, fam.dialog_id, "Lars")
    rows = await consents(samspil, fam.dialog_id)
    assert [(c.participant_id, c.answer, c.locale) for c in rows] == [
        (mom_seat.id, "given", "da"), (dad_seat.id, "given", "da")]
    assert rows[0].created_at == clock.now().replace(hour=9, minute=5)
    assert rows[1].created_at == clock.now()
    assert rows[0].text_shown == shown.html
    assert rows[1].text_shown == dad_card.html
    listed = ["Mette (Mor)", "Lars (Far)", "Hanne (Klasselærer)"]
    assert [json.loads(c.participants_shown) for c in rows] == [listed, listed]

    # Someone invited to an open dialog gets in once the family has approved them
    # (tests/test_flow_withdrawal.py goes through the approval itself).
    grandpa = cast.person("Ole")
    await cast.invite(fam.coord, grandpa, "Network", "Morfar")
    await cast.tap(fam.mom, "✅ Approve")
    await cast.tap(fam.dad, "✅ Approve")
    reply = await cast.join(grandpa)
    assert saw(grandpa, "Velkommen, Ole. Nu er du med i dialogen om Emma. Den er i gang.")
    assert reply.text.startswith("Næste skridt: ")  # his next step follows, with its button (#12)


async def test_the_card_says_it_is_voluntary_how_to_withdraw_what_is_kept_how_long_and_who_answers_for_it(
    cast: Cast, samspil: App, settings: Settings,
) -> None:
    settings.municipality_privacy_contact = "databeskyttelse@faxe.dk"
    settings.retention_days = 2 * 365
    fam = await invited_family(cast, samspil)
    shown = await cast.join(fam.mom)
    for line in (
        "Kun dem, der står ovenfor, ser det, du deler.",  # who sees what
        "Vi gemmer det, du skriver, dit tal og dine svar.",  # what is kept ...
        "De bliver slettet 2 år efter, at dialogen er lukket.",  # ... for how long (RETENTION_DAYS)
        "Faxe Kommune har ansvaret for dine data. ",  # who is responsible (MUNICIPALITY_NAME)
        "Spørgsmål om dine data: databeskyttelse@faxe.dk",  # MUNICIPALITY_PRIVACY_CONTACT
        "Det er frivilligt at sige ja.",  # GDPR art. 7(3): before consent is given
        "Du kan altid trække dit samtykke tilbage: skriv /samtykke, og tryk på knappen.",
        "Så holder dialogen pause med det samme. Ingen kan se noget i den, og der bliver ikke delt mere.",
    ):
        assert line in shown.text, line
    # Still short enough to read on a phone.
    assert len(re.findall(r"[A-Za-zÆØÅæøå]+", shown.text)) <= 175
    assert shown.buttons == CARD_BUTTONS

    # The fuller text, behind its button; the card keeps its buttons.
    more = await cast.tap(fam.mom, "Read more about your data", expect="Dine data i Samspil")
    for line in ("Faxe Kommune har ansvaret for dine data. Spørgsmål om dine data: databeskyttelse@faxe.dk",
                 "Din tovholder er Camilla Tovholder.", "bliver oplysningerne gemt i 2 år", "/mine_data",
                 "/slet_mine_data", "Datatilsynet"):
        assert line in more.text, line
    assert more.protect_content
    assert card(fam.mom).buttons == CARD_BUTTONS

    # What she consents to is stored as shown: all of it.
    await cast.consent(fam.mom)
    [given] = await consents(samspil, fam.dialog_id)
    assert given.text_shown == shown.html
    # Without a contact for data questions, that line is left out.
    settings.municipality_privacy_contact = ""
    assert "Spørgsmål om dine data" not in (await cast.join(fam.dad)).text


async def test_talk_first_and_no_thanks_are_recorded_and_told_to_the_coordinator(
    cast: Cast, samspil: App,
) -> None:
    coord = await new_coordinator(cast)
    dialog_id = await open_dialog(cast, samspil, coord)
    mom, teacher = cast.person("Mette"), cast.person("Hanne")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.invite(coord, teacher, "Professional", "Klasselærer")
    await cast.join(teacher)
    await cast.join(mom)

    reply = await cast.tap(mom, "I want to talk to the coordinator first", expect="helt i orden")
    assert "Camilla Tovholder har fået besked og kontakter dig." in reply.text
    assert saw(coord, "Mette (Mor) vil gerne tale med dig først og har endnu ikke givet samtykke "
                      "til dialogen om Emma.")
    assert (await dialog_row(samspil, dialog_id)).state == "awaiting_consent"

    # /start shows the question again, under the home card that says it waits for her (#12).
    mark = mom.phone.mark()
    await cast.say(mom, "/start")
    assert any("Emma\nLæs om dialogen, og giv dit svar om samtykke." in m.text for m in new_bot(mom, mark))
    assert card(mom).version > mark and card(mom).buttons == CARD_BUTTONS
    reply = await cast.tap(mom, "No thanks", expect="nej tak")
    assert reply.text.startswith("Du har sagt nej tak. Dialogen går ikke i gang, og ingen andre kan se noget.")
    assert saw(coord, "Mette (Mor) har sagt nej tak til dialogen om Emma.")
    assert (await dialog_row(samspil, dialog_id)).state == "awaiting_consent"
    assert not saw(teacher, "er nu i gang")

    await cast.say(mom, "/start")
    await cast.consent(mom)
    assert (await dialog_row(samspil, dialog_id)).state == "active"
    assert [c.answer for c in await consents(samspil, dialog_id)] == ["talk_first", "declined", "given"]
    assert len(saw(teacher, OPEN_NOTICE)) == 1


async def test_a_consent_button_tapped_by_someone_else_is_refused(cast: Cast, samspil: App) -> None:
    fam = await invited_family(cast, samspil)
    await cast.join(fam.teacher)
    await cast.join(fam.mom)
    await cast.join(fam.dad)
    mom_yes = card_data(fam.mom)  # exactly what Mette's "Ja" button carries
    before = await snapshot(samspil)

    # Lars replays Mette's button on his own card.
    await fam.dad.phone.tap_data(card(fam.dad).message_id, mom_yes)
    await cast.settle()
    answer = fam.dad.phone.last_answer
    assert answer is not None and answer.show_alert
    assert answer.text == da(samspil, "You are not part of that dialog.")

    # The teacher, who holds a seat but gives no consent, names her own seat.
    teacher_seat = await seat_of(samspil, fam.dialog_id, "Hanne")
    forged = mom_yes.replace(f":{(await seat_of(samspil, fam.dialog_id, 'Mette')).id}",
                             f":{teacher_seat.id}", 1)
    assert forged != mom_yes
    await fam.teacher.phone.tap_data(fam.teacher.phone.bot_messages[-1].message_id, forged)
    await cast.settle()
    answer = fam.teacher.phone.last_answer
    assert answer is not None and answer.show_alert
    assert answer.text == da(samspil, "Only the parents with custody (or the young person) give consent.")

    # A stranger replays it too.
    stranger = cast.person("Ukendt")
    await cast.say(stranger, "/start")
    await stranger.phone.tap_data(stranger.phone.bot_messages[-1].message_id, mom_yes)
    await cast.settle()
    assert stranger.phone.last_answer is not None
    assert stranger.phone.last_answer.text == da(samspil, "You are not part of that dialog.")

    # Mette herself with an answer that does not exist.
    await fam.mom.phone.tap_data(card(fam.mom).message_id, mom_yes.replace(":given:", ":maybe:"))
    await cast.settle()
    assert fam.mom.phone.last_answer is not None
    assert "Den knap virker ikke længere" in (fam.mom.phone.last_answer.text or "")

    assert await snapshot(samspil) == before
    assert (await dialog_row(samspil, fam.dialog_id)).state == "awaiting_consent"
    assert card(fam.mom).buttons == CARD_BUTTONS  # her card still waits for her own answer
    assert not saw(fam.coord, "har givet samtykke")


async def test_an_out_of_date_consent_card_is_shown_again_before_any_answer_counts(
    cast: Cast, samspil: App,
) -> None:
    coord = await new_coordinator(cast)
    dialog_id = await open_dialog(cast, samspil, coord)
    mom = cast.person("Mette")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    old = await cast.join(mom)
    assert "Inviterede:\n• Mette (Mor)\n\n" in old.text

    # The coordinator invites someone while Mette's card is open.
    grandpa = cast.person("Ole")
    await cast.invite(coord, grandpa, "Network", "Morfar")
    before = await snapshot(samspil)
    mark = mom.phone.mark()
    await mom.phone.tap("Ja, jeg giver samtykke", message_id=old.message_id)
    await cast.settle()
    assert mom.phone.last_answer is not None and mom.phone.last_answer.show_alert
    assert mom.phone.last_answer.text == da(samspil, "Something in the dialog has changed since you read it. "
                                            "Please read it again before you answer.")
    assert await snapshot(samspil) == before  # Mette never saw Ole: nothing is recorded
    new = card(mom)
    assert new.version > mark and new.message_id != old.message_id
    assert "Inviterede:\n• Mette (Mor)\n• Ole (Morfar)\n\n" in new.text
    assert new.buttons == CARD_BUTTONS

    await cast.tap(mom, "Yes, I give my consent", expect="Tak.")
    [row] = await consents(samspil, dialog_id)
    assert row.answer == "given" and row.text_shown == new.html
    assert json.loads(row.participants_shown) == ["Mette (Mor)", "Ole (Morfar)"]
    assert (await dialog_row(samspil, dialog_id)).state == "active"


async def test_an_old_consent_card_changes_nothing_once_consent_is_given(cast: Cast, samspil: App) -> None:
    coord = await new_coordinator(cast)
    dialog_id = await open_dialog(cast, samspil, coord)
    mom = cast.person("Mette")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    first = await cast.join(mom)
    await cast.say(mom, "/start")  # the question again: a second card
    assert card(mom).message_id != first.message_id
    await cast.consent(mom)  # on the newest card
    assert (await dialog_row(samspil, dialog_id)).state == "active"
    assert mom.phone.buttons(first.message_id) == CARD_BUTTONS  # the first card is still on screen

    yes, talk, no, _more = (row[0]["callback_data"]  # type: ignore[index]
                            for row in first.reply_markup["inline_keyboard"])
    before = await snapshot(samspil)
    stale = da(samspil, "That button is no longer active. Type /hjaelp to see what you can do.")
    for data, said in ((no, stale), (talk, stale), (yes, "Dit samtykke er allerede gemt.")):
        mark = mom.phone.mark()
        await mom.phone.tap_data(first.message_id, data)
        await cast.settle()
        assert mom.phone.last_answer is not None and mom.phone.last_answer.text == said
        assert all(m.message_id == first.message_id for m in new_bot(mom, mark))  # at most, its buttons go
    assert mom.phone.buttons(first.message_id) == []
    assert await snapshot(samspil) == before
    assert (await dialog_row(samspil, dialog_id)).state == "active"
    assert [c.answer for c in await consents(samspil, dialog_id)] == ["given"]


async def test_a_forwarded_link_shows_the_coordinator_who_opened_it_who_removes_them_in_one_tap(
    cast: Cast, samspil: App, emu,  # type: ignore[no-untyped-def]
) -> None:
    """Issue #10: a personal link admits whoever opens it first. The coordinator sees which
    Telegram account that was, and puts a wrong person out with one tap."""
    fam = await invited_family(cast, samspil)
    await cast.join(fam.mom)
    await cast.consent(fam.mom)
    await cast.join(fam.dad)
    await cast.consent(fam.dad)
    # Hanne's link reaches someone else, who opens it first.
    stranger = Person(emu.phone(4242, "Kim", last_name="Larsen", username="kimmer"), "Kim")
    stranger.token = fam.teacher.token
    mark = fam.coord.phone.mark()
    await cast.join(stranger)
    [notice] = [m for m in new_bot(fam.coord, mark) if "har åbnet invitationen" in m.text]
    assert notice.text == ("Hanne (Klasselærer) har åbnet invitationen til dialogen om Emma.\n"
                           "Telegram-konto: Kim Larsen (@kimmer)\n\n"
                           "Er det ikke den rigtige person? Så fjern personen. Inviter den rigtige med /inviter.")
    assert notice.buttons == [["🚫 Fjern Hanne"]]
    listing = await desk_card(cast, fam.coord, fam.dialog_id)
    assert "✅ Hanne (Klasselærer) – Telegram: Kim Larsen (@kimmer)" in listing.text

    # A parent cannot be put out with one tap: consent rests on that seat.
    mom_seat = await seat_of(samspil, fam.dialog_id, "Mette")
    from handlers.join import RemoveSeatCb
    await fam.coord.phone.tap_data(notice.message_id, RemoveSeatCb(participant_id=mom_seat.id).pack())
    await cast.settle()
    assert "kan ikke fjernes her" in fam.coord.phone.last_answer.text
    # Nor can anyone but the dialog's coordinator remove a seat.
    teacher_seat = await seat_of(samspil, fam.dialog_id, "Hanne")
    await fam.mom.phone.tap_data(fam.mom.phone.bot_messages[-1].message_id,
                                 RemoveSeatCb(participant_id=teacher_seat.id).pack())
    await cast.settle()
    assert fam.mom.phone.last_answer.text == da(samspil, "Only the coordinator can do that.")
    assert (await seat_of(samspil, fam.dialog_id, "Hanne")).removed_at is None

    mom_mark, stranger_mark = fam.mom.phone.mark(), stranger.phone.mark()
    await cast.tap_text(fam.coord, "🚫 Fjern Hanne")
    assert saw(fam.coord, "Hanne (Klasselærer) er fjernet fra dialogen om Emma. Personen har ikke længere adgang.")
    assert last_of(fam.coord, notice.message_id).buttons == []
    assert [m.text for m in new_bot(fam.mom, mom_mark)] == [
        "Hanne (Klasselærer) er taget ud af dialogen om Emma. Det har tovholderen gjort. Personen kan ikke se noget mere."]
    assert [m.text for m in new_bot(stranger, stranger_mark)] == [
        "Tovholderen har taget dig ud af en dialog i Samspil. Du kan ikke se den mere. "
        "Tror du, det er en fejl? Så tal med tovholderen."]
    seat = await seat_of(samspil, fam.dialog_id, "Hanne")
    assert (seat.person_id, seat.joined_at, seat.approval) == (None, None, "refused")
    assert seat.removed_at is not None
    # Kim sees nothing of the dialog any more, and the link is dead.
    reply = await cast.say(stranger, "/oversigt")
    assert "Emma" not in reply.text
    assert (await cast.join(stranger)).text == da(
        samspil, "This invitation has been withdrawn. If you have questions, talk to the coordinator who invited you.")
    listing = await desk_card(cast, fam.coord, fam.dialog_id)
    assert "Hanne" not in listing.text and "Kim" not in listing.text


async def desk_card(cast: Cast, coord: Person, dialog_id: int, child: str = "Emma") -> ChatMessage:
    """The dialog's card on the coordinator's desk (/dialoger, then the dialog's button)."""
    await cast.say(coord, "/dialoger")
    await cast.tap_text(coord, "Alle")
    card = await cast.tap_text(coord, f"{child} (#{dialog_id})")
    assert card is not None
    return card


def last_of(who: Person, message_id: int) -> ChatMessage:
    return next(m for m in who.phone.chat if m.message_id == message_id)
