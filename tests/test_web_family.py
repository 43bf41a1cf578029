"""Issue #14: the family's pages of the Mini App (web/family.py) and its downloads (web/downloads.py).

With CHAT_CONTENT=minimal these pages carry what the chat leaves out: the consent card, the
meeting invitation, the plan to agree to, the PDFs. Each calls the same use case as the
chat's button, so what the page stores is what the chat would have stored, and the rules
refuse on the server whatever the chat would refuse. API checks go through aiohttp with
signed initData; a few run in Debian's chromium at a phone's size (screenshots in
tests/screenshots/).
"""

from __future__ import annotations

import io
import json
import re

import aiohttp
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bot.playbook import Cast
from storage.models import AuditEvent, Consent, Dialog, Meeting, MeetingResponse, Person, PlanAnswer
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: autouse)
    PURPOSE,
    Family,
    dialog_state,
    fresh_routers,
    new_bot,
    open_dialog_with,
    open_family,
    participant_id,
)
from tests.helpers_web import PHONE, SHOTS, get, init_data, needs_chromium, phone_browser, post
from web import downloads

SHOWN = re.compile(r'name="shown" value="([0-9a-f]{12})"')


async def invited_family(cast: Cast, samspil) -> Family:  # type: ignore[no-untyped-def]
    """A dialog waiting for consent: both parents and the teacher have opened their links."""
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    dialog_id = await open_dialog_with(cast, samspil, coord, "Emma", "barn", PURPOSE)
    mom, dad, teacher = cast.person("Mette"), cast.person("Lars"), cast.person("Hanne")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.invite(coord, dad, "Parent with custody", "Far")
    await cast.invite(coord, teacher, "Professional", "Klasselærer")
    for who in (teacher, mom, dad):
        await cast.join(who)
    return Family(cast, samspil, coord, mom, dad, teacher, dialog_id)


async def consents(fam: Family) -> list[Consent]:
    async with fam.app.sessionmaker() as s:
        return list(await s.scalars(select(Consent).where(Consent.dialog_id == fam.dialog_id).order_by(Consent.id)))


def shown(body: str) -> str:
    match = SHOWN.search(body)
    assert match, body
    return match.group(1)


def texts(who) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.text for m in who.phone.bot_messages]


# ---- consent ---------------------------------------------------------------------------------------


async def test_consent_given_on_the_page_is_stored_as_the_chat_stores_it(cast, samspil, web_port) -> None:
    fam = await invited_family(cast, samspil)
    d = fam.dialog_id
    mom = init_data(samspil, fam.mom)
    status, body, headers = await get(web_port, f"/page/samtykke?d={d}", mom)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    for part in ("Hej Mette", "Emma", PURPOSE, "Hanne (Klasselærer)", "Lars (Far)", "Faxe Kommune",
                 "Det er frivilligt at sige ja", "Ja, jeg giver samtykke", "Jeg vil tale med tovholderen først"):
        assert part in body, part
    coord_mark, teacher_mark = fam.coord.phone.mark(), fam.teacher.phone.mark()

    status, body = await post(web_port, "/page/samtykke", mom, {"d": d, "answer": "given", "shown": shown(body)})
    assert status == 200
    assert "Tak. Dit samtykke er gemt" in body and "Dialogen går i gang, når Lars også har givet samtykke." in body
    (row,) = await consents(fam)
    assert (row.answer, row.locale) == ("given", "da")
    assert row.participant_id == await participant_id(fam, fam.mom)
    assert "Emma" in row.text_shown and PURPOSE in row.text_shown and "Hanne (Klasselærer)" in row.text_shown
    assert json.loads(row.participants_shown) == ["Mette (Mor)", "Lars (Far)", "Hanne (Klasselærer)"]
    assert await dialog_state(fam) == "awaiting_consent"
    async with samspil.sessionmaker() as s:
        assert await s.scalar(select(AuditEvent.id).where(AuditEvent.dialog_id == d, AuditEvent.action == "consent.given"))
    await cast.settle()
    assert any("Mette (Mor)" in m.text for m in new_bot(fam.coord, coord_mark))  # the coordinator is told

    # The second consent giver says yes on the page too: the dialog opens, the others hear it.
    dad = init_data(samspil, fam.dad)
    _s, card, _h = await get(web_port, f"/page/samtykke?d={d}", dad)
    status, body = await post(web_port, "/page/samtykke", dad, {"d": d, "answer": "given", "shown": shown(card)})
    assert status == 200 and "Dialogen om Emma er nu i gang." in body
    assert await dialog_state(fam) == "active"
    await cast.settle()
    assert new_bot(fam.teacher, teacher_mark), "the teacher is told that the dialog is open"
    # The page now says consent is given, with the way to withdraw it.
    _s, body, _h = await get(web_port, f"/page/samtykke?d={d}", mom)
    assert "Du gav dit samtykke" in body and "Træk mit samtykke tilbage" in body


