"""SQLAlchemy 2 typed models.

The shape: a `Person` is a Telegram account (or a staff member registered before
they have one); a `Dialog` is one child's Familiedialog, opened by a coordinator;
a `Participant` is a person's seat in one dialog (invited by name, bound to a
Person when they open their link). Input, scores, meetings, plans and the outbox
all hang off dialog + participant + round number.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import PersonalBytes, PersonalText, UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


# Dialog states and what each allows: rules/access.py.
from rules.access import ACTIVE, AWAITING_CONSENT, CLOSED, PAUSED  # noqa: E402


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    name: Mapped[str | None] = mapped_column(PersonalText)
    # None: follow the Telegram app's language. Set by /sprog.
    locale: Mapped[str | None] = mapped_column(String(8))
    # 'coordinator' | 'professional' | None (family and network have no staff role)
    staff_role: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(PersonalText)
    created_at: Mapped[datetime]
    # A coordinator's contact details, shown to the families of their dialogs (handlers/contact.py):
    # phone, e-mail, and when they can be reached ("man-fre 8-15"). Set by the coordinator.
    contact_phone: Mapped[str | None] = mapped_column(PersonalText)
    contact_email: Mapped[str | None] = mapped_column(PersonalText)
    contact_hours: Mapped[str | None] = mapped_column(PersonalText)


class Registration(Base):
    """A single-use link that makes a Telegram account a coordinator or professional."""

    __tablename__ = "registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(PersonalText)
    title: Mapped[str | None] = mapped_column(PersonalText)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


class Dialog(Base):
    __tablename__ = "dialog"

    id: Mapped[int] = mapped_column(primary_key=True)
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    child_name: Mapped[str] = mapped_column(PersonalText)
    age_group: Mapped[str] = mapped_column(String(8))  # 'barn' | 'ung'
    purpose: Mapped[str] = mapped_column(PersonalText)
    state: Mapped[str] = mapped_column(String(20), default=AWAITING_CONSENT)
    round_no: Mapped[int] = mapped_column(Integer, default=1)
    # Mål & Plan: any change makes a new version that the consent givers accept.
    plan_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    plan_accepted_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime]
    purpose_updated_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(PersonalText)
    # The municipality's case reference (sagsnummer), set by the coordinator; shown on the referat.
    case_ref: Mapped[str | None] = mapped_column(PersonalText)

    # Eager both ways (join_depth: the cycle dialog -> participants -> dialog
    # would otherwise stop the eager load, and async sessions cannot lazy-load).
    participants: Mapped[list[Participant]] = relationship(
        back_populates="dialog", order_by="Participant.id", lazy="selectin", join_depth=2
    )


class Participant(Base):
    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("dialog_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    name: Mapped[str] = mapped_column(PersonalText)
    # rules/roles.py: coordinator | parent_custody | parent | young | professional | network
    role: Mapped[str] = mapped_column(String(20))
    # Shown beside the name: "Mor", "Klasselærer", "Morfar" ...
    relation: Mapped[str | None] = mapped_column(PersonalText)
    consent_giver: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    unreachable_at: Mapped[datetime | None]
    # Added after the start: None (not needed) | pending | approved | refused (rules/consent.py).
    # A seat the coordinator removed is "refused" too, with `removed_at` set.
    approval: Mapped[str | None] = mapped_column(String(10))
    # The Telegram account that opened the link, as Telegram names it ("Hanne Jensen (@hannej)"):
    # a forwarded link admits whoever opens it first, and the coordinator must be able to tell.
    opened_by: Mapped[str | None] = mapped_column(PersonalText)
    removed_at: Mapped[datetime | None]
    # Takes part without Telegram (a young person under 16, a grandparent): no link, person_id stays
    # None, and the coordinator enters their consent, input and number for them (services/on_behalf.py).
    offline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    dialog: Mapped[Dialog] = relationship(back_populates="participants", lazy="selectin", join_depth=2)
    # Joined, not selectin: a person has no relationships of its own, so the seat and its person
    # come in one statement wherever seats are loaded (a dialog's participants: one SELECT, not two).
    person: Mapped[Person | None] = relationship(lazy="joined")


class Invitation(Base):
    """A participant's personal, single-use, expiring link. Only the hash is stored."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # The family refused the participant, or the person's data was erased: the link is dead.
    revoked_at: Mapped[datetime | None]


