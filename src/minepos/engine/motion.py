"""Motion on the tunnel graph: where a particle (tunnel, offset, signed speed) goes in ``dt``.

The speed follows a white-acceleration (constant-velocity) model, ``v += sqrt(q dt) N(0, 1)``,
with ``q`` larger in shafts, where a cage accelerates hard. Gait changes (stop, start, turn back,
board a man-rider) arrive as a Poisson process of rate ``1 / switch_s``: the particle draws a
fresh speed (zero, a walking speed, or a vehicle/cage speed). A tag whose motion flag says it
stands still keeps ``v = 0`` with a tiny diffusion. A particle that runs off a tunnel end
continues into one of the other tunnels at that node, chosen at random (the measurements'
weights then decide); at a dead end it stops.
"""

from __future__ import annotations

import math

import numpy as np

from minepos.engine.config import TrackerConfig
from minepos.engine.jit import jit, jit_inline
from minepos.engine.rng import normal, uniform
from minepos.engine.tables import MineTables

__all__ = [
    "board_or_alight",
    "move_row",
    "new_speed",
    "position",
    "riding_pace",
    "run_off_ends",
    "start_speed",
    "walking_pace",
    "zone_speed",
]

_F = [name for name in TrackerConfig.__slots__]  # field order == params() order
Q, Q_SHAFT = _F.index("accel_q"), _F.index("accel_q_shaft")
VMAX, VMAX_SHAFT = _F.index("max_speed"), _F.index("max_speed_shaft")
SWITCH, DIFF, STILL_DIFF = (
    _F.index("switch_s"),
    _F.index("pos_diffusion"),
    _F.index("still_diffusion"),
)
ACC, ACC_SHAFT = _F.index("max_accel"), _F.index("max_accel_shaft")
Z_DWELL, Z_GAIT, Z_STOP = _F.index("zone_dwell_s"), _F.index("zone_gait_s"), _F.index("zone_stop")
Z_LO, Z_HI, Z_RIDE = _F.index("zone_pace_lo"), _F.index("zone_pace_hi"), _F.index("zone_ride")
Z_SWAY, Z_RIDE_T = _F.index("zone_sway"), _F.index("zone_ride_transport")
Z_SHUFFLE_S, Z_SHUFFLE_V = _F.index("zone_shuffle_s"), _F.index("zone_shuffle_pace")
WALK_SPEED = 1.6
#: a particle slower than this (m/s) counts as stopped in the zone-only motion model
_STOPPED = 0.05
#: share of a zone-only walking particle's gait changes that turn back
_TURN = 0.1


@jit
def position(
    seg_a: np.ndarray,
    seg_dir: np.ndarray,
    seg_off: np.ndarray,
    t_first: np.ndarray,
    t_last: np.ndarray,
    t: int,
    s: float,
) -> tuple[float, float, float]:
    """The xyz of offset ``s`` along tunnel ``t`` (geometry arrays of `MineTables`).

    Takes arrays, not the `MineTables` tuple: passing the tuple costs two atomic reference-count
    updates per member, which per particle dominated the whole kernel.
    """
    k = t_first[t]
    last = t_last[t]
    while k < last and s > seg_off[k + 1]:
        k += 1
    a = s - seg_off[k]
    return (
        seg_a[k, 0] + seg_dir[k, 0] * a,
        seg_a[k, 1] + seg_dir[k, 1] * a,
        seg_a[k, 2] + seg_dir[k, 2] * a,
    )


@jit
def _fresh_speed(prm: np.ndarray, shaft: int, v: float, rs: np.ndarray) -> float:
    """A new speed after a gait change: stop (15 %), walk on in the same direction (70 %; people
    rarely turn back in a roadway), or any speed up to the limit (15 %: riding, turning back)."""
    u = uniform(rs)
    if u < 0.15:
        return 0.0
    if u < 0.85 and not shaft:
        sign = (1.0 if v > 0.0 else -1.0) if abs(v) > 0.2 else (1.0 if uniform(rs) < 0.5 else -1.0)
        return sign * (0.5 + (WALK_SPEED - 0.5) * uniform(rs))
    top = prm[VMAX_SHAFT] if shaft else prm[VMAX]
    return float((2.0 * uniform(rs) - 1.0) * top)


