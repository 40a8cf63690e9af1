"""The Kalman fast path: one tag followed along one tunnel by a two-state filter.

Most of the time most tags are unambiguous: their particles agree on one short stretch of one
tunnel, away from its ends. There the posterior is close to a Gaussian in (offset, speed), and
an extended Kalman filter along the tunnel follows it at a tiny fraction of the particles' cost
and, being the efficient estimator of that model, closer to the Cramér-Rao bound. Everything the
filter cannot model hands the tag back to particles, drawn from its Gaussian:

* a range shorter than predicted beyond ``kalman_gate`` innovation deviations (the tag stopped,
  turned, boarded a vehicle: no longer path makes a range short);
* ``kalman_nlos_epochs`` epochs in a row without a line-of-sight range (all NLOS, or a change
  of gait the filter would read as NLOS);
* an RSSI or presence measurement, a position fix off its predicted place, a motion flag that
  just turned on, a silence longer than ``silent_after_s``, a region near a tunnel end (a
  junction's branches are a multimodal question) or near an RFID reader (its silence is
  information the filter does not use), an offset spread above ``kalman_exit_sd``, a lone
  anchor beside the tag (a turn gives the same ranges as walking on).

NLOS ranges are handled as in the particles' mixture likelihood: each range's line-of-sight
responsibility under the predicted state weighs it (its noise variance divided by that share),
and a range more likely NLOS than not is left out.
"""

from __future__ import annotations

import math

import numpy as np

from minepos.engine.config import TrackerConfig
from minepos.engine.jit import jit, jit_inline
from minepos.engine.likelihood import KIND_FIX, KIND_RANGE, los_density, nlos_density
from minepos.engine.motion import run_off_ends
from minepos.engine.rng import normal, uniform
from minepos.engine.tables import MineTables

__all__ = [
    "CHANGED",
    "KALMAN",
    "LEAVE",
    "PARTICLES",
    "STAY",
    "WHY",
    "kf_enter",
    "kf_summary",
    "kf_tick",
    "kf_to_particles",
    "range_geometry",
]

#: a tag's mode
PARTICLES, KALMAN = 0, 1
#: what `kf_tick` decided: the tag stays with the filter, goes back to particles as it is, or
#: goes back because its measurements no longer fit (a change of gait, or NLOS all round)
STAY, LEAVE, CHANGED = 0, 1, 2
#: why a tag left the filter (counted in the tracker's ``kalman_exits``)
WHY = (
    "motion flag turned on",
    "RSSI or presence",
    "range too short",
    "no line-of-sight range",
    "silent",
    "spread",
    "near a tunnel end or reader",
    "beside its only anchor",
    "position fix off its place",
)
(
    BY_FLAG,
    BY_OTHER_KIND,
    BY_SHORT_RANGE,
    BY_NO_LOS,
    BY_SILENCE,
    BY_SPREAD,
    BY_END_OR_READER,
    BY_LONE_ANCHOR,
    BY_FIX_OFF,
) = range(len(WHY))

_F = list(TrackerConfig.__slots__)
ON, ENTER_SD, EXIT_SD, END_M, GATE, KQ, MIN_VSD, SCALE, NLOS_EPOCHS, COOLDOWN = (
    _F.index(k)
    for k in (
        "kalman",
        "kalman_enter_sd",
        "kalman_exit_sd",
        "kalman_end_m",
        "kalman_gate",
        "kalman_accel_q",
        "kalman_min_speed_sd",
        "kalman_interval_scale",
        "kalman_nlos_epochs",
        "kalman_cooldown_ticks",
    )
)
BELOW, LATERAL, SIG = (
    _F.index("tag_below_axis"),
    _F.index("tag_lateral_sd"),
    _F.index("range_sigma"),
)
DIFF, STILL_DIFF = _F.index("pos_diffusion"), _F.index("still_diffusion")
SILENT_AFTER, MIN_HW = _F.index("silent_after_s"), _F.index("min_half_width")
FIX_SIG = _F.index("fix_sigma")
VMAX = _F.index("max_speed")
#: the filter's interval: 1.96 standard deviations either side (95 % of a Gaussian)
_Z95 = 1.959963984540054
#: share of particles that keep the filter's state when its measurements no longer fit
_KEEP = 0.3
#: walking speeds a change of gait may lead to (m/s)
_WALK = 1.6
#: "beside an anchor": the range changes by less than this per metre along the tunnel
_BESIDE = 0.5


