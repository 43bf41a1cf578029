"""Mål & Plan (/plan): building, editing and removing; everyone reads it; the consent givers agree.

Issue #4. Goals per input area, tasks with what, who and a period; every change
is a new plan version; the plan is in force when every consent giver agreed to
the current version; the owners are told; nobody can use buttons that are not
theirs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from handlers.plan import PlanAnswerCb, PlanCb, TaskCb
from storage.models import Dialog, Goal, PlanAnswer, Task
from tests.helpers import da
from tests.helpers import snapshot as _snapshot
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    Family,
    fresh_routers,
    last_bot,
    new_bot,
    open_family,
    participant_id,
    second_dialog,
)

PROPOSAL = "⏳ Det her er et forslag. Ingen har sagt ja til det endnu. Så længe får ingen en påmindelse om opgaverne."
OWNERS = [["Camilla Tovholder (Tovholder)"], ["Mette (Mor)"], ["Lars (Far)"], ["Hanne (Klasselærer)"]]
GOAL_DEV = "Emmas evner til selv at arbejde med nedturene i sit liv skal styrkes."
GOAL_FRIENDS = "Emmas venskaber skal styrkes og understøttes."
TASK_PPR = "Der igangsættes et individuelt rådgivningsforløb i PPR."
TASK_SCHOOL = "I gruppearbejde sættes Emma sammen med sin vennegruppe."
TASK_DINNER = "Far tager initiativ til fælles spisning med de nærmeste venner."


@pytest.fixture
async def fam(cast, samspil):
    return await open_family(cast, samspil)


async def snapshot(app) -> dict:  # type: ignore[no-untyped-def]
    """Every business row, but the record of which updates were handled."""
    rows = await _snapshot(app)
    rows.pop("processed_update", None)
    return rows


async def dialog_row(fam: Family) -> Dialog:
    async with fam.app.sessionmaker() as s:
        return await s.get(Dialog, fam.dialog_id)


async def goals(fam: Family) -> list[tuple[str, str, list[tuple[str, int, date, date]]]]:
    async with fam.app.sessionmaker() as s:
        rows = list(await s.scalars(select(Goal).order_by(Goal.id)))
        return [(g.area, g.text, [(t.what, t.owner_id, t.starts_on, t.ends_on) for t in g.tasks]) for g in rows]


def texts_with(who, fragment: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.text for m in who.phone.bot_messages if fragment in m.text]


async def build_plan(fam: Family) -> None:
    """Two areas, three tasks: the handbook's example, for Emma."""
    cast, coord = fam.cast, fam.coord
    await cast.add_goal(coord, "Fritidsforhold og venskaber", GOAL_FRIENDS)
    await cast.add_task(coord, TASK_SCHOOL, "Hanne (Klasselærer)", "1/12", "18/12")
    await cast.add_task(coord, TASK_DINNER, "Lars (Far)", "1/12", "18. december")
    await cast.add_goal(coord, "Udvikling og adfærd", GOAL_DEV)
    await cast.add_task(coord, TASK_PPR, "Hanne (Klasselærer)", "1/12", "31/3")


