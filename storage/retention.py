"""Retention: what is deleted, and when.

- **Closed dialogs** (`state == "closed"`) are deleted `RETENTION_DAYS` after
  `closed_at`, with everything hanging off them: every table that refers to a
  dialog (or to a participant, meeting or goal of one) does so with
  `ON DELETE CASCADE` (tests/test_retention.py checks the models *and* the
  migrated database). People whose only seats were in the deleted dialogs, and
  who are not staff, are deleted too: nothing is left that needs their name.
- **Housekeeping**, after `HOUSEKEEPING_DAYS` (30): invitation and registration
  links that expired unused (the grace lets a late opener still hear "this link
  has expired"), finished notices (sent, skipped, failed, cancelled), handled
  update ids (Telegram redelivers for 24 hours at most) and conversation state
  left idle (what someone had begun typing). Overdue digests are kept longer:
  they remember which tasks were reported (storage/plan.py), and the digest
  looks back `services.plan.OVERDUE_WINDOW_DAYS` (60).
- **The audit log stays**: it holds ids only and has no foreign keys, so it
  never blocks a deletion; each deleted dialog adds a `dialog.deleted` event.

`RetentionJob` runs this once a day from the outbox scheduler, in short
transactions of its own; `samspil admin purge [--dry-run]` runs it by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, documents
from storage.models import (
    CLOSED,
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
from storage.outbox import CANCELLED, FAILED, SENT, SKIPPED
from storage.plan import OVERDUE_KIND

log = logging.getLogger("samspil.retention")

HOUSEKEEPING_DAYS = 30
# Overdue digests are how the daily digest remembers reported tasks; it looks back 60 days.
OVERDUE_DIGEST_KEEP_DAYS = 120
FINISHED = (SENT, SKIPPED, FAILED, CANCELLED)
DIALOG_BATCH = 50  # dialogs per transaction
ROW_BATCH = 5000  # housekeeping rows per kind and transaction

# (kind, label) in the order they are reported.
KINDS = [
    ("dialogs", "closed dialogs past retention"),
    ("people", "people left without any dialog"),
    ("invitations", "expired unused invitations"),
    ("registrations", "expired unused registrations"),
    ("notices", "finished notices"),
    ("updates", "handled update ids"),
    ("conversations", "idle conversation states"),
]


@dataclass
class PurgeReport:
    now: datetime
    retention_days: int
    dry_run: bool
    dialog_ids: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # Rows that go with the dialogs, per table (tables with a dialog_id).
    with_dialogs: dict[str, int] = field(default_factory=dict)
    more: bool = False  # a batch limit was reached: run again

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        verb = "Would delete" if self.dry_run else "Deleted"
        cutoff = self.now - timedelta(days=self.retention_days)
        out = [f"{verb} (RETENTION_DAYS={self.retention_days}: dialogs closed before "
               f"{cutoff:%Y-%m-%d %H:%M} UTC; housekeeping after {HOUSEKEEPING_DAYS} days):"]
        for kind, label in KINDS:
            n = self.counts.get(kind, 0)
            line = f"  {label}: {n}"
            if kind == "dialogs" and self.dialog_ids:
                line += f" (ids {', '.join(map(str, self.dialog_ids))})"
            out.append(line)
            if kind == "dialogs" and self.with_dialogs:
                out.append("    with them: " + ", ".join(f"{t} {n}" for t, n in self.with_dialogs.items()))
        if self.more:
            out.append("  (more remain than one batch: run again)")
        return out


# ---- what is due ---------------------------------------------------------------------------


def _expired_dialogs(now: datetime, retention_days: int) -> ColumnElement[bool]:
    return and_(Dialog.state == CLOSED, Dialog.closed_at.is_not(None),
                Dialog.closed_at <= now - timedelta(days=retention_days))


def _housekeeping(now: datetime) -> dict[str, tuple[Any, Any, ColumnElement[bool]]]:
    """kind -> (model, primary key column, condition)."""
    cutoff = now - timedelta(days=HOUSEKEEPING_DAYS)
    digest_cutoff = now - timedelta(days=OVERDUE_DIGEST_KEEP_DAYS)

    def finished_before(when: datetime) -> ColumnElement[bool]:
        return and_(OutboxMessage.status.in_(FINISHED), OutboxMessage.due_at < when,
                    or_(OutboxMessage.sent_at.is_(None), OutboxMessage.sent_at < when))

    return {
        "invitations": (Invitation, Invitation.id,
                        and_(Invitation.used_at.is_(None), Invitation.expires_at < cutoff)),
        "registrations": (Registration, Registration.id,
                          and_(Registration.used_at.is_(None), Registration.expires_at < cutoff)),
        "notices": (OutboxMessage, OutboxMessage.id, or_(
            and_(OutboxMessage.kind != OVERDUE_KIND, finished_before(cutoff)),
            and_(OutboxMessage.kind == OVERDUE_KIND, finished_before(digest_cutoff)))),
        "updates": (ProcessedUpdate, ProcessedUpdate.update_id, ProcessedUpdate.processed_at < cutoff),
        "conversations": (FsmRecord, FsmRecord.key, FsmRecord.updated_at < cutoff),
    }


def _dialog_tables() -> list[Table]:
    """Tables with a dialog_id that refers to the dialog (the audit log has none: it stays)."""
    tables = []
    for table in Base.metadata.sorted_tables:
        col = table.c.get("dialog_id")
        if col is not None and any(fk.column.table.name == "dialog" for fk in col.foreign_keys):
            tables.append(table)
    return tables


async def _orphans(session: AsyncSession, dialog_ids: list[int]) -> list[int]:
    """Non-staff people seated in these dialogs and in no other."""
    seated = select(Participant.person_id).where(
        Participant.dialog_id.in_(dialog_ids), Participant.person_id.is_not(None))
    elsewhere = select(Participant.person_id).where(
        Participant.dialog_id.not_in(dialog_ids), Participant.person_id.is_not(None))
    coordinators = select(Dialog.coordinator_id).where(Dialog.id.not_in(dialog_ids))
    rows = await session.scalars(select(Person.id).where(
        Person.id.in_(seated), Person.staff_role.is_(None), Person.id.not_in(elsewhere),
        Person.id.not_in(coordinators)).order_by(Person.id))
    return list(rows)


async def survey(session: AsyncSession, now: datetime, retention_days: int) -> PurgeReport:
    """What a purge would delete now; changes nothing."""
    report = PurgeReport(now, retention_days, dry_run=True)
    report.dialog_ids = list(await session.scalars(
        select(Dialog.id).where(_expired_dialogs(now, retention_days)).order_by(Dialog.id)))
    report.counts["dialogs"] = len(report.dialog_ids)
    report.counts["people"] = len(await _orphans(session, report.dialog_ids)) if report.dialog_ids else 0
    if report.dialog_ids:
        for table in _dialog_tables():
            n = await session.scalar(select(func.count()).select_from(table)
                                     .where(table.c.dialog_id.in_(report.dialog_ids)))
            if n:
                report.with_dialogs[table.name] = n
    for kind, (model, _pk, condition) in _housekeeping(now).items():
        report.counts[kind] = await session.scalar(select(func.count()).select_from(model).where(condition)) or 0
    return report


# ---- deleting ------------------------------------------------------------------------------------


async def purge_dialogs(session: AsyncSession, now: datetime, retention_days: int, *,
                        limit: int = DIALOG_BATCH, actor_role: str = audit.SYSTEM_ROLE,
                        report: PurgeReport | None = None) -> PurgeReport:
    """Delete up to `limit` expired dialogs (and the people left without any) in the caller's
    transaction; a `dialog.deleted` audit event for each."""
    report = report or PurgeReport(now, retention_days, dry_run=False)
    report.counts.setdefault("dialogs", 0)
    report.counts.setdefault("people", 0)
    ids = list(await session.scalars(
        select(Dialog.id).where(_expired_dialogs(now, retention_days)).order_by(Dialog.id).limit(limit + 1)))
    if len(ids) > limit:
        ids, report.more = ids[:limit], True
    if not ids:
        return report
    orphans = await _orphans(session, ids)
    for table in _dialog_tables():
        n = await session.scalar(select(func.count()).select_from(table).where(table.c.dialog_id.in_(ids)))
        if n:
            report.with_dialogs[table.name] = report.with_dialogs.get(table.name, 0) + n
    # The database cascades to everything hanging off each dialog (ON DELETE CASCADE).
    await session.execute(delete(Dialog).where(Dialog.id.in_(ids)).execution_options(synchronize_session=False))
    if orphans:
        await session.execute(delete(Person).where(Person.id.in_(orphans))
                              .execution_options(synchronize_session=False))
    for dialog_id in ids:
        await audit.record(session, actor_id=None, dialog_id=dialog_id, action=audit.DIALOG_DELETED,
                           now=now, role=actor_role)
    report.dialog_ids += ids
    report.counts["dialogs"] = report.counts.get("dialogs", 0) + len(ids)
    report.counts["people"] = report.counts.get("people", 0) + len(orphans)
    return report


async def anything_due(session: AsyncSession, now: datetime, retention_days: int) -> bool:
    """A cheap look (reads only, each stopping at the first row) before any write transaction."""
    checks = [select(Dialog.id).where(_expired_dialogs(now, retention_days)).limit(1)]
    checks += [select(pk).where(condition).limit(1) for _m, pk, condition in _housekeeping(now).values()]
    for check in checks:
        if await session.scalar(check) is not None:
            return True
    return False


async def purge_housekeeping(session: AsyncSession, now: datetime, *, limit: int = ROW_BATCH,
                             report: PurgeReport) -> PurgeReport:
    """Delete up to `limit` rows of each housekeeping kind in the caller's transaction."""
    for kind, (model, pk, condition) in _housekeeping(now).items():
        ids = select(pk).where(condition).limit(limit).scalar_subquery()
        result = await session.execute(delete(model).where(pk.in_(ids))
                                       .execution_options(synchronize_session=False))
        n = result.rowcount or 0
        report.counts[kind] = report.counts.get(kind, 0) + n
        if n >= limit:
            report.more = True
    return report


