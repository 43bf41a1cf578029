"""Issue #14, CHAT_CONTENT=minimal: nothing personal passes through Telegram.

A whole dialog cycle runs with the chat as a doorbell and a launcher and the Mini App as the
place where everything with content is read and written: the coordinator registers (chat),
opens a dialog and invites three people (/page/ny, /page/inviter), they join with their links
(chat) and the parents consent (/page/samtykke); everyone writes and shares input
(/page/input/*) and puts a number on the ruler (/page/linealen); the coordinator calls a
meeting (/page/indkald), people answer (the chat's RSVP buttons and /page/svar); the days pass
(reminders, digests); the meeting is opened (/page/moede/open), the joint target, a goal and a
task are set and the plan is sent (/page/moede/*), the meeting is closed with a summary and a
case number (/page/afslut); a parent comments on the plan, both agree (/page/plan/*); the
referat is downloaded (/page/dokumenter/link, /file/<token>). Meanwhile people use the chat as
people do: a worry typed into it, a photo, /start, commands, an old button.

Then every call the bot made to the Bot API (every text, caption, button label and address,
every edit, every callback answer, the menus) is scanned for the child's name, every name
and relation typed, and every piece of free text typed anywhere: none may appear, and no
document may have been sent.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.admin import add_staff
from bot.app import App
from bot.playbook import Cast, Person, link_token
from core.config import Settings, load_settings
from core.neutral import KIND_GROUPS
from core.notices import RENDERERS
from emulator import BotAPIEmulator
from handlers.home_views import HomeAction, HomeCb
from services import membership
from storage import plan as pl
from storage import queries as q
from storage.models import Dialog, Document, Goal, Meeting, OutboxMessage
from tests.conftest import TEST_DATA_KEY, Database, start_bot, stop_bot
from tests.helpers import fsm
from tests.helpers_dialog import fresh_routers, participant_id, snapshot_of_content  # noqa: F401 (autouse)
from tests.helpers_web import get, init_data, post

WEB = "https://samspil.example.dk"

# ---- everything typed in the cycle: none of it may reach Telegram from the bot -----------------

CHILD = "Ingeborg"
PURPOSE = "Vi vil hjælpe Ingeborg med at finde ro i skolen og derhjemme."
COORDINATOR = "Camilla Bjerregaard"
PEOPLE = {  # name: (role, relation as the coordinator typed it)
    "Mette Kragelund": ("parent_custody", "Bonusmor"),
    "Lars Vindahl": ("parent_custody", "Plejefar"),
    "Hanne Østergaard": ("professional", "Klasselærer i 4.b"),
}
INPUT = {  # name: (area, worries, what works, what should happen)
    "Mette Kragelund": ("family", "Ingeborg græder hver morgen før skolebussen",
                        "Hun elsker at tegne heste med farveblyanter", "Faste rammer om aftenen med lektiehjælp"),
    "Lars Vindahl": ("family", "Søvnproblemer efter weekenderne hos farmoren",
                     "Gåturene med hunden Bamse hjælper", "Vi ønsker en kontaktperson i fritidsklubben"),
    "Hanne Østergaard": ("school", "Trækker sig fra frikvartererne ved gyngerne",
                         "Trives i billedkunst hos Jørgen", "Makkerordning med Sofie fra parallelklassen"),
}
PLACE = "Rødovre Skole, mødelokale Birkelunden"
SUMMARY = "Vi aftalte at Ingeborg starter i fritidsklubben Kastanjen efter efterårsferien"
CASE_REF = "SAG-2026-OEK77"
GOAL = "Ingeborg sover igennem alle hverdagsnætter"
TASK = "Læse godnathistorie med Ingeborg hver aften"
COMMENT = "Kan vi vente med klubben til januar, hun er meget træt"
TYPED_WORRY = "Ingeborg har haft ondt i maven hver søndag aften siden sommerferien"
PHOTO_CAPTION = "Ingeborgs tegning fra psykologen"
SECRETS = [CHILD, PURPOSE, "finde ro i skolen", COORDINATOR, "Bjerregaard", PLACE, "Birkelunden", SUMMARY,
           "Kastanjen", CASE_REF, GOAL, TASK, "godnathistorie", COMMENT, TYPED_WORRY, "ondt i maven",
           PHOTO_CAPTION, "psykologen"]
SECRETS += [part for name, (_role, relation) in PEOPLE.items() for part in (name, *name.split(), relation)]
SECRETS += [text for (_area, *boxes) in INPUT.values() for text in boxes]
SECRETS += ["Bamse", "Jørgen", "Sofie", "farmoren", "skolebussen"]


# ---- the bot's side of the wire -------------------------------------------------------------------


@dataclass
class Wire:
    """Every Bot API call the bot made (method and parameters), as the emulator received them:
    what Telegram would have seen. Uploads are kept by name (there must be none)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def methods(self) -> set[str]:
        return {m for m, _ in self.calls}

    def leaks(self) -> list[tuple[str, str, str]]:
        found = []
        for method, params in self.calls:
            sent = json.dumps(params, ensure_ascii=False, default=str).casefold()
            for secret in SECRETS:
                if secret.casefold() in sent:
                    found.append((method, secret, sent[:300]))
        return found


