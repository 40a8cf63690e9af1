"""From one tag's weighted particles to its estimate and 95 % region along the tunnels.

The region is a density-ranked set: each particle's density is the weight of the particles on
its tunnel within ``h`` of it (``h = max(min_half_width, bandwidth * spread * n^-1/5)``, the
spread being the weighted interquartile range / 1.349 of its cluster on that tunnel). Particles
are taken in order of decreasing density until they hold ``interval_mass`` of the weight; each
contributes
``[s - h, s + h]`` and overlapping pieces merge into stretches. Particles on several tunnels
(past a junction) give several stretches, and a bimodal posterior (either side of a lone anchor)
gives two stretches on one tunnel rather than one long one. The point estimate is the weighted
mean of the particles in the stretch that holds the most weight.
"""

from __future__ import annotations

import math

import numpy as np

from minepos.engine.config import TrackerConfig
from minepos.engine.jit import jit, jit_inline
from minepos.engine.tables import MineTables

__all__ = ["TUNNEL_KEY", "summarize"]

_F = list(TrackerConfig.__slots__)
#: particles farther apart than this (m) belong to different modes ...
_CLUSTER_GAP = 5.0
#: ... if the gap is also this many times the mean spacing of their tunnel's particles
_SPACING_GAPS = 8.0
#: density levels used to rank particles
_LEVELS = 256
#: tunnel stride of the sort key (m): beyond any tunnel length plus half-width
TUNNEL_KEY = float(2**24)
GAP = _F.index("merge_gap")
MIN_HW, BW, MASS = _F.index("min_half_width"), _F.index("bandwidth"), _F.index("interval_mass")


@jit
def _half_widths(
    pt: np.ndarray, ps: np.ndarray, w: np.ndarray, prm: np.ndarray, h: np.ndarray
) -> None:
    """Per particle (sorted by tunnel, offset): the kernel half-width of its cluster, so that
    each mode of a multimodal cloud gets a bandwidth from its own spread.

    A cluster is a run of particles on one tunnel without a gap wider than `_CLUSTER_GAP` and
    than `_SPACING_GAPS` times the mean spacing of the particles from its first to the
    tunnel's last: the two tight modes either side of a lone anchor are two clusters, while a
    zone-only tag's cloud spread thinly over a hundred metres of tunnel, where most gaps exceed
    a few metres, is one, even behind a tight mode at the tunnel's start.
    """
    n = len(pt)
    a = 0
    while a < n:  # one tunnel's particles: a..b-1
        b = a + 1
        while b < n and pt[b] == pt[a]:
            b += 1
        i = a
        while i < b:
            gap = _CLUSTER_GAP
            if b - 1 > i:
                gap = max(gap, _SPACING_GAPS * (ps[b - 1] - ps[i]) / (b - 1 - i))
            j = i + 1
            while j < b and ps[j] - ps[j - 1] <= gap:
                j += 1
            _cluster_half_width(ps, w, prm, h, i, j)
            i = j
        a = b


@jit
def _cluster_half_width(
    ps: np.ndarray, w: np.ndarray, prm: np.ndarray, h: np.ndarray, i: int, j: int
) -> None:
    """Set ``h`` of the cluster ``i..j-1``: Silverman's rule on its robust spread (the weighted
    interquartile range / 1.349, a Gaussian's IQR being 1.349 σ; the standard deviation would
    let a few stray particles widen every piece)."""
    sw = 0.0
    for k in range(i, j):
        sw += w[k]
    acc, q1, q3 = 0.0, ps[i], ps[j - 1]
    for k in range(i, j):
        before = acc
        acc += w[k] / max(sw, 1e-300)
        if before < 0.25 <= acc:
            q1 = ps[k]
        if before < 0.75 <= acc:
            q3 = ps[k]
    spread = (q3 - q1) / 1.349
    hw = max(prm[MIN_HW], prm[BW] * 1.06 * spread * (j - i) ** -0.2)
    for k in range(i, j):
        h[k] = hw


