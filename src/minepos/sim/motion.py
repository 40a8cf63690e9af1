"""Vectorised evaluation of everyone's itinerary: where each person is at given times.

The segments of all people are laid end to end in flat arrays; each person keeps a cursor on the
segment they are in. Times only move forward in a run, so advancing the cursors costs a few
vectorised passes per tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from minepos.sim.plan import STILL, Plans, Segment

__all__ = ["Positions", "Trajectories"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Positions:
    """Where a set of people are: tunnel index, offset, signed speed along the tunnel, mode."""

    person: IntArray
    tunnel: IntArray
    offset: FloatArray
    speed: FloatArray
    mode: IntArray

    @property
    def moving(self) -> BoolArray:
        """The tag's motion flag: true unless the person is still."""
        out: BoolArray = self.mode != STILL
        return out


class Trajectories:
    """All itineraries as flat segment arrays with one forward-only cursor per person."""

    def __init__(
        self, segs: list[list[Segment]], lamp_out: list[float], lamp_in: list[float]
    ) -> None:
        counts = np.array([len(s) for s in segs], dtype=np.intp)
        flat = [x for s in segs for x in s]
        arr = np.array(flat, dtype=np.float64).reshape(-1, 6)
        self.t0, self.t1 = arr[:, 0].copy(), arr[:, 1].copy()
        self.tunnel = arr[:, 2].astype(np.intp)
        self.s0, self.s1 = arr[:, 3].copy(), arr[:, 4].copy()
        self.mode = arr[:, 5].astype(np.intp)
        self.first = np.cumsum(counts) - counts
        self.last = self.first + np.maximum(counts, 1) - 1
        self.has_segments = counts > 0
        self.lamp_out = np.asarray(lamp_out, dtype=np.float64)
        self.lamp_in = np.asarray(lamp_in, dtype=np.float64)
        self.cursor = self.first.copy()

    @classmethod
    def from_plans(cls, plans: Plans) -> Trajectories:
        """Flatten the plans of every person."""
        return cls(plans.segs, plans.lamp_out, plans.lamp_in)

    @property
    def n_people(self) -> int:
        """Number of people."""
        return len(self.first)

    def active(self, t: FloatArray) -> BoolArray:
        """Who has a lamp out (is below or on the way) at their time ``t`` ``(n_people,)``."""
        return (t >= self.lamp_out) & (t < self.lamp_in) & self.has_segments

    def at(self, person: IntArray, t: FloatArray) -> Positions:
        """Positions of ``person`` at times ``t`` (each person's times must not go backwards)."""
        cur = self.cursor[person]
        while True:
            ahead = (t >= self.t1[cur]) & (cur < self.last[person])
            if not ahead.any():
                break
            cur = cur + ahead
        self.cursor[person] = cur
        dt = self.t1[cur] - self.t0[cur]
        frac = np.clip((t - self.t0[cur]) / np.where(dt > 0, dt, 1.0), 0.0, 1.0)
        ds = self.s1[cur] - self.s0[cur]
        speed = np.where(dt > 0, ds / np.where(dt > 0, dt, 1.0), 0.0)
        inside = (t >= self.t0[cur]) & (t < self.t1[cur])
        return Positions(
            person,
            self.tunnel[cur],
            self.s0[cur] + frac * ds,
            np.where(inside, speed, 0.0),
            self.mode[cur],
        )

    def reset(self) -> None:
        """Rewind every cursor (to evaluate from the start again)."""
        self.cursor = self.first.copy()

    def peek(self, person: int, t: float) -> tuple[int, float, int]:
        """Tunnel, offset and mode of one person at ``t`` without moving the cursors."""
        lo, hi = int(self.first[person]), int(self.last[person])
        k = lo + int(np.searchsorted(self.t1[lo : hi + 1], t, side="right"))
        k = min(k, hi)
        dt = self.t1[k] - self.t0[k]
        frac = 0.0 if dt <= 0 or math.isinf(dt) else min(max((t - self.t0[k]) / dt, 0.0), 1.0)
        s = float(self.s0[k] + frac * (self.s1[k] - self.s0[k]))
        return int(self.tunnel[k]), s, int(self.mode[k])
