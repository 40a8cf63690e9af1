"""The emergency itself: what was declared, where, by whom, and which stretches are blocked."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

from minepos.errors import InputError
from minepos.mine import Mine, Place, Span

__all__ = [
    "BLOCK_CAUSES",
    "EMERGENCY_KINDS",
    "Blockage",
    "Emergency",
    "EmergencyStateError",
    "check_place",
    "check_span",
]

#: What can be declared (a mine may add "other" with a note).
EMERGENCY_KINDS: Final = ("fire", "explosion", "collapse", "gas", "flood", "other")
#: Why a stretch is blocked; ``cage`` marks a shaft whose cage is out of service.
BLOCK_CAUSES: Final = ("fire", "smoke", "gas", "collapse", "water", "cage")


class EmergencyStateError(InputError):
    """The call does not fit the state: no emergency is active, or one is active already."""


def check_place(mine: Mine, place: Place, what: str = "place") -> Place:
    """The place if it lies on the mine's network; InputError naming what is wrong."""
    t = mine.tunnel_index.get(place.tunnel)
    if t is None:
        raise InputError(f"{what}.tunnel: unknown tunnel {place.tunnel!r}")
    length = mine.tunnels[t].length_m
    if not math.isfinite(place.offset_m) or not 0.0 <= place.offset_m <= length + 1e-6:
        raise InputError(
            f"{what}.offset_m: {place.offset_m} is outside tunnel {place.tunnel!r} "
            f"(0..{length:.1f})"
        )
    return Place(place.tunnel, min(place.offset_m, length))


def check_span(mine: Mine, span: Span, what: str = "span") -> Span:
    """The span clipped to its tunnel; InputError naming what is wrong.

    ``to_m`` may be left at the tunnel's length or above (survey rounding): it is clipped.
    """
    t = mine.tunnel_index.get(span.tunnel)
    if t is None:
        raise InputError(f"{what}.tunnel: unknown tunnel {span.tunnel!r}")
    length = mine.tunnels[t].length_m
    lo, hi = span.from_m, span.to_m
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InputError(f"{what}: from_m and to_m must be numbers")
    if lo < 0 or lo > length:
        raise InputError(f"{what}.from_m: {lo} is outside tunnel {span.tunnel!r} (0..{length:.1f})")
    if hi < lo:
        raise InputError(f"{what}.to_m: {hi} is before from_m {lo}")
    return Span(span.tunnel, lo, min(hi, length))


@dataclass(frozen=True, slots=True)
class Blockage:
    """A stretch of tunnel marked impassable by the dispatcher."""

    id: str
    span: Span
    cause: str
    by: str
    at: float
    note: str = ""
    cleared_at: float | None = None
    cleared_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "tunnel": self.span.tunnel,
            "from_m": self.span.from_m,
            "to_m": self.span.to_m,
            "cause": self.cause,
            "by": self.by,
            "at": self.at,
            "note": self.note,
            "cleared_at": self.cleared_at,
            "cleared_by": self.cleared_by,
        }


@dataclass(slots=True)
class Emergency:
    """A declared emergency: kind, place, who declared it, and its blocked stretches.

    ``snapshot`` is the accounting at the moment of declaration (one dict per person), kept as
    the dispatcher saw it; ``blockages`` holds every blockage ever marked, cleared ones included.
    """

    id: str
    mine: str
    kind: str
    place: Place
    declared_by: str
    declared_at: float
    note: str = ""
    blockages: dict[str, Blockage] = field(default_factory=dict)
    snapshot: list[dict[str, Any]] = field(default_factory=list)
    ended_at: float | None = None
    ended_by: str | None = None

    @property
    def active(self) -> bool:
        """True until the emergency is ended."""
        return self.ended_at is None

    def blocked(self) -> tuple[Span, ...]:
        """The stretches blocked now (cleared ones left out)."""
        return tuple(b.span for b in self.blockages.values() if b.cleared_at is None)

    def to_dict(self, *, with_snapshot: bool = False) -> dict[str, Any]:
        """JSON form (the snapshot only on request: it has a row per person)."""
        out: dict[str, Any] = {
            "id": self.id,
            "mine": self.mine,
            "kind": self.kind,
            "place": {"tunnel": self.place.tunnel, "offset_m": self.place.offset_m},
            "declared_by": self.declared_by,
            "declared_at": self.declared_at,
            "note": self.note,
            "blocked": [b.to_dict() for b in self.blockages.values()],
            "ended_at": self.ended_at,
            "ended_by": self.ended_by,
            "active": self.active,
        }
        if with_snapshot:
            out["snapshot"] = self.snapshot
        return out
