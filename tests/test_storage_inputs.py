"""storage/inputs.py on its own: drafts stay their author's, sharing freezes, scores keep history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage import inputs
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Dialog, InputEntry, Participant, Person

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
async def session(tmp_path) -> AsyncIterator[AsyncSession]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'inputs.db'}")
    await upgrade(engine)
    async with make_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


async def _dialog(s: AsyncSession, child: str = "Emma") -> tuple[Dialog, Participant, Participant]:
    coordinator = Person(telegram_id=None, name="Camilla", created_at=T0)
    s.add(coordinator)
    await s.flush()
    dialog = Dialog(coordinator_id=coordinator.id, child_name=child, age_group="barn", purpose="Formål",
                    state="active", round_no=1, created_at=T0, purpose_updated_at=T0)
    s.add(dialog)
    await s.flush()
    mom = Participant(dialog_id=dialog.id, name="Mette", role="parent_custody", relation="Mor",
                      consent_giver=True, joined_at=T0, created_at=T0)
    teacher = Participant(dialog_id=dialog.id, name="Hanne", role="professional", relation="Klasselærer",
                          consent_giver=False, joined_at=T0, created_at=T0)
    s.add_all([mom, teacher])
    await s.flush()
    return dialog, mom, teacher


def test_write_box_appends_or_replaces():
    entry = InputEntry(area="family", round_no=1)
    inputs.write_box(entry, "worries", "Første.", append=True, now=T0)
    inputs.write_box(entry, "worries", "Anden.", append=True, now=T0 + timedelta(minutes=1))
    assert entry.worries == "Første.\n\nAnden." and entry.updated_at == T0 + timedelta(minutes=1)
    inputs.write_box(entry, "worries", "Ny.", append=False, now=T0)
    assert entry.worries == "Ny."
    assert not inputs.is_empty(entry) and inputs.is_empty(InputEntry(works="  \n"))
    with pytest.raises(ValueError):
        inputs.write_box(entry, "shared_at", "x", append=False, now=T0)


async def test_drafts_are_found_by_their_author_only(session):
    _dialog_, mom, teacher = await _dialog(session)
    draft = await inputs.start_draft(session, mom, 1, "family", T0)
    assert await inputs.own_draft(session, mom, draft.id) is draft
    assert await inputs.own_draft(session, teacher, draft.id) is None
    assert await inputs.own_entry(session, teacher, draft.id) is None
    assert await inputs.own_draft(session, mom, draft.id + 999) is None
    assert await inputs.draft_for_area(session, mom, 1, "family") is draft
    assert await inputs.draft_for_area(session, teacher, 1, "family") is None
    assert await inputs.draft_for_area(session, mom, 2, "family") is None


async def test_sharing_freezes_drops_empty_drafts_and_only_shared_are_read(session):
    dialog, mom, teacher = await _dialog(session)
    other_dialog, other_mom, _ = await _dialog(session, "Oliver")
    family = await inputs.start_draft(session, mom, 1, "family", T0)
    inputs.write_box(family, "worries", "Bekymring.", append=True, now=T0)
    empty = await inputs.start_draft(session, mom, 1, "health", T0)
    teachers = await inputs.start_draft(session, teacher, 1, "school", T0)
    inputs.write_box(teachers, "works", "Kladde.", append=True, now=T0)
    elsewhere = await inputs.start_draft(session, other_mom, 1, "family", T0)
    inputs.write_box(elsewhere, "works", "Andet.", append=True, now=T0)
    await inputs.share_drafts(session, other_mom, 1, T0)

    assert await inputs.shared_entries(session, dialog, 1) == []  # drafts are never read by others
    shared = await inputs.share_drafts(session, mom, 1, T0 + timedelta(hours=1))
    assert shared == [family] and family.shared_at == T0 + timedelta(hours=1)
    assert await session.get(InputEntry, empty.id) is None
    assert await inputs.shared_entries(session, dialog, 1) == [family]  # not the teacher's draft
    assert await inputs.shared_entries(session, dialog, 1, "school") == []
    assert await inputs.shared_entries(session, dialog, 2) == []
    assert await inputs.shared_entries(session, other_dialog, 1) == [elsewhere]
    # Shared: no longer a draft, so it cannot be edited or deleted through the draft functions.
    assert await inputs.own_draft(session, mom, family.id) is None
    assert await inputs.own_entry(session, mom, family.id) is family
    await inputs.delete_draft(session, family)
    assert await inputs.shared_entries(session, dialog, 1) == [family]


async def test_the_latest_score_counts_and_history_is_kept(session):
    dialog, mom, teacher = await _dialog(session)
    await inputs.add_score(session, mom, 1, 6, T0)
    await inputs.add_score(session, mom, 1, 3, T0 + timedelta(days=1))
    await inputs.add_score(session, teacher, 1, 9, T0)
    await inputs.add_score(session, mom, 2, 2, T0 + timedelta(days=30))
    latest = await inputs.latest_scores(session, dialog, 1)
    assert {pid: s.value for pid, s in latest.items()} == {mom.id: 3, teacher.id: 9}
    assert latest[mom.id].at == T0 + timedelta(days=1)
    assert {pid: s.value for pid, s in (await inputs.latest_scores(session, dialog, 2)).items()} == {mom.id: 2}
