"""aiogram routers, one per flow. Order matters: the fallback router is last."""

from __future__ import annotations

from aiogram import Router


def all_routers() -> list[Router]:
    from handlers import common, coordinator, dialog_input, join, overview, scaling

    return [
        join.router, coordinator.router, dialog_input.router, scaling.router, overview.router,
        common.router, common.fallback,
    ]


def all_jobs() -> list:  # type: ignore[type-arg]
    """Periodic jobs the outbox scheduler runs each round (they write notices)."""
    return []
