"""The buttons that ask "which dialog?" tell every dialog apart, also two children of the same name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core import i18n as i18n_module
from core.i18n import make_i18n
from handlers.choose import dialog_buttons
from storage.models import Dialog, Participant


@pytest.fixture(autouse=True)
def _danish_time() -> Iterator[None]:
    """Dates are shown in the configured time zone (the app sets it at start-up)."""
    before = i18n_module._tz
    i18n_module.set_timezone(ZoneInfo("Europe/Copenhagen"))
    yield
    i18n_module.set_timezone(before)


def _seat(dialog_id: int, child: str, created: datetime, state: str = "active") -> Participant:
    return Participant(dialog_id=dialog_id, dialog=Dialog(id=dialog_id, child_name=child, state=state,
                                                          created_at=created))


def _labels(seats: list[Participant], locale: str = "da") -> list[str]:
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale(locale):
        return dialog_buttons(seats)


def test_the_first_name_is_enough_when_the_names_differ() -> None:
    day = datetime(2026, 11, 3, 9, tzinfo=UTC)
    assert _labels([_seat(1, "Emma", day), _seat(2, "Oliver", day)]) == ["Dialogen om Emma", "Dialogen om Oliver"]


def test_two_children_of_the_same_name_show_when_each_dialog_began() -> None:
    seats = [_seat(1, "Emma", datetime(2026, 11, 3, 9, tzinfo=UTC)),
             _seat(2, "Emma", datetime(2027, 1, 14, 23, 30, tzinfo=UTC)),  # 15 January in Denmark
             _seat(3, "Noah", datetime(2026, 11, 3, 9, tzinfo=UTC))]
    assert _labels(seats) == ["Dialogen om Emma, startet 3. nov. 2026", "Dialogen om Emma, startet 15. jan. 2027",
                              "Dialogen om Noah"]
    assert _labels(seats, "en")[:2] == ["The dialog about Emma, started Nov 3, 2026",
                                        "The dialog about Emma, started Jan 15, 2027"]


def test_same_name_and_same_day_falls_back_to_the_number() -> None:
    day = datetime(2026, 11, 3, 9, tzinfo=UTC)
    assert _labels([_seat(7, "Emma", day), _seat(9, "Emma", day)]) == [
        "Dialogen om Emma, startet 3. nov. 2026 (#7)", "Dialogen om Emma, startet 3. nov. 2026 (#9)"]
