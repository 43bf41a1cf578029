"""aiogram routers, one per flow. Order matters: the fallback router is last."""

from __future__ import annotations

from aiogram import Router


def all_routers() -> list[Router]:
    from handlers import (
        common,
        coordinator,
        dialog_input,
        join,
        meetings,
        overview,
        plan,
        privacy,
        reports,
        scaling,
    )

    routers = [
        join.router, coordinator.router, dialog_input.router, scaling.router, overview.router,
        meetings.router, plan.router, reports.router, privacy.router,
        common.router, common.fallback,
    ]
    # aiogram lets a router hang under one dispatcher only. The app builds a new
    # dispatcher each time it starts in a process (the tests and the demo start
    # many), so the routers are released from the previous one first.
    for router in routers:
        router._parent_router = None
    return routers


def all_jobs() -> list:  # type: ignore[type-arg]
    """Periodic jobs the outbox scheduler runs each round (they write notices)."""
    from handlers import plan
    from storage.retention import RetentionJob

    # The retention job first: it works in transactions of its own, which on SQLite must
    # not wait behind the round's transaction once another job has written in it.
    return [RetentionJob(), plan.OverdueDigest()]