def listen(emu: BotAPIEmulator) -> Wire:
    """Record every Bot API method the emulator answers (the emulator's method table wrapped)."""
    wire = Wire()
    for key, (name, handler) in list(emu._methods.items()):  # noqa: SLF001 (the test's tap on the wire)

        async def recorded(params: Any, _name: str = name, _handler: Any = handler) -> Any:
            wire.calls.append((_name, {**params.values, **{f"file:{k}": v.filename for k, v in params.files.items()}}))
            return await _handler(params)

        emu._methods[key] = (name, recorded)  # noqa: SLF001
    return wire


@pytest.fixture
def wire(emu: BotAPIEmulator) -> Wire:
    return listen(emu)  # before the bot starts: its menus and descriptions are on the wire too


@pytest.fixture
def settings(emu: BotAPIEmulator, database: Database, wire: Wire) -> Settings:
    """The flows' settings (tests/conftest.py) with CHAT_CONTENT=minimal; a coordinator's routine
    notices in a digest (the default), so the digest is in the cycle too."""
    return Settings(
        _env_file=None, bot_token=emu.token, bot_api_url=emu.base_url, database_url=database.url,
        database_schema=database.schema, redis_url=database.redis_url, redis_prefix=database.redis_prefix,
        municipality_name="Faxe Kommune", data_key=TEST_DATA_KEY, send_chat_interval=0,
        web_public_url=WEB, chat_content="minimal")


# ---- helpers ------------------------------------------------------------------------------------------


def web_app_urls(who: Person) -> list[str]:
    return [b["web_app"]["url"] for m in who.phone.bot_messages
            for row in (m.reply_markup or {}).get("inline_keyboard", []) for b in row if "web_app" in b]


def last_urls(who: Person) -> list[str]:
    m = who.phone.bot_messages[-1]
    return [b["web_app"]["url"] for row in (m.reply_markup or {}).get("inline_keyboard", []) for b in row
            if "web_app" in b]


