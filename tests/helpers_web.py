"""The Mini App in tests: signed initData from the emulator, and Debian's chromium at a phone's size."""

from __future__ import annotations

import shutil
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import App
from bot.playbook import Person
from web.auth import HEADER

SHOTS = Path(__file__).resolve().parent / "screenshots"  # looked at by a person, not compared
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PHONE = {"width": 360, "height": 740}
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")


def init_data(samspil: App, who: Person, *, age: timedelta = timedelta(minutes=1)) -> str:
    """What Telegram would hand `who` opening the Mini App `age` ago (by the bot's clock)."""
    return who.phone.web_app_init_data((samspil.clock.now() - age).timestamp())


async def get(port: int, path: str, data: str | None) -> tuple[int, str, dict[str, str]]:
    headers = {HEADER: data} if data is not None else {}
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}",
                                                         headers=headers) as response:
        return response.status, await response.text(), dict(response.headers)


async def post(port: int, path: str, data: str, form: dict[str, Any]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(
            f"http://127.0.0.1:{port}{path}", headers={HEADER: data}, data=form) as response:
        return response.status, await response.text()


@asynccontextmanager
async def phone_browser(port: int, samspil: App, who: Person, page_name: str, dialog_id: int
                        ) -> AsyncIterator[Any]:
    """A page of the Mini App open in chromium, 360x740, as `who`; Telegram's script unreachable
    (the page must work without it), initData in the URL fragment as Telegram hands it."""
    from playwright.async_api import async_playwright

    SHOTS.mkdir(exist_ok=True)
    fragment = "tgWebAppData=" + urllib.parse.quote(init_data(samspil, who))
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
            await page.route("https://telegram.org/**", lambda route: route.abort())
            await page.goto(f"http://127.0.0.1:{port}/app?p={page_name}&d={dialog_id}#{fragment}")
            yield page
        finally:
            await browser.close()
