"""Storage: the /oversigt query for one dialog with 10,000 vs 1,000,000 input rows stored.

    python bench/overview_query.py                                   # SQLite (a temp file)
    python bench/overview_query.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test
    python bench/overview_query.py --large 200000                    # quicker

Two databases are filled the same way: dialogs of six seats (a coordinator and
five people) with 40 input rows each (five people x two areas x four rounds, a
few of the last round's still drafts), 10,000 rows (250 dialogs) in one and
1,000,000 rows (25,000 dialogs) in the other. The measured dialog sits in the
middle of each and is the same in both. Then `storage.inputs.shared_entries`,
the function the overview (handlers/overview.py `render_page`) calls for one
dialog's shared input of a round, runs in a fresh session with the dialog loaded
(as in the handler), alternately on the small and the large database, and the
median of each is printed with the ratio large / small (goal: about 1) and the
plan of the main query. Ratios, not absolute times: the machine is shared.

Personal text is stored encrypted as the bot stores it; the filler rows reuse a
few ciphertexts (encrypting a million values adds minutes and nothing to the
query). PostgreSQL: a schema of its own per database (`bench_<pid>_<n>`),
dropped at the end, and ANALYZE after loading, as autovacuum would do.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Boolean, Integer, String, column, table, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage import crypto, inputs  # noqa: E402
from storage.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from storage.models import Dialog  # noqa: E402
from storage.types import UTCDateTime  # noqa: E402

ROWS_PER_DIALOG = 40  # 5 people x 2 areas x 4 rounds
PEOPLE = 5
ROUNDS = 4
AREAS = ("family", "school")
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# Untyped views of the tables: the filler rows carry ciphertext that is already encrypted.
PERSON = table("person", column("id", Integer), column("telegram_id", Integer), column("name", String),
               column("created_at", UTCDateTime()))
DIALOG = table("dialog", column("id", Integer), column("coordinator_id", Integer), column("child_name", String),
               column("age_group", String), column("purpose", String), column("state", String),
               column("round_no", Integer), column("plan_version", Integer),
               column("plan_accepted_version", Integer), column("created_at", UTCDateTime()),
               column("purpose_updated_at", UTCDateTime()), column("activated_at", UTCDateTime()))
PARTICIPANT = table("participant", column("id", Integer), column("dialog_id", Integer),
                    column("person_id", Integer), column("name", String), column("role", String),
                    column("relation", String), column("consent_giver", Boolean),
                    column("joined_at", UTCDateTime()), column("created_at", UTCDateTime()))
ENTRY = table("input_entry", column("id", Integer), column("dialog_id", Integer),
              column("participant_id", Integer), column("round_no", Integer), column("area", String),
              column("worries", String), column("works", String), column("next_steps", String),
              column("created_at", UTCDateTime()), column("updated_at", UTCDateTime()),
              column("shared_at", UTCDateTime()))
ROLES = (("parent_custody", "Mor", True), ("parent_custody", "Far", True), ("professional", "Lærer", False),
         ("professional", "Pædagog", False), ("network", "Morfar", False))


class Texts:
    """A few ciphertexts reused for the filler; fresh ones for the measured dialog."""

    def __init__(self) -> None:
        self.fixed = {s: crypto.encrypt(s) for s in (
            "Emma", "Vi vil styrke Emmas trivsel i skolen og derhjemme.", "Deltager", "Mor", "Far", "Lærer",
            "Pædagog", "Morfar", "Camilla Holm",
            "Hun sover uroligt og vil ikke spise morgenmad; pauserne i skolen er svære.",
            "Fodbold om tirsdagen med vennerne går godt, og faste aftaler hjælper.",
            "Vi taler med klasselæreren om pauserne og prøver en fast morgenrutine.")}
        self.fresh = False

    def __call__(self, s: str) -> str:
        return crypto.encrypt(s) if self.fresh else self.fixed[s]


def _dialog_rows(d: int, measured: bool, t: Texts) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """Persons, dialog, participants and input rows of dialog number d (ids derived from d)."""
    t.fresh = measured
    dialog_id = d + 1
    persons, seats, entries = [], [], []
    seats.append({"id": dialog_id * 10, "dialog_id": dialog_id, "person_id": 1, "name": t("Camilla Holm"),
                  "role": "coordinator", "relation": None, "consent_giver": False, "joined_at": START,
                  "created_at": START})
    for i, (role, relation, giver) in enumerate(ROLES):
        person_id = 2 + d * PEOPLE + i
        persons.append({"id": person_id, "telegram_id": 10_000_000 + person_id, "name": t("Deltager"),
                        "created_at": START})
        seats.append({"id": dialog_id * 10 + 1 + i, "dialog_id": dialog_id, "person_id": person_id,
                      "name": t("Deltager"), "role": role, "relation": t(relation), "consent_giver": giver,
                      "joined_at": START, "created_at": START})
    n = 0
    for r in range(1, ROUNDS + 1):
        day = START + timedelta(days=42 * (r - 1) + d % 7)
        for i in range(PEOPLE):
            for a, area in enumerate(AREAS):
                at = day + timedelta(hours=i, minutes=a)
                # In the last round a few are still drafts (the overview must skip them).
                shared = None if r == ROUNDS and (i + a) % 4 == 3 else at
                entries.append({"id": dialog_id * ROWS_PER_DIALOG + n, "dialog_id": dialog_id,
                                "participant_id": dialog_id * 10 + 1 + i, "round_no": r, "area": area,
                                "worries": t("Hun sover uroligt og vil ikke spise morgenmad; pauserne i skolen er "
                                             "svære."),
                                "works": t("Fodbold om tirsdagen med vennerne går godt, og faste aftaler hjælper."),
                                "next_steps": t("Vi taler med klasselæreren om pauserne og prøver en fast "
                                                "morgenrutine."),
                                "created_at": at, "updated_at": at, "shared_at": shared})
                n += 1
    dialog = {"id": dialog_id, "coordinator_id": 1, "child_name": t("Emma"),
              "age_group": "barn", "purpose": t("Vi vil styrke Emmas trivsel i skolen og derhjemme."),
              "state": "active", "round_no": ROUNDS, "plan_version": 0, "plan_accepted_version": 0,
              "created_at": START, "purpose_updated_at": START, "activated_at": START}
    return persons, [dialog], seats, entries


async def fill(engine: AsyncEngine, rows: int, postgres: bool) -> int:
    """`rows` input rows over rows/40 dialogs; returns the measured dialog's id."""
    await upgrade(engine)
    dialogs = max(1, rows // ROWS_PER_DIALOG)
    middle = dialogs // 2
    t = Texts()
    async with engine.begin() as conn:
        await conn.execute(PERSON.insert(), [{"id": 1, "telegram_id": 1, "name": t("Camilla Holm"),
                                              "created_at": START}])
    chunk = 1000  # dialogs per transaction: 40,000 input rows
    for first in range(0, dialogs, chunk):
        batch: tuple[list[dict], ...] = ([], [], [], [])
        for d in range(first, min(dialogs, first + chunk)):
            for into, part in zip(batch, _dialog_rows(d, d == middle, t), strict=True):
                into.extend(part)
        async with engine.begin() as conn:
            for tbl, part in zip((PERSON, DIALOG, PARTICIPANT, ENTRY), batch, strict=True):
                await conn.execute(tbl.insert(), part)
    if postgres:
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    return middle + 1


async def overview_once(sessionmaker, dialog_id: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Seconds for `shared_entries` of the last round (the dialog already loaded, as in the handler)."""
    async with sessionmaker() as s:
        dialog = await s.get(Dialog, dialog_id)
        assert dialog is not None
        t = time.perf_counter()
        entries = await inputs.shared_entries(s, dialog, ROUNDS)
        elapsed = time.perf_counter() - t
        assert entries and entries[0].participant is not None
        return elapsed, len(entries)


async def explain(engine: AsyncEngine, dialog_id: int, postgres: bool) -> str:
    where = f"dialog_id = {dialog_id} AND round_no = {ROUNDS} AND shared_at IS NOT NULL"
    sql = f"SELECT * FROM input_entry WHERE {where} ORDER BY shared_at, id"
    async with engine.connect() as conn:
        if postgres:
            rows = (await conn.execute(text("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql))).all()
            return "\n".join("    " + r[0] for r in rows)
        rows = (await conn.execute(text("EXPLAIN QUERY PLAN " + sql))).all()
        return "\n".join("    " + r[-1] for r in rows)


@asynccontextmanager
async def database(postgres_url: str | None, label: str) -> AsyncIterator[AsyncEngine]:
    """An empty database: a temp SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if postgres_url is None:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite+aiosqlite:///{Path(tmp) / f'{label}.db'}")
            try:
                yield engine
            finally:
                await engine.dispose()
        return
    schema = f"bench_{os.getpid()}_{label}"
    admin = create_async_engine(postgres_url)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(postgres_url, schema=schema)
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await admin.dispose()


async def run(postgres_url: str | None, small: int, large: int, runs: int) -> None:
    crypto.configure(crypto.new_key())
    postgres = postgres_url is not None
    print(f"database: {'PostgreSQL' if postgres else 'SQLite'}")
    async with database(postgres_url, "small") as small_db, database(postgres_url, "large") as large_db:
        found: dict[int, tuple[AsyncEngine, int]] = {}
        for rows, engine in ((small, small_db), (large, large_db)):
            t = time.perf_counter()
            found[rows] = (engine, await fill(engine, rows, postgres))
            print(f"filled {rows:,} input rows ({rows // ROWS_PER_DIALOG:,} dialogs) "
                  f"in {time.perf_counter() - t:.0f} s")
        timings: dict[int, list[float]] = {small: [], large: []}
        counts = set()
        sessionmakers = {rows: make_sessionmaker(engine) for rows, (engine, _d) in found.items()}
        for rows in (small, large):  # warm up: caches, prepared statements, pages in memory
            for _ in range(5):
                await overview_once(sessionmakers[rows], found[rows][1])
        # Alternate small and large in batches so that a busy moment hits both alike.
        for _ in range(max(1, runs // 10)):
            for rows in (small, large):
                for _ in range(10):
                    elapsed, n = await overview_once(sessionmakers[rows], found[rows][1])
                    timings[rows].append(elapsed)
                    counts.add(n)
        assert len(counts) == 1, counts
        med = {rows: statistics.median(ts) for rows, ts in timings.items()}
        p90 = {rows: statistics.quantiles(ts, n=10)[-1] for rows, ts in timings.items()}
        print(f"plan of the main query on {large:,} rows:\n{await explain(large_db, found[large][1], postgres)}")
    print(f"overview of one dialog ({counts.pop()} shared entries of {ROWS_PER_DIALOG} rows), "
          f"median of {len(timings[small])} runs each:")
    for rows in (small, large):
        print(f"  {rows:>9,} input rows: {med[rows] * 1000:.2f} ms (p90 {p90[rows] * 1000:.2f} ms)")
    print(f"ratio {large:,} / {small:,} rows: {med[large] / med[small]:.2f} (goal: about 1)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--postgres", metavar="URL", help="postgresql+asyncpg://... (default: SQLite in a temp file)")
    p.add_argument("--small", type=int, default=10_000)
    p.add_argument("--large", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=200, help="timed runs per database (default 200)")
    args = p.parse_args()
    asyncio.run(run(args.postgres, args.small, args.large, args.runs))


if __name__ == "__main__":
    main()
