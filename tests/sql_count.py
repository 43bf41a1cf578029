"""Counting the SQL statements of one piece of work, and of nothing that runs beside it.

The bot's notice scheduler runs a round every second in a task of its own, on the same
engine; a listener that counted every statement the engine sent would count a round that
happened to fall inside the measurement (it did: /dialoger counted 25 instead of 20 once in
CI). So a statement is counted only in a task marked for counting: an update marked by an
outermost update middleware (`updates`), or the test's own code inside `here()`. The mark is
a context variable; SQLAlchemy runs its sync code in a greenlet that sees the caller's
context, so the listener reads it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware
from sqlalchemy import event

from bot.app import App

_counting: ContextVar[list[str] | None] = ContextVar("sql_counting", default=None)

TRANSACTION = ("BEGIN", "COMMIT")


def _note(statement: str) -> None:
    statements = _counting.get()
    if statements is not None:
        statements.append(statement)


class _MarkUpdate(BaseMiddleware):
    """Outermost: everything below it, for this update, counts."""

    def __init__(self, done: list[list[str]]) -> None:
        self.done = done

    async def __call__(self, handler: Callable[[Any, dict[str, Any]], Awaitable[Any]], event: Any,
                       data: dict[str, Any]) -> Any:
        statements: list[str] = []
        token = _counting.set(statements)
        try:
            return await handler(event, data)
        finally:
            _counting.reset(token)
            self.done.append(statements)


class SqlCount:
    """Listens on the app's engine until `close()`; `updates` holds, per update handled since,
    the statements it sent (BEGIN IMMEDIATE and COMMIT included: see `counted`)."""

    def __init__(self, app: App) -> None:
        self.engine = app.engine.sync_engine
        self.updates: list[list[str]] = []
        self._middleware = _MarkUpdate(self.updates)
        self._dp = app.dp
        self._dp.update.outer_middleware._middlewares.insert(0, self._middleware)
        event.listen(self.engine, "before_cursor_execute", self._on_statement)
        # COMMIT goes through the DBAPI, not a cursor.
        event.listen(self.engine, "commit", self._on_commit)

    @staticmethod
    def _on_statement(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        _note(statement)

    @staticmethod
    def _on_commit(_conn: Any) -> None:
        _note("COMMIT")

    @contextmanager
    def here(self) -> Iterator[list[str]]:
        """The statements the code inside the block sends (in this task)."""
        statements: list[str] = []
        token = _counting.set(statements)
        try:
            yield statements
        finally:
            _counting.reset(token)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on_statement)
        event.remove(self.engine, "commit", self._on_commit)
        self._dp.update.outer_middleware._middlewares.remove(self._middleware)


def counted(statements: list[str]) -> int:
    """Statements without the transaction's BEGIN and COMMIT."""
    return sum(1 for s in statements if not s.startswith(TRANSACTION))
