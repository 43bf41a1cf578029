"""Column types of the project's own.

Every name and every free-text field a person writes is stored through
`PersonalText`, so that encryption at rest (issue #6) is added in one place.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator


class PersonalText(TypeDecorator[str]):
    """Text that is personal data: names, purposes, input, comments."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return value

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        return value


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
