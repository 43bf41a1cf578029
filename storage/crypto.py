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
after `samspil admin rotate-key`, which re-encrypts through storage/encrypted.py).

What stays plaintext, on purpose: ids, dates, states, roles, scores, area keys,
language codes, token *hashes*, outbox payloads (ids only) and `person.telegram_id`
(the bot needs it to send a message; it is neither a name nor free text).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_CHARS = 8
PREFIX = VERSION + ":"
# Decrypted values kept per ring, by their stored form. A conversation step reads the same
# names and texts again and again (every participant's name with each dialog it loads: about
# 35 values per step in bench/throughput.py); each is authenticated once. Keeping them adds no
# exposure: the key that opens every value is in the same process memory. A stored value's
# random nonce makes its stored form unique, so a changed value is a new entry; a new ring
# (configure, rotation) starts empty.
DECRYPTED_KEPT = 4096


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
        object.__setattr__(self, "decrypt", lru_cache(maxsize=DECRYPTED_KEPT)(self._decrypt))

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

    def decrypt(self, value: str) -> str:  # replaced per ring by a kept (cached) _decrypt
        return self._decrypt(value)

    def _decrypt(self, value: str) -> str:
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
