"""Issue #2, Danish first: a person's language (Telegram's, Danish when unknown, `/sprog`),
the command menus per language and role, dates in the person's locale, `/start` and `/hjaelp`."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from bot.playbook import Cast, Person
from emulator import BotAPIEmulator
from storage.models import Consent
from storage.models import Person as PersonRow
from tests.helpers import (
    fresh_routers,  # noqa: F401
    new_bot,
    new_coordinator,
    open_dialog,
)

GREETING_DA = "Hej! Jeg er Samspil."
GREETING_EN = "Hi! I am Samspil."
PARTICIPANT_COMMANDS = ["start", "input", "skala", "vurdering", "oversigt", "hjaelp", "sprog"]
COORDINATOR_COMMANDS = ["ny", "inviter", "dialoger"]


def phone_person(emu: BotAPIEmulator, user_id: int, name: str, language_code: str | None) -> Person:
    return Person(emu.phone(user_id, name, language_code=language_code), name)


async def stored_locale(app: App, who: Person) -> str | None:
    async with app.sessionmaker() as s:
        row = await s.scalar(select(PersonRow).where(PersonRow.telegram_id == who.phone.user_id))
    return row.locale if row else None


def menu(emu: BotAPIEmulator, scope: dict | None = None, language_code: str = "") -> dict[str, str]:  # type: ignore[type-arg]
    return {c["command"]: c["description"] for c in emu.commands_for(scope, language_code)}


async def test_language_comes_from_telegram_and_is_danish_when_unknown(
    cast: Cast, emu: BotAPIEmulator,
) -> None:
    for uid, code in ((2001, "da"), (2002, "de"), (2003, None), (2004, "pl")):
        who = phone_person(emu, uid, "Kim", code)
        reply = await cast.say(who, "/start")
        assert reply.text.startswith(GREETING_DA), (code, reply.text)
        # What Samspil is, and how to get in.
        assert "sammen om, at barnet trives" in reply.text
        assert "Du kommer ind med et personligt link fra din tovholder i kommunen." in reply.text
    for uid, code in ((2011, "en"), (2012, "en-GB")):
        who = phone_person(emu, uid, "Kim", code)
        reply = await cast.say(who, "/start")
        assert reply.text.startswith(GREETING_EN), (code, reply.text)
        assert "personal invitation link from your coordinator" in reply.text


async def test_sprog_changes_the_language_and_it_is_remembered(cast: Cast, samspil: App) -> None:
    kim = cast.person("Kim")  # Telegram in Danish
    reply = await cast.say(kim, "/sprog", expect="Vælg dit sprog:")
    assert reply.buttons == [["Dansk", "English"]]
    reply = await cast.tap_text(kim, "English", expect="English")
    assert reply is not None and reply.text == "I will write to you in English from now on."
    assert await stored_locale(samspil, kim) == "en"
    # Remembered across messages.
    assert (await cast.say(kim, "/start")).text.startswith(GREETING_EN)
    assert "personal invitation link" in (await cast.say(kim, "/hjaelp")).text
    assert (await cast.say(kim, "/foo")).text == ("I don't know that command. Tap the button to see what is next "
                                                  "for you, or type /hjaelp.")

    await cast.say(kim, "/sprog")
    reply = await cast.tap_text(kim, "Dansk", expect="dansk")
    assert reply is not None and reply.text == "Jeg skriver til dig på dansk fra nu af."
    assert (await cast.say(kim, "/start")).text.startswith(GREETING_DA)
    assert await stored_locale(samspil, kim) == "da"

    # A chosen language wins over Telegram's.
    ann = cast.person("Ann", locale="en")
    assert (await cast.say(ann, "/start")).text.startswith(GREETING_EN)
    await cast.say(ann, "/sprog", expect="Choose your language:")
    await cast.tap_text(ann, "Dansk")
    assert (await cast.say(ann, "/start")).text.startswith(GREETING_DA)


async def test_command_menus_per_language_and_role(cast: Cast, samspil: App, emu: BotAPIEmulator) -> None:
    # (Later issues add commands: these must be there, the coordinator's must not.)
    default_da = menu(emu)
    assert set(PARTICIPANT_COMMANDS) <= set(default_da)
    assert not set(COORDINATOR_COMMANDS) & set(default_da)
    assert default_da["start"] == "Start og overblik" and default_da["hjaelp"] == "Hvad kan jeg her?"
    default_en = menu(emu, language_code="en")
    assert list(default_en) == list(default_da)
    assert default_en["start"] == "Start and overview" and default_en["hjaelp"] == "What can I do here?"

    coord = await new_coordinator(cast)
    chat = {"type": "chat", "chat_id": coord.phone.user_id}
    mine = menu(emu, chat)
    assert set(default_da) | set(COORDINATOR_COMMANDS) <= set(mine)
    assert (mine["ny"], mine["inviter"], mine["dialoger"]) == (
        "Opret en ny dialog", "Inviter en deltager", "Dine dialoger")

    # The coordinator's menu follows the language they choose.
    await cast.say(coord, "/sprog")
    await cast.tap_text(coord, "English")
    coord.locale = "en"  # the script taps buttons by their English labels from now on
    mine = menu(emu, chat)
    assert (mine["ny"], mine["start"]) == ("Open a new dialog", "Start and overview")
    assert (await cast.say(coord, "/ny")).text.startswith("New dialog (step 1 of 3)")

    # A parent has no menu of their own: the default one, without coordinator commands.
    await cast.say(coord, "/annuller")
    await open_dialog_en(cast, coord)
    mom = cast.person("Mette")
    await cast.invite(coord, mom, "Parent with custody", "Mother")
    await cast.join(mom)
    assert menu(emu, {"type": "chat", "chat_id": mom.phone.user_id}) == {}


async def open_dialog_en(cast: Cast, coord: Person) -> None:
    await cast.say(coord, "/ny")
    await cast.say(coord, "Emma")
    await cast.tap(coord, "Child (0-14 years)")
    await cast.say(coord, "Emma's wellbeing at school.")
    await cast.tap(coord, "✅ Open the dialog")


async def test_start_and_help_say_what_this_person_can_do(cast: Cast, samspil: App) -> None:
    stranger = cast.person("Kim")
    help_ = await cast.say(stranger, "/hjaelp")
    assert help_.text.startswith("I Samspil arbejder familien og de voksne")
    assert "/ny" not in help_.text

    coord = await new_coordinator(cast)
    help_ = await cast.say(coord, "/hjaelp", expect="Det kan du gøre her")
    for line in ("/ny – Opret en ny dialog", "/inviter – Inviter en deltager", "/dialoger – Dine dialoger",
                 "/input – Skriv dit input", "/sprog – Sprog / language", "/annuller – stop det"):
        assert line in help_.text
    home = await cast.say(coord, "/start")
    assert home.text.startswith("Hej Camilla Tovholder.")

    await open_dialog(cast, samspil, coord)
    mom = cast.person("Mette")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.join(mom)
    help_ = await cast.say(mom, "/hjaelp", expect="Det kan du gøre her")
    assert "/input – Skriv dit input" in help_.text and "/skala" in help_.text
    for command in ("/ny", "/inviter", "/dialoger"):
        assert command not in help_.text
    mark = mom.phone.mark()
    await cast.say(mom, "/start")
    texts = [m.text for m in new_bot(mom, mark)]
    # Her home card (#12) says what waits for her, and the consent card follows.
    assert any(t.startswith("Hej Mette.\n\nEmma\nLæs om dialogen, og giv dit svar om samtykke.") for t in texts)


async def test_dates_are_written_in_the_persons_locale(cast: Cast, samspil: App) -> None:
    camilla = await new_coordinator(cast)
    await open_dialog(cast, samspil, camilla)
    mom = cast.person("Mette")
    await cast.invite(camilla, mom, "Parent with custody", "Mor")
    assert saw_text(camilla, "udløber den 7. december 2026:")
    card = await cast.join(mom)
    assert "(23. november 2026)" in card.text
    reply = await cast.tap(mom, "Yes, I give my consent", expect="Tak.")
    assert "Dit samtykke er gemt 23. november 2026 kl. 10.00." in reply.text  # Copenhagen time

    john = await new_coordinator(cast, "John Coordinator", locale="en")
    await open_dialog_en(cast, john)
    dad = cast.person("Lars", locale="en")
    await cast.invite(john, dad, "Parent with custody", "Father")
    assert saw_text(john, "It can be used once and expires on December 7, 2026:")
    card = await cast.join(dad)
    assert "(November 23, 2026)" in card.text
    reply = await cast.tap(dad, "Yes, I give my consent", expect="Thank you.")
    assert "Your consent was recorded November 23, 2026 at 10:00" in reply.text
    async with samspil.sessionmaker() as s:
        locales = [c.locale for c in await s.scalars(select(Consent).order_by(Consent.id))]
    assert locales == ["da", "en"]


def saw_text(who: Person, fragment: str) -> bool:
    return any(fragment in m.text for m in who.phone.bot_messages)
