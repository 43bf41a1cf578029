"""Issue #6, retention: closed dialogs go RETENTION_DAYS after closing, with everything hanging
off them (the audit log stays); expired links and old housekeeping rows go after 30 days;
`samspil admin purge --dry-run` shows what would go and changes nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from bot.app import App
from bot.cli import main
from bot.playbook import Cast
from core.config import Settings
from storage import audit, crypto, retention
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import (
    AuditEvent,
    Base,
    Dialog,
    FsmRecord,
    Invitation,
    OutboxMessage,
    Participant,
    Person,
    ProcessedUpdate,
    Registration,
)
from storage.plan import OVERDUE_KIND
from tests.conftest import TEST_DATA_KEY
from tests.helpers import samspil_cli
from tests.helpers_dialog import (  # noqa: F401
    Family,
    fresh_routers,
    open_family,
    participant_id,
    second_dialog,
    set_dialog,
)

RETENTION = 30


@pytest.fixture(autouse=True)
def keyring() -> Iterator[None]:
    before = crypto.configured()
    crypto.configure(TEST_DATA_KEY)
    yield
    crypto.install(before)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"retention_days": RETENTION})


# ---- the shape: cascades everywhere, no foreign key from the audit log ------------------------------


def owned_tables(fks: dict[str, list[tuple[str, str | None]]]) -> set[str]:
    """Tables whose rows die with a dialog: reachable from `dialog` through ON DELETE CASCADE."""
    owned = {"dialog"}
    while True:
        more = {t for t, refs in fks.items() if t not in owned
                and any(target in owned and (ondelete or "").upper() == "CASCADE" for target, ondelete in refs)}
        if not more:
            return owned
        owned |= more


def assert_deletable(fks: dict[str, list[tuple[str, str | None]]]) -> None:
    owned = owned_tables(fks)
    assert {"participant", "input_entry", "consent", "invitation", "meeting", "goal", "task"} <= owned
    blocking = [(t, target, ondelete) for t, refs in fks.items() for target, ondelete in refs
                if target in owned and (ondelete or "").upper() not in ("CASCADE", "SET NULL")]
    assert blocking == [], "these foreign keys would block deleting a dialog"
    assert fks.get("audit_event") == []


def test_every_reference_to_a_dialogs_rows_cascades_in_the_models() -> None:
    # storage/models.py defines every table.
    assert_deletable({t.name: [(fk.column.table.name, fk.ondelete) for fk in t.foreign_keys]
                      for t in Base.metadata.sorted_tables})


async def test_every_reference_to_a_dialogs_rows_cascades_in_the_migrated_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'fk.db'}")
    await upgrade(engine)
    async with engine.connect() as conn:
        def read(c):  # type: ignore[no-untyped-def]
            insp = inspect(c)
            return {t: [(fk["referred_table"], (fk.get("options") or {}).get("ondelete"))
                        for fk in insp.get_foreign_keys(t)] for t in insp.get_table_names()}

        fks = await conn.run_sync(read)
    await engine.dispose()
    assert_deletable(fks)


def test_overdue_digests_outlive_the_window_the_digest_looks_back() -> None:
    from services.plan import OVERDUE_WINDOW_DAYS

    assert retention.OVERDUE_DIGEST_KEEP_DAYS > OVERDUE_WINDOW_DAYS


# ---- the daily job, with the app's clock -------------------------------------------------------------


async def rows_of_dialog(app: App, dialog_id: int) -> dict[str, int]:
    counts = {}
    async with app.sessionmaker() as s:
        for table in retention._dialog_tables():
            counts[table.name] = await s.scalar(
                select(func.count()).select_from(table).where(table.c.dialog_id == dialog_id))
    return counts


async def person_exists(app: App, who) -> bool:  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as s:
        return await s.scalar(select(Person.id).where(Person.telegram_id == who.phone.user_id)) is not None


async def test_a_closed_dialog_is_deleted_after_retention_days_and_not_before(
        cast: Cast, samspil: App, clock, settings: Settings) -> None:
    app = samspil
    fam = await open_family(cast, app)
    other = await second_dialog(fam, "Sofie", fam.mom)  # mom and the teacher sit in both
    await cast.write_input(fam.dad, "Familieforhold", worries="Far er bekymret.", works=None, next_steps=None)
    await cast.share_input(fam.dad)
    mom_seat_other = await participant_id(fam, fam.mom, other)
    await set_dialog(fam, state="closed", closed_at=clock.now())
    hanging = await rows_of_dialog(app, fam.dialog_id)
    assert hanging["participant"] == 4 and hanging["input_entry"] == 1 and hanging["consent"] == 2
    audit_before = [e.id for e in await audit_events(app, fam.dialog_id)]
    assert audit_before  # the consents

    clock.advance(days=RETENTION - 1)
    await cast.settle()
    async with app.sessionmaker() as s:
        assert await s.get(Dialog, fam.dialog_id) is not None
    assert await rows_of_dialog(app, fam.dialog_id) == hanging

    clock.advance(days=1)  # RETENTION days after closing: the day's purge takes it
    await cast.settle()
    async with app.sessionmaker() as s:
        assert await s.get(Dialog, fam.dialog_id) is None
        open_one = await s.get(Dialog, other)
        assert open_one is not None and open_one.state == "active"
        assert await s.get(Participant, mom_seat_other) is not None
        # No orphan anywhere: every invitation belongs to a seat that still exists.
        assert await s.scalar(select(func.count()).select_from(Invitation).where(
            Invitation.participant_id.not_in(select(Participant.id)))) == 0
    assert set((await rows_of_dialog(app, fam.dialog_id)).values()) == {0}
    assert (await rows_of_dialog(app, other))["participant"] == 3
    # The father sat only in the deleted dialog: his name goes with it. The others stay.
    assert not await person_exists(app, fam.dad)
    assert all([await person_exists(app, w) for w in (fam.coord, fam.mom, fam.teacher)])
    # The audit log keeps the dialog's events (ids only) and tells of the deletion.
    evts = await audit_events(app, fam.dialog_id)
    assert [e.id for e in evts][: len(audit_before)] == audit_before
    assert (evts[-1].action, evts[-1].actor_id, evts[-1].actor_role, evts[-1].at) == (
        audit.DIALOG_DELETED, None, "system", clock.now())
    if app.engine.dialect.name == "sqlite":
        async with app.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA foreign_key_check"))).all() == []
    # The open dialog still works.
    reply = await cast.say(fam.mom, "/oversigt")
    assert "Vælg" in reply.text or "Sofie" in reply.text


async def audit_events(app: App, dialog_id: int) -> list[AuditEvent]:
    async with app.sessionmaker() as s:
        return list(await audit.events(s, dialog_id=dialog_id))


# ---- housekeeping ---------------------------------------------------------------------------------------

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


async def housekeeping_db(url: str) -> dict[str, set]:
    """Rows of each kind, some due and some not; returns the keys of those that must go."""
    engine = make_engine(url)
    await upgrade(engine)
    due: dict[str, set] = {}
    async with make_sessionmaker(engine)() as s, s.begin():
        coord = Person(telegram_id=1, name="Camilla", staff_role="coordinator", created_at=ago(400))
        s.add(coord)
        await s.flush()
        dialog = Dialog(coordinator_id=coord.id, child_name="Emma", age_group="barn", purpose="Trivsel",
                        state="active", created_at=ago(400), purpose_updated_at=ago(400))
        s.add(dialog)
        await s.flush()
        seat = Participant(dialog_id=dialog.id, name="Mette", role="parent_custody", created_at=ago(400))
        s.add(seat)
        await s.flush()
        invitations = {
            "gone": Invitation(participant_id=seat.id, token_hash="a" * 64, created_at=ago(45), expires_at=ago(31)),
            "grace": Invitation(participant_id=seat.id, token_hash="b" * 64, created_at=ago(43), expires_at=ago(29)),
            "used": Invitation(participant_id=seat.id, token_hash="c" * 64, created_at=ago(300), expires_at=ago(286),
                               used_at=ago(299)),
        }
        registrations = {
            "gone": Registration(token_hash="d" * 64, staff_role="professional", name="Hanne", created_at=ago(45),
                                 expires_at=ago(31)),
            "used": Registration(token_hash="e" * 64, staff_role="professional", name="Hanne", created_at=ago(300),
                                 expires_at=ago(286), used_at=ago(299)),
            "fresh": Registration(token_hash="f" * 64, staff_role="professional", name="Hanne", created_at=ago(1),
                                  expires_at=ago(-13)),
        }
        s.add_all([*invitations.values(), *registrations.values()])

        def notice(key: str, status: str, due_days: float, sent_days: float | None = None,
                   kind: str = "reminder") -> OutboxMessage:
            return OutboxMessage(key=key, person_id=coord.id, dialog_id=dialog.id, kind=kind, payload="{}",
                                 due_at=ago(due_days), status=status, attempts=1, created_at=ago(due_days + 1),
                                 sent_at=ago(sent_days) if sent_days is not None else None)

        s.add_all([
            notice("sent-old", "sent", 40, 40), notice("sent-new", "sent", 10, 10),
            notice("pending-old", "pending", 40), notice("cancelled-old", "cancelled", 40),
            notice("failed-old", "failed", 40), notice("skipped-old", "skipped", 31),
            notice("digest-40", "sent", 40, 40, kind=OVERDUE_KIND),
            notice("digest-130", "sent", 130, 130, kind=OVERDUE_KIND),
        ])
        s.add_all([ProcessedUpdate(update_id=1, processed_at=ago(31)),
                   ProcessedUpdate(update_id=2, processed_at=ago(1))])
        s.add_all([FsmRecord(key="fsm:1:5:5:default", state="x", data='{"a": 1}', updated_at=ago(31)),
                   FsmRecord(key="fsm:1:6:6:default", state="x", data=None, updated_at=ago(1))])
        await s.flush()
        due = {
            "invitations": {invitations["gone"].id}, "registrations": {registrations["gone"].id},
            "notices": {"sent-old", "cancelled-old", "failed-old", "skipped-old", "digest-130"},
            "updates": {1}, "conversations": {"fsm:1:5:5:default"},
        }
    await engine.dispose()
    return due


async def remaining(url: str) -> dict[str, set]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            return {
                "invitations": set(await s.scalars(select(Invitation.id))),
                "registrations": set(await s.scalars(select(Registration.id))),
                "notices": set(await s.scalars(select(OutboxMessage.key))),
                "updates": set(await s.scalars(select(ProcessedUpdate.update_id))),
                "conversations": set(await s.scalars(select(FsmRecord.key))),
            }
    finally:
        await engine.dispose()


async def test_housekeeping_purges_expired_links_and_old_rows_only(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    due = await housekeeping_db(url)
    before = await remaining(url)
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    try:
        async with sessionmaker() as s:
            survey = await retention.survey(s, NOW, 1825)
        assert survey.counts == {"dialogs": 0, "people": 0, **{k: len(v) for k, v in due.items()}}
        assert await remaining(url) == before  # a survey changes nothing

        report = await retention.purge(sessionmaker, NOW, 1825)
        assert report.counts == survey.counts and not report.more
        again = await retention.purge(sessionmaker, NOW, 1825)
        assert again.total == 0
    finally:
        await engine.dispose()
    after = await remaining(url)
    for kind, gone in due.items():
        assert after[kind] == before[kind] - gone, kind


# ---- samspil admin purge --------------------------------------------------------------------------------


def snapshot(db: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in tables}


async def test_purge_dry_run_shows_and_changes_nothing_then_purge_deletes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "p.db"
    url = f"sqlite+aiosqlite:///{db}"
    engine = make_engine(url)
    await upgrade(engine)
    now = datetime.now(UTC)  # the command uses the real clock
    async with make_sessionmaker(engine)() as s, s.begin():
        coord = Person(telegram_id=1, name="Camilla", staff_role="coordinator", created_at=now)
        parent = Person(telegram_id=2, name="Mette", created_at=now)
        s.add_all([coord, parent])
        await s.flush()
        ids = {}
        for label, closed_days in (("old", 6 * 365), ("recent", 365), ("open", None)):
            d = Dialog(coordinator_id=coord.id, child_name=f"Barn {label}", age_group="barn", purpose="Trivsel",
                       state="closed" if closed_days else "active", created_at=now - timedelta(days=3000),
                       purpose_updated_at=now, closed_at=now - timedelta(days=closed_days) if closed_days else None)
            s.add(d)
            await s.flush()
            ids[label] = d.id
        s.add(Participant(dialog_id=ids["old"], person_id=parent.id, name="Mette", role="parent_custody",
                          created_at=now))
        s.add(ProcessedUpdate(update_id=9, processed_at=now - timedelta(days=40)))
    await engine.dispose()
    before = snapshot(db)

    run = await samspil_cli("admin", "purge", "--dry-run", cwd=tmp_path, DATABASE_URL=url)
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout_lines[0].startswith("Would delete (RETENTION_DAYS=1825: dialogs closed before ")
    assert f"  closed dialogs past retention: 1 (ids {ids['old']})" in run.stdout_lines
    assert "    with them: participant 1" in run.stdout_lines
    assert "  people left without any dialog: 1" in run.stdout_lines
    assert "  handled update ids: 1" in run.stdout_lines
    assert "Mette" not in run.stdout and "Barn" not in run.stdout
    assert snapshot(db) == before

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    await asyncio.to_thread(main, ["admin", "purge"])
    out, _err = capsys.readouterr()
    assert out.splitlines()[0].startswith("Deleted (RETENTION_DAYS=1825")
    assert f"  closed dialogs past retention: 1 (ids {ids['old']})" in out.splitlines()
    after = snapshot(db)
    assert sorted(r[0] for r in after["dialog"]) == sorted([ids["recent"], ids["open"]])
    assert after["participant"] == [] and after["processed_update"] == []
    assert [r[0] for r in after["person"]] == [r[0] for r in before["person"]][:1]  # the coordinator stays
    deleted = [r for r in after["audit_event"]]
    assert len(deleted) == 1
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT actor_id, actor_role, dialog_id, action FROM audit_event").fetchone()
    assert row == (None, "admin", ids["old"], "dialog.deleted")
