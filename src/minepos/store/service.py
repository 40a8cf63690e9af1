"""`Store`: the database, its one writer and every repository, opened and closed together."""

from __future__ import annotations

from minepos.store.accounts import GatewayRepository, PersonRepository, UserRepository
from minepos.store.alarms import AlarmRepository
from minepos.store.audit import AuditLog
from minepos.store.database import Database
from minepos.store.deadletters import DeadLetterRepository
from minepos.store.events import EventRepository
from minepos.store.history import PositionHistory
from minepos.store.retention import Retention, purge
from minepos.store.writer import Receipt, Writer

__all__ = ["Store"]


class Store:
    """Everything minepos keeps: open once per process, share, `close()` at the end."""

    def __init__(
        self,
        url: str | None = None,
        *,
        max_batch: int = 5000,
        max_delay_s: float = 0.25,
        retention: Retention | None = None,
    ) -> None:
        self.db = Database(url)
        self.writer = Writer(self.db, max_batch=max_batch, max_delay_s=max_delay_s)
        self.retention = retention or Retention()
        self.users = UserRepository(self.db, self.writer)
        self.gateways = GatewayRepository(self.db, self.writer)
        self.people = PersonRepository(self.db, self.writer)
        self.audit = AuditLog(self.db, self.writer)
        self.alarms = AlarmRepository(self.db, self.writer)
        self.events = EventRepository(self.db, self.writer)
        self.history = PositionHistory(self.db, self.writer)
        self.dead_letters = DeadLetterRepository(self.db, self.writer)

    def flush(self, timeout: float | None = 60.0) -> None:
        """Wait until everything queued so far is committed."""
        self.writer.flush(timeout)

    def purge(self, now: float) -> Receipt:
        """Delete what is past its retention at ``now``."""
        return purge(self.writer, now, self.retention)

    def close(self) -> None:
        """Commit what is queued, stop the writer and release the database."""
        self.writer.close()
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
