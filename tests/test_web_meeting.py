"""Issue #14: Mødetilstand, the coordinator's page in the meeting (Telegram Desktop on the
meeting room's screen): the joint goal on the ruler set by tapping, the plan edited in place,
then sent for the family's acceptance, which stays in the chat."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import DialogRound, Goal, Task
from tests.helpers_dialog import fresh_routers, new_bot, open_family  # noqa: F401 (fresh_routers: autouse)
from tests.helpers_web import SHOTS, get, init_data, needs_chromium, phone_browser, post


@pytest.fixture
async def family(cast, samspil):
    fam = await open_family(cast, samspil)
    await cast.scale(fam.mom, 6)
    await cast.scale(fam.teacher, 5)
    await cast.schedule_meeting(fam.coord, "i dag kl. 14", "Skolen, lokale 2")
    await cast.open_meeting(fam.coord)
    return fam


async def stored(family) -> tuple[int | None, list[str], list[tuple[str, str, str]]]:
    async with family.app.sessionmaker() as s:
        target = await s.scalar(select(DialogRound.joint_target).where(DialogRound.dialog_id == family.dialog_id))
        goals = [g.text for g in await s.scalars(select(Goal).where(Goal.dialog_id == family.dialog_id))]
        tasks = [(t.what, t.starts_on.isoformat(), t.ends_on.isoformat())
                 for t in await s.scalars(select(Task).where(Task.dialog_id == family.dialog_id))]
    return target, goals, tasks


async def test_only_the_coordinator_has_the_meeting_page(family, samspil, web_port) -> None:
    status, body, _ = await get(web_port, f"/page/moede?d={family.dialog_id}", init_data(samspil, family.mom))
    assert status == 403 and "Det er kun tovholderen, der kan gøre det." in body
    status, _body = await post(web_port, "/page/moede/target", init_data(samspil, family.mom),
                               {"d": family.dialog_id, "value": 2})
    assert status == 403
    assert (await stored(family))[0] is None


async def test_bad_input_changes_nothing(family, samspil, web_port) -> None:
    coord = init_data(samspil, family.coord)
    d = family.dialog_id
    status, body = await post(web_port, "/page/moede/goal", coord, {"d": d, "area": "family", "text": "  "})
    assert status == 400 and "Skriv en kort tekst" in body
    status, body = await post(web_port, "/page/moede/goal", coord, {"d": d, "area": "nope", "text": "Mål"})
    assert status == 400
    status, _ = await post(web_port, "/page/moede/goal", coord, {"d": d, "area": "family", "text": "Ro om natten"})
    assert status == 200
    async with family.app.sessionmaker() as s:
        goal_id = await s.scalar(select(Goal.id))
    status, body = await post(web_port, "/page/moede/task", coord, {
        "d": d, "goal": goal_id, "what": "Fast sengetid", "owner": 1, "start": "2026-12-10", "end": "2026-12-01"})
    assert status == 400 and "Slutdatoen" in body
    assert await stored(family) == (None, ["Ro om natten"], [])


@needs_chromium
async def test_the_meeting_in_chromium(family, samspil, web_port, cast) -> None:
    async with phone_browser(web_port, samspil, family.coord, "moede", family.dialog_id) as page:
        await page.wait_for_selector("#ruler")
        await page.tap("label[for=t4]")
        await page.get_by_role("button", name="Sæt det fælles mål").tap()
        await page.wait_for_selector(".ok")
        assert "Det fælles mål på linealen er 4." in await page.inner_text("main")
        await page.locator("summary", has_text="Tilføj mål").tap()
        await page.select_option("#goal-area", "family")
        await page.fill("#goal-text", "Emma sover godt")
        await page.get_by_role("button", name="Tilføj mål").tap()
        await page.wait_for_selector("article.goal")
        await page.locator("article.goal summary").first.tap()
        await page.fill("article.goal input[name=what]", "Fast sengetid kl. 20")
        await page.fill("article.goal input[name=start]", "2026-11-24")
        await page.fill("article.goal input[name=end]", "2026-12-18")
        await page.locator("article.goal form.task-form button").first.tap()
        await page.wait_for_selector('.ok:has-text("Opgaven er tilføjet.")')
        await page.screenshot(path=str(SHOTS / "moede.png"), full_page=True)
        mark = family.mom.phone.mark()
        await page.get_by_role("button", name="Send planen til familien").tap()
        await page.wait_for_selector('.ok:has-text("Planen er sendt til familien.")')
    assert await stored(family) == (4, ["Emma sover godt"], [("Fast sengetid kl. 20", "2026-11-24", "2026-12-18")])
    await cast.settle()
    assert any("Fast sengetid kl. 20" in m.text for m in new_bot(family.mom, mark))  # she answers in the chat