@jit
def run_off_ends(
    t_len: np.ndarray,
    t_from: np.ndarray,
    t_to: np.ndarray,
    inc_ptr: np.ndarray,
    inc_tunnel: np.ndarray,
    inc_end: np.ndarray,
    t: int,
    s: float,
    v: float,
    rs: np.ndarray,
) -> tuple[int, float, float]:
    """Carry a particle past tunnel ends into a randomly chosen tunnel at each node it reaches.

    Takes the graph arrays one by one: a call with the whole `MineTables` tuple costs two atomic
    reference-count updates per array, which dominated the kernel when this ran per particle.
    """
    for _ in range(32):
        length = t_len[t]
        if s < 0.0:
            node, excess, came = t_from[t], -s, 0
        elif s > length:
            node, excess, came = t_to[t], s - length, 1
        else:
            return t, s, v
        lo, hi = inc_ptr[node], inc_ptr[node + 1]
        n_other = hi - lo - 1
        if n_other <= 0:  # dead end: the person stops at the face or the end of the drift
            return t, (0.0 if came == 0 else length), 0.0
        pick = int(uniform(rs) * n_other)
        seen = 0
        for j in range(lo, hi):
            if inc_tunnel[j] == t and inc_end[j] == came:
                continue
            if seen == pick:
                t = inc_tunnel[j]
                speed = abs(v)
                if inc_end[j] == 0:
                    s, v = excess, speed
                else:
                    s, v = t_len[t] - excess, -speed
                break
            seen += 1
    return t, min(max(s, 0.0), t_len[t]), v


@jit
def new_speed(prm: np.ndarray, shaft: int, v: float, step_v: float, rs: np.ndarray) -> float:
    """The speed after a change of gait: towards a fresh speed, by at most ``step_v`` (bounded
    acceleration: nobody jumps to riding speed in a second, so one range with a large NLOS excess
    cannot pull the estimate metres away). Between changes the speed follows white
    acceleration (``v += sqrt(q dt) N(0, 1)``) in `move_row`."""
    return v + min(max(_fresh_speed(prm, shaft, v, rs) - v, -step_v), step_v)


@jit
def walking_pace(prm: np.ndarray, rs: np.ndarray) -> float:
    """A fresh walking pace, between `zone_pace_lo` and `zone_pace_hi`."""
    return float(prm[Z_LO] + (prm[Z_HI] - prm[Z_LO]) * uniform(rs))


@jit
def start_speed(prm: np.ndarray, transport: int, sign: float, rs: np.ndarray) -> float:
    """The speed of a zone-only tag's particle that starts moving in direction ``sign``:
    walking, or riding with probability `zone_ride` (`zone_ride_transport` on a ``transport``
    roadway)."""
    ride = prm[Z_RIDE_T] if transport else prm[Z_RIDE]
    return sign * (riding_pace(prm, rs) if uniform(rs) < ride else walking_pace(prm, rs))


@jit
def riding_pace(prm: np.ndarray, rs: np.ndarray) -> float:
    """A man-rider's or a belt's pace, between a fast walk and `max_speed`."""
    return float(prm[Z_HI] + (prm[VMAX] - prm[Z_HI]) * uniform(rs))


@jit_inline
def zone_speed(
    prm: np.ndarray,
    v: float,
    p_start: float,
    p_walk: float,
    p_shuffle: float,
    transport: int,
    rs: np.ndarray,
) -> float:
    """The next speed of a zone-only tag's particle (no range or RSSI for a while; zone
    readers at most), outside shafts.

    People between readers stand for minutes, shuffle about at work and walk at their own
    steady pace: a stopped particle starts moving, either way, at rate ``1 / zone_dwell_s``
    (``p_start`` this step); a walking one changes gait at rate ``1 / zone_gait_s``
    (``p_walk``), one slower than `zone_shuffle_pace` at rate ``1 / zone_shuffle_s``
    (``p_shuffle``; `_gait_change` says to what). Between changes the pace is kept exactly, so
    the cloud spreads as far as steady walkers get, and stopped particles stay where a worker
    stands. On a ``transport`` roadway a start or a change boards the man-rider with
    probability `zone_ride_transport`.
    """
    if abs(v) < _STOPPED:
        if uniform(rs) >= p_start:
            return 0.0
        return start_speed(prm, transport, 1.0 if uniform(rs) < 0.5 else -1.0, rs)
    shuffle = abs(v) < prm[Z_SHUFFLE_V]
    if uniform(rs) >= (p_shuffle if shuffle else p_walk):
        return v
    return _gait_change(prm, v, shuffle, transport, rs)