def hidden(body: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', body)
    assert match, f"no hidden field {name!r}"
    return html.unescape(match.group(1))


async def ok(port: int, path: str, who: Person, app: App, form: dict[str, Any]) -> str:
    status, body = await post(port, path, init_data(app, who), form)
    assert status == 200, (path, status, body[:500])
    return body


async def dialog(app: App, dialog_id: int) -> Dialog:
    async with app.sessionmaker() as s:
        return await s.get(Dialog, dialog_id)


async def the_meeting(app: App) -> Meeting:
    async with app.sessionmaker() as s:
        return await s.scalar(select(Meeting).order_by(Meeting.id.desc()).limit(1))


# ---- the whole cycle ------------------------------------------------------------------------------


async def test_a_whole_cycle_passes_nothing_personal_through_telegram(
        cast: Cast, samspil: App, web_port: int, wire: Wire, clock) -> None:  # type: ignore[no-untyped-def]
    app, port = samspil, web_port
    # The menu button beside the text field opens the Mini App (no reply keyboard is ever sent).
    assert cast.emu.menu_buttons[0]["type"] == "web_app"

    # -- the coordinator registers in the chat, opens the dialog and invites on the pages ------------
    coord = cast.person(COORDINATOR)
    await cast.register(coord)
    assert f"{WEB}/app?p=ny" in last_urls(coord)
    body = await ok(port, "/page/ny", coord, app, {"child": CHILD, "age_group": "barn", "purpose": PURPOSE})
    async with app.sessionmaker() as s:
        d = await s.scalar(select(Dialog.id).order_by(Dialog.id.desc()).limit(1))
    people: dict[str, Person] = {}
    for name, (role, relation) in PEOPLE.items():
        who = people[name] = cast.person(name)
        body = await ok(port, "/page/inviter", coord, app, {"d": d, "name": name, "role": role, "relation": relation})
        who.token = link_token(body)
    mom, dad, teacher = people.values()

    # -- they join in the chat; the parents consent on the consent page ----------------------------
    for who in (teacher, mom, dad):
        await cast.join(who)
    for parent in (mom, dad):
        assert f"{WEB}/app?p=samtykke&d={d}" in last_urls(parent)
    assert not last_urls(teacher)  # waits for the family's consent: nothing to open yet
    for parent in (mom, dad):
        status, card, _ = await get(port, f"/page/samtykke?d={d}", init_data(app, parent))
        assert status == 200
        await ok(port, "/page/samtykke", parent, app, {"d": d, "answer": "given", "shown": hidden(card, "shown")})
    await cast.settle()
    assert (await dialog(app, d)).state == "active"

    # -- the chat used as people use it: nothing typed is kept ---------------------------------------
    before = await snapshot_of_content(app)
    reply = await cast.say(mom, TYPED_WORRY)
    assert reply.text == "Her i chatten gemmer jeg ikke tekst. Skriv i Samspil i stedet. Tryk på knappen."
    assert last_urls(mom) == [f"{WEB}/app?p=input&d={d}"]
    mark = mom.phone.mark()
    await mom.phone.send_photo(caption=PHOTO_CAPTION)
    await cast.settle()
    assert "gemmer jeg ikke billeder" in mom.phone.bot_messages[-1].text and mom.phone.bot_messages[-1].version > mark
    await cast.say(mom, "Skriv input")  # an entry of the full chat's menu, left on her phone: removed
    assert await snapshot_of_content(app) == before and await fsm(app, mom) == (None, None)
    home = await cast.say(dad, "/start")
    assert "Skriv dit input." in home.text
    assert {f"{WEB}/app?p={p}&d={d}" for p in ("overblik", "input", "linealen")} <= set(last_urls(dad))
    await cast.say(dad, "/skala")
    assert last_urls(dad) == [f"{WEB}/app?p=linealen&d={d}"]
    await cast.say(teacher, "/luk")  # not hers to do: the home instead
    mark = dad.phone.mark()
    await dad.phone.tap_data(dad.phone.bot_messages[-1].message_id, HomeCb(action=HomeAction.home).pack())
    await cast.settle()
    assert dad.phone.last_answer is not None and dad.phone.last_answer.show_alert
    assert [m for m in dad.phone.bot_messages if m.version > mark]  # and the home

    # -- input and numbers on the pages ---------------------------------------------------------------
    round_no = (await dialog(app, d)).round_no
    for name, (area, *texts) in INPUT.items():
        who = people[name]
        for box, text in zip(("worries", "works", "next_steps"), texts, strict=True):
            status, answer = await post(port, "/page/input/save", init_data(app, who),
                                        {"d": d, "a": area, "box": box, "text": text})
            assert status == 200 and json.loads(answer)["ok"], answer
        await ok(port, "/page/input/share", who, app, {"d": d, "a": area})
    for who, value in ((mom, 3), (dad, 4)):  # the teacher forgets hers: she is reminded before the meeting
        await ok(port, "/page/linealen", who, app, {"d": d, "value": value, "round": round_no})
    await cast.settle()

    # -- the meeting: called on the page, answered in the chat and on the page -------------------------
    body = await ok(port, "/page/indkald", coord, app, {"d": d, "date": "2026-12-03", "time": "14:00", "place": PLACE})
    await cast.settle()
    invitation = mom.phone.bot_messages[-1]
    assert "Du er inviteret til et dialogmøde torsdag den 3. december 2026 kl. 14.00." in invitation.text
    assert invitation.buttons[0] == ["✅ Jeg kommer", "❌ Jeg kan ikke"]
    await cast.rsvp(mom, True)
    assert mom.phone.last_answer is not None and "Jeg kommer" in (mom.phone.last_answer.text or "")
    await cast.rsvp(teacher, False)
    await ok(port, "/page/svar", dad, app, {"d": d, "coming": 1})
    # The days pass: the reminders before the meeting, the coordinator's digests.
    for day in (24, 30):
        clock.set(datetime(2026, 11, day, 13, 30, tzinfo=UTC))  # 14:30 in Copenhagen: after a digest time
        await cast.settle()
    assert any("hændelse" in m.text for m in coord.phone.bot_messages)  # the digest, neutral
    reminder = next(m for m in reversed(teacher.phone.bot_messages) if "Husk at skrive dit input" in m.text)
    assert [b["web_app"]["url"] for row in reminder.reply_markup["inline_keyboard"] for b in row] == [
        f"{WEB}/app?p=input&d={d}", f"{WEB}/app?p=linealen&d={d}"]
    await ok(port, "/page/linealen", teacher, app, {"d": d, "value": 5, "round": round_no})
    clock.set(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))  # the meeting's day, 13:00
    await cast.settle()

    # -- Mødetilstand: open, target, goal, task, the plan sent; closed with the minutes ---------------
    meeting = await the_meeting(app)
    await ok(port, "/page/moede/open", coord, app, {"d": d, "meeting": meeting.id})
    await ok(port, "/page/moede/target", coord, app, {"d": d, "value": 6})
    await ok(port, "/page/moede/goal", coord, app, {"d": d, "area": "family", "text": GOAL})
    async with app.sessionmaker() as s:
        goal_id = await s.scalar(select(func.max(Goal.id)))
    await ok(port, "/page/moede/task", coord, app, {
        "d": d, "goal": goal_id, "what": TASK, "owner": await participant_id(_fam(app, d), mom, d),
        "start": "2026-12-04", "end": "2026-12-18"})
    await ok(port, "/page/moede/send", coord, app, {"d": d})
    attendance = {f"attendance_{await participant_id(_fam(app, d), who, d)}": mark_
                  for who, mark_ in ((mom, "present"), (dad, "present"), (teacher, "apologies"))}
    await ok(port, "/page/afslut", coord, app, {"d": d, "meeting": meeting.id, "summary": SUMMARY,
                                                 "case_ref": CASE_REF, **attendance})
    await cast.settle()
    assert any("nyt dokument" in m.text for m in mom.phone.bot_messages)
    assert f"{WEB}/app?p=dokumenter&d={d}" in web_app_urls(mom)

    # -- the plan: a comment, then both parents agree ---------------------------------------------------
    version = (await dialog(app, d)).plan_version
    await ok(port, "/page/plan/comment", dad, app, {"d": d, "version": version, "text": COMMENT})
    for parent in (mom, dad):
        await ok(port, "/page/plan/agree", parent, app, {"d": d, "version": version})
    await cast.settle()

    # -- the referat, downloaded from the Mini App ------------------------------------------------------
    status, answer = await post(port, "/page/dokumenter/link", init_data(app, dad), {
        "d": d, "kind": "referat", "ref": meeting.id})
    link = json.loads(answer)
    assert status == 200 and link["ok"], answer
    status, pdf, headers = await _download(port, link["url"])
    assert status == 200 and pdf.startswith(b"%PDF") and headers["Cache-Control"] == "no-store"

    # -- it reached the end ------------------------------------------------------------------------------
    final, meeting = await dialog(app, d), await the_meeting(app)
    assert final.state == "active" and pl.is_accepted(final)
    assert meeting.status == "closed" and meeting.referat_edition == 2  # the edition with the agreed plan
    async with app.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Document)) == 0  # no PDF stored to send
        sent = set(await s.scalars(select(OutboxMessage.kind).where(OutboxMessage.status == "sent")))
    assert {"new_document", "meeting_notice", "meeting_input_reminder", "plan_review", "dialog_open",
            "input_shared", "digest", "tasks_assigned"} <= sent, sent

    # -- what Telegram saw: nothing of it -----------------------------------------------------------------
    assert wire.leaks() == []
    assert "sendDocument" not in wire.methods()
    for who in (coord, *people.values()):
        assert who.phone.documents == []
        for m in who.phone.bot_messages:
            assert not any(secret.casefold() in json.dumps([m.text, m.reply_markup], ensure_ascii=False).casefold()
                           for secret in SECRETS), m.text
    # What the person wrote into the chat is theirs: it is in the chat (Telegram has it), never answered back.
    assert any(TYPED_WORRY in m.text for m in mom.phone.chat if not m.from_bot)