class Consent(Base):
    """Every consent answer, with exactly what was shown when it was given."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(16))  # given | talk_first | declined | withdrawn
    text_shown: Mapped[str] = mapped_column(PersonalText)
    participants_shown: Mapped[str] = mapped_column(PersonalText)  # JSON list
    locale: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    # Recorded by the coordinator for a participant without Telegram: the coordinator's person id
    # (no foreign key: the fact outlives the account, as in the audit log) and how the person
    # answered, 'oral' | 'paper'. None: the participant answered in Samspil themselves.
    recorded_by_id: Mapped[int | None] = mapped_column(Integer)
    given_how: Mapped[str | None] = mapped_column(String(8))


class Approval(Base):
    """A consent giver's answer about a participant added after the dialog started."""

    __tablename__ = "approval"
    __table_args__ = (UniqueConstraint("participant_id", "approver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"), index=True)
    # The newcomer, and the consent giver who answered.
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    approver_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    approved: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class InputEntry(Base):
    """One person's input in one area for one round: the three boxes.

    A draft (shared_at is None) is its author's alone. Sharing freezes it; a
    correction or "what has happened since" is a new entry beside it.
    """

    __tablename__ = "input_entry"
    __table_args__ = (
        Index("ix_input_entry_round", "dialog_id", "round_no", "shared_at"),
        Index("ix_input_entry_author", "participant_id", "round_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    round_no: Mapped[int] = mapped_column(Integer)
    area: Mapped[str] = mapped_column(String(16))
    worries: Mapped[str | None] = mapped_column(PersonalText)
    works: Mapped[str | None] = mapped_column(PersonalText)
    next_steps: Mapped[str | None] = mapped_column(PersonalText)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    shared_at: Mapped[datetime | None]
    # Who typed it when it was not the author: the coordinator's person id, for a participant
    # without Telegram (shown as "written by the coordinator for ..."). No foreign key, as above.
    written_by_id: Mapped[int | None] = mapped_column(Integer)

    # Joined: the author's seat (and its person) in the entry's own SELECT. A selectin load
    # queries again for seats the update's session already holds.
    participant: Mapped[Participant] = relationship(lazy="joined")


class Score(Base):
    """A place on the ruler. Shared when confirmed; the latest per person and round counts."""

    __tablename__ = "score"
    __table_args__ = (Index("ix_score_round", "dialog_id", "round_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    round_no: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    # The coordinator's person id when they put the number for a participant without Telegram.
    written_by_id: Mapped[int | None] = mapped_column(Integer)


class DialogRound(Base):
    """A round ends in a meeting; the meeting sets the joint target on the ruler."""

    __tablename__ = "dialog_round"
    __table_args__ = (UniqueConstraint("dialog_id", "round_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"))
    round_no: Mapped[int] = mapped_column(Integer)
    joint_target: Mapped[int | None] = mapped_column(Integer)
    target_set_at: Mapped[datetime | None]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Meeting(Base):
    """A dialogmøde. Moving it bumps `version`, so reminders for the old time lapse."""

    __tablename__ = "meeting"
    __table_args__ = (Index("ix_meeting_dialog", "dialog_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"))
    round_no: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(PersonalText)
    # scheduled | open | closed | cancelled
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The minutes of record: what was discussed and decided (written when closing), and the
    # referat's editions (1 at the close; a new one each time the family agrees a plan after it).
    summary: Mapped[str | None] = mapped_column(PersonalText)
    referat_edition: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    referat_made_at: Mapped[datetime | None]


class MeetingAttendance(Base):
    """Who was at a meeting, as the coordinator recorded it when closing it."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10))  # present | apologies | absent


class MeetingResponse(Base):
    """Jeg kommer / Jeg kan ikke: the latest answer per participant."""

    __tablename__ = "meeting_response"
    __table_args__ = (UniqueConstraint("meeting_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    coming: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime]


class Goal(Base):
    """Mål: one goal in one input area of the plan."""

    __tablename__ = "goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"), index=True)
    area: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(PersonalText)
    round_no: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]

    tasks: Mapped[list[Task]] = relationship(
        back_populates="goal", order_by="Task.id", lazy="selectin", cascade="all, delete-orphan"
    )


class Task(Base):
    """Opgave: what, who (a participant), period. A proposal until the plan is accepted."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_open_end", "status", "ends_on"),
        Index("ix_task_dialog", "dialog_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"))
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(PersonalText)
    owner_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | done | help
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    goal: Mapped[Goal] = relationship(back_populates="tasks", lazy="selectin")
    owner: Mapped[Participant] = relationship(lazy="selectin")


class PlanAnswer(Base):
    """A consent giver's answer to one version of the plan: agree, or a comment."""

    __tablename__ = "plan_answer"
    __table_args__ = (Index("ix_plan_answer_dialog", "dialog_id", "plan_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"))
    plan_version: Mapped[int] = mapped_column(Integer)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    agrees: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(PersonalText)
    created_at: Mapped[datetime]


class OutboxMessage(Base):
    """A notice or reminder to one person, written in the transaction that caused it.

    `key` is unique, so the same notice cannot be created twice. The payload holds
    ids only; the text is composed when it is sent, in the recipient's language
    and from the current state (a reminder whose reason has gone is skipped).

    One kind is composed before it is written: an answer to a person's own action
    that Telegram did not take while the update was handled (bot/telegram.py,
    kind "answer"). Its text and buttons are in `body`, encrypted like every
    personal text, and blanked once the row is finished (sent, skipped, failed).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # Finding due rows costs time in proportion to the rows due, not to all rows.
        Index("ix_outbox_due", "due_at", sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
        Index("ix_outbox_lease", "claimed_until", sqlite_where=text("status = 'sending'"),
              postgresql_where=text("status = 'sending'")),
        Index("ix_outbox_dialog", "dialog_id"),
        # The few rows holding a body: the start-up key check (storage/crypto.check_database)
        # reads the newest one without walking the whole outbox.
        Index("ix_outbox_body", "id", sqlite_where=text("body IS NOT NULL"),
              postgresql_where=text("body IS NOT NULL")),
        # A coordinator's routine notices held for their digest (bot/digest.py), by the time it goes.
        Index("ix_outbox_held", "due_at", sqlite_where=text("status = 'held'"),
              postgresql_where=text("status = 'held'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    dialog_id: Mapped[int | None] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON of ids, never free text
    # Kind "answer" only: JSON of the text and buttons as they were to be sent. Encrypted.
    body: Mapped[str | None] = mapped_column(PersonalText)
    due_at: Mapped[datetime]
    # pending | sending | sent | skipped | failed | cancelled, or held: a coordinator's routine
    # notice waiting, until `due_at`, for their digest (then sent: gathered into a "digest" row)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]


class NoticePreference(Base):
    """How a coordinator wants their routine notices (rules/notice_urgency.py): gathered in a
    digest at `digest_times` on weekdays, or at once. No row: the defaults (COORDINATOR_NOTICES,
    DIGEST_TIMES). Set with /notifikationer (handlers/notifications.py)."""

    __tablename__ = "notice_preference"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(10))  # 'digest' | 'at_once' (rules/digest.py)
    # Local times, "08:00,14:00"; None: DIGEST_TIMES.
    digest_times: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime]


class Document(Base):
    """A PDF decided in an update's transaction and sent later through the outbox (bot/scheduler.py):
    the referat of a closed meeting, an overview or a referral draft someone asked for.

    One row per document and language; outbox rows of kind "document" (payload: its id) carry it
    to each recipient. `pdf` is rendered when it is decided (the referat) or, for a document a
    person asked for, from `source` (the data as it was then) by the scheduler, once; then
    `source` goes. Both are encrypted like every personal text, and the row is deleted as soon
    as no outbox row waits to send it (storage/documents.py).
    """

    __tablename__ = "document"
    # Ids are never reused (on SQLite too): outbox keys name a document by its id.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int | None] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # referat | overview | referral
    locale: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(PersonalText)
    caption: Mapped[str] = mapped_column(PersonalText)
    pdf: Mapped[bytes | None] = mapped_column(PersonalBytes)
    # The gathered data (pickled), until the scheduler has rendered it.
    source: Mapped[bytes | None] = mapped_column(PersonalBytes)
    protect: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class DeskMark(Base):
    """What a dialog's coordinator has marked as seen on their desk (`/dialoger`, handlers/desk.py).

    The newest safeguarding alert (a score in the ruler's highest field), message from the family
    (outbox kind "family_message") and consent answer ("talk to the coordinator first") that were
    on the desk when the coordinator tapped "Mark as seen": anything newer shows again. Ids only.
    """

    __tablename__ = "desk_mark"

    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"), primary_key=True)
    alert_score_id: Mapped[int | None] = mapped_column(Integer)
    message_id: Mapped[int | None] = mapped_column(Integer)
    consent_id: Mapped[int | None] = mapped_column(Integer)
    seen_at: Mapped[datetime]
    seen_by_id: Mapped[int | None] = mapped_column(Integer)  # the person who marked it (no foreign key: a log)


class ProcessedUpdate(Base):
    """Telegram update ids already handled: written in the update's own transaction,
    so a redelivered update (a crash before confirming, a webhook retry) has its effect once."""

    __tablename__ = "processed_update"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(index=True)


class FsmRecord(Base):
    """aiogram FSM state and data per chat, so a conversation survives a crash."""

    __tablename__ = "fsm_state"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[str | None] = mapped_column(PersonalText)  # JSON: may hold what was typed
    updated_at: Mapped[datetime]


class AuditEvent(Base):
    """Who read or changed what in a dialog, and when (storage/audit.py). Never the content.

    No foreign keys, on purpose: the log outlives the dialogs and people it names
    (a deleted dialog's events stay, holding ids only) and never blocks a deletion.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_dialog", "dialog_id", "id"),
                      Index("ix_audit_event_actor", "actor_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(Integer)  # person id; None: the system
    # The actor's role in the dialog when it happened (rules/roles.py), or their staff role.
    actor_role: Mapped[str | None] = mapped_column(String(20))
    dialog_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    round_no: Mapped[int | None] = mapped_column(Integer)
    entry_id: Mapped[int | None] = mapped_column(Integer)
    participant_id: Mapped[int | None] = mapped_column(Integer)
    # Any other ids, as JSON {"name_id": int}: numbers only, never text.
    other_ids: Mapped[str | None] = mapped_column(String(400))


class Referral(Base):
    """An indstilling (referral) to PPR or Sundhedstjenesten: asked by the coordinator, produced
    only when every consent giver has approved it (reports/referrals.py). The produced PDF is kept,
    so the coordinator can fetch exactly what was approved again."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialog.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id", ondelete="SET NULL"))
    receiver: Mapped[str] = mapped_column(String(16))  # ppr | health
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | produced | refused | cancelled
    round_no: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]  # refused, cancelled or produced
    produced_at: Mapped[datetime | None]
    pdf: Mapped[bytes | None] = mapped_column(PersonalBytes)  # encrypted at rest

    answers: Mapped[list[ReferralAnswer]] = relationship(
        back_populates="referral", order_by="ReferralAnswer.id", lazy="selectin", cascade="all, delete-orphan")


class ReferralAnswer(Base):
    """A consent giver asked to approve a referral, and their answer (None: not yet)."""

    __tablename__ = "referral_answer"
    __table_args__ = (UniqueConstraint("referral_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    approves: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime | None]

    referral: Mapped[Referral] = relationship(back_populates="answers", lazy="selectin")
    participant: Mapped[Participant] = relationship(lazy="selectin")


__all__ = [
    "AuditEvent",
    "ACTIVE",
    "AWAITING_CONSENT",
    "CLOSED",
    "Approval",
    "PAUSED",
    "Base",
    "Consent",
    "DeskMark",
    "Dialog",
    "Document",
    "FsmRecord",
    "DialogRound",
    "Goal",
    "InputEntry",
    "Meeting",
    "MeetingResponse",
    "NoticePreference",
    "OutboxMessage",
    "PlanAnswer",
    "ProcessedUpdate",
    "Task",
    "Invitation",
    "Participant",
    "Person",
    "Registration",
    "Score",
]
