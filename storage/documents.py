"""Documents sent later: written with their outbox rows in the deciding transaction.

A `Document` (storage/models.py) holds one PDF (or, until the scheduler renders it, the data
it shows) with its file name and caption; each recipient has an outbox row of kind
"document" whose payload is the document's id. The scheduler sends it like any notice
(retries on 429 and 5xx, exactly once across crashes and processes) and never merges it
with text. Once no pending or sending row refers to a document, it is deleted (`sweep`):
the bytes are kept only until every recipient has them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Document, OutboxMessage
from storage.outbox import PENDING, SENDING

KIND = "document"  # the outbox kind that carries a document


async def add(session: AsyncSession, *, dialog_id: int | None, kind: str, locale: str, filename: str,
              caption: str, now: datetime, pdf: bytes | None = None, source: bytes | None = None,
              protect: bool = True) -> Document:
    if (pdf is None) == (source is None):
        raise ValueError("a document is stored either rendered (pdf) or as its data (source)")
    doc = Document(dialog_id=dialog_id, kind=kind, locale=locale, filename=filename, caption=caption,
                   pdf=pdf, source=source, protect=protect, created_at=now)
    session.add(doc)
    await session.flush()
    return doc


def payload_of(document_id: int) -> dict[str, Any]:
    return {"document_id": document_id}


def _payload_text(document_id: int) -> str:
    # storage.outbox.enqueue stores payloads as sorted JSON: the same text for the same id.
    return json.dumps(payload_of(document_id), sort_keys=True)


async def store_rendered(session: AsyncSession, document_id: int, pdf: bytes) -> None:
    """The scheduler rendered `source`: keep the PDF, drop the data (first renderer wins)."""
    await session.execute(update(Document).where(Document.id == document_id, Document.pdf.is_(None))
                          .values(pdf=pdf, source=None).execution_options(synchronize_session=False))


async def sweep(session: AsyncSession, document_ids: Iterable[int] | None = None) -> int:
    """Delete the documents (of `document_ids`, or all) that no pending or sending row waits to send.

    A document and its rows are committed together, so a document seen here without a
    waiting row has reached everyone it will reach (sent, skipped, failed, cancelled or erased).
    """
    query = select(Document.id)
    if document_ids is not None:
        wanted = sorted(set(document_ids))
        if not wanted:
            return 0
        query = query.where(Document.id.in_(wanted))
    candidates = list(await session.scalars(query))
    if not candidates:
        return 0
    waiting = set(await session.scalars(
        select(OutboxMessage.payload).where(OutboxMessage.kind == KIND,
                                            OutboxMessage.status.in_((PENDING, SENDING)))))
    done = [i for i in candidates if _payload_text(i) not in waiting]
    if done:
        await session.execute(delete(Document).where(Document.id.in_(done))
                              .execution_options(synchronize_session=False))
    return len(done)
