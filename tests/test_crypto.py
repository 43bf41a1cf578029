"""Issue #6, encryption at rest: the key ring, the settings that feed it, the raw database
after a real conversation, a wrong key, and key rotation (before, during, after)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot import admin
from bot.app import App, build_app
from bot.cli import main
from core.config import ConfigError, Settings, load_settings
from storage import crypto, encrypted
from storage.crypto import DecryptionError, KeyRing
from storage.db import downgrade, make_engine, make_sessionmaker, upgrade
from storage.models import Dialog, InputEntry, Participant, Person
from tests.conftest import TEST_DATA_KEY
from tests.helpers import samspil_cli
from tests.helpers_dialog import fresh_routers, open_family  # noqa: F401

KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()


@pytest.fixture(autouse=True)
def restore_ring() -> Iterator[None]:
    """Tests here swap the process-wide ring; every other test runs with the test key."""
    before = crypto.configured()
    yield
    crypto.install(before)


def ring(key: str, *old: str) -> KeyRing:
    return KeyRing(crypto.parse_key(key), tuple(crypto.parse_key(k) for k in old))


# ---- the key ring -----------------------------------------------------------------------------

TEXTS = [
    "",
    "Emma",
    "Æblegrød, økologi og Ålborg – ÆØÅ æøå",
    "Hun er glad 😀👨‍👩‍👧‍👦🏳️‍🌈 igen",
    "هي سعيدة في المدرسة",  # Arabic, right to left
    "היא שמחה בבית הספר",  # Hebrew
    "mixed: abc \u202eRTL override\u202c and a zero\u200bwidth space",
    "line one\nline two\r\n\ttabbed",
    "nul \x00 inside",
    "x" * 20_000,
]


@pytest.mark.parametrize("plain", TEXTS)
def test_round_trip(plain: str) -> None:
    r = ring(KEY_A)
    stored = r.encrypt(plain)
    assert r.decrypt(stored) == plain
    assert plain == "" or plain not in stored


def test_stored_form_names_the_key_and_uses_a_fresh_nonce() -> None:
    r = ring(KEY_A)
    kid = hashlib.sha256(crypto.parse_key(KEY_A)).hexdigest()[:8]
    one, two = r.encrypt("Mette Kristiansen"), r.encrypt("Mette Kristiansen")
    assert one.startswith(f"v1:{kid}:") and two.startswith(f"v1:{kid}:")
    assert one != two  # random 96-bit nonce per value
    blob_one = base64.b64decode(one.split(":", 2)[2])
    blob_two = base64.b64decode(two.split(":", 2)[2])
    assert blob_one[:12] != blob_two[:12]
    assert len(blob_one) == 12 + len(b"Mette Kristiansen") + 16  # nonce + text + GCM tag
    assert crypto.key_id_of(one) == kid and crypto.is_encrypted(one)
    assert not crypto.is_encrypted("Mette") and not crypto.is_encrypted(None)


def tampered(stored: str, at: int) -> str:
    header, body = stored[:12], bytearray(base64.b64decode(stored[12:]))
    body[at] ^= 0x01
    return header + base64.b64encode(bytes(body)).decode()


@pytest.mark.parametrize("where", [0, 11, 12, 13, -1])  # nonce, first text byte, tag
def test_a_changed_byte_is_detected(where: int) -> None:
    r = ring(KEY_A)
    stored = r.encrypt("Emma er glad")
    with pytest.raises(DecryptionError, match="integrity"):
        r.decrypt(tampered(stored, where))


def test_truncated_swapped_or_unencrypted_values_fail_clearly() -> None:
    r = ring(KEY_A, KEY_B)
    stored = r.encrypt("Emma er glad")
    for bad in (stored[:-4], stored[:14], stored + "AAAA", stored[:12] + "!!!"):
        with pytest.raises(DecryptionError):
            r.decrypt(bad)
    # The header is authenticated: relabelling a value with another known key's id fails.
    other = ring(KEY_B).current_id
    with pytest.raises(DecryptionError, match="integrity"):
        r.decrypt(stored.replace(r.current_id, other, 1))
    with pytest.raises(DecryptionError, match="not encrypted"):
        r.decrypt("Emma er glad")


def test_a_value_read_again_is_opened_once_and_failures_are_never_kept() -> None:
    r = ring(KEY_A, KEY_B)
    opened: list[bytes] = []
    stored, other = r.encrypt("Emma"), r.encrypt("Emma")
    for kid, cipher in list(r._ciphers.items()):
        class Counting:
            def __init__(self, inner: object) -> None:
                self.inner = inner

            def decrypt(self, nonce: bytes, data: bytes, aad: bytes) -> bytes:
                opened.append(nonce)
                return self.inner.decrypt(nonce, data, aad)  # type: ignore[attr-defined]
        r._ciphers[kid] = Counting(cipher)  # type: ignore[assignment]
    assert [r.decrypt(stored) for _ in range(3)] == ["Emma"] * 3 and len(opened) == 1
    assert r.decrypt(other) == "Emma" and len(opened) == 2  # another stored form: opened on its own
    bad = tampered(stored, 13)
    for _ in range(2):  # a value that fails its check fails every time: nothing kept
        with pytest.raises(DecryptionError, match="integrity"):
            r.decrypt(bad)
    assert len(opened) == 4
    # A ring without the key that wrote a value cannot read it, whatever another ring read before.
    with pytest.raises(DecryptionError):
        ring(KEY_B).decrypt(ring(KEY_A).encrypt("x"))


def test_the_wrong_key_fails_clearly_and_never_shows_the_value() -> None:
    stored = ring(KEY_A).encrypt("Hemmelig tekst om Emma")
    with pytest.raises(DecryptionError) as exc:
        ring(KEY_B).decrypt(stored)
    message = str(exc.value)
    assert ring(KEY_A).current_id in message and "DATA_KEYS_OLD" in message
    assert "Hemmelig" not in message and stored not in message


def test_old_keys_decrypt_and_the_current_key_encrypts() -> None:
    old_value = ring(KEY_A).encrypt("skrevet med den gamle nøgle")
    both = ring(KEY_B, KEY_A)
    assert both.decrypt(old_value) == "skrevet med den gamle nøgle"
    assert crypto.key_id_of(both.encrypt("ny")) == both.current_id == ring(KEY_B).current_id
    assert ring(KEY_A).with_current(crypto.parse_key(KEY_B)).ids == both.ids
    assert "KEY" not in repr(both) and KEY_A not in repr(both)


def test_bytes_round_trip_and_tamper() -> None:
    r = ring(KEY_A)
    pdf = b"%PDF-1.4 Emma \x00\xff" * 100
    stored = r.encrypt_bytes(pdf)
    assert stored.startswith(f"v1:{r.current_id}:".encode()) and b"Emma" not in stored
    assert r.decrypt_bytes(stored) == pdf
    broken = bytearray(stored)
    broken[-1] ^= 1
    with pytest.raises(DecryptionError):
        r.decrypt_bytes(bytes(broken))


@pytest.mark.parametrize("bad, why", [
    ("", "empty"), ("not base64 at all!", "base64"), (base64.b64encode(b"short").decode(), "32 bytes"),
])
def test_keys_are_checked(bad: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        crypto.parse_key(bad)


def test_new_keys_are_random_and_url_safe_keys_are_accepted() -> None:
    a, b = crypto.new_key(), crypto.new_key()
    assert a != b and len(crypto.parse_key(a)) == 32
    raw = bytes(range(200, 232))
    assert crypto.parse_key(base64.urlsafe_b64encode(raw).decode()) == raw


def test_without_a_ring_personal_text_is_neither_written_nor_read() -> None:
    crypto.install(None)
    with pytest.raises(crypto.NotConfigured, match="DATA_KEY"):
        crypto.encrypt("Emma")


def test_personal_text_cannot_be_compared_in_sql() -> None:
    with pytest.raises(TypeError, match="keyed hash"):
        select(Person).where(Person.name == "Mette")
    with pytest.raises(TypeError):
        select(Participant).where(Participant.name.in_(["Mette"]))
    with pytest.raises(TypeError):
        select(Dialog).where(Dialog.purpose.like("%Emma%"))
    # NULL checks are fine.
    select(Person).where(Person.name.is_(None), Person.title == None)  # noqa: E711


# ---- settings ------------------------------------------------------------------------------------


def test_the_key_comes_from_data_key_or_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "data.key"
    key_file.write_text(KEY_A + "\n", encoding="ascii")
    from_env = Settings(_env_file=None, data_key=KEY_A, data_keys_old=f"{KEY_B}, {TEST_DATA_KEY}").key_ring()
    from_file = Settings(_env_file=None, data_key="", data_key_file=str(key_file)).key_ring()
    assert from_env.current_id == from_file.current_id == ring(KEY_A).current_id
    assert from_env.ids == (ring(KEY_A).current_id, ring(KEY_B).current_id, ring(TEST_DATA_KEY).current_id)
    with pytest.raises(ConfigError, match="^DATA_KEY, DATA_KEY_FILE: set one"):
        Settings(_env_file=None, data_key=KEY_A, data_key_file=str(key_file)).key_ring()
    with pytest.raises(ConfigError, match="^DATA_KEY: missing"):
        Settings(_env_file=None, data_key="").key_ring()


@pytest.mark.parametrize("name, value", [
    ("DATA_KEY", "abc"), ("DATA_KEY", base64.b64encode(b"x" * 16).decode()),
    ("DATA_KEY_FILE", "/no/such/file.key"), ("DATA_KEYS_OLD", f"{KEY_A},nonsense"),
])
def test_a_malformed_key_setting_is_one_line_exit_2(name: str, value: str, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    if name == "DATA_KEY_FILE":
        monkeypatch.delenv("DATA_KEY")
    with pytest.raises(SystemExit) as exc:
        load_settings()
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and err.startswith(f"Configuration error: {name}: "), err
    assert value not in err or name == "DATA_KEY_FILE"


def databases_in(folder: Path) -> list[Path]:
    return list(folder.glob("*.db*"))


@pytest.mark.parametrize("args", [["run"], ["migrate"], ["admin", "add-coordinator", "--name", "Camilla"],
                                  ["admin", "purge", "--dry-run"]])
async def test_without_a_key_nothing_starts(args: list[str], tmp_path: Path) -> None:
    run = await samspil_cli(*args, cwd=tmp_path, DATA_KEY="", BOT_TOKEN="123456789:AAbbCCddEEff",
                            BOT_API_URL="http://127.0.0.1:9", BOT_USERNAME="samspil_bot",
                            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert run.code == 2, run.stderr
    assert run.stdout == "" and "Traceback" not in run.stderr
    assert run.stderr_lines == [
        "Configuration error: DATA_KEY: missing – names and texts are stored encrypted with it; "
        "make one with `samspil admin new-key` and set DATA_KEY (or DATA_KEY_FILE)"]
    assert not databases_in(tmp_path)


async def test_new_key_needs_no_configuration(tmp_path: Path) -> None:
    run = await samspil_cli("admin", "new-key", cwd=tmp_path, DATA_KEY="")
    assert run.code == 0, run.stderr
    assert len(run.stdout_lines) == 1 and len(crypto.parse_key(run.stdout_lines[0])) == 32


# ---- a real conversation, then the raw database ------------------------------------------------------

CHILD = "Marguerite"
PURPOSE = "Marguerite skal igen have lyst til at gå i skole og se sine venner"
WORRIES = "Hun græder hver morgen ved skoleporten 😢"
WORKS = "Hun elsker at tegne heste sammen med morfar"
NEXT = "En fast voksen i frikvarteret"
TYPED = "Halvt skrevet bekymring om mavepine"
NEEDLES = [CHILD, PURPOSE, WORRIES, WORKS, NEXT, TYPED, "Camilla Tovholder", "Klasselærer"]


async def raw_personal_values(app: App) -> list[tuple[str, str, str]]:
    """(table, column, stored value) of every PersonalText value, read with plain SQL."""
    out = []
    async with app.engine.connect() as conn:
        for spec in encrypted.personal_columns():
            for col in spec.columns:
                rows = await conn.execute(text(f'SELECT "{col}" FROM "{spec.table}" WHERE "{col}" IS NOT NULL'))
                out += [(spec.table, col, value) for (value,) in rows.all()]
    return out


async def every_text_cell(app: App) -> list[str]:
    """Every string stored anywhere in the database, read with plain SQL."""
    cells = []
    async with app.engine.connect() as conn:
        for table in await conn.run_sync(lambda c: __import__("sqlalchemy").inspect(c).get_table_names()):
            for row in (await conn.execute(text(f'SELECT * FROM "{table}"'))).all():
                cells += [v for v in row if isinstance(v, str)]
    return cells


async def test_no_name_or_text_is_stored_in_the_clear(cast, samspil: App, clock, db_path: Path) -> None:
    fam = await open_family(cast, samspil, child=CHILD, purpose=PURPOSE)
    await cast.write_input(fam.mom, "Familieforhold", worries=WORRIES, works=WORKS, next_steps=NEXT)
    await cast.share_input(fam.mom)
    await cast.scale(fam.mom, 6)
    await cast.say(fam.dad, "/oversigt")
    # Half a conversation: the dad is typing a worry he has not finished (the FSM keeps it).
    await cast.say(fam.dad, "/input")
    await cast.tap_text(fam.dad, "Sundhedsforhold")
    await cast.say(fam.dad, TYPED)

    values = await raw_personal_values(samspil)
    tables = {t for t, _c, _v in values}
    assert {"person", "dialog", "participant", "consent", "input_entry", "registration"} <= tables
    kid = crypto.ring().current_id
    for table, col, value in values:
        assert value.startswith(f"v1:{kid}:"), (table, col)
        crypto.decrypt(value)  # and it is a value, not garbage
    for cell in await every_text_cell(samspil):
        for needle in NEEDLES:
            assert needle not in cell
    # The ORM still reads the clear text.
    async with samspil.sessionmaker() as s:
        dialog = await s.get(Dialog, fam.dialog_id)
        assert (dialog.child_name, dialog.purpose) == (CHILD, PURPOSE)
        entry = await s.scalar(select(InputEntry).where(InputEntry.shared_at.is_not(None)))
        assert (entry.worries, entry.works, entry.next_steps) == (WORRIES, WORKS, NEXT)

    # The whole file on disk (database, WAL and shared memory), after a checkpoint and before.
    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))

    for blob in (on_disk(), None):
        if blob is None:
            with sqlite3.connect(db_path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            blob = on_disk()
        for needle in NEEDLES:
            assert needle.encode() not in blob, needle
            assert needle.encode("utf-16-le") not in blob, needle


async def test_a_database_written_with_another_key_refuses_to_start(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"
    first = Settings(_env_file=None, bot_token="123456789:AAbbCCddEEff", database_url=db, data_key=KEY_A)
    app = await build_app(first, start_scheduler=False)
    async with app.sessionmaker() as s, s.begin():
        s.add(Person(telegram_id=1, name="Mette Kristiansen", created_at=datetime.now(UTC)))
    await app.close()

    wrong = first.model_copy(update={"data_key": Settings(_env_file=None, data_key=KEY_B).data_key})
    with pytest.raises(ConfigError) as exc:
        await build_app(wrong, start_scheduler=False)
    message = str(exc.value)
    assert message.startswith("DATA_KEY: cannot read this database") and ring(KEY_A).current_id in message
    assert "Mette" not in message

    # The same through the real command: one line, exit 2.
    run = await samspil_cli("run", cwd=tmp_path, DATA_KEY=KEY_B, BOT_TOKEN="123456789:AAbbCCddEEff",
                            BOT_API_URL="http://127.0.0.1:9", DATABASE_URL=db, LOG_LEVEL="WARNING")
    assert run.code == 2 and "Traceback" not in run.stderr
    assert run.stderr_lines == [f"Configuration error: {message}"]


# ---- rotation ---------------------------------------------------------------------------------------------


async def fill(url: str, n: int) -> list[tuple[str, str]]:
    """n dialogs (and their coordinators and seats) written with the installed ring."""
    engine = make_engine(url)
    await upgrade(engine)
    now = datetime.now(UTC)
    expected = []
    async with make_sessionmaker(engine)() as s, s.begin():
        for i in range(n):
            person = Person(telegram_id=10_000 + i, name=f"Koordinator {i} Ærø", title="Tovholder", created_at=now)
            s.add(person)
            await s.flush()
            dialog = Dialog(coordinator_id=person.id, child_name=f"Barn {i} 🌟", age_group="barn",
                            purpose=f"Formål nummer {i}", created_at=now, purpose_updated_at=now)
            s.add(dialog)
            await s.flush()
            s.add(Participant(dialog_id=dialog.id, person_id=person.id, name=person.name, role="coordinator",
                              created_at=now))
            expected.append((f"Barn {i} 🌟", f"Formål nummer {i}"))
    await engine.dispose()
    return expected


async def read_all(url: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            dialogs = list(await s.scalars(select(Dialog).order_by(Dialog.id)))
            persons = list(await s.scalars(select(Person)))
            assert all(p.name and p.name.startswith("Koordinator") for p in persons)
            return [(d.child_name, d.purpose) for d in dialogs]
    finally:
        await engine.dispose()


async def key_ids(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await encrypted.key_ids_in_use(conn)
    finally:
        await engine.dispose()


async def test_rotation_keeps_everything_readable_before_during_and_after(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    crypto.install(ring(KEY_A))
    expected = await fill(url, 120)
    old_id, new_id = ring(KEY_A).current_id, ring(KEY_B).current_id
    assert await read_all(url) == expected  # before: the old key alone
    assert set(await key_ids(url)) == {old_id}

    both = crypto.install(ring(KEY_A).with_current(crypto.parse_key(KEY_B)))
    engine = make_engine(url)
    batches = 0
    try:
        async for progress in encrypted.rotate_key(engine, both, batch_size=25):
            batches += 1
            if batches == 3:
                # During: part is under the new key, part under the old; readers (both keys) see all.
                mixed = await key_ids(url)
                assert mixed.get(old_id) and mixed.get(new_id), mixed
                assert await read_all(url) == expected
            assert progress.skipped == 0
    finally:
        await engine.dispose()
    assert batches > 3
    assert set(await key_ids(url)) == {new_id}

    crypto.install(ring(KEY_B))  # after: the new key alone
    assert await read_all(url) == expected
    crypto.install(ring(KEY_A))  # and the old key alone no longer reads anything
    with pytest.raises(DecryptionError, match=new_id):
        await read_all(url)


async def test_rotate_key_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    crypto.install(ring(KEY_A))
    expected = await fill(url, 30)
    key_file = tmp_path / "new.key"
    key_file.write_text(KEY_B + "\n", encoding="ascii")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_KEY", KEY_A)
    await asyncio.to_thread(main, ["admin", "rotate-key", "--new-key-file", str(key_file), "--batch-size", "7"])
    out, _err = capsys.readouterr()
    new_id = ring(KEY_B).current_id
    assert f"Re-encrypted {len(expected) * 5} values with the new key {new_id}" in out
    assert "Every stored value is now under the new key." in out
    assert "set DATA_KEY to the new key" in out and "DATA_KEYS_OLD" in out
    assert KEY_A not in out and KEY_B not in out
    assert set(await key_ids(url)) == {new_id}

    # Then, as told: DATA_KEY = new, DATA_KEYS_OLD = old. Running it again changes nothing.
    monkeypatch.setenv("DATA_KEY", KEY_B)
    monkeypatch.setenv("DATA_KEYS_OLD", KEY_A)
    await asyncio.to_thread(main, ["admin", "rotate-key", "--new-key", KEY_B])
    out, _err = capsys.readouterr()
    assert "Re-encrypted 0 values" in out
    crypto.install(ring(KEY_B))
    assert await read_all(url) == expected


async def test_rotate_key_refuses_unknown_keys_and_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'u.db'}"
    crypto.install(ring(KEY_A))
    await fill(url, 3)
    before = await key_ids(url)
    settings = Settings(_env_file=None, database_url=url, data_key=TEST_DATA_KEY)  # not KEY_A
    with pytest.raises(ConfigError, match=ring(KEY_A).current_id):
        await admin.rotate_key(settings, KEY_B)
    assert await key_ids(url) == before


async def test_the_bot_keeps_answering_while_the_key_rotates(cast, samspil: App) -> None:
    fam = await open_family(cast, samspil, child=CHILD, purpose=PURPOSE)
    await cast.write_input(fam.mom, "Familieforhold", worries=WORRIES, works=WORKS, next_steps=NEXT)
    await cast.share_input(fam.mom)
    old = crypto.ring()
    new = crypto.install(old.with_current(crypto.parse_key(KEY_B)))
    seen = 0
    async for _progress in encrypted.rotate_key(samspil.engine, new, batch_size=2):
        reply = await cast.say(fam.dad, "/oversigt")
        assert WORRIES in reply.text and CHILD in reply.text
        seen += 1
    assert seen > 3
    async with samspil.engine.connect() as conn:
        assert set(await encrypted.key_ids_in_use(conn)) == {new.current_id}


# ---- an older database: the upgrade encrypts what it stored in the clear ------------------------------


async def test_upgrading_an_older_database_encrypts_its_plaintext_and_downgrading_decrypts(
        tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    crypto.install(None)  # the old version had no key
    await upgrade(engine, "0006")
    when = "2026-11-23 09:00:00.000000"
    pdf = b"%PDF-1.4 Marguerite " + bytes(range(256))
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO person (id, telegram_id, name, title, created_at) "
                                "VALUES (1, 42, 'Camilla Tovholder', NULL, :w)"), {"w": when})
        await conn.execute(text(
            "INSERT INTO dialog (id, coordinator_id, child_name, age_group, purpose, state, round_no, plan_version, "
            "plan_accepted_version, created_at, purpose_updated_at) "
            "VALUES (1, 1, 'Marguerite', 'barn', 'Trivsel i skolen igen', 'active', 1, 0, 0, :w, :w)"), {"w": when})
        await conn.execute(text(
            "INSERT INTO participant (id, dialog_id, person_id, name, role, consent_giver, created_at) "
            "VALUES (1, 1, 1, 'Camilla Tovholder', 'coordinator', 0, :w)"), {"w": when})
        await conn.execute(text(
            "INSERT INTO input_entry (dialog_id, participant_id, round_no, area, worries, works, next_steps, "
            "created_at, updated_at) VALUES (1, 1, 1, 'familie', 'Hun sover uroligt', NULL, '', :w, :w)"),
            {"w": when})
        await conn.execute(text(
            "INSERT INTO referral (dialog_id, receiver, status, round_no, requested_at, pdf) "
            "VALUES (1, 'ppr', 'produced', 1, :w, :pdf)"), {"w": when, "pdf": pdf})

    crypto.install(ring(KEY_A))
    await upgrade(engine)
    async with engine.connect() as conn:
        assert await encrypted.key_ids_in_use(conn) == {ring(KEY_A).current_id: 7}
        raw = (await conn.execute(text("SELECT child_name, purpose FROM dialog"))).one()
        blob = await conn.scalar(text("SELECT pdf FROM referral"))
    assert all(v.startswith("v1:") for v in raw) and blob.startswith(b"v1:") and b"Marguerite" not in blob
    async with make_sessionmaker(engine)() as s:
        dialog = await s.get(Dialog, 1)
        assert (dialog.child_name, dialog.purpose) == ("Marguerite", "Trivsel i skolen igen")
        entry = await s.scalar(select(InputEntry))
        assert (entry.worries, entry.works, entry.next_steps) == ("Hun sover uroligt", None, "")

    await downgrade(engine, "0006")
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT child_name, purpose FROM dialog"))).one() == (
            "Marguerite", "Trivsel i skolen igen")
        assert await conn.scalar(text("SELECT pdf FROM referral")) == pdf
    await engine.dispose()
