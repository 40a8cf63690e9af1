"""The single writer: one thread fed typed tasks, committing them in batches.

Every change to the store goes through here, so there is exactly one writing connection (SQLite
allows only one at a time anyway, and on PostgreSQL batching is what makes 14,000 positions a
second cheap). A task is applied inside the current batch's transaction; the batch is committed
when the queue runs dry, when it reaches ``max_batch`` tasks or after ``max_delay_s``.

"Reported as stored" means committed: `Writer.submit` returns a `Receipt` whose ``wait()`` returns
once the task's batch is committed, and `Writer.flush` waits for everything submitted before it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, Table

from minepos.errors import MineposError
from minepos.store.database import Database

__all__ = ["InsertRows", "Receipt", "Statement", "Task", "Writer", "WriterError"]

log = logging.getLogger(__name__)


class WriterError(MineposError):
    """A batch could not be committed; its tasks are not stored."""


class Task(Protocol):
    """A unit of work for the writer: applied on the batch's open connection."""

    def apply(self, conn: Connection) -> None:
        """Execute this task's statements (no commit: the writer commits the batch)."""


@dataclass(frozen=True, slots=True)
class InsertRows:
    """Insert rows into one table (an executemany)."""

    table: Table
    rows: Sequence[dict[str, Any]]

    def apply(self, conn: Connection) -> None:
        """Insert all rows in one statement."""
        if self.rows:
            conn.execute(self.table.insert(), list(self.rows))


@dataclass(frozen=True, slots=True)
class Statement:
    """Any function of the connection (an upsert, an update, a delete)."""

    run: Callable[[Connection], object]

    def apply(self, conn: Connection) -> None:
        """Run the function on the batch's connection."""
        self.run(conn)


@dataclass(slots=True)
class Receipt:
    """Says when a submitted task is committed (or that its batch failed)."""

    _done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def _settle(self, error: BaseException | None) -> None:
        self.error = error
        self._done.set()

    @property
    def done(self) -> bool:
        """True once the batch holding the task is committed or has failed."""
        return self._done.is_set()

    def wait(self, timeout: float | None = 30.0) -> None:
        """Block until committed; raise `WriterError` if the batch failed or on timeout."""
        if not self._done.wait(timeout):
            raise WriterError(f"store did not commit within {timeout} s")
        if self.error is not None:
            raise WriterError(f"store write failed: {self.error}") from self.error


_STOP = object()


class Writer:
    """The one writer thread of a `Database`."""

    def __init__(self, db: Database, *, max_batch: int = 5000, max_delay_s: float = 0.25) -> None:
        self.db = db
        self.max_batch = max_batch
        self.max_delay_s = max_delay_s
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="minepos-store-writer", daemon=True)
        self._closed = False
        self.batches = 0
        self.tasks = 0
        self._thread.start()

    def submit(self, task: Task) -> Receipt:
        """Queue a task; the receipt says when it is committed."""
        if self._closed:
            raise WriterError("the store writer is closed")
        receipt = Receipt()
        self._queue.put((task, receipt))
        return receipt

    def insert(self, table: Table, rows: Sequence[dict[str, Any]]) -> Receipt:
        """Shorthand: queue an `InsertRows`."""
        return self.submit(InsertRows(table, rows))

    def flush(self, timeout: float | None = 60.0) -> None:
        """Wait until everything submitted so far is committed."""
        self.submit(Statement(lambda _conn: None)).wait(timeout)

    def close(self, timeout: float | None = 60.0) -> None:
        """Commit what is queued and stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _take_batch(self) -> tuple[list[tuple[Task, Receipt]], bool]:
        """Block for the first task, then take more until the queue is dry or limits are hit."""
        first = self._queue.get()
        if first is _STOP:
            return [], True
        batch: list[tuple[Task, Receipt]] = [first]  # type: ignore[list-item]
        deadline = time.monotonic() + self.max_delay_s
        while len(batch) < self.max_batch and time.monotonic() < deadline:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            batch.append(item)  # type: ignore[arg-type]
        return batch, False

    def _commit(self, batch: list[tuple[Task, Receipt]]) -> None:
        error: BaseException | None = None
        try:
            with self.db.engine.begin() as conn:
                for task, _ in batch:
                    task.apply(conn)
        except Exception as exc:  # the writer thread must outlive any bad task
            log.exception("store batch of %d tasks failed", len(batch))
            error = exc
            if len(batch) > 1:
                # one bad task must not lose the others: retry them one per transaction
                for item in batch:
                    self._commit([item])
                return
        self.batches += 1
        self.tasks += len(batch)
        for _, receipt in batch:
            receipt._settle(error)

    def _run(self) -> None:
        stop = False
        while not stop:
            batch, stop = self._take_batch()
            if batch:
                self._commit(batch)