async def purge(sessionmaker: Any, now: datetime, retention_days: int, *,
                actor_role: str = audit.SYSTEM_ROLE, max_rounds: int | None = None) -> PurgeReport:
    """Delete everything due, batch by batch, each batch its own short transaction."""
    report = PurgeReport(now, retention_days, dry_run=False)
    rounds = 0
    while True:
        report.more = False
        async with sessionmaker() as session, session.begin():
            await purge_dialogs(session, now, retention_days, actor_role=actor_role, report=report)
        more = report.more
        async with sessionmaker() as session, session.begin():
            await purge_housekeeping(session, now, report=report)
        report.more = report.more or more
        async with sessionmaker() as session, session.begin():
            await documents.sweep(session)  # any document nobody waits for any more (an erased person's)
        rounds += 1
        if not report.more or (max_rounds is not None and rounds >= max_rounds):
            return report


class RetentionJob:
    """The scheduler's daily purge (handlers.routers.all_jobs): the first round of each local date.

    It works in short transactions of its own (not the round's), so a failure here
    never holds back the notices; it is logged (ids and counts only) and tried again
    the next day. Several processes may run it: the second finds nothing left.
    """

    def __init__(self, max_rounds: int = 20) -> None:
        self.done_on: date | None = None
        self.max_rounds = max_rounds

    async def __call__(self, session: AsyncSession, notices: Any, now: datetime) -> None:
        settings = notices.settings
        today = now.astimezone(settings.tz).date()
        if self.done_on == today:
            return
        self.done_on = today
        engine = session.bind

        def sessionmaker() -> AsyncSession:
            return AsyncSession(engine, expire_on_commit=False)

        try:
            async with sessionmaker() as look:
                if not await anything_due(look, now, settings.retention_days):
                    return
            report = await purge(sessionmaker, now, settings.retention_days, max_rounds=self.max_rounds)
        except Exception as exc:  # never stop the scheduler round; tomorrow is another try
            log.error("retention purge failed error=%s", type(exc).__name__)
            return
        if report.more:
            self.done_on = None  # more than a day's batches: go on next round
        if report.total:
            log.info("retention purge dialogs=%s %s", report.dialog_ids,
                     " ".join(f"{k}={v}" for k, v in report.counts.items() if v))
