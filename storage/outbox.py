"""The outbox: notices and reminders as rows, claimed and sent exactly once.

Life of a row: `pending` (written with its cause, due at `due_at`) -> `sending`
(claimed by one scheduler, with a lease) -> `sent` | `skipped` (its reason is
gone) | `failed` (the person blocked the bot, or it kept failing) | `cancelled`.

A coordinator's routine notice may instead be `held` until their digest time
(`due_at`): then, in one transaction, the held rows are composed into "digest"
rows (each an ordinary pending row carrying its text in `body`) and become `sent`
(or `skipped`); the digest rows go out like any other row (bot/digest.py).

A crash while a row is `sending` leaves it there until its lease runs out; then
any scheduler takes it again. The only moment a crash can repeat a message is
between Telegram accepting it and `mark_sent` committing: one round trip to the
database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage

PENDING, SENDING, SENT, SKIPPED, FAILED, CANCELLED, HELD = (
    "pending", "sending", "sent", "skipped", "failed", "cancelled", "held")

# The partial indexes (storage/models.py) are only used when the query repeats
# their condition literally: a bound parameter would not match, on SQLite nor
# in PostgreSQL's generic plans.
IS_PENDING = OutboxMessage.status == literal_column("'pending'")
IS_SENDING = OutboxMessage.status == literal_column("'sending'")
IS_HELD = OutboxMessage.status == literal_column("'held'")


async def enqueue(
    session: AsyncSession, *, key: str, person_id: int, kind: str, due_at: datetime,
    now: datetime, dialog_id: int | None = None, payload: dict[str, Any] | None = None,
    body: str | None = None, status: str = PENDING,
) -> bool:
    """Write a row unless one with `key` exists already. True if this call wrote it.

    `body` (encrypted, storage/types.PersonalText) is for the kinds composed before
    they are written, an answer sent later and a digest; it is blanked when the row is
    finished. `status`: PENDING, or HELD for a coordinator's digest.
    """
    if status not in (PENDING, HELD):
        raise ValueError(f"a new row is pending or held, not {status!r}")
    values = dict(
        key=key, person_id=person_id, dialog_id=dialog_id, kind=kind,
        payload=json.dumps(payload or {}, sort_keys=True), due_at=due_at, status=status,
        attempts=0, created_at=now, body=body,
    )
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["key"])
    result = await session.execute(stmt)
    return bool(result.rowcount)


async def cancel(session: AsyncSession, *, dialog_id: int, key_prefix: str) -> int:
    """Cancel pending (or held) rows of a dialog whose key starts with `key_prefix` (a moved meeting...)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.dialog_id == dialog_id, OutboxMessage.status.in_([PENDING, HELD]),
               OutboxMessage.key.startswith(key_prefix, autoescape=True))
        .values(status=CANCELLED)
    )
    return result.rowcount or 0


async def reclaim_expired(session: AsyncSession, now: datetime) -> int:
    """Rows whose claimer died (lease over) become pending again."""
    result = await session.execute(
        update(OutboxMessage)
        .where(IS_SENDING, OutboxMessage.claimed_until < now)
        .values(status=PENDING, claimed_until=None)
    )
    return result.rowcount or 0


def due_query(now: datetime, limit: int) -> Select[tuple[int]]:
    """Ids of due rows, oldest first: a range scan on the partial index `ix_outbox_due`."""
    return (
        select(OutboxMessage.id)
        .where(IS_PENDING, OutboxMessage.due_at <= now)
        .order_by(OutboxMessage.due_at)
        .limit(limit)
    )


async def claim_due(session: AsyncSession, now: datetime, *, limit: int, lease: timedelta
                    ) -> list[OutboxMessage]:
    """Take up to `limit` due rows for this scheduler alone.

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent schedulers take disjoint
    rows without waiting for each other. SQLite has one writer at a time, which
    makes the same UPDATE atomic there.
    """
    ids = list(await session.scalars(due_query(now, limit).with_for_update(skip_locked=True)))
    if not ids:
        return []
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == PENDING)
        .values(status=SENDING, claimed_until=now + lease, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    rows = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == SENDING)
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def renew_claim(session: AsyncSession, rows: list[OutboxMessage], now: datetime, lease: timedelta) -> bool:
    """Extend this scheduler's claim on `rows` right before sending them.

    Rows wait in a batch behind the send-rate limit; if the wait outlasted the lease,
    another scheduler may have reclaimed and sent them. The claim time is the owner's
    mark: False when any row is no longer held under it (then this scheduler must not
    send, or the person would get the notice twice).
    """
    claims = {r.claimed_until for r in rows}
    if len(claims) != 1 or None in claims:
        return False
    [claim] = claims
    new = now + lease
    result = await session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]), IS_SENDING,
                                    OutboxMessage.claimed_until == claim)
        .values(claimed_until=new).execution_options(synchronize_session=False)
    )
    if (result.rowcount or 0) != len(rows):
        return False
    for r in rows:
        r.claimed_until = new
    return True


