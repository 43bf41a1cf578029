"""Reminders of issue #4, timed with the fake clock: before the meeting, tasks, the overdue digest.

The meeting is on Thursday 3 December 2026 at 14:00 (Copenhagen); reminders go out
at REMINDER_HOUR local time, 3 and 1 days before. Task reminders come 2 days before
the end date and on it, only once the plan is agreed. Family members' notices wait
for the morning; a professional's do not.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select, text

from core.config import Settings
from storage.models import Dialog, OutboxMessage, Task
from storage.plan import overdue_query
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    Family,
    fresh_routers,
    last_bot,
    open_family,
    participant_id,
)

WHEN_DA = "torsdag den 3. december 2026 kl. 14.00"
HUSK = "Husk dit input og dit tal på linealen før mødet"


def utc(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
async def fam(cast, samspil):
    return await open_family(cast, samspil)


def texts_with(who, fragment: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.text for m in who.phone.bot_messages if fragment in m.text]


async def at(cast, clock, when: datetime) -> None:  # type: ignore[no-untyped-def]
    """Move the clock, send what is due, wait until the bot is idle."""
    clock.set(when)
    await cast.scheduler.drain()
    await cast.settle()


async def rows(fam: Family, kind: str) -> list[OutboxMessage]:
    async with fam.app.sessionmaker() as s:
        return list(await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


async def give_everything(fam: Family, who, score: int = 5) -> None:  # type: ignore[no-untyped-def]
    await fam.cast.write_input(who, "Familieforhold", worries="Emma er stille.", works=None, next_steps=None)
    await fam.cast.share_input(who)
    await fam.cast.scale(who, score)


# ---- before the meeting ------------------------------------------------------------------------


async def test_input_reminders_go_to_those_missing_at_the_right_time_and_stop_when_given(fam, cast, clock):
    mom, dad, teacher = fam.mom, fam.dad, fam.teacher
    await give_everything(fam, teacher)
    await cast.write_input(mom, "Familieforhold", worries="Emma sover dårligt.", works=None, next_steps=None)
    await cast.share_input(mom)  # but no score yet
    await cast.schedule_meeting(fam.coord, "3/12 kl. 14", "Skolen")
    assert len(await rows(fam, "meeting_input_reminder")) == 6  # 2 times x 3 participants, decided when due

    await at(cast, clock, utc(30, 7, 59, month=11))  # Monday 30 Nov, 08:59
    assert all(texts_with(w, HUSK) == [] for w in (mom, dad, teacher))
    await at(cast, clock, utc(30, 8, 0, month=11))  # 09:00, three days before
    assert texts_with(teacher, HUSK) == []  # she has given both
    [mom_reminder] = texts_with(mom, HUSK)
    assert mom_reminder == (f"⏰ {HUSK}\n\nDialogmødet om Emma er {WHEN_DA}. "
                            "Du har ikke sat dit tal på linealen endnu.")
    assert last_bot(mom).buttons == [["📏 Skalér på linealen"]]
    [dad_reminder] = texts_with(dad, HUSK)
    assert dad_reminder.endswith("Du har ikke delt dit input endnu. Du har heller ikke sat dit tal på linealen.")
    assert last_bot(dad).buttons == [["✍️ Skriv dit input"], ["📏 Skalér på linealen"]]

    # The button leads straight to the ruler of this dialog.
    ruler = await cast.tap(mom, "📏 Place it on the ruler")
    assert ruler.text.startswith("Børnelinealen – Emma")
    await cast.tap_text(mom, "6")
    await cast.tap_text(mom, "✅ Ja, gem 6")
    # The dad gives both the next day: neither gets the second reminder.
    clock.set(utc(1, 15))
    await give_everything(fam, dad)
    await at(cast, clock, utc(2, 8))  # Wednesday 2 Dec, 09:00, one day before
    assert len(texts_with(mom, HUSK)) == 1 and len(texts_with(dad, HUSK)) == 1
    statuses = sorted(r.status for r in await rows(fam, "meeting_input_reminder"))
    assert statuses == ["sent", "sent", "skipped", "skipped", "skipped", "skipped"]


async def test_the_day_before_only_those_coming_are_reminded_of_the_meeting(fam, cast, clock):
    mom, dad, teacher = fam.mom, fam.dad, fam.teacher
    for who in (mom, dad, teacher):
        await give_everything(fam, who)
    await cast.schedule_meeting(fam.coord, "3/12 kl. 14", "Skolen, mødelokale 2")
    await cast.rsvp(mom, coming=True)
    await cast.rsvp(dad, coming=True)
    await cast.rsvp(dad, coming=False)  # changed his mind
    # teacher does not answer
    await at(cast, clock, utc(2, 7, 59))
    assert texts_with(mom, "Husk: dialogmøde i morgen") == []
    await at(cast, clock, utc(2, 8))  # 09:00 the day before
    assert texts_with(mom, "Husk: dialogmøde i morgen") == [
        f"📅 Husk: dialogmøde i morgen – dialogen om Emma\n\n🗓 {WHEN_DA}\n📍 Skolen, mødelokale 2\n\nVi ses."]
    assert texts_with(dad, "dialogmøde i morgen") == []
    assert texts_with(teacher, "dialogmøde i morgen") == []
    assert all(texts_with(w, HUSK) == [] for w in (mom, dad, teacher))  # all gave input and scores


class TestQuietHours:
    """A reminder due at 21:00 waits until 08:00 for a parent; a professional gets it at once."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        """The usual test settings, reminders at 21:00, quiet hours at their defaults (20-08)."""
        return settings.model_copy(update=dict(
            reminder_hour=21, meeting_reminder_days=[3], quiet_hours_start=time(20, 0),
            quiet_hours_end=time(8, 0)))

    async def test_a_parents_evening_reminder_arrives_in_the_morning(self, fam, cast, clock):
        mom, teacher = fam.mom, fam.teacher
        await cast.schedule_meeting(fam.coord, "3/12 kl. 14", "Skolen")
        await at(cast, clock, utc(30, 20, 0, month=11))  # Monday 30 Nov, 21:00
        assert len(texts_with(teacher, HUSK)) == 1
        assert texts_with(mom, HUSK) == []
        await at(cast, clock, utc(1, 6, 59))  # Tuesday 07:59
        assert texts_with(mom, HUSK) == []
        await at(cast, clock, utc(1, 7, 0))  # 08:00
        assert len(texts_with(mom, HUSK)) == 1
        assert len(texts_with(fam.dad, HUSK)) == 1


# ---- tasks -------------------------------------------------------------------------------------------


async def plan_with_two_tasks(fam: Family) -> None:
    """Hanne: ends Friday 4 December; Lars: ends Friday 18 December."""
    cast, coord = fam.cast, fam.coord
    await cast.add_goal(coord, "Fritidsforhold og venskaber", "Emmas venskaber skal styrkes.")
    await cast.add_task(coord, "Gruppearbejde med vennerne.", "Hanne (Klasselærer)", "1/12", "4/12")
    await cast.add_task(coord, "Fælles spisning med vennerne.", "Lars (Far)", "1/12", "18/12")


async def agree(fam: Family) -> None:
    await fam.cast.send_plan(fam.coord)
    await fam.cast.accept_plan(fam.mom)
    await fam.cast.accept_plan(fam.dad)


TASK_TODAY = "Din opgave skal være færdig i dag"
TASK_SOON = "Husk: din opgave skal være færdig"


async def test_task_reminders_wait_for_the_plan_to_be_agreed_then_come_on_time(fam, cast, clock):
    coord, dad, teacher = fam.coord, fam.dad, fam.teacher
    await plan_with_two_tasks(fam)
    # Not agreed: the days pass and nobody is reminded; no reminder is even written.
    await at(cast, clock, utc(2, 8))  # Wednesday 2 Dec, 09:00: two days before Hanne's end date
    assert texts_with(teacher, "opgave skal være færdig") == []
    assert await rows(fam, "task_reminder") == []

    clock.set(utc(2, 9))
    await agree(fam)
    keys = sorted(r.key for r in await rows(fam, "task_reminder"))
    assert len(keys) == 3  # Hanne's 2-day reminder time has passed; her end-date one and both of Lars'
    await at(cast, clock, utc(4, 7, 59))
    assert texts_with(teacher, "opgave skal være færdig") == []
    await at(cast, clock, utc(4, 8))  # Friday 4 Dec, 09:00
    assert texts_with(teacher, TASK_TODAY) == [
        f"⏰ {TASK_TODAY} – Emma\n\nGruppearbejde med vennerne.\nPeriode: 1. dec. → 4. dec.\n\n"
        "Hvordan går det?"]
    assert last_bot(teacher).buttons == [["✅ Færdig", "🆘 Brug for hjælp"]]

    await at(cast, clock, utc(16, 8))  # Wednesday 16 Dec, 09:00: two days before Lars' end date
    assert texts_with(dad, TASK_SOON) == [
        f"⏰ {TASK_SOON} fredag den 18. december 2026 – Emma\n\nFælles spisning med vennerne.\n"
        "Periode: 1. dec. → 18. dec.\n\nHvordan går det?"]
    reply = await cast.task_help(dad)
    assert reply.text == "Tak. Tovholderen ved nu, at du har brug for hjælp. Du hører snart fra tovholderen."
    assert texts_with(coord, "har brug for hjælp") == [
        "🆘 Lars (Far) har brug for hjælp med en opgave (dialogen om Emma):\nFælles spisning med vennerne.\n"
        "Periode: 1. dec. → 18. dec.\n\nTag gerne kontakt snart."]
    await at(cast, clock, utc(18, 8))  # the end date: still reminded (help is not done)
    assert len(texts_with(dad, TASK_TODAY)) == 1
    reply = await cast.task_done(dad)
    assert reply.text.startswith("Tak! Nu står opgaven som færdig. Tovholderen får besked.\n\n")  # + next step
    assert texts_with(coord, "har markeret en opgave som udført") == [
        "✅ Lars (Far) har markeret en opgave som udført (dialogen om Emma):\nFælles spisning med vennerne."]
    assert texts_with(coord, "opfølgende dialogmøde") == []  # Hanne's task is still open

    # Hanne answers her reminder late: now every task is done, and the coordinator hears it once
    # (both notices due at once to one person come as one message).
    await cast.tap(teacher, "✅ Done")
    assert texts_with(coord, "opfølgende dialogmøde") == [
        "✅ Hanne (Klasselærer) har markeret en opgave som udført (dialogen om Emma):\n"
        "Gruppearbejde med vennerne.\n\n· · ·\n\n"
        "🎉 Alle opgaver i planen for dialogen om Emma er udført. Det er tid til et opfølgende dialogmøde: "
        "planlæg det med /moede."]
    await cast.tap(teacher, "✅ Done")
    assert teacher.phone.last_answer.text == "Opgaven står allerede som færdig."
    assert len(texts_with(coord, "opfølgende dialogmøde")) == 1
    async with fam.app.sessionmaker() as s:
        assert [t.status for t in await s.scalars(select(Task).order_by(Task.id))] == ["done", "done"]


async def test_a_changed_plan_stops_reminders_until_agreed_again_then_each_comes_once(fam, cast, clock):
    coord, teacher = fam.coord, fam.teacher
    await plan_with_two_tasks(fam)
    await agree(fam)
    # The coordinator changes Lars' task: the plan is a proposal again.
    await cast.say(coord, "/plan")
    await cast.tap_text(coord, "🎯 Fritidsforhold og venskaber")
    await cast.tap_text(coord, "✏️ Opgave 2")
    await cast.tap(coord, "✏️ Change the task")
    changed = await cast.say(coord, "Fælles spisning i weekenden.")
    assert "Planen er ændret, siden den blev godkendt, så den skal godkendes igen" in \
        "\n".join(texts_with(coord, "✓ Gemt. Planen er nu version 4."))
    assert changed.text.startswith("Opgave (Fritidsforhold og venskaber)")
    assert {r.status for r in await rows(fam, "task_reminder")} == {"cancelled"}
    await at(cast, clock, utc(4, 8))  # Hanne's end date passes without a reminder
    assert texts_with(teacher, "opgave skal være færdig") == []

    await agree(fam)  # Friday 4 Dec 09:00: agreed again (version 4)
    await at(cast, clock, utc(16, 8))
    await at(cast, clock, utc(18, 8))
    assert len(texts_with(fam.dad, TASK_SOON)) == 1 and len(texts_with(fam.dad, TASK_TODAY)) == 1
    assert "Fælles spisning i weekenden." in texts_with(fam.dad, TASK_TODAY)[0]
    assert texts_with(teacher, "opgave skal være færdig") == []  # her end date was before the new agreement


async def test_overdue_tasks_reach_the_coordinator_once_in_a_daily_digest(fam, cast, clock):
    coord = fam.coord
    await plan_with_two_tasks(fam)
    await agree(fam)
    await at(cast, clock, utc(5, 7, 59))  # Saturday 5 Dec, 08:59: Hanne's task ended yesterday
    assert texts_with(coord, "Opgaver over tid") == []
    await at(cast, clock, utc(5, 8))  # 09:00
    assert texts_with(coord, "Opgaver over tid") == [
        "⏰ Opgaver over tid\n\nDisse opgaver er ikke markeret som udført:\n\n"
        "Dialogen om Emma\n• Gruppearbejde med vennerne. – Hanne (Klasselærer), frist 4. dec."]
    for day in (6, 7, 18):
        await at(cast, clock, utc(day, 8))
    assert len(texts_with(coord, "Opgaver over tid")) == 1  # the same task is not named twice

    await at(cast, clock, utc(19, 8))  # Lars' task ended yesterday: a new digest names only his
    digests = texts_with(coord, "Opgaver over tid")
    assert len(digests) == 2
    assert "Fælles spisning med vennerne. – Lars (Far), frist 18. dec." in digests[1]
    assert "Gruppearbejde" not in digests[1]
    assert [r.key for r in await rows(fam, "overdue_digest")] == [
        f"overdue:{(await coordinator_person(fam))}:2026-12-05", f"overdue:{(await coordinator_person(fam))}:2026-12-19"]
    await at(cast, clock, utc(20, 8))
    assert len(texts_with(coord, "Opgaver over tid")) == 2


async def coordinator_person(fam: Family) -> int:
    async with fam.app.sessionmaker() as s:
        return (await s.get(Dialog, fam.dialog_id)).coordinator_id


async def test_a_task_in_a_plan_that_is_not_agreed_is_never_overdue(fam, cast, clock):
    await plan_with_two_tasks(fam)
    await at(cast, clock, utc(5, 8))
    await at(cast, clock, utc(19, 8))
    assert texts_with(fam.coord, "Opgaver over tid") == []
    assert await rows(fam, "overdue_digest") == []


async def test_the_overdue_scan_walks_the_task_index(samspil):
    query = overdue_query(date(2026, 12, 5), date(2026, 10, 6))
    async with samspil.sessionmaker() as s, s.begin():
        conn = await s.connection()
        compiled = query.compile(conn.engine, compile_kwargs={"literal_binds": True})
        if conn.dialect.name == "sqlite":
            plan = (await conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()
        else:
            # The tables are empty, so a scan is cheaper: ask whether the index can be used at all.
            await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = (await conn.execute(text(f"EXPLAIN {compiled}"))).all()
    assert any("ix_task_open_end" in str(row) for row in plan), plan


async def test_someone_joining_after_the_meeting_was_called_is_invited_and_reminded(cast, samspil, clock):
    """Jonas was invited before the family consented but opens his link after /moede."""
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    await cast.open_dialog(coord, "Emma", "barn", "Vi vil styrke Emmas trivsel i skolen.")
    mom, jonas = cast.person("Mette"), cast.person("Jonas")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.invite(coord, jonas, "Professional", "Pædagog")
    await cast.join(mom)
    await cast.consent(mom)
    await cast.schedule_meeting(coord, "3/12 kl. 14", "Skolen")
    assert texts_with(mom, "Indkaldelse til dialogmøde") != []

    await cast.join(jonas)
    await cast.settle()
    [notice] = texts_with(jonas, "Indkaldelse til dialogmøde")
    assert WHEN_DA in notice and last_bot(jonas).buttons == [["✅ Jeg kommer", "❌ Jeg kan ikke"]]
    reply = await cast.rsvp(jonas, coming=True)
    assert reply.text.startswith("Tak – du har svaret: Jeg kommer.")
    await at(cast, clock, utc(30, 8, 0, month=11))  # three days before, 09:00
    assert len(texts_with(jonas, HUSK)) == 1 and len(texts_with(mom, HUSK)) == 1
    await at(cast, clock, utc(2, 8))  # the day before
    assert len(texts_with(jonas, "Husk: dialogmøde i morgen")) == 1
    assert len(texts_with(jonas, "Indkaldelse til dialogmøde")) == 1  # invited once


async def test_someone_the_family_approves_after_the_meeting_was_called_is_invited_too(fam, cast, clock):
    await cast.schedule_meeting(fam.coord, "3/12 kl. 14", "Skolen")
    ole = cast.person("Ole")
    await cast.invite(fam.coord, ole, "Network", "Morfar")
    await cast.join(ole)  # waits for the family's approval
    assert texts_with(ole, "Indkaldelse til dialogmøde") == []
    await cast.tap(fam.mom, "✅ Approve", expect="Tak.")
    await cast.tap(fam.dad, "✅ Approve", expect="Tak.")
    await cast.settle()
    [notice] = texts_with(ole, "Indkaldelse til dialogmøde")
    assert WHEN_DA in notice
    await at(cast, clock, utc(30, 8, 0, month=11))  # three days before, 09:00
    assert len(texts_with(ole, HUSK)) == 1
