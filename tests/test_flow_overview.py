"""Samlet oversigt (/oversigt): shared input by area, pages edited in place, filters, rounds.

Issue #3.
"""

from __future__ import annotations

import pytest

from rules.text import utf16_len
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    bot_count,
    fresh_routers,
    last_bot,
    open_family,
    set_dialog,
)

TITLE = "Samlet oversigt – Emma, før møde {round}"


@pytest.fixture
async def fam(cast, samspil):
    return await open_family(cast, samspil)


async def test_shared_input_by_area_with_date_name_and_role(fam, cast, clock):
    await cast.write_input(fam.teacher, "Dagtilbud, skole og læring", worries="Hun er stille i timerne.",
                           works="Hun er god til matematik.", next_steps=None)
    await cast.share_input(fam.teacher)
    clock.advance(days=1)
    await cast.write_input(fam.mom, "Familieforhold", worries="Vi skændes meget.", works=None,
                           next_steps="Mere ro om aftenen.")
    await cast.tap(fam.mom, "Another input area")
    await cast.write_input(fam.mom, "Sundhedsforhold", worries=None, works="Hun spiser godt.", next_steps=None)
    await cast.share_input(fam.mom)
    # The father's draft is his alone.
    await cast.write_input(fam.dad, "Familieforhold", worries="Fars hemmelige kladde.", works=None,
                           next_steps=None)

    page = await cast.say(fam.dad, "/oversigt")
    assert page.protect_content
    assert page.text == (
        f"{TITLE.format(round=1)}\n\n"
        "FAMILIEFORHOLD\n\n"
        "24.11.2026 · Mette (Mor)\nBekymringer: Vi skændes meget.\nHvad skal ske?: Mere ro om aftenen.\n\n"
        "DAGTILBUD, SKOLE OG LÆRING\n\n"
        "23.11.2026 · Hanne (Klasselærer)\nBekymringer: Hun er stille i timerne.\n"
        "Det der fungerer: Hun er god til matematik.\n\n"
        "SUNDHEDSFORHOLD\n\n"
        "24.11.2026 · Mette (Mor)\nDet der fungerer: Hun spiser godt."
    )
    # One page, one round: no paging, no earlier rounds.
    assert page.buttons[0] == ["Vælg inputområde"] and ["Input fra tidligere møder"] not in page.buttons
    assert not any("Næste" in b or "Forrige" in b for row in page.buttons for b in row)
    for who in fam.everyone:
        assert not any("hemmelige" in m.text for m in who.phone.bot_messages if who is not fam.dad
                       or "Samlet oversigt" in m.text)


async def _long_input(fam, cast) -> list[str]:
    """The mother shares about 9,000 characters in one area; the teacher a short entry."""
    mom = fam.mom
    parts = [f"Afsnit {i}. " + ("Emma har svært ved at falde til ro om aftenen & sover uroligt. " * 48).strip()
             for i in range(1, 4)]
    await cast.say(mom, "/input")
    await cast.tap_text(mom, "Familieforhold")
    for part in parts:
        await cast.say(mom, part, expect="✓ Gemt i din kladde")
    await cast.tap(mom, "See the draft")
    await cast.share_input(mom)
    await cast.write_input(fam.teacher, "Dagtilbud, skole og læring", worries="Kort fra skolen.", works=None,
                           next_steps=None)
    await cast.share_input(fam.teacher)
    return parts


async def test_a_long_overview_is_paged_in_one_message(fam, cast):
    parts = await _long_input(fam, cast)
    dad = fam.dad
    first = await cast.say(dad, "/oversigt")
    assert "Side 1 af 3" in first.text and first.buttons[0] == ["Næste ▶️"]
    count = bot_count(dad)

    seen = [first.text]
    for n in (2, 3):
        await cast.tap(dad, "Next ▶️")
        page = last_bot(dad)
        assert page.message_id == first.message_id and page.edited  # edited in place
        assert bot_count(dad) == count  # no new messages
        assert f"Side {n} af 3" in page.text and page.text not in seen
        seen.append(page.text)
    assert last_bot(dad).buttons[0] == ["◀️ Forrige"]  # the last page has no "next"

    await cast.tap(dad, "◀️ Previous")
    assert last_bot(dad).text == seen[1] and bot_count(dad) == count

    assert all(utf16_len(text) <= 4096 for text in seen)
    assert all(text.startswith(TITLE.format(round=1)) for text in seen)
    whole = "\n".join(seen)
    for part in parts:
        assert part[:40] in whole and part[-40:] in whole
    assert "& sover uroligt" in whole  # HTML-escaped on the way, shown as typed
    # Areas in the configured order: family before school.
    assert whole.index("FAMILIEFORHOLD") < whole.index("DAGTILBUD, SKOLE OG LÆRING") < whole.index("Kort fra skolen.")


async def test_filter_by_area(fam, cast):
    await _long_input(fam, cast)
    dad = fam.dad
    first = await cast.say(dad, "/oversigt")
    count = bot_count(dad)
    picker = await cast.tap(dad, "Choose area")
    assert picker.message_id == first.message_id
    assert picker.text == "Hvilket inputområde vil du se?"
    assert picker.buttons[0] == ["Alle inputområder"] and ["Familieforhold"] in picker.buttons

    school = await cast.tap_text(dad, "Dagtilbud, skole og læring")
    assert school.text == (f"{TITLE.format(round=1)} · Dagtilbud, skole og læring\n\n"
                           "DAGTILBUD, SKOLE OG LÆRING\n\n"
                           "23.11.2026 · Hanne (Klasselærer)\nBekymringer: Kort fra skolen.")
    await cast.tap(dad, "Choose area")
    empty = await cast.tap_text(dad, "Socialt netværk")
    assert empty.text.endswith("Ingen har delt input her endnu.")
    await cast.tap(dad, "Choose area")
    everything = await cast.tap(dad, "All areas")
    assert "Side 1 af 3" in everything.text
    assert bot_count(dad) == count


async def test_earlier_rounds_can_be_read(fam, cast):
    await cast.write_input(fam.mom, "Familieforhold", worries="Første runde.", works=None, next_steps=None)
    await cast.share_input(fam.mom)
    await set_dialog(fam, round_no=2)
    await cast.write_input(fam.mom, "Familieforhold", worries="Anden runde.", works=None, next_steps=None)
    await cast.share_input(fam.mom)

    now = await cast.say(fam.teacher, "/oversigt")
    assert now.text.startswith(TITLE.format(round=2))
    assert "Anden runde." in now.text and "Første runde." not in now.text
    assert now.buttons[:2] == [["Vælg inputområde"], ["Input fra tidligere møder"]]
    rounds = await cast.tap(fam.teacher, "Earlier rounds")
    assert rounds.text == "Hvilket møde vil du se input fra?" and rounds.buttons == [["Før møde 2"], ["Før møde 1"]]
    old = await cast.tap_text(fam.teacher, "Før møde 1")
    assert old.text.startswith(TITLE.format(round=1))
    assert "Første runde." in old.text and "Anden runde." not in old.text
    assert old.message_id == now.message_id
