"""`samspil demo`: a whole Familiedialog, played on phones against the local emulator.

No token and no network: the emulator runs in-process, the real bot polls it
over HTTP, and the people below tap and type as they would on their phones.
At the end the conversation is printed as each person saw it, with what they tapped.

Mette, the mother, walks as a parent who knows no command: she opens her link and from
then on only taps buttons (those under the bot's answers, her home card and the main menu
at the bottom of the chat) and types what she has to say. `check` fails the demo if she
typed a command, or if any other part of the story did not happen.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import func, select

from bot.app import App, build_app, run_polling
from bot.playbook import Cast, Person
from core.clock import FakeClock
from core.config import Settings
from emulator import BotAPIEmulator, ChatMessage
from storage.crypto import new_key
from storage.models import (
    Consent,
    Dialog,
    DialogRound,
    InputEntry,
    Meeting,
    MeetingAttendance,
    MeetingResponse,
    OutboxMessage,
    Participant,
    Score,
    Task,
)
from storage.models import Person as PersonRow

# Monday 23 November 2026, 10:00 in Copenhagen: a fixed start makes the demo repeatable.
DEMO_START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

PURPOSE = (
    "Emma har haft svært ved at komme i skole efter sommerferien og virker ked af det. "
    "Vi vil samarbejde om, at Emma igen trives i skolen og med sine venner."
)
# The coordinator's contact details, as families see them (/kontakt).
CONTACT = ("12 34 56 78", "camilla.holm@faxe.dk", "man-fre 8-15")
# The grandmother takes part without Telegram: the coordinator writes for her.
GRANDMOTHER, GRANDMOTHER_RELATION = "Inge", "Mormor"
GRANDMOTHER_SEAT = f"{GRANDMOTHER} ({GRANDMOTHER_RELATION})"
SUMMARY = ("Vi talte om Emmas morgener og om frikvartererne. Vi aftalte to mål: Emmas venskaber "
           "og at hun trygt kan fortælle om sin hverdag.")
CASE_REF = "27.24.00-G01-17-26"
TO_COORDINATOR = "Emma havde en god lørdag hos mormor. Kan du ringe til mig i næste uge?"
# The main menu at the bottom of a family member's chat (handlers/home_views.main_menu).
MENU = ("My next step", "Write input", "The ruler", "Overview")


@dataclass
class Line:
    """One thing in a person's chat, in the order it happened."""

    kind: str  # "sent" (they typed or a menu entry), "tap" (a button), "bot" (a new message), "edit"
    text: str
    message: ChatMessage | None = None  # as it was then (its buttons then)
    before: str = ""  # "edit": the text it had before


@dataclass
class DemoCast(Cast):
    """The demo's cast also keeps each person's chat as it happened: what they typed and tapped,
    each message as it arrived and each change made to one in place (the emulator keeps only the
    newest state of a message)."""

    transcripts: dict[str, list[Line]] = field(default_factory=dict)
    # per person: message id -> (text, buttons) as last seen; the chat's version seen
    _seen: dict[str, dict[int, tuple[str, list[list[str]]]]] = field(default_factory=dict)
    _versions: dict[str, int] = field(default_factory=dict)

    def capture(self) -> None:
        """Note what changed in everyone's chat since the last look. A change that only takes
        the buttons off a message (an old prompt retired) is left out."""
        for name, who in self.people.items():
            seen = self._seen.setdefault(name, {})
            version = self._versions.get(name, 0)
            lines = self.transcripts.setdefault(name, [])
            for m in sorted((m for m in who.phone.chat if m.version > version), key=lambda m: m.version):
                before = seen.get(m.message_id)
                if before is None:
                    lines.append(Line("bot" if m.from_bot else "sent", m.text, m))
                elif m.text != before[0] or (m.buttons and m.buttons != before[1]):
                    lines.append(Line("edit", m.text, m, before[0]))
                seen[m.message_id] = (m.text, m.buttons)
                version = max(version, m.version)
            self._versions[name] = version

    async def settle(self) -> None:
        await super().settle()
        self.capture()

    async def tap_text(self, who: Person, label: str, expect: str | None = None) -> ChatMessage | None:
        self.capture()
        self.transcripts.setdefault(who.name, []).append(Line("tap", label))
        return await super().tap_text(who, label, expect)


