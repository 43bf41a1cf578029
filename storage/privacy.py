"""Consent both ways, participants added after the start, data rights and closing.

- the consent a person gave (or withdrew), as stored;
- approvals: every consent giver's answer about a participant invited after the start;
- `export_person`: everything stored about a person and written by them (/mine_data);
- `erase_person`: their personal data erased, what the municipality must keep kept
  without their name (/slet_mine_data, `samspil admin erase-person`);
- `close_dialog`.

Nothing here commits; handlers and the admin command call it in their transaction.
Personal text columns are encrypted at rest (storage/types.py), so nothing here
compares them in SQL: rows are found by ids and changed in Python.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules import consent as consent_rules
from rules.access import CLOSED
from rules.roles import COORDINATOR
from storage import documents
from storage.models import (
    Approval,
    Base,
    Consent,
    Dialog,
    FsmRecord,
    InputEntry,
    Invitation,
    Meeting,
    MeetingResponse,
    OutboxMessage,
    Participant,
    Person,
    PlanAnswer,
    Registration,
    Score,
    Task,
)

# What KEEP_ON_ERASE may name (core/config.py): records the municipality must keep.
KEEPABLE = ("consents", "plan", "input", "scores")
# Stored in place of an erased person's name (the municipality's records are Danish).
ERASED_NAME = "Slettet deltager"


# ---- consent -----------------------------------------------------------------------------------


async def consents_of(session: AsyncSession, participant: Participant) -> list[Consent]:
    """Every consent answer of one seat, oldest first."""
    rows = await session.scalars(
        select(Consent).where(Consent.participant_id == participant.id).order_by(Consent.id))
    return list(rows)


def last_given(consents: Iterable[Consent]) -> Consent | None:
    given = [c for c in consents if c.answer == consent_rules.GIVEN]
    return given[-1] if given else None


# ---- participants added after the start ---------------------------------------------------------


def is_member(p: Participant) -> bool:
    """A seat that counts as part of the dialog: not awaiting the family's approval, not refused."""
    return p.approval not in (consent_rules.PENDING, consent_rules.REFUSED)


def approvers(dialog: Dialog, newcomer: Participant) -> list[Participant]:
    """Who approves a newcomer: every consent giver who has joined (and is a member)."""
    return [p for p in dialog.participants
            if p.consent_giver and p.joined_at is not None and p.person_id is not None
            and is_member(p) and p.id != newcomer.id]


async def approval_answers(session: AsyncSession, newcomer: Participant) -> dict[int, bool]:
    rows = await session.scalars(select(Approval).where(Approval.participant_id == newcomer.id))
    return {a.approver_id: a.approved for a in rows}


async def record_approval(session: AsyncSession, newcomer: Participant, approver: Participant,
                          approved: bool, now: datetime) -> str:
    """Store one consent giver's answer; returns the newcomer's approval state after it."""
    session.add(Approval(dialog_id=newcomer.dialog_id, participant_id=newcomer.id,
                         approver_id=approver.id, approved=approved, created_at=now))
    await session.flush()
    answers = await approval_answers(session, newcomer)
    state = consent_rules.approval_state([a.id for a in approvers(newcomer.dialog, newcomer)], answers)
    newcomer.approval = state
    return state


async def invitations_of(session: AsyncSession, participant: Participant) -> list[Invitation]:
    rows = await session.scalars(select(Invitation).where(Invitation.participant_id == participant.id))
    return list(rows)


async def revoke_invitations(session: AsyncSession, participant: Participant, now: datetime) -> None:
    for inv in await invitations_of(session, participant):
        if inv.revoked_at is None:
            inv.revoked_at = now


async def admit(session: AsyncSession, participant: Participant, now: datetime) -> None:
    """An approved newcomer who already opened their link is let in."""
    participant.joined_at = participant.joined_at or now
    for inv in await invitations_of(session, participant):
        if inv.used_at is None and inv.revoked_at is None:
            inv.used_at = now
    person = participant.person
    if person is not None and not person.name:
        person.name = participant.name


# ---- closing -------------------------------------------------------------------------------------


def close_dialog(dialog: Dialog, reason: str, now: datetime) -> None:
    dialog.state = CLOSED
    dialog.closed_at = now
    dialog.close_reason = reason


# ---- export (/mine_data) ---------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


async def _seats(session: AsyncSession, person: Person) -> list[Participant]:
    rows = await session.scalars(
        select(Participant).where(Participant.person_id == person.id).order_by(Participant.id))
    return list(rows)


