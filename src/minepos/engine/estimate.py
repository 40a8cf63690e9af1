"""What the engine says about one tag at one tick: the contract between the engine and the rest."""

from __future__ import annotations

from dataclasses import dataclass

from minepos.mine.places import Span

__all__ = ["Estimate", "Span"]


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
