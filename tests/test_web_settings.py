"""Issue #14 (CHAT_CONTENT=minimal): the last chat actions as Mini App pages, at the API.

- the family approves a participant added after the start on the consent page (/page/samtykke,
  POST /page/samtykke/godkend), as the chat's "✅ Godkend / ✖️ Afvis";
- the coordinator closes a dialog (/page/luk), as /luk;
- the coordinator's contact details, and for the family how to reach the coordinator and a
  message to them (/page/kontakt, /page/kontakt/besked), as /kontakt;
- how the coordinator's notices come (/page/notifikationer), as /notifikationer.

Each calls the same use case as the chat: what it stores is what the chat stores, and the people
the chat tells are told (their phones show it). The wrong person is refused on the server; bad
input is answered in Danish and changes nothing. One screenshot per page in Debian's chromium.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core import texts
from rules.access import Refusal
from storage.models import Approval, Dialog, NoticePreference, OutboxMessage, Participant, Person
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    Family,
    dialog_state,
    fresh_routers,
    in_danish,
    new_bot,
    open_family,
    participant_id,
    refusal,
    snapshot_of_content,
)
from tests.helpers_web import SHOTS, get, init_data, needs_chromium, phone_browser, post

KEY = re.compile(r'name="key" value="([0-9a-f]{16})"')


@pytest.fixture
async def fam(cast, samspil) -> Family:
    return await open_family(cast, samspil)


async def seat_named(app, dialog_id: int, name: str) -> Participant:  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as s:
        return next(p for p in await s.scalars(select(Participant).where(Participant.dialog_id == dialog_id))
                    if p.name == name)


async def approvals(app, newcomer_id: int) -> list[tuple[int, bool]]:  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as s:
        return [(a.approver_id, a.approved) for a in await s.scalars(
            select(Approval).where(Approval.participant_id == newcomer_id).order_by(Approval.id))]


# ---- (a) a newcomer approved on the consent page ----------------------------------------------------


async def test_the_family_approves_a_newcomer_on_the_consent_page(fam, cast, samspil, web_port) -> None:
    d, coord, mom, dad = fam.dialog_id, fam.coord, fam.mom, fam.dad
    grandpa = cast.person("Ole")
    await cast.invite(coord, grandpa, "Network", "Morfar")
    ole = await seat_named(samspil, d, "Ole")
    assert ole.approval == "pending"
    me = init_data(samspil, mom)
    status, page, _h = await get(web_port, f"/page/samtykke?d={d}", me)
    assert status == 200 and "En ny person?" in page
    assert "Camilla Tovholder vil gerne have Ole (Morfar) (Netværk) med i dialogen." in page
    assert f'name="newcomer" value="{ole.id}"' in page and "✅ Godkend" in page

    # The wrong people are refused on the server, and nothing changes.
    before = await snapshot_of_content(samspil)
    for who, said in ((fam.teacher, refusal(fam, Refusal.NOT_CONSENT_GIVER)),
                      (coord, refusal(fam, Refusal.NOT_CONSENT_GIVER))):
        status, body = await post(web_port, "/page/samtykke/godkend", init_data(samspil, who),
                                  {"d": d, "newcomer": ole.id, "answer": "yes"})
        assert status == 403 and said in body, who.name
    # Bad input: no such answer, no such person, a person of another dialog.
    for form in ({"d": d, "newcomer": ole.id, "answer": "maybe"}, {"d": d, "newcomer": 999999, "answer": "yes"},
                 {"d": d, "newcomer": "x", "answer": "yes"},
                 {"d": d, "newcomer": await participant_id(fam, dad), "answer": "yes"}):
        status, body = await post(web_port, "/page/samtykke/godkend", me, form)
        assert (status, "Vælg et af svarene." in body) == (400, True) \
            or (status, "Det er allerede afgjort." in body) == (409, True), form
    assert await snapshot_of_content(samspil) == before

    # Mette says yes on the page: stored as the chat's tap stores it; Ole waits for Lars.
    status, body = await post(web_port, "/page/samtykke/godkend", me, {"d": d, "newcomer": ole.id, "answer": "yes"})
    assert status == 200 and "Tak. Ole (Morfar) kommer med, når Lars også har godkendt." in body
    assert "En ny person?" not in body  # her answer is given: the question is gone
    assert await approvals(samspil, ole.id) == [(await participant_id(fam, mom), True)]
    status, body = await post(web_port, "/page/samtykke/godkend", me, {"d": d, "newcomer": ole.id, "answer": "no"})
    assert status == 409 and "Du har allerede svaret." in body
    assert len(await approvals(samspil, ole.id)) == 1

    # Lars says yes in the chat: Ole is approved, and the coordinator is told (as with two chat taps).
    mark = coord.phone.mark()
    await cast.tap(dad, "✅ Approve", expect="Tak.")
    await cast.settle()
    assert (await seat_named(samspil, d, "Ole")).approval == "approved"
    assert any("Familien har godkendt Ole (Morfar)" in m.text for m in new_bot(coord, mark))


async def test_a_newcomer_refused_on_the_page_is_not_let_in(fam, cast, samspil, web_port) -> None:
    d, coord = fam.dialog_id, fam.coord
    await cast.invite(coord, cast.person("Nina"), "Professional", "Talepædagog")
    nina = await seat_named(samspil, d, "Nina")
    mark = coord.phone.mark()
    status, body = await post(web_port, "/page/samtykke/godkend", init_data(samspil, fam.dad),
                              {"d": d, "newcomer": nina.id, "answer": "no"})
    assert status == 200
    assert "Du har sagt nej til Nina (Talepædagog). Personen kommer ikke med. Tovholderen får besked." in body
    assert (await seat_named(samspil, d, "Nina")).approval == "refused"
    await cast.settle()
    assert new_bot(coord, mark), "the coordinator is told"
    # Decided: Mette's answer comes too late, and changes nothing.
    status, body = await post(web_port, "/page/samtykke/godkend", init_data(samspil, fam.mom),
                              {"d": d, "newcomer": nina.id, "answer": "yes"})
    assert status == 409 and "Det er allerede afgjort." in body
    assert len(await approvals(samspil, nina.id)) == 1


# ---- (b) closing a dialog ---------------------------------------------------------------------------


async def test_the_coordinator_closes_a_dialog_on_the_page(fam, cast, samspil, web_port) -> None:
    d, coord = fam.dialog_id, fam.coord
    me = init_data(samspil, coord)
    status, page, _h = await get(web_port, "/page/luk", me)  # from the menu: her only dialog
    assert status == 200 and 'action="/page/luk"' in page and f'name="d" value="{d}"' in page
    assert "Hvorfor bliver dialogen lukket?" in page and "Alle i dialogen får besked om, at den er lukket" in page

    before = await snapshot_of_content(samspil)
    for who in (fam.mom, fam.teacher):  # only the dialog's coordinator
        for answer in (await get(web_port, f"/page/luk?d={d}", init_data(samspil, who)),
                       await post(web_port, "/page/luk", init_data(samspil, who), {"d": d, "reason": "Målene er nået"})):
            assert answer[0] == 403, who.name
    for reason, said in (("  ", in_danish(samspil, texts.empty_answer)),
                         ("x" * 501, in_danish(samspil, texts.too_long, 500)),
                         ("Se 120315-1234", in_danish(samspil, texts.cpr_refused))):
        status, body = await post(web_port, "/page/luk", me, {"d": d, "reason": reason})
        assert status == 400 and said in body, reason
    assert await snapshot_of_content(samspil) == before

    marks = {who.name: who.phone.mark() for who in fam.everyone}
    status, body = await post(web_port, "/page/luk", me, {"d": d, "reason": " Målene er nået. "})
    assert status == 200 and "Dialogen om Emma er lukket, og alle i den har fået besked." in body
    assert await dialog_state(fam) == "closed"
    async with samspil.sessionmaker() as s:
        dialog = await s.get(Dialog, d)
        assert (dialog.close_reason, dialog.closed_at is not None) == ("Målene er nået.", True)
    await cast.settle()
    for who in (fam.mom, fam.dad, fam.teacher):  # everyone in it is told why, as after the chat's /luk
        assert any("Målene er nået." in m.text for m in new_bot(who, marks[who.name])), who.name
    status, body = await post(web_port, "/page/luk", me, {"d": d, "reason": "Igen"})
    assert status == 403  # closed: nothing more


# ---- (c) contact details and a message to the coordinator ---------------------------------------------


async def test_the_coordinator_keeps_her_contact_details_on_the_page(fam, cast, samspil, web_port) -> None:
    me = init_data(samspil, fam.coord)
    status, page, _h = await get(web_port, "/page/kontakt", me)
    assert status == 200 and "Dine kontaktoplysninger" in page and 'action="/page/kontakt"' in page

    async def details() -> tuple:  # type: ignore[type-arg]
        async with samspil.sessionmaker() as s:
            p = await s.scalar(select(Person).where(Person.telegram_id == fam.coord.phone.user_id))
            return p.contact_phone, p.contact_email, p.contact_hours

    status, body = await post(web_port, "/page/kontakt", me,
                              {"phone": "12345678", "email": " camilla@faxe.dk ", "hours": "Hverdage 9-12"})
    assert status == 200 and "Gemt." in body and 'value="12 34 56 78"' in body
    assert await details() == ("12 34 56 78", "camilla@faxe.dk", "Hverdage 9-12")  # as the chat's steps store it
    # The family sees them on their contact page.
    _s, page, _h = await get(web_port, f"/page/kontakt?d={fam.dialog_id}", init_data(samspil, fam.mom))
    assert "Din tovholder er Camilla Tovholder" in page and "Telefon: 12 34 56 78" in page

    before = await snapshot_of_content(samspil)
    for form, said in (({"phone": "12", "email": "", "hours": ""}, "Det ligner ikke et telefonnummer."),
                       ({"phone": "", "email": "camilla@", "hours": ""}, "Det ligner ikke en mailadresse."),
                       ({"phone": "", "email": "", "hours": "x" * 121}, in_danish(samspil, texts.too_long, 120)),
                       ({"phone": "", "email": "", "hours": "120315-1234"}, in_danish(samspil, texts.cpr_refused))):
        status, body = await post(web_port, "/page/kontakt", me, form)
        assert status == 400 and said in body, form
    assert await snapshot_of_content(samspil) == before
    # A family member cannot set details.
    status, body = await post(web_port, "/page/kontakt", init_data(samspil, fam.mom), {"phone": "87654321"})
    assert status == 403 and await details() == ("12 34 56 78", "camilla@faxe.dk", "Hverdage 9-12")
    # Empty fields remove the details (the chat's "Fjern").
    status, body = await post(web_port, "/page/kontakt", me, {"phone": "", "email": "", "hours": ""})
    assert status == 200 and await details() == (None, None, None)


async def test_a_family_member_writes_to_the_coordinator_on_the_page(fam, cast, samspil, web_port) -> None:
    d, coord = fam.dialog_id, fam.coord
    me = init_data(samspil, fam.mom)
    status, page, _h = await get(web_port, "/page/kontakt", me)  # from the menu: her only dialog
    assert status == 200 and "Din tovholder er Camilla Tovholder" in page
    assert "Camilla Tovholder har ikke skrevet et telefonnummer eller en mail endnu." in page
    key = KEY.search(page).group(1)

    before = await snapshot_of_content(samspil)
    for form, said in (({"d": d, "key": key, "text": " "}, in_danish(samspil, texts.empty_answer)),
                       ({"d": d, "key": key, "text": "x" * 3001}, in_danish(samspil, texts.too_long, 3000)),
                       ({"d": d, "key": key, "text": "Mit CPR er 120315-1234"}, in_danish(samspil, texts.cpr_refused)),
                       ({"d": d, "key": "forged", "text": "Hej"}, "Beskeden kunne ikke sendes fra siden.")):
        status, body = await post(web_port, "/page/kontakt/besked", me, form)
        assert status == 400 and said in body, form
    # Someone without a seat in the dialog, and the coordinator herself.
    stranger = cast.person("Ukendt")
    await stranger.phone.send("/start")
    await cast.settle()
    status, _b = await post(web_port, "/page/kontakt/besked", init_data(samspil, stranger),
                            {"d": d, "key": key, "text": "Hej"})
    assert status == 403
    status, body = await post(web_port, "/page/kontakt/besked", init_data(samspil, coord),
                              {"d": d, "key": key, "text": "Hej"})
    assert status == 403 and "Du er selv tovholder i denne dialog." in body
    assert await snapshot_of_content(samspil) == before

    mark = coord.phone.mark()
    message = "Kan vi tale sammen i morgen?"
    status, body = await post(web_port, "/page/kontakt/besked", me, {"d": d, "key": key, "text": message})
    assert status == 200 and "✓ Sendt til tovholderen, Camilla Tovholder." in body
    status, body = await post(web_port, "/page/kontakt/besked", me, {"d": d, "key": key, "text": message})
    assert status == 200  # the same form sent twice: the coordinator gets it once
    await cast.settle()
    got = [m.text for m in new_bot(coord, mark) if message in m.text]
    assert len(got) == 1 and got[0].startswith("✉️ Besked fra Mette (Mor) om Emma")  # as from the chat
    async with samspil.sessionmaker() as s:
        rows = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "family_message")))
        assert len(rows) == 1 and rows[0].dialog_id == d


# ---- (d) the coordinator's notices ---------------------------------------------------------------------


async def test_the_coordinator_chooses_how_notices_come_on_the_page(fam, cast, samspil, web_port) -> None:
    me = init_data(samspil, fam.coord)
    status, page, _h = await get(web_port, "/page/notifikationer", me)
    assert status == 200 and "Hvordan vil du have de andre beskeder?" in page
    assert "Nu: Hver besked kommer med det samme" in page  # the tests' default (COORDINATOR_NOTICES)
    assert 'value="at_once" checked' in page and 'value="digest-0800-1400"' in page

    async def stored() -> list[tuple]:  # type: ignore[type-arg]
        async with samspil.sessionmaker() as s:
            return [(p.mode, p.digest_times) for p in await s.scalars(select(NoticePreference))]

    before = await snapshot_of_content(samspil)
    for choice in ("", "digest-0300", "sometimes"):
        status, body = await post(web_port, "/page/notifikationer", me, {"choice": choice})
        assert status == 400 and "Vælg en af måderne." in body, choice
    for who in (fam.mom, fam.teacher):
        status, body = await post(web_port, "/page/notifikationer", init_data(samspil, who), {"choice": "at_once"})
        assert status == 403 and "Kun en registreret tovholder kan gøre det." in body
    assert await snapshot_of_content(samspil) == before

    status, body = await post(web_port, "/page/notifikationer", me, {"choice": "digest-0800-1400"})
    assert status == 200 and "Gemt." in body and 'value="digest-0800-1400" checked' in body
    assert "Nu: Dine beskeder bliver samlet i én besked kl. 8.00 og 14.00 på hverdage." in body
    assert await stored() == [("digest", None)]  # the default times: they follow DIGEST_TIMES
    status, body = await post(web_port, "/page/notifikationer", me, {"choice": "digest-1400"})
    assert status == 200 and "kl. 14.00 på hverdage" in body
    assert await stored() == [("digest", "14:00")]
    # The chat's /notifikationer reads the same choice.
    reply = await cast.say(fam.coord, "/notifikationer")
    assert "✓ 📬 Samlet kl. 14.00 på hverdage" in [b for row in reply.buttons for b in row]
    status, body = await post(web_port, "/page/notifikationer", me, {"choice": "at_once"})
    assert status == 200 and 'value="at_once" checked' in body and await stored() == [("at_once", None)]


# ---- one screenshot of each page -------------------------------------------------------------------


@needs_chromium
async def test_the_pages_in_chromium(fam, cast, samspil, web_port, database) -> None:
    if database.kind != "sqlite":
        pytest.skip("chromium runs once, on SQLite")
    d = fam.dialog_id
    await cast.invite(fam.coord, cast.person("Ole"), "Network", "Morfar")
    async with phone_browser(web_port, samspil, fam.mom, "samtykke", d) as page:
        await page.wait_for_selector(".newcomer")
        await page.screenshot(path=str(SHOTS / "samtykke_ny_person.png"), full_page=True)
        await page.get_by_role("button", name="✅ Godkend").tap()
        await page.wait_for_selector(".ok")
        assert "Tak. Ole (Morfar) kommer med, når Lars også har godkendt." in await page.inner_text("main")
    async with phone_browser(web_port, samspil, fam.mom, "kontakt", d) as page:
        await page.wait_for_selector("textarea#text")
        await page.fill("textarea#text", "Kan vi tale sammen i morgen?")
        await page.screenshot(path=str(SHOTS / "kontakt_familie.png"), full_page=True)
        await page.get_by_role("button", name="Send").tap()
        await page.wait_for_selector(".ok")
    async with phone_browser(web_port, samspil, fam.coord, "kontakt", 0) as page:
        await page.wait_for_selector("input#phone")
        await page.fill("input#phone", "12")
        await page.get_by_role("button", name="Gem").tap()
        await page.wait_for_selector(".field-problem")
        await page.screenshot(path=str(SHOTS / "kontakt.png"), full_page=True)
    async with phone_browser(web_port, samspil, fam.coord, "notifikationer", 0) as page:
        await page.wait_for_selector("form")
        await page.get_by_text("🔔 Hver for sig med det samme").tap()
        await page.get_by_role("button", name="Gem").tap()
        await page.wait_for_selector(".ok")
        await page.screenshot(path=str(SHOTS / "notifikationer.png"), full_page=True)
    async with phone_browser(web_port, samspil, fam.coord, "luk", d) as page:
        await page.wait_for_selector("textarea#reason")
        await page.fill("textarea#reason", "Målene er nået.")
        await page.screenshot(path=str(SHOTS / "luk.png"), full_page=True)
        await page.get_by_role("button", name="Ja, luk dialogen").tap()
        await page.wait_for_selector(".ok")
    assert await dialog_state(fam) == "closed"
