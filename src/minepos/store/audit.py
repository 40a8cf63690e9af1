"""`AuditLog`: every action that changes state, with who did it, when and to what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from minepos.store.database import Database
from minepos.store.schema import audit_log
from minepos.store.writer import Receipt, Writer

__all__ = ["AuditEntry", "AuditLog"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited action."""

    ts: float
    user: str
    action: str
    target: str
    details: dict[str, Any]


class AuditLog:
    """Append-only log of state-changing actions."""

    def __init__(self, db: Database, writer: Writer) -> None:
        self.db = db
        self.writer = writer

    def append(
        self, ts: float, user: str, action: str, target: str, details: dict[str, Any] | None = None
    ) -> Receipt:
        """Queue one entry; wait on the receipt to know it is stored."""
        row = {"ts": ts, "user": user, "action": action, "target": target, "details": details or {}}
        return self.writer.insert(audit_log, [row])

    def list(
        self, *, since: float | None = None, user: str | None = None, limit: int = 1000
    ) -> list[AuditEntry]:
        """Entries newest first, optionally since a time or by one user."""
        stmt = select(audit_log)
        if since is not None:
            stmt = stmt.where(audit_log.c.ts >= since)
        if user is not None:
            stmt = stmt.where(audit_log.c.user == user)
        stmt = stmt.order_by(audit_log.c.ts.desc(), audit_log.c.id.desc()).limit(limit)
        with self.db.engine.connect() as conn:
            return [
                AuditEntry(r.ts, r.user, r.action, r.target, dict(r.details or {}))
                for r in conn.execute(stmt).all()
            ]
