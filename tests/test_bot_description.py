"""Issue #12, the chat before START: the bot's description (shown in the empty chat) and short
description (on its profile) say what Samspil is and that one comes in with a link from one's
coordinator, in Danish and English; set by the bot itself at start-up."""

from __future__ import annotations

import logging

import pytest

from bot.app import App
from core.clock import FakeClock
from core.config import Settings
from core.menus import description_texts
from emulator import BotAPIEmulator
from tests.conftest import start_bot, stop_bot
from tests.helpers import fresh_routers  # noqa: F401

DESCRIPTION_DA = (
    "Samspil hjælper familie, skole og andre omkring et barn med at arbejde sammen om barnets "
    "trivsel. Du skriver, hvad du er bekymret for, hvad der går godt, og hvad der skal ske. Du "
    "kommer med via et personligt link fra din tovholder i kommunen. Har du fået et link? Så åbn det."
)
SHORT_DA = "Samarbejde om et barns trivsel. Du kommer med via et link fra din tovholder."
DESCRIPTION_EN = (
    "Samspil helps the family, the school and others around a child work together on the child's "
    "wellbeing. You write what worries you, what is going well and what should happen. You get in "
    "with a personal link from your coordinator in the municipality. Have you got a link? Then open it."
)
SHORT_EN = "Working together on a child's wellbeing. You get in with a link from your coordinator."


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def test_a_person_sees_what_samspil_is_before_start(samspil: App, emu: BotAPIEmulator) -> None:
    # A Danish phone, a phone without a language and one in a language Samspil does not
    # speak see the Danish texts; an English phone sees the English ones.
    for code in ("da", None, "de"):
        assert emu.description_for(code) == DESCRIPTION_DA, code
        assert emu.short_description_for(code) == SHORT_DA, code
    for code in ("en", "en-GB"):
        assert emu.description_for(code) == DESCRIPTION_EN, code
        assert emu.short_description_for(code) == SHORT_EN, code
    # Danish is set explicitly too, not only as the default.
    bot = samspil.bot
    assert (await bot.get_my_description(language_code="da")).description == DESCRIPTION_DA
    assert (await bot.get_my_short_description()).short_description == SHORT_DA

    # Within Telegram's limits in every language (the emulator refuses longer ones as well).
    for locale in ("da", "en"):
        description, short = description_texts(samspil.i18n, locale)
        assert 0 < utf16_len(description) <= 512 and 0 < utf16_len(short) <= 120, locale
        assert "link" in description and "link" in short


async def test_a_failure_to_set_the_description_does_not_stop_the_bot(
    settings: Settings, clock: FakeClock, emu: BotAPIEmulator, caplog: pytest.LogCaptureFixture,
) -> None:
    emu.inject_fault(500, method="setMyDescription")  # the first one: the default (Danish) text
    with caplog.at_level(logging.WARNING, logger="samspil"):
        app, task = await start_bot(settings, clock)
        try:
            kim = emu.phone(2101, "Kim", language_code="da")
            await kim.send("/start")
            assert (await kim.wait_for("Hej! Jeg er Samspil.")).text
            # The rest was set: the Danish and English people see their texts.
            assert emu.description_for("da") == DESCRIPTION_DA
            assert emu.description_for("en") == DESCRIPTION_EN
            assert emu.short_description_for() == SHORT_DA
        finally:
            await stop_bot(app, task)
    failed = [r.getMessage() for r in caplog.records if "setMyDescription failed" in r.getMessage()]
    assert failed == ["setMyDescription failed language=default error=TelegramServerError"]