async def test_talk_first_declined_and_an_old_card(cast, samspil, web_port) -> None:
    fam = await invited_family(cast, samspil)
    d = fam.dialog_id
    mom, dad = init_data(samspil, fam.mom), init_data(samspil, fam.dad)
    _s, card, _h = await get(web_port, f"/page/samtykke?d={d}", mom)
    # Not an answer the card offers; a card that is not the one shown now: nothing is stored.
    status, _body = await post(web_port, "/page/samtykke", mom, {"d": d, "answer": "maybe", "shown": shown(card)})
    assert status == 400
    status, body = await post(web_port, "/page/samtykke", mom, {"d": d, "answer": "given", "shown": "0" * 12})
    assert status == 409 and "Der er sket ændringer i dialogen" in body
    assert await consents(fam) == []

    mark = fam.coord.phone.mark()
    status, body = await post(web_port, "/page/samtykke", mom, {"d": d, "answer": "talk_first", "shown": shown(card)})
    assert status == 200 and "Det er helt i orden. Camilla Tovholder har fået besked" in body
    _s, dad_card, _h = await get(web_port, f"/page/samtykke?d={d}", dad)
    status, body = await post(web_port, "/page/samtykke", dad, {"d": d, "answer": "declined",
                                                                 "shown": shown(dad_card)})
    assert status == 200 and "Du har sagt nej tak." in body
    assert [(c.answer, c.participant_id) for c in await consents(fam)] == [
        ("talk_first", await participant_id(fam, fam.mom)), ("declined", await participant_id(fam, fam.dad))]
    assert await dialog_state(fam) == "awaiting_consent"
    await cast.settle()
    assert len(new_bot(fam.coord, mark)) >= 2  # the coordinator hears both (urgent: at once)
    # The card is offered again, with what she answered.
    _s, body, _h = await get(web_port, f"/page/samtykke?d={d}", mom)
    assert "Du har sagt, at du vil tale med tovholderen først." in body and "Ja, jeg giver samtykke" in body


async def test_only_a_consent_giver_can_consent(cast, samspil, web_port) -> None:
    fam = await invited_family(cast, samspil)
    d = fam.dialog_id
    teacher = init_data(samspil, fam.teacher)
    # Before the family's yes the teacher learns nothing about whom it is about.
    status, body, _h = await get(web_port, f"/page/samtykke?d={d}", teacher)
    assert status == 200 and "Familien har ikke givet samtykke endnu." in body and "Emma" not in body
    status, body = await post(web_port, "/page/samtykke", teacher, {"d": d, "answer": "given", "shown": "x"})
    assert status == 403
    stranger = fam.cast.person("Ukendt Person")
    await fam.cast.say(stranger, "/start")
    status, body = await post(web_port, "/page/samtykke", init_data(samspil, stranger),
                              {"d": d, "answer": "given", "shown": "x"})
    assert status == 403 and "Emma" not in body
    assert await consents(fam) == []
    # Once the family has said yes, the teacher's page says what the dialog is.
    await fam.cast.consent(fam.mom)
    await fam.cast.consent(fam.dad)
    status, body, _h = await get(web_port, f"/page/samtykke?d={d}", teacher)
    assert status == 200 and "Emma" in body and PURPOSE in body and "Du skal ikke gøre noget her." in body
    assert "Ja, jeg giver samtykke" not in body


