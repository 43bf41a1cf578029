"""Who may do what in a dialog: role x dialog state x action.

Every handler asks `decide` before it reads or changes a dialog's content, with
the participant row it found for the sender on the server. Callback data and
deep-link parameters only name things; they never grant anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rules.roles import COORDINATOR, is_consent_giver

AWAITING_CONSENT = "awaiting_consent"
ACTIVE = "active"
PAUSED = "paused"
CLOSED = "closed"
STATES = (AWAITING_CONSENT, ACTIVE, PAUSED, CLOSED)


class Action(StrEnum):
    VIEW_PURPOSE = "view_purpose"  # purpose, coordinator, participant list
    CONSENT = "consent"  # give, ask to talk first, decline
    INVITE = "invite"  # add a participant
    WRITE_INPUT = "write_input"  # drafts: write, edit, delete, share
    SCALE = "scale"
    READ_SHARED = "read_shared"  # others' shared input, scores, plan, overview
    MANAGE = "manage"  # coordinator's meeting and plan (active dialogs only)
    CLOSE = "close"  # the coordinator closes the dialog (also while paused or awaiting consent)
    APPROVE = "approve"  # a consent giver approves (or refuses) a participant added after the start
    DESK = "desk"  # the coordinator's desk (/dialoger): a dialog's card and marking it seen, in every state
    HAND_OVER = "hand_over"  # the coordinator hands the dialog to another coordinator (not after closing)


class Refusal(StrEnum):
    NOT_PARTICIPANT = "not_participant"
    NOT_JOINED = "not_joined"
    AWAITING_CONSENT = "awaiting_consent"
    PAUSED = "paused"
    CLOSED = "closed"
    NOT_COORDINATOR = "not_coordinator"
    NOT_CONSENT_GIVER = "not_consent_giver"
    # decide_for: the participant uses Telegram (they do it themselves), or it is nothing the
    # coordinator does for anyone.
    NOT_OFFLINE = "not_offline"


@dataclass(frozen=True)
class Seat:
    """What the rules need to know about the sender's place in one dialog."""

    role: str
    consent_giver: bool
    joined: bool
    offline: bool = False  # takes part without Telegram: the coordinator acts for them (decide_for)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    refusal: Refusal | None = None

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def _deny(reason: Refusal) -> Decision:
    return Decision(False, reason)


_STATE_REFUSAL = {
    AWAITING_CONSENT: Refusal.AWAITING_CONSENT,
    PAUSED: Refusal.PAUSED,
    CLOSED: Refusal.CLOSED,
}


def decide(seat: Seat | None, state: str, action: Action) -> Decision:
    """May the holder of `seat` do `action` in a dialog in `state`?"""
    if seat is None:
        return _deny(Refusal.NOT_PARTICIPANT)
    if not seat.joined and seat.role != COORDINATOR:
        return _deny(Refusal.NOT_JOINED)
    coordinator = seat.role == COORDINATOR

    if action is Action.VIEW_PURPOSE:
        # The consent giver has to see what they are asked to consent to. Anyone else
        # learns whom the dialog is about only once the family has said yes: a link
        # forwarded to the wrong person must not tell them the child's name.
        if state == AWAITING_CONSENT and not (coordinator or seat.consent_giver):
            return _deny(Refusal.AWAITING_CONSENT)
        return ALLOW if state != CLOSED or coordinator else _deny(Refusal.CLOSED)

    if action in (Action.CONSENT, Action.APPROVE):
        if not (seat.consent_giver and is_consent_giver(seat.role)):
            return _deny(Refusal.NOT_CONSENT_GIVER)
        return ALLOW if state in (AWAITING_CONSENT, ACTIVE, PAUSED) else _deny(Refusal.CLOSED)

    if action is Action.DESK:
        return ALLOW if coordinator else _deny(Refusal.NOT_COORDINATOR)

    if action in (Action.INVITE, Action.MANAGE, Action.CLOSE, Action.HAND_OVER):
        if not coordinator:
            return _deny(Refusal.NOT_COORDINATOR)
        if state == CLOSED:
            return _deny(Refusal.CLOSED)
        if action is Action.MANAGE and state != ACTIVE:
            return _deny(_STATE_REFUSAL[state])
        return ALLOW

    # Content of the dialog: only while it is active (consent given, not paused).
    if state != ACTIVE:
        return _deny(_STATE_REFUSAL[state])
    return ALLOW


# What the coordinator may do for a participant without Telegram: what that participant would do
# themselves in the bot. Reading, inviting, managing are the coordinator's own actions already.
ON_BEHALF = frozenset({Action.CONSENT, Action.WRITE_INPUT, Action.SCALE})


def decide_for(actor: Seat | None, target: Seat | None, state: str, action: Action) -> Decision:
    """May the holder of `actor` do `action` for the participant holding `target`?

    Only the dialog's coordinator, only for a participant without Telegram (anyone in Telegram
    answers for themselves, and nobody else writes in their name), only what that participant
    could do themselves: consent where they give it; their input and their number while the
    dialog is active; nothing before the family has approved them (added after the start).
    """
    if actor is None:
        return _deny(Refusal.NOT_PARTICIPANT)
    if actor.role != COORDINATOR:
        return _deny(Refusal.NOT_COORDINATOR)
    if target is None:
        return _deny(Refusal.NOT_PARTICIPANT)
    if not target.offline or action not in ON_BEHALF:
        return _deny(Refusal.NOT_OFFLINE)
    return decide(target, state, action)


def shows_child_name(seat: Seat | None, state: str) -> bool:
    """Whether the holder of `seat` may be told the child's name (see VIEW_PURPOSE)."""
    if seat is None:
        return False
    return state != AWAITING_CONSENT or seat.role == COORDINATOR or seat.consent_giver


# Notices that still go out while a dialog is paused or closed: they are about the
# dialog's consent and membership itself, not its content. Everything else waits
# for an active dialog and is skipped (bot/scheduler.py asks `notice_goes_out`).
NOTICES_WHILE_PAUSED = frozenset({
    "consent_answer",  # to the coordinator: a consent answer, a withdrawal
    "joined",  # to the coordinator: someone opened their link
    "unreachable",  # to the coordinator: someone blocked the bot
    "newcomer_approval", "newcomer_approved", "newcomer_refused", "newcomer_welcome",
    "invitation_withdrawn",
    "person_erased",
    "seat_removed", "seat_removed_you",  # the coordinator took someone out of the dialog
    "handover", "handover_new", "handover_old",  # the dialog has a new coordinator (services/handover.py)
    "family_message",  # to the coordinator: a family member's own message (e.g. about the withdrawal)
})
# A document decided while the dialog was open (the referat of its last meeting, a PDF someone
# asked for) still reaches its recipients when the dialog is closed meanwhile; while consent is
# withdrawn (paused) it does not: nobody gets the dialog's content then.
NOTICES_WHEN_CLOSED = frozenset({"dialog_closed", "person_erased", "unreachable", "document"})


def notice_goes_out(kind: str, state: str) -> bool:
    """May a notice of `kind` about a dialog in `state` be sent now?

    While the family's consent is withdrawn (paused) nobody hears about the
    dialog's content: no reminders, no meeting or plan notices. Only the
    coordinator and the family hear what concerns consent and who takes part.
    """
    if state == PAUSED:
        return kind in NOTICES_WHILE_PAUSED
    if state == CLOSED:
        return kind in NOTICES_WHEN_CLOSED
    return True
