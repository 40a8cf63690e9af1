"""One engine tick for every tracked tag: predict, update, resample, summarise (numba).

Particles live in ``(slots, P)`` arrays: tunnel ``pt``, offset ``ps``, signed speed ``pv`` and
normalised log-weight ``lw``. A tag's measurements in the tick, sorted by time, are taken in
groups of one timestamp: the particles are moved to that time, each measurement adds its
log-likelihood, and the weights are normalised (systematic resampling with a small roughening
when the effective sample size drops below ``resample_below * P``). The particles are then moved
to the tick time, readers in range that stayed silent lower the weight of the particles they
cover, and the estimate and its 95 % stretches are written to the output arrays.

All randomness comes from the kernel's own generator (`minepos.engine.rng`), whose state the
tracker draws from its ``np.random.Generator`` every tick, so a run replays exactly.
"""

from __future__ import annotations

import math

import numpy as np

from minepos.engine.config import TrackerConfig
from minepos.engine.interval import summarize
from minepos.engine.jit import jit, jit_inline
from minepos.engine.kalman import (
    CHANGED,
    KALMAN,
    PARTICLES,
    STAY,
    kf_enter,
    kf_summary,
    kf_tick,
    kf_to_particles,
    range_geometry,
)
from minepos.engine.likelihood import (
    KIND_FIX,
    KIND_PRESENCE,
    KIND_RANGE,
    KIND_RSSI,
    RANGE_LO,
    RANGE_STEP,
    detect_prob,
    loglik,
    lost_threshold,
)
from minepos.engine.motion import move_row, position, run_off_ends, start_speed
from minepos.engine.rng import normal, uniform
from minepos.engine.tables import TECH_UWB, MineTables

__all__ = ["run_tick"]

_F = list(TrackerConfig.__slots__)
BELOW, LATERAL = _F.index("tag_below_axis"), _F.index("tag_lateral_sd")
UWB_ABSENCE, UWB_EXPECT = _F.index("uwb_absence_factor"), _F.index("uwb_expect_m")
UWB_MAX = _F.index("uwb_max_anchors")
MIRROR = _F.index("mirror_share")
SILENT_AFTER = _F.index("silent_after_s")
N_PARTICLES, N_ZONES = _F.index("particles"), _F.index("particles_zones")
TIGHT_N, TIGHT_W, TIGHT_END = (
    _F.index("particles_tight"),
    _F.index("tight_width_m"),
    _F.index("tight_end_m"),
)
PATH_F, PATH_SLACK, PATH_PEN = (
    _F.index("range_path_factor"),
    _F.index("range_path_slack_m"),
    _F.index("range_path_penalty"),
)
MASS_RANGED, MASS_UNRANGED = _F.index("interval_mass"), _F.index("interval_mass_unranged")
ZONE_JOIN, MASS_ZONES = _F.index("zone_join_m"), _F.index("interval_mass_zones")
RSSI_W, RSSI_STILL = _F.index("rssi_weight"), _F.index("rssi_weight_still")
INJECT = _F.index("reader_inject")
RESAMPLE, ROUGHEN, ABSENCE = (
    _F.index("resample_below"),
    _F.index("roughen"),
    _F.index("absence_factor"),
)


@jit_inline
def _normalise(lw: np.ndarray, k: int, w: np.ndarray) -> float:
    """Normalise row ``k`` of the log-weights in place, leave the weights in ``w``; return the
    effective sample size (one exponential per particle)."""
    m = lw[k].max()
    total = 0.0
    for p in range(lw.shape[1]):
        w[p] = math.exp(lw[k, p] - m)
        total += w[p]
    shift = m + math.log(total)
    inv = 1.0 / total
    sq = 0.0
    for p in range(lw.shape[1]):
        lw[k, p] -= shift
        w[p] *= inv
        sq += w[p] * w[p]
    return 1.0 / sq