def _fam(app: App, dialog_id: int):  # type: ignore[no-untyped-def]
    """participant_id() reads only `.app` and `.dialog_id` of a Family."""
    from types import SimpleNamespace

    return SimpleNamespace(app=app, dialog_id=dialog_id)


async def _download(port: int, path: str) -> tuple[int, bytes, dict[str, str]]:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.read(), dict(response.headers)


# ---- every notice kind has its neutral form -------------------------------------------------------------


def test_every_notice_kind_is_given_a_neutral_text_on_purpose() -> None:
    """A new notice kind must be put in core/neutral.KIND_GROUPS: what it says in minimal mode."""
    import bot.app  # noqa: F401  (every renderer registered)

    missing = sorted(set(RENDERERS) - set(KIND_GROUPS) - {"test_note", "bench_reminder"})
    assert missing == [], f"give these a group in core/neutral.py: {missing}"


# ---- the setting ---------------------------------------------------------------------------------------


def test_minimal_needs_the_mini_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHAT_CONTENT", "minimal")
    monkeypatch.delenv("WEB_PUBLIC_URL", raising=False)
    with pytest.raises(SystemExit) as exc:
        load_settings()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("Configuration error: CHAT_CONTENT: "), err
    monkeypatch.setenv("WEB_PUBLIC_URL", WEB)
    assert load_settings().chat_content == "minimal"
    monkeypatch.setenv("CHAT_CONTENT", "some")
    with pytest.raises(SystemExit):
        load_settings()
    monkeypatch.delenv("CHAT_CONTENT")
    assert load_settings().chat_content == "full"