@jit_inline
def _predict(
    prm: np.ndarray, kx: np.ndarray, kp: np.ndarray, k: int, dt: float, moving: int
) -> None:
    """Constant-velocity prediction of slot ``k`` by ``dt`` (a still tag holds its speed at 0)."""
    if dt <= 0.0:
        return
    if moving == 0:
        kx[k, 1] = 0.0
        kp[k, 0] += prm[STILL_DIFF] ** 2 * dt
        kp[k, 1] = 0.0
        kp[k, 2] = 0.0
        return
    q = prm[KQ]
    pss, psv, pvv = kp[k, 0], kp[k, 1], kp[k, 2]
    kx[k, 0] += kx[k, 1] * dt
    kp[k, 0] = pss + 2.0 * dt * psv + dt * dt * pvv + q * dt**3 / 3.0 + prm[DIFF] ** 2 * dt
    kp[k, 1] = psv + dt * pvv + 0.5 * q * dt * dt
    kp[k, 2] = pvv + q * dt


@jit_inline
def _point(tab: MineTables, t: int, s: float) -> tuple[float, float, float, int]:
    """The axis point at offset ``s`` of tunnel ``t``, and the segment holding it."""
    seg_off, t_last = tab.seg_off, tab.t_last
    g = tab.t_first[t]
    while g < t_last[t] and s > seg_off[g + 1]:
        g += 1
    off = s - seg_off[g]
    return (
        tab.seg_a[g, 0] + tab.seg_dir[g, 0] * off,
        tab.seg_a[g, 1] + tab.seg_dir[g, 1] * off,
        tab.seg_a[g, 2] + tab.seg_dir[g, 2] * off,
        g,
    )


@jit_inline
def _correct(kx: np.ndarray, kp: np.ndarray, k: int, h: float, e: float, r: float) -> None:
    """Kalman correction of slot ``k`` by a scalar measurement of ``h`` x offset with residual
    ``e`` and noise variance ``r``."""
    pss, psv, pvv = kp[k, 0], kp[k, 1], kp[k, 2]
    den = h * h * pss + r
    g0, g1 = pss * h / den, psv * h / den
    kx[k, 0] += g0 * e
    kx[k, 1] += g1 * e
    kp[k, 0] = pss - g0 * h * pss
    kp[k, 1] = psv - g0 * h * psv
    kp[k, 2] = pvv - g1 * h * psv


@jit_inline
def range_geometry(
    tab: MineTables, prm: np.ndarray, t: int, s: float, a: int
) -> tuple[float, float]:
    """Predicted range from anchor ``a`` to offset ``s`` of tunnel ``t``, and its derivative
    along the tunnel (the same tag model as the particles': below the axis, sideways spread;
    the derivative is that of the segment holding ``s``)."""
    x, y, z, g = _point(tab, t, s)
    src = tab.a_xyz[a]
    dx, dy, dz = x - src[0], y - src[1], z - prm[BELOW] - src[2]
    d = math.sqrt(dx * dx + dy * dy + dz * dz + prm[LATERAL] ** 2)
    h = (dx * tab.seg_dir[g, 0] + dy * tab.seg_dir[g, 1] + dz * tab.seg_dir[g, 2]) / d
    return d, h


@jit_inline
def _noise(prm: np.ndarray, h: float) -> float:
    """Variance of a line-of-sight range about its prediction: the ranging noise, and the
    tag's unknown sideways place, which counts fully beside the anchor (``h`` = 0, the range
    is all sideways) and not at all far along the tunnel (``h`` = 1)."""
    return float(prm[SIG] ** 2 + (1.0 - h * h) * prm[LATERAL] ** 2)


@jit_inline
def _fits(
    tab: MineTables,
    prm: np.ndarray,
    kx: np.ndarray,
    kp: np.ndarray,
    k: int,
    t: int,
    j0: int,
    j1: int,
    m_kind: np.ndarray,
    m_anchor: np.ndarray,
    m_val: np.ndarray,
) -> bool:
    """No range of the epoch is shorter than the predicted state allows."""
    for j in range(j0, j1):
        if m_kind[j] != KIND_RANGE:
            continue
        d, h = range_geometry(tab, prm, t, kx[k, 0], m_anchor[j])
        if m_val[j] - d < -prm[GATE] * math.sqrt(h * h * kp[k, 0] + _noise(prm, h)):
            return False
    return True


