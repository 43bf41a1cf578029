"""Bad input in the input and scaling flows gets a clear answer and changes nothing.

Issue #3: media where text is expected, empty answers, text beyond a box's limit,
CPR numbers, stale buttons.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import texts
from handlers import media
from handlers.dialog_input import InputCb
from handlers.scaling import ScaleCb
from storage.models import FsmRecord
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    entries,
    fresh_routers,
    in_danish,
    last_bot,
    new_bot,
    open_family,
    scores,
    set_dialog,
)


@pytest.fixture
async def fam(cast, samspil):
    return await open_family(cast, samspil)


@pytest.fixture
def said(samspil):
    """The Danish wording of the shared texts (core/texts.py)."""
    return {
        "text_only": in_danish(samspil, texts.text_expected),
        "empty": in_danish(samspil, texts.empty_answer),
        "cpr": in_danish(samspil, texts.cpr_refused),
        "stale": in_danish(samspil, texts.stale_button),
    }


async def _in_first_box(fam, cast, text: str = "Hun er ked af det om morgenen.") -> None:
    await cast.say(fam.mom, "/input")
    await cast.tap_text(fam.mom, "Familieforhold", expect="trin 1 af 3")
    await cast.say(fam.mom, text, expect="✓ Gemt i din kladde")


async def _stored(fam) -> list[tuple]:
    return [(e.area, e.worries, e.works, e.next_steps, e.shared_at, e.updated_at)
            for e in await entries(fam)]


async def test_media_in_a_box_is_refused_and_changes_nothing(fam, cast, samspil):
    mom = fam.mom
    await _in_first_box(fam, cast)
    before = await _stored(fam)
    only_text = in_danish(samspil, media.in_the_input, False)
    assert "Det, du har skrevet indtil nu, er gemt i din kladde." in only_text
    tip = in_danish(samspil, media.speak_tip)
    sends = [
        (lambda: mom.phone.send_photo(caption="Se her"), in_danish(samspil, media.in_the_input, True)),
        (lambda: mom.phone.send_sticker(), only_text),
        (lambda: mom.phone.send_voice(), f"{only_text}\n\n{tip}"),
        (lambda: mom.phone.send_document("brev.pdf"), only_text),
        (lambda: mom.phone.send_location(55.26, 12.12), only_text),
    ]
    for send, expected in sends:
        mark = mom.phone.mark()
        await send()
        await cast.settle()
        [reply] = new_bot(mom, mark)
        assert reply.text == expected
    assert await _stored(fam) == before
    # Still in the same box: the next text is added there.
    await cast.say(mom, "Men hun er glad, når hun kommer hjem.", expect="✓ Gemt i din kladde")
    [draft] = await entries(fam)
    assert draft.worries == "Hun er ked af det om morgenen.\n\nMen hun er glad, når hun kommer hjem."


async def test_an_empty_answer_is_refused(fam, cast, said):
    await _in_first_box(fam, cast)
    before = await _stored(fam)
    # Telegram clients do not send whitespace-only texts (the emulator refuses them too), but
    # control characters get through and are removed by the bot, leaving nothing.
    for blank in ("\x01", "\x07 \x1f\x02"):
        reply = await cast.say(fam.mom, blank)
        assert reply.text == said["empty"]
    assert await _stored(fam) == before


async def test_a_box_holds_at_most_10000_characters_in_all(fam, cast):
    mom = fam.mom
    await cast.say(mom, "/input")
    await cast.tap_text(mom, "Familieforhold", expect="trin 1 af 3")
    chunk = ("Vi er bekymrede. " * 236)[:4000]
    first = await cast.say(mom, chunk, expect="✓ Gemt i din kladde")
    assert "tegn mere" not in first.text  # no count while there is room
    await cast.say(mom, chunk, expect="Der er plads til 1.996 tegn mere i denne kasse.")
    refused = await cast.say(mom, chunk)
    assert refused.text == ("Der er ikke plads til det i denne kasse (højst 10.000 tegn i alt). "
                            "Intet blev tilføjet. Gør det kortere, eller gå videre til næste kasse.")
    [draft] = await entries(fam)
    assert len(draft.worries) == 8002
    # A shorter text still fits, and the person can go on.
    await cast.say(mom, "Kort tilføjelse.", expect="Der er plads til 1.978 tegn mere i denne kasse.")
    await cast.tap(mom, "Next ➡️", expect="trin 2 af 3")


@pytest.mark.parametrize("cpr", ["010203-1234", "0102031234"])
async def test_a_cpr_number_is_refused_and_never_stored(fam, cast, samspil, said, cpr):
    mom = fam.mom
    await _in_first_box(fam, cast)
    before = await _stored(fam)
    reply = await cast.say(mom, f"Emmas cpr er {cpr}, hvis I skal bruge det.")
    assert reply.text == said["cpr"]
    assert await _stored(fam) == before

    # Replacing a box (edit) with a CPR number keeps the old text.
    await cast.tap(mom, "See the draft")
    await cast.tap_text(mom, "Ret: Bekymringer")
    assert (await cast.say(mom, cpr)).text == said["cpr"]
    assert await _stored(fam) == before
    # In the last box too.
    await cast.tap(mom, "Next ➡️", expect="trin 2 af 3")
    await cast.tap(mom, "Skip ➡️", expect="trin 3 af 3")
    assert (await cast.say(mom, f"Ring til far på {cpr}")).text == said["cpr"]

    digits = cpr.replace("-", "")
    async with samspil.sessionmaker() as s:
        fsm = [r.data or "" for r in await s.scalars(select(FsmRecord))]
    stored = [str(v) for row in await _stored(fam) for v in row]
    assert not any(digits[:6] in text for text in stored + fsm)
    # Written without the number, it is saved.
    await cast.say(mom, "Ring til far.", expect="✓ Gemt i din kladde")


async def test_a_command_while_writing_is_not_saved_as_an_answer(fam, cast):
    await _in_first_box(fam, cast)
    before = await _stored(fam)
    reply = await cast.say(fam.mom, "/hjaelp")
    assert reply.text.startswith("Det kan du gøre her")
    assert await _stored(fam) == before


async def test_stale_buttons_are_refused(fam, cast, said):
    mom = fam.mom
    await cast.say(mom, "/input")
    await cast.tap_text(mom, "Familieforhold")
    await cast.say(mom, "Første kasse.")
    old_next = last_bot(mom).message_id  # "Next" of box 1
    await cast.tap(mom, "Next ➡️", expect="trin 2 af 3")
    await cast.say(mom, "Anden kasse.")

    # "Next" from box 1 again, now that she is in box 2: its prompt has no buttons left, and
    # one tapped anyway (an old client, a double tap) moves nothing.
    assert mom.phone.buttons(old_next) == []
    [draft] = await entries(fam)
    mark = mom.phone.mark()
    await mom.phone.tap_data(old_next, InputCb(action="next", dialog_id=fam.dialog_id, entry_id=draft.id,
                                               value="worries").pack())
    await cast.settle()
    assert mom.phone.last_answer.show_alert and mom.phone.last_answer.text == said["stale"]
    assert new_bot(mom, mark) == []
    await cast.say(mom, "Stadig anden kasse.")
    [draft] = await entries(fam)
    assert draft.works == "Anden kasse.\n\nStadig anden kasse."

    # An input button with an action the bot does not know.
    mark = mom.phone.mark()
    await mom.phone.tap_data(last_bot(mom).message_id, f"in:explode:{fam.dialog_id}:{draft.id}:")
    await cast.settle()
    assert mom.phone.last_answer.text == said["stale"] and new_bot(mom, mark) == []

    # The review card of a deleted draft: its buttons are stale (it was never shared).
    await cast.tap(mom, "See the draft")
    review = last_bot(mom).message_id
    await cast.tap(mom, "Delete the draft")
    await cast.tap(mom, "Yes, delete")
    assert await entries(fam) == []
    for action in ("edit", "delete", "share_one", "review"):
        label = action
        mark = mom.phone.mark()
        await mom.phone.tap_data(review, InputCb(action=action, dialog_id=fam.dialog_id, entry_id=draft.id,
                                                 value="worries").pack())
        await cast.settle()
        assert mom.phone.last_answer.show_alert, label
        assert "allerede delt" not in mom.phone.last_answer.text, label
        assert new_bot(mom, mark) == [], label
    assert await entries(fam) == []

    # A score button from a previous round.
    await cast.say(fam.dad, "/skala")
    ruler = last_bot(fam.dad).message_id
    await set_dialog(fam, round_no=2)
    for label in ("4",):
        mark = fam.dad.phone.mark()
        await fam.dad.phone.tap(label, message_id=ruler)
        await cast.settle()
        assert fam.dad.phone.last_answer.show_alert
        assert fam.dad.phone.last_answer.text == ("Den knap er for gammel. Der har været et møde siden. "
                                                  "Tryk på Linealen i menuen, og sæt dit tal igen.")
        assert new_bot(fam.dad, mark) == []
    await fam.dad.phone.tap_data(ruler, ScaleCb(action="confirm", dialog_id=fam.dialog_id, round_no=1,
                                                value=4).pack())
    await cast.settle()
    assert "Der har været et møde siden" in fam.dad.phone.last_answer.text
    assert await scores(fam) == []
