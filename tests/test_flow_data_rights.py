"""Issue #6, data rights: /mine_data sends everything stored about the person and written by
them (JSON and PDF, protected); /slet_mine_data and `samspil admin erase-person` erase it,
keep what the municipality must keep without the name, tell the coordinator, and leave the
person a stranger to the bot.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from pypdf import PdfReader
from sqlalchemy import select

from bot.app import App
from bot.playbook import Cast
from core.clock import FakeClock
from core.config import Settings
from storage.models import (
    Base,
    Consent,
    InputEntry,
    MeetingResponse,
    Participant,
    PlanAnswer,
    Score,
    Task,
)
from storage.models import Person as PersonRow
from tests.conftest import follow_real_time
from tests.helpers import samspil_cli, saw
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    PURPOSE,
    Family,
    dialog_state,
    fresh_routers,
    last_bot,
    new_bot,
    open_dialog_with,
    second_dialog,
)

MOM_ID = 987_654_321
MOM_DRAFT = "Emma græder tit, når hun skal i skole om mandagen."
MOM_SHARED = "Emma har det godt med sin fodboldtræner."
DAD_SHARED = "Emma sover dårligt."
TEACHER_DRAFT = "Jeg er usikker på, om hun spiser sin madpakke."
OTHER_DIALOG_TEXT = "Oscar trives i klassen."
GREETING = "Hej! Jeg er Samspil."


async def family(cast: Cast, samspil: App) -> Family:
    """The usual family, but Mette's Telegram id is one that cannot be mistaken for anything else."""
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    dialog_id = await open_dialog_with(cast, samspil, coord, "Emma", "barn", PURPOSE)
    mom, dad, teacher = cast.person("Mette", user_id=MOM_ID), cast.person("Lars"), cast.person("Hanne")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.invite(coord, dad, "Parent with custody", "Far")
    await cast.invite(coord, teacher, "Professional", "Klasselærer")
    for who in (teacher, mom, dad):
        await cast.join(who)
    await cast.consent(mom)
    await cast.consent(dad)
    return Family(cast, samspil, coord, mom, dad, teacher, dialog_id)


async def write_everything(fam: Family) -> None:
    """Mette: a draft, shared input, a score, a task in the agreed plan. Others write too."""
    cast = fam.cast
    await cast.write_input(fam.mom, "Fritidsforhold og venskaber", worries=None, works=MOM_SHARED, next_steps=None)
    await cast.share_input(fam.mom)
    await cast.write_input(fam.mom, "Sundhedsforhold", worries=MOM_DRAFT, works=None, next_steps=None)
    await cast.scale(fam.mom, 4)
    await cast.write_input(fam.dad, "Sundhedsforhold", worries=DAD_SHARED, works=None, next_steps=None)
    await cast.share_input(fam.dad)
    await cast.write_input(fam.teacher, "Sundhedsforhold", worries=TEACHER_DRAFT, works=None, next_steps=None)
    await cast.add_goal(fam.coord, "Fritidsforhold og venskaber", "Emmas venskaber skal styrkes.")
    await cast.add_task(fam.coord, "Følger Emma til fodbold om tirsdagen.", "Mette (Mor)", "1/12", "18/12")
    await cast.send_plan(fam.coord)
    await cast.accept_plan(fam.mom)
    await cast.accept_plan(fam.dad)


