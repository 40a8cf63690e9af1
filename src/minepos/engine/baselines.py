"""Baselines the engine is measured against: nearest anchor, and per-fix least squares.

- `NearestAnchor` is what most installed systems report: "last seen near reader 17". The place is
  the anchor's own place on the network (shortest range, strongest RSSI, or the last reader that
  detected the tag); its interval is half the distance to the neighbouring anchor either side.
- `LeastSquaresFix` solves every ranging epoch on its own: the network point minimising the sum
  of squared range residuals (network samples every 0.5 m around the nearest anchor's range
  shell, then the best few refined on a 5 cm grid), with the textbook 95 % interval
  ``± 1.96 σ / sqrt(Σ cos² θ_i)``. It holds the last fix while a tag has fewer ranges.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from minepos.engine.tables import NetworkSamples
from minepos.mine import Mine

__all__ = ["LeastSquaresFix", "NearestAnchor"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: kinds of a measurement row in the baselines' inputs
RANGE, RSSI, PRESENCE = 0, 1, 2


class NearestAnchor:
    """Per tag: the place of the anchor that heard it best in its latest measurements."""

    def __init__(self, mine: Mine, n_tags: int) -> None:
        self.a_tunnel = np.array(
            [mine.tunnel_index[a.tunnel] for a in mine.anchors], dtype=np.int64
        )
        self.a_offset = np.array([a.offset_m for a in mine.anchors])
        xyz = np.array([a.xyz for a in mine.anchors]).reshape(-1, 3)
        d = (
            np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=2)
            if len(xyz)
            else np.zeros((0, 0))
        )
        np.fill_diagonal(d, np.inf)
        self.half = np.minimum(np.min(d, axis=1, initial=np.inf) / 2.0, 250.0)
        self.last = np.full(n_tags, -1, dtype=np.int64)

    def update(self, tag: IntArray, kind: IntArray, anchor: IntArray, value: FloatArray) -> None:
        """Take one tick's anchor measurements (rows: tag index, kind, anchor index, value)."""
        if len(tag) == 0:
            return
        score = np.where(kind == RANGE, -value, np.where(kind == RSSI, value + 1000.0, 1e6))
        order = np.lexsort((score, tag))
        last_of_tag = np.append(tag[order][1:] != tag[order][:-1], True)
        best = order[last_of_tag]
        self.last[tag[best]] = anchor[best]

    def estimate(self, tags: IntArray) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
        """``(tunnel, offset, interval from, interval to)`` of each tag (-1 tunnel: never heard)."""
        a = self.last[tags]
        ok = a >= 0
        a = np.where(ok, a, 0)
        t = np.where(ok, self.a_tunnel[a], -1)
        s = self.a_offset[a]
        return t, s, s - self.half[a], s + self.half[a]


class LeastSquaresFix:
    """Per tag: the network point that best fits the ranges of its latest epoch."""

    def __init__(self, mine: Mine, n_tags: int, sigma: float = 0.1) -> None:
        self.mine = mine
        self.samples = NetworkSamples(mine)
        self.a_xyz = np.array([a.xyz for a in mine.anchors]).reshape(-1, 3)
        self.sigma = sigma
        self.t = np.full(n_tags, -1, dtype=np.int64)
        self.s = np.zeros(n_tags)
        self.hw = np.full(n_tags, np.inf)

    def update(self, tag: IntArray, kind: IntArray, anchor: IntArray, value: FloatArray) -> None:
        """Solve each tag's ranges of this tick (rows as in `NearestAnchor.update`)."""
        rng = kind == RANGE
        tag, anchor, value = tag[rng], anchor[rng], value[rng]
        if len(tag) == 0:
            return
        order = np.argsort(tag, kind="stable")
        tag, anchor, value = tag[order], anchor[order], value[order]
        bounds = np.flatnonzero(np.diff(tag)) + 1
        for a, r, k in zip(
            np.split(anchor, bounds),
            np.split(value, bounds),
            tag[np.append(0, bounds)] if len(tag) else [],
            strict=True,
        ):
            if len(a) >= 2:
                self._solve(int(k), a, r)

    def _solve(self, k: int, a: IntArray, r: FloatArray) -> None:
        near = a[np.argmin(r)]
        cand = self.samples.near(self.a_xyz[near], float(r.min()) + 3.0)
        if len(cand) == 0:
            return
        t = self.samples.tunnel[cand]
        s = self.samples.offset[cand]
        best = np.argsort(self._cost(t, s, a, r))[:4]
        fine = np.repeat(s[best], 21) + np.tile(np.linspace(-0.5, 0.5, 21), len(best))
        ft = np.repeat(t[best], 21)
        fine = np.clip(fine, 0.0, self.mine.geometry.lengths[ft])
        i = int(np.argmin(self._cost(ft, fine, a, r)))
        self.t[k], self.s[k] = ft[i], fine[i]
        p = self.mine.point_at(ft[i : i + 1], fine[i : i + 1])[0]
        u = self.mine.geometry.direction_at(ft[i : i + 1], fine[i : i + 1])[0]
        diff = p - self.a_xyz[a]
        cos = diff @ u / np.maximum(np.linalg.norm(diff, axis=1), 1e-6)
        self.hw[k] = 1.96 * self.sigma / np.sqrt(max(float(np.sum(cos**2)), 1e-12))

    def _cost(self, t: IntArray, s: FloatArray, a: IntArray, r: FloatArray) -> FloatArray:
        p = self.mine.point_at(t, s)
        d = np.linalg.norm(p[:, None, :] - self.a_xyz[a][None, :, :], axis=2)
        out: FloatArray = ((d - r[None, :]) ** 2).sum(axis=1)
        return out

    def estimate(self, tags: IntArray) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
        """``(tunnel, offset, interval from, interval to)`` of each tag (-1 tunnel: no fix yet)."""
        s, hw = self.s[tags], np.minimum(self.hw[tags], 1e4)
        return self.t[tags], s, s - hw, s + hw
