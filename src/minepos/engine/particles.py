"""Particle and per-tag arrays for all tags, one row (slot) per tag, grown by doubling."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["ParticleStore"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def _widen(a: NDArray[np.generic], rows: int) -> NDArray[np.generic]:
    new = np.zeros((rows, *a.shape[1:]), dtype=a.dtype)
    new[: len(a)] = a
    return new


class ParticleStore:
    """Rows of particles (tunnel ``pt``, offset ``ps``, signed speed ``pv``, log-weight ``lw``).

    Per slot also: the time the particles stand at, the last supporting measurement, the motion
    flag (-1 unknown, 0 still, 1 moving), consecutive ticks that fit nothing, whether it is used,
    and whether its particles still await their first placement.
    """

    def __init__(self, particles: int, capacity: int = 64) -> None:
        self.particles = particles
        self.pt: IntArray = np.zeros((capacity, particles), dtype=np.int64)
        self.ps: FloatArray = np.zeros((capacity, particles))
        self.pv: FloatArray = np.zeros((capacity, particles))
        self.lw: FloatArray = np.full((capacity, particles), -np.log(particles))
        self.time: FloatArray = np.zeros(capacity)
        self.last_seen: FloatArray = np.zeros(capacity)
        #: when a measurement of distance (range, RSSI) or a fix last came (-inf: never)
        self.gauged: FloatArray = np.full(capacity, -np.inf)
        self.moving: IntArray = np.full(capacity, -1, dtype=np.int64)
        self.bad: IntArray = np.zeros(capacity, dtype=np.int64)
        self.used: BoolArray = np.zeros(capacity, dtype=np.bool_)
        self.fresh: BoolArray = np.zeros(capacity, dtype=np.bool_)
        #: live particles per row (the first `live[k]` of the row; see kernel._resize)
        self.live: IntArray = np.full(capacity, particles, dtype=np.int64)
        #: followed by particles (0) or by the Kalman filter (1; `minepos.engine.kalman`)
        self.mode: IntArray = np.zeros(capacity, dtype=np.int64)
        #: the filter's offset, speed and time of its last line-of-sight range; covariance
        #: (ss, sv, vv); tunnel; epochs without a line-of-sight range (or cool-down ticks)
        self.kx: FloatArray = np.zeros((capacity, 3))
        self.kp: FloatArray = np.zeros((capacity, 3))
        self.kt: IntArray = np.zeros(capacity, dtype=np.int64)
        self.kmiss: IntArray = np.zeros(capacity, dtype=np.int64)
        self.tags: list[str | None] = [None] * capacity
        self.free: list[int] = list(range(capacity - 1, -1, -1))

    @property
    def capacity(self) -> int:
        """Number of rows."""
        return len(self.tags)

    def grow(self) -> None:
        """Double the rows."""
        old = self.capacity
        rows = 2 * old
        self.pt = _widen(self.pt, rows)  # type: ignore[assignment]
        self.ps = _widen(self.ps, rows)  # type: ignore[assignment]
        self.pv = _widen(self.pv, rows)  # type: ignore[assignment]
        self.lw = _widen(self.lw, rows)  # type: ignore[assignment]
        self.time = _widen(self.time, rows)  # type: ignore[assignment]
        self.last_seen = _widen(self.last_seen, rows)  # type: ignore[assignment]
        self.gauged = _widen(self.gauged, rows)  # type: ignore[assignment]
        self.moving = _widen(self.moving, rows)  # type: ignore[assignment]
        self.bad = _widen(self.bad, rows)  # type: ignore[assignment]
        self.used = _widen(self.used, rows)  # type: ignore[assignment]
        self.fresh = _widen(self.fresh, rows)  # type: ignore[assignment]
        self.live = _widen(self.live, rows)  # type: ignore[assignment]
        self.mode = _widen(self.mode, rows)  # type: ignore[assignment]
        self.kx = _widen(self.kx, rows)  # type: ignore[assignment]
        self.kp = _widen(self.kp, rows)  # type: ignore[assignment]
        self.kt = _widen(self.kt, rows)  # type: ignore[assignment]
        self.kmiss = _widen(self.kmiss, rows)  # type: ignore[assignment]
        self.tags.extend([None] * old)
        self.free.extend(range(rows - 1, old - 1, -1))

    def take(self, tag: str, ts: float, moving: bool | None) -> int:
        """A free row for ``tag``, first seen at ``ts``."""
        if not self.free:
            self.grow()
        slot = self.free.pop()
        self.tags[slot] = tag
        self.used[slot] = True
        self.fresh[slot] = True
        self.time[slot] = ts
        self.last_seen[slot] = ts
        self.gauged[slot] = -np.inf
        self.bad[slot] = 0
        self.live[slot] = self.particles
        self.mode[slot] = 0
        self.kmiss[slot] = 0
        self.moving[slot] = -1 if moving is None else int(moving)
        return slot

    def release(self, slot: int) -> None:
        """Give a row back."""
        self.used[slot] = False
        self.tags[slot] = None
        self.free.append(slot)

    def place(self, slot: int, t: IntArray, s: FloatArray, v: FloatArray, ts: float) -> None:
        """Set a row's first ``len(t)`` particles (equal weights) standing at time ``ts``."""
        n = len(t)
        self.pt[slot, :n], self.ps[slot, :n], self.pv[slot, :n] = t, s, v
        self.lw[slot, :n] = -np.log(n)
        self.live[slot] = n
        self.mode[slot] = 0
        self.time[slot] = ts
        self.fresh[slot] = False
        self.bad[slot] = 0
