"""Nothing typed is thrown away (#12): text sent outside any step is kept, and the person
chooses: keep it as input (a draft in an area and box), send it to the coordinator, or delete it."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import FsmRecord, InputEntry, OutboxMessage
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    entries,
    fresh_routers,
    last_bot,
    new_bot,
    open_family,
    second_dialog,
)

QUESTION = "Jeg har gemt det, du skrev. Hvad skal jeg gøre med det?"
BUTTONS = [["📝 Gem det som mit input"], ["✉️ Send det til tovholderen"], ["🗑 Nej, slet det"]]


async def test_text_typed_outside_a_step_becomes_a_draft_in_the_box_she_chooses(cast, samspil) -> None:
    fam = await open_family(cast, samspil)
    mom = fam.mom
    reply = await cast.say(mom, "Emma sover dårligt igen.")
    assert (reply.text, reply.buttons) == (QUESTION, BUTTONS)
    # More text while the question is open is added to what was kept.
    reply = await cast.say(mom, "Hun vågner kl. 4.")
    assert reply.text == QUESTION
    question = reply.message_id
    await cast.tap_text(mom, "📝 Gem det som mit input")
    areas = next(m for m in mom.phone.chat if m.message_id == question)
    assert areas.text == "Hvilket område handler det om?"  # the question turns into the next one
    await cast.tap_text(mom, "Sundhedsforhold")
    boxes = next(m for m in mom.phone.chat if m.message_id == question)
    assert boxes.text == "Sundhedsforhold: Hvor skal det stå?"
    assert boxes.buttons == [["Bekymringer"], ["Det der fungerer"], ["Hvad skal ske?"]]
    await cast.tap_text(mom, "Bekymringer")
    done = next(m for m in mom.phone.chat if m.message_id == question)
    assert done.text == ("✓ Gemt i din kladde: Sundhedsforhold, Bekymringer. Kun du kan se det, indtil du deler det."
                         "\n\nNæste skridt: Du har skrevet input, som kun du kan se. Del det, når du er klar.")
    assert done.buttons == [["📤 Se og del dit input"]]  # her next step (#12), not "type /input"
    [entry] = await entries(fam, mom)
    assert (entry.area, entry.worries, entry.shared_at) == ("health", "Emma sover dårligt igen.\n\nHun vågner kl. 4.",
                                                            None)
    assert await fsm_states(samspil) == []  # the question is closed
    # An old button of the used question changes nothing.
    await mom.phone.tap_data(question, f"loose:box:{fam.dialog_id}:health:worries")
    await cast.settle()
    assert len(await entries(fam, mom)) == 1


async def test_text_sent_to_the_coordinator_reaches_them_as_a_notice(cast, samspil) -> None:
    fam = await open_family(cast, samspil)
    mark = fam.coord.phone.mark()
    await cast.say(fam.dad, "Kan vi mødes før jul?")
    reply = await cast.tap_text(fam.dad, "✉️ Send det til tovholderen")
    assert reply.text == "✓ Sendt til tovholderen, Camilla Tovholder. Du hører fra tovholderen."
    [notice] = [m.text for m in new_bot(fam.coord, mark)]
    assert notice == "✉️ Besked fra Lars (Far) om Emma:\n\nKan vi mødes før jul?"
    async with samspil.sessionmaker() as s:
        row = await s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "family_message"))
        assert row.status == "sent" and row.body is None  # the text is not kept once delivered
    assert await fsm_states(samspil) == []


async def test_delete_keeps_nothing_and_text_without_a_dialog_gets_the_plain_answer(cast, samspil) -> None:
    fam = await open_family(cast, samspil)
    await cast.say(fam.teacher, "Tester bare.")
    reply = await cast.tap_text(fam.teacher, "🗑 Nej, slet det")
    assert reply.text == "Slettet. Intet er gemt."
    async with samspil.sessionmaker() as s:
        assert list(await s.scalars(select(InputEntry))) == []
    stranger = cast.person("Ukendt")
    reply = await cast.say(stranger, "Hej?")
    assert reply.text == ("Jeg er ikke sikker på, hvad du mener. Tryk på knappen for at se, hvad du skal nu. "
                          "Eller skriv /hjaelp.")
    assert reply.buttons == [["➡️ Mit næste skridt"]]


async def test_a_cpr_number_is_refused_and_not_kept(cast, samspil) -> None:
    fam = await open_family(cast, samspil)
    reply = await cast.say(fam.mom, "Emmas cpr er 120315-1234")
    assert "CPR" in reply.text and reply.buttons == []
    assert await fsm_states(samspil) == []  # nothing kept


async def fsm_states(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Conversation steps stored in the database (the SQL variant; Redis keeps its own)."""
    async with app.sessionmaker() as s:
        return [r.state for r in await s.scalars(select(FsmRecord)) if r.state]