@jit_inline
def _resample(
    tab: MineTables,
    prm: np.ndarray,
    pt: np.ndarray,
    ps: np.ndarray,
    pv: np.ndarray,
    lw: np.ndarray,
    k: int,
    rs: np.ndarray,
    work: np.ndarray,
) -> None:
    """Systematic resampling of row ``k`` (weights in ``work[0]`` from `_normalise`), then
    roughening along the tunnel; ``work`` rows 1-3 hold copies of the row."""
    n = pt.shape[1]
    t_len = tab.t_len
    w0, t0, s0, v0 = work[0], work[1], work[2], work[3]
    for p in range(n):
        t0[p], s0[p], v0[p] = pt[k, p], ps[k, p], pv[k, p]
    flat = -math.log(n)
    step = 1.0 / n
    u = uniform(rs) * step
    cum = w0[0]
    j = 0
    for p in range(n):
        while u > cum and j < n - 1:
            j += 1
            cum += w0[j]
        t, s, v = int(t0[j]), s0[j] + prm[ROUGHEN] * normal(rs), v0[j]
        if s < 0.0 or s > t_len[t]:
            t, s, v = run_off_ends(
                t_len, tab.t_from, tab.t_to, tab.inc_ptr, tab.inc_tunnel, tab.inc_end, t, s, v, rs
            )
        pt[k, p], ps[k, p], pv[k, p] = t, s, v
        lw[k, p] = flat
        u += step


@jit_inline
def _update(
    tab: MineTables,
    prm: np.ndarray,
    pt: np.ndarray,
    ps: np.ndarray,
    lw: np.ndarray,
    k: int,
    j0: int,
    j1: int,
    m_kind: np.ndarray,
    m_anchor: np.ndarray,
    m_val: np.ndarray,
    m_xyz: np.ndarray,
    ll: np.ndarray,
    xyz: np.ndarray,
    still: bool,
) -> int:
    """Apply measurements ``j0..j1`` (one timestamp) to row ``k``; return how many fit nothing.

    ``still``: the tag's motion flag says it stands still (its RSSI readings weigh
    `rssi_weight_still` instead of `rssi_weight`)."""
    n = pt.shape[1]
    r_tab = tab.r_tab
    seg_a, seg_dir, seg_off, t_first, t_last = (
        tab.seg_a,
        tab.seg_dir,
        tab.seg_off,
        tab.t_first,
        tab.t_last,
    )
    for p in range(n):  # position() written out: see its note on call costs
        t = pt[k, p]
        s = ps[k, p]
        g = t_first[t]
        while g < t_last[t] and s > seg_off[g + 1]:
            g += 1
        a = s - seg_off[g]
        xyz[p, 0] = seg_a[g, 0] + seg_dir[g, 0] * a
        xyz[p, 1] = seg_a[g, 1] + seg_dir[g, 1] * a
        xyz[p, 2] = seg_a[g, 2] + seg_dir[g, 2] * a
        xyz[p, 2] -= prm[BELOW]
    bad = 0
    ranged = False
    for j in range(j0, j1):
        ranged = ranged or m_kind[j] == KIND_RANGE or m_kind[j] == KIND_FIX
    for j in range(j0, j1):
        kind = m_kind[j]
        if kind == KIND_FIX:
            src = m_xyz[j]
            reach = 0.0
            side2 = 0.0
        else:
            a = m_anchor[j]
            src = tab.a_xyz[a]
            reach = tab.a_range[a]
            side2 = prm[LATERAL] ** 2
        value = m_val[j]
        last = len(r_tab) - 1
        scale = 1.0  # on the log-likelihood of measurements other than ranges
        if kind == KIND_RSSI and still:
            scale = prm[RSSI_STILL] / prm[RSSI_W] if prm[RSSI_W] > 0.0 else 0.0
        _through_rock(tab, prm, pt, ps, k, kind, m_anchor[j], value, ll)
        for p in range(n):
            d = math.sqrt(
                (xyz[p, 0] - src[0]) ** 2
                + (xyz[p, 1] - src[1]) ** 2
                + (xyz[p, 2] - src[2]) ** 2
                + side2
            )
            # ranges are nearly all measurements: their table look-up is written out here,
            # since a call with array arguments per particle costs more than the look-up
            x = (value - d - RANGE_LO) / RANGE_STEP
            if kind == KIND_RANGE and 0.0 <= x < last:
                i = int(x)
                ll[p] += r_tab[i] + (x - i) * (r_tab[i + 1] - r_tab[i])
            else:
                ll[p] += scale * loglik(prm, r_tab, kind, value, d, reach)
        # does the measurement fit any particle at all? (the best particle's likelihood bounds
        # the mean likelihood from above, and costs no exponentials)
        top = -1e300
        for p in range(n):
            lw[k, p] += ll[p]
            top = max(top, ll[p])
        if top < lost_threshold(prm, kind) and (kind != KIND_PRESENCE or not ranged):
            bad += 1
    return bad


