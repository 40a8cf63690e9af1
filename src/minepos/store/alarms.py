"""`AlarmRepository`: every alarm and its lifecycle, written through the single writer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, select

from minepos.safety.alarms import Alarm, AlarmChange
from minepos.store.database import Database
from minepos.store.schema import alarms, audit_log
from minepos.store.upsert import upsert
from minepos.store.writer import Receipt, Statement, Writer

__all__ = ["AlarmRepository"]


def _alarm(row: Row[Any]) -> Alarm:
    details = dict(row.details or {})
    subject = str(details.pop("subject", ""))
    return Alarm(
        id=row.id,
        kind=row.kind,
        raised_at=row.raised_at,
        subject=subject,
        tag=row.tag,
        person=row.person,
        zone=row.zone,
        anchor=row.anchor,
        acked_by=row.acked_by,
        acked_at=row.acked_at,
        ack_comment=row.ack_comment,
        cleared_at=row.cleared_at,
        details=details,
    )


class AlarmRepository:
    """Alarms as rows: one per alarm, updated in place as it is acknowledged and cleared."""

    def __init__(self, db: Database, writer: Writer) -> None:
        self.db = db
        self.writer = writer

    def record(self, changes: Sequence[AlarmChange]) -> Receipt:
        """Store alarm changes (raised, acknowledged, cleared); an acknowledgement is audited."""
        return self.writer.submit(Statement(self.statement(changes)))

    def statement(self, changes: Sequence[AlarmChange]) -> Callable[[Connection], None]:
        """The writes for alarm changes, to run inside a bigger writer task."""
        rows = {c.alarm.id: c.alarm.fields() for c in changes}  # the latest state of each wins
        audits = [
            {
                "ts": c.ts,
                "user": c.alarm.acked_by or "",
                "action": "alarm.ack",
                "target": c.alarm.id,
                "details": {"comment": c.alarm.ack_comment or "", "kind": c.alarm.kind},
            }
            for c in changes
            if c.state == "acknowledged"
        ]

        def run(conn: Connection) -> None:
            if rows:
                upsert(conn, alarms, list(rows.values()), ["id"])
            if audits:
                conn.execute(audit_log.insert(), audits)

        return run

    def get(self, alarm: str) -> Alarm | None:
        """One alarm by id."""
        with self.db.engine.connect() as conn:
            row = conn.execute(select(alarms).where(alarms.c.id == alarm)).first()
        return None if row is None else _alarm(row)

    def active(self) -> list[Alarm]:
        """Alarms not cleared yet, oldest first."""
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(alarms).where(alarms.c.cleared_at.is_(None)).order_by(alarms.c.raised_at)
            ).all()
        return [_alarm(r) for r in rows]

    def list(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        kind: str | None = None,
        limit: int = 1000,
    ) -> list[Alarm]:
        """Alarms raised in a window (newest first), optionally of one kind."""
        stmt = select(alarms)
        if since is not None:
            stmt = stmt.where(alarms.c.raised_at >= since)
        if until is not None:
            stmt = stmt.where(alarms.c.raised_at < until)
        if kind is not None:
            stmt = stmt.where(alarms.c.kind == kind)
        stmt = stmt.order_by(alarms.c.raised_at.desc(), alarms.c.id).limit(limit)
        with self.db.engine.connect() as conn:
            return [_alarm(r) for r in conn.execute(stmt).all()]