async def test_consent_withdrawn_on_the_page(cast, samspil, web_port) -> None:
    fam = await open_family(cast, samspil)
    d = fam.dialog_id
    mom = init_data(samspil, fam.mom)
    status, body, _h = await get(web_port, f"/page/samtykke?d={d}&withdraw=1", mom)
    assert status == 200 and "Vil du trække dit samtykke tilbage?" in body
    status, _body = await post(web_port, "/page/samtykke", mom, {"d": d, "answer": "withdrawn", "shown": "0" * 12})
    assert status == 409 and await dialog_state(fam) == "active"
    mark = fam.coord.phone.mark()
    status, body = await post(web_port, "/page/samtykke", mom, {"d": d, "answer": "withdrawn", "shown": shown(body)})
    assert status == 200 and "Nu er der pause i dialogen om Emma." in body
    assert await dialog_state(fam) == "paused"
    last = (await consents(fam))[-1]
    assert last.answer == "withdrawn" and "Vil du trække dit samtykke tilbage?" in last.text_shown
    await cast.settle()
    assert new_bot(fam.coord, mark)


# ---- the meeting invitation ------------------------------------------------------------------------


async def test_an_answer_to_the_meeting_from_the_page(cast, samspil, web_port) -> None:
    fam = await open_family(cast, samspil)
    d = fam.dialog_id
    mom = init_data(samspil, fam.mom)
    status, body, _h = await get(web_port, f"/page/svar?d={d}", mom)
    assert status == 200 and "Der er ikke planlagt et møde endnu." in body
    await cast.schedule_meeting(fam.coord, "3/12 kl. 14", "Skolen, lokale 2")
    status, body, _h = await get(web_port, f"/page/svar?d={d}", mom)
    assert status == 200
    assert "3. december 2026" in body and "Skolen, lokale 2" in body and "Camilla Tovholder leder mødet." in body
    async with samspil.sessionmaker() as s:
        meeting = await s.scalar(select(Meeting).where(Meeting.dialog_id == d))
    mark = fam.coord.phone.mark()
    form = {"d": d, "meeting": meeting.id, "version": meeting.version + 1, "coming": 1}
    status, body = await post(web_port, "/page/svar", mom, form)
    assert status == 409 and "Mødet er flyttet" in body  # an invitation the page did not show
    status, body = await post(web_port, "/page/svar", mom, dict(form, version=meeting.version))
    assert status == 200 and "Tak – du har svaret: Jeg kommer." in body and "Dit svar: Jeg kommer." in body
    status, body = await post(web_port, "/page/svar", init_data(samspil, fam.dad), {"d": d, "coming": 0})
    assert status == 200 and "Jeg kan ikke" in body  # the contract's short form: the meeting now
    async with samspil.sessionmaker() as s:
        answers = {r.participant_id: r.coming for r in await s.scalars(select(MeetingResponse))}
    assert answers == {await participant_id(fam, fam.mom): True, await participant_id(fam, fam.dad): False}
    await cast.settle()
    assert any("Mette (Mor)" in m.text for m in new_bot(fam.coord, mark))
    status, _body = await post(web_port, "/page/svar", mom, {"d": d, "coming": 7})
    assert status == 400


# ---- the plan --------------------------------------------------------------------------------------


async def plan_sent(fam: Family) -> None:
    cast, coord = fam.cast, fam.coord
    await cast.add_goal(coord, "Udvikling og adfærd", "Emma sover godt")
    await cast.add_task(coord, "Fast sengetid kl. 20", "Lars (Far)", "1/12", "18/12")
    await cast.send_plan(coord)


