"""Places on the tunnel network: points, stretches and legs of a route."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Leg", "Place", "Route", "Span"]


@dataclass(frozen=True, slots=True)
class Place:
    """A point of the network: ``offset_m`` metres along ``tunnel`` from its ``from`` node."""

    tunnel: str
    offset_m: float


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of one tunnel, ``from_m <= to_m`` along it from its ``from`` node."""

    tunnel: str
    from_m: float
    to_m: float

    @property
    def length_m(self) -> float:
        """Length of the stretch."""
        return self.to_m - self.from_m

    def contains(self, offset_m: float) -> bool:
        """Whether the offset lies on the stretch (ends included)."""
        return self.from_m <= offset_m <= self.to_m


@dataclass(frozen=True, slots=True)
class Leg:
    """Part of a route along one tunnel, walked from ``from_m`` to ``to_m`` (either direction)."""

    tunnel: str
    from_m: float
    to_m: float

    @property
    def length_m(self) -> float:
        """Length walked on this leg."""
        return abs(self.to_m - self.from_m)


@dataclass(frozen=True, slots=True)
class Route:
    """A way through the network; ``target`` names the zone reached, if the route was to a zone."""

    length_m: float
    legs: tuple[Leg, ...]
    target: str | None = None
