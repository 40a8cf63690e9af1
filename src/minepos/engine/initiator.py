"""Placing a new (or lost) tag's particles from the measurement that first heard it.

A range ``r`` from an anchor puts the particles on the network points between ``r - 2`` and
``r + 2`` metres from it (both sides of the anchor, every tunnel in reach); a presence detection
within the reader's range; an RSSI reading within three times the distance its level suggests;
a gateway's position fix within 3 m of the fix; a lamp issue (``lamp_out``) in the lamp room.
The measurements themselves then weigh the particles in the same tick.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from minepos.engine.config import TrackerConfig
from minepos.engine.likelihood import KIND_FIX, KIND_PRESENCE, KIND_RANGE, KIND_RSSI
from minepos.engine.tables import MineTables, NetworkSamples
from minepos.mine import Mine

__all__ = ["ParticleInitiator"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: preference of the measurement kinds when a new tag's first tick has several
_PREFERENCE = {KIND_FIX: 0, KIND_RANGE: 1, KIND_PRESENCE: 2, KIND_RSSI: 3}


class ParticleInitiator:
    """Draws initial particles for a tag near where a measurement says it is."""

    def __init__(
        self,
        mine: Mine,
        tables: MineTables,
        config: TrackerConfig,
        samples: NetworkSamples | None = None,
    ) -> None:
        self.mine = mine
        self.tables = tables
        self.config = config
        self.samples = samples or NetworkSamples(mine)
        lamp = [s for z in mine.zones if z.kind == "lamp_room" for s in z.spans]
        self._lamp = [(mine.tunnel_index[s.tunnel], s.from_m, s.to_m) for s in lamp]

    @property
    def has_lamp_room(self) -> bool:
        """Whether the mine has a lamp room zone to start issued tags in."""
        return bool(self._lamp)

    @staticmethod
    def best(kinds: IntArray, values: FloatArray) -> int:
        """Index of the most telling measurement: a fix, the shortest range, presence, RSSI."""
        keys = [
            (_PREFERENCE[int(k)], float(v) if k == KIND_RANGE else 0.0)
            for k, v in zip(kinds, values, strict=True)
        ]
        return min(range(len(keys)), key=keys.__getitem__)

    def candidates(self, kind: int, anchor: int, value: float, xyz: FloatArray) -> IntArray:
        """Network sample indices consistent with one measurement."""
        s = self.samples
        if kind == KIND_FIX:
            near = s.near(xyz, 3.0)
            return near if len(near) else s.nearest(xyz, 32)
        src = self.tables.a_xyz[anchor]
        if kind == KIND_RANGE:
            near = s.near(src, value + 2.0)
            dist = np.linalg.norm(s.xyz[near] - src, axis=1)
            shell: IntArray = near[np.abs(dist - value) <= 2.0]
            if len(shell):
                return shell
            near = s.near(src, value + 10.0)
        elif kind == KIND_PRESENCE:
            near = s.near(src, float(self.tables.a_range[anchor]) + 1.0)
        else:
            c = self.config
            guess = 10.0 ** ((c.rssi_at_1m - value) / (10.0 * c.path_loss_exp))
            near = s.near(src, float(np.clip(3.0 * guess, 10.0, 300.0)))
        return near if len(near) else s.nearest(src, 32)

    def draw(
        self, cand: IntArray, rng: np.random.Generator, zones: bool = False
    ) -> tuple[IntArray, FloatArray, FloatArray]:
        """Particles (tunnel, offset, speed) spread over the candidate points; ``zones``: placed
        by a zone reader, `particles_zones` of them with the zone-only motion's speeds
        (`speeds`), else `particles`."""
        p = self.config.particles_zones if zones else self.config.particles
        pick = cand[rng.integers(0, len(cand), p)]
        t = self.samples.tunnel[pick]
        s = np.clip(
            self.samples.offset[pick] + rng.uniform(-0.25, 0.25, p), 0.0, self.tables.t_len[t]
        )
        if zones:
            return t.astype(np.int64), s, self.speeds(t, rng)
        # ranges, RSSI and fixes tell the speed within seconds
        v = np.where(rng.random(p) < 0.5, 0.0, rng.uniform(-1.5, 1.5, p))
        return t.astype(np.int64), s, v

    def lamp_room(self, rng: np.random.Generator) -> tuple[IntArray, FloatArray, FloatArray] | None:
        """`particles_zones` particles spread over the lamp room's stretches (a tag just issued
        is heard by zone readers at most), or None if the mine has none."""
        if not self._lamp:
            return None
        p = self.config.particles_zones
        which = rng.integers(0, len(self._lamp), p)
        lamp = np.array(self._lamp, dtype=np.float64)
        t = lamp[which, 0].astype(np.int64)
        s = rng.uniform(lamp[which, 1], lamp[which, 2])
        return t, s, self.speeds(t, rng)

    def speeds(self, t: IntArray, rng: np.random.Generator) -> FloatArray:
        """Fresh speeds for particles on tunnels ``t``: half stopped, half walking either way
        at a pace between `zone_pace_lo` and `zone_pace_hi`, or riding on transport roadways
        (as `kernel._inject` places them at a reader)."""
        c = self.config
        n = len(t)
        ride = rng.random(n) < np.where(
            self.tables.t_ride[t] > 0, c.zone_ride_transport, c.zone_ride
        )
        pace = np.where(
            ride,
            rng.uniform(c.zone_pace_hi, c.max_speed, n),
            rng.uniform(c.zone_pace_lo, c.zone_pace_hi, n),
        )
        sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        out: FloatArray = np.where(rng.random(n) < 0.5, 0.0, sign * pace)
        return out
