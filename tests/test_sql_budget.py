"""SQL statements per conversation step: the hot paths stay cheap (issue #15).

Every statement the database is sent while one update is handled is counted, with a
SQLAlchemy `before_cursor_execute` listener on the bot's engine and an outermost update
middleware that marks the update's task (tests/sql_count.py; the notice scheduler runs in a
task of its own and is not counted). A person goes through the steps the benchmarks play (bench/_load.py `samspil_plan`, which
follows the input flow as it changes): taps, texts in a box, sharing, a score. Each kind of step fails above its budget.

What a step costs (SQLite, statements sent while the update is handled, BEGIN IMMEDIATE and
COMMIT not counted; before #15 in brackets, the same steps, counted the same way):

    tap (a button that moves a step)   4-7   (8-18; 5-8 until 6 Dec: picking a number and opening
                                              an area no longer load the dialog's participants)
    text in a box                        7   (14; 8 until 6 Dec)
    share ("Yes, share now")            16   (22; 27 once #12/#13 added the next step and digests; 18 until 6 Dec)
    score ("Yes, save 4")                9   (9; 13 after #12/#13; 10 until 6 Dec)
    a command (/input, /skala)          6-8  (8)

Every update pays 5 of them: the insert of its update id, the sender's `person`, the
conversation state (read once, in the update's transaction, and kept in the session for the
writes that follow: before #15 it was read in a transaction of its own and again for every
write), the seat with its dialog and person (one joined SELECT, storage/queries.py
`participant_in`; they were three) and the dialog's participants with their persons (one
SELECT: Participant.person is a joined load, it was a selectin load of its own). A step that
needs the sender's seat alone does not load them: a text in a box, opening an area, picking a
number on the ruler and the buttons on one's own draft (`participant_in(..., with_seats=False)`, the handler flag `one_seat`); reading
them there raises. Other steps still load them with the dialog, as code everywhere reads
Dialog.participants without awaiting. An input entry brings its author's seat and person in its own SELECT
(InputEntry.participant joined; as a selectin load it queried three times for rows the session
already held). The seat's dialog is not selected again where one's own entries are loaded
(storage/inputs.py SEAT_IN_SESSION: Participant.dialog is a selectin load, which queries even
for a dialog the session holds; there it is lazy, and a many-to-one finds it in the session
without SQL); elsewhere it still costs one SELECT (a joined load on the relationship itself left
Dialog.participants unloaded on deeper paths, where a notice renderer failed).

The budgets below leave a margin of 1-2 for the input flow, which is still changing. A share
and a score end with the person's next step (#12: the home facts, services/home.py) and a
notice to a coordinator reads their digest choice (#13): they are the next to trim (one
query for the next step's facts, the preference loaded with the person).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from bench._load import OPENED, Someone, samspil_plan
from bot.app import App
from bot.playbook import Cast
from tests.helpers_dialog import fresh_routers, open_family  # noqa: F401 (fresh_routers: autouse)
from tests.sql_count import SqlCount, counted

# Statements per step, at most (BEGIN and COMMIT not counted).
BUDGET = {
    "tap": 8,
    "text": 8,
    "share": 17,
    "score": 10,
    "command": 9,     # /input, /skala
}


@pytest.fixture
def counter(samspil: App) -> Iterator[SqlCount]:
    count = SqlCount(samspil)
    yield count
    count.close()


async def _step(counter: SqlCount, act: Callable[[], Awaitable[Any]]) -> list[str]:
    """The statements of the one update `act` makes (waits until it has committed)."""
    before = len(counter.updates)
    await act()
    for _ in range(500):
        if len(counter.updates) > before:
            break
        await asyncio.sleep(0.01)
    assert len(counter.updates) == before + 1, "one step, one update"
    return counter.updates[-1]


def _show(kind: str, statements: list[str]) -> str:
    lines = "\n".join(f"  {' '.join(s.split())[:140]}" for s in statements)
    return f"{kind}: {counted(statements)} statements (budget {BUDGET[kind]}):\n{lines}"


def _walk() -> list[tuple[str, str, str, str]]:
    """The benchmarks' walk after the dialog has opened (bench/_load.py `samspil_plan`, kept up to
    date with the input flow), each step with its kind: the tap that shares, the tap that saves
    the score, other taps, a text written into a box, a command."""
    plan = samspil_plan(Someone(0, "Mette", True, "x"), ("Emma sover dårligt.", "Og hun er træt i skolen.",
                                                         "Hun elsker at tegne."))
    after = plan[plan.index(OPENED) + 1:]
    taps = [i for i, (kind, _a, _e) in enumerate(after) if kind == "tap"]
    skala = next(i for i, (_k, arg, _e) in enumerate(after) if arg == "/skala")
    share = max(i for i in taps if i < skala)
    out = []
    for i, (kind, arg, expect) in enumerate(after):
        if kind == "send":
            step = "command" if arg.startswith("/") else "text"
        else:
            step = "share" if i == share else "score" if i == taps[-1] else "tap"
        out.append((step, kind, arg, expect))
    return out


async def test_statements_per_step_stay_within_budget(cast: Cast, samspil: App, counter: SqlCount,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    fam = await open_family(cast, samspil)
    mom = fam.mom
    steps: list[tuple[str, list[str]]] = []
    for step, kind, arg, expect in _walk():
        if kind == "send":
            statements = await _step(counter, lambda arg=arg, expect=expect: cast.say(mom, arg, expect=expect))
        else:
            statements = await _step(counter, lambda arg=arg, expect=expect: cast.tap_text(mom, arg, expect=expect))
        steps.append((step, statements))
    report = "\n".join(_show(kind, statements) for kind, statements in steps)
    with capsys.disabled():
        print("\n" + report)
    assert {kind for kind, _s in steps} == set(BUDGET)
    assert all(counted(s) > 0 for _kind, s in steps), f"a step counted nothing:\n{report}"
    over = [(kind, counted(s)) for kind, s in steps if counted(s) > BUDGET[kind]]
    assert not over, f"over budget: {over}\n{report}"
    # A text in a box, opening an area and picking a number need the person's seat alone: the
    # dialog's other participants are not loaded.
    one_seat = {i for i, (_s, _k, arg, _e) in enumerate(_walk()) if arg in ("Familieforhold", "4")}
    everyone = [s for i, (kind, statements) in enumerate(steps) if kind == "text" or i in one_seat
                for s in statements if " FROM participant " in " ".join(s.split()) and "participant.dialog_id IN" in s]
    assert len(one_seat) == 2 and not everyone, f"a one-seat step loaded the dialog's participants:\n{report}"
    # ... nor its dialog again (it came with the seat).
    again = [s for kind, statements in steps if kind == "text" for s in statements if " FROM dialog " in " ".join(s.split())]
    assert not again, f"a text in a box selected the dialog a second time:\n{report}"
