"""Long polling that handles a batch side by side and confirms it only once all of it is handled.

`getUpdates` answers with up to 100 updates; Telegram forgets them (confirms them) only when
the next `getUpdates` asks for a higher offset. This dispatcher handles the updates of one
batch concurrently, one chain per chat (a person's private chat, or a group): a person's
updates are handled in the order they came, one after the other, and different people's side
by side, at most `concurrency` updates at a time. The next `getUpdates` (which confirms the
batch) is asked for only after every chain has finished, so a crash or a stop in the middle of
a batch confirms nothing of it: Telegram delivers the whole batch again and the update ids
stored with each update's effect (storage/queries.py `first_delivery`) make the updates that
had committed a no-op the second time.

An update that fails because a service around the bot is away for a moment (the database
or Redis: storage/db.py `SERVICE_AWAY`) is not confirmed either: the batch is confirmed up to it, it and what
follows come again after a pause (the backoff), and that person's later updates in the batch
wait for it, so their order holds. (aiogram's polling confirms such an update like any other,
and it is lost; a fault of ours, any other exception, is logged and confirmed as there: it
would fail the same way again.)

aiogram's own modes either confirm an update before it is handled (a task per update) or
handle one update after the other (`handle_as_tasks=False`), so `_polling` is replaced here;
everything else (start-up, shutdown, signals, `stop_polling`) is aiogram's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from aiogram import Bot, Dispatcher, loggers
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from storage.db import SERVICE_AWAY

log = logging.getLogger("samspil.polling")

DEFAULT_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)


def chain_key(update: Update) -> tuple[str, int]:
    """Where this update belongs: its chat (a person's private chat has the person's id; a
    group's updates, from whoever, stay in one chain, so it is answered and left once), else
    its sender, else the update itself (no order to keep)."""
    event = update.event
    chat = getattr(event, "chat", None) or getattr(getattr(event, "message", None), "chat", None)
    if chat is not None:
        return "chat", chat.id
    user = getattr(event, "from_user", None)
    if user is not None:
        return "user", user.id
    return "update", update.update_id


def chains(updates: Iterable[Update]) -> list[list[Update]]:
    """The batch split per chat, each chat's updates in the order Telegram gave them."""
    out: dict[tuple[str, int], list[Update]] = {}
    for update in updates:
        out.setdefault(chain_key(update), []).append(update)
    return list(out.values())


class BatchDispatcher(Dispatcher):
    """A Dispatcher whose long polling handles each batch side by side (see the module)."""

    def __init__(self, *args: Any, concurrency: int = 16, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.concurrency = max(1, concurrency)

    async def _polling(self, bot: Bot, polling_timeout: int = 30, handle_as_tasks: bool = True,
                       backoff_config: BackoffConfig = DEFAULT_BACKOFF, allowed_updates: list[str] | None = None,
                       tasks_concurrency_limit: int | None = None, **kwargs: Any) -> None:
        user = await bot.me()
        loggers.dispatcher.info("Run polling for bot @%s id=%d", user.username, bot.id)
        backoff = Backoff(config=backoff_config)
        get_updates = GetUpdates(timeout=polling_timeout, allowed_updates=allowed_updates)
        request_kwargs = {}
        if bot.session.timeout:
            request_kwargs["request_timeout"] = int(bot.session.timeout + polling_timeout)
        gate = asyncio.Semaphore(self.concurrency)
        try:
            while True:
                try:
                    # The offset asked for here confirms the batch handled before.
                    updates = await bot(get_updates, **request_kwargs)
                except Exception as exc:  # noqa: BLE001 (a network error must not stop polling)
                    loggers.dispatcher.error("Failed to fetch updates - %s: %s", type(exc).__name__, exc)
                    await backoff.asleep()
                    continue
                if not updates:
                    backoff.reset()
                    continue
                again = await self.handle_batch(bot, updates, gate, **kwargs)
                if again is None:
                    backoff.reset()
                    get_updates.offset = updates[-1].update_id + 1
                else:
                    # Confirmed up to the update that could not be handled; it and the
                    # updates after it come again (those handled meanwhile are a no-op).
                    get_updates.offset = again
                    await backoff.asleep()
        finally:
            loggers.dispatcher.info("Polling stopped for bot @%s id=%d", user.username, bot.id)

    async def handle_batch(self, bot: Bot, updates: list[Update], gate: asyncio.Semaphore,
                           **kwargs: Any) -> int | None:
        """Every update of `updates` handled (or failed and logged); per sender in order.

        Returns None when the batch may be confirmed, else the id of the first update that
        failed for a passing reason (`SERVICE_AWAY`): from there on the batch comes again. Its
        sender's later updates in the batch were not handled; everyone else's were.
        A fault of ours in a handler does not stop the batch (logged, as aiogram's own polling
        does); anything else (cancellation on stop) cancels the rest of the batch, which then
        is not confirmed."""
        again: list[int] = []

        async def run(chain: list[Update]) -> None:
            for update in chain:
                async with gate:
                    handled = await self.handle_update(bot, update, **kwargs)
                if not handled:
                    again.append(update.update_id)
                    return  # this sender's later updates wait for it

        groups = chains(updates)
        if len(groups) == 1:
            await run(groups[0])
        else:
            async with asyncio.TaskGroup() as tasks:
                for chain in groups:
                    tasks.create_task(run(chain))
        return min(again) if again else None

    async def handle_update(self, bot: Bot, update: Update, **kwargs: Any) -> bool:
        """One update through the dispatcher; False if it failed for a passing reason."""
        try:
            response = await self.feed_update(bot, update, **kwargs)
            if isinstance(response, TelegramMethod):
                await self.silent_call_request(bot=bot, result=response)
        except SERVICE_AWAY as exc:
            log.warning("update not handled, to come again update_id=%s error=%s", update.update_id,
                        type(exc).__name__)
            return False
        except Exception as exc:  # noqa: BLE001 (a fault of ours: logged, the batch goes on)
            loggers.event.exception("Cause exception while process update id=%d by bot id=%d\n%s: %s",
                                    update.update_id, bot.id, exc.__class__.__name__, exc)
        return True