async def export_person(session: AsyncSession, person: Person, now: datetime) -> dict[str, Any]:
    """Everything stored about `person` and written by them, as plain JSON-able data.

    Other people's drafts never appear; other people's shared input is theirs, not
    this person's, and is not part of the export either.
    """
    seats = await _seats(session, person)
    ids = [s.id for s in seats]
    by_id = {s.id: s for s in seats}

    def where(column: Any) -> Any:
        return column.in_(ids) if ids else column.in_([-1])

    consents = list(await session.scalars(select(Consent).where(where(Consent.participant_id)).order_by(Consent.id)))
    approvals = list(await session.scalars(select(Approval).where(where(Approval.approver_id)).order_by(Approval.id)))
    entries = list(await session.scalars(
        select(InputEntry).where(where(InputEntry.participant_id)).order_by(InputEntry.id)))
    scores = list(await session.scalars(select(Score).where(where(Score.participant_id)).order_by(Score.id)))
    responses = list(await session.scalars(
        select(MeetingResponse).where(where(MeetingResponse.participant_id)).order_by(MeetingResponse.id)))
    plan_answers = list(await session.scalars(
        select(PlanAnswer).where(where(PlanAnswer.participant_id)).order_by(PlanAnswer.id)))
    tasks = list(await session.scalars(select(Task).where(where(Task.owner_id)).order_by(Task.id)))
    registrations = list(await session.scalars(
        select(Registration).where(Registration.person_id == person.id).order_by(Registration.id)))
    meetings = {m.id: m for m in await session.scalars(
        select(Meeting).where(Meeting.id.in_([r.meeting_id for r in responses] or [-1])))}
    # Answers to this person that Telegram did not take at once and that wait to be sent
    # (bot/telegram.py): their text is stored until then.
    waiting = list(await session.scalars(
        select(OutboxMessage).where(OutboxMessage.person_id == person.id, OutboxMessage.body.is_not(None))
        .order_by(OutboxMessage.id)))

    return {
        "exported_at": _iso(now),
        "person": {
            "id": person.id, "telegram_id": person.telegram_id, "name": person.name,
            "language": person.locale, "staff_role": person.staff_role, "title": person.title,
            "created_at": _iso(person.created_at),
            "contact_phone": person.contact_phone, "contact_email": person.contact_email,
            "contact_hours": person.contact_hours,
        },
        "registrations": [
            {"id": r.id, "staff_role": r.staff_role, "name": r.name, "title": r.title,
             "created_at": _iso(r.created_at), "used_at": _iso(r.used_at)} for r in registrations],
        "seats": [
            {"participant_id": s.id, "dialog_id": s.dialog_id, "child": s.dialog.child_name,
             "dialog_state": s.dialog.state, "name": s.name, "role": s.role, "relation": s.relation,
             "consent_giver": s.consent_giver, "approval": s.approval, "invited_at": _iso(s.created_at),
             "joined_at": _iso(s.joined_at)} for s in seats],
        "consents": [
            {"id": c.id, "dialog_id": c.dialog_id, "participant_id": c.participant_id, "answer": c.answer,
             "at": _iso(c.created_at), "language": c.locale, "text_shown": c.text_shown,
             "participants_shown": json.loads(c.participants_shown or "[]")} for c in consents],
        "approvals_given": [
            {"id": a.id, "dialog_id": a.dialog_id, "about_participant_id": a.participant_id,
             "approved": a.approved, "at": _iso(a.created_at)} for a in approvals],
        "input_entries": [
            {"id": e.id, "dialog_id": e.dialog_id, "round": e.round_no, "area": e.area,
             "status": "shared" if e.shared_at else "draft", "worries": e.worries, "works": e.works,
             "next_steps": e.next_steps, "created_at": _iso(e.created_at), "updated_at": _iso(e.updated_at),
             "shared_at": _iso(e.shared_at)} for e in entries],
        "scores": [
            {"id": s.id, "dialog_id": s.dialog_id, "round": s.round_no, "value": s.value,
             "at": _iso(s.created_at)} for s in scores],
        "meeting_responses": [
            {"id": r.id, "meeting_id": r.meeting_id, "dialog_id": by_id[r.participant_id].dialog_id,
             "meeting_starts_at": _iso(meetings[r.meeting_id].starts_at) if r.meeting_id in meetings else None,
             "coming": r.coming, "answered_at": _iso(r.answered_at)} for r in responses],
        "plan_answers": [
            {"id": a.id, "dialog_id": a.dialog_id, "plan_version": a.plan_version, "agrees": a.agrees,
             "comment": a.comment, "at": _iso(a.created_at)} for a in plan_answers],
        "tasks": [
            {"id": t.id, "dialog_id": t.dialog_id, "what": t.what, "starts_on": _iso(t.starts_on),
             "ends_on": _iso(t.ends_on), "status": t.status, "done_at": _iso(t.done_at)} for t in tasks],
        "messages_waiting": [
            {"id": m.id, "created_at": _iso(m.created_at), "due_at": _iso(m.due_at),
             "text": json.loads(m.body).get("text")} for m in waiting],
        "audit": await _audit_rows(session, person, ids),
    }


