"""Issue #2, bad input: each gets a clear answer in the person's language and changes nothing
(the database and the person's step stay as they were)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.app import App
from bot.playbook import Cast, Person
from core.clock import FakeClock
from handlers import media
from handlers.coordinator import InviteCb
from tests.helpers import (
    da,
    dialogs,
    fresh_routers,  # noqa: F401
    fsm,
    new_bot,
    new_coordinator,
    open_dialog,
    participants,
    snapshot,
)


def media_answer(app: App) -> str:
    """What the bot answers a photo, sticker or voice message outside any step (in Danish)."""
    with app.i18n.context(), app.i18n.use_locale("da"):
        return media.text_only()


TEXT_ONLY = "Jeg kan kun læse tekst her. Skriv dit svar som en besked."
UNKNOWN_LINK = "Det link kender jeg ikke. Tjek, at du har kopieret hele linket, eller bed din tovholder om et nyt."
NOT_COORDINATOR = "Den kommando er kun for tovholdere. Skriv /hjaelp for at se, hvad du kan gøre."
STALE = "Den knap virker ikke længere. Skriv /hjaelp for at se, hvad du kan gøre her."
CPR = ("Jeg tror, der er et CPR-nummer i din tekst. Samspil gemmer aldrig CPR-numre. "
       "Skriv det igen uden nummeret.")


def too_long(limit: int) -> str:
    return f"Det er for langt. Her kan du højst skrive {limit} tegn. Gør teksten kortere, og send den igen."


async def changes_nothing(cast: Cast, app: App, who: Person, act: Callable[[], Awaitable[object]],
                          answer: str | None) -> None:
    """`act` gets exactly `answer` as the bot's only message (None: no message, e.g. a button's
    alert); nothing is stored and the person's step is unchanged."""
    before, step = await snapshot(app), await fsm(app, who)
    mark = who.phone.mark()
    await act()
    await cast.settle()
    replies = [m.text for m in new_bot(who, mark)]
    assert replies == ([answer] if answer is not None else []), replies
    assert await snapshot(app) == before
    assert await fsm(app, who) == step


async def test_unknown_used_and_expired_links(cast: Cast, samspil: App, clock: FakeClock) -> None:
    coord = await new_coordinator(cast)
    dialog_id = await open_dialog(cast, samspil, coord)
    mom, teacher = cast.person("Mette"), cast.person("Hanne")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.invite(coord, teacher, "Professional", "Klasselærer")
    await cast.join(mom)

    stranger = cast.person("Ukendt")
    for link in ("/start Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFy", "/start bad$link!", "/start " + "A" * 65):
        await changes_nothing(cast, samspil, stranger, lambda link=link: stranger.phone.send(link), UNKNOWN_LINK)
    assert await fsm(samspil, stranger) == (None, None)

    # In the middle of a step, a bad link leaves the step as it was.
    await cast.say(coord, "/ny", expect="Hvad er barnets fornavn?")
    assert (await fsm(samspil, coord))[0] == "NewDialog:child_name"
    await changes_nothing(cast, samspil, coord, lambda: coord.phone.send("/start nOtAtOkEn_nOtAtOkEn_nOtAtOkEn"),
                          UNKNOWN_LINK)
    await cast.say(coord, "Noah", expect="Hvor gammel er Noah?")

    # Mette's link, used, opened by someone else.
    assert mom.token is not None
    await changes_nothing(cast, samspil, stranger, lambda: stranger.phone.send(f"/start {mom.token}"),
                          "Det link er allerede brugt. Bed din tovholder om et nyt, hvis du har brug for det.")

    # Hanne's link, INVITE_TTL_DAYS later.
    clock.advance(days=15)
    await changes_nothing(cast, samspil, teacher, lambda: teacher.phone.send(f"/start {teacher.token}"),
                          "Det link er udløbet. Bed din tovholder om et nyt.")
    seats = {p.name: p for p in await participants(samspil, dialog_id)}
    assert seats["Hanne"].person_id is None and seats["Mette"].person_id is not None