@jit_inline
def _update(
    tab: MineTables,
    prm: np.ndarray,
    kx: np.ndarray,
    kp: np.ndarray,
    k: int,
    t: int,
    a: int,
    r: float,
) -> bool:
    """One range's robust update of slot ``k``; returns whether it counted as line of sight."""
    d, h = range_geometry(tab, prm, t, kx[k, 0], a)
    e = r - d
    noise = _noise(prm, h)
    los = los_density(prm, e, h * h * kp[k, 0] + noise)
    share = los / (los + nlos_density(prm, e))
    if share < 0.5:
        return False
    _correct(kx, kp, k, h, e, noise / share)
    return True


@jit_inline
def _update_fix(
    tab: MineTables,
    prm: np.ndarray,
    kx: np.ndarray,
    kp: np.ndarray,
    k: int,
    t: int,
    fix: np.ndarray,
) -> bool:
    """A gateway's position fix as a measurement of the offset (its component along the
    tunnel); returns False, changing nothing, if it lies off the predicted place by more than
    ``kalman_gate`` deviations along or across the tunnel."""
    x, y, z, g = _point(tab, t, kx[k, 0])
    dx, dy, dz = fix[0] - x, fix[1] - y, fix[2] - z + prm[BELOW]
    e = dx * tab.seg_dir[g, 0] + dy * tab.seg_dir[g, 1] + dz * tab.seg_dir[g, 2]
    across = math.sqrt(max(dx * dx + dy * dy + dz * dz - e * e, 0.0))
    r = prm[FIX_SIG] ** 2
    if abs(e) > prm[GATE] * math.sqrt(kp[k, 0] + r) or across > prm[GATE] * prm[FIX_SIG]:
        return False
    _correct(kx, kp, k, 1.0, e, r)
    return True


@jit_inline
def _clear_of(tab: MineTables, prm: np.ndarray, t: int, s: float, sd: float, v: float) -> bool:
    """The region ``s`` +- 3 ``sd`` plus a second of travel stays away from the tunnel's ends
    and from the RFID readers that reach the tunnel."""
    margin = prm[END_M] + abs(v) + 3.0 * sd
    if s - margin < 0.0 or s + margin > tab.t_len[t]:
        return False
    r0, r1 = tab.rd_ptr[t], tab.rd_ptr[t + 1]
    if r1 == r0:
        return True
    x, y, z, _ = _point(tab, t, s)
    for r in range(r0, r1):
        src = tab.a_xyz[tab.rd_anchor[r]]
        dx, dy, dz = x - src[0], y - src[1], z - src[2]
        if math.sqrt(dx * dx + dy * dy + dz * dz) < tab.a_range[tab.rd_anchor[r]] + margin:
            return False
    return True


@jit_inline
def _leave_reason(
    tab: MineTables, prm: np.ndarray, kx: np.ndarray, kp: np.ndarray, k: int, t: int, silent: bool
) -> int:
    """Why slot ``k`` should leave the filter at the end of its tick (index in `WHY`), or -1."""
    sd = math.sqrt(kp[k, 0])
    if silent:
        return BY_SILENCE
    if sd > prm[EXIT_SD]:
        return BY_SPREAD
    if not _clear_of(tab, prm, t, kx[k, 0], sd, kx[k, 1]):
        return BY_END_OR_READER
    return -1


