"""The audit log: every read of a dialog's content, every consent event and every deletion.

Who (a person id), what (an action and ids) and when. Never the content: the
record takes ids only, as integers, so a name or a text cannot get in by mistake.

Call it with the session of the read, in the same transaction, *before* or right
after composing what is shown (if the update fails, neither the read nor its
record happens):

    from storage import audit

    await audit.record(session, actor_id=person.id, dialog_id=dialog.id,
                       action=audit.OVERVIEW_SHOWN, round_no=dialog.round_no)
    await audit.record(session, actor_id=person.id, dialog_id=dialog.id,
                       action=audit.REPORT_PDF, round_no=2, meeting_id=meeting.id)
    await audit.record(session, actor_id=None, dialog_id=None,            # the system / admin
                       action=audit.PERSON_DELETED, person_id=7)

Ids: `round_no`, `entry_id` and `participant_id` have their own columns; any
other keyword ending in `_id` or `_no` (meeting_id, consent_id, page_no ...) is
kept too. The actor's role in the dialog is looked up (or pass `role=`).

`samspil admin audit --dialog N` prints a dialog's log (bot/admin.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent, Participant, Person

# ---- actions ------------------------------------------------------------------------------
# Reads of a dialog's content
OVERVIEW_SHOWN = "overview.shown"        # /oversigt, first page
OVERVIEW_PAGED = "overview.paged"        # another page, area or round of the overview
OVERVIEW_PDF = "overview.pdf"            # the overview downloaded as a PDF
ASSESSMENT_SHOWN = "assessment.shown"    # /vurdering (fælles vurdering)
PLAN_SHOWN = "plan.shown"                # Mål & Plan shown
REPORT_PDF = "report.pdf"                # the meeting report (referat) downloaded or sent
EXPORT = "data.export"                   # a person's or a dialog's data exported
# Consent events (the answer itself is the action)
CONSENT_GIVEN = "consent.given"
CONSENT_TALK_FIRST = "consent.talk_first"
CONSENT_DECLINED = "consent.declined"
CONSENT_WITHDRAWN = "consent.withdrawn"
APPROVAL_GIVEN = "approval.given"        # a consent giver approves a participant added later
APPROVAL_REFUSED = "approval.refused"
PARTICIPANT_REMOVED = "participant.removed"  # the coordinator took someone out of a dialog
# The coordinator acting for a participant without Telegram (services/on_behalf.py): the actor is
# the coordinator, `participant_id` the seat acted for.
OFFLINE_SEAT_ADDED = "on_behalf.seat_added"      # a participant without Telegram (no link)
ON_BEHALF_CONSENT_GIVEN = "on_behalf.consent_given"
ON_BEHALF_CONSENT_DECLINED = "on_behalf.consent_declined"
ON_BEHALF_CONSENT_WITHDRAWN = "on_behalf.consent_withdrawn"
ON_BEHALF_INPUT_WRITTEN = "on_behalf.input_written"  # a box of their draft
ON_BEHALF_INPUT_SHARED = "on_behalf.input_shared"
ON_BEHALF_INPUT_DELETED = "on_behalf.input_deleted"  # their draft
ON_BEHALF_SCORE = "on_behalf.score"              # their number on the ruler
DIALOG_HANDED_OVER = "dialog.handed_over"  # to another coordinator (from_person_id, to_person_id)
# Deletions
DIALOG_DELETED = "dialog.deleted"        # retention (storage/retention.py) or by hand
PERSON_DELETED = "person.deleted"        # a person's data erased
ENTRY_DELETED = "entry.deleted"

SYSTEM_ROLE = "system"

_ACTION = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
_ID_NAME = re.compile(r"^[a-z][a-z0-9_]*_(id|no)$")
_COLUMNS = ("round_no", "entry_id", "participant_id")


def consent_action(answer: str) -> str:
    """The action for a consent answer (rules/consent.py: given | talk_first | declined | withdrawn)."""
    return _checked_action(f"consent.{answer}")


def _checked_action(action: str) -> str:
    if not isinstance(action, str) or len(action) > 40 or not _ACTION.match(action):
        raise ValueError(f"audit action must look like 'thing.verb' (a-z and _), got {action!r:.60}")
    return action


def _checked_ids(ids: dict[str, object]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for name, value in ids.items():
        if not _ID_NAME.match(name):
            raise ValueError(f"audit ids are named *_id or *_no, got {name!r}")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"audit id {name} must be an int (never content), got {type(value).__name__}")
        out[name] = value
    return out


async def record(
    session: AsyncSession, *, actor_id: int | None, dialog_id: int | None, action: str,
    now: datetime | None = None, role: str | None = None, **ids: int | None,
) -> AuditEvent:
    """Log one event in the caller's transaction (nothing is committed here).

    actor_id: the person who read or acted (None: the system, e.g. the retention job).
    dialog_id: the dialog concerned (None for events about a person only).
    now: the app clock's time (default: the real time).
    role: the actor's role; looked up from their seat in the dialog when not given.
    ids: round_no, entry_id, participant_id and any other *_id / *_no, integers only.
    """
    action = _checked_action(action)
    checked = _checked_ids(ids)
    if actor_id is not None and (isinstance(actor_id, bool) or not isinstance(actor_id, int)):
        raise TypeError("actor_id must be a person id")
    if dialog_id is not None and (isinstance(dialog_id, bool) or not isinstance(dialog_id, int)):
        raise TypeError("dialog_id must be a dialog id")
    if role is None:
        role = await _role_of(session, actor_id, dialog_id)
    others = {k: v for k, v in checked.items() if k not in _COLUMNS and v is not None}
    event = AuditEvent(
        at=now or datetime.now(UTC), actor_id=actor_id, actor_role=role, dialog_id=dialog_id,
        action=action, round_no=checked.get("round_no"), entry_id=checked.get("entry_id"),
        participant_id=checked.get("participant_id"),
        other_ids=json.dumps(others, sort_keys=True) if others else None,
    )
    session.add(event)
    await session.flush()
    return event


async def _role_of(session: AsyncSession, actor_id: int | None, dialog_id: int | None) -> str | None:
    if actor_id is None:
        return SYSTEM_ROLE
    if dialog_id is not None:
        role = await session.scalar(select(Participant.role).where(
            Participant.dialog_id == dialog_id, Participant.person_id == actor_id))
        if role is not None:
            return role
    return await session.scalar(select(Person.staff_role).where(Person.id == actor_id))


# ---- reading the log ----------------------------------------------------------------------


async def events(session: AsyncSession, *, dialog_id: int | None = None, actor_id: int | None = None
                 ) -> Sequence[AuditEvent]:
    """Events of a dialog (and/or by an actor), oldest first."""
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if dialog_id is not None:
        stmt = stmt.where(AuditEvent.dialog_id == dialog_id)
    if actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    return list(await session.scalars(stmt))


def ids_of(event: AuditEvent) -> dict[str, int]:
    """Every id of an event, by name (dialog, round, entry, participant and the others)."""
    out: dict[str, int] = {}
    if event.dialog_id is not None:
        out["dialog_id"] = event.dialog_id
    for name in _COLUMNS:
        value = getattr(event, name)
        if value is not None:
            out[name] = value
    if event.other_ids:
        out.update(json.loads(event.other_ids))
    return out