async def test_the_coordinator_builds_the_plan_and_bad_dates_change_nothing(fam, cast, samspil):
    coord, teacher = fam.coord, fam.teacher
    empty = await cast.say(coord, "/plan")
    assert empty.text == ("Mål & Plan – Emma\n\n"
                          "Der er ingen plan endnu. I laver planen sammen på dialogmødet.")
    assert empty.buttons == [["➕ Nyt mål"]]
    assert (await cast.say(teacher, "/plan")).text == empty.text and last_bot(teacher).buttons == []

    areas = await cast.tap(coord, "➕ New goal")
    assert areas.text == "Hvilket inputområde hører målet til?"
    assert ["Udvikling og adfærd"] in areas.buttons and len(areas.buttons) == 10
    ask = await cast.tap_text(coord, "Udvikling og adfærd")
    assert ask.text.startswith("Udvikling og adfærd\n\nSkriv målet")
    await cast.say(coord, GOAL_DEV)
    card = last_bot(coord)
    assert texts_with(coord, "✓ Gemt. Planen er nu version 1.")
    assert card.text == f"Udvikling og adfærd\nMål: {GOAL_DEV}\n\nIngen opgaver endnu"
    assert card.buttons == [["➕ Ny opgave"], ["✏️ Ret målet", "🗑 Fjern målet"], ["⬅️ Tilbage til planen"]]

    what = await cast.tap(coord, "➕ New task")
    assert what.text.startswith("Ny opgave under målet \"Emmas evner til selv")
    who = await cast.say(coord, TASK_PPR)
    assert who.text == "Hvem har ansvaret for opgaven?" and who.buttons == OWNERS
    start = await cast.tap_text(coord, "Hanne (Klasselærer)")
    assert start.text == ("Ansvarlig: Hanne (Klasselærer)\n\nHvornår starter opgaven? Skriv en dato, "
                          "fx \"1/12\", \"1. december\" eller \"i dag\".")
    before = await snapshot(samspil)
    assert (await cast.say(coord, "30/2")).text == (
        "Den dato findes ikke (eller ligger for langt ude i fremtiden). Tjek den, og skriv den igen.")
    assert (await cast.say(coord, "23.11.2025")).text == (
        "Den dato er allerede passeret. Skriv en dato fra i dag og frem.")
    assert (await cast.say(coord, "snart")).text == (
        "Jeg kan ikke læse det som en dato. Skriv fx \"1/12\", \"1. december\" eller \"i morgen\".")
    end = await cast.say(coord, "1/12")
    assert end.text == ("Start: 1. december 2026\n\nHvornår skal opgaven være færdig? Skriv slutdatoen, "
                        "fx \"31/3\" eller \"31. marts\".")
    assert (await cast.say(coord, "28/11")).text == (
        "Slutdatoen skal ligge på eller efter startdatoen (1. december 2026). Skriv slutdatoen igen.")
    assert await snapshot(samspil) == before  # nothing stored until the period is complete
    card = await cast.say(coord, "31/3")
    assert card.text == (f"Udvikling og adfærd\nMål: {GOAL_DEV}\n\nOpgaver\n"
                         f"1. {TASK_PPR}\n   Hanne (Klasselærer) · 1. dec. → 31. mar.")
    assert card.buttons[0] == ["✏️ Opgave 1"]
    hanne = await participant_id(fam, teacher)
    assert await goals(fam) == [("development", GOAL_DEV, [(TASK_PPR, hanne, date(2026, 12, 1), date(2027, 3, 31))])]
    assert (await dialog_row(fam)).plan_version == 2


async def test_everyone_reads_the_plan_grouped_by_area_as_in_the_handbook(fam, cast):
    await build_plan(fam)
    assert (await dialog_row(fam)).plan_version == 5
    view = await cast.say(fam.teacher, "/plan")
    assert view.protect_content and view.buttons == []
    assert view.text == (
        "Mål & Plan – Emma\n" + PROPOSAL + "\n\n"
        "UDVIKLING OG ADFÆRD\n"
        f"Mål: {GOAL_DEV}\n"
        f"• Opgave: {TASK_PPR}\n   Hvem: Hanne (Klasselærer) · Periode: 1. dec. → 31. mar.\n\n"
        "FRITIDSFORHOLD OG VENSKABER\n"
        f"Mål: {GOAL_FRIENDS}\n"
        f"• Opgave: {TASK_SCHOOL}\n   Hvem: Hanne (Klasselærer) · Periode: 1. dec. → 18. dec.\n"
        f"• Opgave: {TASK_DINNER}\n   Hvem: Lars (Far) · Periode: 1. dec. → 18. dec.")
    coord_view = await cast.say(fam.coord, "/plan")
    assert coord_view.text == view.text
    assert coord_view.buttons == [
        ["🎯 Udvikling og adfærd: Emmas evner til selv at ar…"],
        ["🎯 Fritidsforhold og venskaber: Emmas venskaber sk…"],
        ["➕ Nyt mål"], ["📨 Send planen til godkendelse"]]