async def test_a_photo_sticker_or_voice_where_text_is_expected(cast: Cast, samspil: App) -> None:
    coord = await new_coordinator(cast)
    phone = coord.phone

    await cast.say(coord, "/ny")
    for send in (phone.send_photo, phone.send_sticker, phone.send_voice):
        await changes_nothing(cast, samspil, coord, send, TEXT_ONLY)
    assert (await fsm(samspil, coord))[0] == "NewDialog:child_name"
    await cast.say(coord, "Emma")
    await cast.tap(coord, "Child (0-14 years)")
    await changes_nothing(cast, samspil, coord, lambda: phone.send_photo(caption="Formålet"), TEXT_ONLY)
    await changes_nothing(cast, samspil, coord, phone.send_voice, TEXT_ONLY)
    assert (await fsm(samspil, coord))[0] == "NewDialog:purpose"
    await cast.say(coord, "Trivsel i skolen.", expect="Tjek dialogen")
    await cast.tap(coord, "✅ Open the dialog")

    await cast.say(coord, "/inviter")
    await changes_nothing(cast, samspil, coord, phone.send_sticker, TEXT_ONLY)
    await cast.say(coord, "Mette")
    await cast.tap(coord, "Parent with custody")
    await changes_nothing(cast, samspil, coord, phone.send_voice, TEXT_ONLY)
    await changes_nothing(cast, samspil, coord, phone.send_photo, TEXT_ONLY)
    assert (await fsm(samspil, coord))[0] == "Invite:relation"
    await cast.say(coord, "Mor", expect="https://t.me/")

    # Outside any step, media gets the general answer: what the bot can take (handlers/media.py).
    await changes_nothing(cast, samspil, coord, phone.send_sticker, media_answer(samspil))


async def test_over_long_texts_and_cpr_numbers_are_refused(cast: Cast, samspil: App) -> None:
    coord = await new_coordinator(cast)
    say = coord.phone.send

    await cast.say(coord, "/ny")
    await changes_nothing(cast, samspil, coord, lambda: say("E" * 61), too_long(60))
    await changes_nothing(cast, samspil, coord, lambda: say("Emma 010203-1234"), CPR)
    await changes_nothing(cast, samspil, coord, lambda: say("Emma 0102031234"), CPR)
    await cast.say(coord, "E" * 60, expect="Hvor gammel er")  # exactly the limit is fine
    await cast.tap(coord, "Child (0-14 years)")
    await changes_nothing(cast, samspil, coord, lambda: say("x" * 2001), too_long(2000))
    await changes_nothing(cast, samspil, coord,
                          lambda: say("Emmas CPR er 311299-1234, og hun har det svært."), CPR)
    await cast.say(coord, "Trivsel.", expect="Tjek dialogen")
    await cast.tap(coord, "✅ Open the dialog")

    await cast.say(coord, "/inviter")
    await changes_nothing(cast, samspil, coord, lambda: say("M" * 81), too_long(80))
    await changes_nothing(cast, samspil, coord, lambda: say("Mette 010203 1234"), CPR)
    await cast.say(coord, "Mette")
    await cast.tap(coord, "Parent with custody")
    await changes_nothing(cast, samspil, coord, lambda: say("R" * 61), too_long(60))
    await changes_nothing(cast, samspil, coord, lambda: say("Mor, cpr 240588-1234"), CPR)
    await cast.say(coord, "Mor", expect="https://t.me/")

    [dialog] = await dialogs(samspil)
    assert (dialog.child_name, dialog.purpose) == ("E" * 60, "Trivsel.")
    assert [(p.name, p.relation) for p in await participants(samspil, dialog.id)][1:] == [("Mette", "Mor")]