_AUDIT_ACTOR_COLUMNS = ("actor_person_id", "actor_id", "person_id")
_AUDIT_SEAT_COLUMNS = ("actor_participant_id", "participant_id")


async def _audit_rows(session: AsyncSession, person: Person, seat_ids: list[int]) -> list[dict[str, Any]]:
    """The audit log of this person's own actions, if the installation keeps one.

    The audit table belongs to another part of Samspil (storage/audit.py); it is found by
    name, and its rows by the column that names who acted.
    """
    out: list[dict[str, Any]] = []
    for table in Base.metadata.sorted_tables:
        if "audit" not in table.name:
            continue
        conditions = [table.c[c] == person.id for c in _AUDIT_ACTOR_COLUMNS if c in table.c]
        if seat_ids:
            conditions += [table.c[c].in_(seat_ids) for c in _AUDIT_SEAT_COLUMNS if c in table.c]
        if not conditions:
            continue
        from sqlalchemy import or_

        rows = await session.execute(table.select().where(or_(*conditions)).order_by(*table.primary_key))
        out += [{k: _iso(v) for k, v in row._mapping.items()} | {"table": table.name} for row in rows]
    return out


# ---- erasure (/slet_mine_data, samspil admin erase-person) -------------------------------------------


@dataclass
class Erasure:
    """What an erasure did, in numbers (safe to log), and whom to tell."""

    seats: int = 0
    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    # (dialog id, participant id, coordinator's person id) per dialog the person was in
    tell: list[tuple[int, int, int]] = field(default_factory=list)
    # dialogs in which the person was a consent giver who had consented: withdrawn first
    withdrawn_in: list[int] = field(default_factory=list)

    def count(self, what: str, kind: str, n: int = 1) -> None:
        target = self.deleted if kind == "deleted" else self.anonymised
        target[what] = target.get(what, 0) + n


def scrub(text: str | None, names: Iterable[str]) -> str | None:
    """`text` with each of `names` (as a whole word, also HTML-escaped) replaced by ERASED_NAME."""
    if not text:
        return text
    from html import escape

    for name in sorted({n for n in names if n}, key=len, reverse=True):
        for form in {name, escape(name, quote=False), escape(name)}:
            text = re.sub(rf"(?<!\w){re.escape(form)}(?!\w)", ERASED_NAME, text)
    return text


def _scrub_list(raw: str | None, names: Iterable[str]) -> str:
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        items = []
    return json.dumps([scrub(str(i), names) for i in items], ensure_ascii=False)


async def _keep_or_delete(session: AsyncSession, result: Erasure, kept: bool, **rows: list[Any]) -> None:
    """Each table's `rows` of an erased person: counted as anonymised when the municipality keeps
    them (the caller has scrubbed what must go), else deleted."""
    for table, found in rows.items():
        if not kept:
            for row in found:
                await session.delete(row)
        result.count(table, "anonymised" if kept else "deleted", len(found))


