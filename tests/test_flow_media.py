"""A photo, a voice message, a sticker… get a plain answer of what the bot can take (issue #12).

Nothing of it is stored; in the middle of a box the step stays where it was and the answer
says the draft is safe.
"""

from __future__ import annotations

import pytest

from handlers import media
from tests.helpers import fsm
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    entries,
    fresh_routers,
    in_danish,
    new_bot,
    open_family,
    snapshot_of_content,
)

STEP2 = "Familieforhold · trin 2 af 3"


@pytest.fixture
async def fam(cast, samspil):
    return await open_family(cast, samspil)


async def _send(cast, who, send) -> list:  # type: ignore[no-untyped-def]
    mark = who.phone.mark()
    await send()
    await cast.settle()
    return new_bot(who, mark)


async def test_a_photo_in_the_middle_of_box_2_and_a_voice_message_outside_any_step(fam, cast, samspil):
    mom = fam.mom
    await cast.say(mom, "/input")
    await cast.tap_text(mom, "Familieforhold")
    await cast.say(mom, "Emma sover dårligt.")
    box2 = await cast.tap(mom, "Next ➡️", expect=STEP2)
    await cast.say(mom, "Hun elsker at tegne.")
    step = await fsm(samspil, mom)
    before = await snapshot_of_content(samspil)

    # By mistake, a photo of her drawing, with a few words under it.
    [reply] = await _send(cast, mom, lambda: mom.phone.send_photo(caption="Se hvad hun har tegnet"))
    assert reply.text == (
        "Jeg kan kun gemme tekst i dit input. Skriv det i en besked. "
        "Det, du har skrevet indtil nu, er gemt i din kladde.\n\n"
        "Teksten, du sendte med, er heller ikke gemt. Send den som en besked for sig.")
    assert not reply.buttons
    # Nothing stored, the step unchanged, the prompt's buttons still live.
    assert await snapshot_of_content(samspil) == before
    assert await fsm(samspil, mom) == step
    assert mom.phone.buttons(box2.message_id) == [["Næste ➡️"], ["Se kladden"]]
    # She writes it instead: it goes into box 2, acknowledged on the prompt.
    ack = await cast.say(mom, "Se hvad hun har tegnet: en hest.")
    assert ack.message_id == box2.message_id or STEP2 in ack.text
    [draft] = await entries(fam, mom)
    assert draft.works == "Hun elsker at tegne.\n\nSe hvad hun har tegnet: en hest."

    # Later, outside any step, a voice message.
    await cast.tap(mom, "See the draft")
    assert (await fsm(samspil, mom))[0] is None
    before = await snapshot_of_content(samspil)
    [reply] = await _send(cast, mom, lambda: mom.phone.send_voice(duration=12))
    assert reply.text == (
        "Jeg kan kun læse tekst – ikke billeder, talebeskeder, video eller filer. "
        "Skriv det, du vil sige, i en besked.\n\n"
        "Tip: På de fleste telefoner kan du trykke på mikrofonen på tastaturet og tale. "
        "Så bliver det til tekst.")
    assert len(reply.buttons) == 1  # "My next step": a way on from here
    assert await snapshot_of_content(samspil) == before
    assert (await fsm(samspil, mom))[0] is None


async def test_anything_but_text_from_anyone_gets_the_same_plain_answer(fam, cast, samspil):
    stranger = cast.person("Ukendt")
    only_text = in_danish(samspil, media.text_only)
    for who in (fam.teacher, fam.coord, stranger):
        phone = who.phone
        for send in (phone.send_sticker, lambda p=phone: p.send_document("brev.pdf"),
                     lambda p=phone: p.send_location(55.26, 12.12), phone.send_photo):
            [reply] = await _send(cast, who, send)
            assert reply.text == only_text, who.name
    assert await entries(fam) == []