@jit_inline
def _epoch(
    tab: MineTables,
    prm: np.ndarray,
    k: int,
    t: int,
    j: int,
    g: int,
    m_ts: np.ndarray,
    m_kind: np.ndarray,
    m_anchor: np.ndarray,
    m_val: np.ndarray,
    m_xyz: np.ndarray,
    tag_time: np.ndarray,
    moving: int,
    kx: np.ndarray,
    kp: np.ndarray,
    kmiss: np.ndarray,
) -> int:
    """Apply the measurements ``j..g`` of one timestamp to slot ``k``; -1 if the filter keeps
    the tag, else why it leaves (index in `WHY`)."""
    for q in range(j, g):
        if m_kind[q] != KIND_RANGE and m_kind[q] != KIND_FIX:
            return BY_OTHER_KIND
    _predict(prm, kx, kp, k, m_ts[j] - tag_time[k], moving)
    tag_time[k] = max(tag_time[k], m_ts[j])
    if not _fits(tab, prm, kx, kp, k, t, j, g, m_kind, m_anchor, m_val):
        return BY_SHORT_RANGE
    los = False
    one = True
    for q in range(j, g):
        if m_kind[q] == KIND_FIX:
            if not _update_fix(tab, prm, kx, kp, k, t, m_xyz[q]):
                return BY_FIX_OFF
            los, one = True, False
            continue
        los = _update(tab, prm, kx, kp, k, t, m_anchor[q], m_val[q]) or los
        one = one and m_anchor[q] == m_anchor[j]
    if one and abs(range_geometry(tab, prm, t, kx[k, 0], m_anchor[j])[1]) < _BESIDE:
        return BY_LONE_ANCHOR  # beside a lone anchor a turn gives the same ranges as walking on
    if los:
        kmiss[k] = 0
        kx[k, 2] = m_ts[j]
    else:
        kmiss[k] += 1
    # the ranges were left out as NLOS too often: particles weigh them afresh
    return BY_NO_LOS if kmiss[k] >= prm[NLOS_EPOCHS] else -1


@jit_inline
def kf_tick(
    tab: MineTables,
    prm: np.ndarray,
    now: float,
    k: int,
    j0: int,
    j1: int,
    m_ts: np.ndarray,
    m_kind: np.ndarray,
    m_anchor: np.ndarray,
    m_val: np.ndarray,
    m_xyz: np.ndarray,
    tag_time: np.ndarray,
    moving: int,
    last_seen: float,
    kx: np.ndarray,
    kp: np.ndarray,
    kt: np.ndarray,
    kmiss: np.ndarray,
    why: np.ndarray,
) -> tuple[int, int]:
    """Run slot ``k``'s tick with the filter: ``(first measurement not used, decision)``;
    a decision to leave is counted in ``why`` by its reason (`WHY`).

    On `LEAVE` or `CHANGED` the caller hands the tag to particles at ``tag_time[k]`` and
    runs them from the returned measurement on.
    """
    if moving == 2:
        why[BY_FLAG] += 1
        return j0, LEAVE
    t = kt[k]
    j = j0
    while j < j1:
        g = j
        while g < j1 and m_ts[g] - m_ts[j] < 1e-3:
            g += 1
        reason = _epoch(
            tab,
            prm,
            k,
            t,
            j,
            g,
            m_ts,
            m_kind,
            m_anchor,
            m_val,
            m_xyz,
            tag_time,
            moving,
            kx,
            kp,
            kmiss,
        )
        if reason >= 0:
            why[reason] += 1
            # particles take the epoch again, but beside the anchor, where the filter used it
            changed = reason in (BY_SHORT_RANGE, BY_NO_LOS, BY_FIX_OFF)
            return (g if reason == BY_LONE_ANCHOR else j), (CHANGED if changed else LEAVE)
        j = g
    _predict(prm, kx, kp, k, now - tag_time[k], moving)
    tag_time[k] = max(tag_time[k], now)
    reason = _leave_reason(tab, prm, kx, kp, k, t, j1 == j0 and now - last_seen > prm[SILENT_AFTER])
    if reason < 0:
        return j1, STAY
    why[reason] += 1
    return j1, LEAVE


@jit_inline
def kf_summary(
    tab: MineTables, prm: np.ndarray, kx: np.ndarray, kp: np.ndarray, t: int, k: int
) -> tuple[float, float, float, float]:
    """``(offset, speed, interval from, interval to)`` of slot ``k`` on tunnel ``t``."""
    s = kx[k, 0]
    half = _Z95 * prm[SCALE] * math.sqrt(kp[k, 0]) + prm[MIN_HW]
    return s, abs(kx[k, 1]), max(s - half, 0.0), min(s + half, tab.t_len[t])


