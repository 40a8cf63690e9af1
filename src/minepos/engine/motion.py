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
from minepos.engine.jit import jit
from minepos.engine.tables import MineTables

__all__ = ["move", "position", "run_off_ends"]

_F = [name for name in TrackerConfig.__slots__]  # field order == params() order
Q, Q_SHAFT = _F.index("accel_q"), _F.index("accel_q_shaft")
VMAX, VMAX_SHAFT = _F.index("max_speed"), _F.index("max_speed_shaft")
SWITCH, DIFF, STILL_DIFF = (
    _F.index("switch_s"),
    _F.index("pos_diffusion"),
    _F.index("still_diffusion"),
)
WALK_SPEED = 1.6


@jit
def position(tab: MineTables, t: int, s: float) -> tuple[float, float, float]:
    """The xyz of offset ``s`` along tunnel ``t``."""
    k = tab.t_first[t]
    last = tab.t_last[t]
    while k < last and s > tab.seg_off[k + 1]:
        k += 1
    a = s - tab.seg_off[k]
    return (
        tab.seg_a[k, 0] + tab.seg_dir[k, 0] * a,
        tab.seg_a[k, 1] + tab.seg_dir[k, 1] * a,
        tab.seg_a[k, 2] + tab.seg_dir[k, 2] * a,
    )


@jit
def _fresh_speed(prm: np.ndarray, shaft: int) -> float:
    """A new speed after a gait change: standing, walking, or riding (vehicle, cage)."""
    u: float = np.random.random()
    if u < 0.3:
        return 0.0
    top = prm[VMAX_SHAFT] if shaft else prm[VMAX]
    if u < 0.8 and not shaft:
        top = WALK_SPEED
    return float((2.0 * np.random.random() - 1.0) * top)


@jit
def run_off_ends(tab: MineTables, t: int, s: float, v: float) -> tuple[int, float, float]:
    """Carry a particle past tunnel ends into a randomly chosen tunnel at each node it reaches."""
    for _ in range(32):
        length = tab.t_len[t]
        if s < 0.0:
            node, excess, came = tab.t_from[t], -s, 0
        elif s > length:
            node, excess, came = tab.t_to[t], s - length, 1
        else:
            return t, s, v
        lo, hi = tab.inc_ptr[node], tab.inc_ptr[node + 1]
        n_other = hi - lo - 1
        if n_other <= 0:  # dead end: the person stops at the face or the end of the drift
            return t, (0.0 if came == 0 else length), 0.0
        pick = int(np.random.random() * n_other)
        seen = 0
        for j in range(lo, hi):
            if tab.inc_tunnel[j] == t and tab.inc_end[j] == came:
                continue
            if seen == pick:
                t = tab.inc_tunnel[j]
                speed = abs(v)
                if tab.inc_end[j] == 0:
                    s, v = excess, speed
                else:
                    s, v = tab.t_len[t] - excess, -speed
                break
            seen += 1
    return t, min(max(s, 0.0), tab.t_len[t]), v


@jit
def move(
    tab: MineTables, prm: np.ndarray, t: int, s: float, v: float, dt: float, moving: int
) -> tuple[int, float, float]:
    """One particle after ``dt`` seconds; ``moving`` is the tag's motion flag (-1 unknown)."""
    if dt <= 0.0:
        return t, s, v
    root = math.sqrt(dt)
    if moving == 0:
        return run_off_ends(tab, t, s + prm[STILL_DIFF] * root * np.random.standard_normal(), 0.0)
    shaft = tab.t_shaft[t]
    if np.random.random() < -math.expm1(-dt / prm[SWITCH]):
        v = _fresh_speed(prm, shaft)
    else:
        q = prm[Q_SHAFT] if shaft else prm[Q]
        v += math.sqrt(q * dt) * np.random.standard_normal()
    top = prm[VMAX_SHAFT] if shaft else prm[VMAX]
    v = min(max(v, -top), top)
    s += v * dt + prm[DIFF] * root * np.random.standard_normal()
    return run_off_ends(tab, t, s, v)
