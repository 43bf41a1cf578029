"""Administrator actions run from the command line."""

from __future__ import annotations

from aiogram.exceptions import TelegramAPIError
from aiohttp import ClientError
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select

# Every flow module: erasing a person writes notices of kinds the flows register.
import handlers.routers  # noqa: F401
from bot.app import check_data_key, make_bot
from core.clock import Clock
from core.config import ConfigError, Settings
from core.notices import Notices
from rules.cpr import contains_cpr
from rules.text import clean_text
from services import privacy
from storage import audit, crypto, encrypted, retention
from storage import queries as q
from storage.db import alembic_config, make_engine, make_sessionmaker, upgrade
from storage.fsm import forget_in_redis
from storage.models import Participant, Person

NAME_LIMIT = 80


async def bot_username(settings: Settings) -> str:
    """BOT_USERNAME, else asked from the Bot API (getMe)."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    bot = make_bot(settings)
    try:
        me = await bot.get_me()
    except (TelegramAPIError, ClientError, OSError) as exc:
        raise ConfigError(
            f"BOT_USERNAME: not set, and the Bot API at {settings.bot_api_url} could not be asked "
            f"({type(exc).__name__})") from None
    finally:
        await bot.session.close()
    return me.username or ""


async def add_staff(settings: Settings, *, role: str, name: str, title: str | None,
                    clock: Clock | None = None) -> str:
    """Create a single-use registration link for a coordinator or professional."""
    name = clean_text(name)
    title = clean_text(title) if title is not None else None
    if not name or len(name) > NAME_LIMIT:
        raise ConfigError(f"--name: give a name of 1-{NAME_LIMIT} characters")
    if title is not None and (not title or len(title) > NAME_LIMIT):
        raise ConfigError(f"--title: give a title of 1-{NAME_LIMIT} characters")
    username = await bot_username(settings)
    clock = clock or Clock()
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session, session.begin():
            token = await q.create_registration(
                session, staff_role=role, name=name, title=title, now=clock.now(),
                ttl_days=settings.invite_ttl_days)
    finally:
        await engine.dispose()
    return f"https://t.me/{username}?start={token}"


# ---- data key, audit log, retention (issue #6) ------------------------------------------------


async def _database(settings: Settings, *, write: bool):  # type: ignore[no-untyped-def]
    """An engine at the newest schema: upgraded when the command writes anyway, else checked
    (a read-only command never changes the database)."""
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    if write:
        await upgrade(engine)
        return engine
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    async with engine.connect() as conn:
        current = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads())
    if set(current) != heads:
        await engine.dispose()
        raise ConfigError("DATABASE_URL: the database is not at the newest schema; run `samspil migrate` first")
    return engine


def new_key() -> str:
    """`samspil admin new-key`: a fresh data key, base64, to keep outside the database."""
    return crypto.new_key()


async def rotate_key(settings: Settings, new_key_text: str, *, batch_size: int = 200) -> list[str]:
    """`samspil admin rotate-key`: re-encrypt every personal value with a new key.

    Works in batches of short transactions, so the bot keeps answering. This process
    reads with the old and the new key (DATA_KEY, DATA_KEYS_OLD and the new one) and
    writes with the new one. Run it again with the same new key after switching
    DATA_KEY: it only touches values not yet under the new key.
    """
    try:
        new = crypto.parse_key(new_key_text)
    except ValueError as exc:
        raise ConfigError(f"--new-key: {exc}") from None
    old_ring = settings.key_ring()
    ring = crypto.install(old_ring.with_current(new))
    assert ring is not None
    engine = await _database(settings, write=True)
    try:
        async with engine.connect() as conn:
            before = await encrypted.key_ids_in_use(conn)
        unknown = sorted(k for k in before if k != "plaintext" and not ring.knows(k))
        if unknown:
            raise ConfigError(
                f"DATA_KEYS_OLD: values are encrypted with key(s) {', '.join(unknown)}, which neither "
                "DATA_KEY nor DATA_KEYS_OLD holds; add them and run again (nothing was changed)")
        done = skipped = 0
        try:
            async for progress in encrypted.rotate_key(engine, ring, batch_size=batch_size):
                done, skipped = progress.done, progress.skipped
        except crypto.CryptoError as exc:
            raise ConfigError(f"DATA_KEY: rotation stopped after {done} values (run it again once "
                              f"fixed; what is done stays done): {exc}") from None
        async with engine.connect() as conn:
            after = await encrypted.key_ids_in_use(conn)
    finally:
        await engine.dispose()
    left = sum(n for k, n in after.items() if k != ring.current_id)
    lines = [f"Re-encrypted {done} values with the new key {ring.current_id} "
             f"(read with {', '.join(ring.ids[1:]) or 'no other key'})."]
    if left or skipped:
        lines.append(f"{left} values are not yet under the new key (written meanwhile); "
                     "run this again after the restart below.")
    else:
        lines.append("Every stored value is now under the new key.")
    lines += [
        "Next: set DATA_KEY to the new key (or point DATA_KEY_FILE at it) and keep the old key in "
        f"DATA_KEYS_OLD (key {old_ring.current_id}) until every bot process has restarted with the new key;",
        "then run `samspil admin rotate-key` with the same new key once more (it re-encrypts what a bot "
        "still on the old key wrote meanwhile) and remove DATA_KEYS_OLD.",
    ]
    return lines


async def audit_log(settings: Settings, dialog_id: int, *, names: bool = False) -> list[str]:
    """`samspil admin audit --dialog N`: who read or did what in a dialog, and when.

    Ids only by default (names are personal data); `names=True` decrypts the actors'
    and participants' names, for the data protection officer.
    """
    engine = await _database(settings, write=False)
    try:
        if names:
            await check_data_key(engine)
        async with make_sessionmaker(engine)() as session:
            events = await audit.events(session, dialog_id=dialog_id)
            person_names: dict[int, str] = {}
            seat_names: dict[int, str] = {}
            if names:
                actor_ids = {e.actor_id for e in events if e.actor_id is not None}
                seat_ids = {e.participant_id for e in events if e.participant_id is not None}
                for p in await session.scalars(select(Person).where(Person.id.in_(actor_ids))):
                    person_names[p.id] = p.name or ""
                for s in await session.scalars(select(Participant).where(Participant.id.in_(seat_ids))):
                    seat_names[s.id] = s.name
    finally:
        await engine.dispose()
    tz = settings.tz
    if not events:
        return [f"No audit events for dialog {dialog_id}."]
    lines = [f"Audit log of dialog {dialog_id} – times in {settings.timezone}"
             + ("" if names else "; ids only (--names shows names)")]
    for e in events:
        who = "system" if e.actor_id is None and e.actor_role in (None, audit.SYSTEM_ROLE) else \
            ("admin" if e.actor_id is None else f"person {e.actor_id}")
        if names and e.actor_id is not None:
            who += f" {person_names.get(e.actor_id, '(deleted)')}"
        role = e.actor_role or "-"
        ids = []
        for key, value in audit.ids_of(e).items():
            if key == "dialog_id":
                continue
            text = f"{key}={value}"
            if names and key == "participant_id":
                text += f" ({seat_names.get(value, 'deleted')})"
            ids.append(text)
        when = e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{when}  {who:<12} {role:<15} {e.action:<20} {' '.join(ids)}".rstrip())
    return lines


async def purge(settings: Settings, *, dry_run: bool, clock: Clock | None = None) -> list[str]:
    """`samspil admin purge [--dry-run]`: delete what retention says is due (storage/retention.py)."""
    now = (clock or Clock()).now()
    engine = await _database(settings, write=not dry_run)
    try:
        sessionmaker = make_sessionmaker(engine)
        if dry_run:
            async with sessionmaker() as session:
                report = await retention.survey(session, now, settings.retention_days)
        else:
            report = await retention.purge(sessionmaker, now, settings.retention_days, actor_role="admin")
    finally:
        await engine.dispose()
    return report.lines()


async def erase_person(settings: Settings, *, telegram_id: int | None = None, person_id: int | None = None,
                       participant_id: int | None = None, clock: Clock | None = None) -> list[str]:
    """`samspil admin erase-person`: what /slet_mine_data does, on the person's request to the municipality.

    Prints numbers only (no names). The coordinators are told through the outbox, which
    the running bot sends.
    """
    clock = clock or Clock()
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session, session.begin():
            if participant_id is not None:  # a participant without Telegram: a seat, no person
                pid, tid = participant_id, None
                result = await privacy.erase_offline_seat(
                    session, Notices(settings, clock), participant_id, now=clock.now(),
                    keep=settings.keep_on_erase_set, locale=settings.default_locale, actor_id=None,
                    actor_role="admin", text_shown="Erased on the person's request by an administrator "
                                                   "(samspil admin erase-person --participant-id).")
                if result is None:
                    raise ConfigError(f"--participant-id: no participant without Telegram with id {participant_id} "
                                      "(or their data is already erased)")
            else:
                if telegram_id is not None:
                    person = await q.person_by_telegram_id(session, telegram_id)
                    which = f"--telegram-id: no person with Telegram id {telegram_id}"
                else:
                    person = await session.get(Person, person_id)
                    which = f"--person-id: no person with id {person_id}"
                if person is None or (person.telegram_id is None and person.name is None):
                    raise ConfigError(f"{which} (or their data is already erased)")
                pid, tid = person.id, person.telegram_id
                result = await privacy.erase(
                    session, Notices(settings, clock), person, now=clock.now(), keep=settings.keep_on_erase_set,
                    text_shown="Erased on the person's request by an administrator (samspil admin erase-person).",
                    locale=settings.default_locale, actor_id=None, actor_role="admin")
                if result is None:
                    raise ConfigError(f"person {person.id} coordinates dialogs that are not closed; "
                                      "close them (or hand them over) first")
    finally:
        await engine.dispose()
    if settings.redis_url and tid is not None:  # a step an earlier version kept in Redis, a lock
        await forget_in_redis(settings.redis_url, settings.redis_prefix, tid)

    def counts(d: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(d.items()) if v) or "nothing"

    return [f"Erased person {pid}: {result.seats} seat(s).",
            f"Deleted: {counts(result.deleted)}.",
            f"Kept without the name (KEEP_ON_ERASE={settings.keep_on_erase or '-'}): {counts(result.anonymised)}.",
            f"Coordinators told: {len({c for _d, _p, c in result.tell})}."]


async def transfer_dialog(settings: Settings, *, dialog_id: int, to: int, note: str | None,
                          clock: Clock | None = None) -> list[str]:
    """`samspil admin transfer-dialog`: hand a dialog over to another registered coordinator
    (services/handover.py), as its coordinator does from the dialog's card.

    `to` is the new coordinator's person id or Telegram id. Prints numbers only (no names). The
    new coordinator, the old one and everyone in the dialog are told through the outbox, which the
    running bot sends.
    """
    from services import handover

    clock = clock or Clock()
    if note is not None:
        note = clean_text(note)
        if not note or len(note) > handover.NOTE_LIMIT:
            raise ConfigError(f"--note: give a note of 1-{handover.NOTE_LIMIT} characters")
        if contains_cpr(note):
            raise ConfigError("--note: looks like it holds a CPR number; never store CPR numbers in Samspil")
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session, session.begin():
            found = {p.id: p for p in await session.scalars(select(Person).where(
                (Person.id == to) | (Person.telegram_id == to), Person.staff_role == "coordinator",
                Person.telegram_id.is_not(None)))}
            if len(found) > 1:
                raise ConfigError(f"--to: {to} is the person id of one coordinator and the Telegram id of another; "
                                  "give the Telegram id of the one you mean")
            if not found:
                raise ConfigError(f"--to: no registered coordinator with person id or Telegram id {to}")
            [receiver] = found.values()
            result = await handover.hand_over(session, Notices(settings, clock), dialog_id, receiver, note=note,
                                              by_id=None, actor_role="admin", now=clock.now())
            problems = {
                handover.Handed.NO_DIALOG: f"--dialog: no dialog with id {dialog_id}",
                handover.Handed.CLOSED: f"dialog {dialog_id} is closed; a closed dialog is not handed over",
                handover.Handed.SAME: f"person {receiver.id} is the coordinator of dialog {dialog_id} already",
                handover.Handed.CONSENT_SEAT: f"person {receiver.id} gives consent in dialog {dialog_id} "
                                              "and cannot also be its coordinator",
                handover.Handed.NOT_COORDINATOR: f"person {receiver.id} is not a registered coordinator",
            }
            if result.outcome in problems:
                raise ConfigError(problems[result.outcome])
            old_id = result.old.id if result.old else None
            told = len(result.told)
    finally:
        await engine.dispose()
    return [f"Handed dialog {dialog_id} over to person {receiver.id} (from person {old_id}).",
            f"Told: the new coordinator, {'the old coordinator, ' if old_id else ''}{told} participant(s).",
            f"Audit: dialog.handed_over (samspil admin audit --dialog {dialog_id})."]