async def plan_state(fam: Family) -> tuple[int, int | None, list[tuple[int, bool, str | None]]]:
    async with fam.app.sessionmaker() as s:
        dialog = await s.get(Dialog, fam.dialog_id)
        answers = [(a.participant_id, a.agrees, a.comment) for a in await s.scalars(
            select(PlanAnswer).where(PlanAnswer.dialog_id == fam.dialog_id).order_by(PlanAnswer.id))]
        return dialog.plan_version, dialog.plan_accepted_version, answers


async def test_the_plan_agreed_on_the_page(cast, samspil, web_port) -> None:
    fam = await open_family(cast, samspil)
    d = fam.dialog_id
    await plan_sent(fam)
    mom, dad, teacher = (init_data(samspil, p) for p in (fam.mom, fam.dad, fam.teacher))
    version, accepted, _answers = await plan_state(fam)
    status, body, _h = await get(web_port, f"/page/plan?d={d}", mom)
    assert status == 200 and "Emma sover godt" in body and "Fast sengetid kl. 20" in body and "Lars (Far)" in body
    assert "Er du enig i planen?" in body and f'name="version" value="{version}"' in body
    _s, body, _h = await get(web_port, f"/page/plan?d={d}", teacher)
    assert "Fast sengetid kl. 20" in body and "Er du enig i planen?" not in body  # no answer of hers

    status, body = await post(web_port, "/page/plan/agree", mom, {"d": d, "version": version - 1})
    assert status == 409 and "Planen er ændret, siden du åbnede siden." in body
    status, _body = await post(web_port, "/page/plan/agree", teacher, {"d": d, "version": version})
    assert status == 403
    assert (await plan_state(fam))[2] == []

    status, body = await post(web_port, "/page/plan/comment", mom, {"d": d, "version": version,
                                                                    "text": "Ring på 010203-1234"})
    assert status == 400 and "CPR" in body and "010203-1234" in body  # kept in the box, not stored
    mark = fam.coord.phone.mark()
    status, body = await post(web_port, "/page/plan/comment", mom, {"d": d, "version": version,
                                                                    "text": "Kan vi sige kl. 20.30?"})
    assert status == 200 and "Din kommentar er sendt til tovholderen." in body
    status, body = await post(web_port, "/page/plan/agree", mom, {"d": d, "version": version})
    assert status == 200 and "Tak, dit svar er gemt." in body and "når Lars også har sagt ja" in body
    status, body = await post(web_port, "/page/plan/agree", dad, {"d": d, "version": version})
    assert status == 200 and "Nu er alle enige om planen" in body
    mom_id, dad_id = await participant_id(fam, fam.mom), await participant_id(fam, fam.dad)
    assert await plan_state(fam) == (version, version, [
        (mom_id, False, "Kan vi sige kl. 20.30?"), (mom_id, True, None), (dad_id, True, None)])
    await cast.settle()
    coord_texts = [m.text for m in new_bot(fam.coord, mark)]
    assert any("Kan vi sige kl. 20.30?" in t for t in coord_texts)
    assert any("er godkendt af" in t for t in coord_texts)


# ---- the documents and their downloads -------------------------------------------------------------


@pytest.fixture
async def met(cast, samspil) -> Family:  # type: ignore[no-untyped-def]
    """An active dialog whose first meeting was held and closed (the referat exists)."""
    fam = await open_family(cast, samspil)
    await cast.write_input(fam.mom, "Familieforhold", worries="Emma sover dårligt", works="Godnathistorie",
                           next_steps="Faste sengetider")
    await cast.share_input(fam.mom)
    await cast.scale(fam.mom, 6)
    await cast.schedule_meeting(fam.coord, "i dag kl. 14", "Skolen, lokale 2")
    await cast.open_meeting(fam.coord)
    await cast.close_meeting(fam.coord, summary="Vi aftalte faste sengetider.")
    return fam


async def meeting_id(fam: Family) -> int:
    async with fam.app.sessionmaker() as s:
        return await s.scalar(select(Meeting.id).where(Meeting.dialog_id == fam.dialog_id, Meeting.status == "closed"))


