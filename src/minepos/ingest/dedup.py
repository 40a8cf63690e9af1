"""Drops the same reading arriving twice (two gateways, or a QoS 1 redelivery) within a window."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from minepos.measurement import Measurement

__all__ = ["Deduplicator"]


class Deduplicator:
    """Remembers the hashes of recent measurements in two generations of sets.

    A measurement is a duplicate when an identical one (every field equal, timestamp included)
    was seen in the current or the previous generation; generations turn over every
    ``window_s`` seconds of the injected clock or when one holds ``max_entries``, so memory is
    bounded and a duplicate is caught if it arrives within at least one window. Only 64-bit
    hashes are kept (a false match needs a hash collision among ~1e6 entries: ~1e-7).

    Thread-safe: pipelines with locks of their own (the runtime's SOS lane and normal lane)
    share one, so a reading arriving through both is taken once.
    """

    def __init__(
        self, clock: Callable[[], float], window_s: float = 10.0, max_entries: int = 2_000_000
    ) -> None:
        self.clock = clock
        self.window_s = window_s
        self.max_entries = max_entries
        self._current: set[int] = set()
        self._previous: set[int] = set()
        self._turned_at = clock()
        self._lock = threading.Lock()

    def is_duplicate(self, m: Measurement) -> bool:
        """True if `m` was seen recently; otherwise remember it and return False."""
        key = hash(m)
        with self._lock:
            if key in self._current or key in self._previous:
                return True
            self._current.add(key)
            return False

    def unseen(self, measurements: Iterable[Measurement]) -> list[Measurement]:
        """Those of ``measurements`` not seen recently, in order, all remembered (one lock)."""
        out: list[Measurement] = []
        with self._lock:
            current, previous = self._current, self._previous
            for m in measurements:
                key = hash(m)
                if key not in current and key not in previous:
                    current.add(key)
                    out.append(m)
        return out

    def tick(self, now: float) -> None:
        """Turn generations over when the window has passed or the current one is full."""
        with self._lock:
            if now - self._turned_at >= self.window_s or len(self._current) >= self.max_entries:
                self._previous = self._current
                self._current = set()
                self._turned_at = now

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)
