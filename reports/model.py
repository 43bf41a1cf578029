"""Plain data the renderers take: no database, no aiogram, safe to hand to a thread.

reports/gather.py fills these from the database inside the update's
transaction; the renderers (overview, referat, referral, letter) turn them
into PDF bytes and translate while they do, in the recipient's locale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from rules.dialog_config import Area, Ruler


@dataclass(frozen=True)
class Who:
    """A participant as documents show them: 'Mette (Mor)'."""

    id: int
    name: str
    role: str
    relation: str | None = None
    joined: bool = True
    consent_giver: bool = False


@dataclass(frozen=True)
class DialogInfo:
    id: int
    child_name: str
    age_group: str  # barn | ung
    purpose: str
    purpose_updated_at: datetime
    round_no: int  # the dialog's current round
    municipality: str
    coordinator: Who | None = None
    activated_at: datetime | None = None
    case_ref: str | None = None  # the municipality's case reference (sagsnummer)


@dataclass(frozen=True)
class Entry:
    """One person's shared input in one area (never a draft)."""

    id: int
    area: str
    author: Who
    shared_at: datetime
    worries: str = ""
    works: str = ""
    next_steps: str = ""
    by_coordinator: bool = False  # written by the coordinator for a participant without Telegram


@dataclass(frozen=True)
class RoundScores:
    """Each participant's latest score of one round, and the joint target the meeting set."""

    round_no: int
    scores: dict[int, int] = field(default_factory=dict)  # participant id -> 1..10
    target: int | None = None  # set at this round's meeting: it aims at the next meeting
    meeting_at: datetime | None = None  # the meeting that ends the round (closed, or planned)
    # Participants whose number the coordinator put for them (a participant without Telegram).
    by_coordinator: frozenset[int] = frozenset()


@dataclass(frozen=True)
class PlanTask:
    what: str
    owner: Who
    starts_on: date
    ends_on: date
    status: str  # open | done | help
    done_at: datetime | None = None


@dataclass(frozen=True)
class PlanGoal:
    area: str
    text: str
    tasks: tuple[PlanTask, ...] = ()


@dataclass(frozen=True)
class PlanInfo:
    goals: tuple[PlanGoal, ...] = ()
    version: int = 0
    accepted: bool = False
    sent: bool = False  # this version of the plan went to the family for approval


@dataclass(frozen=True)
class MeetingInfo:
    id: int
    round_no: int
    starts_at: datetime
    place: str
    status: str  # scheduled | open | closed | cancelled
    closed_at: datetime | None = None
    responses: dict[int, bool] = field(default_factory=dict)  # participant id -> coming
    attendance: dict[int, str] = field(default_factory=dict)  # participant id -> present | apologies | absent
    summary: str = ""  # what was discussed and decided


@dataclass(frozen=True)
class OverviewData:
    dialog: DialogInfo
    round_no: int
    entries: tuple[Entry, ...]
    areas: tuple[Area, ...]
    generated_at: datetime
    area: str | None = None  # the overview was filtered to one area


@dataclass(frozen=True)
class ReferatData:
    dialog: DialogInfo
    round_no: int
    participants: tuple[Who, ...]
    entries: tuple[Entry, ...]
    history: tuple[RoundScores, ...]  # rounds 1..round_no
    ruler: Ruler
    areas: tuple[Area, ...]
    plan: PlanInfo
    generated_at: datetime
    meeting: MeetingInfo | None = None
    next_meeting: MeetingInfo | None = None
    final: bool = True  # False: no meeting closed yet, the state so far
    edition: int = 1  # 2, 3...: reissued when the family agreed the plan after the meeting
    replaces: datetime | None = None  # when the edition it replaces was made


@dataclass(frozen=True)
class Approval:
    who: Who
    approves: bool | None  # None: not answered yet
    answered_at: datetime | None = None


@dataclass(frozen=True)
class ReferralData:
    dialog: DialogInfo
    receiver: str  # ppr | health
    participants: tuple[Who, ...]
    entries: tuple[Entry, ...]
    entries_round: int
    history: tuple[RoundScores, ...]
    ruler: Ruler
    areas: tuple[Area, ...]
    plan: PlanInfo
    approvals: tuple[Approval, ...]
    requested_at: datetime
    generated_at: datetime
    draft: bool = True  # True until every consent giver has approved


@dataclass(frozen=True)
class LetterData:
    dialog: DialogInfo
    invitee: Who
    participants: tuple[Who, ...]
    link: str
    expires_at: datetime
    generated_at: datetime
    contact: ContactInfo | None = None  # how to reach the coordinator


@dataclass(frozen=True)
class ContactInfo:
    """A coordinator's contact details (each may be empty)."""

    phone: str = ""
    email: str = ""
    hours: str = ""
