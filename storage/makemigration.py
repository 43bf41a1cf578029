"""Developer tool: autogenerate the next Alembic revision from the models.

    python -m storage.makemigration "add meetings"

Compares the models with a scratch SQLite database at head; review the result.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from storage.db import alembic_config


def main() -> None:
    message = " ".join(sys.argv[1:]) or "change"
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            heads = list((Path(__file__).parent / "migrations" / "versions").glob("*.py"))
            rev_id = f"{len(heads) + 1:04d}"
            command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)


if __name__ == "__main__":
    main()
