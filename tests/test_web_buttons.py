"""Issue #14: with WEB_PUBLIC_URL set, the chat opens the Mini App: buttons on the home card
and the menu button; without it nothing changes."""

from __future__ import annotations

import pytest

from core.config import ConfigError, Settings
from tests.helpers_dialog import fresh_routers, open_family  # noqa: F401 (fresh_routers: autouse)
from tests.helpers_web import get, init_data

PUBLIC = "https://samspil.example.dk"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"web_public_url": PUBLIC})


def web_apps(message) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {b["text"]: b["web_app"]["url"] for row in (message.reply_markup or {}).get("inline_keyboard", [])
            for b in row if "web_app" in b}


async def test_the_home_card_and_the_menu_button_open_the_mini_app(cast, samspil, emu) -> None:
    fam = await open_family(cast, samspil)
    home = await cast.say(fam.mom, "/start")
    assert web_apps(home) == {"📊 Overblik": f"{PUBLIC}/app?p=overblik&d={fam.dialog_id}"}
    coordinator = await cast.say(fam.coord, "/start")
    assert web_apps(coordinator) == {"📊 Overblik": f"{PUBLIC}/app?p=overblik&d={fam.dialog_id}",
                                     "🖥 Mødetilstand": f"{PUBLIC}/app?p=moede&d={fam.dialog_id}"}
    assert emu.menu_buttons[0] == {"type": "web_app", "text": "Overblik",
                                   "web_app": {"url": f"{PUBLIC}/app?p=overblik"}}


async def test_from_the_menu_button_one_dialog_opens_at_once(cast, samspil, web_port) -> None:
    fam = await open_family(cast, samspil)
    status, body, _ = await get(web_port, "/page/overblik", init_data(samspil, fam.mom))
    assert status == 200 and "Overblik" in body and "Emma" in body
    stranger = cast.person("Ukendt Person")
    await cast.say(stranger, "/start")
    status, body, _ = await get(web_port, "/page/overblik", init_data(samspil, stranger))
    assert status == 200 and "Du er ikke med i en åben dialog lige nu." in body and "Emma" not in body


def test_the_public_address_must_be_https() -> None:
    with pytest.raises((ValueError, ConfigError)):
        Settings(_env_file=None, web_public_url="http://samspil.example.dk")