async def _set(session: AsyncSession, ids: Iterable[int], **values: Any) -> None:
    ids = list(ids)
    if ids:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == SENDING)
            .values(**values).execution_options(synchronize_session=False)
        )


# A finished row keeps no body: the answer it held was sent (or never will be).


async def mark_sent(session: AsyncSession, ids: Iterable[int], now: datetime) -> None:
    await _set(session, ids, status=SENT, sent_at=now, claimed_until=None, body=None)


async def mark_skipped(session: AsyncSession, ids: Iterable[int]) -> None:
    await _set(session, ids, status=SKIPPED, claimed_until=None, body=None)


async def mark_failed(session: AsyncSession, ids: Iterable[int], error: str) -> None:
    await _set(session, ids, status=FAILED, claimed_until=None, last_error=error[:80], body=None)


async def retry_at(session: AsyncSession, ids: Iterable[int], due_at: datetime, error: str) -> None:
    await _set(session, ids, status=PENDING, due_at=due_at, claimed_until=None, last_error=error[:80])


async def defer(session: AsyncSession, ids: Iterable[int], due_at: datetime) -> None:
    """Back to pending for later (quiet hours), without counting an attempt."""
    await _set(session, ids, status=PENDING, due_at=due_at, claimed_until=None,
               attempts=OutboxMessage.attempts - 1)


# ---- held for a coordinator's digest -------------------------------------------------------------


async def held_people_due(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Persons with held rows whose digest time has come (a range scan on `ix_outbox_held`)."""
    return list(await session.scalars(
        select(OutboxMessage.person_id).where(IS_HELD, OutboxMessage.due_at <= now)
        .group_by(OutboxMessage.person_id).order_by(func.min(OutboxMessage.due_at)).limit(limit)))


async def held_of(session: AsyncSession, person_id: int, *, due_by: datetime | None = None) -> list[OutboxMessage]:
    """A person's held rows (due by `due_by`, if given), oldest first."""
    stmt = select(OutboxMessage).where(OutboxMessage.person_id == person_id, IS_HELD)
    if due_by is not None:
        stmt = stmt.where(OutboxMessage.due_at <= due_by)
    return list(await session.scalars(stmt.order_by(OutboxMessage.id).execution_options(populate_existing=True)))


async def finish_held(session: AsyncSession, ids: Iterable[int], status: str, now: datetime) -> int:
    """Held rows gathered into a digest (SENT) or dropped (SKIPPED). Returns how many were
    still held: fewer than `ids` means another scheduler gathered them first."""
    ids = list(ids)
    if not ids:
        return 0
    values: dict[str, Any] = {"status": status, "body": None}
    if status == SENT:
        values["sent_at"] = now
    result = await session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == HELD)
        .values(**values).execution_options(synchronize_session=False))
    return result.rowcount or 0


async def release_held(session: AsyncSession, person_id: int, due_at: datetime) -> int:
    """A coordinator chose "at once": what was held for the digest becomes due at `due_at`."""
    result = await session.execute(
        update(OutboxMessage).where(OutboxMessage.person_id == person_id, OutboxMessage.status == HELD)
        .values(status=PENDING, due_at=due_at).execution_options(synchronize_session=False))
    return result.rowcount or 0


async def reschedule_held(session: AsyncSession, person_id: int, due_at: datetime) -> int:
    """A coordinator chose other digest times: what is held waits for the next of them."""
    result = await session.execute(
        update(OutboxMessage).where(OutboxMessage.person_id == person_id, OutboxMessage.status == HELD)
        .values(due_at=due_at).execution_options(synchronize_session=False))
    return result.rowcount or 0


async def next_due(session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(func.min(OutboxMessage.due_at)).where(IS_PENDING))


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return {status: n for status, n in rows.all()}


def payload(row: OutboxMessage) -> dict[str, Any]:
    return json.loads(row.payload or "{}")


def ids(rows: Sequence[OutboxMessage]) -> list[int]:
    return [r.id for r in rows]