async def test_goals_and_tasks_are_edited_and_removed_each_change_a_new_version(fam, cast):
    coord = fam.coord
    await build_plan(fam)
    await cast.say(coord, "/plan")
    await cast.tap_text(coord, "🎯 Fritidsforhold og venskaber")

    # The goal's text.
    await cast.tap(coord, "✏️ Change the goal")
    assert texts_with(coord, "Skriv målet, som det skal lyde nu. Lige nu står der:")
    assert last_bot(coord).text == GOAL_FRIENDS
    await cast.say(coord, "Emmas venskaber skal styrkes.")
    assert texts_with(coord, "✓ Gemt. Planen er nu version 6.")
    # The same text again: nothing changes.
    await cast.tap(coord, "✏️ Change the goal")
    await cast.say(coord, "Emmas venskaber skal styrkes.")
    assert texts_with(coord, "Intet er ændret.")
    assert (await dialog_row(fam)).plan_version == 6

    # A task: what, who, period.
    card = await cast.tap_text(coord, "✏️ Opgave 2")
    assert card.text == (f"Opgave (Fritidsforhold og venskaber)\n{TASK_DINNER}\n\n"
                         "Hvem: Lars (Far)\nPeriode: 1. dec. → 18. dec.")
    assert card.buttons == [["✏️ Ret opgaven", "👤 Ret hvem"], ["🗓 Ret perioden", "🗑 Fjern opgaven"],
                            ["⬅️ Tilbage til målet"]]
    await cast.tap(coord, "✏️ Change the task")
    await cast.say(coord, "Far og mor inviterer vennerne til spisning.")
    await cast.tap(coord, "👤 Change who")
    card = await cast.tap_text(coord, "Mette (Mor)")
    assert "Hvem: Mette (Mor)" in card.text
    await cast.tap(coord, "🗓 Change the period")
    await cast.say(coord, "7/12")
    card = await cast.say(coord, "15. januar")
    assert "Periode: 7. dec. → 15. jan." in card.text
    assert (await dialog_row(fam)).plan_version == 9
    mom = await participant_id(fam, fam.mom)
    [_dev, friends] = sorted(await goals(fam), key=lambda g: g[0] != "development")
    assert friends[1] == "Emmas venskaber skal styrkes."
    assert friends[2][1] == ("Far og mor inviterer vennerne til spisning.", mom, date(2026, 12, 7), date(2027, 1, 15))

    # Remove a task, then a goal with its tasks.
    await cast.tap(coord, "🗑 Remove the task")
    await cast.tap(coord, "Yes, remove the task")
    assert texts_with(coord, "Opgaven er fjernet. ✓ Gemt. Planen er nu version 10.")
    goal_card = last_bot(coord)
    assert goal_card.text.count("\n1. ") == 1 and "2. " not in goal_card.text
    confirm = await cast.tap(coord, "🗑 Remove the goal")
    assert confirm.text == "Vil du fjerne målet og dets 1 opgave fra planen?"
    await cast.tap(coord, "Yes, remove the goal")
    assert texts_with(coord, "Målet er fjernet. ✓ Gemt. Planen er nu version 11.")
    assert [g[0] for g in await goals(fam)] == ["development"]
    async with fam.app.sessionmaker() as s:
        assert len(list(await s.scalars(select(Task)))) == 1


async def test_a_long_plan_is_split_below_telegrams_limit(fam, cast):
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    hanne = await participant_id(fam, fam.teacher)
    async with fam.app.sessionmaker() as s, s.begin():
        dialog = await s.get(Dialog, fam.dialog_id)
        for n in range(12):
            goal = Goal(dialog_id=dialog.id, area="school", text=f"Mål {n}: " + "trivsel i skolen " * 25,
                        round_no=1, created_at=now)
            s.add(goal)
            await s.flush()
            s.add(Task(goal_id=goal.id, dialog_id=dialog.id, what=f"Opgave {n}: " + "tal med Emma " * 30,
                       owner_id=hanne, starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 18),
                       status="open", created_at=now))
        dialog.plan_version = 24
    mark = fam.mom.phone.mark()
    await cast.say(fam.mom, "/plan")
    parts = [m.text for m in new_bot(fam.mom, mark)]
    assert len(parts) >= 3 and all(len(p) <= 4096 for p in parts)
    joined = "\n".join(parts)
    assert all(f"Mål {n}: " in joined and f"Opgave {n}: " in joined for n in range(12))


