"""Encryption at rest for personal text: names and every free-text field.

Every `PersonalText` column (storage/types.py) goes through the process-wide key
ring set here at start-up: values are written encrypted with the current key and
read back with whichever key their header names.

Stored form (text, so it fits the existing TEXT columns on SQLite and PostgreSQL):

    v1:<key id>:<base64(nonce + ciphertext + tag)>

- AES-256-GCM (`cryptography`'s AESGCM), a random 96-bit nonce per value;
- key id: the first 8 hex characters of SHA-256 of the key, so a value says which
  key it needs without revealing anything about it;
- the header ("v1:<key id>:") is authenticated too (associated data), so it
  cannot be changed without the value failing its check.

The key lives outside the database: `DATA_KEY` (base64 of 32 random bytes) or
`DATA_KEY_FILE` (a file holding it); `samspil admin new-key` makes one. Old keys
that values may still be encrypted with go in `DATA_KEYS_OLD` (during and just
after `samspil admin rotate-key`, storage/rotation lives in `rotate_key` below).

What stays plaintext, on purpose: ids, dates, states, roles, scores, area keys,
language codes, token *hashes*, outbox payloads (ids only) and `person.telegram_id`
(the bot needs it to send a message; it is neither a name nor free text).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_CHARS = 8
PREFIX = VERSION + ":"


class CryptoError(Exception):
    """A problem with the data key or with an encrypted value. Never carries the value."""


class NotConfigured(CryptoError):
    pass


class DecryptionError(CryptoError):
    pass


# ---- keys ----------------------------------------------------------------------------------


def new_key() -> str:
    """A fresh random key, base64 (what `samspil admin new-key` prints)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def parse_key(text: str | bytes) -> bytes:
    """A key from its base64 form (standard or URL-safe alphabet); ValueError if it is not 32 bytes."""
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    raw = "".join(text.split())
    if not raw:
        raise ValueError("is empty")
    try:
        key = base64.b64decode(raw.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not base64 (make a key with `samspil admin new-key`)") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"must be {KEY_BYTES} bytes in base64, not {len(key)} "
                         "(make a key with `samspil admin new-key`)")
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:KEY_ID_CHARS]


