"""SQLAlchemy 2 typed models.

The shape: a `Person` is a Telegram account (or a staff member registered before
they have one); a `Dialog` is one child's Familiedialog, opened by a coordinator;
a `Participant` is a person's seat in one dialog (invited by name, bound to a
Person when they open their link). Input, scores, meetings, plans and the outbox
all hang off dialog + participant + round number.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import PersonalText, UTCDateTime


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
    created_at: Mapped[datetime]
    purpose_updated_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(PersonalText)

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

    dialog: Mapped[Dialog] = relationship(back_populates="participants", lazy="selectin", join_depth=2)
    person: Mapped[Person | None] = relationship(lazy="selectin")


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

    participant: Mapped[Participant] = relationship(lazy="selectin")


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


class FsmRecord(Base):
    """aiogram FSM state and data per chat, so a conversation survives a crash."""

    __tablename__ = "fsm_state"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[str | None] = mapped_column(PersonalText)  # JSON: may hold what was typed
    updated_at: Mapped[datetime]


__all__ = [
    "ACTIVE",
    "AWAITING_CONSENT",
    "CLOSED",
    "PAUSED",
    "Base",
    "Consent",
    "Dialog",
    "FsmRecord",
    "InputEntry",
    "Invitation",
    "Participant",
    "Person",
    "Registration",
    "Score",
]