async def test_the_consent_givers_agree_and_the_owners_are_told(fam, cast):
    coord, mom, dad, teacher = fam.coord, fam.mom, fam.dad, fam.teacher
    await build_plan(fam)
    sent = await cast.send_plan(coord)
    assert sent.text == ("Planen (version 5) er sendt til godkendelse hos Mette (Mor) og Lars (Far). "
                         "Du får besked, når de har svaret.")
    again = await cast.send_plan(coord)
    assert again.text.startswith("Denne version af planen er allerede sendt til Mette (Mor) og Lars (Far).")
    for who in (mom, dad):
        [review] = texts_with(who, "Mål & Plan for Emma")
        assert review.startswith(
            "📋 Mål & Plan for Emma\n\nCamilla Tovholder har sendt dig planen. "
            "Læs den. Svar så med knapperne herunder. Når alle er enige, går I i gang.\n\n"
            f"UDVIKLING OG ADFÆRD\nMål: {GOAL_DEV}\n")
        assert last_bot(who).buttons == [["✅ Jeg er enig"], ["💬 Jeg har en kommentar"]]
    assert texts_with(teacher, "Mål & Plan for Emma") == []

    # One agrees; the plan waits for the other.
    reply = await cast.accept_plan(mom)
    assert reply.text.startswith("Tak, dit svar er gemt. Planen gælder, når Lars (Far) også har sagt ja.\n\n"
                                 "Næste skridt: ")  # her next step follows (#12)
    assert (await dialog_row(fam)).plan_accepted_version == 0
    status = await cast.say(coord, "/plan")
    assert status.text.endswith("Sendt til godkendelse:\n✅ Mette (Mor): er enig\n❔ Lars (Far): har ikke svaret")

    # The other has a comment: it reaches the coordinator.
    ask = await cast.tap(dad, "💬 I have a comment")
    assert ask.text.startswith("Skriv din kommentar til planen.")
    done = await cast.say(dad, "Kan vi flytte spisningen til weekenden?")
    assert done.text == "Tak. Din kommentar er sendt til tovholderen."
    assert texts_with(coord, "har en kommentar til planen") == [
        "💬 Lars (Far) har en kommentar til planen (dialogen om Emma, version 5):\n\n"
        "Kan vi flytte spisningen til weekenden?\n\nRet planen under /plan, og send den til godkendelse igen."]
    async with fam.app.sessionmaker() as s:
        answers = [(a.plan_version, a.agrees, a.comment) for a in await s.scalars(select(PlanAnswer).order_by(PlanAnswer.id))]
    assert answers == [(5, True, None), (5, False, "Kan vi flytte spisningen til weekenden?")]

    # The coordinator changes the plan: a new version; the old buttons no longer count.
    old_review = [m for m in mom.phone.bot_messages if "Mål & Plan for Emma" in m.text][-1]
    await cast.say(coord, "/plan")
    await cast.tap_text(coord, "🎯 Fritidsforhold og venskaber")
    await cast.tap_text(coord, "✏️ Opgave 2")
    await cast.tap(coord, "🗓 Change the period")
    await cast.say(coord, "5/12")
    await cast.say(coord, "6/12")
    assert (await dialog_row(fam)).plan_version == 6
    await mom.phone.tap_data(old_review.message_id, PlanAnswerCb(action="agree", dialog_id=fam.dialog_id,
                                                                 version=5).pack())
    await cast.settle()
    assert mom.phone.last_answer.text == "Planen er blevet ændret. Skriv /plan for at se den nye plan."

    # Sent again; both agree: the plan is in force and the owners are told.
    await cast.send_plan(coord)
    await cast.accept_plan(mom)
    await cast.accept_plan(dad)
    assert [t.split("\n\n")[0] for t in texts_with(dad, "Tak! Nu er alle enige")] == [
        "Tak! Nu er alle enige om planen, og arbejdet kan gå i gang. Alle, der har en opgave, får besked."]
    assert texts_with(dad, "Tak! Nu er alle enige")[0].endswith(  # then his next step (#12)
        "Næste skridt: Skriv, hvad du er bekymret for, hvad der går godt, og hvad du ønsker, der skal ske.")
    row = await dialog_row(fam)
    assert (row.plan_version, row.plan_accepted_version) == (6, 6)
    assert texts_with(teacher, "Planen for Emma er godkendt") == [
        "📋 Planen for Emma er godkendt\n\nDine opgaver:\n"
        f"• {TASK_PPR} (1. dec. → 31. mar.)\n• {TASK_SCHOOL} (1. dec. → 18. dec.)\n\n"
        "Jeg minder dig om det i god tid."]
    assert texts_with(dad, "Planen for Emma er godkendt") == [
        "📋 Planen for Emma er godkendt\n\nDine opgaver:\n"
        f"• {TASK_DINNER} (5. dec. → 6. dec.)\n\n"
        "Jeg minder dig om det i god tid."]
    assert texts_with(mom, "Planen for Emma er godkendt") == []  # no task of her own
    assert texts_with(coord, "er godkendt af") == [
        "✅ Planen for dialogen om Emma er godkendt af Mette (Mor) og Lars (Far) (version 6). "
        "Alle, der har en opgave, har fået besked."]
    view = await cast.say(teacher, "/plan")
    assert "✅ Alle er enige om planen." in view.text
    assert view.buttons == [["✅ Færdig: Der igangsættes et individuel…", "🆘 Brug for hjælp"],
                            ["✅ Færdig: I gruppearbejde sættes Emma s…", "🆘 Brug for hjælp"]]
    assert (await cast.say(coord, "/plan")).buttons[-1] == ["➕ Nyt mål"]  # nothing to send


