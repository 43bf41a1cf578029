"""Issue #6, the audit log: every read of a dialog's content and every consent event is logged
with who, what (ids) and when, in the read's own transaction; never the content."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.app import App
from bot.cli import main
from bot.playbook import Cast
from rules.roles import ROLES
from storage import audit, crypto
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import AuditEvent, Consent, Person
from tests.conftest import TEST_DATA_KEY
from tests.helpers_dialog import Family, fresh_routers, open_family, participant_id  # noqa: F401

CHILD = "Marguerite"
PURPOSE = "Marguerite skal trives i skolen og derhjemme igen"
WORRIES = "Hun sover uroligt og vil ikke spise morgenmad"
NEEDLES = [CHILD, PURPOSE, WORRIES, "Camilla Tovholder", "Mette", "Lars", "Hanne", "Klasselærer", "Mor", "Far"]


@pytest.fixture
async def fam(cast: Cast, samspil: App) -> Family:
    return await open_family(cast, samspil, child=CHILD, purpose=PURPOSE)


async def events(app: App, dialog_id: int | None = None) -> list[AuditEvent]:
    async with app.sessionmaker() as s:
        return list(await audit.events(s, dialog_id=dialog_id))


async def person_id(app: App, who) -> int:  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as s:
        return await s.scalar(select(Person.id).where(Person.telegram_id == who.phone.user_id))


def last(evts: list[AuditEvent], action: str) -> AuditEvent:
    found = [e for e in evts if e.action == action]
    assert found, (action, [e.action for e in evts])
    return found[-1]


async def test_each_kind_of_read_and_consent_is_logged_without_content(fam: Family, cast: Cast, samspil: App,
                                                                       clock) -> None:
    app = samspil
    # Consent (open_family): both parents gave it; each answer is an event with its ids.
    evts = await events(app, fam.dialog_id)
    mom_pid, dad_pid = await person_id(app, fam.mom), await person_id(app, fam.dad)
    async with app.sessionmaker() as s:
        consents = {c.participant_id: c.id for c in await s.scalars(select(Consent))}
    given = [e for e in evts if e.action == audit.CONSENT_GIVEN]
    assert [(e.actor_id, e.actor_role) for e in given] == [(mom_pid, "parent_custody"), (dad_pid, "parent_custody")]
    mom_seat = await participant_id(fam, fam.mom)
    assert given[0].participant_id == mom_seat
    assert audit.ids_of(given[0]) == {"dialog_id": fam.dialog_id, "participant_id": mom_seat,
                                      "consent_id": consents[mom_seat]}
    assert given[0].at == clock.now()

    await cast.write_input(fam.mom, "Familieforhold", worries=WORRIES, works=None, next_steps=None)
    await cast.share_input(fam.mom)

    # The overview, shown ...
    clock.advance(minutes=5)
    n = len(await events(app, fam.dialog_id))
    await cast.say(fam.teacher, "/oversigt")
    new = (await events(app, fam.dialog_id))[n:]
    teacher_pid = await person_id(app, fam.teacher)
    assert [(e.action, e.actor_id, e.actor_role, e.round_no, e.at) for e in new] == [
        (audit.OVERVIEW_SHOWN, teacher_pid, "professional", 1, clock.now())]
    # ... and paged (another area is another page of it); the pickers themselves show no content.
    await cast.tap(fam.teacher, "Choose area")
    assert len(await events(app, fam.dialog_id)) == n + 1
    await cast.tap_text(fam.teacher, "Familieforhold")
    paged = last(await events(app, fam.dialog_id), audit.OVERVIEW_PAGED)
    assert (paged.actor_id, paged.round_no, audit.ids_of(paged)["page_no"]) == (teacher_pid, 1, 1)

    # /vurdering
    await cast.scale(fam.dad, 4)
    await cast.say(fam.coord, "/vurdering")
    seen = last(await events(app, fam.dialog_id), audit.ASSESSMENT_SHOWN)
    assert (seen.actor_id, seen.actor_role, seen.round_no) == (await person_id(app, fam.coord), "coordinator", 1)

    # A refused read is no read: someone outside the dialog gets nothing, and no event.
    before = len(await events(app))
    stranger = cast.person("Ukendt Person")
    await cast.say(stranger, "/oversigt")
    assert len(await events(app)) == before

    await assert_no_content(app)


async def test_talk_first_and_declined_are_consent_events(cast: Cast, samspil: App) -> None:
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    await cast.open_dialog(coord, CHILD, "barn", PURPOSE)
    mom, dad = cast.person("Mette"), cast.person("Lars")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.invite(coord, dad, "Parent with custody", "Far")
    await cast.join(mom)
    await cast.tap(mom, "I want to talk to the coordinator first")
    await cast.join(dad)
    await cast.tap(dad, "No thanks")
    actions = [(e.action, e.actor_role) for e in await events(samspil)]
    assert actions == [(audit.CONSENT_TALK_FIRST, "parent_custody"), (audit.CONSENT_DECLINED, "parent_custody")]
    await assert_no_content(samspil)


async def assert_no_content(app: App) -> None:
    """Every audit row holds ids, times, actions and roles: nothing a person wrote."""
    async with app.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM audit_event"))).mappings().all()
    assert rows
    for row in rows:
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", row["action"])
        assert row["actor_role"] is None or row["actor_role"] in {*ROLES, "system", "admin", "coordinator",
                                                                   "professional"}
        for key in ("actor_id", "dialog_id", "round_no", "entry_id", "participant_id"):
            assert row[key] is None or isinstance(row[key], int)
        if row["other_ids"]:
            assert all(isinstance(v, int) for v in json.loads(row["other_ids"]).values())
        for value in row.values():
            for needle in NEEDLES:
                assert needle not in str(value)


# ---- the API ----------------------------------------------------------------------------------------


@pytest.fixture
async def session(tmp_path: Path):  # type: ignore[no-untyped-def]
    before = crypto.configured()
    crypto.configure(TEST_DATA_KEY)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    await upgrade(engine)
    async with make_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()
    crypto.install(before)


@pytest.mark.parametrize("kwargs, error", [
    (dict(action="Mette læste"), ValueError),
    (dict(action="overview"), ValueError),
    (dict(action="overview.shown", note=3), ValueError),  # not an id's name
    (dict(action="overview.shown", name_id="Mette"), TypeError),  # an id is an int
    (dict(action="overview.shown", entry_id=2.5), TypeError),
    (dict(action="overview.shown", round_no=True), TypeError),
])
async def test_record_takes_ids_only(session, kwargs: dict, error: type[Exception]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error):
        await audit.record(session, actor_id=1, dialog_id=1, **kwargs)


async def test_record_keeps_every_id_and_looks_up_the_role(session) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    async with session.begin():
        staff = Person(telegram_id=7, name="Camilla", staff_role="coordinator", created_at=now)
        session.add(staff)
        await session.flush()
        e = await audit.record(session, actor_id=staff.id, dialog_id=5, action=audit.REPORT_PDF, now=now,
                               round_no=2, meeting_id=9, entry_id=None)
        sys_event = await audit.record(session, actor_id=None, dialog_id=None, action=audit.PERSON_DELETED,
                                       now=now, person_id=3)
    assert e.actor_role == "coordinator"  # no seat in dialog 5: the staff role
    assert audit.ids_of(e) == {"dialog_id": 5, "round_no": 2, "meeting_id": 9}
    assert sys_event.actor_role == "system" and audit.ids_of(sys_event) == {"person_id": 3}
    assert audit.consent_action("withdrawn") == audit.CONSENT_WITHDRAWN


# ---- samspil admin audit ----------------------------------------------------------------------------------


async def test_admin_audit_prints_ids_in_local_time_and_names_only_when_asked(
        fam: Family, cast: Cast, samspil: App, settings, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await cast.say(fam.mom, "/oversigt")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    if settings.database_schema:
        monkeypatch.setenv("DATABASE_SCHEMA", settings.database_schema)
    await asyncio.to_thread(main, ["admin", "audit", "--dialog", str(fam.dialog_id)])
    out, _err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == f"Audit log of dialog {fam.dialog_id} – times in Europe/Copenhagen; ids only (--names shows names)"
    mom_pid, mom_seat = await person_id(samspil, fam.mom), await participant_id(fam, fam.mom)
    # START is 09:00 UTC: 10:00 in Copenhagen.
    assert re.fullmatch(rf"2026-11-23 10:00:00  person {mom_pid} +parent_custody +consent\.given +"
                        rf"participant_id={mom_seat} consent_id=\d+", lines[1]), lines[1]
    assert re.fullmatch(rf"2026-11-23 10:00:00  person {mom_pid} +parent_custody +overview\.shown +"
                        r"round_no=1 page_no=1", lines[-1]), lines[-1]
    for needle in NEEDLES:
        assert needle not in out

    await asyncio.to_thread(main, ["admin", "audit", "--dialog", str(fam.dialog_id), "--names"])
    out, _err = capsys.readouterr()
    assert f"person {mom_pid} Mette" in out and f"participant_id={mom_seat} (Mette)" in out

    await asyncio.to_thread(main, ["admin", "audit", "--dialog", "999"])
    out, _err = capsys.readouterr()
    assert out.strip() == "No audit events for dialog 999."