# ---- two bots in one process: each keeps its own mode ---------------------------------------------------


@pytest.fixture
async def full_bot(tmp_path: Path, clock) -> AsyncIterator[tuple[App, Cast]]:  # type: ignore[no-untyped-def]
    """A second bot in this process, on its own emulator and SQLite file, in full mode."""
    async with BotAPIEmulator() as emu:
        settings = Settings(_env_file=None, bot_token=emu.token, bot_api_url=emu.base_url,
                            database_url=f"sqlite+aiosqlite:///{tmp_path / 'full.db'}", data_key=TEST_DATA_KEY,
                            send_chat_interval=0, web_public_url=WEB)
        app, task = await start_bot(settings, clock)
        try:
            yield app, Cast(emu=emu, settings=settings, i18n=app.i18n, clock=clock, scheduler=app.scheduler)
        finally:
            await stop_bot(app, task)


async def _coordinator_with_a_dialog(cast: Cast, app: App) -> Person:
    coord = cast.person(COORDINATOR)
    link = await add_staff(cast.settings, role="coordinator", name=COORDINATOR, title=None, clock=cast.clock)
    await cast.say(coord, f"/start {link_token(link)}")
    async with app.sessionmaker() as s, s.begin():
        person = await q.person_by_telegram_id(s, coord.phone.user_id)
        await membership.open_dialog(s, person, child_name=CHILD, age_group="barn", purpose=PURPOSE,
                                     now=cast.clock.now())
    return coord


async def test_two_bots_in_one_process_each_in_its_own_mode(cast: Cast, samspil: App, full_bot) -> None:  # type: ignore[no-untyped-def]
    full_app, full_cast = full_bot
    minimal_coord = await _coordinator_with_a_dialog(cast, samspil)
    full_coord = await _coordinator_with_a_dialog(full_cast, full_app)
    for _ in range(3):  # at the same time, so their updates interleave
        minimal_home, full_home = await asyncio.gather(cast.say(minimal_coord, "/start"),
                                                       full_cast.say(full_coord, "/start"))
        assert CHILD not in minimal_home.text and "barnet (nr. 1)" in minimal_home.text
        assert CHILD in full_home.text



# ---- documents and digests ------------------------------------------------------------------------------


