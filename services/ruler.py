"""Putting one's number on the ruler (linealen), from the chat or the Mini App.

The number is kept with the round it belongs to (earlier ones stay as history). A number
in the ruler's highest field reaches the coordinator at once, privately: the duty to act
(underretningspligt) stays with people; the bot only makes sure the coordinator knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from core.notices import Notices
from rules.dialog_config import DialogConfig, RulerField
from storage import inputs
from storage.models import Participant, Person, Score


class Placed(StrEnum):
    SAVED = "saved"
    OLD_ROUND = "old_round"  # the page or button was made before the meeting closed its round
    OUT_OF_RANGE = "out_of_range"


@dataclass(frozen=True)
class Result:
    outcome: Placed
    field: RulerField | None = None
    score: Score | None = None


async def put_number(session: AsyncSession, notices: Notices, seat: Participant, value: int, round_no: int,
                     config: DialogConfig, now: datetime) -> Result:
    """Save `seat`'s number for `round_no` (which must be the dialog's current round)."""
    dialog = seat.dialog
    if round_no != dialog.round_no:
        return Result(Placed.OLD_ROUND)
    if not 1 <= value <= 10:
        return Result(Placed.OUT_OF_RANGE)
    ruler = config.ruler(dialog.age_group)
    score = await inputs.add_score(session, seat, dialog.round_no, value, now)
    coordinator = await session.get(Person, dialog.coordinator_id)
    if ruler.is_highest_field(value) and coordinator is not None and seat.person_id != coordinator.id:
        await notices.add(session, to=coordinator, kind="high_score", key=f"high_score:{score.id}",
                          payload={"score_id": score.id}, dialog_id=dialog.id)
    return Result(Placed.SAVED, ruler.field_for(value), score)
