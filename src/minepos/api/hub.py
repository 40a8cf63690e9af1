"""`LiveHub`: fans the live picture out to WebSocket clients.

Position changes are merged per tag and sent once every ``period_s`` (so a tag moves at most once
a second on the console however often it is heard); alarm changes go out the moment they are
published and overtake any position message still waiting for a slow client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final

import orjson

__all__ = ["LiveHub", "Subscription"]

log = logging.getLogger(__name__)

#: position messages a client may have waiting before newer ones are dropped for it
_MAX_WAITING: Final = 3


def encode(message: dict[str, Any]) -> str:
    """Compact JSON text of one WebSocket message."""
    return orjson.dumps(message, option=orjson.OPT_SERIALIZE_NUMPY).decode()


class Subscription:
    """One client's outbox: urgent messages (alarms) first, then the rest in order."""

    def __init__(self) -> None:
        self.urgent: deque[str] = deque()
        self.normal: deque[str] = deque()
        self.ready = asyncio.Event()
        self.dropped = 0

    def put(self, text: str, *, urgent: bool) -> None:
        """Queue a message; a client too slow to take positions loses the newest ones."""
        if urgent:
            self.urgent.append(text)
        elif len(self.normal) < _MAX_WAITING:
            self.normal.append(text)
        else:
            self.dropped += 1
            return
        self.ready.set()

    async def get(self) -> list[str]:
        """Wait for messages and take all of them, urgent ones first."""
        await self.ready.wait()
        self.ready.clear()
        out = list(self.urgent) + list(self.normal)
        self.urgent.clear()
        self.normal.clear()
        return out


class LiveHub:
    """Publish from anywhere (the tick loop, a request thread); clients subscribe on the loop."""

    def __init__(
        self,
        period_s: float = 1.0,
        clock: Callable[[], float] = time.time,
        *,
        auto_flush: bool = True,
    ) -> None:
        self.period_s = period_s
        #: False when the owner calls `flush` itself once per tick (the runtime does)
        self.auto_flush = auto_flush
        self.clock = clock
        self._subs: set[Subscription] = set()
        self._pending: dict[str, dict[str, Any]] = {}
        self._headcount: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.sent_alarms = 0

    @property
    def clients(self) -> int:
        """Number of connected subscribers."""
        return len(self._subs)

    def start(self) -> None:
        """Start the periodic flush on the running event loop."""
        self._loop = asyncio.get_running_loop()
        if self._task is None and self.auto_flush:
            self._task = self._loop.create_task(self._run(), name="minepos-live-hub")

    async def stop(self) -> None:
        """Stop the periodic flush."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def subscribe(self) -> Subscription:
        """A new client outbox (call on the event loop)."""
        sub = Subscription()
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a client."""
        self._subs.discard(sub)

    def publish_positions(self, rows: list[dict[str, Any]]) -> None:
        """Position rows that changed; merged per tag until the next flush."""
        with self._lock:
            for row in rows:
                self._pending[row["tag"]] = row

    def publish_headcount(self, headcount: dict[str, Any]) -> None:
        """The current headcount; sent with the next flush."""
        with self._lock:
            self._headcount = headcount

    def publish_alarm(self, alarm: dict[str, Any]) -> None:
        """An alarm change (`AlarmPublic` shape): sent to every client at once."""
        text = encode({"type": "alarm", "alarm": alarm})
        self._broadcast(text, urgent=True)
        self.sent_alarms += 1

    def flush(self) -> None:
        """Send the merged positions and the headcount now (the periodic task calls this)."""
        with self._lock:
            rows, self._pending = list(self._pending.values()), {}
            headcount, self._headcount = self._headcount, None
        ts = self.clock()
        if rows:
            self._broadcast(encode({"type": "positions", "ts": ts, "rows": rows}), urgent=False)
        if headcount is not None:
            self._broadcast(encode({"type": "headcount", **headcount}), urgent=False)

    def _broadcast(self, text: str, *, urgent: bool) -> None:
        loop = self._loop
        if loop is not None and not _on_loop(loop):
            loop.call_soon_threadsafe(self._deliver, text, urgent)
        else:
            self._deliver(text, urgent)

    def _deliver(self, text: str, urgent: bool) -> None:
        for sub in list(self._subs):
            sub.put(text, urgent=urgent)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.period_s)
            try:
                self.flush()
            except Exception:  # one bad row must not stop the stream for everyone
                log.exception("live hub flush failed")


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