async def erase_person(session: AsyncSession, person: Person, *, now: datetime,
                       keep: Iterable[str]) -> Erasure:
    """Erase `person`'s personal data; keep what `keep` names, without their name.

    Always goes: the name and Telegram id, drafts, meeting answers, the link between
    the person and their seats, their notices and conversation state. Kept when named
    in `keep` (else deleted): consents (and approvals they gave), plan (their tasks and
    answers to plans, comments blanked), input (shared input), scores. A consent giver
    who had consented withdraws first (the caller records that; see `withdrawn_in`).
    """
    keep = set(keep)
    result = Erasure()
    seats = await _seats(session, person)
    names = {person.name or "", *(s.name for s in seats)}
    result.seats = len(seats)

    for seat in seats:
        dialog = seat.dialog
        if seat.joined_at is None:
            # Opened a link still waiting for the family's approval: never part of the dialog.
            await session.delete(seat)
            result.count("seats", "deleted")
            continue
        if dialog.coordinator_id != person.id:
            result.tell.append((dialog.id, seat.id, dialog.coordinator_id))
        sid = seat.id

        # Consents and approvals: kept (names scrubbed) or deleted.
        own_consents = list(await session.scalars(select(Consent).where(Consent.participant_id == sid)))
        approvals = list(await session.scalars(select(Approval).where(
            (Approval.approver_id == sid) | (Approval.participant_id == sid))))
        await _keep_or_delete(session, result, "consents" in keep, consents=own_consents, approvals=approvals)

        # Input: drafts always go; shared input is kept only when the municipality must keep it.
        entries = list(await session.scalars(select(InputEntry).where(InputEntry.participant_id == sid)))
        for e in entries:
            if e.shared_at is not None and "input" in keep:
                result.count("input_entries", "anonymised")
                continue
            await session.delete(e)
            result.count("input_entries", "deleted")

        if "scores" not in keep:
            n = (await session.execute(delete(Score).where(Score.participant_id == sid))).rowcount or 0
            result.count("scores", "deleted", n)
        n = (await session.execute(delete(MeetingResponse).where(MeetingResponse.participant_id == sid))).rowcount or 0
        result.count("meeting_responses", "deleted", n)

        answers = list(await session.scalars(select(PlanAnswer).where(PlanAnswer.participant_id == sid)))
        tasks = list(await session.scalars(select(Task).where(Task.owner_id == sid)))
        if "plan" in keep:
            for a in answers:
                a.comment = None  # the agreement is the record; the comment is free text
        await _keep_or_delete(session, result, "plan" in keep, plan_answers=answers, tasks=tasks)

        await revoke_invitations(session, seat, now)
        seat.name = ERASED_NAME
        seat.opened_by = None
        seat.person_id = None

    # The name also stands in other people's kept consent records (the list they were shown).
    dialog_ids = {s.dialog_id for s in seats}
    if dialog_ids and "consents" in keep:
        for c in await session.scalars(select(Consent).where(Consent.dialog_id.in_(dialog_ids))):
            c.text_shown = scrub(c.text_shown, names) or ""
            c.participants_shown = _scrub_list(c.participants_shown, names)

    for r in await session.scalars(select(Registration).where(Registration.person_id == person.id)):
        r.name, r.title = ERASED_NAME, None
        result.count("registrations", "anonymised")

    await session.execute(delete(OutboxMessage).where(OutboxMessage.person_id == person.id))
    await documents.sweep(session)  # a document waiting only for them goes with their rows
    if person.telegram_id is not None:
        tid = person.telegram_id
        await session.execute(delete(FsmRecord).where(FsmRecord.key.like(f"%:{tid}:{tid}:%")))
    person.name = None
    person.title = None
    person.contact_phone = person.contact_email = person.contact_hours = None
    person.telegram_id = None
    person.locale = None
    person.staff_role = None
    await session.flush()
    return result


async def remove_seat(session: AsyncSession, seat: Participant, now: datetime) -> Person | None:
    """The coordinator takes someone out of a dialog (a link opened by the wrong person).

    The seat keeps its name for the record but holds nobody: the person's access ends,
    their links die, and their unshared drafts (theirs alone) go. What they shared stays
    in the dialog's record, as input shared by anyone does. Returns the person who held it.
    """
    person = await session.get(Person, seat.person_id) if seat.person_id is not None else None
    await revoke_invitations(session, seat, now)
    await session.execute(delete(InputEntry).where(InputEntry.participant_id == seat.id,
                                                   InputEntry.shared_at.is_(None)))
    seat.person_id = None
    seat.joined_at = None
    seat.approval = consent_rules.REFUSED
    seat.removed_at = now
    await session.flush()
    return person


async def coordinates_open_dialogs(session: AsyncSession, person: Person) -> bool:
    """A coordinator with dialogs that are not closed cannot simply disappear."""
    rows = await session.scalars(select(Dialog.state).where(Dialog.coordinator_id == person.id))
    return any(state != CLOSED for state in rows)


def coordinator_seat(dialog: Dialog) -> Participant | None:
    return next((p for p in dialog.participants if p.role == COORDINATOR), None)
