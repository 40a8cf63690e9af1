"""What the engine says about one tag at one tick: the contract between the engine and the rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

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
# The engine builds each one as a mutable twin with the same slots (plain attribute stores)
# and then gives it the frozen class: the very same immutable objects, equal to those the
# constructor makes, in a fifth of the time.
_ESTIMATE_FIELDS = (
    "tag",
    "ts",
    "tunnel",
    "offset_m",
    "xyz",
    "interval",
    "uncertainty_m",
    "speed_mps",
    "last_seen",
)
_SPAN_FIELDS = ("tunnel", "from_m", "to_m")
if Estimate.__slots__ != _ESTIMATE_FIELDS or Span.__slots__ != _SPAN_FIELDS:
    raise ImportError("Estimate/Span fields changed: update make_estimate/make_span")


class _SpanTwin:
    """A mutable `Span` under construction (same slot layout)."""

    __slots__ = _SPAN_FIELDS  # the same order: the layouts must match

    def __init__(self, tunnel: str, from_m: float, to_m: float) -> None:
        self.tunnel = tunnel
        self.from_m = from_m
        self.to_m = to_m
        self.__class__ = Span  # type: ignore[assignment]


class _EstimateTwin:
    """A mutable `Estimate` under construction (same slot layout)."""

    __slots__ = _ESTIMATE_FIELDS

    def __init__(
        self,
        tag: str,
        ts: float,
        tunnel: str,
        offset_m: float,
        xyz: tuple[float, float, float],
        interval: tuple[Span, ...],
        uncertainty_m: float,
        speed_mps: float,
        last_seen: float,
    ) -> None:
        self.tag = tag
        self.ts = ts
        self.tunnel = tunnel
        self.offset_m = offset_m
        self.xyz = xyz
        self.interval = interval
        self.uncertainty_m = uncertainty_m
        self.speed_mps = speed_mps
        self.last_seen = last_seen
        self.__class__ = Estimate  # type: ignore[assignment]


#: ``make_span(tunnel, from_m, to_m)`` is a `Span` equal to ``Span(tunnel, from_m, to_m)``
make_span = cast(Callable[[str, float, float], Span], _SpanTwin)
#: ``make_estimate(...)`` is an `Estimate` equal to ``Estimate(...)`` with the same fields
make_estimate = cast(
    Callable[
        [str, float, str, float, tuple[float, float, float], tuple[Span, ...], float, float, float],
        Estimate,
    ],
    _EstimateTwin,
)