@jit_inline
def _through_rock(
    tab: MineTables,
    prm: np.ndarray,
    pt: np.ndarray,
    ps: np.ndarray,
    k: int,
    kind: int,
    a: int,
    r: float,
    ll: np.ndarray,
) -> None:
    """Start each particle's log-likelihood for a measurement: 0, or for a range ``r`` from
    anchor ``a`` the penalty where the tunnels join the place to the anchor only by a path far
    longer than the range (it would have come through the rock from another level or drift)."""
    # distances along the tunnels are kept for UWB anchors
    if kind != KIND_RANGE or tab.a_tech[a] != TECH_UWB:
        ll[:] = 0.0
        return
    reach = prm[PATH_F] * r + prm[PATH_SLACK]
    pen = math.log(prm[PATH_PEN])
    t_len, t_from, t_to, node_d = tab.t_len, tab.t_from, tab.t_to, tab.a_node_d
    t_a, off = tab.a_tun[a], tab.a_off[a]
    for p in range(pt.shape[1]):
        t = pt[k, p]
        s = ps[k, p]
        path = min(s + node_d[a, t_from[t]], t_len[t] - s + node_d[a, t_to[t]])
        if t == t_a:
            path = min(path, abs(s - off))
        ll[p] = 0.0 if path <= reach else pen


@jit
def _contains(arr: np.ndarray, n: int, x: int) -> bool:
    # a plain loop: numba compiles it; `any(generator)` it does not
    for i in range(n):  # noqa: SIM110
        if arr[i] == x:
            return True
    return False


@jit_inline
def _absence(
    tab: MineTables,
    prm: np.ndarray,
    pt: np.ndarray,
    ps: np.ndarray,
    lw: np.ndarray,
    k: int,
    heard: np.ndarray,
    n_heard: int,
    alive: np.ndarray,
) -> bool:
    """Lower particles in range of live RFID readers that did not hear the tag this tick;
    return whether any weight changed."""
    floor = prm[ABSENCE]
    changed = False
    for p in range(pt.shape[1]):
        t = pt[k, p]
        placed = False
        x, y, z = 0.0, 0.0, 0.0
        for r in range(tab.rd_ptr[t], tab.rd_ptr[t + 1]):
            a = tab.rd_anchor[r]
            if not alive[a] or _contains(heard, n_heard, a):
                continue
            if not placed:  # once per particle, however many readers reach its tunnel
                x, y, z = position(
                    tab.seg_a, tab.seg_dir, tab.seg_off, tab.t_first, tab.t_last, t, ps[k, p]
                )
                placed = True
            src = tab.a_xyz[a]
            d = math.sqrt((x - src[0]) ** 2 + (y - src[1]) ** 2 + (z - src[2]) ** 2)
            if d <= tab.a_range[a]:
                # silence is as likely as a miss there; `absence_factor` bounds what one tick of
                # silence can say (a reader may skip a report for reasons of its own)
                lw[k, p] += math.log(max(1.0 - detect_prob(prm, d, tab.a_range[a]), floor))
                changed = True
    return changed


@jit_inline
def _ranging_absence(
    tab: MineTables,
    prm: np.ndarray,
    pt: np.ndarray,
    ps: np.ndarray,
    lw: np.ndarray,
    k: int,
    j0: int,
    j1: int,
    m_kind: np.ndarray,
    m_anchor: np.ndarray,
    m_val: np.ndarray,
    alive: np.ndarray,
) -> None:
    """Lower particles that a live UWB anchor on their tunnel sees, within ``uwb_expect_m``,
    when it did not range in ``j0..j1``: if the tag ranged with fewer anchors than a ranging
    cycle takes, or the anchor is nearer than the farthest one it ranged with."""
    penalty = math.log(prm[UWB_ABSENCE])
    ua_ptr, ua_anchor, a_off = tab.ua_ptr, tab.ua_anchor, tab.a_off
    n_range = 0
    farthest = 0.0
    for j in range(j0, j1):
        if m_kind[j] == KIND_RANGE:
            n_range += 1
            farthest = max(farthest, m_val[j])
    reach = prm[UWB_EXPECT] if n_range < prm[UWB_MAX] else min(prm[UWB_EXPECT], farthest)
    for p in range(pt.shape[1]):
        t = pt[k, p]
        s = ps[k, p]
        for r in range(ua_ptr[t], ua_ptr[t + 1]):
            a = ua_anchor[r]
            if a_off[a] - s > reach:
                break  # a tunnel's anchors are sorted by offset (`tables.build_tables`)
            if not alive[a] or s - a_off[a] > reach:
                continue
            if s < tab.a_vis_lo[a] or s > tab.a_vis_hi[a]:
                continue
            ranged = False
            for j in range(j0, j1):
                if m_anchor[j] == a and m_kind[j] == KIND_RANGE:
                    ranged = True
            if not ranged:
                lw[k, p] += penalty


