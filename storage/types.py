"""Column types of the project's own.

Every name and every free-text field a person writes is stored through
`PersonalText`: encrypted at rest with the process's data key (storage/crypto.py).
Such a column can be read and written, never compared or sorted in SQL (each
value has its own random nonce): an equality lookup needs a keyed hash column.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, LargeBinary, Text
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from storage import crypto


class PersonalText(TypeDecorator[str]):
    """Text that is personal data: names, purposes, input, comments. Encrypted at rest."""

    impl = Text
    cache_ok = True

    class Comparator(TypeDecorator.Comparator):  # type: ignore[type-arg]
        """Comparing ciphertexts in SQL silently matches nothing: make it fail loudly instead."""

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            _refuse_comparison(op, other)
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            _refuse_comparison(op, (other,))
            return super().reverse_operate(op, other, **kwargs)

    comparator_factory = Comparator

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return crypto.encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return crypto.decrypt(value)


class PersonalBytes(TypeDecorator[bytes]):
    """Bytes that are personal data (a stored PDF with names and input). Encrypted at rest."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return crypto.encrypt_bytes(bytes(value))

    def process_result_value(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return crypto.decrypt_bytes(bytes(value))


_COMPARISONS = {
    operators.eq, operators.ne, operators.lt, operators.le, operators.gt, operators.ge,
    operators.in_op, operators.not_in_op, operators.like_op, operators.not_like_op,
    operators.ilike_op, operators.not_ilike_op, operators.contains_op, operators.startswith_op,
    operators.endswith_op, operators.between_op, operators.match_op, operators.regexp_match_op,
}


def _refuse_comparison(op: Any, other: tuple[Any, ...]) -> None:
    if op in _COMPARISONS and not (op in (operators.eq, operators.ne) and other and other[0] is None):
        raise TypeError("a PersonalText column is encrypted and cannot be compared in SQL; "
                        "look it up through a keyed hash column instead")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes, stored as UTC on every database.

    SQLite has no time zones: it would hand back naive values that cannot be
    compared with the aware clock the app uses. So: aware in, aware (UTC) out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use the app clock")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
