"""How long a full garbage collection pauses the bot's loop, before and after start-up's
objects are frozen out of collections (bot/gc_on_loop.py `freeze_start_up`).

    python bench/gc_pause.py            # 20 full collections each way

The bot is built as `samspil run` builds it (bot/app.py `build_app`, on a fresh SQLite file,
nothing started), then a full collection (`gc.collect(2)`) is timed `--rounds` times; then
what is alive is frozen as `samspil run` does once it is up, and the same is timed again.
Printed: the tracked objects, the median and the longest pause each way, and their ratio
(after / before), measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import data_key  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.gc_on_loop import freeze_start_up  # noqa: E402
from core.config import Settings  # noqa: E402

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # never used: nothing is started


def _pauses(rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        gc.collect(2)
        out.append((time.perf_counter() - t) * 1000)
    return out


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=20, help="full collections timed each way (default 20)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, bot_token=TOKEN, bot_api_url="http://127.0.0.1:9",
                            database_url=f"sqlite+aiosqlite:///{tmp}/samspil.db", data_key=data_key())
        app = await build_app(settings, start_scheduler=False)
        try:
            tracked = len(gc.get_objects())
            before = _pauses(args.rounds)
            frozen = freeze_start_up()
            after = _pauses(args.rounds)
            gc.unfreeze()
        finally:
            await app.close()
    print(f"objects tracked by the collector after start-up: {tracked:,}; frozen: {frozen:,}")
    for label, pauses in (("not frozen", before), ("start-up frozen", after)):
        print(f"{label:<24} full collection: median {statistics.median(pauses):8.2f} ms, "
              f"longest {max(pauses):8.2f} ms")
    print(f"ratio frozen / not frozen (median): {statistics.median(after) / statistics.median(before):.4f}")


if __name__ == "__main__":
    asyncio.run(main())
