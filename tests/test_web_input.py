"""Issue #14: Skriv input in the Mini App: three boxes on one screen, saved as a private
draft while the person writes, then shared — through the same use case as the chat."""

from __future__ import annotations

import pytest

from tests.helpers_dialog import entries, fresh_routers, new_bot, open_family  # noqa: F401 (fresh_routers: autouse)
from tests.helpers_web import SHOTS, init_data, needs_chromium, phone_browser, post


@pytest.fixture
async def family(cast, samspil):
    return await open_family(cast, samspil)


async def test_boxes_are_kept_as_a_private_draft_then_shared(family, samspil, web_port, cast) -> None:
    mom = init_data(samspil, family.mom)
    form = {"d": family.dialog_id, "a": "family", "box": "worries", "text": "Hun græder om morgenen"}
    status, body = await post(web_port, "/page/input/save", mom, form)
    assert status == 200 and "Gemt som kladde" in body
    status, body = await post(web_port, "/page/input/save", mom, dict(form, text="Hun græder om morgenen."))
    assert status == 200
    (draft,) = await entries(family, family.mom)
    assert draft.worries == "Hun græder om morgenen." and draft.shared_at is None  # replaced, not added
    # A CPR number is refused and not stored.
    status, body = await post(web_port, "/page/input/save", mom, dict(form, box="works", text="Se 010203-1234"))
    assert status == 400 and "CPR" in body
    assert (await entries(family, family.mom))[0].works in (None, "")
    # Then she shares, and the others are told.
    mark = family.teacher.phone.mark()
    status, body = await post(web_port, "/page/input/share", mom, {"d": family.dialog_id, "a": "family"})
    assert status == 200 and "er delt" in body
    assert (await entries(family, family.mom))[0].shared_at is not None
    await cast.settle()
    assert any("Mette (Mor)" in m.text for m in new_bot(family.teacher, mark))


async def test_someone_else_cannot_write_in_the_dialog(family, samspil, web_port, cast) -> None:
    stranger = cast.person("Ukendt Person")
    await cast.say(stranger, "/start")
    status, _ = await post(web_port, "/page/input/save", init_data(samspil, stranger),
                           {"d": family.dialog_id, "a": "family", "box": "worries", "text": "hej"})
    assert status == 403
    assert await entries(family) == []


@needs_chromium
async def test_writing_in_chromium_is_saved_while_typing(family, samspil, web_port) -> None:
    async with phone_browser(web_port, samspil, family.mom, "input", family.dialog_id) as page:
        await page.wait_for_selector("a.choice")
        await page.screenshot(path=str(SHOTS / "input_areas.png"), full_page=True)
        await page.get_by_text("Familieforhold").tap()
        await page.wait_for_selector("textarea#box-worries")
        await page.fill("#box-worries", "Hun sover dårligt")
        await page.wait_for_selector('[data-status-for="worries"]:has-text("Gemt som kladde")')
        await page.fill("#box-works", "Godnathistorien hjælper")
        # Leaving the page at once still keeps what she typed.
        await page.evaluate("Object.defineProperty(document, 'visibilityState', {get: () => 'hidden'});"
                            "document.dispatchEvent(new Event('visibilitychange'))")
        await page.wait_for_selector('[data-status-for="works"]:has-text("Gemt som kladde")')
        await page.screenshot(path=str(SHOTS / "input_area.png"), full_page=True)
        (draft,) = await entries(family, family.mom)
        assert (draft.worries, draft.works, draft.shared_at) == ("Hun sover dårligt", "Godnathistorien hjælper", None)
        await page.get_by_role("button", name="Del input med samarbejdspartnere").tap()
        await page.wait_for_selector(".ok")
        await page.screenshot(path=str(SHOTS / "input_shared.png"), full_page=True)
    assert (await entries(family, family.mom))[0].shared_at is not None


async def test_a_body_over_the_limit_is_refused_and_nothing_is_kept(family, samspil, web_port) -> None:
    status, _ = await post(web_port, "/page/input/save", init_data(samspil, family.mom),
                           {"d": family.dialog_id, "a": "family", "box": "worries", "text": "x" * 200_000})
    assert status == 413
    assert await entries(family) == []


async def test_one_box_holds_at_most_ten_thousand_characters(family, samspil, web_port) -> None:
    mom = init_data(samspil, family.mom)
    form = {"d": family.dialog_id, "a": "family", "box": "worries"}
    status, body = await post(web_port, "/page/input/save", mom, dict(form, text="æ" * 10_001))
    assert status == 400 and "Der er ikke plads til mere" in body
    status, _ = await post(web_port, "/page/input/save", mom, dict(form, text="æ" * 9_990))
    assert status == 200
    assert len((await entries(family, family.mom))[0].worries) == 9_990
