"""Events that safety produces besides alarms: zone transitions and lamp room events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["LampEvent", "ZoneTransition"]


@dataclass(frozen=True, slots=True)
class ZoneTransition:
    """A tag entered or left a zone at ``ts``."""

    ts: float
    tag: str
    person: str | None
    zone: str
    direction: Literal["enter", "leave"]


@dataclass(frozen=True, slots=True)
class LampEvent:
    """The lamp room issued (``lamp_out``: going down) or took back (``lamp_in``) a tag."""

    ts: float
    tag: str
    person: str | None
    event: Literal["lamp_out", "lamp_in"]
