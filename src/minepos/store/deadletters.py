"""`DeadLetterRepository`: ingest's dead letters (`minepos.ingest.deadletters`) in the store."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from minepos.ingest.deadletters import DeadLetter
from minepos.store.database import Database
from minepos.store.schema import dead_letters
from minepos.store.writer import Writer

__all__ = ["DeadLetterRepository"]


class DeadLetterRepository:
    """Implements ingest's `DeadLetterSink` on the store's schema (kept per `Retention`)."""

    def __init__(self, db: Database, writer: Writer) -> None:
        self.db = db
        self.writer = writer

    def put(self, letters: Sequence[DeadLetter]) -> None:
        """Queue the letters; they are committed with the writer's next batch."""
        rows = [
            {
                "ts": d.received_at,
                "gateway": d.gateway,
                "transport": d.transport,
                "decoder": d.decoder,
                "reason": d.reason,
                "payload": d.payload,
            }
            for d in letters
        ]
        if rows:
            self.writer.insert(dead_letters, rows)

    def recent(self, limit: int, gateway: str | None = None) -> list[DeadLetter]:
        """The newest ``limit`` letters, optionally of one gateway, newest first."""
        d = dead_letters
        stmt = select(d.c.ts, d.c.gateway, d.c.transport, d.c.decoder, d.c.reason, d.c.payload)
        if gateway is not None:
            stmt = stmt.where(d.c.gateway == gateway)
        stmt = stmt.order_by(d.c.id.desc()).limit(max(0, limit))
        with self.db.engine.connect() as conn:
            return [DeadLetter(*row) for row in conn.execute(stmt).all()]
