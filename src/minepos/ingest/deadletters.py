"""Dead letters: every refused payload with its reasons, kept (bounded) for integrators to inspect.

`DeadLetterSink` is the interface the pipeline writes to. `SqliteDeadLetterStore` is ingest's own
bounded, persisted implementation (standard-library sqlite3, one file); `minepos.store` provides
a database-backed one with the same interface for deployments on PostgreSQL.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from minepos.errors import InputError

__all__ = [
    "DEFAULT_DATA_DIR",
    "MAX_PAYLOAD_TEXT",
    "DeadLetter",
    "DeadLetterSink",
    "MemoryDeadLetterStore",
    "SqliteDeadLetterStore",
    "payload_text",
]

DEFAULT_DATA_DIR: Final = Path("minepos-data")
DB_NAME: Final = "deadletters.sqlite3"
#: the payload is kept up to this many characters; the rest is cut (and marked as cut)
MAX_PAYLOAD_TEXT: Final = 64 * 1024


def payload_text(payload: bytes) -> str:
    """The payload as text for a person to read: UTF-8 with replacements, cut at 64 KiB."""
    text = bytes(payload[: MAX_PAYLOAD_TEXT + 1]).decode("utf-8", errors="replace")
    if len(text) > MAX_PAYLOAD_TEXT:
        return text[:MAX_PAYLOAD_TEXT] + f"... [cut, {len(payload)} bytes in all]"
    return text


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A payload that was refused in whole or in part, and why."""

    received_at: float
    gateway: str
    transport: str
    decoder: str
    reason: str
    payload: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the API and the CLI."""
        return {
            "received_at": datetime.fromtimestamp(self.received_at, UTC).isoformat(),
            "gateway": self.gateway,
            "transport": self.transport,
            "decoder": self.decoder,
            "reason": self.reason,
            "payload": self.payload,
        }


class DeadLetterSink(Protocol):
    """Where refused payloads go; newest first when read back."""

    def put(self, letters: Sequence[DeadLetter]) -> None:
        """Keep these letters (dropping the oldest beyond the store's bound)."""
        ...

    def recent(self, limit: int, gateway: str | None = None) -> list[DeadLetter]:
        """The newest `limit` letters, optionally of one gateway only, newest first."""
        ...


class MemoryDeadLetterStore:
    """Bounded in-memory store: for tests and for runs that persist nothing."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._letters: deque[DeadLetter] = deque(maxlen=capacity)

    def put(self, letters: Sequence[DeadLetter]) -> None:
        """Append; the oldest fall off."""
        self._letters.extend(letters)

    def recent(self, limit: int, gateway: str | None = None) -> list[DeadLetter]:
        """Newest first."""
        out = [d for d in reversed(self._letters) if gateway is None or d.gateway == gateway]
        return out[:limit]


_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS dead_letter (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    gateway TEXT NOT NULL,
    transport TEXT NOT NULL,
    decoder TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letter_gateway ON dead_letter (gateway, id);
"""


class SqliteDeadLetterStore:
    """Bounded dead-letter store in one SQLite file; keeps the newest `capacity` letters.

    Letters are buffered and written in one transaction per `flush_every` letters or
    `flush_after_s` seconds (a flood of bad payloads must not stall ingest with a commit each);
    reading, counting and closing flush first. A crash may lose the last `flush_after_s` of
    letters, never the counters.
    """

    def __init__(
        self,
        path: Path,
        capacity: int = 10_000,
        *,
        flush_every: int = 64,
        flush_after_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.capacity = capacity
        self.flush_every = flush_every
        self.flush_after_s = flush_after_s
        self.clock = clock
        self._pending: list[DeadLetter] = []
        self._flushed_at = -math.inf  # the first letter after a quiet spell is written at once
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise InputError(f"cannot open the dead-letter store {path}: {exc}") from exc
        atexit.register(_flush_at_exit, weakref.ref(self))

    @classmethod
    def in_dir(
        cls, data_dir: Path = DEFAULT_DATA_DIR, capacity: int = 10_000
    ) -> SqliteDeadLetterStore:
        """The store at ``<data_dir>/deadletters.sqlite3``."""
        return cls(data_dir / DB_NAME, capacity)

    def put(self, letters: Sequence[DeadLetter]) -> None:
        """Buffer the letters; write them when enough are waiting or enough time has passed."""
        with self._lock:
            self._pending.extend(letters)
            due = self.clock() - self._flushed_at >= self.flush_after_s
            if len(self._pending) >= self.flush_every or (self._pending and due):
                self._write()
            elif self._pending and self._timer is None:
                # nothing may follow: make sure what waits is written within flush_after_s
                self._timer = threading.Timer(self.flush_after_s, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Write what is buffered now."""
        with self._lock:
            self._write()

    def _write(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._flushed_at = self.clock()
        if not self._pending:
            return
        rows = [
            (d.received_at, d.gateway, d.transport, d.decoder, d.reason, d.payload)
            for d in self._pending
        ]
        self._pending = []
        self._db.execute("BEGIN")
        try:
            self._db.executemany(
                "INSERT INTO dead_letter"
                " (received_at, gateway, transport, decoder, reason, payload)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            last = self._db.execute("SELECT max(id) FROM dead_letter").fetchone()[0]
            self._db.execute("DELETE FROM dead_letter WHERE id <= ?", (last - self.capacity,))
            self._db.execute("COMMIT")
        except sqlite3.Error:
            self._db.execute("ROLLBACK")
            raise

    def recent(self, limit: int, gateway: str | None = None) -> list[DeadLetter]:
        """Newest first."""
        sql = "SELECT received_at, gateway, transport, decoder, reason, payload FROM dead_letter"
        args: tuple[Any, ...] = ()
        if gateway is not None:
            sql += " WHERE gateway = ?"
            args = (gateway,)
        sql += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            self._write()
            rows = self._db.execute(sql, (*args, max(0, limit))).fetchall()
        return [DeadLetter(*row) for row in rows]

    def count(self) -> int:
        """How many letters are kept."""
        with self._lock:
            self._write()
            return int(self._db.execute("SELECT count(*) FROM dead_letter").fetchone()[0])

    def close(self) -> None:
        """Write what is buffered and close the file."""
        with self._lock:
            self._write()
            self._db.close()


def _flush_at_exit(ref: weakref.ref[SqliteDeadLetterStore]) -> None:
    """Write what a store still buffers when the process ends without closing it."""
    store = ref()
    if store is not None:
        with contextlib.suppress(sqlite3.Error):
            store.flush()
