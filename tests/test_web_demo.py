"""`samspil demo --web`: the finished demo dialog and its Mini App stay up, with a URL per person."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from urllib.parse import unquote

import aiohttp
import pytest

from bot import demo
from web.auth import HEADER

URL = re.compile(r"^  (?P<who>[^:]+?)(?: in the meeting)?: (?P<url>http://127\.0\.0\.1:\d+/app\?p=(?P<page>\w+)"
                 r"&d=(?P<d>\d+))#tgWebAppData=(?P<data>\S+)$", re.M)


async def test_the_demo_keeps_its_mini_app_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    task = asyncio.create_task(demo.run_demo(str(tmp_path), web=True))
    printed = ""
    try:
        for _ in range(600):  # the demo plays a whole dialog first
            await asyncio.sleep(0.2)
            printed += capsys.readouterr().out
            if "Press Ctrl-C to stop." in printed or task.done():
                break
        assert not task.done(), printed[-2000:]
        links = {(m["who"], m["page"]): m for m in URL.finditer(printed)}
        assert {who for who, _page in links} == {"Camilla Holm", "Mette", "Jens", "Hanne Lund"}
        mette = links[("Mette", "overblik")]
        base = mette["url"].split("/app")[0]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/page/overblik?d={mette['d']}",
                                headers={HEADER: unquote(mette["data"])}) as response:
                body = await response.text()
                assert response.status == 200, body
            assert "Emma" in body and "Mette" in body
            camilla = links[("Camilla Holm", "moede")]
            async with http.get(f"{base}/page/moede?d={camilla['d']}",
                                headers={HEADER: unquote(camilla["data"])}) as response:
                assert response.status == 200
            # Mette's signed data does not open the coordinator's page.
            async with http.get(f"{base}/page/moede?d={mette['d']}",
                                headers={HEADER: unquote(mette["data"])}) as response:
                assert response.status == 403
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
