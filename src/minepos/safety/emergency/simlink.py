"""A downlink to simulated tags: evacuation orders reach a running simulation (``minepos demo``).

The desk sends an order tag by tag; each message becomes a request to the simulation for that
tag at the order's ``issued_at``, avoiding the stretches blocked in the active emergency. The
simulation merges the requests of one instant into one order, and from its next tick the tags
acknowledge after a delay and their people walk out, so the console sees acknowledgements
arrive as it would from real tags. Messages are passed on to ``inner`` as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from minepos.mine import Span
from minepos.safety.emergency.desk import EmergencyDesk
from minepos.safety.emergency.downlink import Downlink, MemoryDownlink

__all__ = ["EvacuationTarget", "SimulatedTagsDownlink"]

log = logging.getLogger(__name__)


class EvacuationTarget(Protocol):
    """What takes evacuation orders for simulated tags (``minepos.sim.Simulation``)."""

    def order_evacuation(
        self, ts: float, tags: Iterable[str] | None = None, *, avoid: tuple[Span, ...] = ()
    ) -> None:
        """An order given at unix time ``ts`` to ``tags``, routes avoiding ``avoid``."""


class SimulatedTagsDownlink:
    """Passes each evacuation message to ``target`` (and on to ``inner``)."""

    def __init__(
        self,
        target: EvacuationTarget,
        blocked: Callable[[], tuple[Span, ...]] = tuple,
        inner: Downlink | None = None,
    ) -> None:
        self.target = target
        self.blocked = blocked
        self.inner: Downlink = inner or MemoryDownlink()

    @classmethod
    def attach(cls, desk: EmergencyDesk, target: EvacuationTarget) -> SimulatedTagsDownlink:
        """Put one in front of ``desk``'s downlink; routes avoid the desk's blocked stretches."""

        def blocked() -> tuple[Span, ...]:
            em = desk.current
            return em.blocked() if em is not None else ()

        link = cls(target, blocked, desk.downlink)
        desk.downlink = link
        return link

    def send(self, tag: str, payload: dict[str, Any]) -> bool:
        """Hand an evacuation message to the simulation, then to the inner downlink."""
        if payload.get("kind") == "evacuate":
            try:
                ts = float(payload["issued_at"])
                self.target.order_evacuation(ts, (tag,), avoid=self.blocked())
            except (KeyError, TypeError, ValueError):
                log.exception("evacuation message to %s not understood by the simulation", tag)
                return False
        return self.inner.send(tag, payload)