async def test_mine_data_sends_everything_of_the_person_and_nothing_of_others(cast: Cast, samspil: App) -> None:
    fam = await family(cast, samspil)
    await write_everything(fam)
    # A dialog Mette is not part of: nothing of it may reach her.
    oscar = await second_dialog(fam, "Oscar", cast.person("Sofie"))
    await cast.write_input(fam.teacher, "Sundhedsforhold", worries=OTHER_DIALOG_TEXT, works=None, next_steps=None)

    mark = fam.mom.phone.mark()
    await cast.say(fam.mom, "/mine_data")
    assert new_bot(fam.mom, mark)[0].text.startswith("Her er alt, hvad Samspil har om dig")
    docs = fam.mom.phone.documents
    assert [d.file_name.rsplit(".", 1)[1] for d in docs] == ["json", "pdf"]
    assert all(d.protect_content for d in docs)
    assert docs[0].file_name == "samspil-mine-data-2026-11-23.json"

    data = json.loads(docs[0].data)
    assert data["person"]["name"] == "Mette" and data["person"]["telegram_id"] == MOM_ID
    assert [(s["dialog_id"], s["role"], s["relation"]) for s in data["seats"]] == [
        (fam.dialog_id, "parent_custody", "Mor")]
    entries = {(e["status"], e["area"]): e for e in data["input_entries"]}
    assert entries[("shared", "leisure")]["works"] == MOM_SHARED
    assert entries[("draft", "health")]["worries"] == MOM_DRAFT
    assert [s["value"] for s in data["scores"]] == [4]
    assert [c["answer"] for c in data["consents"]] == ["given"]
    assert data["consents"][0]["participants_shown"] == ["Mette (Mor)", "Lars (Far)", "Hanne (Klasselærer)"]
    assert data["consents"][0]["text_shown"].startswith("Hej Mette")
    assert [t["what"] for t in data["tasks"]] == ["Følger Emma til fodbold om tirsdagen."]
    assert [a["agrees"] for a in data["plan_answers"]] == [True]
    # The audit log of her own actions (storage/audit.py), and nobody else's.
    mine = {data["person"]["id"]}
    seats = {s["participant_id"] for s in data["seats"]}
    assert data["audit"] and all(a["actor_id"] in mine or a["participant_id"] in seats for a in data["audit"])
    assert "consent.given" in {a["action"] for a in data["audit"]}
    raw = docs[0].data.decode()
    for foreign in (TEACHER_DRAFT, DAD_SHARED, OTHER_DIALOG_TEXT, "Oscar"):
        assert foreign not in raw, foreign
    assert all(s["dialog_id"] != oscar for s in data["seats"])

    pdf = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(docs[1].data)).pages)
    flat = " ".join(pdf.split())
    assert "Dine data i Samspil" in flat
    for mine in (MOM_DRAFT, MOM_SHARED, "Følger Emma til fodbold om tirsdagen."):
        assert mine in flat, mine
    for foreign in (TEACHER_DRAFT, DAD_SHARED, OTHER_DIALOG_TEXT):
        assert foreign not in flat

    # A stranger has nothing stored.
    stranger = cast.person("Ukendt")
    assert (await cast.say(stranger, "/mine_data")).text == "Samspil har ingen data om dig."


async def every_value(app: App) -> list[tuple[str, str, Any]]:
    """(table, column, value) of every stored value, personal text decrypted."""
    out = []
    async with app.sessionmaker() as s:
        for table in Base.metadata.sorted_tables:
            if table.name == "processed_update":
                continue
            for row in (await s.execute(table.select())).all():
                for column, value in row._mapping.items():
                    out.append((table.name, column, value))
    return out