async def test_html_characters_are_shown_literally(cast: Cast, samspil: App) -> None:
    coord = await new_coordinator(cast)
    child = "Ali <b>&"
    purpose = 'Mål: 3 < 5 && 7 > 2, "<i>ikke kursiv</i>" &amp; <a href="x">link</a>'
    await cast.say(coord, "/ny")
    step2 = await cast.say(coord, child, expect="Hvor gammel er")
    assert step2.text.endswith("Hvor gammel er Ali <b>&?")
    await cast.tap(coord, "Child (0-14 years)")
    summary = await cast.say(coord, purpose, expect="Tjek dialogen")
    assert "Barn: Ali <b>&\n" in summary.text
    assert summary.text.endswith("Formål:\n" + purpose)
    # Only the labels are bold: nothing the coordinator typed became formatting.
    assert summary.entity_texts() == [("bold", "Tjek dialogen"), ("bold", "Barn:"),
                                      ("bold", "Aldersgruppe:"), ("bold", "Formål:")]
    await cast.tap(coord, "✅ Open the dialog", expect="Dialogen om Ali <b>& er oprettet")
    [dialog] = await dialogs(samspil)
    assert (dialog.child_name, dialog.purpose) == (child, purpose)

    mom = cast.person("Mette")
    await cast.say(coord, "/inviter")
    await cast.say(coord, "Mette <Hansen> & co")
    await cast.tap(coord, "Parent with custody")
    reply = await cast.say(coord, "Mor & <3", expect="https://t.me/")
    assert "✅ Mette <Hansen> & co (Mor & <3) er inviteret til dialogen om Ali <b>&." in reply.text
    mom.token = reply.text.rsplit("start=", 1)[1].strip()
    card = await cast.join(mom)
    assert "Hej Mette <Hansen> & co\n" in card.text
    assert f"Det handler det om (23. november 2026):\n{purpose}\n" in card.text
    assert "• Mette <Hansen> & co (Mor & <3)" in card.text
    listed = await cast.say(coord, "/dialoger")
    assert "Ali <b>& (#1)" in listed.text  # one line per dialog, shown as typed
    card = await cast.tap_text(coord, "Ali <b>& (#1)")  # the dialog's card on the desk
    assert "Ali <b>& (barn (0-14 år))" in card.text and "⏳ Mette <Hansen> & co (Mor & <3)" not in card.text
    assert "✅ Mette <Hansen> & co (Mor & <3)" in card.text


async def test_buttons_from_old_messages_are_refused(cast: Cast, samspil: App) -> None:
    coord = await new_coordinator(cast)
    await cast.say(coord, "/ny")
    first = await cast.say(coord, "Emma", expect="Hvor gammel er Emma?")
    # Typing instead of tapping gets the buttons once more; the first keyboard stays on screen.
    again = await cast.say(coord, "hun er 9", expect="Vælg med en af knapperne ovenfor.")
    assert again.buttons == first.buttons
    await coord.phone.tap("Barn (0-14 år)", message_id=again.message_id)
    await cast.settle()
    await cast.say(coord, "Trivsel i skolen.", expect="Tjek dialogen")
    await cast.tap(coord, "✅ Open the dialog", expect="Dialogen om Emma er oprettet")

    # The first age-group keyboard, after the dialog was created.
    await changes_nothing(cast, samspil, coord,
                          lambda: coord.phone.tap("Ung (15-30 år)", message_id=first.message_id), None)
    answer = coord.phone.last_answer
    assert answer is not None and answer.show_alert and answer.text == STALE
    [dialog] = await dialogs(samspil)
    assert dialog.age_group == "barn"

    # A confirm button after cancel: nothing is created.
    await cast.say(coord, "/ny")
    await cast.say(coord, "Noah")
    await cast.tap(coord, "Young person (15-30 years)")
    summary = await cast.say(coord, "Fritid.", expect="Tjek dialogen")
    create = summary.reply_markup["inline_keyboard"][0][0]["callback_data"]  # type: ignore[index]
    await cast.tap(coord, "Cancel", expect="Annulleret")
    await changes_nothing(cast, samspil, coord, lambda: coord.phone.tap_data(summary.message_id, create), None)
    assert coord.phone.last_answer is not None and coord.phone.last_answer.text == STALE
    assert [d.child_name for d in await dialogs(samspil)] == ["Emma"]


async def test_coordinator_commands_from_someone_who_is_not_a_coordinator(
    cast: Cast, samspil: App,
) -> None:
    coord = await new_coordinator(cast)
    await open_dialog(cast, samspil, coord)
    mom = cast.person("Mette")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.join(mom)
    teacher = cast.person("Hanne")
    await cast.register(teacher, role="professional", title="Klasselærer")
    stranger = cast.person("Ukendt")

    for who in (mom, teacher, stranger):
        for command in ("/ny", "/inviter", "/dialoger"):
            await changes_nothing(cast, samspil, who, lambda c=command, w=who: w.phone.send(c), NOT_COORDINATOR)
        assert (await fsm(samspil, who))[0] is None