@jit_inline
def kf_to_particles(
    tab: MineTables,
    prm: np.ndarray,
    pt: np.ndarray,
    ps: np.ndarray,
    pv: np.ndarray,
    lw: np.ndarray,
    k: int,
    now: float,
    moving: int,
    kx: np.ndarray,
    kp: np.ndarray,
    kt: np.ndarray,
    kmiss: np.ndarray,
    changed: bool,
    rs: np.ndarray,
    n: int,
) -> None:
    """Fill the first ``n`` particles of slot ``k``'s row from the filter's Gaussian at time
    ``now``; the tag then stays with particles for ``kalman_cooldown_ticks``.

    If the measurements no longer fit (``changed``), most particles also carry a change of gait
    (stop, turn back, another speed) at a random moment since the filter's last line-of-sight
    range, and stand where that change would have taken them: the filter cannot tell those
    histories apart, the particles with the next ranges can. The rest keep the filter's own
    state (the ranges were NLOS after all).
    """
    kmiss[k] = -int(prm[COOLDOWN])
    pss, psv, pvv = kp[k, 0], kp[k, 1], kp[k, 2]
    l11 = math.sqrt(max(pss, 1e-12))
    l21 = psv / l11
    l22 = math.sqrt(max(pvv - l21 * l21, 0.0))
    flat = -math.log(n)
    t_len = tab.t_len
    s0, v0 = kx[k, 0], kx[k, 1]
    since = max(now - kx[k, 2], 0.0) + 1.0
    for p in range(n):
        z1, z2 = normal(rs), normal(rs)
        t, s, v = kt[k], s0 + l11 * z1, v0 + l21 * z1 + l22 * z2
        if changed and moving != 0 and uniform(rs) >= _KEEP:
            u = uniform(rs)
            v_new = 0.0 if u < 0.4 else -v0 if u < 0.5 else (2.0 * uniform(rs) - 1.0) * _WALK
            s += (v_new - v0) * uniform(rs) * since
            v += v_new - v0
        if s < 0.0 or s > t_len[t]:
            t, s, v = run_off_ends(
                t_len, tab.t_from, tab.t_to, tab.inc_ptr, tab.inc_tunnel, tab.inc_end, t, s, v, rs
            )
        pt[k, p], ps[k, p], pv[k, p], lw[k, p] = t, s, v, flat


@jit
def kf_enter(
    tab: MineTables,
    prm: np.ndarray,
    now: float,
    k: int,
    pt: np.ndarray,
    ps: np.ndarray,
    pv: np.ndarray,
    w: np.ndarray,
    tb: int,
    n_spans: int,
    n_anchors: int,
    moving: int,
    last_seen: float,
    kx: np.ndarray,
    kp: np.ndarray,
    kt: np.ndarray,
    kmiss: np.ndarray,
) -> bool:
    """Hand slot ``k`` to the filter if its particles (one row, normalised weights ``w``)
    agree on one short stretch of tunnel ``tb`` and it ranged with ``n_anchors`` >= 2 anchors
    this tick, a position fix counting as two (one range cannot tell the two sides of its anchor
    apart, and the filter keeps only one); returns whether it did.

    ``kmiss`` counts a tag's cool-down ticks up to zero while it is with particles.
    """
    if kmiss[k] < 0:
        kmiss[k] += 1
        return False
    if (
        prm[ON] < 0.5
        or n_spans != 1
        or n_anchors < 2
        or tab.t_shaft[tb]
        or moving == 2
        or now - last_seen > prm[SILENT_AFTER]
    ):
        return False
    sw, ms, mv = 0.0, 0.0, 0.0
    for p in range(len(pt)):
        if pt[p] == tb:
            sw += w[p]
            ms += w[p] * ps[p]
            mv += w[p] * pv[p]
    if sw < 0.99:
        return False
    ms, mv = ms / sw, mv / sw
    vs, cv, vv = 0.0, 0.0, 0.0
    for p in range(len(pt)):
        if pt[p] == tb:
            vs += w[p] * (ps[p] - ms) ** 2
            cv += w[p] * (ps[p] - ms) * (pv[p] - mv)
            vv += w[p] * (pv[p] - mv) ** 2
    vs, cv, vv = vs / sw, cv / sw, vv / sw
    sd = math.sqrt(vs)
    if sd > prm[ENTER_SD] or not _clear_of(tab, prm, tb, ms, sd, mv):
        return False
    vv = max(vv, prm[MIN_VSD] ** 2)
    if moving == 0:
        mv, cv, vv = 0.0, 0.0, 0.0
    kt[k] = tb
    kx[k, 0], kx[k, 1] = ms, min(max(mv, -prm[VMAX]), prm[VMAX])
    kp[k, 0], kp[k, 1], kp[k, 2] = vs, cv, vv
    kx[k, 2] = last_seen
    kmiss[k] = 0
    return True
