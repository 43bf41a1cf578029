"""The coordinator's desk (`/dialoger`): the facts about all of a coordinator's dialogs, at once.

`gather` reads everything rules/desk.py needs about every dialog a coordinator leads in a
fixed number of queries (about ten, however many dialogs: no query per dialog) and returns
the dialogs in the order of what needs the coordinator now. `mark_seen` remembers that the
coordinator has seen the dialog's safeguarding alerts and messages (storage/models.DeskMark).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules import consent as consent_rules
from rules import desk as rules
from rules.access import ACTIVE, CLOSED
from rules.roles import COORDINATOR
from storage import meetings as mt
from storage import plan as pl
from storage.models import (
    Consent,
    DeskMark,
    Dialog,
    InputEntry,
    Meeting,
    OutboxMessage,
    Participant,
    Score,
    Task,
)

FAMILY_MESSAGE = "family_message"  # the outbox kind of a message from the family (handlers/loose_text.py)
REFUSING = (consent_rules.DECLINED, consent_rules.WITHDRAWN)


@dataclass
class Desk:
    items: list[rules.Item]  # every dialog, in the order of what needs the coordinator
    dialogs: dict[int, Dialog]


def _threshold(thresholds: Mapping[str, int]):  # type: ignore[no-untyped-def]
    """SQL: a score in its ruler's highest field (each age group has its own ruler)."""
    return or_(*(and_(Dialog.age_group == age, Score.value >= low) for age, low in thresholds.items()))


def _members(dialog: Dialog) -> list[Participant]:
    """Joined participants other than the coordinator, still in the dialog."""
    return [p for p in dialog.participants if p.role != COORDINATOR and p.person_id is not None
            and p.joined_at is not None and p.removed_at is None]