async def run_demo(out: str | None = None, *, web: bool = False) -> int:
    logging.basicConfig(level=logging.WARNING)
    workdir = Path(out) if out else Path(tempfile.mkdtemp(prefix="samspil-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "demo.db"
    if db.exists():
        db.unlink()
    clock = FakeClock(DEMO_START)
    people: list[Person] = []
    problems: list[str] = []
    referat: Path | None = None
    async with BotAPIEmulator() as emu:
        settings = Settings(
            _env_file=None, bot_token=emu.token, bot_api_url=emu.base_url,
            database_url=f"sqlite+aiosqlite:///{db}", municipality_name="Faxe Kommune",
            municipality_privacy_contact="Faxe Kommunes databeskyttelsesrådgiver, dpo@faxe.dk",
            # A throwaway data key: the demo's names and texts are encrypted like the real thing's.
            data_key=new_key(),
        )
        app = await build_app(settings, clock=clock)
        started = asyncio.Event()

        async def _started(**_: object) -> None:
            started.set()

        app.dp.startup.register(_started)
        polling = asyncio.create_task(run_polling(app, handle_signals=False))
        await asyncio.wait_for(started.wait(), 30)
        cast = DemoCast(emu=emu, settings=settings, i18n=app.i18n, clock=clock, scheduler=app.scheduler)
        try:
            try:
                people = await play(cast, clock)
                await play_afterwards(cast, *people)
            except AssertionError as exc:  # someone could not do their next step: show how far they got
                people = list(cast.people.values())
                problems.append(f"the story stopped: {exc}")
            if not problems:
                problems = await check(app) + check_phones(cast, people)
                referat = await _save_referat(emu, people[1], workdir)
                if referat is None:
                    problems.append("no meeting report (referat) reached the participants")
            if web and not problems:
                print_chats(cast, people)
                await serve_web(app, people)
        finally:
            await app.dp.stop_polling()
            await polling
            await app.close()
    if not web or problems:
        print_chats(cast, people)
    if problems:
        for p in problems:
            print(f"DEMO FAILED: {p}")
        return 1
    print(f"\nThe demo's database is at {db}")
    print(f"The meeting report (referat) Mette received is at {referat}")
    return 0


async def serve_web(app: App, people: list[Person]) -> None:
    """`samspil demo --web`: the finished dialog's Mini App, until Ctrl-C.

    Each person's URL carries initData signed with the demo emulator's token in the URL
    fragment (a browser never sends the fragment to a server; the page's script passes it
    in a header). It is valid for this demo only: another bot token would refuse it.
    """
    from web.server import start_web

    try:
        runner, port = await start_web(app, "127.0.0.1", app.settings.web_port)
    except OSError:  # the usual port is taken: any free one
        runner, port = await start_web(app, "127.0.0.1", 0)
    async with app.sessionmaker() as s:
        dialog_id = await s.scalar(select(func.max(Dialog.id)))
    auth_date = app.clock.now().timestamp()
    print(f"\nThe demo's Mini App is running on http://127.0.0.1:{port}. Open a person's page in a browser:")
    for person in people:
        data = quote(person.phone.web_app_init_data(auth_date))
        print(f"  {person.name}: http://127.0.0.1:{port}/app?p=overblik&d={dialog_id}#tgWebAppData={data}")
    coordinator = people[0]
    data = quote(coordinator.phone.web_app_init_data(auth_date))
    print(f"  {coordinator.name} in the meeting: "
          f"http://127.0.0.1:{port}/app?p=moede&d={dialog_id}#tgWebAppData={data}")
    print("Press Ctrl-C to stop.")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def _is_referat(name: str | None) -> bool:
    return (name or "").lower().startswith(("referat", "minutes"))


async def _save_referat(emu: BotAPIEmulator, person: Person, workdir: Path) -> Path | None:
    """The referat goes out after the meeting closes; keep the newest copy one parent received."""
    def received() -> bool:
        return any(_is_referat(d.file_name) for d in person.phone.documents)

    try:
        await emu.wait_until(received, timeout=60)
    except AssertionError:
        return None
    doc = [d for d in person.phone.documents if _is_referat(d.file_name)][-1]
    path = workdir / "referat.pdf"
    path.write_bytes(doc.data)
    return path


# ---- how a family member gets about: buttons and the main menu ------------------------------------


def menu_of(who: Person) -> list[str]:
    """The main menu at the bottom of the person's chat now: the newest reply keyboard sent (none
    if it was removed since)."""
    for m in reversed(who.phone.bot_messages):
        markup = m.reply_markup or {}
        if "keyboard" in markup:
            return [b["text"] if isinstance(b, dict) else b for row in markup["keyboard"] for b in row]
        if markup.get("remove_keyboard"):
            return []
    return []


async def menu(cast: Cast, who: Person, entry: str, expect: str | None = None) -> ChatMessage:
    """Tap an entry of the main menu (its English msgid): the phone sends its label as a text."""
    label = cast.t(who, entry)
    shown = menu_of(who)
    if label not in shown:
        raise AssertionError(f"{who.name}: no {label!r} in the menu at the bottom of the chat; it shows {shown}")
    return await cast.say(who, label, expect)


async def write_area(cast: Cast, who: Person, area_label: str, *, worries: str | None, works: str | None,
                     next_steps: str | None) -> ChatMessage | None:
    """With the areas in front of them: one area, the three boxes (None skips one: each box's
    prompt is edited in place when answered), then "✅ Del nu" under the last box."""
    await cast.fill_area(who, area_label, worries=worries, works=works, next_steps=next_steps)
    return await cast.tap(who, "✅ Share now", expect="✅")


# ---- the story ------------------------------------------------------------------------------------


async def play(cast: Cast, clock: FakeClock) -> list[Person]:
    """One cycle of a dialog: opening, consent, input, the ruler, the meeting, the plan, a task."""
    camilla = cast.person("Camilla Holm")
    mette = cast.person("Mette")
    jens = cast.person("Jens")
    hanne = cast.person("Hanne Lund")

    # The administrator registers the coordinator; she gives families her contact details and
    # opens the dialog. The grandmother has no smartphone: she takes part without Telegram.
    await cast.register(camilla, "coordinator")
    await cast.set_contact(camilla, *CONTACT)
    await cast.open_dialog(camilla, "Emma", "barn", PURPOSE)
    await cast.invite(camilla, mette, "Parent with custody", "Mor")
    await cast.invite(camilla, jens, "Parent with custody", "Far")
    await cast.invite_without_telegram(camilla, GRANDMOTHER, "Network", GRANDMOTHER_RELATION)
    await cast.invite(camilla, hanne, "Professional", "Klasselærer")

    # The teacher opens her link first: she has to wait for the family's consent. Mette opens
    # hers, reads more about her data, and says yes.
    await cast.join(hanne)
    await cast.join(mette)
    await cast.tap(mette, "Read more about your data")
    await cast.consent(mette)
    await cast.say(camilla, "/dialoger")
    await cast.join(jens)
    await cast.consent(jens)

    # That evening Mette takes her next step from the message that the dialog is open: one area,
    # shared; another from the menu; then her number on the ruler from the next-step button.
    clock.advance(hours=10)
    await cast.tap(mette, "✏️ Write your input")
    await write_area(cast, mette, "Familieforhold",
                     worries="Emma vil ikke fortælle, hvordan hun har det. Hun sover dårligt.",
                     works="Hun elsker at bage med sin mormor i weekenden.",
                     next_steps="At Emma får en voksen på skolen, hun kan tale med.")
    await menu(cast, mette, "Write input")
    await write_area(cast, mette, "Dagtilbud, skole og læring",
                     worries="Hun har ondt i maven hver morgen før skole.",
                     works=None,
                     next_steps="En rolig start på dagen, måske via SFO.")
    await cast.tap(mette, "📏 Put your number on the ruler")
    await cast.tap_text(mette, "6")
    await cast.tap_text(mette, cast.t(mette, "✅ Yes, save {value}").format(value=6))

    # The next morning: the coordinator writes what the grandmother told her on the phone, and
    # her number; the teacher and the father write theirs (they know the commands).
    clock.advance(hours=14)
    await cast.write_for(camilla, GRANDMOTHER_SEAT, GRANDMOTHER, "Familieforhold",
                         worries="Emma er stille, når hun er hos mig. Hun vil ikke tale om skolen.",
                         works="Vi bager hver lørdag. Så griner hun og fortæller om sine veninder.",
                         next_steps="At Emma har en voksen på skolen, som hun stoler på.")
    await cast.score_for(camilla, GRANDMOTHER_SEAT, GRANDMOTHER, 5)
    await cast.write_input(hanne, "Dagtilbud, skole og læring",
                           worries="Emma trækker sig i frikvartererne og er stille i timerne.",
                           works="Hun er fagligt med og glad for billedkunst.",
                           next_steps="Vi vil sætte hende sammen med to gode venner i gruppearbejde.")
    await cast.share_input(hanne)
    await cast.write_input(jens, "Fritidsforhold og venskaber",
                           worries="Hun er holdt op med at gå til fodbold.",
                           works="Hun har stadig en god veninde, Sofie.",
                           next_steps="At hun får lyst til en fritidsaktivitet igen.")
    await cast.share_input(jens)
    await cast.scale(jens, 5)
    await cast.scale(hanne, 4)

    # What everyone has shared, and the ruler, as each sees it (Mette from her menu).
    await menu(cast, mette, "Overview")
    await cast.say(hanne, "/oversigt")
    for who in (jens, camilla):
        await cast.say(who, "/vurdering")

    await play_meeting(cast, clock, camilla, mette, jens, hanne)
    return [camilla, mette, jens, hanne]


def _copenhagen(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Copenhagen in winter (UTC+1), as UTC."""
    return datetime(2026, month, day, hour - 1, minute, tzinfo=UTC)


async def play_meeting(cast: Cast, clock: FakeClock, camilla: Person, mette: Person, jens: Person,
                       hanne: Person) -> None:
    """The dialog meeting, the joint target, Mål & Plan, the minutes, and a task answered with Udført."""
    # The coordinator schedules the meeting; everyone answers (Mette on the invitation's button).
    await cast.schedule_meeting(camilla, "3/12 kl. 14", "Faxe Skole, mødelokale 2")
    await cast.rsvp(mette, coming=True)
    await cast.rsvp(jens, coming=True)
    await cast.rsvp(hanne, coming=True)
    await cast.say(camilla, "/moede")  # who is coming

    # The day before: those coming are reminded. On the day, the meeting is opened.
    clock.set(_copenhagen(2, 12, 9))
    await cast.settle()
    clock.set(_copenhagen(3, 12, 13, 55))
    await cast.settle()
    await cast.open_meeting(camilla)
    await cast.set_target(camilla, 4)
    await cast.add_goal(camilla, "Fritidsforhold og venskaber", "Emmas venskaber skal styrkes og understøttes.")
    await cast.add_task(camilla, "I gruppearbejde sættes Emma sammen med sine nærmeste venner, og der "
                        "holdes øje med frikvartererne.", "Hanne Lund (Klasselærer)", "7/12", "18/12")
    await cast.add_goal(camilla, "Familieforhold", "Emma skal have det trygt med at fortælle om sin hverdag.")
    await cast.add_task(camilla, "Mor og Emma bager hos mormor om lørdagen og taler om ugen.",
                        "Mette (Mor)", "5/12", "31/1")
    # At the end of the meeting the minutes: the teacher was ill on the day and sent her
    # apologies (one tap moves her from "present"), a short summary, the case number.
    clock.set(_copenhagen(3, 12, 15, 10))
    await cast.close_meeting(camilla, toggle=("Hanne Lund (Klasselærer)",), summary=SUMMARY, case_ref=CASE_REF)

    # The plan goes to the parents. Mette agrees that evening on the plan's button, Jens the next
    # morning: everyone gets the new edition of the referat, and the task owners are told.
    await cast.send_plan(camilla)
    clock.set(_copenhagen(3, 12, 19, 30))
    await cast.accept_plan(mette)
    clock.set(_copenhagen(4, 12, 8, 15))
    await cast.accept_plan(jens)
    await cast.say(jens, "/plan")

    # Two days before the teacher's end date: a reminder, answered with Udført.
    clock.set(_copenhagen(16, 12, 9))
    await cast.settle()
    await cast.task_done(hanne)
    # The coordinator's afternoon digest (COORDINATOR_NOTICES=digest): the task done, with the day's news.
    clock.set(_copenhagen(16, 12, 14))
    await cast.settle()


async def play_afterwards(cast: Cast, camilla: Person, mette: Person, jens: Person, hanne: Person) -> None:
    """After the cycle: Mette reaches her coordinator from her home card; the message reaches
    Camilla at once (not in the digest), and her desk (/dialoger) puts the dialog first."""
    await menu(cast, mette, "My next step")
    await cast.tap(mette, "📞 Contact the coordinator")
    await cast.tap(mette, "✉️ Write a message to the coordinator")
    await cast.say(mette, TO_COORDINATOR)
    desk = await cast.say(camilla, "/dialoger")
    await cast.tap_text(camilla, desk.buttons[0][0])  # the dialog that needs her most: its card
    await cast.tap(camilla, "👁 Mark as seen")


# ---- what must have happened ----------------------------------------------------------------------


async def check(app: App) -> list[str]:
    """What the demo must have achieved, read from the database."""
    problems = []
    async with app.sessionmaker() as s:
        dialog = await s.scalar(select(Dialog))
        if dialog is None or dialog.state != "active":
            problems.append("the dialog is not active")
        consents = await s.scalar(select(func.count()).select_from(Consent).where(Consent.answer == "given"))
        if consents != 2:
            problems.append(f"expected 2 consents, found {consents}")
        shared = await s.scalar(select(func.count()).select_from(InputEntry).where(InputEntry.shared_at.is_not(None)))
        if shared != 5:
            problems.append(f"expected 5 shared input entries, found {shared}")
        scores = await s.scalar(select(func.count()).select_from(Score))
        if scores != 4:
            problems.append(f"expected 4 scores, found {scores}")
        problems += await _check_contact_and_grandmother(s, dialog)
        problems += await _check_meeting(s, dialog)
        problems += await _check_notices(s, app.clock.now())
    return problems


async def _check_contact_and_grandmother(s, dialog: Dialog | None) -> list[str]:  # type: ignore[no-untyped-def]
    """The coordinator's contact details; the grandmother without Telegram, written for."""
    problems = []
    coordinator = await s.get(PersonRow, dialog.coordinator_id) if dialog is not None else None
    if coordinator is None or (coordinator.contact_phone, coordinator.contact_email,
                               coordinator.contact_hours) != CONTACT:
        problems.append("the coordinator's contact details were not saved")
    seats = [p for p in await s.scalars(select(Participant)) if p.name == GRANDMOTHER]
    if len(seats) != 1 or not seats[0].offline or seats[0].person_id is not None:
        problems.append("the grandmother is not in the dialog as a participant without Telegram")
        return problems
    coordinator_id = dialog.coordinator_id if dialog is not None else None
    entry = await s.scalar(select(InputEntry).where(InputEntry.participant_id == seats[0].id))
    if entry is None or entry.shared_at is None or entry.written_by_id != coordinator_id:
        problems.append("the grandmother's input was not shared as written by the coordinator")
    score = await s.scalar(select(Score).where(Score.participant_id == seats[0].id))
    if score is None or score.written_by_id != coordinator_id:
        problems.append("the grandmother's number was not put on the ruler by the coordinator")
    return problems


async def _check_meeting(s, dialog: Dialog | None) -> list[str]:  # type: ignore[no-untyped-def]
    """The meeting was held and closed as minutes of record, round 2 began, the plan is agreed
    and the referat reissued, one task is done."""
    problems = []
    meeting = await s.scalar(select(Meeting))
    if meeting is None or meeting.status != "closed":
        problems.append("the meeting was not held and closed")
        return problems
    coming = await s.scalar(select(func.count()).select_from(MeetingResponse).where(MeetingResponse.coming))
    if coming != 3:
        problems.append(f"expected 3 answers 'Jeg kommer', found {coming}")
    marks = sorted((await s.scalars(select(MeetingAttendance.status).where(
        MeetingAttendance.meeting_id == meeting.id))).all())
    if marks != ["absent", "apologies", "present", "present"]:  # the grandmother did not come
        problems.append(f"expected two present, one apology and one absent at the meeting, found {marks}")
    if meeting.summary != SUMMARY:
        problems.append("the meeting's summary was not recorded")
    if dialog is not None and dialog.case_ref != CASE_REF:
        problems.append("the case number was not recorded")
    if meeting.referat_edition != 2:
        problems.append(f"expected the referat's edition 2 after the plan was agreed, found {meeting.referat_edition}")
    target = await s.scalar(select(DialogRound.joint_target).where(DialogRound.round_no == 1))
    if target != 4:
        problems.append(f"expected the joint target 4 in round 1, found {target}")
    if dialog is not None and dialog.round_no != 2:
        problems.append(f"expected round 2 after the meeting, found {dialog.round_no}")
    if dialog is not None and not (dialog.plan_version > 0 and dialog.plan_accepted_version == dialog.plan_version):
        problems.append("the plan is not agreed")
    statuses = sorted((await s.scalars(select(Task.status))).all())
    if statuses != ["done", "open"]:
        problems.append(f"expected two tasks, one done, found {statuses}")
    return problems


async def _check_notices(s, now: datetime) -> list[str]:  # type: ignore[no-untyped-def]
    """The coordinator's routine notices came as digests; the urgent ones at once; nothing due
    is left (the reminders of tasks that end later wait for their day)."""
    problems = []

    async def sent(kind: str) -> int:
        return await s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == kind, OutboxMessage.status == "sent")) or 0

    if await sent("task_done") != 1:
        problems.append("the coordinator was not told that the task is done")
    if await sent("digest") < 1:
        problems.append("no digest of routine notices went out")
    if await sent("family_message") != 1:
        problems.append("Mette's message did not reach the coordinator")
    waiting = (await s.scalars(select(OutboxMessage.kind).where(
        OutboxMessage.status.in_(("held", "pending")), OutboxMessage.due_at <= now))).all()
    if waiting:
        problems.append(f"notices due never went out: {sorted(waiting)}")
    return problems


@dataclass
class Walk:
    """What one person did and got on their phone in the whole demo."""

    links: int  # "/start <token>": Telegram sends it when a link is opened
    texts: list[str]  # what they typed
    menu_taps: int  # main-menu entries (the phone sends the label)
    button_taps: int  # buttons under the bot's messages
    bot_messages: int
    edited: int  # of those, changed in place since
    documents: int

    @property
    def taps(self) -> int:
        return self.menu_taps + self.button_taps


def walk_of(cast: Cast, who: Person) -> Walk:
    labels = {cast.t(who, m) for m in MENU}
    sent = [m.text for m in who.phone.chat if not m.from_bot]
    links = [t for t in sent if who.token and t == f"/start {who.token}"]
    taps = [x for x in getattr(cast, "transcripts", {}).get(who.name, []) if x.kind == "tap"]
    bot = who.phone.bot_messages
    return Walk(links=len(links), texts=[t for t in sent if t not in labels and t not in links],
                menu_taps=sum(t in labels for t in sent), button_taps=len(taps), bot_messages=len(bot),
                edited=sum(m.edited for m in bot), documents=sum(m.document is not None for m in bot))


def check_phones(cast: Cast, people: list[Person]) -> list[str]:
    """What the people must have seen on their phones."""
    problems = []
    camilla, mette, *_ = people
    t = cast.t
    walk = walk_of(cast, mette)
    commands = [x for x in walk.texts if x.startswith("/")]
    if commands or walk.links != 1:
        problems.append(f"Mette typed a command {commands} (she should only open her link once: {walk.links})")
    if walk.menu_taps == 0:
        problems.append("Mette never used the main menu")

    def saw(who: Person, *fragments: str) -> bool:
        return any(all(f in m.text for f in fragments) for m in who.phone.bot_messages)

    if not saw(mette, "12 34 56 78", CONTACT[1], "Faxe Kommune", "/samtykke"):
        problems.append("the consent card did not show the coordinator's contact details, the controller "
                        "and how to withdraw")
    marked = t(mette, "written by the coordinator for {who}").format(who=GRANDMOTHER_SEAT)
    if not saw(mette, marked):
        problems.append("Mette was not told of the grandmother's input, marked as written by the coordinator")
    if not saw(mette, marked, "Emma er stille, når hun er hos mig."):
        problems.append("Mette's overview does not show the grandmother's input, marked")
    for who in people:
        editions = [d.file_name for d in who.phone.documents if _is_referat(d.file_name)]
        if len(editions) != 2 or "udgave-2" not in (editions[-1] or ""):
            problems.append(f"{who.name} did not get the referat and its second edition: {editions}")
    if not saw(camilla, TO_COORDINATOR):
        problems.append("Mette's message did not reach Camilla")
    if not saw(camilla, "📬"):
        problems.append("Camilla got no digest")
    return problems


# ---- printing the chats ---------------------------------------------------------------------------


def print_chats(cast: Cast, people: list[Person]) -> None:
    if isinstance(cast, DemoCast):
        cast.capture()
    for person in people:
        print_chat(cast, person)
    if len(people) > 1:
        walk = walk_of(cast, people[1])
        commands = sum(x.startswith("/") for x in walk.texts)
        opened = "once" if walk.links == 1 else f"{walk.links} times"
        typed = "no command" if not commands else f"{commands} command(s)"
        print(f"\n{people[1].name}'s walk, from her link to the plan and a message to her coordinator: "
              f"opened her link {opened}; typed {typed} and {len(walk.texts) - commands} texts; "
              f"{walk.taps} taps ({walk.button_taps} buttons, {walk.menu_taps} menu entries); "
              f"{walk.bot_messages} messages from the bot ({walk.documents} PDFs, {walk.edited} changed in place).")


def print_chat(cast: Cast, person: Person) -> None:
    print("\n" + "═" * 72)
    print(f"  What {person.name} saw on their phone")
    print("═" * 72)
    menu = {cast.t(person, m) for m in MENU}
    lines = getattr(cast, "transcripts", {}).get(person.name)
    if lines is None:  # a plain cast: the chat as it is now
        lines = [Line("bot" if m.from_bot else "sent", m.text, m) for m in person.phone.chat]
    for line in lines:
        print(_render(line, person.name, menu))


def _wrapped(body: str) -> list[str]:
    out = []
    for para in body.split("\n"):
        out.extend(textwrap.wrap(para, 68, initial_indent="    ", subsequent_indent="    ") or [""])
    return out


def _render(line: Line, name: str, menu: set[str]) -> str:
    if line.kind == "tap":
        return f"▸ {name} taps [{line.text}]"
    if line.kind == "sent":
        if line.text in menu:
            return f"▸ {name} taps the menu [{line.text}]"
        if line.text.startswith("/start "):
            return f"▸ {name} opens the link they were given"
        return "\n".join([f"▸ {name}:", *_wrapped(line.text)])
    m = line.message
    assert m is not None
    body = line.text or ""
    if line.kind == "edit":
        # Only what changed: the paragraphs after those that stayed the same.
        old, new = line.before.split("\n\n"), body.split("\n\n")
        same = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
        if line.before == body:
            body = "…"
        elif new[same:]:
            body = "\n\n".join((["…"] if same else []) + new[same:])
        head = "◂ Samspil changes its message (in place):"
    else:
        head = "◂ Samspil:"
    if m.document:
        body = f"[document: {m.document.get('file_name')}] {body}"
    out = [head, *_wrapped(body)]
    for row in m.buttons:
        out.append("    " + "  ".join(f"[{b}]" for b in row))
    keyboard = (m.reply_markup or {}).get("keyboard")
    if keyboard:
        labels = " / ".join("  ".join(f"[{b['text'] if isinstance(b, dict) else b}]" for b in row) for row in keyboard)
        out.append(f"    menu at the bottom of the chat: {labels}")
    return "\n".join(out)