def key_id_of(value: str | bytes) -> str | None:
    """The key id a stored value (text or bytes) names, or None if it is not encrypted."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value[: len(PREFIX) + KEY_ID_CHARS + 1]).decode("ascii", errors="replace")
    if not value.startswith(PREFIX) or len(value) < len(PREFIX) + KEY_ID_CHARS + 1 \
            or value[len(PREFIX) + KEY_ID_CHARS] != ":":
        return None
    kid = value[len(PREFIX): len(PREFIX) + KEY_ID_CHARS]
    return kid if all(c in "0123456789abcdef" for c in kid) else None


def is_encrypted(value: str | bytes | None) -> bool:
    return value is not None and key_id_of(value) is not None


# ---- the key ring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRing:
    """The current key (encrypts) and older keys (only decrypt)."""

    current: bytes
    old: tuple[bytes, ...] = ()
    _ciphers: dict[str, AESGCM] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ciphers: dict[str, AESGCM] = {}
        for key in (self.current, *self.old):
            if len(key) != KEY_BYTES:
                raise ValueError(f"a data key must be {KEY_BYTES} bytes")
            ciphers.setdefault(key_id(key), AESGCM(key))
        object.__setattr__(self, "_ciphers", ciphers)

    def __repr__(self) -> str:  # never the keys themselves
        return f"KeyRing(current={self.current_id}, old={list(self.ids[1:])})"

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    @property
    def ids(self) -> tuple[str, ...]:
        """Key ids, the current one first."""
        return tuple(self._ciphers)

    def knows(self, kid: str) -> bool:
        return kid in self._ciphers

    def with_current(self, new_current: bytes) -> KeyRing:
        """A ring that encrypts with `new_current` and still reads everything this one reads."""
        old = [k for k in (self.current, *self.old) if key_id(k) != key_id(new_current)]
        return KeyRing(new_current, tuple(old))

    def encrypt(self, plaintext: str) -> str:
        kid = self.current_id
        header = f"{PREFIX}{kid}:"
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[kid].encrypt(nonce, plaintext.encode("utf-8"), header.encode())
        return header + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, value: str) -> str:
        kid, cipher = self._cipher_for(value)
        header = value[: len(PREFIX) + KEY_ID_CHARS + 1]
        try:
            blob = base64.b64decode(value[len(header):], validate=True)
        except (binascii.Error, ValueError):
            blob = b""
        return self._open(kid, cipher, blob, header.encode()).decode("utf-8")

    def encrypt_bytes(self, data: bytes) -> bytes:
        """Bytes (a stored PDF, say): b"v1:<key id>:" + nonce + ciphertext, no base64."""
        kid = self.current_id
        header = f"{PREFIX}{kid}:".encode()
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + self._ciphers[kid].encrypt(nonce, bytes(data), header)

    def decrypt_bytes(self, value: bytes) -> bytes:
        value = bytes(value)
        kid, cipher = self._cipher_for(value)
        header = value[: len(PREFIX) + KEY_ID_CHARS + 1]
        return self._open(kid, cipher, value[len(header):], header)

    def reencrypt(self, value: str | bytes) -> str | bytes:
        """A stored value (encrypted with any key of this ring, or not at all) under the current key."""
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            return self.encrypt_bytes(self.decrypt_bytes(data) if is_encrypted(data) else data)
        return self.encrypt(self.decrypt(value) if is_encrypted(value) else value)

    def _cipher_for(self, value: str | bytes) -> tuple[str, AESGCM]:
        kid = key_id_of(value)
        if kid is None:
            raise DecryptionError("a stored personal value is not encrypted (written outside Samspil?)")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise DecryptionError(
                f"a stored value is encrypted with key {kid}, which is neither DATA_KEY ({self.current_id}) "
                "nor in DATA_KEYS_OLD: set the key it was written with")
        return kid, cipher

    @staticmethod
    def _open(kid: str, cipher: AESGCM, blob: bytes, header: bytes) -> bytes:
        try:
            if len(blob) < NONCE_BYTES + 16:
                raise ValueError
            return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], header)
        except (InvalidTag, ValueError):
            raise DecryptionError(
                f"a stored value encrypted with key {kid} failed its integrity check "
                "(altered in the database, or a different key with the same id)") from None


_ring: KeyRing | None = None


def configure(current_key: bytes | str, old_keys: Iterable[bytes | str] = ()) -> KeyRing:
    """Set the process-wide key ring (start-up; base64 strings or raw 32-byte keys)."""
    current = current_key if isinstance(current_key, bytes) and len(current_key) == KEY_BYTES \
        else parse_key(current_key)
    old = tuple(k if isinstance(k, bytes) and len(k) == KEY_BYTES else parse_key(k) for k in old_keys)
    return install(KeyRing(current, old))


def install(ring: KeyRing | None) -> KeyRing | None:
    """Replace the process-wide ring (one assignment: readers see the old or the new, whole)."""
    global _ring
    _ring = ring
    return ring


def ring() -> KeyRing:
    if _ring is None:
        raise NotConfigured("DATA_KEY: no data key is configured in this process, so personal text "
                            "can be neither written nor read")
    return _ring


def configured() -> KeyRing | None:
    return _ring


def encrypt(plaintext: str) -> str:
    return ring().encrypt(plaintext)


def decrypt(value: str) -> str:
    return ring().decrypt(value)


def encrypt_bytes(data: bytes) -> bytes:
    return ring().encrypt_bytes(data)


def decrypt_bytes(value: bytes) -> bytes:
    return ring().decrypt_bytes(value)


# ---- which columns hold personal text -------------------------------------------------------------


@dataclass(frozen=True)
class PersonalColumns:
    table: str
    pk: str
    columns: tuple[str, ...]


def personal_columns(metadata=None) -> list[PersonalColumns]:  # type: ignore[no-untyped-def]
    """Every table with `PersonalText` / `PersonalBytes` columns, from the models imported so
    far (new tables are found too; import a model's module before relying on this)."""
    from storage.models import Base
    from storage.types import PersonalBytes, PersonalText

    found = []
    for table in (metadata or Base.metadata).sorted_tables:
        cols = tuple(c.name for c in table.columns if isinstance(c.type, (PersonalText, PersonalBytes)))
        if cols:
            pks = [c.name for c in table.primary_key.columns]
            if len(pks) != 1:
                raise CryptoError(f"table {table.name}: personal text needs a one-column primary key")
            found.append(PersonalColumns(table.name, pks[0], cols))
    return found


# ---- checking and rotating the key against a database ------------------------------------------------


async def key_ids_in_use(conn) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """How many stored values each key id encrypts ('plaintext' for unencrypted ones). A full scan."""
    from sqlalchemy import column, func, select, table

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


async def check_database(conn, keyring: KeyRing | None = None) -> None:  # type: ignore[no-untyped-def]
    """Refuse a key that cannot read this database: the newest value of every personal column
    is decrypted (one statement of indexed look-ups, cheap enough for every start)."""
    from sqlalchemy import column, select, table

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


async def rotate_key(engine, new_ring: KeyRing, *, batch_size: int = 200  # type: ignore[no-untyped-def]
                     ) -> AsyncIterator[RotationProgress]:
    """Re-encrypt every personal value not yet under `new_ring.current`, batch by batch.

    Each batch is its own short transaction, so the bot keeps answering meanwhile;
    readers need a ring holding both keys (this process installs `new_ring`). A value
    changed by a writer between read and update is left alone (the update is
    conditional on the old ciphertext); running the rotation again picks it up.
    Yields after every committed batch.
    """
    from sqlalchemy import and_, column, select, table, update

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
