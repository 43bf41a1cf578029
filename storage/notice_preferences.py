"""A coordinator's choice of how to get their routine notices (storage/models.NoticePreference)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import NoticePreference


async def get(session: AsyncSession, person_id: int) -> NoticePreference | None:
    return await session.get(NoticePreference, person_id)


async def put(session: AsyncSession, person_id: int, *, mode: str, digest_times: str | None,
              now: datetime) -> NoticePreference:
    pref = await session.get(NoticePreference, person_id)
    if pref is None:
        pref = NoticePreference(person_id=person_id, mode=mode, digest_times=digest_times, updated_at=now)
        session.add(pref)
    else:
        pref.mode, pref.digest_times, pref.updated_at = mode, digest_times, now
    await session.flush()
    return pref
