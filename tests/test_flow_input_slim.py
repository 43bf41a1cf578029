"""A slimmer input flow (issue #12): one area in few texts, taps and bot messages.

How it is counted: from the moment the person has the area list (the answer to /input)
in front of them, until her input is shared. A *text* is a message she sends, a *tap* a
button she taps, a *bot message* a new message the bot sends her (an edit of a message
already in the chat is not a new message; the edits are counted apart). On the code
before issue #12 the same walk took 3 texts, 6 taps and 9 bot messages: a prompt and a
"✓ Gemt" per box, the draft, "Du er ved at dele…", "Dit input er nu delt…".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.playbook import Cast, Person
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    entries,
    fresh_routers,
    open_family,
)

STEP1 = "Familieforhold · trin 1 af 3"
STEP2 = "Familieforhold · trin 2 af 3"
STEP3 = "Familieforhold · trin 3 af 3"
REVIEW = "Familieforhold – din kladde (kun du kan se den)"


@pytest.fixture
async def fam(cast, samspil):
    return await open_family(cast, samspil)


@dataclass
class Counter:
    """What one person does and gets, from a starting point on."""

    cast: Cast
    who: Person
    texts: int = 0
    taps: int = 0
    first_new: int = 0
    mark: int = 0
    said: list[str] = field(default_factory=list)

    def start(self) -> Counter:
        self.first_new = max(m.message_id for m in self.who.phone.chat) + 1
        self.mark = self.who.phone.mark()
        return self

    async def say(self, text: str, expect: str | None = None):  # type: ignore[no-untyped-def]
        self.texts += 1
        return await self.cast.say(self.who, text, expect)

    async def tap(self, label: str, expect: str | None = None):  # type: ignore[no-untyped-def]
        self.taps += 1
        return await self.cast.tap_text(self.who, label, expect)

    @property
    def bot_messages(self) -> list:  # type: ignore[type-arg]
        return [m for m in self.who.phone.bot_messages if m.message_id >= self.first_new]

    @property
    def edited(self) -> list[int]:
        """Ids of the messages changed in place (their text, or their buttons taken off)."""
        return [m.message_id for m in self.who.phone.bot_messages if m.edited and m.version > self.mark]

    @property
    def live(self) -> list:  # type: ignore[type-arg]
        """Bot messages that still carry buttons."""
        return [m for m in self.who.phone.bot_messages if m.buttons]


async def test_one_area_three_boxes_and_share_in_3_texts_4_taps_6_messages(fam, cast):
    mom = fam.mom
    area_list = await cast.say(mom, "/input")
    walk = Counter(cast, mom).start()

    box1 = await walk.tap("Familieforhold", expect=STEP1)
    assert box1.buttons == [["Spring over ➡️"], ["Se kladden"]]
    ack = await walk.say("Emma får aldrig besøg af sine venner.")
    # The answer is the prompt itself, edited: no new message, the same buttons, moved on.
    assert ack.message_id == box1.message_id and ack.edited
    assert ack.text.endswith("✓ Gemt i din kladde: »Emma får aldrig besøg af sine venner.«\n"
                             "Skriv mere, eller gå videre.")
    assert ack.buttons == [["Næste ➡️"], ["Se kladden"]]
    assert "tegn i denne kasse" not in ack.text

    box2 = await walk.tap("Næste ➡️", expect=STEP2)
    assert box2.message_id != box1.message_id
    assert mom.phone.buttons(box1.message_id) == []  # the old prompt lost its buttons
    await walk.say("Hun er glad for at tegne.", expect="✓ Gemt i din kladde")
    box3 = await walk.tap("Næste ➡️", expect=STEP3)
    assert "Når du deler, kan de andre i dialogen læse det med dit navn." in box3.text
    assert box3.buttons == [["✅ Del nu"], ["Se kladden"]]
    ack3 = await walk.say("At hun får en ven at lege med.")
    assert ack3.message_id == box3.message_id
    assert ack3.buttons == [["✅ Del nu"], ["Se kladden"]]

    done = await walk.tap("✅ Del nu", expect="er delt")
    assert done.text.startswith("✅ Dit input om Familieforhold er delt. De andre i dialogen kan læse det nu.")
    [entry] = await entries(fam, mom)
    assert entry.shared_at is not None and entry.next_steps == "At hun får en ven at lege med."

    assert (walk.texts, walk.taps) == (3, 4)
    assert len(walk.bot_messages) == 4 <= 6, [m.text[:40] for m in walk.bot_messages]
    # Changed in place: the area list and the three prompts (acknowledged, then without buttons).
    assert walk.edited == [area_list.message_id, box1.message_id, box2.message_id, box3.message_id]
    # No duplicate buttons: at most the answer to sharing (its next step) is live; the area
    # list and the three prompts have none left.
    assert {m.message_id for m in walk.live if m.message_id >= area_list.message_id} <= {done.message_id}
    print(f"\nAFTER texts={walk.texts} taps={walk.taps} bot_messages={len(walk.bot_messages)} edited={len(walk.edited)}")


async def test_a_prompt_that_cannot_be_edited_or_is_far_up_is_sent_again_with_the_buttons(fam, cast, emu):
    mom = fam.mom
    await cast.say(mom, "/input")
    box1 = await cast.tap_text(mom, "Familieforhold", expect=STEP1)

    # Telegram will not edit it (too old, deleted): a fresh prompt at the bottom takes the buttons.
    emu.inject_fault(400, method="editMessageText", description="Bad Request: message can't be edited")
    ack = await cast.say(mom, "Emma sover dårligt.")
    assert ack.message_id > box1.message_id and STEP1 in ack.text
    assert "✓ Gemt i din kladde: »Emma sover dårligt.«" in ack.text
    assert ack.buttons == [["Næste ➡️"], ["Se kladden"]]
    assert mom.phone.buttons(box1.message_id) == []
    # The next answer is acknowledged on the new prompt, in place.
    again = await cast.say(mom, "Hun vågner tit.")
    assert again.message_id == ack.message_id and "»Hun vågner tit.«" in again.text

    # Much text under the prompt pushes it off the screen: the acknowledgement comes at the bottom.
    long = "Om morgenen er hun meget træt og vil ikke op. " * 20
    below = await cast.say(mom, long)
    assert below.message_id > ack.message_id and mom.phone.buttons(ack.message_id) == []
    assert [m for m in mom.phone.bot_messages if m.buttons and m.message_id >= box1.message_id] == [below]
    [draft] = await entries(fam, mom)
    assert draft.worries == f"Emma sover dårligt.\n\nHun vågner tit.\n\n{long.strip()}"


async def test_share_from_the_draft_then_the_other_drafts_too(fam, cast):
    mom = fam.mom
    await cast.write_input(mom, "Sundhedsforhold", worries="Hun har ondt i maven.", works=None, next_steps=None)
    await cast.write_input(mom, "Familieforhold", worries=None, works="Vi spiser sammen.", next_steps=None)
    review = mom.phone.bot_messages[-1]
    assert review.buttons[0] == ["✅ Del"] and review.buttons[-1] == ["Slet kladden"]

    before = {p.name: len(p.phone.bot_messages) for p in (fam.dad, fam.teacher, fam.coord)}
    done = await cast.tap(mom, "✅ Share", expect="er delt")
    # "Del" on a draft shares that draft at once (the card said what sharing means) ...
    assert done.text.startswith("✅ Dit input om Familieforhold er delt.")
    assert "✏️ Kladder, som kun du kan se: Sundhedsforhold" in done.text
    assert done.buttons[0] == ["✅ Del også den anden kladde"]
    assert mom.phone.buttons(review.message_id) == []
    health, family = await entries(fam, mom)
    assert family.shared_at is not None and health.shared_at is None
    # ... and the others are told once.
    for other in (fam.dad, fam.teacher, fam.coord):
        assert len(other.phone.bot_messages) == before[other.name] + 1

    rest = await cast.tap_text(mom, "✅ Del også den anden kladde", expect="er delt")
    assert rest.text.startswith("✅ Dit input om Sundhedsforhold er delt.") and "Kladder" not in rest.text
    assert all(e.shared_at is not None for e in await entries(fam, mom))
    assert mom.phone.buttons(done.message_id) == []
    for other in (fam.dad, fam.teacher, fam.coord):
        assert len(other.phone.bot_messages) == before[other.name] + 2


async def test_deleting_asks_first_and_a_new_list_retires_the_old_buttons(fam, cast):
    mom = fam.mom
    await cast.write_input(mom, "Familieforhold", worries="Noget, jeg vil tænke over.", works=None, next_steps=None)
    review = mom.phone.bot_messages[-1]
    ask = await cast.tap(mom, "Delete the draft", expect="Vil du slette din kladde i Familieforhold?")
    assert ask.buttons == [["Ja, slet den", "Nej, behold den"]]
    assert mom.phone.buttons(review.message_id) == []
    back = await cast.tap(mom, "No, keep it", expect=REVIEW)
    assert "Noget, jeg vil tænke over." in back.text and mom.phone.buttons(ask.message_id) == []
    assert len(await entries(fam, mom)) == 1

    # /input in the middle of a box: the prompt's buttons go, the list is the live card.
    box = await cast.tap_text(mom, "Ret: Bekymringer", expect=STEP1)
    home = await cast.say(mom, "/input")
    assert home.text.startswith("Dit input om Emma") and mom.phone.buttons(box.message_id) == []
    assert [m.message_id for m in mom.phone.bot_messages if m.buttons and m.message_id >= review.message_id] == [
        home.message_id]  # one live card
    [draft] = await entries(fam, mom)
    assert draft.worries == "Noget, jeg vil tænke over."  # nothing written is lost