@jit
def _mirror(
    tab: MineTables,
    prm: np.ndarray,
    pt: np.ndarray,
    ps: np.ndarray,
    pv: np.ndarray,
    k: int,
    a: int,
    rs: np.ndarray,
) -> None:
    """Move a few particles to the same range from anchor ``a`` on another of its arms.

    One range from one anchor cannot tell the two sides of it apart, nor, beside a junction,
    the branches: resampling alone would let all but one die out by chance while the tag stands
    there, and the interval would be narrow and possibly on the wrong side. A few particles per
    such epoch moved to a randomly chosen arm (the other side of the anchor, another tunnel at
    a junction next to it; `tables._arms`) keep the others alive until a second anchor or an
    absence settles it. The place on the arm is found by Newton steps on the range, so it is
    right on a bent tunnel too.
    """
    lo, hi = tab.arm_ptr[a], tab.arm_ptr[a + 1]
    if hi - lo < 2:
        return
    share = prm[MIRROR]
    # the least range, beside the anchor: a first guess is the rest of the range along the arm
    lift = range_geometry(tab, prm, tab.a_tun[a], tab.a_off[a], a)[0]
    for p in range(pt.shape[1]):
        if uniform(rs) >= share:
            continue
        t, s = pt[k, p], ps[k, p]
        want = range_geometry(tab, prm, t, s, a)[0]
        # another arm than the particle's own, at random
        own = -1
        for q in range(lo, hi):
            if tab.arm_t[q] == t and (
                t != tab.a_tun[a] or tab.arm_dir[q] * (s - tab.a_off[a]) >= 0
            ):
                own = q
                break
        r = lo + int(uniform(rs) * (hi - lo - (own >= 0)))
        if 0 <= own <= r:
            r += 1
        t2 = tab.arm_t[r]
        x = max(math.sqrt(max(want * want - lift * lift, 0.0)) - tab.arm_x0[r], 0.0)
        s2 = tab.arm_s0[r] + tab.arm_dir[r] * x
        for _ in range(4):
            if not 0.0 <= s2 <= tab.t_len[t2]:
                break
            d, h = range_geometry(tab, prm, t2, s2, a)
            if abs(h) < 0.2:
                break
            s2 -= (d - want) / h
        if 0.0 <= s2 <= tab.t_len[t2] and abs(range_geometry(tab, prm, t2, s2, a)[0] - want) < 0.5:
            pt[k, p], ps[k, p] = t2, s2
            pv[k, p] = tab.arm_dir[r] * abs(pv[k, p]) * (1.0 if uniform(rs) < 0.5 else -1.0)