async def test_a_document_waiting_from_before_is_announced_and_never_sent(cast: Cast, samspil: App, wire: Wire) -> None:
    """A PDF decided before the bot ran in minimal mode (an outbox row of kind "document"): the
    person is told there is a new document, with the button to the page; the PDF is not sent,
    and is deleted as soon as no row waits for it."""
    from storage import documents

    coord = cast.person(COORDINATOR)
    await cast.register(coord)
    async with samspil.sessionmaker() as s, s.begin():
        person = await q.person_by_telegram_id(s, coord.phone.user_id)
        dialog = await membership.open_dialog(s, person, child_name=CHILD, age_group="barn", purpose=PURPOSE,
                                              now=cast.clock.now())
        doc = await documents.add(s, dialog_id=dialog.id, kind="referat", locale="da",
                                  filename=f"referat-{CHILD.lower()}.pdf", caption=f"Referat om {CHILD}",
                                  pdf=b"%PDF-1.4 " + CHILD.encode(), now=cast.clock.now())
        await samspil.notices.add(s, to=person, kind=documents.KIND, key=f"doc:{doc.id}:{person.id}",
                                  payload=documents.payload_of(doc.id), dialog_id=dialog.id)
    await cast.settle()
    notice = coord.phone.bot_messages[-1]
    assert notice.text == "Der er et nyt dokument til dig. Tryk på knappen for at hente det."
    assert notice.buttons == [["📄 Hent dokumentet · barnet (nr. 1)"]]
    assert coord.phone.documents == [] and "sendDocument" not in wire.methods() and wire.leaks() == []
    async with samspil.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Document)) == 0


def test_the_neutral_digest_counts_per_dialog_by_number(samspil: App, settings: Settings) -> None:
    from bot.digest import compose_neutral
    from core.notices import Rendered

    rows = [OutboxMessage(dialog_id=d) for d in (7, 7, 9, None)]
    with samspil.i18n.context(), samspil.i18n.use_locale("da"):
        digest = compose_neutral([(r, Rendered(f"{CHILD} {PLACE}")) for r in rows], settings)
    assert digest.text == ("📬 Du har 4 nye hændelser i Samspil.\n\n• barnet (nr. 7): 2 nye\n• barnet (nr. 9): 1 ny\n"
                           "• Andet: 1 ny\n\nTryk på en knap for at se, hvad der er nyt.")
    assert [[(b.text, b.web_app.url) for b in row] for row in digest.keyboard.inline_keyboard] == [
        [("📊 Overblik · barnet (nr. 7)", f"{WEB}/app?p=overblik&d=7")],
        [("📊 Overblik · barnet (nr. 9)", f"{WEB}/app?p=overblik&d=9")]]


# ---- the launcher's answers ----------------------------------------------------------------------------


async def test_commands_lead_to_their_pages_and_a_stranger_is_told_how_to_get_in(
        cast: Cast, samspil: App, web_port: int, wire: Wire) -> None:
    stranger = cast.person("Ukendt Person")
    hello = await cast.say(stranger, "/start")
    assert hello.text.startswith("Hej! Jeg er Samspil.") and not hello.buttons
    assert (await cast.say(stranger, TYPED_WORRY)).text.startswith("Hej! Jeg er Samspil.")  # nothing to write in

    coord = cast.person(COORDINATOR)
    await cast.register(coord)
    await ok(web_port, "/page/ny", coord, samspil, {"child": CHILD, "age_group": "barn", "purpose": PURPOSE})
    answer = await cast.say(coord, "/inviter")
    assert answer.text == "Tryk på knappen for at åbne det i Samspil."
    assert last_urls(coord) == [f"{WEB}/app?p=inviter&d=1"] and answer.buttons == [["👥 Deltagere · barnet (nr. 1)"]]
    assert (await cast.say(coord, "/ny")) and last_urls(coord) == [f"{WEB}/app?p=ny"]
    # The meeting's pages need an open dialog: until the family has consented there is nothing to open.
    answer = await cast.say(coord, "/moede")
    assert answer.text.startswith("Der er ikke noget at åbne for det lige nu.")
    assert "barnet (nr. 1): dialogen venter på familiens samtykke." in answer.text
    answer = await cast.say(coord, "/paa_vegne")  # no page does it yet
    assert answer.text.startswith("Det kan du ikke gøre her i chatten.")
    language = await cast.say(coord, "/sprog")  # works as in the full chat
    await cast.tap_text(coord, "English")
    assert coord.phone.bot_messages[-1].text == "I will write to you in English from now on."
    assert language.buttons == [["Dansk", "English"]]
    home = await cast.say(coord, "/start")
    assert "the child (no. 1): the dialog is waiting for the family's consent." in home.text
    assert wire.leaks() == []


