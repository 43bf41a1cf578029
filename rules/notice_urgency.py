"""Which of a coordinator's notices go at once and which wait for the digest.

A coordinator with forty dialogs should hear at once what needs a person now, and
the rest (someone opened the link, shared input, answered the meeting invitation,
did a task) a few times a day, gathered in one message (bot/digest.py). This table
decides, for notices to the dialog's coordinator only; every other recipient's
notices go as they always did.

- URGENT: at once, also in quiet hours and whatever the coordinator chose.
- ROUTINE: into the coordinator's digest (or, if they chose "at once", at once
  outside quiet hours).
- DIRECT: at once, as before: an answer to the coordinator's own action, a
  document, a reminder about their own task or meeting, a notice to another role.

A kind missing from the table goes at once (DIRECT): nothing unknown is ever held.
tests/test_rules_notice_urgency.py checks that every notice kind the bot has is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules import consent as consent_rules

URGENT, ROUTINE, DIRECT = "urgent", "routine", "direct"

# One entry per notice kind (`@renderer("kind")`). consent_answer depends on the answer.
KINDS: dict[str, str] = {
    # Urgent: safeguarding, consent refused, a family member who wants the coordinator,
    # a task owner who needs help, someone the bot can no longer reach.
    "high_score": URGENT,          # a number in the highest field of the ruler (safeguarding)
    "family_message": URGENT,      # a message from a family member to the coordinator
    "plan_comment": URGENT,        # a consent giver's comment on the plan (a message too)
    "task_help": URGENT,           # "Brug for hjælp" on a task
    "unreachable": URGENT,         # a participant blocked the bot
    "referral_refused": URGENT,    # a consent giver said no to a referral
    # Routine: what happened, nothing to act on at once.
    "joined": ROUTINE,             # opened the invitation link
    "consent_answer": ROUTINE,     # consent given (declined, withdrawn, talk first: urgent, below)
    "dialog_open": ROUTINE,
    "dialog_resumed": ROUTINE,
    "input_shared": ROUTINE,
    "input_shared_for": ROUTINE,   # input the coordinator wrote for someone without Telegram
    "meeting_rsvp": ROUTINE,
    "meeting_closed": ROUTINE,
    "plan_accepted": ROUTINE,
    "task_done": ROUTINE,
    "plan_all_done": ROUTINE,
    "overdue_digest": ROUTINE,     # already once a day; joins the next digest
    "newcomer_approved": ROUTINE,
    "newcomer_refused": ROUTINE,
    "person_erased": ROUTINE,
    "dialog_closed": ROUTINE,
    "referral_progress": ROUTINE,
    "referral_ready": ROUTINE,
    # Direct: as before.
    "answer": DIRECT,              # an answer to the coordinator's own action, sent later
    "document": DIRECT,            # a PDF (referat, overview, letter)
    "new_document": DIRECT,        # CHAT_CONTENT=minimal: a PDF to fetch from the Mini App (core/neutral.py)
    "document_lost": DIRECT,
    "task_reminder": DIRECT,       # the coordinator's own task
    "tasks_assigned": DIRECT,
    "meeting_notice": DIRECT,
    "meeting_moved": DIRECT,
    "meeting_cancelled": DIRECT,
    "meeting_input_reminder": DIRECT,
    "meeting_day_before": DIRECT,
    "plan_review": DIRECT,
    "newcomer_approval": DIRECT,
    "newcomer_welcome": DIRECT,
    "invitation_withdrawn": DIRECT,
    "seat_removed": DIRECT,
    "seat_removed_you": DIRECT,
    "referral_request": DIRECT,
    "digest": DIRECT,              # the digest itself
    "handover_new": DIRECT,        # a dialog handed over to this coordinator: theirs from now on
    "handover_old": DIRECT,        # a dialog an administrator took from this coordinator
    "handover": DIRECT,            # to the dialog's members: who their coordinator is now
}

# consent_answer: only a yes is routine; anything else the coordinator must act on.
_ROUTINE_CONSENT = frozenset({consent_rules.GIVEN})


def urgency(kind: str, payload: Mapping[str, Any] | None = None) -> str:
    """URGENT, ROUTINE or DIRECT for a notice of `kind` to the dialog's coordinator.

    `payload` is the notice's payload; a consent answer carries `answer` (a consent
    answer without it counts as urgent: better once too early than a day too late).
    """
    level = KINDS.get(kind, DIRECT)
    if kind == "consent_answer" and (payload or {}).get("answer") not in _ROUTINE_CONSENT:
        return URGENT
    return level


def is_routine(kind: str, payload: Mapping[str, Any] | None = None) -> bool:
    return urgency(kind, payload) == ROUTINE