@jit_inline
def _inject(
    tab: MineTables,
    prm: np.ndarray,
    pt: np.ndarray,
    ps: np.ndarray,
    pv: np.ndarray,
    lw: np.ndarray,
    k: int,
    a: int,
    rs: np.ndarray,
) -> None:
    """Place `reader_inject` of row ``k``'s particles afresh within reader ``a``'s range.

    Between readers nothing tells a zone-only tag's particles where it went: the cloud may
    have lost the truth (it stopped, turned at an unread junction, rode). The particles
    replaced are picked at random, and the new ones, standing anywhere in the reader's range,
    stopped or walking either way at a fresh pace, hold `reader_inject` of the weight: as if
    the tag's state had been forgotten with that probability. The detection then weighs old
    and new alike.
    """
    lo, hi = tab.rc_ptr[a], tab.rc_ptr[a + 1]
    n = pt.shape[1]
    share = prm[INJECT]
    m = int(share * n + uniform(rs))
    if hi <= lo or m <= 0 or share >= 1.0:
        return
    top = lw[k].max()
    total = 0.0
    for p in range(n):
        total += math.exp(lw[k, p] - top)
    cover = 0.0
    for r in range(lo, hi):
        cover += tab.rc_hi[r] - tab.rc_lo[r] + 1e-3
    gone = 0.0
    picked = 0
    for _ in range(4 * m):  # distinct particles, picked at random
        p = int(uniform(rs) * n)
        if lw[k, p] < -1e299:
            continue
        gone += math.exp(lw[k, p] - top)
        lw[k, p] = -1e300
        x = uniform(rs) * cover
        r = lo
        while r < hi - 1 and x > tab.rc_hi[r] - tab.rc_lo[r] + 1e-3:
            x -= tab.rc_hi[r] - tab.rc_lo[r] + 1e-3
            r += 1
        pt[k, p] = tab.rc_t[r]
        ps[k, p] = min(tab.rc_lo[r] + x, tab.rc_hi[r])
        sign = 1.0 if uniform(rs) < 0.5 else -1.0
        pv[k, p] = 0.0 if uniform(rs) < 0.5 else start_speed(prm, tab.t_ride[pt[k, p]], sign, rs)
        picked += 1
        if picked == m:
            break
    if picked == 0:  # every particle already weightless: nothing to share
        return
    kept = max(total - gone, 1e-300)
    each = top + math.log(kept * share / ((1.0 - share) * picked))
    for p in range(n):
        if lw[k, p] < -1e299:
            lw[k, p] = each


@jit_inline
def _tag_tick(
    tab: MineTables,
    prm: np.ndarray,
    now: float,
    k: int,
    j0: int,
    j1: int,
    pt: np.ndarray,
    ps: np.ndarray,
    pv: np.ndarray,
    lw: np.ndarray,
    tag_time: np.ndarray,
    moving: int,
    m_ts: np.ndarray,
    m_kind: np.ndarray,
    m_anchor: np.ndarray,
    m_val: np.ndarray,
    m_xyz: np.ndarray,
    alive: np.ndarray,
    ll: np.ndarray,
    xyz: np.ndarray,
    heard: np.ndarray,
    rs: np.ndarray,
    work: np.ndarray,
    gauged: float,
) -> tuple[int, int]:
    """Run one tag's tick; returns (measurements that fit nothing, measurements used).

    ``gauged`` is when a measurement of distance (range, RSSI) or a fix last came, this tick's
    included: a tag without one for `silent_after_s` is heard by zone readers at most, and
    moves as people do between readers (`motion.zone_speed`)."""
    n = pt.shape[1]
    bad = 0
    n_heard = 0
    j = j0
    while j < j1:
        g = j
        n_range = 0
        reader = -1
        while g < j1 and m_ts[g] - m_ts[j] < 1e-3:
            if m_kind[g] == KIND_PRESENCE:
                heard[n_heard] = m_anchor[g]
                n_heard += 1
                reader = m_anchor[g] if reader < 0 else reader
            n_range += m_kind[g] == KIND_RANGE
            g += 1
        zones = m_ts[j] - gauged > prm[SILENT_AFTER]
        move_row(tab, prm, pt, ps, pv, k, m_ts[j] - tag_time[k], moving, rs, zones)
        tag_time[k] = max(tag_time[k], m_ts[j])
        if reader >= 0 and zones:
            _inject(tab, prm, pt, ps, pv, lw, k, reader, rs)
        bad += _update(
            tab, prm, pt, ps, lw, k, j, g, m_kind, m_anchor, m_val, m_xyz, ll, xyz, moving == 0
        )
        if n_range == 1 and g - j == 1 and prm[MIRROR] > 0.0:
            _mirror(tab, prm, pt, ps, pv, k, m_anchor[j], rs)
        if n_range > 0 and tab.ua_anchor.size > 0:
            _ranging_absence(tab, prm, pt, ps, lw, k, j, g, m_kind, m_anchor, m_val, alive)
        if _normalise(lw, k, work[0]) < prm[RESAMPLE] * n:
            _resample(tab, prm, pt, ps, pv, lw, k, rs, work)
        j = g
    zones = now - gauged > prm[SILENT_AFTER]
    move_row(tab, prm, pt, ps, pv, k, now - tag_time[k], moving, rs, zones)
    tag_time[k] = max(tag_time[k], now)
    # weights unchanged since the last normalisation need no second one (an exponential each)
    if (
        tab.rd_anchor.size > 0
        and _absence(tab, prm, pt, ps, lw, k, heard, n_heard, alive)
        and _normalise(lw, k, work[0]) < prm[RESAMPLE] * n
    ):
        _resample(tab, prm, pt, ps, pv, lw, k, rs, work)
    return bad, j1 - j0


