"""Tunnel geometry: every tunnel's polyline flattened into segment arrays, vectorised queries.

All tunnels are laid end to end on one "global" axis: tunnel ``t`` covers
``[base[t], base[t] + length[t]]``. A point (t, s) has the global coordinate ``base[t] + s``, and
one `searchsorted` over the segment starts finds its segment for any number of points at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

__all__ = ["TunnelGeometry"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: spacing of the sample points used to find projection candidates
_SAMPLE_STEP_M = 10.0
_CANDIDATES = 12


class TunnelGeometry:
    """Polylines of all tunnels; point-at-offset and projection of points onto the network.

    Parameters
    ----------
    polylines
        One ``(K_t, 3)`` array of vertices per tunnel, ``K_t >= 2``, from its ``from`` node to its
        ``to`` node.
    """

    def __init__(self, polylines: Sequence[FloatArray]) -> None:
        seg_a: list[FloatArray] = []
        seg_b: list[FloatArray] = []
        seg_tunnel: list[IntArray] = []
        lengths = np.empty(len(polylines))
        first_seg = np.empty(len(polylines), dtype=np.intp)
        n = 0
        for t, pts in enumerate(polylines):
            first_seg[t] = n
            seg_a.append(pts[:-1])
            seg_b.append(pts[1:])
            seg_tunnel.append(np.full(len(pts) - 1, t, dtype=np.intp))
            lengths[t] = float(np.linalg.norm(pts[1:] - pts[:-1], axis=1).sum())
            n += len(pts) - 1
        self.lengths: FloatArray = lengths
        self.first_seg: IntArray = first_seg
        self.last_seg: IntArray = np.append(first_seg[1:], n) - 1
        self.seg_a: FloatArray = np.concatenate(seg_a)
        self.seg_b: FloatArray = np.concatenate(seg_b)
        self.seg_tunnel: IntArray = np.concatenate(seg_tunnel)
        d = self.seg_b - self.seg_a
        self.seg_len: FloatArray = np.linalg.norm(d, axis=1)
        self.seg_dir: FloatArray = d / np.maximum(self.seg_len, 1e-12)[:, None]
        self.base: FloatArray = np.concatenate(([0.0], np.cumsum(lengths)[:-1]))
        # global start of each segment: tunnel base + offset of the segment within its tunnel
        within = np.cumsum(self.seg_len) - self.seg_len
        within -= within[self.first_seg][self.seg_tunnel]
        self.seg_start: FloatArray = self.base[self.seg_tunnel] + within
        self._tree: cKDTree | None = None
        self._sample_seg: IntArray | None = None

    @property
    def n_tunnels(self) -> int:
        """Number of tunnels."""
        return len(self.lengths)

    def point_at(self, tunnel: IntArray, offset: FloatArray) -> FloatArray:
        """The xyz of points at ``offset`` metres along ``tunnel`` (offsets clipped to the tunnel).

        Shapes: ``tunnel`` and ``offset`` ``(N,)``; result ``(N, 3)``.
        """
        tunnel = np.asarray(tunnel, dtype=np.intp)
        s = np.clip(np.asarray(offset, dtype=np.float64), 0.0, self.lengths[tunnel])
        g = self.base[tunnel] + s
        seg = np.searchsorted(self.seg_start, g, side="right") - 1
        seg = np.clip(seg, self.first_seg[tunnel], self.last_seg[tunnel])
        along = np.clip(g - self.seg_start[seg], 0.0, self.seg_len[seg])
        return self.seg_a[seg] + self.seg_dir[seg] * along[:, None]

    def direction_at(self, tunnel: IntArray, offset: FloatArray) -> FloatArray:
        """Unit tangent (towards increasing offset) at the given points, ``(N, 3)``."""
        tunnel = np.asarray(tunnel, dtype=np.intp)
        s = np.clip(np.asarray(offset, dtype=np.float64), 0.0, self.lengths[tunnel])
        seg = np.searchsorted(self.seg_start, self.base[tunnel] + s, side="right") - 1
        seg = np.clip(seg, self.first_seg[tunnel], self.last_seg[tunnel])
        return self.seg_dir[seg]

    def project(self, xyz: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
        """Nearest point of the network to each of ``xyz`` ``(N, 3)``.

        Returns ``(tunnel, offset, distance)``, each ``(N,)``. Candidates come from a k-d tree of
        sample points every few metres; points whose candidates might miss the true nearest
        segment are checked against every segment, so the answer is exact.
        """
        pts = np.atleast_2d(np.asarray(xyz, dtype=np.float64))
        tree, sample_seg = self._samples()
        k = min(_CANDIDATES, len(sample_seg))
        dist_s, idx = tree.query(pts, k=k)
        dist_s = np.asarray(dist_s).reshape(len(pts), k)
        cand = sample_seg[np.asarray(idx).reshape(len(pts), k)]
        seg, along, dist = self._best_of(pts, cand)
        # A segment point nearer than `dist` lies within half a step of some sample; if every
        # such sample could be beyond the k found, fall back to all segments for that point.
        reach = dist + _SAMPLE_STEP_M
        unsure: IntArray = (
            np.flatnonzero(dist_s[:, -1] < reach) if k < len(sample_seg) else np.empty(0, np.intp)
        )
        for i in unsure:
            near = np.unique(sample_seg[tree.query_ball_point(pts[i], reach[i])])
            s, a, d = self._best_of(pts[i : i + 1], near[None, :])
            seg[i], along[i], dist[i] = s[0], a[0], d[0]
        tunnel = self.seg_tunnel[seg]
        offset = self.seg_start[seg] - self.base[tunnel] + along
        return tunnel, np.minimum(offset, self.lengths[tunnel]), dist

    def _best_of(self, pts: FloatArray, cand: IntArray) -> tuple[IntArray, FloatArray, FloatArray]:
        """Exact projection of each point onto its candidate segments; keep the nearest."""
        out_seg = np.empty(len(pts), dtype=np.intp)
        out_along = np.empty(len(pts))
        out_dist = np.empty(len(pts))
        chunk = max(1, 2_000_000 // max(cand.shape[1], 1))
        for lo in range(0, len(pts), chunk):
            c = cand[lo : lo + chunk]
            p = pts[lo : lo + chunk, None, :]
            along = np.einsum("nkj,nkj->nk", p - self.seg_a[c], self.seg_dir[c])
            along = np.clip(along, 0.0, self.seg_len[c])
            foot = self.seg_a[c] + self.seg_dir[c] * along[..., None]
            d2 = np.einsum("nkj,nkj->nk", p - foot, p - foot)
            best = np.argmin(d2, axis=1)
            rows = np.arange(len(c))
            out_seg[lo : lo + chunk] = c[rows, best]
            out_along[lo : lo + chunk] = along[rows, best]
            out_dist[lo : lo + chunk] = np.sqrt(d2[rows, best])
        return out_seg, out_along, out_dist

    def _samples(self) -> tuple[cKDTree, IntArray]:
        if self._tree is None or self._sample_seg is None:
            counts = np.maximum(np.ceil(self.seg_len / _SAMPLE_STEP_M).astype(np.intp), 1) + 1
            seg = np.repeat(np.arange(len(self.seg_len)), counts)
            starts = np.cumsum(counts) - counts
            frac = (np.arange(counts.sum()) - np.repeat(starts, counts)) / np.repeat(
                counts - 1, counts
            )
            pts = self.seg_a[seg] + (self.seg_b[seg] - self.seg_a[seg]) * frac[:, None]
            self._tree = cKDTree(pts)
            self._sample_seg = seg
        return self._tree, self._sample_seg