async def test_slet_mine_data_erases_the_person_and_keeps_what_the_law_requires_without_the_name(
    cast: Cast, samspil: App,
) -> None:
    fam = await family(cast, samspil)
    await write_everything(fam)
    async with samspil.sessionmaker() as s:
        me = await s.scalar(select(PersonRow).where(PersonRow.telegram_id == MOM_ID))
        seat = await s.scalar(select(Participant).where(Participant.person_id == me.id))
    person_id, seat_id = me.id, seat.id

    confirm = await cast.say(fam.mom, "/slet_mine_data")
    assert confirm.text.startswith("Vil du slette dine data i Samspil?")
    assert ("Kommunen skal efter loven gemme nogle oplysninger. De bliver gemt, men uden dit navn:\n"
            "• dine svar om samtykke (hvad du så, og hvornår)\n"
            "• dine opgaver i planer, og om du var enig i en plan") in confirm.text
    assert confirm.buttons == [["Ja, slet mine data"], ["Nej, behold mine data"]]
    # "No" keeps everything.
    await cast.tap(fam.mom, "No, keep my data", expect="Der blev ikke slettet noget.")
    await cast.say(fam.mom, "/slet_mine_data")
    mark = fam.coord.phone.mark()
    reply = await cast.tap(fam.mom, "Yes, erase my data", expect="Dine data er slettet.")
    assert reply.text == "Dine data er slettet. Samspil kender dig ikke mere.\n\nTak, fordi du var med."

    # No name, no Telegram id, nothing she wrote is left anywhere.
    for table, column, value in await every_value(samspil):
        if isinstance(value, str):
            assert "Mette" not in value, (table, column)
            assert MOM_DRAFT not in value and MOM_SHARED not in value, (table, column)
            assert str(MOM_ID) not in value, (table, column)
        elif isinstance(value, int) and not isinstance(value, bool):
            assert value != MOM_ID, (table, column)
    async with samspil.sessionmaker() as s:
        me = await s.get(PersonRow, person_id)
        seat = await s.get(Participant, seat_id)
        assert me.name is None and me.telegram_id is None and me.staff_role is None
        assert seat.name == "Slettet deltager" and seat.person_id is None and seat.relation == "Mor"
        assert not list(await s.scalars(select(InputEntry).where(InputEntry.participant_id == seat_id)))
        assert not list(await s.scalars(select(Score).where(Score.participant_id == seat_id)))
        assert not list(await s.scalars(select(MeetingResponse).where(MeetingResponse.participant_id == seat_id)))
        # Kept (KEEP_ON_ERASE=consents,plan), without the name: consents, her task, her agreement.
        consents = list(await s.scalars(select(Consent).where(Consent.participant_id == seat_id).order_by(Consent.id)))
        assert [c.answer for c in consents] == ["given", "withdrawn"]
        assert consents[0].text_shown.startswith("Hej Slettet deltager")
        assert json.loads(consents[0].participants_shown)[0] == "Slettet deltager (Mor)"
        dad_consent = await s.scalar(select(Consent).where(Consent.participant_id != seat_id, Consent.answer == "given"))
        assert "Slettet deltager (Mor)" in dad_consent.text_shown
        [task] = list(await s.scalars(select(Task).where(Task.owner_id == seat_id)))
        assert task.what == "Følger Emma til fodbold om tirsdagen."
        answers = list(await s.scalars(select(PlanAnswer).where(PlanAnswer.participant_id == seat_id)))
        assert [(a.agrees, a.comment) for a in answers] == [(True, None)]
        # Other people's input is theirs and stays.
        assert len(list(await s.scalars(select(InputEntry).where(InputEntry.participant_id != seat_id)))) == 2

    # She gave consent: the dialog pauses; the coordinator is told.
    assert await dialog_state(fam) == "paused"
    told = "\n".join(m.text for m in new_bot(fam.coord, mark))
    assert ("Slettet deltager (Mor) i dialogen om Emma har fået sine personoplysninger slettet i Samspil. "
            "Det, kommunen skal gemme, er gemt uden navn.") in told
    assert "Personen gav samtykke til dialogen, så den er sat på pause." in told

    # A stranger to the bot now.
    assert (await cast.say(fam.mom, "/start")).text.startswith(GREETING)
    assert (await cast.say(fam.mom, "/mine_data")).text == "Samspil har ingen data om dig."
    reply = await cast.say(fam.mom, "/input")
    assert reply.text.startswith("Du er ikke med i en dialog endnu.")


async def test_a_coordinator_with_open_dialogs_cannot_erase_themself(cast: Cast, samspil: App) -> None:
    fam = await family(cast, samspil)
    reply = await cast.say(fam.coord, "/slet_mine_data")
    assert reply.text.startswith("Du er tovholder for dialoger, der ikke er lukket.")
    assert reply.buttons == []


@pytest.fixture
def cli_db(settings: Settings, clock: FakeClock) -> dict[str, str]:
    # The command runs as a real process on the real clock: the bot's clock follows it.
    follow_real_time(clock)
    env = {"DATABASE_URL": settings.database_url}
    if settings.database_schema:
        env["DATABASE_SCHEMA"] = settings.database_schema
    if settings.redis_url:
        env.update(REDIS_URL=settings.redis_url, REDIS_PREFIX=settings.redis_prefix)
    return env