async def link(port: int, data: str, d: int, kind: str, ref: int) -> tuple[int, dict]:
    status, body = await post(port, "/page/dokumenter/link", data, {"d": d, "kind": kind, "ref": ref})
    return status, json.loads(body)


async def fetch(port: int, url: str) -> tuple[int, bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{url}") as response:
        return response.status, await response.read(), dict(response.headers)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_the_referat_is_listed_and_downloaded_as_a_real_pdf(met, samspil, web_port, monkeypatch) -> None:
    fam, d = met, met.dialog_id
    dad = init_data(samspil, fam.dad)
    status, body, _h = await get(web_port, f"/page/dokumenter?d={d}", dad)
    assert status == 200
    assert "Referat af dialogmødet 23. november 2026" in body and "Overblik over det delte input" in body
    assert "Dine data (PDF)" in body
    status, answer = await link(web_port, dad, d, "referat", await meeting_id(fam))
    assert status == 200 and answer["ok"] and answer["name"] == "referat-emma-2026-11-23.pdf"
    assert answer["url"].startswith("/file/") and "emma" not in answer["url"].lower()
    status, pdf, headers = await fetch(web_port, answer["url"])
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Disposition"].startswith('attachment; filename="referat-emma-2026-11-23.pdf"')
    text = pdf_text(pdf)
    assert "Referat af dialogmøde" in text and "23. november 2026" in text
    assert "Vi aftalte faste sengetider." in text and "Emma sover dårligt" in text
    async with samspil.sessionmaker() as s:  # the read is audited (ids only), as the chat's
        dad_person = await s.scalar(select(Person.id).where(Person.telegram_id == fam.dad.phone.user_id))
        assert await s.scalar(select(AuditEvent.id).where(AuditEvent.actor_id == dad_person,
                                                        AuditEvent.action == "report.pdf"))
    # The overview of the shared input, as the chat's Hent PDF.
    status, answer = await link(web_port, dad, d, "overblik", d)
    status, pdf, _h = await fetch(web_port, answer["url"])
    assert status == 200 and "Emma sover dårligt" in pdf_text(pdf)
    # With CHAT_CONTENT=minimal the file name, which passes through the Telegram app, names no child.
    monkeypatch.setattr(samspil.settings, "chat_content", "minimal")
    status, answer = await link(web_port, dad, d, "referat", await meeting_id(fam))
    assert answer["name"] == "referat-2026-11-23.pdf"
    status, pdf, headers = await fetch(web_port, answer["url"])
    assert status == 200 and "emma" not in headers["Content-Disposition"].lower()
    assert "Vi aftalte faste sengetider." in pdf_text(pdf)


async def test_a_forged_or_expired_address_is_refused(met, samspil, web_port, clock) -> None:
    fam, d = met, met.dialog_id
    status, answer = await link(web_port, init_data(samspil, fam.mom), d, "referat", await meeting_id(fam))
    url = answer["url"]
    token = url.removeprefix("/file/")
    person_id, kind, ref, expires, locale, mac = token.split(".")
    other = "2" if mac[0] != "2" else "3"
    for forged in (f"{person_id}.{kind}.{ref}.{expires}.{locale}.{other}{mac[1:]}",  # the signature
                   f"{int(person_id) + 1}.{kind}.{ref}.{expires}.{locale}.{mac}",  # someone else
                   f"{person_id}.{kind}.{ref}.{int(expires) + 3600}.{locale}.{mac}",  # longer life
                   "nonsense"):
        status, body, _h = await fetch(web_port, f"/file/{forged}")
        assert status == 403 and b"%PDF" not in body and "virker ikke længere" in body.decode()
    clock.advance(seconds=downloads.DOWNLOAD_TTL.total_seconds() + 1)
    status, body, headers = await fetch(web_port, url)
    assert status == 403 and b"%PDF" not in body and headers["Content-Type"].startswith("text/html")


async def test_nobody_downloads_what_is_not_theirs(met, samspil, web_port, cast) -> None:
    fam, d = met, met.dialog_id
    neighbour = cast.person("Nina Nabo")
    await cast.invite(fam.coord, neighbour, "Network", "Nabo")
    await cast.join(neighbour)
    await cast.tap(fam.mom, "✅ Approve")  # added after the start: the family lets her in
    await cast.tap(fam.dad, "✅ Approve")
    async with samspil.sessionmaker() as s:
        mom_person = await s.scalar(select(Person.id).where(Person.telegram_id == fam.mom.phone.user_id))
    nina = init_data(samspil, neighbour)
    # Her own data, yes; the mother's, no (on the page and by a made-up address).
    status, answer = await link(web_port, nina, d, "mydata", mom_person)
    assert status == 403 and not answer["ok"]
    status, answer = await link(web_port, nina, d, "mydatajson", mom_person)
    assert status == 403
    status, mine, _h = await get(web_port, f"/page/dokumenter?d={d}", nina)
    own = re.search(r'data-kind="mydata" data-ref="(\d+)"', mine)
    assert own and int(own.group(1)) != mom_person
    status, answer = await link(web_port, nina, d, "mydatajson", int(own.group(1)))
    status, data, headers = await fetch(web_port, answer["url"])
    assert status == 200 and [seat["name"] for seat in json.loads(data)["seats"]] == ["Nina Nabo"]
    assert headers["Content-Disposition"].startswith("attachment;")
    status, answer = await link(web_port, nina, d, "mydata", int(own.group(1)))
    status, pdf, _h = await fetch(web_port, answer["url"])
    assert status == 200 and "Nina Nabo" in pdf_text(pdf)
    # Someone outside the dialog gets no referat, and an unknown kind is refused.
    stranger = cast.person("Ukendt Person")
    await cast.say(stranger, "/start")
    status, answer = await link(web_port, init_data(samspil, stranger), d, "referat", await meeting_id(fam))
    assert status == 403 and not answer["ok"]
    status, body, _h = await get(web_port, f"/page/dokumenter?d={d}", init_data(samspil, stranger))
    assert status == 403 and "Referat" not in body
    status, body, _h = await get(web_port, "/page/dokumenter", init_data(samspil, stranger))
    assert status == 403  # Samspil has nothing of theirs
    status, body, _h = await get(web_port, "/page/dokumenter", nina)  # from the menu: her one dialog
    assert status == 200 and "Referat af dialogmødet" in body and "Dine egne data" in body
    status, _answer = await link(web_port, nina, d, "everything", 1)
    assert status == 400
    # An address made while she could read it stops working once she cannot (checked again).
    status, answer = await link(web_port, init_data(samspil, fam.teacher), d, "referat", await meeting_id(fam))
    assert status == 200
    mom = init_data(samspil, fam.mom)
    _s, card, _h = await get(web_port, f"/page/samtykke?d={d}&withdraw=1", mom)
    await post(web_port, "/page/samtykke", mom, {"d": d, "answer": "withdrawn", "shown": shown(card)})
    assert await dialog_state(fam) == "paused"
    status, body, _h = await fetch(web_port, answer["url"])
    assert status == 403 and b"%PDF" not in body


# ---- in chromium, at a phone's size -----------------------------------------------------------------


async def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    wide = await page.evaluate("""[...document.querySelectorAll('main *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().left) + '-' + Math.round(e.getBoundingClientRect().right) + ' ' + getComputedStyle(e).width + ' ' + getComputedStyle(e.parentElement).display)""")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], \
        f"the page scrolls sideways on a phone: {wide}"


