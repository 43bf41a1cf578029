"""What of the database is encrypted, and the data key against a database.

storage/crypto.py encrypts and decrypts (keys, the key ring, no SQL); storage/types.py
holds the column types that use it; this module reads the models to find every
`PersonalText` / `PersonalBytes` column and checks, counts and rotates what they hold.
It sits above both, so the three import each other in one direction only:
crypto <- types <- models <- encrypted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import MetaData, and_, column, func, select, table, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.crypto import (
    KEY_ID_CHARS,
    PREFIX,
    CryptoError,
    DecryptionError,
    KeyRing,
    key_id_of,
    ring,
)
from storage.models import Base
from storage.types import PersonalBytes, PersonalText

# ---- which columns hold personal text -------------------------------------------------------------


@dataclass(frozen=True)
class PersonalColumns:
    table: str
    pk: str
    columns: tuple[str, ...]


def personal_columns(metadata: MetaData = Base.metadata) -> list[PersonalColumns]:
    """Every table with `PersonalText` / `PersonalBytes` columns (storage/models.py holds
    every table; a new one is found without being named here)."""
    found = []
    for t in metadata.sorted_tables:
        cols = tuple(c.name for c in t.columns if isinstance(c.type, (PersonalText, PersonalBytes)))
        if cols:
            pks = [c.name for c in t.primary_key.columns]
            if len(pks) != 1:
                raise CryptoError(f"table {t.name}: personal text needs a one-column primary key")
            found.append(PersonalColumns(t.name, pks[0], cols))
    return found


# ---- checking and rotating the key against a database ------------------------------------------------


async def key_ids_in_use(conn: AsyncConnection) -> dict[str, int]:
    """How many stored values each key id encrypts ('plaintext' for unencrypted ones). A full scan."""
    counts: dict[str, int] = {}
    for spec in personal_columns():
        t = table(spec.table, *(column(c) for c in spec.columns))
        for name in spec.columns:
            col = t.c[name]
            head = func.substr(col, 1, len(PREFIX) + KEY_ID_CHARS)
            rows = await conn.execute(
                select(head, func.count()).select_from(t).where(col.is_not(None)).group_by(head))
            for prefix, n in rows.all():
                if isinstance(prefix, (bytes, memoryview)):
                    prefix = bytes(prefix).decode("ascii", errors="replace")
                kid = prefix[len(PREFIX):] if prefix and prefix.startswith(PREFIX) else "plaintext"
                counts[kid] = counts.get(kid, 0) + n
    return counts


async def check_database(conn: AsyncConnection, keyring: KeyRing | None = None) -> None:
    """Refuse a key that cannot read this database: the newest value of every personal column
    is decrypted (one statement of indexed look-ups, cheap enough for every start)."""
    keyring = keyring or ring()
    probes = []
    for spec in personal_columns():
        t = table(spec.table, column(spec.pk), *(column(c) for c in spec.columns))
        probes += [select(t.c[name]).where(t.c[name].is_not(None)).order_by(t.c[spec.pk].desc())
                   .limit(1).scalar_subquery() for name in spec.columns]
    if not probes:
        return
    for value in (await conn.execute(select(*probes))).one():
        if value is None:
            continue
        try:
            if isinstance(value, (bytes, memoryview)):
                keyring.decrypt_bytes(value)
            else:
                keyring.decrypt(value)
        except DecryptionError as exc:
            raise CryptoError(f"DATA_KEY: cannot read this database: {exc}") from None


@dataclass
class RotationProgress:
    table: str
    column_values: int  # values re-encrypted in this batch
    done: int  # values re-encrypted so far
    skipped: int  # values changed by someone else meanwhile (left for the next run)


async def rotate_key(engine: AsyncEngine, new_ring: KeyRing, *, batch_size: int = 200
                     ) -> AsyncIterator[RotationProgress]:
    """Re-encrypt every personal value not yet under `new_ring.current`, batch by batch.

    Each batch is its own short transaction, so the bot keeps answering meanwhile;
    readers need a ring holding both keys (this process installs `new_ring`). A value
    changed by a writer between read and update is left alone (the update is
    conditional on the old ciphertext); running the rotation again picks it up.
    Yields after every committed batch.
    """
    target = new_ring.current_id
    done = skipped = 0
    for spec in personal_columns():
        t = table(spec.table, column(spec.pk), *(column(c) for c in spec.columns))
        pk = t.c[spec.pk]
        last = None
        while True:
            async with engine.begin() as conn:
                stmt = select(pk, *(t.c[c] for c in spec.columns)).order_by(pk).limit(batch_size)
                if last is not None:
                    stmt = stmt.where(pk > last)
                rows = (await conn.execute(stmt)).all()
                if not rows:
                    break
                last = rows[-1][0]
                changed = 0
                for row in rows:
                    for name, value in zip(spec.columns, row[1:], strict=True):
                        if value is None or key_id_of(value) == target:
                            continue
                        fresh = new_ring.reencrypt(value)
                        result = await conn.execute(
                            update(t).where(and_(pk == row[0], t.c[name] == value)).values({name: fresh}))
                        if result.rowcount:
                            changed += 1
                        else:
                            skipped += 1
            done += changed
            yield RotationProgress(spec.table, changed, done, skipped)
