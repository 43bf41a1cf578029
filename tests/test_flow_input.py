"""Dialog input (/input): areas, the three boxes, private drafts, sharing, rounds, restart.

Issue #3. People play the bot through the emulator; every test checks what the
person saw (in Danish) and what the database holds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.playbook import Cast
from handlers.dialog_input import InputCb
from rules.dialog_config import load_dialog_config
from rules.text import utf16_len
from tests.conftest import start_bot, stop_bot
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    PURPOSE,
    bot_count,
    entries,
    fresh_routers,
    last_bot,
    new_bot,
    open_family,
    set_dialog,
)

ROOT = Path(__file__).resolve().parent.parent

STEP1 = "Familieforhold · trin 1 af 3"
STEP2 = "Familieforhold · trin 2 af 3"
STEP3 = "Familieforhold · trin 3 af 3"
REVIEW = "Familieforhold – din kladde (kun du kan se den)"


@pytest.fixture
async def fam(cast, samspil):
    return await open_family(cast, samspil)


async def test_one_dialog_no_question_areas_from_config_and_purpose(fam, cast):
    mom = fam.mom
    home = await cast.say(mom, "/input")
    # One dialog: straight to her input, no "which dialog?" question.
    assert "Hvilken dialog" not in home.text
    assert home.text.startswith("Dit input om Emma\n\n")
    assert "runde" not in home.text and "dialogen om" not in home.text
    assert "Hvad vil du skrive om? Vælg et inputområde:" in home.text
    config = load_dialog_config()
    for area in config.areas:  # each area with its one-line plain explanation
        assert f"• {area.label_da}: {area.explanation_da}" in home.text
    areas = [a.label_da for a in config.areas]
    assert areas[:2] == ["Familieforhold", "Dagtilbud, skole og læring"]  # what families pick first
    assert [row[0] for row in home.buttons] == [*areas, "Vis formål"]
    assert home.protect_content

    purpose = await cast.tap(mom, "Show purpose", expect="Formålet med dialogen")
    assert purpose.text == f"Formålet med dialogen (23. november 2026)\n\n{PURPOSE}"
    assert await entries(fam) == []  # looking changes nothing


async def test_three_boxes_in_turn_each_answer_saved_at_once(fam, cast):
    mom = fam.mom
    await cast.say(mom, "/input")
    box1 = await cast.tap_text(mom, "Familieforhold", expect=STEP1)
    assert "Bekymringer\nHvad er du bekymret for?\nSkriv med dine egne ord, hvordan du oplever det." in box1.text
    assert box1.buttons == [["Spring over ➡️"], ["Se kladden"]]

    saved = await cast.say(mom, "Emma får aldrig besøg af sine venner.")
    assert saved.message_id == box1.message_id  # the prompt, edited in place
    assert "✓ Gemt i din kladde: »Emma får aldrig besøg af sine venner.«" in saved.text
    [draft] = await entries(fam, mom)
    assert (draft.area, draft.round_no, draft.worries, draft.shared_at) == (
        "family", 1, "Emma får aldrig besøg af sine venner.", None)

    # A second message in the same box is added to the first.
    again = await cast.say(mom, "Og hun fortæller ikke om sin dag.")
    assert "✓ Gemt i din kladde: »Og hun fortæller ikke om sin dag.«" in again.text
    [draft] = await entries(fam, mom)
    assert draft.worries == "Emma får aldrig besøg af sine venner.\n\nOg hun fortæller ikke om sin dag."

    box2 = await cast.tap(mom, "Next ➡️", expect=STEP2)
    assert "Det der fungerer\nHvad fungerer godt? (ressourcer)" in box2.text
    box3 = await cast.tap(mom, "Skip ➡️", expect=STEP3)  # a box may be skipped
    assert "Hvad skal ske?\nHvad vil du gerne have, der skal ske? (forslag til mål)" in box3.text
    assert box3.buttons == [["✅ Del nu"], ["Se kladden"]]  # the draft has text: it can be shared
    await cast.say(mom, "At hun igen har lyst til at invitere venner hjem.")
    review = await cast.tap(mom, "See the draft", expect=REVIEW)

    assert review.text == (
        f"{REVIEW}\n\n"
        "Bekymringer\nEmma får aldrig besøg af sine venner.\n\nOg hun fortæller ikke om sin dag.\n\n"
        "Det der fungerer\n(tom)\n\n"
        "Hvad skal ske?\nAt hun igen har lyst til at invitere venner hjem.\n\n"
        "Når du deler, kan de andre i dialogen læse det med dit navn. "
        "Du kan ikke rette det bagefter, men du kan altid skrive mere."
    )
    # "Del" first, "Slet" last (and it asks first).
    assert review.buttons == [
        ["✅ Del"], ["Ret: Bekymringer"], ["Ret: Det der fungerer"], ["Ret: Hvad skal ske?"],
        ["Et andet inputområde"], ["Slet kladden"],
    ]
    [draft] = await entries(fam, mom)
    assert draft.works is None and draft.next_steps.startswith("At hun igen")
    assert draft.shared_at is None


async def test_answer_over_4096_characters_in_several_messages(fam, cast):
    mom = fam.mom
    await cast.say(mom, "/input")
    await cast.tap_text(mom, "Familieforhold", expect=STEP1)
    parts = [f"Del {i}: " + ("Det er svært at tale om tingene derhjemme. " * 70).strip() for i in range(1, 4)]
    assert all(3000 < len(p) <= 3100 for p in parts)  # more than 4,096 together
    for part in parts:
        await cast.say(mom, part, expect="✓ Gemt i din kladde")
    [draft] = await entries(fam, mom)
    assert draft.worries == "\n\n".join(parts)
    assert len(draft.worries) > 9000

    mark = mom.phone.mark()
    await cast.tap(mom, "See the draft")
    cards = [m for m in new_bot(mom, mark) if not m.edited]  # (the prompt lost its buttons)
    assert len(cards) >= 3  # the draft is split, never one message over Telegram's limit
    assert all(utf16_len(m.text) <= 4096 for m in cards)
    assert cards[0].text.startswith(REVIEW)
    shown = "".join(m.text for m in cards)
    for part in parts:
        assert part.strip()[-60:] in shown and part[:60] in shown
    assert cards[-1].buttons[0] == ["✅ Del"] and all(not m.buttons for m in cards[:-1])


async def test_drafts_are_kept_for_days_and_only_the_author_sees_them(fam, cast, clock):
    mom, teacher = fam.mom, fam.teacher
    await cast.say(mom, "/input")
    await cast.tap_text(mom, "Familieforhold")
    await cast.say(mom, "Hun sover dårligt om natten.")

    clock.advance(days=3)
    home = await cast.say(mom, "/input")
    assert "✏️ Kladder, som kun du kan se: Familieforhold" in home.text
    assert ["✏️ Familieforhold"] in home.buttons
    review = await cast.tap_text(mom, "✏️ Familieforhold", expect=REVIEW)
    assert "Hun sover dårligt om natten." in review.text

    # Nobody else sees a draft, and nobody was told about it.
    for other in (teacher, fam.dad, fam.coord):
        await cast.say(other, "/oversigt", expect="Ingen har delt input her endnu.")
        assert not any("sover dårligt" in m.text for m in other.phone.chat)
        assert not any("har delt sit input" in m.text for m in other.phone.chat)


async def test_an_area_opened_but_left_empty_is_not_listed_as_a_draft(fam, cast):
    mom = fam.mom
    await cast.say(mom, "/input")
    await cast.tap_text(mom, "Sundhedsforhold", expect="Sundhedsforhold · trin 1 af 3")
    home = await cast.say(mom, "/input")
    assert "Kladder" not in home.text and ["Sundhedsforhold"] in home.buttons
    assert ["✅ Del min kladde"] not in home.buttons
    # Opening it again goes on in the same (empty) draft.
    await cast.tap_text(mom, "Sundhedsforhold", expect="Sundhedsforhold · trin 1 af 3")
    await cast.say(mom, "Hun har ofte ondt i maven.")
    [draft] = await entries(fam, mom)
    assert draft.area == "health" and draft.worries == "Hun har ofte ondt i maven."
    home = await cast.say(mom, "/input")
    assert "✏️ Kladder, som kun du kan se: Sundhedsforhold" in home.text
    assert home.buttons[0] == ["✅ Del min kladde"]


async def test_edit_a_box_replaces_it_and_a_draft_can_be_deleted(fam, cast):
    mom = fam.mom
    await cast.write_input(mom, "Familieforhold", worries="Første udgave.", works="Vi griner meget sammen.",
                           next_steps=None)
    review = last_bot(mom)
    await cast.tap_text(mom, "Ret: Bekymringer")
    box, old_text = [m for m in mom.phone.bot_messages if m.message_id > review.message_id]
    assert mom.phone.buttons(review.message_id) == []  # the card tapped lost its buttons
    assert box.text.startswith(STEP1)
    assert "Det, du skrev før, står herunder. Din næste besked erstatter det." in box.text
    assert old_text.text == "Første udgave."  # what she wrote before, to copy from
    await cast.say(mom, "Anden udgave.")
    await cast.say(mom, "Med en tilføjelse.")
    [draft] = await entries(fam, mom)
    assert draft.worries == "Anden udgave.\n\nMed en tilføjelse."
    assert draft.works == "Vi griner meget sammen."

    await cast.tap(mom, "See the draft", expect=REVIEW)
    confirm = await cast.tap(mom, "Delete the draft", expect="Vil du slette din kladde i Familieforhold?")
    assert confirm.buttons == [["Ja, slet den", "Nej, behold den"]]
    await cast.tap(mom, "Yes, delete")
    assert any(m.text == "Kladden er slettet." for m in mom.phone.bot_messages)
    assert last_bot(mom).text.startswith("Dit input om Emma")
    assert await entries(fam) == []


async def test_share_all_drafts_others_get_one_notice_and_can_read(fam, cast, clock):
    mom = fam.mom
    await cast.write_input(mom, "Familieforhold", worries="Vi taler ikke sammen.", works=None,
                           next_steps="Mere tid sammen.")
    await cast.tap(mom, "Another input area", expect="Dit input om Emma")
    await cast.write_input(mom, "Dagtilbud, skole og læring", worries=None, works="Hun er glad for sin lærer.",
                           next_steps=None)
    # Nothing is shared yet.
    assert all(e.shared_at is None for e in await entries(fam))

    clock.advance(hours=2)
    home = await cast.tap(mom, "Another input area", expect="Dit input om Emma")
    assert home.buttons[0] == ["✅ Del mine 2 kladder"]
    # Several areas at once: the bot names them and asks first.
    ask = await cast.tap_text(mom, "✅ Del mine 2 kladder", expect="Du er ved at dele dit input i:")
    assert "Familieforhold, Dagtilbud, skole og læring" in ask.text
    assert ask.buttons == [["Ja, del nu", "Ikke endnu"]]
    before = {p.name: bot_count(p) for p in (fam.dad, fam.teacher, fam.coord)}
    done = await cast.tap(mom, "Yes, share now", expect="er delt")
    assert done.text.startswith("✅ Dit input om Familieforhold, Dagtilbud, skole og læring er delt.")

    stored = await entries(fam, mom)
    assert [e.area for e in stored] == ["family", "school"]
    assert all(e.shared_at == clock.now() for e in stored)
    for other in (fam.dad, fam.teacher, fam.coord):
        notices = [m for m in other.phone.bot_messages if "har delt sit input" in m.text]
        assert [m.text for m in notices] == ["Mette (Mor) har delt sit input i dialogen om Emma."]
        assert notices[0].buttons == [["Læs det"]]
        assert bot_count(other) == before[other.name] + 1  # one short notice, not one per area
    assert not any("har delt sit input" in m.text for m in mom.phone.bot_messages)

    read = await cast.tap(fam.teacher, "Read it", expect="Samlet oversigt")
    assert "FAMILIEFORHOLD" in read.text and "DAGTILBUD, SKOLE OG LÆRING" in read.text
    assert "23.11.2026 · Mette (Mor)" in read.text
    assert "Bekymringer: Vi taler ikke sammen." in read.text
    assert "Det der fungerer: Hun er glad for sin lærer." in read.text


async def test_shared_input_is_frozen_and_a_correction_is_a_new_entry(fam, cast, clock):
    mom = fam.mom
    await cast.write_input(mom, "Familieforhold", worries="Oprindelig tekst.", works=None, next_steps=None)
    review_id = last_bot(mom).message_id
    await cast.share_input(mom)
    [first] = await entries(fam, mom)

    # The old review card lost its buttons; one tapped anyway (an old client) is refused.
    assert mom.phone.buttons(review_id) == []
    mark = mom.phone.mark()
    await mom.phone.tap_data(review_id, InputCb(action="edit", dialog_id=fam.dialog_id, entry_id=first.id,
                                                value="worries").pack())
    await cast.settle()
    answer = await mom.phone.wait_answer()
    assert answer.show_alert and "Det input er allerede delt. Det kan ikke ændres mere." in answer.text
    assert new_bot(mom, mark) == []

    # The same area again: a fresh draft beside the shared entry.
    clock.advance(days=1)
    await cast.say(mom, "/input")
    box = await cast.tap_text(mom, "Familieforhold", expect=STEP1)
    assert "Det, du skrev før" not in box.text
    await cast.say(mom, "Rettelse: det er blevet lidt bedre.")
    await cast.tap(mom, "Next ➡️")
    await cast.tap(mom, "Skip ➡️")
    await cast.tap(mom, "✅ Share now", expect="er delt")

    old, new = await entries(fam, mom)
    assert old.id == first.id and old.worries == "Oprindelig tekst." and old.shared_at == first.shared_at
    assert new.worries == "Rettelse: det er blevet lidt bedre." and new.shared_at == clock.now()
    page = await cast.say(fam.dad, "/oversigt")
    assert page.text.index("Oprindelig tekst.") < page.text.index("Rettelse:")
    assert "23.11.2026 · Mette (Mor)" in page.text and "24.11.2026 · Mette (Mor)" in page.text


async def test_a_later_round_adds_beside_the_earlier_entries(fam, cast):
    mom = fam.mom
    await cast.write_input(mom, "Familieforhold", worries="Runde et.", works=None, next_steps=None)
    await cast.share_input(mom)
    await set_dialog(fam, round_no=2)  # issue #4 moves the round on; here, directly

    home = await cast.say(mom, "/input")
    assert home.text.startswith("Dit input om Emma\n")  # no "runde" shown
    assert "Delt:" not in home.text and ["Familieforhold"] in home.buttons
    await cast.tap_text(mom, "Familieforhold", expect=STEP1)
    await cast.say(mom, "Runde to: hun har fået en ny veninde.")
    await cast.tap(mom, "See the draft", expect=REVIEW)
    await cast.share_input(mom)

    one, two = await entries(fam, mom)
    assert (one.round_no, one.area, one.worries) == (1, "family", "Runde et.")
    assert (two.round_no, two.area, two.worries) == (2, "family", "Runde to: hun har fået en ny veninde.")
    assert one.shared_at is not None and two.shared_at is not None


async def test_restart_in_the_middle_of_a_box_keeps_the_text_and_resumes(emu, settings, clock):
    app, task = await start_bot(settings, clock)
    try:
        cast = Cast(emu=emu, settings=settings, i18n=app.i18n, clock=clock, scheduler=app.scheduler)
        fam = await open_family(cast, app)
        mom = fam.mom
        await cast.say(mom, "/input")
        await cast.tap_text(mom, "Familieforhold")
        prompt = await cast.tap(mom, "Skip ➡️", expect=STEP2)
        await cast.say(mom, "Hun er god til at hjælpe sin lillebror.")
    finally:
        await stop_bot(app, task)

    app, task = await start_bot(settings, clock)
    try:
        fam.app = app
        cast.scheduler = app.scheduler
        reply = await cast.say(mom, "Og hun elsker at tegne.")
        assert "✓ Gemt i din kladde: »Og hun elsker at tegne.«" in reply.text
        assert reply.message_id == prompt.message_id  # still edited in place: its id is in the FSM
        [draft] = await entries(fam, mom)
        assert draft.works == "Hun er god til at hjælpe sin lillebror.\n\nOg hun elsker at tegne."
        assert draft.worries is None
        await cast.tap(mom, "Next ➡️", expect=STEP3)  # the buttons after the restart still work
    finally:
        await stop_bot(app, task)


CUSTOM_CONFIG = (ROOT / "rules" / "dialog_config.toml").read_text(encoding="utf-8")


async def test_areas_come_from_the_configured_file(emu, settings, clock, tmp_path):
    own = tmp_path / "kommune.toml"
    rulers = CUSTOM_CONFIG[CUSTOM_CONFIG.index("[rulers.barn]"):]
    own.write_text(
        '[[areas]]\nkey = "school"\nlabel_da = "Skolen"\nlabel_en = "School"\n\n'
        '[[areas]]\nkey = "home"\nlabel_da = "Hjemmet"\nlabel_en = "Home"\n\n'
        + rulers.replace('name_da = "Børnelinealen"', 'name_da = "Faxes lineal"')
        .replace('name_da = "Almen – barnet trives"', 'name_da = "Trivsel"', 1),
        encoding="utf-8")
    custom = settings.model_copy(update={"dialog_config": own})
    app, task = await start_bot(custom, clock)
    try:
        cast = Cast(emu=emu, settings=custom, i18n=app.i18n, clock=clock, scheduler=app.scheduler)
        fam = await open_family(cast, app)
        home = await cast.say(fam.mom, "/input")
        assert [row[0] for row in home.buttons] == ["Skolen", "Hjemmet", "Vis formål"]
        ruler = await cast.say(fam.mom, "/skala")
        assert ruler.text.startswith("Faxes lineal – Emma")
        assert "🟩 1-2 Trivsel\n🟨 3-4 Let bekymring" in ruler.text
    finally:
        await stop_bot(app, task)


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`samspil run` once with DIALOG_CONFIG naming an invalid file (default logging)."""
    tmp = tmp_path_factory.mktemp("broken_config")
    bad = tmp / "invalid.toml"
    bad.write_text('[[areas]]\nkey = "Ikke gyldig!"\nlabel_da = "X"\nlabel_en = "X"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "DIALOG_", "LOG_"))}
    env |= {"BOT_TOKEN": "123456:TEST-token", "BOT_API_URL": "http://127.0.0.1:9",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'x.db'}", "DIALOG_CONFIG": str(bad),
            "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=tmp, env=env,
                         capture_output=True, text=True, timeout=120)
    return bad, run


def test_a_broken_config_file_stops_samspil_run_with_one_clear_line(broken_run):
    bad, run = broken_run
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines() == [
        f"Configuration error: {bad}: areas[0].key: key 'Ikke gyldig!' must be 1-16 "
        "characters of a-z, 0-9 and _ (and 1 more problem(s))"]
    assert not (bad.parent / "x.db").exists()  # stopped before touching the database