@jit_inline
def _ranged_anchors(j0: int, j1: int, m_kind: np.ndarray, m_anchor: np.ndarray) -> int:
    """How many different anchors ranged in ``j0..j1`` (a position fix counts as two)."""
    n = 0
    for j in range(j0, j1):
        n += 2 * (m_kind[j] == KIND_FIX)
        if m_kind[j] != KIND_RANGE:
            continue
        seen = False
        for q in range(j0, j):
            seen = seen or (m_kind[q] == KIND_RANGE and m_anchor[q] == m_anchor[j])
        n += not seen
    return n


@jit_inline
def _resize(
    tab: MineTables,
    prm: np.ndarray,
    pt: np.ndarray,
    ps: np.ndarray,
    pv: np.ndarray,
    lw: np.ndarray,
    k: int,
    n: int,
    t: int,
    n_sp: int,
    slo: np.ndarray,
    shi: np.ndarray,
    rs: np.ndarray,
    work: np.ndarray,
    zones: bool,
) -> int:
    """Adapt row ``k``'s particle count; return the new count.

    A zone-only tag (``zones``) is followed with ``particles_zones`` particles, a tag whose 95 %
    region is one short stretch away from junctions with ``particles_tight``, any other with
    ``particles``. Fewer: resampled down; more: each live particle copied, its weight shared
    among its copies. Most tags are tight most of the time, and halving their particles doubles
    the throughput without touching the hard cases; a zone-only tag's cloud stands for every
    walk nobody measured and needs more.
    """
    width: int = pt.shape[1]
    tight = (
        n_sp == 1
        and shi[0] - slo[0] < prm[TIGHT_W]
        and slo[0] > prm[TIGHT_END]
        and shi[0] < tab.t_len[t] - prm[TIGHT_END]
    )
    want = prm[N_ZONES] if zones else prm[TIGHT_N] if tight else prm[N_PARTICLES]
    target: int = min(int(want), width)
    if n > target:
        _normalise(lw[k : k + 1, :n], 0, work[0])
        _resample(
            tab,
            prm,
            pt[k : k + 1, :n],
            ps[k : k + 1, :n],
            pv[k : k + 1, :n],
            lw[k : k + 1, :n],
            0,
            rs,
            work,
        )  # all n equally weighted, order kept
        for p in range(target):  # every (n / target)-th of the evenly weighted, sorted ones
            q = (p * n) // target
            pt[k, p], ps[k, p], pv[k, p] = pt[k, q], ps[k, q], pv[k, q]
            lw[k, p] = -math.log(target)
        return target
    if n < target:
        # particle q gets target // n copies, one more if q < target % n
        for p in range(n, target):
            q = p % n
            pt[k, p], ps[k, p], pv[k, p] = pt[k, q], ps[k, q], pv[k, q]
        for q in range(n):
            lw[k, q] -= math.log(target // n + (1 if q < target % n else 0))
        for p in range(n, target):
            lw[k, p] = lw[k, p % n]
        return target
    return n


@jit
def run_tick(
    tab: MineTables,
    prm: np.ndarray,
    rs: np.ndarray,
    now: float,
    slots: np.ndarray,
    pt: np.ndarray,
    ps: np.ndarray,
    pv: np.ndarray,
    lw: np.ndarray,
    tag_time: np.ndarray,
    tag_moving: np.ndarray,
    tag_bad: np.ndarray,
    tag_np: np.ndarray,
    tag_seen: np.ndarray,
    tag_gauged: np.ndarray,
    mode: np.ndarray,
    kx: np.ndarray,
    kp: np.ndarray,
    kt: np.ndarray,
    kmiss: np.ndarray,
    why: np.ndarray,
    m_ptr: np.ndarray,
    m_ts: np.ndarray,
    m_kind: np.ndarray,
    m_anchor: np.ndarray,
    m_val: np.ndarray,
    m_xyz: np.ndarray,
    alive: np.ndarray,
    out_t: np.ndarray,
    out_s: np.ndarray,
    out_v: np.ndarray,
    out_n: np.ndarray,
    out_st: np.ndarray,
    out_slo: np.ndarray,
    out_shi: np.ndarray,
) -> None:
    """Advance every tag in ``slots`` to ``now``; write estimates to ``out_*`` (row per slot).

    ``m_ptr`` (len(slots)+1) delimits each slot's measurements in ``m_*``, sorted by time.
    ``tag_bad`` counts consecutive ticks whose measurements fit none of the particles.
    ``mode`` says whether a slot is followed by particles or by the Kalman filter (state ``kx``
    offset and speed, ``kp`` covariance (ss, sv, vv), ``kt`` tunnel, ``kmiss`` epochs without
    a line-of-sight range; ``why`` counts the reasons it left; `minepos.engine.kalman`).
    """
    big = pt.shape[1]
    n_ranged = min(int(prm[N_PARTICLES]), big)
    ll = np.empty(big)
    xyz = np.empty((big, 3))
    scratch = np.empty((9, max(big, 256)))  # summarize's work rows
    work = np.empty((4, big))
    heard = np.empty(
        max(1, int((m_ptr[1:] - m_ptr[:-1]).max()) if len(slots) else 1), dtype=np.int64
    )
    for i in range(len(slots)):
        k = slots[i]
        j0, j1 = m_ptr[i], m_ptr[i + 1]
        if mode[k] == KALMAN:
            j, decision = kf_tick(
                tab,
                prm,
                now,
                k,
                j0,
                j1,
                m_ts,
                m_kind,
                m_anchor,
                m_val,
                m_xyz,
                tag_time,
                tag_moving[k],
                tag_seen[k],
                kx,
                kp,
                kt,
                kmiss,
                why,
            )
            if decision == STAY:
                if j1 > j0:
                    tag_bad[k] = 0
                t = kt[k]
                out_s[i], out_v[i], out_slo[i, 0], out_shi[i, 0] = kf_summary(
                    tab, prm, kx, kp, t, k
                )
                out_t[i], out_n[i], out_st[i, 0] = t, 1, t
                continue
            # the filter hands the tag back: particles from its Gaussian take the rest
            mode[k] = PARTICLES
            kf_to_particles(
                tab,
                prm,
                pt,
                ps,
                pv,
                lw,
                k,
                tag_time[k],
                tag_moving[k],
                kx,
                kp,
                kt,
                kmiss,
                decision == CHANGED,
                rs,
                n_ranged,
            )
            tag_np[k] = n_ranged
            j0 = j
        n = tag_np[k]
        # the tag's particles as a one-row view of its `n` live particles
        bad, used = _tag_tick(
            tab,
            prm,
            now,
            0,
            j0,
            j1,
            pt[k : k + 1, :n],
            ps[k : k + 1, :n],
            pv[k : k + 1, :n],
            lw[k : k + 1, :n],
            tag_time[k : k + 1],
            tag_moving[k],
            m_ts,
            m_kind,
            m_anchor,
            m_val,
            m_xyz,
            alive,
            ll,
            xyz,
            heard,
            rs,
            work,
            tag_gauged[k],
        )
        if used > 0:
            tag_bad[k] = tag_bad[k] + 1 if bad > 0 else 0
        ranged = _ranged_anchors(j0, j1, m_kind, m_anchor)
        zone_only = now - tag_gauged[k] > prm[SILENT_AFTER]
        out_t[i], out_s[i], out_v[i], out_n[i] = summarize(
            tab,
            prm,
            pt[k, :n],
            ps[k, :n],
            pv[k, :n],
            lw[k, :n],
            scratch,
            out_st[i],
            out_slo[i],
            out_shi[i],
            prm[MASS_RANGED]
            if ranged > 0
            else prm[MASS_ZONES]
            if zone_only
            else prm[MASS_UNRANGED],
            prm[ZONE_JOIN] if zone_only else 0.0,
        )
        if kf_enter(
            tab,
            prm,
            now,
            k,
            pt[k, :n],
            ps[k, :n],
            pv[k, :n],
            scratch[0, :n],  # summarize's normalised weights, in the row's sorted order
            out_t[i],
            out_n[i],
            ranged,
            tag_moving[k],
            tag_seen[k],
            kx,
            kp,
            kt,
            kmiss,
        ):
            mode[k] = KALMAN
            continue
        tag_np[k] = _resize(
            tab,
            prm,
            pt,
            ps,
            pv,
            lw,
            k,
            n,
            out_t[i],
            out_n[i],
            out_slo[i],
            out_shi[i],
            rs,
            work,
            zone_only,
        )