@needs_chromium
async def test_consent_in_chromium(cast, samspil, web_port, database) -> None:
    if database.kind != "sqlite":
        pytest.skip("chromium runs once, on SQLite")
    fam = await invited_family(cast, samspil)
    async with phone_browser(web_port, samspil, fam.mom, "samtykke", fam.dialog_id) as page:
        await page.wait_for_selector("#card")
        await _no_sideways_scroll(page)
        await page.screenshot(path=str(SHOTS / "samtykke.png"), full_page=True)
        await page.get_by_role("button", name="Ja, jeg giver samtykke").tap()
        await page.wait_for_selector(".ok")
        assert "Tak. Dit samtykke er gemt" in await page.inner_text("main")
        await page.screenshot(path=str(SHOTS / "samtykke_givet.png"), full_page=True)
        await page.get_by_text("Træk mit samtykke tilbage").tap()
        await page.wait_for_selector("button[value=withdrawn]")
        await _no_sideways_scroll(page)
        await page.screenshot(path=str(SHOTS / "samtykke_traek.png"), full_page=True)
        await page.get_by_text("Nej, behold mit samtykke").tap()  # she keeps it: nothing is stored
        await page.wait_for_selector("a.danger")
    assert [c.answer for c in await consents(fam)] == ["given"]