async def gather(session: AsyncSession, coordinator_id: int, *, now: datetime, today: date,
                 thresholds: Mapping[str, int], consent_wait_days: int = rules.CONSENT_WAIT_DAYS,
                 dialog_id: int | None = None) -> Desk:
    """Every dialog `coordinator_id` leads (or just `dialog_id` of them), ordered by what needs them.

    `thresholds`: per age group, the lowest score of the ruler's highest field (a safeguarding
    alert); `today`: the coordinator's local date (overdue tasks).
    """
    where = [Dialog.coordinator_id == coordinator_id]
    if dialog_id is not None:
        where.append(Dialog.id == dialog_id)
    dialogs = {d.id: d for d in await session.scalars(select(Dialog).where(*where).order_by(Dialog.id))}
    # The dialogs that may need something: every one but the closed (a subquery, not a list of ids).
    open_ids = select(Dialog.id).where(*where, Dialog.state != CLOSED).scalar_subquery()
    facts: dict[int, dict] = {i: {} for i, d in dialogs.items() if d.state != CLOSED}  # type: ignore[type-arg]

    if facts:
        marks = {m.dialog_id: m for m in await session.scalars(
            select(DeskMark).where(DeskMark.dialog_id.in_(open_ids)))}

        # Safeguarding alerts: scores in the highest field, by anyone but the coordinator, not yet seen.
        seen_alert = func.coalesce(DeskMark.alert_score_id, 0)
        rows = await session.execute(
            select(Score.dialog_id, func.count(), func.max(Score.created_at))
            .join(Dialog, Dialog.id == Score.dialog_id)
            .join(Participant, Participant.id == Score.participant_id)
            .outerjoin(DeskMark, DeskMark.dialog_id == Score.dialog_id)
            .where(Score.dialog_id.in_(open_ids), Participant.role != COORDINATOR, _threshold(thresholds),
                   Score.id > seen_alert)
            .group_by(Score.dialog_id))
        for did, n, at in rows.all():
            facts[did].update(unseen_alerts=n, alert_at=at)

        # Messages from the family not yet seen.
        rows = await session.execute(
            select(OutboxMessage.dialog_id, func.count(), func.max(OutboxMessage.created_at))
            .outerjoin(DeskMark, DeskMark.dialog_id == OutboxMessage.dialog_id)
            .where(OutboxMessage.dialog_id.in_(open_ids), OutboxMessage.kind == FAMILY_MESSAGE,
                   OutboxMessage.id > func.coalesce(DeskMark.message_id, 0))
            .group_by(OutboxMessage.dialog_id))
        for did, n, at in rows.all():
            facts[did].update(messages=n, message_at=at)

        # Consent: each participant's latest answer.
        last = (select(func.max(Consent.id)).where(Consent.dialog_id.in_(open_ids))
                .group_by(Consent.participant_id).scalar_subquery())
        latest: dict[int, Consent] = {c.participant_id: c for c in await session.scalars(
            select(Consent).where(Consent.id.in_(last)))}

        # Tasks: "Brug for hjælp", and overdue ones (not done, end date passed).
        rows = await session.execute(
            select(Task.dialog_id,
                   func.sum(case((Task.status == pl.HELP, 1), else_=0)),
                   func.sum(case((and_(Task.status.in_(pl.NOT_DONE), Task.ends_on < today), 1), else_=0)))
            .where(Task.dialog_id.in_(open_ids)).group_by(Task.dialog_id))
        tasks = {did: (int(h or 0), int(o or 0)) for did, h, o in rows.all()}

        # Meetings: the next live one, the last closed one.
        rows = await session.execute(
            select(Meeting.dialog_id, Meeting.status, func.min(Meeting.starts_at), func.max(Meeting.closed_at))
            .where(Meeting.dialog_id.in_(open_ids), Meeting.status.in_((*mt.LIVE, mt.CLOSED)))
            .group_by(Meeting.dialog_id, Meeting.status))
        meetings: dict[int, dict[str, tuple[datetime | None, datetime | None]]] = defaultdict(dict)
        for did, status, starts, closed in rows.all():
            meetings[did][status] = (starts, closed)

        # Who has shared input, and who has a number, in the dialog's current round.
        shared = {(did, pid) for did, pid in (await session.execute(
            select(InputEntry.dialog_id, InputEntry.participant_id).distinct()
            .join(Dialog, and_(Dialog.id == InputEntry.dialog_id, Dialog.round_no == InputEntry.round_no))
            .where(InputEntry.dialog_id.in_(open_ids), InputEntry.shared_at.is_not(None)))).all()}
        scored = {(did, pid) for did, pid in (await session.execute(
            select(Score.dialog_id, Score.participant_id).distinct()
            .join(Dialog, and_(Dialog.id == Score.dialog_id, Dialog.round_no == Score.round_no))
            .where(Score.dialog_id.in_(open_ids)))).all()}

        for did, f in facts.items():
            d = dialogs[did]
            mark = marks.get(did)
            givers = [p for p in d.participants if p.consent_giver and p.removed_at is None]
            answers = {p.id: latest[p.id] for p in givers if p.id in latest}
            seen_consent = (mark.consent_id or 0) if mark else 0
            f["refused"] = sum(1 for c in answers.values() if c.answer in REFUSING)
            f["talk_first"] = sum(1 for c in answers.values()
                                  if c.answer == consent_rules.TALK_FIRST and c.id > seen_consent)
            if f["talk_first"]:
                newest = max(c.created_at for c in answers.values() if c.answer == consent_rules.TALK_FIRST)
                f["message_at"] = max(filter(None, (f.get("message_at"), newest)))
            missing = [p for p in givers if p.id not in answers or answers[p.id].answer != consent_rules.GIVEN]
            f["consent_givers"] = len(givers)
            f["consent_missing"] = len(missing)
            f["consent_since"] = min((p.created_at for p in missing), default=None)
            help_tasks, overdue = tasks.get(did, (0, 0))
            accepted = d.plan_version > 0 and d.plan_accepted_version == d.plan_version
            f["help_tasks"] = help_tasks
            f["overdue_tasks"] = overdue if accepted else 0
            f["plan_waiting"] = d.plan_version > d.plan_accepted_version
            m = meetings.get(did, {})
            live = [m[s][0] for s in mt.LIVE if s in m]
            f["meeting_running"] = mt.OPEN in m
            f["next_meeting_at"] = min(live) if live else None
            f["last_closed_at"] = m[mt.CLOSED][1] if mt.CLOSED in m else None
            f["activated_at"] = d.activated_at
            if d.state == ACTIVE:
                f["missing_input"] = sum(1 for p in _members(d)
                                         if (did, p.id) not in shared or (did, p.id) not in scored)

    all_facts = [rules.Facts(dialog_id=i, state=d.state, created_at=d.created_at, closed_at=d.closed_at,
                             **facts.get(i, {})) for i, d in dialogs.items()]
    items = rules.order(all_facts, now, consent_wait_days=consent_wait_days)
    return Desk(items, dialogs)


async def mark_seen(session: AsyncSession, dialog: Dialog, *, thresholds: Mapping[str, int], by_id: int | None,
                    now: datetime) -> DeskMark:
    """The coordinator has seen the dialog's alerts, messages and consent answers as they are now."""
    low = thresholds.get(dialog.age_group, 11)
    alert = await session.scalar(
        select(func.max(Score.id)).join(Participant, Participant.id == Score.participant_id)
        .where(Score.dialog_id == dialog.id, Score.value >= low, Participant.role != COORDINATOR))
    message = await session.scalar(select(func.max(OutboxMessage.id)).where(
        OutboxMessage.dialog_id == dialog.id, OutboxMessage.kind == FAMILY_MESSAGE))
    consent = await session.scalar(select(func.max(Consent.id)).where(Consent.dialog_id == dialog.id))
    mark = await session.get(DeskMark, dialog.id)
    if mark is None:
        mark = DeskMark(dialog_id=dialog.id, seen_at=now)
        session.add(mark)
    mark.alert_score_id, mark.message_id, mark.consent_id = alert, message, consent
    mark.seen_at, mark.seen_by_id = now, by_id
    await session.flush()
    return mark
