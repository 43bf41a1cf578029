"""Benchmark: the referat of a big dialog, from the database to PDF bytes.

    python bench/report_bench.py [--participants 12] [--areas 10] [--rounds 6]

A SQLite database (in a temporary folder) gets a dialog with P participants who
each write in A areas in each of R rounds (every box 300-1,500 characters of
Danish-looking text, so about 2.7 million characters in all at 12 x 10 x 6), a
score per person and round, a joint target and a closed meeting per round, and
a plan. Then the referat of the last round and of the first round is built the
way the bot builds it (`reports.referat.build_referat`: gather in the session,
render in a worker thread), five times each; the best time is reported, split
into gathering and rendering, and the peak memory of one build (tracemalloc,
measured in a separate run because tracing slows Python down). Finally the same
round rendered with 1/4, 1/2 and all of the participants shows how the cost
grows with the content. Goal: the referat in under a second; cost in
proportion to the content (a referat shows one round's input plus the score
history, so round 6 costs about what round 1 costs).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import Settings  # noqa: E402
from core.i18n import set_timezone  # noqa: E402
from reports.common import localized  # noqa: E402
from reports.referat import build_referat, referat_data, render_referat  # noqa: E402
from rules.dialog_config import load_dialog_config  # noqa: E402
from storage import crypto  # noqa: E402
from storage.db import make_engine, make_sessionmaker, upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Dialog,
    DialogRound,
    Goal,
    InputEntry,
    Meeting,
    MeetingResponse,
    Participant,
    Person,
    Score,
    Task,
)

WORDS = ("Emma har haft en svær uge i skolen og derhjemme men hun er glad når hun er sammen med sine "
         "venner til fodbold om tirsdagen hun sover uroligt og vil ikke spise morgenmad vi har talt med "
         "klasselæreren om pauserne og det går bedre når der er faste aftaler æbler øl på går").split()
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def text(rng: random.Random) -> str:
    target = rng.randint(300, 1500)
    out, length = [], 0
    while length < target:
        word = rng.choice(WORDS)
        out.append(word)
        length += len(word) + 1
    sentences = " ".join(out).split(" og ")
    return ". ".join(s.strip().capitalize() for s in sentences if s.strip()) + "."


async def seed(sessionmaker, participants: int, areas: int, rounds: int, config) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    """The dialog; returns its id and the meeting id of each round."""
    rng = random.Random(5)
    keys = [a.key for a in config.areas][:areas]
    async with sessionmaker() as s, s.begin():
        coord = Person(telegram_id=1, name="Camilla Holm", staff_role="coordinator", title="Familierådgiver",
                       created_at=START)
        s.add(coord)
        await s.flush()
        dialog = Dialog(coordinator_id=coord.id, child_name="Emma", age_group="barn",
                        purpose="Vi vil styrke Emmas trivsel i skolen og derhjemme. " * 3, state="active",
                        round_no=rounds + 1, created_at=START, purpose_updated_at=START, activated_at=START)
        s.add(dialog)
        await s.flush()
        seats = [Participant(dialog_id=dialog.id, person_id=coord.id, name="Camilla Holm", role="coordinator",
                             relation="Familierådgiver", joined_at=START, created_at=START)]
        for i in range(participants):
            person = Person(telegram_id=100 + i, name=f"Deltager {i + 1}", created_at=START)
            s.add(person)
            await s.flush()
            role = ("parent_custody", "professional", "network")[i % 3]
            seats.append(Participant(dialog_id=dialog.id, person_id=person.id, name=f"Deltager {i + 1}",
                                     role=role, relation=("Mor", "Klasselærer", "Morfar")[i % 3],
                                     consent_giver=role == "parent_custody", joined_at=START, created_at=START))
        s.add_all(seats)
        await s.flush()
        meetings = []
        for r in range(1, rounds + 1):
            day = START + timedelta(days=42 * (r - 1))
            s.add(DialogRound(dialog_id=dialog.id, round_no=r, joint_target=max(1, 6 - r), target_set_at=day,
                              started_at=day, ended_at=day + timedelta(days=40)))
            for seat in seats[1:]:
                for k, key in enumerate(keys):
                    at = day + timedelta(days=1, minutes=k)
                    s.add(InputEntry(dialog_id=dialog.id, participant_id=seat.id, round_no=r, area=key,
                                     worries=text(rng), works=text(rng), next_steps=text(rng), created_at=at,
                                     updated_at=at, shared_at=at))
                s.add(Score(dialog_id=dialog.id, participant_id=seat.id, round_no=r,
                            value=rng.randint(max(1, 7 - r), min(10, 9 - r // 2)), created_at=day))
            meeting = Meeting(dialog_id=dialog.id, round_no=r, starts_at=day + timedelta(days=40),
                              place="Skolen, mødelokale 2", status="closed", version=1, created_at=day,
                              opened_at=day + timedelta(days=40), closed_at=day + timedelta(days=40, hours=2))
            s.add(meeting)
            await s.flush()
            meetings.append(meeting.id)
            for seat in seats[1:]:
                s.add(MeetingResponse(meeting_id=meeting.id, participant_id=seat.id, coming=rng.random() < 0.8,
                                      answered_at=day))
        for k, key in enumerate(keys[:4]):
            goal = Goal(dialog_id=dialog.id, area=key, text=f"Mål {k + 1}: " + text(rng)[:200], round_no=1,
                        created_at=START)
            s.add(goal)
            await s.flush()
            for j in range(3):
                s.add(Task(goal_id=goal.id, dialog_id=dialog.id, what=text(rng)[:300],
                           owner_id=seats[1 + (k + j) % participants].id, starts_on=date(2026, 2, 1),
                           ends_on=date(2026, 4, 30), status=("open", "done", "help")[j],
                           created_at=START))
        dialog.plan_version = dialog.plan_accepted_version = 3
        return dialog.id, meetings


async def build(sessionmaker, dialog_id: int, meeting_id: int, config, settings  # type: ignore[no-untyped-def]
                ) -> tuple[float, float, float, int, int]:
    """(seconds gathering, seconds rendering, CPU seconds of both, PDF size, pages) of one referat.

    CPU time is the process's (all threads): on a busy machine it says what the work costs,
    where the wall clock also counts waiting for a core.
    """
    async with sessionmaker() as s:
        dialog = await s.get(Dialog, dialog_id)
        meeting = await s.get(Meeting, meeting_id)
        c0, t0 = time.process_time(), time.perf_counter()
        data = await referat_data(s, dialog, meeting, config, settings, START)
        t1 = time.perf_counter()
    pdf = await asyncio.to_thread(_render, data)
    t2, c2 = time.perf_counter(), time.process_time()
    return t1 - t0, t2 - t1, c2 - c0, len(pdf), len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def _render(data) -> bytes:  # type: ignore[no-untyped-def]
    with localized("da"):
        return render_referat(data)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=12)
    parser.add_argument("--areas", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    crypto.configure(crypto.new_key())
    set_timezone(ZoneInfo("Europe/Copenhagen"))
    config = load_dialog_config()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(_env_file=None, database_url=url, municipality_name="Faxe Kommune",
                            data_key=crypto.new_key())
        crypto.configure(settings.data_key.get_secret_value())  # type: ignore[union-attr]
        engine = make_engine(url)
        await upgrade(engine)
        sm = make_sessionmaker(engine)
        t = time.perf_counter()
        dialog_id, meetings = await seed(sm, args.participants, args.areas, args.rounds, config)
        print(f"seeded {args.participants} participants x {args.areas} areas x {args.rounds} rounds "
              f"in {time.perf_counter() - t:.1f} s")

        # Warm up (font loading, imports) once, as a running bot is warm.
        await build(sm, dialog_id, meetings[0], config, settings)
        results, cpu = {}, {}
        for label, meeting_id in ((f"round {args.rounds}", meetings[-1]), ("round 1", meetings[0])):
            runs = [await build(sm, dialog_id, meeting_id, config, settings) for _ in range(5)]
            gather_s, render_s, cpu_s, size, pages = min(runs, key=lambda r: r[0] + r[1])
            results[label] = gather_s + render_s
            cpu[label] = min(r[2] for r in runs)
            print(f"referat {label}: {gather_s + render_s:.3f} s (gather {gather_s:.3f} s, render "
                  f"{render_s:.3f} s; CPU {cpu_s:.3f} s), {size / 1024:.0f} KiB, {pages} pages")
        last = f"round {args.rounds}"
        print(f"ratio {last} / round 1: {results[last] / results['round 1']:.2f} wall, "
              f"{cpu[last] / cpu['round 1']:.2f} CPU")

        tracemalloc.start()
        async with sm() as s:
            dialog = await s.get(Dialog, dialog_id)
            meeting = await s.get(Meeting, meetings[-1])
            pdf = await build_referat(s, dialog, meeting, config, settings, START, locale="da")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak memory of one referat (tracemalloc): {peak / 2**20:.1f} MiB, {len(pdf) / 1024:.0f} KiB PDF")

        # Cost against content: the same round with a quarter, half and all of the participants.
        async with sm() as s:
            dialog = await s.get(Dialog, dialog_id)
            meeting = await s.get(Meeting, meetings[-1])
            full = await referat_data(s, dialog, meeting, config, settings, START)
        from dataclasses import replace

        authors = sorted({e.author.id for e in full.entries})
        for share in (4, 2, 1):
            keep = set(authors[: max(1, len(authors) // share)])
            part = replace(full, entries=tuple(e for e in full.entries if e.author.id in keep))
            chars = sum(len(e.worries) + len(e.works) + len(e.next_steps) for e in part.entries)
            best = min(_timed(part) for _ in range(3))
            print(f"  {len(keep):>2} authors, {chars / 1000:>5.0f}k characters: {best:.3f} s CPU "
                  f"({best / chars * 1e5 * 1000:.1f} ms per 100k characters)")
        await engine.dispose()


def _timed(data) -> float:  # type: ignore[no-untyped-def]
    t = time.process_time()
    _render(data)
    return time.process_time() - t


if __name__ == "__main__":
    asyncio.run(main())