@jit
def _gait_change(prm: np.ndarray, v: float, shuffle: bool, transport: int, rs: np.ndarray) -> float:
    """A zone-only walking particle's gait change: it stops (a shuffle mostly), turns back,
    boards the man-rider on a ``transport`` roadway, or walks on within a fifth of its pace."""
    stop = 1.0 - _TURN - (1.0 - _TURN - prm[Z_STOP]) * 0.5 if shuffle else prm[Z_STOP]
    u = uniform(rs)
    if u < stop:
        return 0.0
    if u < stop + _TURN:
        return -v
    if transport and uniform(rs) < prm[Z_RIDE_T]:
        return (1.0 if v > 0.0 else -1.0) * riding_pace(prm, rs)
    return v * (0.8 + 0.4 * uniform(rs))


@jit
def board_or_alight(prm: np.ndarray, v: float, transport: int, rs: np.ndarray) -> float:
    """The speed of a zone-only tag's particle that has just come onto a ``transport``
    roadway (it boards the man-rider with probability `zone_ride_transport`), or off one (a
    rider walks on)."""
    sign = 1.0 if v > 0.0 else -1.0
    if transport:
        if v != 0.0 and uniform(rs) < prm[Z_RIDE_T]:
            return sign * riding_pace(prm, rs)
        return v
    if abs(v) > prm[Z_HI]:
        return sign * walking_pace(prm, rs)
    return v


@jit_inline
def move_row(
    tab: MineTables,
    prm: np.ndarray,
    pt: np.ndarray,
    ps: np.ndarray,
    pv: np.ndarray,
    k: int,
    dt: float,
    moving: int,
    rs: np.ndarray,
    zones: bool = False,
) -> None:
    """Move every particle of row ``k`` by ``dt`` seconds; ``moving`` is the tag's motion flag
    (-1 unknown, 0 still: the speed is held at zero and only a tiny diffusion remains, 1 moving,
    2 just started moving). ``zones``: the tag has been heard by zone readers at most for a
    while, and outside shafts its particles move as `zone_speed` says, the stopped ones
    swaying by `zone_sway`."""
    if dt <= 0.0:
        return
    t_len, t_shaft = tab.t_len, tab.t_shaft
    root = math.sqrt(dt)
    # a tag whose motion flag just turned on (2) starts walking: every particle draws a speed
    p_switch = 1.0 if moving == 2 else -math.expm1(-dt / prm[SWITCH])
    p_start = 1.0 if moving == 2 else -math.expm1(-dt / prm[Z_DWELL])
    p_walk = -math.expm1(-dt / prm[Z_GAIT])
    p_shuffle = -math.expm1(-dt / prm[Z_SHUFFLE_S])
    root_q = (math.sqrt(prm[Q] * dt), math.sqrt(prm[Q_SHAFT] * dt))
    step_v = (prm[ACC] * dt, prm[ACC_SHAFT] * dt)
    top = (prm[VMAX], prm[VMAX_SHAFT])
    diff = prm[DIFF] * root
    sway = prm[Z_SWAY] * root
    for p in range(pt.shape[1]):
        t = pt[k, p]
        if moving == 0:
            v = 0.0
            s = ps[k, p] + prm[STILL_DIFF] * root * normal(rs)
        else:
            shaft = t_shaft[t]
            v = pv[k, p]
            if zones and not shaft:
                v = zone_speed(prm, v, p_start, p_walk, p_shuffle, tab.t_ride[t], rs)
            elif uniform(rs) < p_switch:  # a change of gait: rare, so a call is fine
                v = new_speed(prm, shaft, v, step_v[shaft], rs)
            else:
                v += root_q[shaft] * normal(rs)
            v = min(max(v, -top[shaft]), top[shaft])
            step = sway if zones and v == 0.0 else diff
            s = ps[k, p] + v * dt + step * normal(rs)
        if s < 0.0 or s > t_len[t]:
            t0 = t
            t, s, v = run_off_ends(
                t_len, tab.t_from, tab.t_to, tab.inc_ptr, tab.inc_tunnel, tab.inc_end, t, s, v, rs
            )
            if zones and tab.t_ride[t] != tab.t_ride[t0]:
                v = board_or_alight(prm, v, tab.t_ride[t], rs)
        pt[k, p], ps[k, p], pv[k, p] = t, s, v