async def test_nobody_uses_buttons_that_are_not_theirs(fam, cast, samspil):
    coord, mom, dad, teacher = fam.coord, fam.mom, fam.dad, fam.teacher
    await cast.add_goal(coord, "Udvikling og adfærd", GOAL_DEV)
    await cast.add_task(coord, TASK_PPR, "Hanne (Klasselærer)", "1/12", "31/3")
    await cast.send_plan(coord)
    async with samspil.sessionmaker() as s:
        task_id = await s.scalar(select(Task.id))
        goal_id = await s.scalar(select(Goal.id))
    before = await snapshot(samspil)

    async def forged(who, data: str) -> str:  # type: ignore[no-untyped-def]
        mark = who.phone.mark()
        await who.phone.tap_data(last_bot(who).message_id, data)
        await cast.settle()
        assert who.phone.last_answer.show_alert and new_bot(who, mark) == [], data
        return who.phone.last_answer.text

    only_coordinator = da(samspil, "Only the coordinator can do that.")
    for action in ("goal_new", "send", "goal_del_yes", "task_del_yes"):
        data = PlanCb(action=action, dialog_id=fam.dialog_id, goal_id=goal_id, task_id=task_id).pack()
        assert await forged(teacher, data) == only_coordinator
    assert await forged(teacher, PlanAnswerCb(action="agree", dialog_id=fam.dialog_id, version=2).pack()) == (
        "Det er forældrene med forældremyndighed (eller den unge), der siger ja til planen.")
    # The plan is agreed, so tasks can be answered; but only by their owner.
    await cast.accept_plan(mom)
    await cast.accept_plan(dad)
    before = await snapshot(samspil)
    assert await forged(dad, TaskCb(action="done", task_id=task_id).pack()) == (
        "Kun den, der har opgaven, kan svare her.")
    sofie = cast.person("Sofie")
    await second_dialog(fam, "Oliver", sofie, teacher=False)
    before = await snapshot(samspil)
    for data in (TaskCb(action="done", task_id=task_id).pack(), TaskCb(action="help", task_id=task_id).pack(),
                 PlanAnswerCb(action="agree", dialog_id=fam.dialog_id, version=2).pack(),
                 PlanCb(action="goal_new", dialog_id=fam.dialog_id).pack()):
        assert await forged(sofie, data) == "Du er ikke med i den dialog."
    after = await snapshot(samspil)
    assert after["task"] == before["task"] and after["plan_answer"] == before["plan_answer"]
