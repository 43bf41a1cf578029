"""Skalering (/skala), Fælles vurdering (/vurdering) and the safeguarding alert.

Issue #3: the ruler for the dialog's age group, 1-10 in five fields; a number is
explained before it is confirmed; the confirmed score is shared at once; the
latest counts and earlier ones are kept; a score in the highest field tells the
coordinator at once.
"""

from __future__ import annotations

import pytest

from rules.dialog_config import load_dialog_config
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    bot_count,
    fresh_routers,
    last_bot,
    new_bot,
    open_family,
    scores,
    set_dialog,
)

CONFIG = load_dialog_config()


@pytest.fixture
async def fam(cast, samspil):
    return await open_family(cast, samspil)


async def test_the_ruler_explains_a_number_before_it_is_saved(fam, cast):
    mom = fam.mom
    card = await cast.say(mom, "/skala")
    ruler = CONFIG.ruler("barn")
    assert card.text.startswith("Børnelinealen – Emma")
    assert "Den starter ved \"Almen – barnet trives\"" in card.text
    legend = "\n".join(f"{f.emoji} {f.low}-{f.high} {f.name_da}" for f in ruler.fields)
    assert legend in card.text
    assert card.buttons == [["1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]

    # Tap 4: what the field means, in place of the ruler; nothing is stored yet.
    count = bot_count(mom)
    await cast.tap_text(mom, "4")
    shown = last_bot(mom)
    assert shown.message_id == card.message_id and bot_count(mom) == count
    field = ruler.field_for(4)
    assert shown.text == (f"Du valgte 4: 🟨 Let bekymring\n{ruler.bar(4)}\n\n{field.description_da}\n\n"
                          "Er det dit tal?")
    assert shown.buttons == [["✅ Ja, gem 4"], ["Vælg et andet tal"]]
    assert await scores(fam) == []

    # Pick again: back to the ruler, then 7 and confirm.
    back = await cast.tap(mom, "Choose another number")
    assert back.text == card.text and back.message_id == card.message_id
    await cast.tap_text(mom, "7")
    assert "Du valgte 7: 🟥 Alvorlig bekymring" in last_bot(mom).text
    await cast.tap_text(mom, "✅ Ja, gem 7")
    saved = last_bot(mom)
    assert saved.text.startswith("Gemt: 7 🟥 Alvorlig bekymring.\n\nDe andre kan se dit tal. "
                                 "Du kan ændre det indtil mødet.\n\n")
    # Then her next step (#12): she has written no input yet.
    assert saved.text.endswith("Næste skridt: Skriv, hvad du er bekymret for, hvad der går godt, "
                               "og hvad du ønsker, der skal ske.")
    assert saved.buttons == [["✏️ Skriv dit input"]]
    [score] = await scores(fam, mom)
    assert (score.value, score.round_no, score.participant_id) == (7, 1, score.participant_id)


async def test_a_young_persons_dialog_uses_ungelinealen(cast, samspil):
    fam = await open_family(cast, samspil, child="Jonas", age_group="ung",
                            purpose="Vi vil hjælpe Jonas godt i gang med uddannelse.")
    card = await cast.say(fam.teacher, "/skala")
    assert card.text.startswith("Ungelinealen – Jonas")
    await cast.tap_text(fam.teacher, "5")
    assert CONFIG.ruler("ung").field_for(5).description_da in last_bot(fam.teacher).text
    assert "Den unge har det svært" in last_bot(fam.teacher).text


async def test_a_score_can_be_changed_the_latest_counts_earlier_are_kept(fam, cast, clock):
    mom = fam.mom
    await cast.scale(mom, 6)
    clock.advance(days=2)
    await cast.scale(mom, 3)
    history = await scores(fam, mom)
    assert [s.value for s in history] == [6, 3]
    assert history[1].created_at > history[0].created_at

    view = await cast.say(fam.teacher, "/vurdering")
    assert "Mette (Mor): 3 Let bekymring" in view.text
    assert "6 Bekymring" not in view.text


async def test_joint_assessment_shows_everyone_side_by_side(fam, cast):
    await cast.scale(fam.mom, 4)
    await cast.scale(fam.teacher, 6)
    ruler = CONFIG.ruler("barn")

    view = await cast.say(fam.dad, "/vurdering")
    assert view.protect_content
    assert view.text == (
        "Alles tal på linealen – Børnelinealen, Emma, før møde 1\n\n"
        "Camilla Tovholder (Tovholder): har ikke sat sit tal endnu\n\n"
        f"Mette (Mor): 4 Let bekymring\n{ruler.bar(4)}\n\n"
        "Lars (Far): har ikke sat sit tal endnu\n\n"
        f"Hanne (Klasselærer): 6 Bekymring\n{ruler.bar(6)}"
    )
    assert ruler.bar(4) == "🟩🟩🟨🟨⬜⬜⬜⬜⬜⬜"

    # A new round starts empty; the earlier scores stay in the database.
    await set_dialog(fam, round_no=2)
    view = await cast.say(fam.dad, "/vurdering")
    assert view.text.count("har ikke sat sit tal endnu") == 4
    assert [s.round_no for s in await scores(fam)] == [1, 1]


async def test_a_score_in_the_highest_field_tells_the_coordinator_at_once(fam, cast, clock):
    coord = fam.coord
    clock.advance(hours=4, minutes=30)  # 14:30 in Copenhagen
    before = {p.name: bot_count(p) for p in fam.everyone}
    await cast.scale(fam.dad, 9)

    alerts = [m for m in coord.phone.bot_messages if "Højt tal" in m.text]
    assert [m.text for m in alerts] == [
        "⚠️ Højt tal i dialogen om Emma\n\n"
        "Lars (Far) placerede situationen på 9 (Akut bekymring) den 23. november 2026 kl. 14.30.\n\n"
        "Overvej at kontakte vedkommende snarest."
    ]
    assert alerts[0].protect_content
    assert bot_count(coord) == before[coord.name] + 1
    # Privately: nobody else hears of it.
    for other in (fam.mom, fam.teacher):
        assert bot_count(other) == before[other.name]
    assert not any("Højt tal" in m.text for m in fam.dad.phone.bot_messages)

    await cast.scale(fam.teacher, 10)
    assert sum("Højt tal" in m.text for m in coord.phone.bot_messages) == 2
    assert "Hanne (Klasselærer) placerede situationen på 10 (Akut bekymring)" in last_bot(coord).text


async def test_a_lower_score_does_not_alert(fam, cast):
    count = bot_count(fam.coord)
    for who, value in ((fam.mom, 8), (fam.dad, 7), (fam.teacher, 1), (fam.mom, 5)):
        await cast.scale(who, value)
    assert [s.value for s in await scores(fam)] == [8, 7, 1, 5]
    assert bot_count(fam.coord) == count


async def test_the_coordinators_own_high_score_sends_no_alert_to_themselves(fam, cast):
    count = bot_count(fam.coord)
    mark = fam.coord.phone.mark()
    await cast.scale(fam.coord, 9)
    assert [s.value for s in await scores(fam, fam.coord)] == [9]
    assert not any("Højt tal" in m.text for m in new_bot(fam.coord, mark))
    assert bot_count(fam.coord) == count + 1  # just the ruler card