def _conversation_key(samspil: App, telegram_id: int) -> StorageKey:
    return StorageKey(bot_id=samspil.bot.id, chat_id=telegram_id, user_id=telegram_id)


async def test_admin_erase_person_does_the_same_on_request(
    cast: Cast, samspil: App, tmp_path: Path, cli_db: dict[str, str],
) -> None:
    fam = await family(cast, samspil)
    await cast.write_input(fam.teacher, "Sundhedsforhold", worries=TEACHER_DRAFT, works=None, next_steps=None)
    await cast.write_input(fam.teacher, "Fritidsforhold og venskaber", worries="Hun har få venner.", works=None,
                           next_steps=None)
    await cast.share_input(fam.teacher)
    teacher_id = fam.teacher.phone.user_id
    # She is in the middle of writing (the step lives in the FSM storage: SQL or Redis).
    await cast.say(fam.teacher, "/input")
    await cast.tap_text(fam.teacher, "Familieforhold")
    storage = samspil.dp.storage
    assert await storage.get_state(_conversation_key(samspil, teacher_id)) is not None

    # Unknown people: one line, exit 2, nothing changes.
    run = await samspil_cli("admin", "erase-person", "--telegram-id", "5", cwd=tmp_path, **cli_db)
    assert run.code == 2 and run.stderr_lines[-1] == (
        "Configuration error: --telegram-id: no person with Telegram id 5 (or their data is already erased)")

    mark = fam.coord.phone.mark()
    run = await samspil_cli("admin", "erase-person", "--telegram-id", str(teacher_id), cwd=tmp_path,
                            KEEP_ON_ERASE="", **cli_db)
    assert run.code == 0, run.stderr
    assert run.stdout_lines[0].startswith("Erased person ")
    assert "Hanne" not in run.stdout and TEACHER_DRAFT not in run.stdout
    assert "Kept without the name (KEEP_ON_ERASE=-): nothing." in run.stdout

    await cast.settle()  # the running bot sends what the command wrote to the outbox
    assert any("Slettet deltager (Klasselærer) i dialogen om Emma har fået sine personoplysninger slettet" in m.text
               for m in new_bot(fam.coord, mark))
    async with samspil.sessionmaker() as s:
        assert await s.scalar(select(PersonRow).where(PersonRow.telegram_id == teacher_id)) is None
        left = [e.worries for e in await s.scalars(select(InputEntry))]
    assert TEACHER_DRAFT not in left and "Hun har få venner." not in left
    assert await storage.get_state(_conversation_key(samspil, teacher_id)) is None  # the step is gone too
    assert await storage.get_data(_conversation_key(samspil, teacher_id)) == {}
    # The teacher gave no consent: the dialog goes on.
    assert await dialog_state(fam) == "active"
    assert (await cast.say(fam.teacher, "/start")).text.startswith(GREETING)
    # Erasing again: already gone.
    run = await samspil_cli("admin", "erase-person", "--telegram-id", str(teacher_id), cwd=tmp_path, **cli_db)
    assert run.code == 2
    assert saw(fam.coord, "Slettet deltager (Klasselærer)")
    assert last_bot(fam.teacher).text.startswith(GREETING)


async def test_erasing_a_person_by_id(cast: Cast, samspil: App, tmp_path: Path, cli_db: dict[str, str]) -> None:
    fam = await family(cast, samspil)
    async with samspil.sessionmaker() as s:
        dad = await s.scalar(select(PersonRow).where(PersonRow.telegram_id == fam.dad.phone.user_id))
    run = await samspil_cli("admin", "erase-person", "--person-id", str(dad.id), cwd=tmp_path, **cli_db)
    assert run.code == 0, run.stderr
    assert "Kept without the name (KEEP_ON_ERASE=consents,plan): consents 2." in run.stdout
    await cast.settle()
    assert await dialog_state(fam) == "paused"  # Lars had consented
    assert (await cast.say(fam.dad, "/start")).text.startswith(GREETING)
