"""Issue #14: the Mini App's Overblik and Linealen pages, as the right people and no others.

The emulator hands a person signed initData as Telegram would; Debian's chromium (driven by
Playwright) opens the page as that person, 360x740, and reads what it shows. Forged,
expired and other people's initData are refused. Screenshots go to tests/screenshots/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from emulator import sign_web_app_data
from tests.helpers_dialog import fresh_routers, new_bot, open_family, scores  # noqa: F401 (fresh_routers: autouse)
from tests.helpers_web import PHONE, SHOTS, get, init_data, needs_chromium, phone_browser, post


@pytest.fixture
async def family(cast, samspil):
    fam = await open_family(cast, samspil)
    await cast.write_input(fam.mom, "Familieforhold", worries="Emma sover dårligt <b>om natten</b>",
                           works="Vi læser godnathistorie", next_steps="Faste sengetider")
    await cast.share_input(fam.mom)
    await cast.write_input(fam.teacher, "Familieforhold", worries="Træt i timerne", works=None,
                           next_steps="Tal med forældrene")
    await cast.share_input(fam.teacher)
    await cast.scale(fam.mom, 6)
    await cast.scale(fam.teacher, 6)
    await cast.scale(fam.dad, 4)
    return fam


def overblik(family) -> str:
    return f"/page/overblik?d={family.dialog_id}"


async def test_a_participant_sees_the_overview_and_nothing_is_cached(family, samspil, web_port) -> None:
    status, body, headers = await get(web_port, overblik(family), init_data(samspil, family.mom))
    assert status == 200
    assert "Emma" in body and "Overblik" in body
    assert "Emma sover dårligt &lt;b&gt;om natten&lt;/b&gt;" in body  # what she typed, escaped
    assert "Mette (Mor)" in body and "Hanne (Klasselærer)" in body
    assert headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize("case", ["missing", "forged", "expired", "other_bot"])
async def test_unsigned_forged_and_old_init_data_are_refused(family, samspil, web_port, case) -> None:
    good = init_data(samspil, family.mom)
    user = '{"id":%d,"first_name":"Mette"}' % family.mom.phone.user_id  # noqa: UP031
    data = {
        "missing": None,
        "forged": good.replace("Mette", "Mettx"),  # the user changed, the hash not
        "expired": init_data(samspil, family.mom, age=timedelta(hours=2)),
        "other_bot": sign_web_app_data("987654321:OTHER-token", {
            "user": user, "auth_date": str(int(samspil.clock.now().timestamp()))}),
    }[case]
    status, body, _headers = await get(web_port, overblik(family), data)
    assert status == 401
    assert "Emma" not in body and "sover" not in body


async def test_someone_outside_the_dialog_is_refused(family, samspil, web_port, cast) -> None:
    stranger = cast.person("Ukendt Person")
    await cast.say(stranger, "/start")
    status, body, _ = await get(web_port, overblik(family), init_data(samspil, stranger))
    assert status == 403
    assert "Du er ikke med i den dialog." in body
    assert "sover" not in body


@pytest.mark.parametrize("number", ["99999999999999999999", "-3", "2147483648", "1e9", "%00"])
async def test_a_page_for_a_dialog_number_that_cannot_exist_is_refused_plainly(family, samspil, web_port,
                                                                               number) -> None:
    """A made-up number names no dialog: a plain refusal, never an error (PostgreSQL refuses
    integers beyond 32 bits), and nothing of the family's dialog."""
    for page in ("linealen", "input", "moede", "plan", "samtykke", "svar", "indkald", "afslut"):
        status, body, _ = await get(web_port, f"/page/{page}?d={number}", init_data(samspil, family.mom))
        assert status in (200, 403), (page, status, body[:200])
        assert "sover" not in body


@needs_chromium
async def test_the_overview_in_chromium_at_a_phones_size(family, samspil, web_port) -> None:
    async with phone_browser(web_port, samspil, family.mom, "overblik", family.dialog_id) as page:
        await page.wait_for_selector("#ruler")
        text = await page.inner_text("main")
        assert "Emma" in text
        assert "Emma sover dårligt <b>om natten</b>" in text  # shown as typed, not as markup
        assert "Mette (Mor)\n6" in text or "Mette (Mor) 6" in text
        assert await page.locator("#ruler svg").count() == 1
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], \
            "the page scrolls sideways on a phone"
        await page.screenshot(path=str(SHOTS / "overblik.png"), full_page=True)


async def test_the_ruler_page_saves_the_same_way_as_the_chat(family, samspil, web_port, cast) -> None:
    mom = init_data(samspil, family.mom)
    status, body = await post(web_port, "/page/linealen", mom, {"d": family.dialog_id, "round": 1})
    assert status == 400 and "Tryk på et tal først." in body
    status, body = await post(web_port, "/page/linealen", mom, {"d": family.dialog_id, "round": 1, "value": 11})
    assert status == 400
    status, body = await post(web_port, "/page/linealen", mom, {"d": family.dialog_id, "round": 0, "value": 3})
    assert status == 409
    assert [s.value for s in await scores(family, family.mom)] == [6]  # nothing changed
    status, body = await post(web_port, "/page/linealen", mom, {"d": family.dialog_id, "round": 1, "value": 3})
    assert status == 200 and "Gemt: dit tal er 3" in body
    assert [s.value for s in await scores(family, family.mom)] == [6, 3]
    stranger = cast.person("Ukendt Person")
    await cast.say(stranger, "/start")
    status, _body = await post(web_port, "/page/linealen", init_data(samspil, stranger),
                               {"d": family.dialog_id, "round": 1, "value": 9})
    assert status == 403


async def test_a_high_number_from_the_page_reaches_the_coordinator(family, samspil, web_port, cast) -> None:
    mark = family.coord.phone.mark()
    status, _body = await post(web_port, "/page/linealen", init_data(samspil, family.dad),
                               {"d": family.dialog_id, "round": 1, "value": 10})
    assert status == 200
    await cast.settle()
    assert any("Lars (Far)" in m.text and "10" in m.text for m in new_bot(family.coord, mark))


@needs_chromium
async def test_the_ruler_page_in_chromium(family, samspil, web_port) -> None:
    async with phone_browser(web_port, samspil, family.dad, "linealen", family.dialog_id) as page:
        await page.wait_for_selector("form[data-post]")
        assert await page.is_checked("#v4")  # his number now
        await page.tap("label[for=v7]")
        assert await page.locator(".m7").is_visible()
        assert not await page.locator(".m3").is_visible()
        await page.screenshot(path=str(SHOTS / "linealen.png"), full_page=True)
        await page.tap("button[type=submit]")
        await page.wait_for_selector(".ok")
        assert "Gemt: dit tal er 7" in await page.inner_text("main")
        await page.screenshot(path=str(SHOTS / "linealen_gemt.png"), full_page=True)
    assert [s.value for s in await scores(family, family.dad)] == [4, 7]