@needs_chromium
async def test_meeting_and_plan_in_chromium(cast, samspil, web_port, database) -> None:
    if database.kind != "sqlite":
        pytest.skip("chromium runs once, on SQLite")
    fam = await open_family(cast, samspil)
    await cast.schedule_meeting(fam.coord, "3/12 kl. 14", "Skolen, lokale 2")
    await plan_sent(fam)
    async with phone_browser(web_port, samspil, fam.dad, "svar", fam.dialog_id) as page:
        await page.wait_for_selector("#meeting")
        await page.get_by_role("button", name="Jeg kommer").tap()
        await page.wait_for_selector(".ok")
        await _no_sideways_scroll(page)
        await page.screenshot(path=str(SHOTS / "svar.png"), full_page=True)
    async with phone_browser(web_port, samspil, fam.dad, "plan", fam.dialog_id) as page:
        await page.wait_for_selector("#answer")
        await _no_sideways_scroll(page)
        await page.screenshot(path=str(SHOTS / "plan.png"), full_page=True)
        await page.get_by_role("button", name="Jeg er enig").tap()
        await page.wait_for_selector(".ok")
        assert "Tak, dit svar er gemt." in await page.inner_text("main")
    async with samspil.sessionmaker() as s:
        assert (await s.scalar(select(MeetingResponse.coming))) is True
    assert (await plan_state(fam))[2] == [(await participant_id(fam, fam.dad), True, None)]


@needs_chromium
async def test_documents_download_in_chromium(met, samspil, web_port, database) -> None:
    if database.kind != "sqlite":
        pytest.skip("chromium runs once, on SQLite")
    async with phone_browser(web_port, samspil, met.mom, "dokumenter", met.dialog_id) as page:
        await page.wait_for_selector("#documents")
        await page.screenshot(path=str(SHOTS / "dokumenter.png"), full_page=True)
        await _no_sideways_scroll(page)
        async with page.expect_download() as info:
            await page.locator("#documents button[data-kind=referat]").tap()
        download = await info.value
        assert download.suggested_filename == "referat-emma-2026-11-23.pdf"
        await page.wait_for_selector('#documents [data-download-status]:has-text("Filen er på vej")')
        await page.screenshot(path=str(SHOTS / "dokumenter_hentet.png"), full_page=True)
        data = open(await download.path(), "rb").read()  # noqa: ASYNC230 (a local temp file)
        assert "Vi aftalte faste sengetider." in pdf_text(data)
        # Inside Telegram (Bot API 8.0) the address goes to Telegram's own download, absolute.
        await page.add_init_script("""window.Telegram = {WebApp: {initData: "", ready() {}, expand() {},
            isVersionAtLeast() { return true; }, downloadFile(o) { window.asked = o; }}};""")
        await page.reload()
        await page.wait_for_selector("#documents")
        await page.locator("#documents button[data-kind=referat]").tap()
        asked = await (await page.wait_for_function("() => window.asked")).json_value()
    assert asked["file_name"] == "referat-emma-2026-11-23.pdf"
    assert asked["url"].startswith(f"http://127.0.0.1:{web_port}/file/")
    status, pdf, _h = await fetch(web_port, asked["url"].split(str(web_port), 1)[1])
    assert status == 200 and "Vi aftalte faste sengetider." in pdf_text(pdf)
