"""Issue #6, closing a dialog: /luk (the coordinator picks the dialog, gives a reason, confirms);
everyone is told it is closed and that the data is kept for the retention period; nobody sees
its content afterwards; the coordinator still sees it in /dialoger, as closed.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.playbook import Cast
from core import texts
from core.clock import FakeClock
from handlers.privacy import CloseCb
from rules.access import Refusal
from storage.models import Dialog, OutboxMessage, Score
from storage.models import Person as PersonRow
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    Family,
    fresh_routers,
    in_danish,
    last_bot,
    new_bot,
    open_family,
    refusal,
    second_dialog,
)
from tests.helpers_dialog import (
    snapshot_of_content as snapshot,
)

REASON = "Målene er nået, og familien klarer sig godt nu."
TEACHER_WORRY = "Emma sidder alene i frikvartererne."


@pytest.fixture
async def fam(cast: Cast, samspil: App) -> Family:
    return await open_family(cast, samspil)


async def dialog_row(app: App, dialog_id: int) -> Dialog:
    async with app.sessionmaker() as s:
        return await s.get(Dialog, dialog_id)


async def test_luk_closes_tells_everyone_and_nobody_sees_the_content(
    fam: Family, cast: Cast, samspil: App, clock: FakeClock,
) -> None:
    coord, mom, dad, teacher = fam.coord, fam.mom, fam.dad, fam.teacher
    await cast.write_input(teacher, "Sundhedsforhold", worries=TEACHER_WORRY, works=None, next_steps=None)
    await cast.share_input(teacher)
    await cast.scale(teacher, 9)
    overview = await cast.say(teacher, "/oversigt")

    # Only the coordinator closes; a forged button from someone else changes nothing.
    reply = await cast.say(teacher, "/luk")
    assert reply.text == "Den kommando er kun for tovholdere. Skriv /hjaelp for at se, hvad du kan gøre."
    before = await snapshot(samspil)
    await mom.phone.tap_data(last_bot(mom).message_id, CloseCb(action="yes", dialog_id=fam.dialog_id).pack())
    await cast.settle()
    assert mom.phone.last_answer is not None and mom.phone.last_answer.show_alert
    assert mom.phone.last_answer.text == refusal(fam, Refusal.NOT_COORDINATOR)
    assert await snapshot(samspil) == before

    # One dialog: straight to the reason. Bad answers change nothing.
    ask = await cast.say(coord, "/luk")
    assert ask.text.startswith("Luk dialogen om Emma\n\nHvorfor bliver dialogen lukket?")
    assert "Deltagerne får begrundelsen at vide." in ask.text
    await coord.phone.send_photo()
    await cast.settle()
    assert last_bot(coord).text == in_danish(samspil, texts.text_expected)
    reply = await cast.say(coord, "Lukkes, se CPR 010203-1234")
    assert reply.text == in_danish(samspil, texts.cpr_refused)
    confirm = await cast.say(coord, REASON)
    assert confirm.text.startswith("Vil du lukke dialogen om Emma?\n\nBegrundelse: " + REASON)
    assert "Oplysningerne bliver gemt i 5 år, som loven kræver, og derefter slettet." in confirm.text
    assert confirm.buttons == [["Ja, luk dialogen"], ["Annuller"]]
    assert await snapshot(samspil) == before
    assert (await dialog_row(samspil, fam.dialog_id)).state == "active"

    clock.advance(minutes=30)
    marks = {who.name: who.phone.mark() for who in (mom, dad, teacher)}
    reply = await cast.tap(coord, "Yes, close the dialog", expect="lukket")
    assert reply.text == ("Dialogen om Emma er lukket, og alle i den har fået besked. "
                          "Du kan stadig se den under /dialoger.")
    dialog = await dialog_row(samspil, fam.dialog_id)
    assert dialog.state == "closed" and dialog.closed_at == clock.now() and dialog.close_reason == REASON

    for who in (mom, dad, teacher):
        told = [m.text for m in new_bot(who, marks[who.name])]
        assert told == [
            "🔒 Tovholderen har lukket dialogen om Emma\n\n"
            f"Hvorfor: {REASON}\n\n"
            "Nu kan ingen se eller skrive noget i den. Loven siger, at vi skal gemme det i 5 år. "
            "Så bliver det slettet."], who.name

    # Afterwards nobody sees the content: commands, old buttons, the coordinator too.
    closed = refusal(fam, Refusal.CLOSED)
    for who in (teacher, mom, coord):
        for command in ("/input", "/oversigt", "/skala", "/vurdering", "/plan"):
            mark = who.phone.mark()
            await cast.say(who, command)
            assert [m.text for m in new_bot(who, mark)] == [closed], (who.name, command)
    mark = teacher.phone.mark()
    await teacher.phone.tap(overview.buttons[0][0], message_id=overview.message_id)
    await cast.settle()
    assert teacher.phone.last_answer is not None and teacher.phone.last_answer.text == closed
    assert new_bot(teacher, mark) == []
    assert (await cast.say(mom, "/samtykke")).text == closed

    # A notice about the closed dialog that falls due is skipped.
    async with samspil.sessionmaker() as s, s.begin():
        score_id = await s.scalar(select(Score.id).limit(1))
        coordinator = await s.scalar(select(PersonRow).where(PersonRow.telegram_id == coord.phone.user_id))
        await samspil.notices.add(s, to=coordinator, kind="high_score", key="test:high:closed",
                                  payload={"score_id": score_id}, dialog_id=fam.dialog_id)
    mark = coord.phone.mark()
    await samspil.scheduler.drain()
    assert new_bot(coord, mark) == []
    async with samspil.sessionmaker() as s:
        row = await s.scalar(select(OutboxMessage).where(OutboxMessage.key == "test:high:closed"))
        assert row.status == "skipped"

    # The coordinator still sees it in /dialoger, as closed; nothing is left to close or invite to.
    listing = await cast.say(coord, "/dialoger")
    assert "🔒 Emma (#1) – Lukket 23.11.2026" in listing.text
    card = await cast.tap_text(coord, "Emma (#1)")
    assert f"Lukket 23. november 2026 kl. 10.30: {REASON}" in card.text
    assert (await cast.say(coord, "/luk")).text == "Du har ingen åbne dialoger at lukke."
    assert (await cast.say(coord, "/inviter")).text.startswith("Du har ingen åbne dialoger.")
    # An old confirmation tapped again: already closed, nothing changes.
    before = await snapshot(samspil)
    await coord.phone.tap_data(confirm.message_id, CloseCb(action="yes", dialog_id=fam.dialog_id).pack())
    await cast.settle()
    assert coord.phone.last_answer is not None and coord.phone.last_answer.text == closed
    assert await snapshot(samspil) == before


async def test_with_several_dialogs_the_coordinator_picks_one_and_can_cancel(
    fam: Family, cast: Cast, samspil: App,
) -> None:
    coord = fam.coord
    oscar = await second_dialog(fam, "Oscar", cast.person("Sofie"))
    ask = await cast.say(coord, "/luk")
    assert ask.text == "Hvilken dialog vil du lukke?"
    assert ask.buttons == [[f"Emma (#{fam.dialog_id})"], [f"Oscar (#{oscar})"]]
    reply = await cast.say(coord, "Oscar")
    assert reply.text == "Vælg med en af knapperne ovenfor."
    await cast.tap_text(coord, f"Oscar (#{oscar})", expect="Luk dialogen om Oscar")
    await cast.say(coord, "Familien er flyttet.")
    before = await snapshot(samspil)
    reply = await cast.tap(coord, "Cancel", expect="Annulleret")
    assert reply.text == "Annulleret. Dialogen er stadig åben."
    assert await snapshot(samspil) == before
    assert (await dialog_row(samspil, oscar)).state == "active"

    # The Emma dialog can be closed while the Oscar one goes on.
    await cast.say(coord, "/luk")
    await cast.tap_text(coord, f"Emma (#{fam.dialog_id})")
    await cast.say(coord, REASON)
    await cast.tap(coord, "Yes, close the dialog", expect="lukket")
    assert (await dialog_row(samspil, fam.dialog_id)).state == "closed"
    assert (await dialog_row(samspil, oscar)).state == "active"
    # The teacher, in both: Oscar's content is still there for her, Emma's is not.
    reply = await cast.say(fam.teacher, "/oversigt")
    assert "Samlet oversigt – Oscar" in reply.text
