"""What the engine says about one tag at one tick: the contract between the engine and the rest."""

from __future__ import annotations

from dataclasses import dataclass

from minepos.mine.places import Span

__all__ = ["Estimate", "Span", "make_estimate", "make_span"]


@dataclass(frozen=True, slots=True)
class Estimate:
    """One tag's position estimate at tick time ``ts``.

    ``interval`` is the 95 % region along the tunnels (one or several spans; several where it
    reaches past a junction), ``uncertainty_m`` its total length, ``last_seen`` the time of the
    last measurement that supported the estimate.
    """

    tag: str
    ts: float
    tunnel: str
    offset_m: float
    xyz: tuple[float, float, float]
    interval: tuple[Span, ...]
    uncertainty_m: float
    speed_mps: float
    last_seen: float


# A frozen dataclass's __init__ sets each field through ``object.__setattr__`` by name; at
# 14,000 tags a tick, building the estimates that way cost a quarter of the engine's time.
# The engine builds them by setting the slots directly: the same immutable objects, equal to
# those the constructor makes, in half the time.
_new = object.__new__
(_E_TAG, _E_TS, _E_TUNNEL, _E_OFF, _E_XYZ, _E_INT, _E_UNC, _E_SPEED, _E_SEEN) = (
    getattr(Estimate, f).__set__ for f in Estimate.__slots__
)
(_S_TUNNEL, _S_FROM, _S_TO) = (getattr(Span, f).__set__ for f in Span.__slots__)
if Estimate.__slots__ != (
    "tag",
    "ts",
    "tunnel",
    "offset_m",
    "xyz",
    "interval",
    "uncertainty_m",
    "speed_mps",
    "last_seen",
) or Span.__slots__ != ("tunnel", "from_m", "to_m"):  # pragma: no cover - guards the order
    raise ImportError("Estimate/Span fields changed: update make_estimate/make_span")


def make_span(tunnel: str, from_m: float, to_m: float) -> Span:
    """``Span(tunnel, from_m, to_m)``, built without the dataclass __init__ (no checks)."""
    sp: Span = _new(Span)
    _S_TUNNEL(sp, tunnel)
    _S_FROM(sp, from_m)
    _S_TO(sp, to_m)
    return sp


def make_estimate(
    tag: str,
    ts: float,
    tunnel: str,
    offset_m: float,
    xyz: tuple[float, float, float],
    interval: tuple[Span, ...],
    uncertainty_m: float,
    speed_mps: float,
    last_seen: float,
) -> Estimate:
    """``Estimate(...)`` with the same fields, built without the dataclass __init__."""
    e: Estimate = _new(Estimate)
    _E_TAG(e, tag)
    _E_TS(e, ts)
    _E_TUNNEL(e, tunnel)
    _E_OFF(e, offset_m)
    _E_XYZ(e, xyz)
    _E_INT(e, interval)
    _E_UNC(e, uncertainty_m)
    _E_SPEED(e, speed_mps)
    _E_SEEN(e, last_seen)
    return e
