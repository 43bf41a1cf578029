"""Issue #13, the coordinator's desk: `/dialoger` as "what needs me", a dialog's card, and handing a
dialog over (in the bot and with `samspil admin transfer-dialog`).

Many dialogs in different situations are set up directly in the database (playing every step of
twelve dialogs through the bot would take minutes); the coordinator then uses the bot as usual.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.playbook import Cast
from bot.playbook import Person as Phone
from core.clock import FakeClock
from core.config import Settings
from handlers.desk_views import DeskAction, DeskCb
from storage import audit
from storage import queries as q
from storage.models import (
    Consent,
    Dialog,
    Goal,
    Meeting,
    OutboxMessage,
    Participant,
    Person,
    Score,
    Task,
)
from tests.conftest import follow_real_time
from tests.helpers import da, new_bot, samspil_cli, saw
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    fresh_routers,
    open_family,
)
from tests.sql_count import SqlCount, counted

SITUATIONS = ("Alma", "Bo", "Carl", "Dina", "Emil", "Frida", "Gustav", "Hugo", "Ida", "Jens", "Karla", "Lea")


# ---- building dialogs directly in the database ---------------------------------------------------


class Builder:
    def __init__(self, app: App, coordinator_telegram_id: int, now: datetime) -> None:
        self.app, self.tg, self.now = app, coordinator_telegram_id, now
        self.next_tg = 700_000

    async def dialog(self, child: str, situation: str) -> int:
        now = self.now
        async with self.app.sessionmaker() as s, s.begin():
            coord = await q.person_by_telegram_id(s, self.tg)
            d = await q.create_dialog(s, coordinator=coord, child_name=child, age_group="barn",
                                      purpose=f"{child}s trivsel.", now=now - timedelta(days=30))
            mom = await self._member(s, d, "Mor", "parent_custody", now - timedelta(days=30))
            teacher = await self._member(s, d, "Lærer", "professional", now - timedelta(days=30))
            if situation not in ("awaiting", "talk_first"):
                s.add(Consent(dialog_id=d.id, participant_id=mom.id, answer="given", text_shown="x",
                              participants_shown="[]", locale="da", created_at=now - timedelta(days=29)))
                d.state, d.activated_at = "active", now - timedelta(days=29)
                if situation != "no_meeting":
                    days = 2 if situation == "input_missing" else 10
                    s.add(Meeting(dialog_id=d.id, round_no=1, starts_at=now + timedelta(days=days), place="Skolen",
                                  status="scheduled", version=1, created_at=now))
            if situation == "alert":
                s.add(Score(dialog_id=d.id, participant_id=mom.id, round_no=1, value=9,
                            created_at=now - timedelta(hours=3)))
            elif situation == "withdrawn":
                s.add(Consent(dialog_id=d.id, participant_id=mom.id, answer="withdrawn", text_shown="x",
                              participants_shown="[]", locale="da", created_at=now - timedelta(days=1)))
                d.state = "paused"
            elif situation == "talk_first":
                s.add(Consent(dialog_id=d.id, participant_id=mom.id, answer="talk_first", text_shown="x",
                              participants_shown="[]", locale="da", created_at=now - timedelta(hours=2)))
            elif situation == "message":
                s.add(OutboxMessage(key=f"msg:{d.id}", person_id=coord.id, dialog_id=d.id, kind="family_message",
                                    payload="{}", due_at=now, status="sent", attempts=1,
                                    created_at=now - timedelta(hours=1)))
            elif situation in ("help", "overdue", "plan"):
                goal = Goal(dialog_id=d.id, area="health", text="Sove bedre", round_no=1, created_at=now)
                s.add(goal)
                await s.flush()
                ends = (now - timedelta(days=3)).date() if situation == "overdue" else (now + timedelta(days=20)).date()
                s.add(Task(goal_id=goal.id, dialog_id=d.id, what="Læse godnathistorie", owner_id=mom.id,
                           starts_on=(now - timedelta(days=10)).date(), ends_on=ends,
                           status="help" if situation == "help" else "open", created_at=now))
                d.plan_version = 1
                d.plan_accepted_version = 0 if situation == "plan" else 1
            elif situation == "no_meeting":
                s.add(Meeting(dialog_id=d.id, round_no=1, starts_at=now - timedelta(days=6), place="Skolen",
                              status="closed", version=1, created_at=now - timedelta(days=20),
                              closed_at=now - timedelta(days=6)))
                d.round_no = 2
            elif situation == "closed":
                d.state, d.closed_at, d.close_reason = "closed", now - timedelta(days=2), "Målet er nået."
            elif situation == "input_missing":
                # The mother has shared input and scored; the teacher has done neither.
                s.add(Score(dialog_id=d.id, participant_id=mom.id, round_no=1, value=4, created_at=now))
                from storage.models import InputEntry
                s.add(InputEntry(dialog_id=d.id, participant_id=mom.id, round_no=1, area="health", worries="x",
                                 created_at=now, updated_at=now, shared_at=now))
            del teacher
            return d.id

    async def _member(self, s, d: Dialog, relation: str, role: str, at: datetime) -> Participant:  # type: ignore[no-untyped-def]
        self.next_tg += 1
        person = Person(telegram_id=self.next_tg, name=relation, created_at=at)
        s.add(person)
        await s.flush()
        p = Participant(dialog_id=d.id, person_id=person.id, name=f"{relation} {d.child_name}", role=role,
                        relation=relation, consent_giver=role == "parent_custody", joined_at=at, created_at=at)
        s.add(p)
        await s.flush()
        return p


SITUATION_OF = {
    "Alma": "alert", "Bo": "withdrawn", "Carl": "talk_first", "Dina": "message", "Emil": "help",
    "Frida": "awaiting", "Gustav": "input_missing", "Hugo": "no_meeting", "Ida": "overdue", "Jens": "plan",
    "Karla": "fine", "Lea": "closed",
}


def _order(text: str, names: tuple[str, ...] | list[str]) -> list[str]:
    found = [(text.find(f"{n} (#"), n) for n in names]
    return [n for i, n in sorted(found) if i >= 0]


def _buttons(msg) -> list[str]:  # type: ignore[no-untyped-def]
    return [b for row in msg.buttons for b in row]


async def _coordinator(cast: Cast, name: str = "Camilla Tovholder") -> Phone:
    coord = cast.person(name)
    await cast.register(coord)
    return coord


# ---- the list -------------------------------------------------------------------------------------


async def test_dialoger_orders_filters_and_pages_what_needs_the_coordinator(
        cast: Cast, samspil: App, clock: FakeClock) -> None:
    coord = await _coordinator(cast)
    build = Builder(samspil, coord.phone.user_id, clock.now())
    ids = {child: await build.dialog(child, SITUATION_OF[child]) for child in SITUATIONS}

    reply = await cast.say(coord, "/dialoger")
    assert reply.protect_content
    # Ten of the twelve need the coordinator: the list opens on those, most urgent first, 8 a page.
    assert reply.text.startswith("Dine dialoger · Kræver handling\n10 af dine 11 åbne dialoger kræver dig nu.\n"
                                 "Side 1 af 2")
    assert _order(reply.text, SITUATIONS) == ["Alma", "Bo", "Carl", "Dina", "Emil", "Frida", "Gustav", "Hugo"]
    assert f"⚠️ Alma (#{ids['Alma']}) – Et højt tal på linealen, ikke set endnu" in reply.text
    assert f"⛔ Bo (#{ids['Bo']}) – Samtykke afvist eller trukket tilbage" in reply.text
    assert f"✉️ Carl (#{ids['Carl']}) – Vil tale med dig før samtykke" in reply.text
    assert f"✉️ Dina (#{ids['Dina']}) – En besked fra familien, ikke set endnu" in reply.text
    assert f"🆘 Emil (#{ids['Emil']}) – En opgave har brug for hjælp" in reply.text
    assert f"⏳ Frida (#{ids['Frida']}) – Har ventet på samtykke i 30 dage" in reply.text
    assert f"📝 Gustav (#{ids['Gustav']}) – Møde " in reply.text and "1 person mangler input eller sit tal" in reply.text
    assert f"📅 Hugo (#{ids['Hugo']}) – Intet nyt møde aftalt siden det sidste" in reply.text
    # One button per dialog on the page, then paging, then the filters.
    assert reply.buttons[0] == [f"⚠️ Alma (#{ids['Alma']})"]
    assert len(reply.buttons) == 8 + 2
    assert reply.buttons[-2] == ["Næste ▶️"]
    assert reply.buttons[-1] == ["Alle", "• Kræver handling (10)", "Lukkede"]

    page2 = await cast.tap_text(coord, "Næste ▶️")
    assert page2.message_id == reply.message_id  # the list is edited in place
    assert "Side 2 af 2" in page2.text
    assert _order(page2.text, SITUATIONS) == ["Ida", "Jens"]
    assert f"⏰ Ida (#{ids['Ida']}) – En opgave er over tiden" in page2.text
    assert f"📋 Jens (#{ids['Jens']}) – Planen venter på, at familien siger ja" in page2.text
    assert page2.buttons[-2] == ["◀️ Forrige"]

    everything = await cast.tap_text(coord, "Alle")
    assert everything.text.startswith("Dine dialoger · Alle\n")
    page = await cast.tap_text(coord, "Næste ▶️")
    assert _order(page.text, SITUATIONS) == ["Ida", "Jens", "Karla", "Lea"]
    assert f"✅ Karla (#{ids['Karla']}) – I orden" in page.text
    assert f"🔒 Lea (#{ids['Lea']}) – Lukket " in page.text

    closed = await cast.tap_text(coord, "Lukkede")
    assert _order(closed.text, SITUATIONS) == ["Lea"]
    assert closed.buttons[-1] == ["Alle", "Kræver handling (10)", "• Lukkede"]

    # The safeguarding alert: opened, marked as seen, gone from the list (Alma is then in order).
    await cast.tap_text(coord, "Kræver handling (10)")
    card = await cast.tap_text(coord, f"⚠️ Alma (#{ids['Alma']})")
    assert card.text.startswith(f"Alma (barn (0-14 år)) · #{ids['Alma']}\nÅben\n")
    assert "✅ Mor Alma (Mor) " not in card.text and "✅ Mor Alma (Mor)" in card.text
    assert "Kræver dig nu:\n⚠️ Et højt tal på linealen, ikke set endnu" in card.text
    assert _buttons(card) == ["👁 Markér som set", "📅 Møde", "🎯 Mål & Plan", "📄 Referat (PDF)", da(samspil, "📊 Overview"),
                              "➕ Inviter", "✉️ Invitationsbrev", "🔁 Giv videre", "🔒 Luk", "⬅️ Tilbage til listen"]
    card = await cast.tap_text(coord, "👁 Markér som set")
    assert coord.phone.last_answer.text == "Markeret som set."
    assert "Kræver dig nu" not in card.text and "👁 Markér som set" not in _buttons(card)
    listing = await cast.tap_text(coord, "⬅️ Tilbage til listen")
    assert _order(listing.text, SITUATIONS)[0] == "Bo"
    assert "9 af dine 11 åbne dialoger kræver dig nu." in listing.text
    # A new alert after that shows again.
    async with samspil.sessionmaker() as s, s.begin():
        mom = await s.scalar(select(Participant).where(Participant.dialog_id == ids["Alma"],
                                                       Participant.role == "parent_custody"))
        s.add(Score(dialog_id=ids["Alma"], participant_id=mom.id, round_no=1, value=10, created_at=clock.now()))
    listing = await cast.say(coord, "/dialoger")
    assert _order(listing.text, SITUATIONS)[0] == "Alma"

    # The card of a closed dialog: no actions but going back; a paused one: no meeting, no plan.
    await cast.tap_text(coord, "Lukkede")
    card = await cast.tap_text(coord, f"🔒 Lea (#{ids['Lea']})")
    assert "Lukket " in card.text and _buttons(card) == ["⬅️ Tilbage til listen"]
    await cast.tap_text(coord, "⬅️ Tilbage til listen")
    await cast.tap_text(coord, "Alle")
    card = await cast.tap_text(coord, f"⛔ Bo (#{ids['Bo']})")
    assert _buttons(card) == ["➕ Inviter", "✉️ Invitationsbrev", "🔁 Giv videre", "🔒 Luk", "⬅️ Tilbage til listen"]


async def test_only_the_dialogs_coordinator_opens_its_card(cast: Cast, samspil: App, clock: FakeClock) -> None:
    fam = await open_family(cast, samspil)
    kim = await _coordinator(cast, "Kim Tovholder")
    forged = DeskCb(action=DeskAction.OPEN, dialog_id=fam.dialog_id).pack()
    listing = await cast.say(kim, "/dialoger")
    assert listing.text == "Du har ingen dialoger endnu. Opret en med /ny."
    await kim.phone.tap_data(listing.message_id, forged)
    await cast.settle()
    assert kim.phone.last_answer.text == da(samspil, "You are not part of that dialog.")
    anchor = fam.mom.phone.bot_messages[-1].message_id
    for action in (DeskAction.OPEN, DeskAction.SEEN, DeskAction.HAND):
        await fam.mom.phone.tap_data(anchor, DeskCb(action=action, dialog_id=fam.dialog_id).pack())
        await cast.settle()
        assert fam.mom.phone.last_answer.text == da(samspil, "Only the coordinator can do that.")
    # A parent typing /dialoger is told it is for coordinators.
    assert (await cast.say(fam.mom, "/dialoger")).text == da(
        samspil, "That command is for coordinators (tovholdere). Type /hjaelp to see what you can do.")


async def test_the_cards_buttons_lead_into_the_flows(cast: Cast, samspil: App) -> None:
    fam = await open_family(cast, samspil)
    await cast.say(fam.coord, "/dialoger")
    await cast.tap_text(fam.coord, "📅 Emma", expect="Emma")  # no meeting yet: it needs the coordinator
    reply = await cast.tap_text(fam.coord, "📅 Møde")
    assert "møde" in reply.text.lower()  # the meeting flow asks when
    await cast.say(fam.coord, "/annuller")
    await cast.say(fam.coord, "/dialoger")
    await cast.tap_text(fam.coord, "📅 Emma")
    reply = await cast.tap_text(fam.coord, "➕ Inviter")
    assert reply.text.startswith("Inviter til dialogen om Emma")
    await cast.say(fam.coord, "/annuller")
    await cast.say(fam.coord, "/dialoger")
    await cast.tap_text(fam.coord, "📅 Emma")
    reply = await cast.tap_text(fam.coord, "🔒 Luk")
    assert reply.text.startswith("Luk dialogen om Emma")
    await cast.say(fam.coord, "/annuller")
    await cast.say(fam.coord, "/dialoger")
    await cast.tap_text(fam.coord, "📅 Emma")
    reply = await cast.tap_text(fam.coord, "🎯 Mål & Plan")
    assert "Emma" in reply.text


async def test_a_hundred_and_twenty_dialogs_page_and_cost_the_same_queries(
        cast: Cast, samspil: App, clock: FakeClock) -> None:
    coord = await _coordinator(cast)
    build = Builder(samspil, coord.phone.user_id, clock.now())
    kinds = list(SITUATION_OF.values())
    for i in range(12):
        await build.dialog(f"Barn{i:03d}", kinds[i % len(kinds)])
    counter = SqlCount(samspil)  # the update's statements, not a scheduler round beside it
    try:
        await cast.say(coord, "/dialoger")
        few = counted(counter.updates[-1])
        for i in range(12, 124):
            await build.dialog(f"Barn{i:03d}", kinds[i % len(kinds)])
        started = time.perf_counter()
        reply = await cast.say(coord, "/dialoger")
        took = time.perf_counter() - started
        many = counted(counter.updates[-1])
    finally:
        counter.close()
    print(f"\n/dialoger: {few} queries for 12 dialogs, {many} for 124 ({took * 1000:.0f} ms with the emulator)")
    assert 0 < many == few  # no query per dialog
    open_needing = sum(1 for i in range(124) if kinds[i % len(kinds)] not in ("fine", "closed"))
    pages = -(-open_needing // 8)
    assert f"Side 1 af {pages}" in reply.text
    assert len(reply.text.splitlines()) <= 4 + 8  # a short list: a heading and eight lines
    assert len(reply.buttons) == 8 + 2
    for _ in range(pages - 1):
        reply = await cast.tap_text(coord, "Næste ▶️")
    assert f"Side {pages} af {pages}" in reply.text and reply.buttons[-2] == ["◀️ Forrige"]


# ---- handing over ---------------------------------------------------------------------------------


async def _shared_history(cast: Cast, fam) -> None:  # type: ignore[no-untyped-def]
    await cast.write_input(fam.mom, "Sundhedsforhold", worries="Emma sover dårligt.", works=None, next_steps=None)
    await cast.share_input(fam.mom)


async def _check_handed_over(cast: Cast, samspil: App, fam, bent: Phone, note: str | None,  # type: ignore[no-untyped-def]
                             marks: dict[str, int], by_admin: bool) -> None:
    async with samspil.sessionmaker() as s:
        dialog = await s.get(Dialog, fam.dialog_id)
        bent_row = await q.person_by_telegram_id(s, bent.phone.user_id)
        assert dialog.coordinator_id == bent_row.id
        seats = list(await s.scalars(select(Participant).where(Participant.dialog_id == fam.dialog_id,
                                                               Participant.role == "coordinator")))
        assert [p.person_id for p in seats] == [bent_row.id]
        [event_] = [e for e in await audit.events(s, dialog_id=fam.dialog_id) if e.action == audit.DIALOG_HANDED_OVER]
        camilla = await q.person_by_telegram_id(s, fam.coord.phone.user_id)
        assert audit.ids_of(event_)["to_person_id"] == bent_row.id
        assert audit.ids_of(event_)["from_person_id"] == camilla.id
        assert (event_.actor_id, event_.actor_role) == ((None, "admin") if by_admin else (camilla.id, "coordinator"))
    # The new coordinator is told, with the note, and opens the dialog: its whole history.
    [told] = [m for m in new_bot(bent, marks["bent"]) if "Du er nu tovholder for dialogen om Emma" in m.text]
    if note:
        assert f"Besked: {note}" in told.text
    assert told.buttons == [["Åbn dialogen"]]
    card = await cast.tap_text(bent, "Åbn dialogen")
    assert "✅ Mette (Mor)" in card.text
    overview = await cast.say(bent, "/oversigt")
    assert "Emma sover dårligt." in overview.text
    # Everyone in the dialog is told who their coordinator is now.
    for who in (fam.mom, fam.dad, fam.teacher):
        [m] = [m for m in new_bot(who, marks[who.name]) if "ny tovholder" in m.text]
        assert m.text.startswith("Emma har fået en ny tovholder: Bent Tovholder")
    # The old coordinator has no access any more.
    reply = await cast.say(fam.coord, "/oversigt")
    assert "Emma sover dårligt." not in reply.text
    await fam.coord.phone.tap_data(fam.coord.phone.bot_messages[-1].message_id,
                                   DeskCb(action=DeskAction.OPEN, dialog_id=fam.dialog_id).pack())
    await cast.settle()
    assert fam.coord.phone.last_answer.text == da(samspil, "You are not part of that dialog.")
    assert (await cast.say(fam.coord, "/dialoger")).text == "Du har ingen dialoger endnu. Opret en med /ny."


async def test_handing_a_dialog_over_in_the_bot(cast: Cast, samspil: App) -> None:
    fam = await open_family(cast, samspil)
    await _shared_history(cast, fam)
    bent = await _coordinator(cast, "Bent Tovholder")
    marks = {"bent": bent.phone.mark(), **{w.name: w.phone.mark() for w in (fam.mom, fam.dad, fam.teacher)}}
    await cast.say(fam.coord, "/dialoger")
    await cast.tap_text(fam.coord, "📅 Emma")
    choose = await cast.tap_text(fam.coord, "🔁 Giv videre")
    assert choose.text.startswith("Giv dialogen om Emma videre")
    assert _buttons(choose) == ["Bent Tovholder", "Annuller"]
    ask = await cast.tap_text(fam.coord, "Bent Tovholder")
    assert ask.text.startswith("Skriv en kort besked til Bent Tovholder")
    note = "Mor ringer helst om formiddagen."
    confirm = await cast.say(fam.coord, note)
    assert confirm.text.startswith("Vil du give dialogen om Emma videre til Bent Tovholder?")
    assert f"Besked: {note}" in confirm.text
    done = await cast.tap_text(fam.coord, "Ja, giv den videre")
    assert done.text.startswith("✅ Bent Tovholder er nu tovholder for dialogen om Emma.")
    await cast.settle()
    await _check_handed_over(cast, samspil, fam, bent, note, marks, by_admin=False)
    # Nothing of the note stays in the outbox once it is sent.
    async with samspil.sessionmaker() as s:
        bodies = [r.body for r in await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "handover_new"))]
    assert bodies == [None]


@pytest.fixture
def cli_db(settings: Settings, clock: FakeClock) -> dict[str, str]:
    follow_real_time(clock)  # the command runs as a real process on the real clock
    env = {"DATABASE_URL": settings.database_url}
    if settings.database_schema:
        env["DATABASE_SCHEMA"] = settings.database_schema
    return env


async def test_handing_a_dialog_over_from_the_command_line(
        cast: Cast, samspil: App, tmp_path: Path, cli_db: dict[str, str]) -> None:
    fam = await open_family(cast, samspil)
    await _shared_history(cast, fam)
    bent = await _coordinator(cast, "Bent Tovholder")
    marks = {"bent": bent.phone.mark(), "camilla": fam.coord.phone.mark(),
             **{w.name: w.phone.mark() for w in (fam.mom, fam.dad, fam.teacher)}}
    dialog = str(fam.dialog_id)

    run = await samspil_cli("admin", "transfer-dialog", "--dialog", dialog, "--to", "424242", cwd=tmp_path, **cli_db)
    assert run.code == 2 and run.stderr_lines[-1] == (
        "Configuration error: --to: no registered coordinator with person id or Telegram id 424242")
    run = await samspil_cli("admin", "transfer-dialog", "--dialog", dialog, "--to", str(fam.coord.phone.user_id),
                            cwd=tmp_path, **cli_db)
    assert run.code == 2 and "is the coordinator of dialog" in run.stderr_lines[-1]

    note = "Sagsbehandler overtager sagen."
    run = await samspil_cli("admin", "transfer-dialog", "--dialog", dialog, "--to", str(bent.phone.user_id),
                            "--note", note, cwd=tmp_path, **cli_db)
    assert run.code == 0, run.stderr
    assert run.stdout_lines[0].startswith(f"Handed dialog {dialog} over to person ")
    assert "Told: the new coordinator, the old coordinator, 3 participant(s)." in run.stdout
    assert "Bent" not in run.stdout and note not in run.stdout
    await cast.settle()  # the running bot sends what the command wrote to the outbox
    assert saw(fam.coord, "En administrator har givet dialogen om Emma")
    await _check_handed_over(cast, samspil, fam, bent, note, marks, by_admin=True)


async def test_handing_over_to_someone_already_in_the_dialog(cast: Cast, samspil: App) -> None:
    """A caseworker who takes part already keeps their seat, now as the coordinator's; a parent who
    gives consent cannot become the dialog's coordinator."""
    fam = await open_family(cast, samspil)
    await cast.register(fam.teacher)  # Hanne, in the dialog as a professional, is registered as a coordinator
    await cast.register(fam.mom)
    await cast.say(fam.coord, "/dialoger")
    await cast.tap_text(fam.coord, "📅 Emma")
    choose = await cast.tap_text(fam.coord, "🔁 Giv videre")
    assert sorted(_buttons(choose)) == sorted(["Hanne", "Mette", "Annuller"])
    await cast.tap_text(fam.coord, "Mette")
    await cast.tap_text(fam.coord, "Giv videre uden besked")
    refused = await cast.tap_text(fam.coord, "Ja, giv den videre")
    assert refused.text == "Mette giver samtykke i den dialog og kan ikke også være tovholder."

    await cast.say(fam.coord, "/dialoger")
    await cast.tap_text(fam.coord, "📅 Emma")
    await cast.tap_text(fam.coord, "🔁 Giv videre")
    await cast.tap_text(fam.coord, "Hanne")
    await cast.tap_text(fam.coord, "Giv videre uden besked")
    await cast.tap_text(fam.coord, "Ja, giv den videre")
    async with samspil.sessionmaker() as s:
        seats = list(await s.scalars(select(Participant).where(Participant.dialog_id == fam.dialog_id)
                                     .order_by(Participant.id)))
    hanne = next(p for p in seats if p.name == "Hanne")
    assert hanne.role == "coordinator" and hanne.person_id is not None
    old = next(p for p in seats if p.name == "Camilla Tovholder")
    assert (old.person_id, old.role) == (None, "professional") and old.removed_at is not None
    listing = await cast.say(fam.teacher, "/dialoger")
    assert "Emma (#" in listing.text
