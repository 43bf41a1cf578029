"""The benchmarks in bench/ still run: tiny sizes, SQLite only, a few seconds.

The figures themselves come from running the scripts (README, "Performance").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import openloop, overview_query, throughput
from storage import crypto


@pytest.fixture(autouse=True)
def _keep_data_key() -> Iterator[None]:
    """The benchmarks configure a fresh data key in this process; later tests expect theirs."""
    ring = crypto.configured()
    yield
    crypto.install(ring)


async def test_overview_query_runs(capsys: pytest.CaptureFixture[str]) -> None:
    await overview_query.run(None, small=200, large=2_000, runs=10)
    out = capsys.readouterr().out
    assert "USING INDEX ix_input_entry_round" in out
    assert "ratio 2,000 / 200 rows:" in out


async def test_echo_baseline_runs(tmp_path: Path) -> None:
    people = throughput.plans_for(throughput._people_only(5))
    figures = await throughput.echo_run(tmp_path, people, tasks=False)
    assert figures.steps == sum(len(p) - 1 for p in people.values())  # every step but the wait
    assert figures.rate > 0 and figures.pct(99) >= figures.pct(50)


async def test_open_loop_runs(tmp_path: Path) -> None:
    """bench/openloop.py: a few people arriving at a fixed rate, against the echo bot and Samspil."""
    load = openloop.Load(rate=100.0, think=0.01)
    echo = await openloop.echo_open(tmp_path, 5, load)
    people = throughput._people_only(5)
    assert echo.steps == sum(openloop._steps(openloop.samspil_plan(p, openloop._boxes(p.name))) for p in people)
    samspil, stored = await openloop.samspil_open(tmp_path, 5, load, None, None)
    assert samspil.steps == echo.steps
    assert stored == "stored: 5 shared entries, 5 scores"
    assert "p99" in openloop.line(samspil, load.rate)