@jit
def _densities(key: np.ndarray, w: np.ndarray, h: np.ndarray, dens: np.ndarray) -> None:
    """Weight within ``h`` of each particle on its own tunnel (two-pointer sweep).

    ``key`` is ``tunnel * TUNNEL_KEY + offset``, ascending: one comparison per step instead of
    a tunnel and an offset test.
    """
    n = len(key)
    lo = 0
    hi = 0
    acc = 0.0
    for i in range(n):
        a = key[i] - h[i]
        b = key[i] + h[i]
        while key[lo] < a:  # stops at i at the latest
            if lo < hi:
                acc -= w[lo]
            lo += 1
        hi = max(hi, lo)
        while hi < n and key[hi] <= b:
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
    t_len: np.ndarray,
    gap: float,
    join: float,
    st: np.ndarray,
    slo: np.ndarray,
    shi: np.ndarray,
    swt: np.ndarray,
) -> int:
    """Chosen particles' pieces ``[s-h, s+h]`` merged into stretches; returns their number.

    Pieces of one tunnel merge when the gap between them is under ``gap`` half-widths or
    under ``join`` metres."""
    n_sp = 0
    for i in range(len(pt)):
        if not chosen[i]:
            continue
        t = pt[i]
        lo = max(ps[i] - h[i], 0.0)
        hi = min(ps[i] + h[i], t_len[t])
        if n_sp > 0 and st[n_sp - 1] == t and lo <= shi[n_sp - 1] + max(gap * h[i], join):
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
def sort_row(pt: np.ndarray, ps: np.ndarray, pv: np.ndarray, lw: np.ndarray) -> None:
    """Sort one row's particles by (tunnel, offset) in place (insertion sort).

    Rows are kept sorted from tick to tick and resampling preserves the order, so the rows are
    nearly sorted and this costs little more than one pass.
    """
    for i in range(1, len(pt)):
        t, s, v, w = pt[i], ps[i], pv[i], lw[i]
        j = i - 1
        while j >= 0 and (pt[j] > t or (pt[j] == t and ps[j] > s)):
            pt[j + 1], ps[j + 1], pv[j + 1], lw[j + 1] = pt[j], ps[j], pv[j], lw[j]
            j -= 1
        pt[j + 1], ps[j + 1], pv[j + 1], lw[j + 1] = t, s, v, w


@jit
def _choose(
    w: np.ndarray, dens: np.ndarray, mass: float, chosen: np.ndarray, levels: np.ndarray
) -> int:
    """Mark the densest particles holding ``mass``; return the densest one.

    Densities are ranked in 256 levels below the maximum instead of sorted: a set chosen a
    level too generously holds at most a sliver more than ``mass``.
    """
    top = int(np.argmax(dens))
    levels[:] = 0.0
    scale = (_LEVELS - 1) / max(dens[top], 1e-300)
    for i in range(len(w)):
        levels[_LEVELS - 1 - int(dens[i] * scale)] += w[i]
    acc = 0.0
    cut = _LEVELS - 1
    for lev in range(_LEVELS):
        acc += levels[lev]
        if acc >= mass:
            cut = lev
            break
    for i in range(len(w)):
        chosen[i] = _LEVELS - 1 - int(dens[i] * scale) <= cut
    return top


@jit_inline
def summarize(
    tab: MineTables,
    prm: np.ndarray,
    pt: np.ndarray,
    ps: np.ndarray,
    pv: np.ndarray,
    lw: np.ndarray,
    scratch: np.ndarray,
    st: np.ndarray,
    slo: np.ndarray,
    shi: np.ndarray,
    mass: float,
    join: float,
) -> tuple[int, float, float, int]:
    """One tag's ``(tunnel, offset, speed, number of stretches)``; fills ``st/slo/shi``.

    ``pt, ps, pv, lw`` are the tag's particle row, sorted here in place; ``scratch`` is a
    ``(9, max(P, 256))`` work array. ``mass`` is the interval's probability mass; stretches
    of one tunnel closer than ``join`` metres are reported as one.
    """
    n = len(pt)
    sort_row(pt, ps, pv, lw)
    w, h, dens, chosen = scratch[0, :n], scratch[1, :n], scratch[2, :n], scratch[3, :n]
    # stretches are built in scratch rows (up to n of them) and only then cut to len(st)
    swt, sp_t, sp_lo, sp_hi = scratch[4, :n], scratch[5, :n], scratch[6, :n], scratch[7, :n]
    levels = scratch[8, :_LEVELS]
    total = 0.0
    for i in range(n):
        w[i] = math.exp(lw[i])
        total += w[i]
    inv = 1.0 / total
    for i in range(n):
        w[i] *= inv
    _half_widths(pt, ps, w, prm, h)
    for i in range(n):  # sp_t is free until the stretches are built
        sp_t[i] = pt[i] * TUNNEL_KEY + ps[i]
    _densities(sp_t, w, h, dens)
    top = _choose(w, dens, mass, chosen, levels)
    n_sp = _merge_pieces(pt, ps, w, h, chosen, tab.t_len, prm[GAP], join, sp_t, sp_lo, sp_hi, swt)
    # the heaviest stretch: a small tight cluster (a mirror image across a lone anchor) can
    # hold the densest particle while most of the weight is elsewhere
    tb, lo_b, hi_b = pt[top], ps[top] - h[top], ps[top] + h[top]
    heaviest = -1.0
    for k in range(n_sp):
        if swt[k] > heaviest:
            heaviest = swt[k]
            tb, lo_b, hi_b = int(sp_t[k]), sp_lo[k], sp_hi[k]
    sw, sm, sv = 0.0, 0.0, 0.0
    for i in range(n):
        if pt[i] == tb and lo_b <= ps[i] <= hi_b:
            sw += w[i]
            sm += w[i] * ps[i]
            sv += w[i] * pv[i]
    n_sp = _limit_spans(n_sp, len(st), sp_t, sp_lo, sp_hi, swt)
    for k in range(n_sp):
        st[k], slo[k], shi[k] = int(sp_t[k]), sp_lo[k], sp_hi[k]
    return tb, sm / sw, abs(sv / sw), n_sp
