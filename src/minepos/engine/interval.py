"""From one tag's weighted particles to its estimate and 95 % region along the tunnels.

The region is a density-ranked set: each particle's density is the weight of the particles on
its tunnel within ``h`` of it (``h = max(min_half_width, bandwidth * spread * n^-1/5)``, the
spread being the weighted standard deviation of its cluster on that tunnel). Particles are taken
in order of decreasing density until they hold ``interval_mass`` of the weight; each contributes
``[s - h, s + h]`` and overlapping pieces merge into stretches. Particles on several tunnels
(past a junction) give several stretches, and a bimodal posterior (either side of a lone anchor)
gives two stretches on one tunnel rather than one long one. The point estimate is the weighted
mean of the particles in the stretch that holds the densest particle.
"""

from __future__ import annotations

import math

import numpy as np

from minepos.engine.config import TrackerConfig
from minepos.engine.jit import jit
from minepos.engine.tables import MineTables

__all__ = ["summarize"]

_F = list(TrackerConfig.__slots__)
#: particles farther apart than this (m) belong to different modes
_CLUSTER_GAP = 2.0
MIN_HW, BW, MASS = _F.index("min_half_width"), _F.index("bandwidth"), _F.index("interval_mass")


@jit
def _half_widths(
    pt: np.ndarray, ps: np.ndarray, w: np.ndarray, prm: np.ndarray, h: np.ndarray
) -> None:
    """Per particle (sorted by tunnel, offset): the kernel half-width of its cluster.

    A cluster is a run of particles on one tunnel without a gap wider than ``_CLUSTER_GAP``, so
    the two modes either side of a lone anchor each get a bandwidth from their own spread.
    """
    n = len(pt)
    i = 0
    while i < n:
        j = i
        sw = 0.0
        sm = 0.0
        while j < n and pt[j] == pt[i] and (j == i or ps[j] - ps[j - 1] <= _CLUSTER_GAP):
            sw += w[j]
            sm += w[j] * ps[j]
            j += 1
        mean = sm / max(sw, 1e-300)
        var = 0.0
        for k in range(i, j):
            var += w[k] * (ps[k] - mean) ** 2
        spread = math.sqrt(var / max(sw, 1e-300))
        hw = max(prm[MIN_HW], prm[BW] * 1.06 * spread * (j - i) ** -0.2)
        for k in range(i, j):
            h[k] = hw
        i = j


@jit
def _densities(
    pt: np.ndarray, ps: np.ndarray, w: np.ndarray, h: np.ndarray, dens: np.ndarray
) -> None:
    """Weight within ``h`` of each particle on its own tunnel (two-pointer sweep)."""
    n = len(pt)
    lo = 0
    hi = 0
    acc = 0.0
    for i in range(n):
        while lo < n and (pt[lo] < pt[i] or ps[lo] < ps[i] - h[i]):
            if lo < hi:
                acc -= w[lo]
            lo += 1
        hi = max(hi, lo)
        while hi < n and pt[hi] == pt[i] and ps[hi] <= ps[i] + h[i]:
            acc += w[hi]
            hi += 1
        dens[i] = acc


@jit
def _merge_pieces(
    pt: np.ndarray,
    ps: np.ndarray,
    w: np.ndarray,
    h: np.ndarray,
    chosen: np.ndarray,
    tab: MineTables,
    st: np.ndarray,
    slo: np.ndarray,
    shi: np.ndarray,
    swt: np.ndarray,
) -> int:
    """Chosen particles' pieces ``[s-h, s+h]`` merged into stretches; returns their number."""
    n_sp = 0
    for i in range(len(pt)):
        if not chosen[i]:
            continue
        t = pt[i]
        lo = max(ps[i] - h[i], 0.0)
        hi = min(ps[i] + h[i], tab.t_len[t])
        if n_sp > 0 and st[n_sp - 1] == t and lo <= shi[n_sp - 1]:
            shi[n_sp - 1] = max(shi[n_sp - 1], hi)
            swt[n_sp - 1] += w[i]
        else:
            st[n_sp], slo[n_sp], shi[n_sp], swt[n_sp] = t, lo, hi, w[i]
            n_sp += 1
    return n_sp


@jit
def _limit_spans(
    n_sp: int, k_max: int, st: np.ndarray, slo: np.ndarray, shi: np.ndarray, swt: np.ndarray
) -> int:
    """Close the smallest gaps on one tunnel (else drop the lightest stretch) until ``k_max``."""
    while n_sp > k_max:
        best, gap = -1, 1e300
        for k in range(n_sp - 1):
            if st[k] == st[k + 1] and slo[k + 1] - shi[k] < gap:
                best, gap = k, slo[k + 1] - shi[k]
        if best < 0:
            best = int(np.argmin(swt[:n_sp]))
        else:
            shi[best] = shi[best + 1]
            swt[best] += swt[best + 1]
            best += 1
        for k in range(best, n_sp - 1):
            st[k], slo[k], shi[k], swt[k] = st[k + 1], slo[k + 1], shi[k + 1], swt[k + 1]
        n_sp -= 1
    return n_sp


@jit
def summarize(
    tab: MineTables,
    prm: np.ndarray,
    pt_row: np.ndarray,
    ps_row: np.ndarray,
    pv_row: np.ndarray,
    lw_row: np.ndarray,
    st: np.ndarray,
    slo: np.ndarray,
    shi: np.ndarray,
) -> tuple[int, float, float, int]:
    """One tag's ``(tunnel, offset, speed, number of stretches)``; fills ``st/slo/shi``."""
    n = len(pt_row)
    order = np.argsort(pt_row * 1.0e7 + ps_row)
    pt, ps, pv = pt_row[order], ps_row[order], pv_row[order]
    w = np.exp(lw_row[order])
    w /= w.sum()
    h = np.empty(n)
    dens = np.empty(n)
    _half_widths(pt, ps, w, prm, h)
    _densities(pt, ps, w, h, dens)
    rank = np.argsort(-dens)
    chosen = np.zeros(n, dtype=np.bool_)
    acc = 0.0
    for r in range(n):
        chosen[rank[r]] = True
        acc += w[rank[r]]
        if acc >= prm[MASS]:
            break
    swt = np.empty(n)
    n_sp = _merge_pieces(pt, ps, w, h, chosen, tab, st, slo, shi, swt)
    top = rank[0]
    tb, lo_b, hi_b = pt[top], ps[top] - h[top], ps[top] + h[top]
    for k in range(n_sp):  # the stretch holding the densest particle
        if st[k] == tb and slo[k] <= ps[top] <= shi[k]:
            lo_b, hi_b = slo[k], shi[k]
    sw, sm, sv = 0.0, 0.0, 0.0
    for i in range(n):
        if pt[i] == tb and lo_b <= ps[i] <= hi_b:
            sw += w[i]
            sm += w[i] * ps[i]
            sv += w[i] * pv[i]
    n_sp = _limit_spans(n_sp, len(st), st, slo, shi, swt)
    return tb, sm / sw, abs(sv / sw), n_sp