async def test_a_command_in_the_middle_of_a_step(cast: Cast, samspil: App) -> None:
    coord = await new_coordinator(cast)
    await cast.say(coord, "/ny")
    step = await fsm(samspil, coord)
    help_ = await cast.say(coord, "/hjaelp", expect="Det kan du gøre her")
    assert "/ny – Opret en ny dialog" in help_.text
    assert await fsm(samspil, coord) == step
    await cast.say(coord, "Emma", expect="Hvor gammel er Emma?")  # the step continues
    await cast.tap(coord, "Child (0-14 years)")

    await changes_nothing(cast, samspil, coord, lambda: coord.phone.send("/foo"),
                          da(samspil, "I don't know that command. Tap the button to see what is next for you, "
                                      "or type /hjaelp."))
    assert (await fsm(samspil, coord))[0] == "NewDialog:purpose"
    await cast.say(coord, "Trivsel.", expect="Tjek dialogen")
    await changes_nothing(cast, samspil, coord, lambda: coord.phone.send("ja tak"),
                          "Vælg med en af knapperne ovenfor.")
    await cast.tap(coord, "✅ Open the dialog", expect="Dialogen om Emma er oprettet")

    # /annuller in the middle of /inviter stops it; nothing is stored.
    await cast.say(coord, "/inviter")
    await cast.say(coord, "Mette")
    before = await snapshot(samspil)
    reply = await cast.say(coord, "/annuller")
    assert reply.text == ("Så er det stoppet. Det, du skrev, er gemt. Tryk på knappen for at se, hvad du skal nu. "
                          "Eller skriv /hjaelp.")
    assert reply.buttons == [["➡️ Mit næste skridt"]]
    assert await snapshot(samspil) == before
    assert (await fsm(samspil, coord))[0] is None


async def test_forged_invite_buttons_are_refused(cast: Cast, samspil: App) -> None:
    camilla = await new_coordinator(cast)
    emma = await open_dialog(cast, samspil, camilla)
    bo = await new_coordinator(cast, "Bo Tovholder")
    await open_dialog(cast, samspil, bo, "Noah", "ung", "Noahs trivsel.")
    mom = cast.person("Mette")
    await cast.invite(camilla, mom, "Parent with custody", "Mor")
    await cast.join(mom)

    # Another coordinator, and a parent, name Camilla's dialog in a button.
    forged = InviteCb(action="dialog", value=str(emma)).pack()
    # Bo has no seat in it; Mette has one, but only the coordinator invites (rules/access.py).
    for who, refusal in ((bo, "You are not part of that dialog."), (mom, "Only the coordinator can do that.")):
        await changes_nothing(cast, samspil, who,
                              lambda w=who: w.phone.tap_data(w.phone.bot_messages[-1].message_id, forged), None)
        assert who.phone.last_answer is not None and who.phone.last_answer.show_alert
        assert who.phone.last_answer.text == da(samspil, refusal)

    # A role that cannot be picked.
    await cast.say(bo, "/inviter")
    roles = await cast.say(bo, "Sara", expect="Hvilken rolle har Sara i dialogen?")
    await changes_nothing(cast, samspil, bo, lambda: bo.phone.tap_data(
        roles.message_id, InviteCb(action="role", value="coordinator").pack()), None)
    assert bo.phone.last_answer is not None and bo.phone.last_answer.text == STALE
    assert (await fsm(samspil, bo))[0] == "Invite:role"
    assert [p.name for p in await participants(samspil, emma)] == ["Camilla Tovholder", "Mette"]


@pytest.fixture(autouse=True)
def _sql_fsm_only(database) -> None:  # type: ignore[no-untyped-def]
    """These tests read each person's step from the SQL FSM table to prove it did not move."""
    if database.redis_url:
        pytest.skip("reads the SQL FSM table; with Redis the step lives in Redis")