async def test_settings_and_a_newcomer_lead_to_their_pages(cast: Cast, samspil: App, web_port: int,
                                                           wire: Wire) -> None:
    """/luk, /kontakt and /notifikationer open their pages; the family's approval of someone added
    after the start is asked for with a button to the consent page, where it is given."""
    app, port = samspil, web_port
    coord = cast.person(COORDINATOR)
    await cast.register(coord)
    await ok(port, "/page/ny", coord, app, {"child": CHILD, "age_group": "barn", "purpose": PURPOSE})
    d = 1
    mom = cast.person("Mette Kragelund")
    mom.token = link_token(await ok(port, "/page/inviter", coord, app, {
        "d": d, "name": "Mette Kragelund", "role": "parent_custody", "relation": "Bonusmor"}))
    await cast.join(mom)
    _s, card, _h = await get(port, f"/page/samtykke?d={d}", init_data(app, mom))
    await ok(port, "/page/samtykke", mom, app, {"d": d, "answer": "given", "shown": hidden(card, "shown")})
    await cast.settle()
    assert (await dialog(app, d)).state == "active"

    for command, urls in (("/luk", [f"{WEB}/app?p=luk&d={d}"]), ("/kontakt", [f"{WEB}/app?p=kontakt"]),
                          ("/notifikationer", [f"{WEB}/app?p=notifikationer"])):
        await cast.say(coord, command)
        assert last_urls(coord) == urls, command
    await cast.say(mom, "/kontakt")
    assert last_urls(mom) == [f"{WEB}/app?p=kontakt&d={d}"]
    # The contact page gives the coordinator's details; a message is not taken in this mode (its
    # notice carries no text, and no page shows it to the coordinator yet).
    await ok(port, "/page/kontakt", coord, app, {"phone": "12345678", "email": "", "hours": ""})
    _s, page, _h = await get(port, f"/page/kontakt?d={d}", init_data(app, mom))
    assert "Telefon: 12 34 56 78" in page and 'action="/page/kontakt/besked"' not in page
    before = await snapshot_of_content(app)
    status, _b = await post(port, "/page/kontakt/besked", init_data(app, mom),
                            {"d": d, "key": "0123456789abcdef", "text": TYPED_WORRY})
    assert status == 403 and await snapshot_of_content(app) == before
    await cast.say(mom, "/luk")  # not hers: no page
    assert f"{WEB}/app?p=luk&d={d}" not in last_urls(mom)

    # Someone added after the start: the mother is asked in a neutral notice, and answers on the page.
    await ok(port, "/page/inviter", coord, app, {"d": d, "name": "Ole Kjærsgaard", "role": "network",
                                                 "relation": "Morfar"})
    await cast.settle()
    notice = mom.phone.bot_messages[-1]
    assert notice.text == ("En ny person vil gerne være med i dialogen. Familien bestemmer. Tryk på knappen for at "
                           "læse mere.")
    assert last_urls(mom) == [f"{WEB}/app?p=samtykke&d={d}"]
    await cast.say(mom, "/samtykke")  # the same page from the menu (consent given: withdraw, approve)
    assert last_urls(mom) == [f"{WEB}/app?p=samtykke&d={d}"]
    _s, page, _h = await get(port, f"/page/samtykke?d={d}", init_data(app, mom))
    body = await ok(port, "/page/samtykke/godkend", mom, app, {"d": d, "newcomer": hidden(page, "newcomer"),
                                                                 "answer": "yes"})
    assert "Tak. Ole Kjærsgaard (Morfar) kan nu være med i dialogen om" in body
    await cast.settle()
    assert all("Ole" not in json.dumps(params, ensure_ascii=False) and "Morfar" not in json.dumps(
        params, ensure_ascii=False) for _m, params in wire.calls)
    assert wire.leaks() == []
