"""Helpers of the emergency tests: put people at places of the demo mine in a live state."""

from __future__ import annotations

from minepos.engine.estimate import Estimate, Span
from minepos.measurement import Measurement
from minepos.mine import Mine
from minepos.safety import LiveState

T0 = 1_763_793_600.0


def estimate(
    mine: Mine, tag: str, tunnel: str, offset: float, ts: float, unc: float = 10.0
) -> Estimate:
    """An estimate with a symmetric 95 % interval of ``unc`` metres."""
    length = mine.tunnels[mine.tunnel_index[tunnel]].length_m
    lo, hi = max(0.0, offset - unc / 2), min(length, offset + unc / 2)
    xyz = tuple(float(v) for v in mine.point_at_one(tunnel, offset))
    return Estimate(tag, ts, tunnel, offset, xyz, (Span(tunnel, lo, hi),), hi - lo, 0.0, ts)  # type: ignore[arg-type]


def put(
    state: LiveState,
    tag: str,
    tunnel: str,
    offset: float,
    ts: float,
    unc: float = 10.0,
    heard: float | None = None,
) -> None:
    """The tag heard at ``heard`` (default ``ts``) and placed at ``(tunnel, offset)`` at ``ts``."""
    state.observe([Measurement(heard if heard is not None else ts, tag, motion=True)])
    state.place([estimate(state.mine, tag, tunnel, offset, ts, unc)])
